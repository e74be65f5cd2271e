/**
 * One rule in one place: `xspot-cdk check-config` (the TypeScript schema and validators) and the
 * controller's own check (assets/controller-runtime/scripts/check-config.sh, run here by a real
 * bash) must agree. Each probe is one value of a field that reaches env.cfg, runtime.env or
 * deploy.env: every enum value and the boundaries of every pattern and range. A value the
 * TypeScript side accepts is rendered into the files a controller reads and must pass the host
 * check (otherwise every boot fails); a value it refuses is written into the same files in the
 * guide's syntax and must be refused by the host too, unless the rule is one only the operator's
 * machine can check (listed in TS_ONLY with the reason).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { checkConfigText, defaultConfigPath } from '../../lib/config/load';
import { ARMORED_KEY_FILE, repositoryKey } from '../../lib/config/package-signing';
import { renderEnvCfg } from '../../lib/config/render';
import type { XspotConfig } from '../../lib/config/resolve';
import { renderRuntimeEnv } from '../../lib/config/runtime-env';

const RUNTIME = path.join(__dirname, '..', '..', 'assets', 'controller-runtime', 'scripts');
const FILE = path.join(path.dirname(defaultConfigPath()), 'probe.yaml');
const KEY_URL = 'https://rpm.example.com/RPM-GPG-KEY-xspot';
const BASE = {
  workers: { ami: 'ami-0222b6150e1c29556' },
  controllers: { amiId: 'ami-0abcdef0123456789' },
  xspot: { repositoryGpgKey: KEY_URL },
};
/** A real armored public key (made for these tests) and damaged copies of it. */
const KEY = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'keys', 'test-signing-key.asc'), 'utf8');
const UNSIGNED_ACK = [{ id: 'unsigned-packages', reason: 'the mirror publishes no key' }];

/** deploy.env's storage lines, as the controllers stack derives them from the config. */
function storageLines(c: XspotConfig): Record<string, string> {
  const s = c.storage;
  const e = s.existing;
  const source =
    s.type === 'efs'
      ? 'fs-0123456789abcdef0'
      : s.type === 'lustre'
        ? `${e?.dnsName}@tcp:/${e?.mountName}`
        : `${e?.dnsName}:${e?.exportPath}`;
  return {
    XSPOT_STORAGE_TYPE: s.type,
    XSPOT_STORAGE_SOURCE: source,
    XSPOT_STORAGE_MOUNT_POINT: s.mountPoint,
    XSPOT_STORAGE_MOUNT_OPTIONS: s.type === 'efs' ? 'tls,_netdev' : (e?.mountOptions ?? '_netdev'),
  };
}

const DEPLOY_ENV_BASE: Record<string, string> = {
  XSPOT_DEPLOYMENT: 'xspot',
  AWS_REGION: 'us-east-1',
  XSPOT_ASG_NAME: 'xspot-controllers-Asg-ABC123',
  XSPOT_LAUNCH_HOOK: 'xspot-launch',
  XSPOT_TERMINATE_HOOK: 'xspot-terminate',
  XSPOT_LOG_BUCKET: 'xspot-logs-123456789012',
  XSPOT_LOG_PREFIX: 'xspot',
  XSPOT_RUNTIME_VERSION: '0123456789ab-ba9876543210',
};

const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** Replaces (or appends) KEY=... lines of a shell-syntax file with the raw right-hand sides given. */
function withLines(text: string, lines: Record<string, string>): string {
  let out = text;
  for (const [k, v] of Object.entries(lines)) {
    const re = new RegExp(`^${k}=.*$`, 'm');
    out = re.test(out) ? out.replace(re, () => `${k}=${v}`) : `${out}${k}=${v}\n`;
  }
  return out;
}

interface HostFiles {
  readonly envCfg: string;
  readonly runtimeEnv: string;
  readonly deployEnv: string;
  /** conf/repo-gpg-key.asc, when the bundle carries the armored key. */
  readonly repoKey?: string;
}

