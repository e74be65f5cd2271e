/**
 * The guide's make targets one by one: check-config, mount-remote variants, docker-storage,
 * controller, base/new-base, build-image/rebuild-image, image-folder, deploy, post-docker,
 * sync-config(-preview), upgrade. Real scripts, stand-in commands (see harness.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BOOT_STEPS, inOrder, matching, Sandbox, type SandboxOptions } from './harness';

let sb: Sandbox;
const sandbox = (opts?: SandboxOptions) => {
  sb = new Sandbox(opts);
  return sb;
};
afterEach(() => sb?.cleanup());

const XSPOT = 'xspot-1.3.0.1-rc_5cb0ffb0.el7';
/** The fixture bundle's package-signing key (a real ed25519 public key made for these tests). */
const KEY = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'keys', 'test-signing-key.asc'), 'utf8');

describe('Makefile', () => {
  const scriptOf: Record<(typeof BOOT_STEPS)[number], string> = {
    'check-config': 'scripts/check-config.sh',
    'lifecycle-watch': 'scripts/install-lifecycle-watch.sh',
    'mount-remote': 'scripts/mount-remote.sh',
    'docker-storage': 'scripts/docker-storage.sh',
    controller: 'scripts/controller.sh',
    'imds-guard': 'scripts/imds-guard.sh',
    'install-hooks': 'scripts/install-hooks.sh',
    'submit-sshd': 'scripts/submit-sshd.sh',
    'install-config': 'scripts/install-config.sh',
    deploy: 'scripts/deploy.sh',
    'post-docker': 'scripts/start-post-docker.sh',
    'log-sync': 'scripts/install-log-sync.sh',
    check: 'scripts/check.sh',
    'promote-images': 'scripts/promote-images.sh',
    'scheduler-join': 'scripts/scheduler-join.sh',
  };
  const guideTargets: [string, string][] = [
    ['check-config', 'scripts/check-config.sh'],
    ['controller', 'scripts/controller.sh'],
    ['base', 'scripts/base.sh'],
    ['new-base', 'scripts/base.sh --new'],
    ['build-image', 'scripts/build-image.sh'],
    ['rebuild-image', 'scripts/build-image.sh --rebuild'],
    ['image-folder', 'scripts/image-folder.sh'],
    ['sync-config-preview', 'scripts/sync-config.sh --preview'],
    ['sync-config', 'scripts/sync-config.sh'],
    ['deploy', 'scripts/deploy.sh'],
    ['upgrade', 'scripts/upgrade.sh'],
    ...Object.entries(scriptOf),
  ];

  test.each(guideTargets)('make %s runs %s', (target, script) => {
    const s = sandbox();
    const r = s.make(target, ['-n']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`/bin/bash ${s.release}/${script}`);
  });

  test('make upgrade FORCE=1 passes --force', () => {
    const s = sandbox();
    expect(s.make('upgrade', ['-n', 'FORCE=1']).stdout.trim()).toBe(
      `/bin/bash ${s.release}/scripts/upgrade.sh --force`,
    );
  });

  test('bin/bootstrap.sh runs the same scripts as the Makefile, in the contract order', () => {
    const bootstrap = fs.readFileSync(path.join(__dirname, '../../assets/controller-runtime/bin/bootstrap.sh'), 'utf8');
    expect(bootstrap).toContain(`STEPS=(${BOOT_STEPS.join(' ')})`);
    for (const [step, script] of Object.entries(scriptOf)) {
      const name = path.basename(script);
      if (name !== `${step}.sh`) expect(bootstrap).toContain(`${step}) echo ${name} ;;`);
    }
  });

  test('make check-config passes on the fixture bundle', () => {
    const s = sandbox();
    const r = s.make('check-config');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('OK: release');
    expect(s.read('/var/log/xspot-cdk/check-config.log')).toContain('OK: release');
  });
});

