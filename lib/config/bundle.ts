/**
 * The config bundle: every file a controller reads, rendered from the typed config. It ships
 * beside the runtime asset (conf/ in the release dir) and is what `xspot-cdk render` writes.
 */
import type { LoadedConfig } from './load';
import { type RenderedFile, renderGuideFiles } from './render';

export function renderConfigBundle(loaded: Pick<LoadedConfig, 'config' | 'siteScripts'>): Record<string, RenderedFile> {
  return {
    ...renderGuideFiles(loaded.config, loaded.siteScripts),
  };
}
