/**
 * Shared by the local-deploy tests: the compiled CDK app they synthesize (and a check that it is not
 * older than the sources), configs written to a scratch directory, and a collecting Output.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Output } from '../../lib/ops/fleet';
import type { LocalDeployment } from '../../lib/ops/local-deploy';
import { exampleCopyWithKey } from '../support/configs';

export const ROOT = path.join(__dirname, '..', '..');
export const APP_ENTRY = path.join(ROOT, 'dist', 'bin', 'xspot-cdk.js');
export const DEFAULT_CONFIG = path.join(ROOT, 'config', 'default.yaml');

function newestSource(dir: string): { file: string; mtimeMs: number } {
  let best = { file: '', mtimeMs: 0 };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    const cand = entry.isDirectory()
      ? newestSource(p)
      : entry.name.endsWith('.ts')
        ? { file: p, mtimeMs: fs.statSync(p).mtimeMs }
        : best;
    if (cand.mtimeMs > best.mtimeMs) best = cand;
  }
  return best;
}

/**
 * `cdk synth` runs the compiled app (dist/), as `xspot-cdk local deploy` does; `npm test` builds it
 * first. Fails early when it is missing or older than a source of the app, rather than deploy stale code.
 */
export function requireFreshBuild(): string {
  if (!fs.existsSync(APP_ENTRY)) throw new Error(`${APP_ENTRY} is missing: run 'npm run build' first`);
  const built = fs.statSync(APP_ENTRY).mtimeMs;
  // what the CDK app is built from (bin/xspot-cdk.ts and what it imports); the operator CLI's own
  // modules (lib/cli, lib/ops, lib/cost) do not change what is synthesized
  for (const dir of ['bin', 'lib/config', 'lib/constructs', 'lib/stacks', 'lib/scheduler']) {
    const newest = newestSource(path.join(ROOT, dir));
    if (newest.mtimeMs > built + 1000) {
      throw new Error(`dist/ is older than ${path.relative(ROOT, newest.file)}: run 'npm run build' first`);
    }
  }
  return APP_ENTRY;
}

/** The default config (a site's copy: with the package-signing key) with `replace` applied to its text, written into `dir`. */
export function writeConfig(dir: string, name: string, replace: (yaml: string) => string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, replace(exampleCopyWithKey(fs.readFileSync(DEFAULT_CONFIG, 'utf8'))));
  return file;
}

export function deploymentFor(configPath: string): LocalDeployment {
  return { configPath, name: 'xspot', region: 'us-east-1' };
}

/** An Output that keeps every line (and prints nothing). */
export function collectingOutput(): Output & { lines: string[]; text(): string } {
  const lines: string[] = [];
  return {
    lines,
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    text: () => lines.join('\n'),
  };
}