describe('check-config', () => {
  test.each<[string, SandboxOptions, string]>([
    ['a version with a space', { envCfg: { XSPOT_RPM_VERSION: "'xspot 1.3'" } }, "XSPOT_RPM_VERSION='xspot 1.3'"],
    [
      'an image name with capitals',
      { envCfg: { IMAGE_NAME_LIST: '( "Docker-Base" )' } },
      "IMAGE_NAME_LIST='Docker-Base'",
    ],
    ['no image', { envCfg: { IMAGE_NAME_LIST: '( )' } }, 'IMAGE_NAME_LIST'],
    ['a size with a unit suffix', { envCfg: { CONTAINER_FS_SIZE: '50GB' } }, "CONTAINER_FS_SIZE='50GB'"],
    ['REMOTE_DIR off the shared mount', { envCfg: { REMOTE_DIR: '/data/deploy' } }, "REMOTE_DIR='/data/deploy'"],
    ['IS_SYSTEMD=no', { envCfg: { IS_SYSTEMD: 'no' } }, "IS_SYSTEMD='no'"],
    ['ONTAP without folders', { envCfg: { ONTAP_NEEDED: '1' } }, 'ONTAP_FOLDERS'],
    ['a toggle that is not 0/1', { envCfg: { AUTOFS_NEEDED: 'yes' } }, "AUTOFS_NEEDED='yes'"],
    [
      'the capacity equation',
      { runtimeEnv: { MAX_CONTAINERS: '100', MAX_WORKERS: '100' } },
      "MAX_CONTAINERS='100' is not allowed: must be such that MAX_CONTAINERS + 2 x MAX_WORKERS (100) <= 245",
    ],
    [
      'a non-http repository',
      { runtimeEnv: { XSPOT_REPO_URL: 'ftp://mirror/xspot' } },
      "XSPOT_REPO_URL='ftp://mirror/xspot'",
    ],
    ['no repository', { runtimeEnv: { XSPOT_REPO_URL: '' } }, "XSPOT_REPO_URL=''"],
    [
      'an http:// repository',
      { runtimeEnv: { XSPOT_REPO_URL: 'http://mirror.example/xspot' } },
      "XSPOT_REPO_URL='http://mirror.example/xspot' is not allowed: must be an https:// URL",
    ],
    [
      'a signing key fetched over http://',
      { runtimeEnv: { XSPOT_REPO_GPGKEY: 'http://mirror.example/RPM-GPG-KEY' } },
      "XSPOT_REPO_GPGKEY='http://mirror.example/RPM-GPG-KEY' is not allowed: must be the vendor key's https:// URL",
    ],
    ['no signing key and no acknowledgement', { runtimeEnv: { XSPOT_REPO_GPGKEY: '' } }, "XSPOT_REPO_GPGKEY=''"],
    [
      'signed metadata without a key',
      { runtimeEnv: { XSPOT_REPO_GPGKEY: 'none', XSPOT_REPO_GPGCHECK_METADATA: '1' } },
      "XSPOT_REPO_GPGCHECK_METADATA='1' is not allowed: must be signed metadata needs a key",
    ],
    ['an unknown docker disk', { runtimeEnv: { XSPOT_DOCKER_DISK: 'tmpfs' } }, "XSPOT_DOCKER_DISK='tmpfs'"],
    ['an unknown storage type', { deployEnv: { XSPOT_STORAGE_TYPE: 's3' } }, "XSPOT_STORAGE_TYPE='s3'"],
    [
      'an EFS source that is not an id',
      { deployEnv: { XSPOT_STORAGE_SOURCE: 'nfs.example.com:/x' } },
      'XSPOT_STORAGE_SOURCE',
    ],
    ['a bucket with capitals', { deployEnv: { XSPOT_LOG_BUCKET: 'Logs' } }, "XSPOT_LOG_BUCKET='Logs'"],
    ['a prefix with a trailing slash', { deployEnv: { XSPOT_LOG_PREFIX: 'xspot/' } }, "XSPOT_LOG_PREFIX='xspot/'"],
  ])('rejects %s, naming the value', (_what, opts, message) => {
    const s = sandbox(opts);
    const r = s.run('scripts/check-config.sh');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(message);
  });

  test.each([
    ['is not armored', 'not a key\n'],
    ['is a private key', KEY.replace(/PUBLIC/g, 'PRIVATE')],
    ['carries shell syntax in an armor header', KEY.replace('\n\n', "\nComment: $(id)'\n\n")],
    ['has CRLF line ends', KEY.replace(/\n/g, '\r\n')],
  ])('rejects a key file (XSPOT_REPO_GPGKEY=file) that %s', (_what, text) => {
    const s = sandbox();
    fs.writeFileSync(path.join(s.release, 'conf', 'repo-gpg-key.asc'), text);
    const r = s.run('scripts/check-config.sh');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("repo-gpg-key.asc='");
    expect(r.output).toContain('must be an ASCII-armored PGP public key block');
  });

  test('rejects XSPOT_REPO_GPGKEY=file without the key file', () => {
    const s = sandbox();
    fs.rmSync(path.join(s.release, 'conf', 'repo-gpg-key.asc'));
    const r = s.run('scripts/check-config.sh');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("XSPOT_REPO_GPGKEY='file' is not allowed: must be the armored key in");
  });

  test('strips trailing slashes from directories, as env.cfg says', () => {
    const s = sandbox({ envCfg: { REMOTE_DIR: '/efs/deploy//', SCRIPT_DEPLOY_DIR: '/efs/deploy/scripts/' } });
    const r = s.run('scripts/check-config.sh');
    expect(r.status).toBe(0);
    expect(r.output).toContain('REMOTE_DIR=/efs/deploy,');
  });

  test('every step checks the config before it acts', () => {
    const s = sandbox({ runtimeEnv: { MAX_CONTAINERS: 'x' } });
    expect(s.run('scripts/controller.sh').status).not.toBe(0);
    expect(matching(s.calls(), 'yum')).toEqual([]);
  });
});

