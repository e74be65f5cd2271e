/** Shared plumbing for the scheduler tests: running commands, rendering, waiting. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderSchedulerFiles, writeRenderedFiles } from '../../lib/scheduler/render';
import type { SchedulerKind, SchedulerSettings } from '../../lib/scheduler/types';

export const HERE = __dirname;

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {},
): RunResult {
  const r = spawnSync(cmd, args, {
    env: opts.env ?? process.env,
    input: opts.input ?? '',
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  if (r.error) return { code: 127, stdout: '', stderr: String(r.error.message) };
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

export function mustRun(cmd: string, args: readonly string[], opts: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Why a daemon-backed test file cannot run here, or undefined when it can. */
export function missingPrerequisite(commands: readonly string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'the scheduler daemons run as root; run the tests as root';
  for (const c of commands) {
    const found = c.startsWith('/') ? fs.existsSync(c) : run('sh', ['-c', `command -v ${c}`]).code === 0;
    if (!found) return `${c} is not installed (bash scripts/install-test-deps.sh installs it)`;
  }
  return undefined;
}

/** Installs the stand-in exorun at DIR/bin/exorun and returns its path. */
export function installStandInExorun(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const target = path.join(bin, 'exorun');
  fs.copyFileSync(path.join(HERE, 'stand-in-exorun.sh'), target);
  fs.chmodSync(target, 0o755);
  return target;
}

export function renderTo(dir: string, settings: SchedulerSettings, kinds: readonly SchedulerKind[]): void {
  writeRenderedFiles(dir, renderSchedulerFiles(settings, kinds));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls probe until it returns a value; on timeout the error carries detail() (the state seen). */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  timeoutMs = 60_000,
  detail?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail ? `:\n${detail()}` : ''}`);
    await sleep(250);
  }
}

/** A small batch script that prints its arguments, one per line, between markers. */
export function jobScript(marker: string, shebang = '#!/bin/bash'): string {
  return [
    shebang,
    `# ${marker}: original script line kept byte for byte`,
    `echo "JOB-START ${marker}"`,
    'for a in "$@"; do printf "ARG<%s>\\n" "$a"; done',
    'echo "JOB-END"',
    '',
  ].join('\n');
}

/** The EXORUN-ARGS line the stand-in printed, split into its <args>. */
export function exorunLine(output: string): string[] | undefined {
  const line = output.split('\n').find((l) => l.startsWith('EXORUN-ARGS'));
  if (!line) return undefined;
  return [...line.matchAll(/<([^>]*)>/g)].map((m) => m[1]);
}

export function argLines(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('ARG<'))
    .map((l) => l.slice(4, -1));
}

/** The unprivileged account the attack tests submit as. */
export interface Attacker {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export const ATTACKER_NAME = 'xspot-hostile';

/** Creates the unprivileged attack account (useradd) when it does not exist yet. */
export function ensureAttacker(): Attacker {
  if (run('id', ['-u', ATTACKER_NAME]).code !== 0) {
    mustRun('useradd', ['--create-home', '--shell', '/bin/bash', '--user-group', ATTACKER_NAME]);
  }
  const [, , uid, gid, , home] = mustRun('getent', ['passwd', ATTACKER_NAME]).trim().split(':');
  return { name: ATTACKER_NAME, uid: Number(uid), gid: Number(gid), home };
}

/** Runs a command as the attacker (setpriv: its uid, gid and no supplementary groups) with `env`. */
export function runAs(who: Attacker, cmd: string, args: readonly string[], opts: Parameters<typeof run>[2] = {}) {
  return run(
    'setpriv',
    ['--reuid', String(who.uid), '--regid', String(who.gid), '--clear-groups', '--', cmd, ...args],
    opts,
  );
}

/** Gives the attacker a directory of its own (mode 0755, owned by it). */
export function attackerDir(who: Attacker, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.chownSync(dir, who.uid, who.gid);
  fs.chmodSync(dir, 0o755);
  return dir;
}
