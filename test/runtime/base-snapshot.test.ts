/**
 * `make base` with the real GNU tar over a scratch root that holds the credentials a controller
 * has: the snapshot lands on shared storage, so it must be private to root (0600 in a 0700
 * folder) and must not contain them (the built-in exclude list plus the site's
 * containers.baseSnapshotExcludes). The other stand-ins of harness.ts stay in place.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Sandbox } from './harness';

/** Files a validated controller holds that must never reach an image. */
const CREDENTIALS = [
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/security/opasswd',
  '/etc/ssh/ssh_host_rsa_key',
  '/etc/ssh/ssh_host_ed25519_key',
  '/etc/ssh/ssh_host_ed25519_key.pub',
  // names no real host has: the patterns must match in tar, not be expanded by the shell
  '/etc/ssh/ssh_host_sandbox-only_key',
  '/etc/munge/sandbox-only.key',
  '/etc/sandbox-only.keytab',
  '/etc/munge/munge.key',
  '/etc/slurm/slurmdbd.conf',
  '/etc/slurm/jwt_hs256.key',
  '/etc/krb5.keytab',
  '/etc/http.keytab',
  '/var/kerberos/krb5kdc/principal',
  '/etc/pki/tls/private/host.key',
  '/etc/ssl/private/host.key',
  '/etc/docker/key.json',
  '/etc/sssd/sssd.conf',
  '/var/lib/sss/db/cache_example.ldb',
  '/etc/xspot/config/config.toml',
  '/etc/xspot-cdk/deploy.env',
  '/root/.ssh/id_rsa',
  '/root/.bash_history',
  '/var/lib/cloud/instance/user-data.txt',
];
/** What the site adds in containers.baseSnapshotExcludes. */
const SITE = ['/opt/site/license.dat', '/etc/site/a.key', '/etc/site/b.key'];
/** What an image needs and must keep. */
const KEPT = [
  '/etc/hosts',
  '/etc/passwd',
  '/etc/group',
  '/etc/ssh/sshd_config',
  '/etc/munge/README',
  '/etc/slurm/slurm.conf',
  '/etc/site/site.conf',
  '/opt/site/bin/tool',
  '/usr/bin/app',
];

describe('make base (real tar)', () => {
  let s: Sandbox;
  beforeEach(() => {
    s = new Sandbox({ runtimeEnv: { XSPOT_BASE_EXCLUDES: '/opt/site/license.dat /etc/site/*.key' } });
    for (const f of [...CREDENTIALS, ...SITE, ...KEPT]) if (!s.exists(f)) s.write(f, `${f}\n`, 0o644);
  });
  afterEach(() => s.cleanup());

  const snapshot = () => {
    const r = s.make('base', [], { PATH: s.pathWithReal('tar') });
    expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
    const images = s.path('/efs/deploy/images');
    const folder = fs.readlinkSync(path.join(images, 'current'));
    return path.join(images, folder);
  };
  const members = (archive: string) => {
    const r = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    return new Set(r.stdout.split('\n').map((m) => m.replace(/^\.\//, '/').replace(/\/$/, '')));
  };

  test('the archive is 0600 in a 0700 folder, even when the folder existed with 0755', () => {
    fs.mkdirSync(s.path('/efs/deploy/images/20250101-000000'), { recursive: true, mode: 0o755 });
    fs.symlinkSync('20250101-000000', s.path('/efs/deploy/images/current'));
    const folder = snapshot();
    expect(fs.statSync(folder).mode & 0o7777).toBe(0o700);
    expect(fs.statSync(path.join(folder, 'base.tar.gz')).mode & 0o7777).toBe(0o600);
    expect(fs.readdirSync(folder)).toEqual(['base.tar.gz']);
  });

  test('no credential and no site-excluded file is in it; everything else is', () => {
    const m = members(path.join(snapshot(), 'base.tar.gz'));
    expect(CREDENTIALS.filter((f) => m.has(f))).toEqual([]);
    expect(SITE.filter((f) => m.has(f))).toEqual([]);
    expect(KEPT.filter((f) => !m.has(f))).toEqual([]);
    // whole private directories go, not only their files
    expect(['/root', '/etc/sssd', '/etc/xspot', '/var/lib/cloud'].filter((d) => m.has(d))).toEqual([]);
    // and the shared file system itself is not in it
    expect([...m].filter((f) => f.startsWith('/efs'))).toEqual([]);
  });

  test('new-base replaces the snapshot and keeps the modes', () => {
    const folder = snapshot();
    fs.chmodSync(path.join(folder, 'base.tar.gz'), 0o644);
    fs.chmodSync(folder, 0o755);
    s.write('/etc/site/c.key', 'later\n');
    expect(s.make('new-base', [], { PATH: s.pathWithReal('tar') }).status).toBe(0);
    expect(fs.statSync(folder).mode & 0o7777).toBe(0o700);
    expect(fs.statSync(path.join(folder, 'base.tar.gz')).mode & 0o7777).toBe(0o600);
    expect(members(path.join(folder, 'base.tar.gz')).has('/etc/site/c.key')).toBe(false);
  });

  test.each([
    ['a relative path', 'etc/site'],
    ['a .. component', '/etc/../root'],
    ['a shell character', '/etc/a;b'],
  ])('check-config refuses a site exclude with %s, naming it', (_what, value) => {
    const bad = new Sandbox({ runtimeEnv: { XSPOT_BASE_EXCLUDES: value } });
    try {
      const r = bad.make('base', [], { PATH: bad.pathWithReal('tar') });
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(`XSPOT_BASE_EXCLUDES='${value}' is not allowed`);
      expect(bad.exists('/efs/deploy/images/current')).toBe(false);
    } finally {
      bad.cleanup();
    }
  });
});
