/** Runs the compiled CLI / CDK app the way a user does (`npm test` builds dist/ first). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function ensureBuilt(): void {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'bin', 'cli.js'))) {
    spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  }
}

export function runNode(
  script: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): RunResult {
  ensureBuilt();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bin', script), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, XSPOT_CONFIG: '', ...opts.env },
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const runCli = (args: string[], opts?: Parameters<typeof runNode>[2]) => runNode('cli.js', args, opts);