/** Runs the real check-config.sh against the files; true when the host accepts them. */
function hostAccepts(files: HostFiles): { ok: boolean; output: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-agree-'));
  try {
    const release = path.join(root, 'opt', 'xspot-cdk', 'releases', 'r1');
    fs.mkdirSync(path.join(release, 'scripts'), { recursive: true });
    fs.mkdirSync(path.join(release, 'conf'), { recursive: true });
    fs.mkdirSync(path.join(root, 'etc', 'xspot-cdk'), { recursive: true });
    for (const f of ['lib.sh', 'check-config.sh'])
      fs.copyFileSync(path.join(RUNTIME, f), path.join(release, 'scripts', f));
    fs.writeFileSync(path.join(release, 'conf', 'env.cfg'), files.envCfg);
    fs.writeFileSync(path.join(release, 'conf', 'runtime.env'), files.runtimeEnv);
    if (files.repoKey !== undefined) fs.writeFileSync(path.join(release, 'conf', ARMORED_KEY_FILE), files.repoKey);
    fs.writeFileSync(path.join(root, 'etc', 'xspot-cdk', 'deploy.env'), files.deployEnv);
    const r = spawnSync('bash', [path.join(release, 'scripts', 'check-config.sh')], {
      env: { PATH: process.env.PATH, XSPOT_ROOT: root },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function render(c: XspotConfig): HostFiles {
  const deploy = { ...DEPLOY_ENV_BASE, ...storageLines(c) };
  const key = repositoryKey(c.xspot.repositoryGpgKey);
  return {
    envCfg: renderEnvCfg(c),
    runtimeEnv: renderRuntimeEnv(c),
    deployEnv: Object.entries(deploy)
      .map(([k, v]) => `${k}=${q(v)}\n`)
      .join(''),
    ...(key.kind === 'armored' ? { repoKey: key.text } : {}),
  };
}

const baseCheck = checkConfigText(stringify(BASE), FILE);
const BASE_FILES = render(baseCheck.config!);

interface Probe {
  readonly name: string;
  /** Config overrides (sections merged one level deep into BASE; lists replace; an undefined value removes). */
  readonly config: Record<string, Record<string, unknown> | unknown[]>;
  /**
   * How the value looks in the host files when the schema refuses it (so nothing can be
   * rendered): raw right-hand sides in the guide's syntax, and the key file's text.
   */
  readonly raw?: { envCfg?: Record<string, string>; runtimeEnv?: Record<string, string>; repoKey?: string };
}

const merge = (over: Probe['config']) => {
  const out: Record<string, unknown> = { ...BASE };
  for (const [k, v] of Object.entries(over)) {
    if (Array.isArray(v)) {
      out[k] = v;
      continue;
    }
    const section: Record<string, unknown> = { ...((out[k] as Record<string, unknown>) ?? {}), ...v };
    for (const [f, x] of Object.entries(section)) if (x === undefined) delete section[f];
    out[k] = section;
  }
  return out;
};

const long = (n: number) => `x${'1'.repeat(n - 1)}`;
const VERSIONS: [string, string][] = [
  ['rpmVersion', 'XSPOT_RPM_VERSION'],
  ['platformVersion', 'XSPOT_PLATFORM'],
  ['kernelVersion', 'XSPOT_KERNEL'],
  ['guestKernelVersion', 'XSPOT_GUEST_KERNEL'],
  ['cliWrapperVersion', 'CLI_WRAPPER_VERSION'],
];
const TOGGLES: [string, string][] = [
  ['lustreNeeded', 'LUSTRE_NEEDED'],
  ['autofsNeeded', 'AUTOFS_NEEDED'],
  ['ldapsNeeded', 'LDAPS_NEEDED'],
  ['sssdNeeded', 'SSSD_NEEDED'],
];

const PROBES: Probe[] = [
  ...[true, false].map((v) => ({ name: `xspot.isSystemd ${v}`, config: { xspot: { isSystemd: v } } })),
  ...TOGGLES.flatMap(([field]) =>
    [true, false].map((v) => ({ name: `xspot.${field} ${v}`, config: { xspot: { [field]: v } } })),
  ),
  { name: 'xspot.ontapNeeded with folders', config: { xspot: { ontapNeeded: true, ontapFolders: ['/ontap/1'] } } },
  { name: 'xspot.ontapNeeded without folders', config: { xspot: { ontapNeeded: true } } },
  {
    name: 'xspot.ontapFolders relative',
    config: { xspot: { ontapNeeded: true, ontapFolders: ['ontap/1'] } },
    raw: { envCfg: { ONTAP_NEEDED: '1', ONTAP_FOLDERS: '( "ontap/1" )' } },
  },
  { name: 'storage.type efs', config: { storage: { type: 'efs' } } },
  {
    name: 'storage.type nfs',
    config: {
      storage: { type: 'nfs', mountPoint: '/nfs-apps', existing: { dnsName: '10.1.2.3' } },
      xspot: { remoteDir: '/nfs-apps/x' },
    },
  },
  {
    name: 'storage.type lustre',
    config: {
      storage: {
        type: 'lustre',
        mountPoint: '/fsx',
        existing: { dnsName: 'fs-0123.fsx.example', mountName: 'abcd1234' },
      },
      xspot: { remoteDir: '/fsx/deploy' },
    },
  },
  {
    name: 'storage.type ontap',
    config: {
      storage: { type: 'ontap', mountPoint: '/ontap', existing: { dnsName: 'svm.example', exportPath: '/vol1' } },
      xspot: { remoteDir: '/ontap/deploy', ontapFolders: ['/ontap/data'] },
    },
  },
  ...['1M', '50G', '999999T'].map((v) => ({ name: `containerFsSize ${v}`, config: { xspot: { containerFsSize: v } } })),
  ...['0G', '1000000G', '50g', '50GB', '1.5G', ''].map((v) => ({
    name: `containerFsSize ${JSON.stringify(v)}`,
    config: { xspot: { containerFsSize: v } },
    raw: { envCfg: { CONTAINER_FS_SIZE: v } },
  })),
  ...['/efs/deploy/', '/efs', '/efs/a+b@c.d_e-f'].map((v) => ({
    name: `remoteDir ${v}`,
    config: { xspot: { remoteDir: v } },
  })),
  { name: 'remoteDir off the shared mount', config: { xspot: { remoteDir: '/data/deploy' } } },
  { name: 'remoteDir /efsx (a sibling of the mount)', config: { xspot: { remoteDir: '/efsx/deploy' } } },
  ...['/efs/../etc', '/efs/dep loy', 'efs/deploy', '/'].map((v) => ({
    name: `remoteDir ${JSON.stringify(v)}`,
    config: { xspot: { remoteDir: v } },
    raw: {
      envCfg: {
        REMOTE_DIR: `'${v}'`,
        IMAGE_DEPLOY_DIR: '/efs/deploy/images',
        SCRIPT_DEPLOY_DIR: '/efs/deploy/scripts',
      },
    },
  })),
  ...[['docker-base'], ['team/app:1.2'], ['a'], [`img:${'t'.repeat(128)}`], ['docker-base', 'eda:2024.1']].map((v) => ({
    name: `imageNameList ${JSON.stringify(v.map((i) => (i.length > 30 ? `${i.slice(0, 12)}...(${i.length} chars)` : i)))}`,
    config: {
      xspot: { imageNameList: v },
      containers: { approvedContainerImages: [...v], containerImage: v[0] },
      scheduler: { image: v[0] },
    },
  })),
  ...[['Docker-Base'], [], ['x:'], [`img:${'t'.repeat(129)}`]].map((v) => ({
    name: `imageNameList ${JSON.stringify(v.map((i) => (i.length > 30 ? `${i.slice(0, 12)}...(${i.length} chars)` : i)))}`,
    config: { xspot: { imageNameList: v } },
    raw: { envCfg: { IMAGE_NAME_LIST: `(${v.map((i) => ` "${i}"`).join('')} )` } },
  })),
  ...VERSIONS.flatMap(([field, key]) => [
    { name: `${field} of 128 characters`, config: { xspot: { [field]: long(128) } } },
    ...[long(129), 'xspot 1.3', '-xspot', 'xspot;id'].map((v) => ({
      name: `${field} ${JSON.stringify(v).slice(0, 20)}`,
      config: { xspot: { [field]: v } },
      raw: { envCfg: { [key]: q(v) } },
    })),
  ]),
  ...['https://rpm.exostellar.io/', 'https://mirror.example:8080/x-spot/el7'].map((v) => ({
    name: `repositoryUrl ${v}`,
    config: { xspot: { repositoryUrl: v } },
  })),
  ...['http://mirror.example:8080/x-spot/el7', 'ftp://mirror/xspot', 'https://rpm.example/?a=b', 'rpm.example'].map(
    (v) => ({
      name: `repositoryUrl ${v}`,
      config: { xspot: { repositoryUrl: v } },
      raw: { runtimeEnv: { XSPOT_REPO_URL: q(v) } },
    }),
  ),
  ...(
    [
      [1, 1],
      [81, 81],
      [243, 1],
      [245, 0],
      [82, 82],
      [244, 1],
      [3, 122],
      [1, 123],
      [0, 1],
      [246, 1],
    ] as const
  ).map(([containers, workers]) => ({
    name: `maxContainers ${containers}, maxWorkers ${workers}`,
    config: { controllers: { maxContainers: containers, maxWorkers: workers } },
    raw: { runtimeEnv: { MAX_CONTAINERS: q(String(containers)), MAX_WORKERS: q(String(workers)) } },
  })),
  ...[['xspot'], ['svc_xspot-1', '_daemon'], [`u${'x'.repeat(31)}`]].map((v) => ({
    name: `controllers.imdsUsers ${JSON.stringify(v)}`,
    config: { controllers: { imdsUsers: v } },
  })),
  ...[['Xspot'], ['1000'], ['-x'], ['x;id'], [`u${'x'.repeat(32)}`]].map((v) => ({
    name: `controllers.imdsUsers ${JSON.stringify(v)}`,
    config: { controllers: { imdsUsers: v } },
    raw: { runtimeEnv: { XSPOT_IMDS_USERS: q(v.join(' ')) } },
  })),
  ...[['/etc/site/secret.key'], ['/etc/site/*.key', '/opt/app/lic?.dat'], ['/a+b@c_d-e.f']].map((v) => ({
    name: `containers.baseSnapshotExcludes ${JSON.stringify(v)}`,
    config: { containers: { baseSnapshotExcludes: v } },
  })),
  ...[['etc/site'], ['/etc/../root'], ['/etc/./x'], ['/etc/site;id'], ['/etc/a$b'], ['/']].map((v) => ({
    name: `containers.baseSnapshotExcludes ${JSON.stringify(v)}`,
    config: { containers: { baseSnapshotExcludes: v } },
    raw: { runtimeEnv: { XSPOT_BASE_EXCLUDES: q(v.join(' ')) } },
  })),
  // package signing: the key's https URL, the armored key itself, or none only when acknowledged
  ...[KEY_URL, 'https://keys.example.com:8443/xspot/RPM-GPG-KEY'].map((v) => ({
    name: `repositoryGpgKey ${v}`,
    config: { xspot: { repositoryGpgKey: v } },
  })),
  ...['http://rpm.example.com/RPM-GPG-KEY', 'ftp://rpm.example.com/RPM-GPG-KEY', '/etc/pki/rpm-gpg/KEY'].map((v) => ({
    name: `repositoryGpgKey ${v}`,
    config: { xspot: { repositoryGpgKey: v } },
    raw: { runtimeEnv: { XSPOT_REPO_GPGKEY: q(v) } },
  })),
  { name: 'repositoryGpgKey armored', config: { xspot: { repositoryGpgKey: KEY } } },
  {
    name: 'repositoryGpgKey armored, with shell syntax in a header',
    config: { xspot: { repositoryGpgKey: KEY.replace('-----\n\n', "-----\nComment: $(id)'\n\n") } },
    raw: {
      runtimeEnv: { XSPOT_REPO_GPGKEY: q('file') },
      repoKey: KEY.replace('-----\n\n', "-----\nComment: $(id)'\n\n"),
    },
  },
  {
    name: 'repositoryGpgKey armored private key',
    config: { xspot: { repositoryGpgKey: KEY.replace(/PUBLIC/g, 'PRIVATE') } },
    raw: { runtimeEnv: { XSPOT_REPO_GPGKEY: q('file') }, repoKey: KEY.replace(/PUBLIC/g, 'PRIVATE') },
  },
  {
    name: 'repositoryGpgKey armored, checksum damaged',
    config: { xspot: { repositoryGpgKey: KEY.replace(/^=.{4}$/m, '=AAAA') } },
    raw: { runtimeEnv: { XSPOT_REPO_GPGKEY: q('file') }, repoKey: KEY.replace(/^=.{4}$/m, '=AAAA') },
  },
  {
    name: 'repositoryGpgKey unset, not acknowledged',
    config: { xspot: { repositoryGpgKey: undefined } },
    raw: { runtimeEnv: { XSPOT_REPO_GPGKEY: q('') } },
  },
  {
    name: 'repositoryGpgKey unset, unsigned-packages acknowledged',
    config: { xspot: { repositoryGpgKey: undefined }, acknowledgedWarnings: UNSIGNED_ACK },
  },
  { name: 'repositoryMetadataSigned with a key', config: { xspot: { repositoryMetadataSigned: true } } },
  {
    name: 'repositoryMetadataSigned without a key',
    config: {
      xspot: { repositoryGpgKey: undefined, repositoryMetadataSigned: true },
      acknowledgedWarnings: UNSIGNED_ACK,
    },
    raw: { runtimeEnv: { XSPOT_REPO_GPGKEY: q('none'), XSPOT_REPO_GPGCHECK_METADATA: q('1') } },
  },
  { name: 'xspot.ontapFolders without ontapNeeded', config: { xspot: { ontapFolders: ['/ontap/1'] } } },
  { name: 'xspot.imageDeployDir off the shared mount', config: { xspot: { imageDeployDir: '/opt/images' } } },
  { name: 'controllers without local NVMe (EBS docker disk)', config: { controllers: { instanceType: 'm5.xlarge' } } },
  { name: 'controllers.dockerVolumeGb 1000', config: { controllers: { dockerVolumeGb: 1000 } } },
];

/**
 * Refusals that only the operator's machine can make: the host sees the rendered values, not the
 * rest of the config the rule compares them with.
 */
const TS_ONLY: Record<string, string> = {
  'xspot.ontapFolders without ontapNeeded':
    'ONTAP_FOLDERS is ignored when ONTAP_NEEDED=0; the operator check flags the likely mistake',
  'repositoryGpgKey armored, checksum damaged':
    'the host checks the armor shape; rpm --import, run on the key before yum uses it, rejects a bad checksum',
  'xspot.imageDeployDir off the shared mount':
    'deploy.env names only the mount REMOTE_DIR lives on; whether another directory is shared is known from the config',
};

describe('check-config (TypeScript) and the host check agree', () => {
  test('the probes cover every enum value and both sides of every boundary (at least 60)', () => {
    expect(PROBES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(PROBES.map((p) => p.name)).size).toBe(PROBES.length);
  });

  test('the base config passes both', () => {
    expect(baseCheck.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(hostAccepts(BASE_FILES)).toMatchObject({ ok: true });
  });

  test.each(PROBES.map((p) => [p.name, p] as const))('%s', (_name, probe) => {
    const check = checkConfigText(stringify(merge(probe.config)), FILE);
    const errors = check.findings.filter((f) => f.severity === 'error');
    const tsAccepts = errors.length === 0;
    let files: HostFiles;
    if (check.config) {
      files = render(check.config);
    } else {
      // The schema refused the value, so nothing renders: write it into the files as a hand edit would.
      expect(probe.raw).toBeDefined();
      files = {
        envCfg: withLines(BASE_FILES.envCfg, probe.raw?.envCfg ?? {}),
        runtimeEnv: withLines(BASE_FILES.runtimeEnv, probe.raw?.runtimeEnv ?? {}),
        deployEnv: BASE_FILES.deployEnv,
        ...(probe.raw?.repoKey !== undefined ? { repoKey: probe.raw.repoKey } : {}),
      };
    }
    const host = hostAccepts(files);
    const tsOnly = TS_ONLY[probe.name];
    if (tsAccepts) {
      expect({ probe: probe.name, host: host.ok, output: host.ok ? '' : host.output }).toEqual({
        probe: probe.name,
        host: true,
        output: '',
      });
    } else if (tsOnly === undefined) {
      expect({ probe: probe.name, errors: errors.map((e) => e.id), host: host.ok }).toEqual({
        probe: probe.name,
        errors: errors.map((e) => e.id),
        host: false,
      });
    } else {
      expect(host.ok).toBe(true);
    }
  });
});