describe('mount-remote', () => {
  test.each<[string, Record<string, string>, string, string]>([
    [
      'nfs',
      { XSPOT_STORAGE_SOURCE: 'nfs.example.com:/export/apps', XSPOT_STORAGE_MOUNT_OPTIONS: '' },
      'nfs-utils',
      'mount -t nfs -o nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev nfs.example.com:/export/apps',
    ],
    [
      'ontap',
      { XSPOT_STORAGE_SOURCE: 'svm.example.com:/vol1', XSPOT_STORAGE_MOUNT_OPTIONS: 'nfsvers=3,_netdev' },
      'nfs-utils',
      'mount -t nfs -o nfsvers=3,_netdev svm.example.com:/vol1',
    ],
    [
      'lustre',
      { XSPOT_STORAGE_SOURCE: 'fs-0abc.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh', XSPOT_STORAGE_MOUNT_OPTIONS: '' },
      'lustre-client',
      'mount -t lustre -o relatime,flock,_netdev fs-0abc.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh',
    ],
    [
      'efs',
      { XSPOT_STORAGE_MOUNT_OPTIONS: '_netdev,accesspoint=fsap-0123456789abcdef0' },
      'amazon-efs-utils',
      'mount -t efs -o tls,iam,_netdev,accesspoint=fsap-0123456789abcdef0 fs-0123456789abcdef0:/',
    ],
  ])('%s: installs the client, mounts with the right options, keeps fstab', (type, env, pkg, mount) => {
    const s = sandbox({ deployEnv: { XSPOT_STORAGE_TYPE: type, ...env } });
    const r = s.run('scripts/mount-remote.sh');
    expect(r.status).toBe(0);
    expect(inOrder(s.calls(), [`yum -y --setopt=skip_missing_names_on_install=False install ${pkg}`, mount])).toEqual([
      `yum -y --setopt=skip_missing_names_on_install=False install ${pkg}`,
      mount,
    ]);
    const [, , fstype, , opts, src] = mount.split(' ');
    expect(s.read('/etc/fstab')).toContain(`${src} /efs ${fstype} ${opts} 0 0\n`);
    expect(fs.statSync(s.path('/efs/deploy/images')).isDirectory()).toBe(true);
    expect(fs.statSync(s.path('/efs/deploy/scripts')).isDirectory()).toBe(true);
  });

  test('EFS: tls and iam are added to operator options once, in front', () => {
    const s = sandbox({
      deployEnv: { XSPOT_STORAGE_TYPE: 'efs', XSPOT_STORAGE_MOUNT_OPTIONS: '_netdev,iam,noresvport,tls' },
    });
    expect(s.run('scripts/mount-remote.sh').status).toBe(0);
    expect(inOrder(s.calls(), ['mount -t efs -o tls,iam,_netdev,noresvport fs-0123456789abcdef0:/'])).toEqual([
      'mount -t efs -o tls,iam,_netdev,noresvport fs-0123456789abcdef0:/',
    ]);
  });

  test('changed mount options replace the fstab entry instead of adding one', () => {
    const s = sandbox();
    expect(s.run('scripts/mount-remote.sh').status).toBe(0);
    s.write(
      '/etc/xspot-cdk/deploy.env',
      `${s.read('/etc/xspot-cdk/deploy.env')}XSPOT_STORAGE_MOUNT_OPTIONS='tls,_netdev,noresvport'\n`,
    );
    s.clearCalls();
    expect(s.run('scripts/mount-remote.sh').status).toBe(0);
    const efsLines = s
      .read('/etc/fstab')
      .split('\n')
      .filter((l) => l.includes(' /efs '));
    // iam is always added: the file-system policy refuses anonymous (non-IAM) NFS clients.
    expect(efsLines).toEqual(['fs-0123456789abcdef0:/ /efs efs tls,iam,_netdev,noresvport 0 0']);
    expect(matching(s.calls(), 'mount -t')).toEqual([]); // already mounted
  });

  test('the env.cfg toggles prepare autofs, sssd, ldaps, lustre and ONTAP', () => {
    const s = sandbox({
      envCfg: {
        AUTOFS_NEEDED: '1',
        SSSD_NEEDED: '1',
        LDAPS_NEEDED: '1',
        LUSTRE_NEEDED: '1',
        ONTAP_NEEDED: '1',
        ONTAP_FOLDERS: '( "/ontap/1" "/ontap/2" )',
      },
    });
    s.write('/ontap/1/.keep', '');
    const r = s.run('scripts/mount-remote.sh');
    expect(r.status).toBe(0);
    const installs = matching(s.calls(), 'yum -y --setopt').map((c) => c.split(' install ')[1]);
    expect(installs).toEqual([
      'amazon-efs-utils',
      'lustre-client',
      'autofs',
      'sssd',
      'openldap-clients ca-certificates',
      'nfs-utils',
    ]);
    expect(matching(s.calls(), 'systemctl enable', 'systemctl start')).toEqual([
      'systemctl enable autofs.service',
      'systemctl start autofs.service',
    ]);
    expect(r.output).toContain('SSSD_NEEDED=1 but /etc/sssd/sssd.conf is missing');
    expect(r.output).toContain('LDAPS_NEEDED=1 but /etc/openldap/ldap.conf has no ldaps:// URI');
    expect(r.output).toContain('ONTAP folder /ontap/1 is present');
    expect(r.output).toContain('ONTAP folder /ontap/2 is not present');
  });

  test('starts sssd when the site provides its configuration', () => {
    const s = sandbox({ envCfg: { SSSD_NEEDED: '1' } });
    s.write('/etc/sssd/sssd.conf', '[sssd]\n', 0o600);
    expect(s.run('scripts/mount-remote.sh').status).toBe(0);
    expect(matching(s.calls(), 'systemctl start')).toEqual(['systemctl start sssd.service']);
  });
});

