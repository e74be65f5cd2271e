/**
 * Runs the real controller-runtime scripts in a scratch root: the release is copied to
 * <root>/opt/xspot-cdk/releases/<version>/ with the fixture config bundle as conf/, deploy.env is
 * written to <root>/etc/xspot-cdk/deploy.env, and the vendor's and the OS's commands are
 * recording stand-ins (test/fixtures/runtime/stubs/stub.sh) first on PATH. The scripts honour
 * XSPOT_ROOT for every system path, so nothing outside the scratch directory is touched.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const RUNTIME_SRC = path.join(REPO, 'assets', 'controller-runtime');
export const FIXTURES = path.join(REPO, 'test', 'fixtures', 'runtime');
export const STUB = path.join(FIXTURES, 'stubs', 'stub.sh');

/** Every command the runtime may call that must never run for real in a test. */
export const STUBBED = [
  'aws',
  'blkid',
  'curl',
  'docker',
  'exorun',
  'ip6tables',
  'iptables',
  'lsblk',
  'lvcreate',
  'mkfs.xfs',
  'mount',
  'mountpoint',
  'nvme',
  'pvcreate',
  'rpm',
  'scontrol',
  'slurmd',
  'ssh-keygen',
  'sshd',
  'squeue',
  'systemctl',
  'tar',
  'umount',
  'useradd',
  'vgcreate',
  'vgs',
  'xspot',
  'yum',
] as const;

/** The order bin/bootstrap.sh runs its steps in (docs/controller-contract.md). */
export const BOOT_STEPS = [
  'check-config',
  'lifecycle-watch',
  'mount-remote',
  'docker-storage',
  'controller',
  'imds-guard',
  'install-hooks',
  'submit-sshd',
  'install-config',
  'deploy',
  'post-docker',
  'log-sync',
  'check',
  'promote-images',
  'scheduler-join',
] as const;

/** The plugstack.conf fragment scheduler-join writes for the Slurm step guard. */
export const SLURM_GUARD_FRAGMENT = '/usr/libexec/xspot-cdk/slurm/plugstack.conf';

export type Values = Record<string, string>;

export interface SandboxOptions {
  /** Overrides for deploy.env (KEY -> value). */
  readonly deployEnv?: Values;
  /** Overrides for conf/runtime.env. */
  readonly runtimeEnv?: Values;
  /** Overrides for conf/env.cfg lines (KEY -> raw right-hand side, e.g. '( "a" "b" )'). */
  readonly envCfg?: Values;
  /** Instance-store disk sizes in bytes ([] = none). */
  readonly nvmeSizes?: readonly number[];
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout + stderr */
  readonly output: string;
}

const parseShellValues = (text: string): [string, string][] =>
  text
    .split('\n')
    .map((l) => /^([A-Z_][A-Z0-9_]*)='(.*)'$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[2]]);

