/**
 * Plumbing for the submissions-from-containers tests: a root-owned install of the rendered
 * hooks (sshd refuses an AuthorizedKeysCommand under a world-writable directory such as /tmp),
 * a real sshd on 127.0.0.1 with the rendered submit-sshd_config standing in for the
 * controller's, the AuthorizedKeysCommand account, and ssh as an unprivileged user.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSchedulerFiles, SUBMIT_AKC_USER } from '../../lib/scheduler/render';
import type { SchedulerKind, SchedulerSettings } from '../../lib/scheduler/types';
import { type Attacker, mustRun, run, runAs } from './helpers';

/** A port nothing listens on (bash's /dev/tcp probe, as slurm-cluster.sh does). */
export function freePort(): number {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if (run('bash', ['-c', `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null`]).code !== 0) return port;
  }
  throw new Error('no free TCP port');
}

/** Creates a login account (bash) when missing; returns it. */
export function ensureUser(name: string, shell = '/bin/bash'): Attacker {
  if (run('id', ['-u', name]).code !== 0) {
    mustRun('useradd', ['--create-home', '--shell', shell, '--user-group', name]);
  }
  const [, , uid, gid, , home] = mustRun('getent', ['passwd', name]).trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid), home };
}

/**
 * useradd leaves the password field '!' (locked), and sshd without PAM refuses locked
 * accounts; site accounts (LDAP, sssd) are not locked. '*' allows no password either.
 */
export function unlock(u: Attacker): void {
  mustRun('usermod', ['-p', '*', u.name]);
}

/** The unprivileged account sshd runs the AuthorizedKeysCommand as. */
export function ensureAkcUser(): void {
  if (run('id', ['-u', SUBMIT_AKC_USER]).code !== 0) {
    mustRun('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SUBMIT_AKC_USER]);
  }
}

export interface SubmitHost {
  /** Root-owned 0755 directory under /run holding install/, state/, etc/. */
  readonly root: string;
  readonly settings: SchedulerSettings;
  readonly port: number;
  readonly sshdLog: string;
  stop(): void;
}

/** Paths of a submit host under ROOT, for rendering before the host starts. */
export function submitPaths(root: string, port: number): Partial<SchedulerSettings> {
  return {
    installDir: path.join(root, 'install'),
    // below directories that do not exist yet, as /run/xspot-cdk after a boot
    submitStateDir: path.join(root, 'run', 'xspot-cdk', 'submit'),
    submitPort: port,
    submitAddress: '127.0.0.1',
    submitHostKey: path.join(root, 'etc', 'ssh_host_ed25519_key.pub'),
    submitEnvFile: path.join(root, 'etc', 'submit.env'),
  };
}

/** A root-owned, traversable directory under /run for one test file. */
export function submitRoot(prefix: string): string {
  const root = fs.mkdtempSync(`/run/${prefix}`);
  fs.chmodSync(root, 0o755);
  return root;
}

/**
 * Installs the rendered files of KIND into ROOT/install/KIND (root-owned, as install-hooks
 * does), writes the host key and submit.env, and starts sshd with the rendered config (plus
 * ListenAddress 127.0.0.1 and a pid file, which come first: sshd keeps the first value).
 */
export function startSubmitHost(
  root: string,
  settings: SchedulerSettings,
  kind: SchedulerKind,
  env: Record<string, string>,
): SubmitHost {
  ensureAkcUser();
  const files = renderSchedulerFiles(settings, [kind]);
  for (const d of ['install', `install/${kind}`, 'etc']) {
    fs.mkdirSync(path.join(root, d), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(root, d), 0o755);
  }
  for (const [rel, f] of Object.entries(files)) {
    if (!rel.startsWith(`${kind}/`)) continue;
    const target = path.join(root, 'install', rel);
    fs.writeFileSync(target, f.content, { mode: f.mode });
    fs.chmodSync(target, f.mode);
  }
  const hostKey = path.join(root, 'etc', 'ssh_host_ed25519_key');
  if (!fs.existsSync(hostKey)) mustRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  fs.writeFileSync(
    settings.submitEnvFile,
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o644 },
  );
  const pid = path.join(root, 'sshd.pid');
  const log = path.join(root, 'sshd.log');
  const conf = path.join(root, 'etc', 'sshd_config');
  fs.writeFileSync(
    conf,
    `ListenAddress 127.0.0.1\nPidFile ${pid}\nLogLevel VERBOSE\n${files[`${kind}/submit-sshd_config`].content}`,
  );
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  mustRun('/usr/sbin/sshd', ['-t', '-f', conf]);
  mustRun('/usr/sbin/sshd', ['-f', conf, '-E', log]);
  for (let i = 0; i < 50 && !fs.existsSync(pid); i++) run('sleep', ['0.1']);
  return {
    root,
    settings,
    port: settings.submitPort,
    sshdLog: log,
    stop() {
      if (fs.existsSync(pid)) {
        const p = Number(fs.readFileSync(pid, 'utf8').trim());
        try {
          process.kill(p, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    },
  };
}

/** ssh to the submit host as WHO with KEY (a file WHO can read), running COMMAND (or none). */
export function sshAs(
  who: Attacker,
  host: SubmitHost,
  key: string,
  opts: { login?: string; command?: string; extra?: string[]; input?: string; env?: Record<string, string> } = {},
) {
  const args = [
    '-F',
    '/dev/null',
    '-i',
    key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ConnectTimeout=10',
    '-p',
    String(host.port),
    '-l',
    opts.login ?? who.name,
    ...(opts.extra ?? []),
    '127.0.0.1',
    ...(opts.command !== undefined ? [opts.command] : []),
  ];
  return runAs(who, 'ssh', args, {
    env: { PATH: '/usr/bin:/bin', HOME: who.home, LANG: 'C', ...(opts.env ?? {}) },
    input: opts.input ?? '',
    cwd: who.home,
    timeoutMs: 30_000,
  });
}