describe('docker-storage', () => {
  test('disk over-commit is a warning with its ratio, not a refusal (the guide: disk is expected usage)', () => {
    const s = sandbox({ runtimeEnv: { MAX_CONTAINERS: '4' } });
    const r = s.run('scripts/docker-storage.sh');
    expect(r.status).toBe(0);
    expect(r.output).toContain(
      "WARNING: disk over-commit 1.33x: MAX_CONTAINERS=4 x CONTAINER_FS_SIZE=50G = 200000000000 bytes on Docker's disk of 150000000000 bytes (/dev/nvme1n1)",
    );
    expect(r.output).toContain(
      "their writes fail with 'no space left on device' (at most 3 containers can fill 50G at once)",
    );
    expect(matching(s.calls(), 'mount -t xfs')).toHaveLength(1);
  });

  test('no warning when the containers fit the disk', () => {
    const s = sandbox({ runtimeEnv: { MAX_CONTAINERS: '3' } });
    const r = s.run('scripts/docker-storage.sh');
    expect(r.status).toBe(0);
    expect(r.output).not.toContain('over-commit');
    expect(r.output).toContain('capacity: 3 x 50G = 150000000000 of 150000000000 bytes');
  });

  describe('CONTAINER_FS_SIZE is the per-container storage limit', () => {
    const daemonJson = (size: string) =>
      `{\n  "storage-driver": "overlay2",\n  "storage-opts": ["overlay2.size=${size}"]\n}\n`;

    test('daemon.json sets overlay2 with overlay2.size on the pquota-mounted XFS', () => {
      const s = sandbox();
      expect(s.run('scripts/docker-storage.sh').status).toBe(0);
      const cfg = JSON.parse(s.read('/etc/docker/daemon.json'));
      expect(cfg).toEqual({ 'storage-driver': 'overlay2', 'storage-opts': ['overlay2.size=50G'] });
      // project quotas are what make overlay2.size work: the mount that carries them
      expect(matching(s.calls(), 'mount -t xfs')[0]).toContain('-o noatime,pquota ');
      s.clearCalls();
      const before = s.snapshot();
      expect(s.run('scripts/docker-storage.sh').status).toBe(0);
      expect(s.snapshot()).toEqual(before);
      expect(matching(s.calls(), 'systemctl restart')).toEqual([]);
    });

    test('a changed CONTAINER_FS_SIZE rewrites it and restarts a running docker', () => {
      const s = sandbox();
      expect(s.run('scripts/docker-storage.sh').status).toBe(0);
      const env = s.path(`/opt/xspot-cdk/releases/${s.version}/conf/env.cfg`);
      fs.writeFileSync(env, fs.readFileSync(env, 'utf8').replace(/^CONTAINER_FS_SIZE=.*$/m, 'CONTAINER_FS_SIZE=30G'));
      s.setState('active/docker', '');
      s.clearCalls();
      expect(s.run('scripts/docker-storage.sh').status).toBe(0);
      expect(s.read('/etc/docker/daemon.json')).toBe(daemonJson('30G'));
      expect(matching(s.calls(), 'systemctl restart docker.service')).toHaveLength(1);
    });

    test("a site's own daemon.json is never overwritten: kept when it has the limit, refused otherwise", () => {
      const s = sandbox();
      const site =
        '{ "log-driver": "journald", "storage-driver": "overlay2", "storage-opts": [ "overlay2.size=50G" ] }\n';
      s.write('/etc/docker/daemon.json', site);
      expect(s.run('scripts/docker-storage.sh').status).toBe(0);
      expect(s.read('/etc/docker/daemon.json')).toBe(site);

      const other = '{ "log-driver": "journald" }\n';
      s.write('/etc/docker/daemon.json', other);
      const r = s.run('scripts/docker-storage.sh');
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(
        '/etc/docker/daemon.json was written by the site, not by xspot-cdk: add "storage-driver": "overlay2" and "storage-opts": ["overlay2.size=50G"]',
      );
      expect(s.read('/etc/docker/daemon.json')).toBe(other);
    });
  });

  test('refuses without an instance-store NVMe device', () => {
    const s = sandbox({ nvmeSizes: [] });
    const r = s.run('scripts/docker-storage.sh');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('no instance-store NVMe device (model "Amazon EC2 NVMe Instance Storage") found');
  });

  test('keeps an existing XFS file system (instance store after a reboot)', () => {
    const s = sandbox();
    s.setState('blkid/_dev_nvme1n1.TYPE', 'xfs\n');
    s.setState('blkid/_dev_nvme1n1.UUID', 'kept-uuid\n');
    const r = s.run('scripts/docker-storage.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'mkfs')).toEqual([]);
    expect(matching(s.calls(), 'mount -t xfs')).toHaveLength(1);
    expect(s.read('/etc/fstab')).toContain('UUID=kept-uuid /var/lib/docker xfs defaults,nofail,noatime,pquota 0 2\n');
  });

  test('refuses to reformat a disk with another file system', () => {
    const s = sandbox();
    s.setState('blkid/_dev_nvme1n1.TYPE', 'ext4\n');
    const r = s.run('scripts/docker-storage.sh');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('/dev/nvme1n1 has a ext4 file system: refusing to reformat it');
    expect(matching(s.calls(), 'mkfs', 'mount -t')).toEqual([]);
  });

  test('stripes several instance-store devices into one LVM volume, once', () => {
    const s = sandbox({ nvmeSizes: [300_000_000_000, 300_000_000_000], runtimeEnv: { MAX_CONTAINERS: '12' } });
    expect(s.run('scripts/docker-storage.sh').status).toBe(0);
    const expected = [
      'pvcreate -y /dev/nvme1n1 /dev/nvme2n1',
      'vgcreate xspot-docker /dev/nvme1n1 /dev/nvme2n1',
      'lvcreate -y -l 100%FREE -i 2 -n docker xspot-docker',
      'mkfs.xfs -n ftype=1 -L xspot-docker /dev/xspot-docker/docker',
      `mount -t xfs -o noatime,pquota /dev/xspot-docker/docker ${s.path('/var/lib/docker')}`,
    ];
    expect(inOrder(s.calls(), expected)).toEqual(expected);
    s.clearCalls();
    expect(s.run('scripts/docker-storage.sh').status).toBe(0);
    expect(matching(s.calls(), 'pvcreate', 'vgcreate', 'lvcreate', 'mkfs', 'mount -t')).toEqual([]);
  });

  test('stops a running docker before mounting over its storage', () => {
    const s = sandbox();
    s.setState('active/docker', '');
    expect(s.run('scripts/docker-storage.sh').status).toBe(0);
    expect(inOrder(s.calls(), ['systemctl stop docker.service', 'mount -t xfs'])).toHaveLength(2);
  });
});

describe('controller', () => {
  test('writes the repository and installs exactly the configured versions', () => {
    const s = sandbox();
    expect(s.run('scripts/controller.sh').status).toBe(0);
    const repo = s.read('/etc/yum.repos.d/xspot-cdk.repo');
    expect(repo).toContain('[xspot-cdk]\n');
    expect(repo).toContain('baseurl=https://packages.example.com/xspot/el7/\n');
    // the fixture's key is the armored key in the release: installed root-owned, imported, checked
    expect(repo).toContain('gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-xspot-cdk\nrepo_gpgcheck=0\n');
    expect(s.read('/etc/pki/rpm-gpg/RPM-GPG-KEY-xspot-cdk')).toBe(KEY);
    expect(fs.statSync(s.path('/etc/pki/rpm-gpg/RPM-GPG-KEY-xspot-cdk')).mode & 0o777).toBe(0o644);
    const order = ['rpm --import /etc/pki/rpm-gpg/RPM-GPG-KEY-xspot-cdk', 'yum -y --setopt'];
    expect(
      inOrder(
        s.calls().map((c) => c.replace(s.root, '')),
        order,
      ),
    ).toEqual(order);
    expect(matching(s.calls(), 'rpm -q xspot', 'rpm -q XSpot', 'rpm -q xcontainer')).toEqual([
      `rpm -q ${XSPOT}`,
      'rpm -q XSpotCLIWrapper-v2.0.0-0192f37.el7',
      'rpm -q xcontainer-4.12.0-v23.08.07+abaaf51.el7',
      'rpm -q xspot-guest-kernel-4.19.49-v23.08.07-abaaf5112.el7',
    ]);
    // the worker's dom0 kernel is not a controller package
    expect(s.calls().join('\n')).not.toContain('kernel-4.19.49_xcontainer');
  });

  test("the guide's manual path: make controller leaves /etc/xspot and the post-docker unit ready", () => {
    const s = sandbox();
    const r = s.make('controller');
    expect(r.status).toBe(0);
    expect(s.read('/etc/xspot/config/config.toml')).toBe(
      s.read(`/opt/xspot-cdk/releases/${s.version}/conf/config.toml`),
    );
    expect(s.exists('/etc/xspot/scripts/startup.sh')).toBe(true);
    expect(s.read('/etc/systemd/system/post-docker.service')).toContain('post-docker.sh');
    expect(matching(s.calls(), 'systemctl enable post-docker', 'systemctl start post-docker')).toEqual([
      'systemctl enable post-docker.service',
    ]);
    expect(r.output).toContain('next: systemctl start post-docker');
  });

  test('checks signatures against a key URL, and signed metadata when configured', () => {
    const s = sandbox({
      runtimeEnv: {
        XSPOT_REPO_GPGKEY: 'https://packages.example.com/xspot/RPM-GPG-KEY',
        XSPOT_REPO_GPGCHECK_METADATA: '1',
      },
    });
    expect(s.run('scripts/controller.sh').status).toBe(0);
    expect(s.read('/etc/yum.repos.d/xspot-cdk.repo')).toContain(
      'gpgcheck=1\ngpgkey=https://packages.example.com/xspot/RPM-GPG-KEY\nrepo_gpgcheck=1\n',
    );
    expect(s.exists('/etc/pki/rpm-gpg/RPM-GPG-KEY-xspot-cdk')).toBe(false);
  });

  test('installs unchecked only with XSPOT_REPO_GPGKEY=none (unsigned-packages acknowledged), and says so', () => {
    const s = sandbox({ runtimeEnv: { XSPOT_REPO_GPGKEY: 'none' } });
    const r = s.run('scripts/controller.sh');
    expect(r.status).toBe(0);
    expect(s.read('/etc/yum.repos.d/xspot-cdk.repo')).toContain('gpgcheck=0\nrepo_gpgcheck=0\n');
    expect(r.output).toContain('WARNING: the X-Spot repository has no signing key (unsigned-packages acknowledged)');
  });

  test('downgrades to the configured version when install cannot reach it', () => {
    const s = sandbox();
    const r = s.run('scripts/controller.sh', [], { STUB_YUM_SKIP: XSPOT });
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'yum -y downgrade')).toEqual([`yum -y downgrade ${XSPOT}`]);
  });

  test('fails, naming the package, when the version is not available', () => {
    const s = sandbox();
    const r = s.run('scripts/controller.sh', [], { STUB_FAIL: 'yum -y downgrade', STUB_YUM_SKIP: XSPOT });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`not installed at the configured version: ${XSPOT}`);
  });
});