const renderShellValues = (entries: [string, string][]): string =>
  `${entries.map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'`).join('\n')}\n`;

function withOverrides(text: string, overrides: Values | undefined): string {
  const entries = new Map(parseShellValues(text));
  for (const [k, v] of Object.entries(overrides ?? {})) entries.set(k, v);
  return renderShellValues([...entries]);
}

export class Sandbox {
  readonly dir: string;
  readonly root: string;
  readonly release: string;
  readonly version: string;
  readonly stubLog: string;
  readonly state: string;
  private readonly stubBin: string;
  private readonly nvmeSizes: string;

  constructor(opts: SandboxOptions = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-runtime-'));
    this.root = path.join(this.dir, 'root');
    this.stubBin = path.join(this.dir, 'stubs');
    this.state = path.join(this.dir, 'state');
    this.stubLog = path.join(this.dir, 'calls.log');
    fs.mkdirSync(this.stubBin, { recursive: true });
    fs.mkdirSync(this.state, { recursive: true });
    fs.writeFileSync(this.stubLog, '');
    for (const cmd of STUBBED) fs.symlinkSync(STUB, path.join(this.stubBin, cmd));

    const deployEnv = withOverrides(fs.readFileSync(path.join(FIXTURES, 'deploy.env'), 'utf8'), opts.deployEnv);
    this.version = new Map(parseShellValues(deployEnv)).get('XSPOT_RUNTIME_VERSION') ?? 'dev';
    this.release = path.join(this.root, 'opt', 'xspot-cdk', 'releases', this.version);
    fs.cpSync(RUNTIME_SRC, this.release, { recursive: true });
    fs.cpSync(path.join(FIXTURES, 'conf'), path.join(this.release, 'conf'), { recursive: true });
    this.write('etc/xspot-cdk/deploy.env', deployEnv);

    const runtimeEnv = path.join(this.release, 'conf', 'runtime.env');
    fs.writeFileSync(runtimeEnv, withOverrides(fs.readFileSync(runtimeEnv, 'utf8'), opts.runtimeEnv));
    if (opts.envCfg) {
      const envCfg = path.join(this.release, 'conf', 'env.cfg');
      let text = fs.readFileSync(envCfg, 'utf8');
      for (const [k, v] of Object.entries(opts.envCfg)) {
        const re = new RegExp(`^${k}=.*$`, 'm');
        text = re.test(text) ? text.replace(re, `${k}=${v}`) : `${text}${k}=${v}\n`;
      }
      fs.writeFileSync(envCfg, text);
    }
    this.write('dev/console', '');
    this.write('etc/fstab', '# /etc/fstab\nUUID=root-uuid / xfs defaults 0 0\n');
    // the site's Slurm config (SLURM_CONF below); its plugstack.conf includes the step guard
    this.write('etc/slurm/slurm.conf', '# the site slurm.conf\n');
    this.write('etc/slurm/plugstack.conf', `include ${this.path(SLURM_GUARD_FRAGMENT)}\n`);
    this.nvmeSizes = (opts.nvmeSizes ?? [150_000_000_000]).join(' ');
  }

  /** Environment the scripts run with: stand-ins first on PATH, short poll intervals. */
  env(extra: Values = {}): NodeJS.ProcessEnv {
    return {
      PATH: `${this.stubBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: this.dir,
      LANG: 'C',
      XSPOT_ROOT: this.root,
      SLURM_CONF: this.path('/etc/slurm/slurm.conf'),
      STUB_LOG: this.stubLog,
      STUB_STATE: this.state,
      STUB_NVME_SIZES: this.nvmeSizes,
      XSPOT_POLL_SECONDS: '0',
      XSPOT_WATCH_SECONDS: '0',
      XSPOT_RETRY_SECONDS: '0',
      ...extra,
    };
  }

  /**
   * A PATH with every stand-in except `missing`, and only /usr/bin and /bin after it (so that no
   * real copy of a missing command is found either).
   */
  pathWithout(...missing: string[]): string {
    const dir = path.join(this.dir, `stubs-without-${missing.join('-')}`);
    fs.mkdirSync(dir, { recursive: true });
    for (const cmd of STUBBED) if (!missing.includes(cmd)) fs.symlinkSync(STUB, path.join(dir, cmd));
    for (const cmd of missing) {
      for (const d of ['/usr/bin', '/bin']) {
        if (fs.existsSync(path.join(d, cmd))) throw new Error(`${cmd} exists in ${d}: cannot hide it`);
      }
    }
    return `${dir}:/usr/bin:/bin`;
  }

  /** A PATH with every stand-in except `real`, then the system's directories (where the real ones are). */
  pathWithReal(...real: string[]): string {
    const dir = path.join(this.dir, `stubs-real-${real.join('-')}`);
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      for (const cmd of STUBBED) if (!real.includes(cmd)) fs.symlinkSync(STUB, path.join(dir, cmd));
    }
    return `${dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  }

  /** Run a script of the release (path relative to the release dir, e.g. bin/bootstrap.sh). */
  run(script: string, args: readonly string[] = [], extraEnv: Values = {}): RunResult {
    return this.exec('/bin/bash', [path.join(this.release, script), ...args], extraEnv);
  }

  /** Run a script by its logical path inside the root (e.g. a published release). */
  exec2(logicalScript: string, args: readonly string[] = [], extraEnv: Values = {}): RunResult {
    return this.exec('/bin/bash', [this.path(logicalScript), ...args], extraEnv);
  }

  /** Run a make target of the release's Makefile. */
  make(target: string, args: readonly string[] = [], extraEnv: Values = {}): RunResult {
    return this.exec('make', ['--no-print-directory', '-C', this.release, target, ...args], extraEnv);
  }

  private exec(cmd: string, args: readonly string[], extraEnv: Values): RunResult {
    const r = spawnSync(cmd, args, { env: this.env(extraEnv), encoding: 'utf8', timeout: 120_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr };
  }

  /** Recorded stand-in calls, one "<command> <args>" string each, oldest first. */
  calls(): string[] {
    return fs.readFileSync(this.stubLog, 'utf8').split('\n').filter(Boolean);
  }

  clearCalls(): void {
    fs.writeFileSync(this.stubLog, '');
  }

  /** Index of the first call starting with prefix at or after `from`; -1 when none. */
  indexOf(prefix: string, from = 0): number {
    const calls = this.calls();
    for (let i = from; i < calls.length; i++) if (calls[i].startsWith(prefix)) return i;
    return -1;
  }

  /** A path inside the scratch root (logical path as on the controller). */
  path(logical: string): string {
    return path.join(this.root, logical.replace(/^\/+/, ''));
  }

  read(logical: string): string {
    return fs.readFileSync(this.path(logical), 'utf8');
  }

  exists(logical: string): boolean {
    return fs.existsSync(this.path(logical));
  }

  write(logical: string, content: string, mode = 0o644): void {
    const p = this.path(logical);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode });
  }

  /** Stand-in state: a file under the state dir (e.g. docker_ps, lifecycle_states, rpms). */
  setState(name: string, content: string): void {
    fs.mkdirSync(path.dirname(path.join(this.state, name)), { recursive: true });
    fs.writeFileSync(path.join(this.state, name), content);
  }

  getState(name: string): string {
    const p = path.join(this.state, name);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
  }

  /**
   * Every file, directory and link of the root outside /var/log with its content hash, mode
   * and link target: two equal snapshots mean a run changed nothing.
   */
  snapshot(): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        const rel = path.relative(this.root, full);
        if (rel === path.join('var', 'log')) continue;
        const st = fs.lstatSync(full);
        if (st.isSymbolicLink()) out.set(rel, `link ${fs.readlinkSync(full)}`);
        else if (st.isDirectory()) {
          out.set(rel, `dir ${st.mode.toString(8)}`);
          walk(full);
        } else {
          const hash = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
          out.set(rel, `file ${st.mode.toString(8)} ${hash}`);
        }
      }
    };
    walk(this.root);
    return out;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The prefixes found in `calls` one after the other, stopping at the first one that does not
 * follow the previous match: `expect(inOrder(calls, p)).toEqual(p)` shows where the order broke.
 */
export function inOrder(calls: readonly string[], prefixes: readonly string[]): string[] {
  const found: string[] = [];
  let at = 0;
  for (const p of prefixes) {
    const i = calls.findIndex((c, idx) => idx >= at && c.startsWith(p));
    if (i < 0) break;
    found.push(p);
    at = i + 1;
  }
  return found;
}

/** Calls whose text starts with any of the prefixes. */
export function matching(calls: readonly string[], ...prefixes: string[]): string[] {
  return calls.filter((c) => prefixes.some((p) => c.startsWith(p)));
}
