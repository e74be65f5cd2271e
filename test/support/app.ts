/** Builds the whole app from YAML config text, the way bin/xspot-cdk.ts does, for tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { stringify } from 'yaml';
import { checkConfigText, defaultConfigPath, type LoadedConfig } from '../../lib/config/load';
import { buildXspotApp, type XspotStacks } from '../../lib/stacks/app';
import { signed, signedYaml } from './configs';

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

export const DEFAULT_YAML = fs.readFileSync(defaultConfigPath(), 'utf8');

/** Loads config from YAML text (or an object; `signed` unless it names its key) and fails the test on config errors. */
export function loadFromText(
  text: string | object,
  file = path.join(path.dirname(defaultConfigPath()), 'test.yaml'),
): LoadedConfig {
  const yaml = typeof text === 'string' ? signedYaml(text) : stringify(signed(text));
  const check = checkConfigText(yaml, file);
  const errors = check.findings.filter((f) => f.severity === 'error');
  if (!check.config || !check.siteScripts || errors.length > 0) {
    throw new Error(`config has errors:\n${errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  }
  return { path: file, config: check.config, findings: check.findings, siteScripts: check.siteScripts };
}

export function buildApp(
  text: string | object = DEFAULT_YAML,
  appProps: ConstructorParameters<typeof App>[0] = {},
  /** The config's own path (for `example:` and relative hook paths). @default config/test.yaml */
  file?: string,
): {
  app: App;
  stacks: XspotStacks;
  loaded: LoadedConfig;
} {
  const loaded = loadFromText(text, file);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-cdk-test-'));
  const app = new App({ outdir, ...appProps, context: { ...CDK_CONTEXT, ...(appProps?.context ?? {}) } });
  const stacks = buildXspotApp(app, loaded);
  return { app, stacks, loaded };
}