describe('images: image-folder, base, build-image, deploy, post-docker', () => {
  const readLink = (s: Sandbox, p: string) => fs.readlinkSync(s.path(p));

  test('the guide flow: new folder, snapshot, build, deploy promotes it, post-docker loads it', () => {
    const s = sandbox();
    expect(s.make('image-folder').status).toBe(0);
    const staged = readLink(s, '/efs/deploy/images/staging');
    expect(staged).toMatch(/^\d{8}-\d{6}$/);

    expect(s.make('base').status).toBe(0);
    const tar = matching(s.calls(), 'tar ')[0];
    expect(tar).toContain(`--file ${s.path(`/efs/deploy/images/${staged}/base.tar.gz`)}.tmp.`);
    expect(tar).toContain(`--directory ${s.root}/ `);
    for (const ex of ['./proc', './sys', './dev', './run', './tmp', './var/lib/docker', './efs/deploy', './efs']) {
      expect(tar.split(' ')).toContain(`--exclude=${ex}`);
    }
    expect(tar.endsWith(' .')).toBe(true);
    expect(s.exists(`/efs/deploy/images/${staged}/base.tar.gz`)).toBe(true);

    expect(s.make('build-image').status).toBe(0);
    const build = [
      `docker import ${s.path(`/efs/deploy/images/${staged}/base.tar.gz`)} xspot-base:${staged}`,
      `docker build --build-arg BASE_IMAGE=xspot-base:${staged} -t docker-base ${s.release}/conf/images/docker-base/docker_build_path`,
      `docker save -o ${s.path(`/efs/deploy/images/${staged}/docker-base.tar`)}.tmp.`,
    ];
    expect(inOrder(s.calls(), build)).toEqual(build);
    expect(s.read(`/efs/deploy/images/${staged}/docker-base.tar.id`)).toBe('sha256:build1-docker-base\n');

    expect(s.make('deploy').status).toBe(0);
    expect(readLink(s, '/efs/deploy/images/current')).toBe(staged);
    expect(s.exists('/efs/deploy/images/staging')).toBe(false);

    s.setState('images/docker-base', 'sha256:something-older\n');
    const r = s.run('scripts/post-docker.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'docker load')).toEqual([
      `docker load -i ${s.path(`/efs/deploy/images/${staged}/docker-base.tar`)}`,
    ]);
    expect(r.stdout).toMatch(
      /post-docker\.sh: Building of container docker-base: SUCCESS!\npost-docker\.sh: Finished\.\n/,
    );
  });

  test('deploy keeps the old images current while staging is incomplete', () => {
    const s = sandbox();
    s.write('/efs/deploy/images/20250101-000000/docker-base.tar', 'docker-archive docker-base sha256:a\n');
    s.write('/efs/deploy/images/20250101-000000/docker-base.tar.id', 'sha256:a\n');
    fs.symlinkSync('20250101-000000', s.path('/efs/deploy/images/current'));
    expect(s.make('image-folder').status).toBe(0);
    const r = s.make('deploy');
    expect(r.status).toBe(0);
    expect(r.output).toContain('does not hold every image of IMAGE_NAME_LIST yet');
    expect(readLink(s, '/efs/deploy/images/current')).toBe('20250101-000000');
  });

  test('image-folder reuses an empty staging folder', () => {
    const s = sandbox();
    expect(s.make('image-folder').status).toBe(0);
    const first = readLink(s, '/efs/deploy/images/staging');
    expect(s.make('image-folder').status).toBe(0);
    expect(readLink(s, '/efs/deploy/images/staging')).toBe(first);
  });

  test('base keeps its snapshot, new-base replaces it; build-image skips, rebuild-image rebuilds', () => {
    const s = sandbox();
    expect(s.make('build-image').status).toBe(0); // takes the base snapshot first
    expect(matching(s.calls(), 'tar ')).toHaveLength(1);
    expect(matching(s.calls(), 'docker build')).toHaveLength(1);
    s.clearCalls();
    expect(s.make('base').status).toBe(0);
    expect(s.make('build-image').status).toBe(0);
    expect(matching(s.calls(), 'tar ', 'docker build', 'docker save')).toEqual([]);
    expect(s.make('new-base').status).toBe(0);
    expect(matching(s.calls(), 'tar ')).toHaveLength(1);
    expect(s.make('rebuild-image').status).toBe(0);
    expect(matching(s.calls(), 'docker build')).toHaveLength(1);
    const current = readLink(s, '/efs/deploy/images/current');
    expect(s.read(`/efs/deploy/images/${current}/docker-base.tar.id`)).toBe('sha256:build2-docker-base\n');
  });

  test('build-image refuses a name that is not in IMAGE_NAME_LIST', () => {
    const s = sandbox();
    const r = s.run('scripts/build-image.sh', ['other']);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('other is not in IMAGE_NAME_LIST (docker-base)');
  });

  test('post-docker builds missing images once, for several images, under a lock', () => {
    const s = sandbox({ envCfg: { IMAGE_NAME_LIST: '( "docker-base" "tools:1.2" )' } });
    s.write(`/opt/xspot-cdk/releases/${s.version}/conf/images/tools/docker_build_path/Dockerfile`, 'FROM x\n');
    const r = s.run('scripts/post-docker.sh');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('post-docker.sh:'))).toEqual([
      'post-docker.sh: Building of container docker-base: SUCCESS!',
      'post-docker.sh: Building of container tools:1.2: SUCCESS!',
      'post-docker.sh: Finished.',
    ]);
    const built = loaded(s);
    expect(s.exists(`/efs/deploy/images/${built}/tools_1.2.tar`)).toBe(true);
    // built and loaded, but not current until this controller validated them
    expect(s.exists('/efs/deploy/images/current')).toBe(false);
    s.clearCalls();
    const again = s.run('scripts/post-docker.sh');
    expect(again.status).toBe(0);
    expect(matching(s.calls(), 'docker load', 'docker build', 'tar ')).toEqual([]);
    expect(again.stdout).toContain('post-docker.sh: Finished.');
    expect(s.make('promote-images').status).toBe(0);
    expect(readLink(s, '/efs/deploy/images/current')).toBe(built);
    const twice = s.make('promote-images');
    expect(twice.status).toBe(0);
    expect(twice.output).toContain(`images: ${built} is current`);
  });

  /** The images folder post-docker loaded on this controller. */
  const loaded = (s: Sandbox) => s.read('/var/lib/xspot-cdk/images-folder').trim();
  /** Sets a value of the release's env.cfg (another X-Spot release, as an upgrade brings). */
  const setEnvCfg = (s: Sandbox, key: string, value: string) => {
    const f = path.join(s.release, 'conf', 'env.cfg');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(new RegExp(`^${key}=.*$`, 'm'), `${key}=${value}`));
  };
  /** A controller of the first release: images built by the guide's flow, loaded and promoted. */
  const firstRelease = () => {
    const s = sandbox({ runtimeEnv: { XSPOT_BUILD_MISSING_IMAGES: '0' } });
    for (const t of ['image-folder', 'base', 'build-image', 'deploy']) expect(s.make(t).status).toBe(0);
    expect(s.run('scripts/post-docker.sh').status).toBe(0);
    expect(s.make('promote-images').status).toBe(0);
    const old = readLink(s, '/efs/deploy/images/current');
    s.clearCalls();
    return { s, old };
  };

  test.each([
    ['a new X-Spot release', (s: Sandbox) => setEnvCfg(s, 'XSPOT_RPM_VERSION', 'xspot-1.4.0.0_0a0b0c0d.el7')],
    [
      'a changed Dockerfile',
      (s: Sandbox) =>
        fs.appendFileSync(path.join(s.release, 'conf/images/docker-base/docker_build_path/Dockerfile'), 'RUN true\n'),
    ],
  ])('%s: the canary builds new images, loads them, and promotes them only after xspot check', (_, change) => {
    const { s, old } = firstRelease();
    change(s);
    const r = s.run('scripts/post-docker.sh');
    expect(r.status).toBe(0); // built even with XSPOT_BUILD_MISSING_IMAGES=0: this is an upgrade
    expect(r.output).toContain('were built for another release or Dockerfile');
    const fresh = loaded(s);
    expect(fresh).not.toBe(old);
    expect(matching(s.calls(), 'docker build')).toHaveLength(1);
    expect(matching(s.calls(), 'docker save')[0]).toContain(s.path(`/efs/deploy/images/${fresh}/docker-base.tar`));
    // built here, so already in the local Docker with the archive's id: nothing to load
    expect(matching(s.calls(), 'docker load')).toEqual([]);
    expect(s.read(`/efs/deploy/images/${fresh}/docker-base.tar.id`)).toBe('sha256:build2-docker-base\n');
    // the old release's controllers keep loading the old folder until the canary validated
    expect(readLink(s, '/efs/deploy/images/current')).toBe(old);
    expect(s.make('promote-images').status).toBe(0);
    expect(readLink(s, '/efs/deploy/images/current')).toBe(fresh);
  });

  test('a rollback loads the previous release images again, without building', () => {
    const { s, old } = firstRelease();
    const envCfg = path.join(s.release, 'conf', 'env.cfg');
    const before = fs.readFileSync(envCfg, 'utf8');
    setEnvCfg(s, 'XSPOT_RPM_VERSION', 'xspot-1.4.0.0_0a0b0c0d.el7');
    expect(s.run('scripts/post-docker.sh').status).toBe(0);
    expect(s.make('promote-images').status).toBe(0);
    const fresh = readLink(s, '/efs/deploy/images/current');
    fs.writeFileSync(envCfg, before); // the previous release comes back
    s.setState('images/docker-base', 'sha256:something-else\n');
    s.clearCalls();
    expect(s.run('scripts/post-docker.sh').status).toBe(0);
    expect(loaded(s)).toBe(old);
    expect(matching(s.calls(), 'docker build', 'tar ')).toEqual([]);
    expect(matching(s.calls(), 'docker load')).toEqual([
      `docker load -i ${s.path(`/efs/deploy/images/${old}/docker-base.tar`)}`,
    ]);
    expect(readLink(s, '/efs/deploy/images/current')).toBe(fresh);
    expect(s.make('promote-images').status).toBe(0);
    expect(readLink(s, '/efs/deploy/images/current')).toBe(old);
  });

  test('images of another release are never mixed: build-image refuses, rebuild-image rebuilds all, deploy keeps staging', () => {
    const { s, old } = firstRelease();
    setEnvCfg(s, 'XSPOT_RPM_VERSION', 'xspot-1.4.0.0_0a0b0c0d.el7');
    const r = s.make('build-image');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('holds images built for another release or Dockerfile');
    expect(r.output).toContain('make image-folder');
    expect(s.make('rebuild-image').status).toBe(0);
    expect(matching(s.calls(), 'docker build')).toHaveLength(1);
    expect(s.read(`/efs/deploy/images/${old}/.image-key`)).not.toBe('');

    const t = firstRelease().s;
    expect(t.make('image-folder').status).toBe(0);
    const staged = readLink(t, '/efs/deploy/images/staging');
    setEnvCfg(t, 'XSPOT_RPM_VERSION', 'xspot-1.4.0.0_0a0b0c0d.el7'); // staging keyed by the old release
    // a real new release is a new runtime version: it publishes beside the old one
    fs.rmSync(t.path('/efs/deploy/scripts'), { recursive: true });
    for (const f of ['docker-base.tar', 'docker-base.tar.id'])
      t.write(`/efs/deploy/images/${staged}/${f}`, 'sha256:x\n');
    const d = t.make('deploy');
    expect(d.status).toBe(0);
    expect(d.output).toContain('was made for another release or Dockerfile than this one');
    expect(t.exists('/efs/deploy/images/staging')).toBe(true);
  });

  test.each([
    ['an archive other users can write', (f: string) => fs.chmodSync(f, 0o666), 'docker-base.tar', 'mode 666'],
    [
      'an id file owned by another user',
      (f: string) => fs.chownSync(f, 65534, 65534),
      'docker-base.tar.id',
      'uid 65534',
    ],
    ['a folder other users can write', (f: string) => fs.chmodSync(f, 0o777), '', 'mode 777'],
  ])('post-docker refuses %s on the shared file system, naming it', (_, tamper, file, said) => {
    const { s, old } = firstRelease();
    const target = `/efs/deploy/images/${old}${file ? `/${file}` : ''}`;
    tamper(s.path(target));
    s.setState('images/docker-base', 'sha256:something-else\n');
    const r = s.run('scripts/post-docker.sh');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`${target} is owned by uid`);
    expect(r.output).toContain(said);
    expect(matching(s.calls(), 'docker load')).toEqual([]);
    expect(r.stdout).not.toContain('Finished.');
  });

  test('promote-images refuses before post-docker loaded anything', () => {
    const s = sandbox();
    const r = s.make('promote-images');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('no images loaded on this controller');
  });

  test('post-docker fails clearly when images are missing and building is off', () => {
    const s = sandbox({ runtimeEnv: { XSPOT_BUILD_MISSING_IMAGES: '0' } });
    const r = s.run('scripts/post-docker.sh');
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('post-docker.sh: Building of container docker-base: FAILED!');
    expect(r.output).toContain("run 'make base build-image deploy' on one controller");
    expect(r.stdout).not.toContain('Finished.');
  });
});

