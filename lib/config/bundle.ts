/**
 * The config bundle: every file a controller reads, rendered from the typed config. It ships
 * beside the runtime asset (conf/ in the release dir) and is what `xspot-cdk render` writes.
 */
import { schedulerBundle } from '../scheduler';
import type { LoadedConfig } from './load';
import { ARMORED_KEY_FILE, repositoryKey } from './package-signing';
import { type RenderedFile, renderGuideFiles } from './render';
import { DEFAULT_DOCKERFILE, imageBuildDir, renderRuntimeEnv } from './runtime-env';

export function renderConfigBundle(
  loaded: Pick<LoadedConfig, 'config' | 'siteScripts' | 'dockerfiles'>,
): Record<string, RenderedFile> {
  const c = loaded.config;
  const files: Record<string, RenderedFile> = {
    ...renderGuideFiles(c, loaded.siteScripts),
    'runtime.env': { content: renderRuntimeEnv(c), mode: 0o644 },
  };
  const key = repositoryKey(c.xspot.repositoryGpgKey);
  if (key.kind === 'armored') files[ARMORED_KEY_FILE] = { content: key.text, mode: 0o644 };
  for (const image of c.xspot.imageNameList) {
    files[`${imageBuildDir(image)}/Dockerfile`] = {
      content: loaded.dockerfiles?.[image] ?? DEFAULT_DOCKERFILE,
      mode: 0o644,
    };
  }
  for (const [rel, f] of Object.entries(schedulerBundle(c))) {
    files[`sched-wrapper/${rel}`] = { content: f.content, mode: f.mode };
  }
  return files;
}