describe('deploy', () => {
  test('publishes each version once and switches latest atomically to the newest', () => {
    const s = sandbox();
    expect(s.make('deploy').status).toBe(0);
    expect(fs.readlinkSync(s.path('/efs/deploy/scripts/latest'))).toBe(s.version);
    expect(s.read(`/efs/deploy/scripts/${s.version}/.xspot-cdk-release`)).toBe(`${s.version}\n`);
    expect(s.read(`/efs/deploy/scripts/${s.version}/tools/sched-wrapper/README`)).toContain('Scheduler wrapper');
    expect(s.exists(`/efs/deploy/scripts/${s.version}/conf/env.cfg`)).toBe(true);

    // a second controller with a new release
    const v2 = 'fedcba987654-0123456789ab';
    fs.cpSync(s.release, s.path(`/opt/xspot-cdk/releases/${v2}`), { recursive: true });
    s.write('/etc/xspot-cdk/deploy.env', `${s.read('/etc/xspot-cdk/deploy.env')}XSPOT_RUNTIME_VERSION='${v2}'\n`);
    const r = s.exec2(`/opt/xspot-cdk/releases/${v2}/scripts/deploy.sh`);
    expect(r.status).toBe(0);
    expect(fs.readlinkSync(s.path('/efs/deploy/scripts/latest'))).toBe(v2);
    expect(s.exists(`/efs/deploy/scripts/${s.version}/Makefile`)).toBe(true);
    const leftovers = fs.readdirSync(s.path('/efs/deploy/scripts')).filter((f) => f.includes('.tmp.'));
    expect(leftovers).toEqual([]);
  });

  test('leaves a release another controller already published', () => {
    const s = sandbox();
    s.write(`/efs/deploy/scripts/${s.version}/.xspot-cdk-release`, `${s.version}\n`);
    const r = s.make('deploy');
    expect(r.status).toBe(0);
    expect(r.output).toContain('is already published');
    expect(s.exists(`/efs/deploy/scripts/${s.version}/Makefile`)).toBe(false);
  });
});

describe('sync-config-preview / sync-config', () => {
  test('preview shows the /etc/xspot changes without touching conf/; sync copies them back', () => {
    const s = sandbox();
    expect(s.run('scripts/install-config.sh').status).toBe(0);
    s.write('/etc/xspot/scripts/startup.sh', '#!/usr/bin/env bash\n# tuned during validation\nmount -a\n', 0o755);
    const conf = `/opt/xspot-cdk/releases/${s.version}/conf/scripts/startup.sh`;
    const original = s.read(conf);

    const p = s.make('sync-config-preview');
    expect(p.status).toBe(0);
    expect(p.stdout).toContain('--- conf/scripts/startup.sh');
    expect(p.stdout).toContain('+++ /etc/xspot/scripts/startup.sh');
    expect(p.stdout).toContain('+mount -a');
    expect(s.read(conf)).toBe(original);
    expect(s.read('/var/log/xspot-cdk/sync-config.diff')).toContain('+mount -a');

    const r = s.make('sync-config');
    expect(r.status).toBe(0);
    expect(s.read(conf)).toContain('mount -a');
    expect(s.make('sync-config-preview').stdout).toContain('/etc/xspot matches conf/');
  });

  test('make deploy after make sync-config refuses instead of publishing nothing', () => {
    const s = sandbox();
    expect(s.run('scripts/install-config.sh').status).toBe(0);
    expect(s.make('deploy').status).toBe(0);
    s.write('/etc/xspot/config/dockerWrapper.toml', 'log_level = "debug"\n');
    expect(s.make('sync-config').status).toBe(0);
    const r = s.make('deploy');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`differs from the published /efs/deploy/scripts/${s.version}/conf`);
    expect(r.output).toContain('Port the changes');
    expect(s.read('/var/log/xspot-cdk/deploy.conf.diff')).toContain('dockerWrapper.toml');
    // the way back the message names
    fs.cpSync(s.path(`/efs/deploy/scripts/${s.version}/conf`), path.join(s.release, 'conf'), { recursive: true });
    expect(s.make('deploy').status).toBe(0);
  });

  test('refuses to change a published release', () => {
    const s = sandbox();
    expect(s.run('scripts/install-config.sh').status).toBe(0);
    expect(s.make('deploy').status).toBe(0);
    s.write('/etc/xspot/config/dockerWrapper.toml', 'log_level = "debug"\n');
    const r = s.exec2('/efs/deploy/scripts/latest/scripts/sync-config.sh');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('is immutable');
  });
});

describe('install-config', () => {
  test('reloads exorun only when something changed; restarts X-Spot for config.toml', () => {
    const s = sandbox();
    expect(s.run('scripts/install-config.sh').status).toBe(0);
    expect(matching(s.calls(), 'exorun', 'xspot restart')).toEqual(['xspot restart', 'exorun config']);
    s.clearCalls();
    expect(s.run('scripts/install-config.sh').status).toBe(0);
    expect(matching(s.calls(), 'exorun', 'xspot')).toEqual([]);
    // dockerWrapper.toml changed on the host: reinstalled, exorun reloaded, X-Spot not restarted
    s.write('/etc/xspot/config/dockerWrapper.toml', 'edited\n');
    s.clearCalls();
    expect(s.run('scripts/install-config.sh').status).toBe(0);
    expect(matching(s.calls(), 'exorun', 'xspot restart')).toEqual(['exorun config']);
    expect(fs.statSync(s.path('/etc/xspot/scripts/startup.sh')).mode & 0o777).toBe(0o755);
  });

  test("a hook the config does not name stays the X-Spot packages' own; a site hook sets it aside and gives it back", () => {
    const s = sandbox();
    const vendor = '#!/bin/bash\n# the X-Spot packages: users, groups, hostname in the container\n';
    s.write('/etc/xspot/scripts/startup.sh', vendor, 0o755);
    const site = path.join(s.release, 'conf/scripts/startup.sh');
    const siteText = fs.readFileSync(site, 'utf8');
    fs.rmSync(site); // the config names no startup.sh
    expect(s.run('scripts/install-config.sh').status).toBe(0);
    expect(s.read('/etc/xspot/scripts/startup.sh')).toBe(vendor);
    expect(s.exists('/etc/xspot/scripts/.vendor/startup.sh')).toBe(false);

    fs.writeFileSync(site, siteText, { mode: 0o755 }); // the site names its own
    let r = s.run('scripts/install-config.sh');
    expect(r.status).toBe(0);
    expect(s.read('/etc/xspot/scripts/startup.sh')).toBe(siteText);
    expect(s.read('/etc/xspot/scripts/.vendor/startup.sh')).toBe(vendor);
    expect(fs.statSync(s.path('/etc/xspot/scripts/.vendor')).mode & 0o777).toBe(0o700);
    expect(s.run('scripts/install-config.sh').status).toBe(0); // a second run keeps the vendor copy
    expect(s.read('/etc/xspot/scripts/.vendor/startup.sh')).toBe(vendor);

    fs.rmSync(site); // and stops naming it
    s.clearCalls();
    r = s.run('scripts/install-config.sh');
    expect(r.status).toBe(0);
    expect(s.read('/etc/xspot/scripts/startup.sh')).toBe(vendor);
    expect(s.exists('/etc/xspot/scripts/.vendor/startup.sh')).toBe(false);
    expect(r.output).toContain("the X-Spot packages' one is back");
    expect(matching(s.calls(), 'exorun config')).toEqual(['exorun config']);
  });

  test('a hook neither the packages nor the config supply is a warning naming the setting', () => {
    const s = sandbox();
    fs.rmSync(path.join(s.release, 'conf/scripts/job_cleanup_root.sh'));
    const r = s.run('scripts/install-config.sh');
    expect(r.status).toBe(0);
    expect(r.output).toContain('/etc/xspot/scripts/job_cleanup_root.sh is missing');
    expect(r.output).toContain('containers.scripts');
  });

  test('does not restart X-Spot under running containers', () => {
    const s = sandbox();
    s.setState('docker_ps', '1');
    const r = s.run('scripts/install-config.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'xspot restart')).toEqual([]);
    expect(r.output).toContain("run 'xspot restart' once the node is drained");
  });
});

describe('upgrade', () => {
  test('refuses while containers run', () => {
    const s = sandbox();
    s.setState('docker_ps', '2');
    const r = s.make('upgrade');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('1 X-Spot container(s) are running: drain this node first');
    expect(matching(s.calls(), 'yum')).toEqual([]);
  });

  test('FORCE=1 upgrades anyway: packages at the new versions, config, restart', () => {
    const s = sandbox();
    s.setState('docker_ps', '2');
    const r = s.make('upgrade', ['FORCE=1']);
    expect(r.status).toBe(0);
    const expected = [
      `yum -y --setopt=skip_missing_names_on_install=False install ${XSPOT}`,
      'exorun config',
      'xspot restart',
    ];
    expect(inOrder(s.calls(), expected)).toEqual(expected);
  });

  test('an idle node already at the configured versions is left alone', () => {
    const s = sandbox();
    expect(s.run('scripts/controller.sh').status).toBe(0);
    expect(s.run('scripts/install-config.sh').status).toBe(0);
    s.clearCalls();
    const r = s.make('upgrade');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'yum -y --setopt', 'yum -y downgrade', 'xspot restart', 'exorun')).toEqual([]);
    // the next steps are the guide's upgrade steps, in its order
    expect(r.output).toMatch(
      /make sync-config-preview, make sync-config, make deploy, then systemctl restart post-docker.*make check promote-images/,
    );
  });
});
