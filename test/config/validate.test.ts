/**
 * Table-driven: each bad config yields a finding that names the field, the value and what is
 * allowed. Good configs (the guide's examples) pass with no errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { type Finding, formatFinding } from '../../lib/config/findings';
import { checkConfigText, defaultConfigPath } from '../../lib/config/load';
import { EXISTING_VPC_CONFIG, signed } from '../support/configs';

const FILE = path.join(path.dirname(defaultConfigPath()), 'case.yaml');
/** Checks a config that names its package-signing key (`signed`); the signing rule's own tests use `checkRaw`. */
const check = (cfg: object) => checkConfigText(stringify(signed(cfg)), FILE);
const checkRaw = (cfg: object) => checkConfigText(stringify(cfg), FILE);
const KEY = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'keys', 'test-signing-key.asc'), 'utf8');
const errorsOf = (cfg: object): Finding[] => check(cfg).findings.filter((f) => f.severity === 'error');
const warningsOf = (cfg: object): Finding[] => check(cfg).findings.filter((f) => f.severity === 'warning');

interface BadCase {
  readonly name: string;
  readonly config: object;
  readonly id: string;
  readonly path: string;
  /** A fragment the one-line message must contain: the allowed values or the rule. */
  readonly mentions: RegExp;
}

const BAD: BadCase[] = [
  // shapes and allow-lists
  {
    name: 'string for a number',
    config: { controllers: { minCapacity: 'one' } },
    id: 'invalid-type',
    path: 'controllers.minCapacity',
    mentions: /expected number, got string/,
  },
  {
    name: 'unknown top-level key',
    config: { controler: {} },
    id: 'unknown-key',
    path: 'controler',
    mentions: /controllers/,
  },
  {
    name: 'unknown nested key',
    config: { xspot: { remote_dir: '/efs/x' } },
    id: 'unknown-key',
    path: 'xspot.remote_dir',
    mentions: /remoteDir/,
  },
  {
    name: 'renamed key',
    config: { upgrade: { instanceWarmupMinutes: 20 } },
    id: 'unknown-key',
    path: 'upgrade.instanceWarmupMinutes',
    mentions: /renamed to upgrade\.instanceWarmupSeconds, in seconds/,
  },
  {
    name: 'enum value',
    config: { storage: { type: 'gluster' } },
    id: 'invalid-value',
    path: 'storage.type',
    mentions: /"efs" \| "nfs" \| "lustre" \| "ontap"/,
  },
  {
    name: 'runtime enum',
    config: { containers: { runtime: 'kata' } },
    id: 'invalid-value',
    path: 'containers.runtime',
    mentions: /"runxc" \| "runc"/,
  },
  {
    name: 'shell metacharacters in a version',
    config: { xspot: { rpmVersion: 'xspot-1.3; rm -rf /' } },
    id: 'invalid-value',
    path: 'xspot.rpmVersion',
    mentions: /package name-version/,
  },
  {
    name: 'relative REMOTE_DIR',
    config: { xspot: { remoteDir: 'efs/deploy' } },
    id: 'invalid-value',
    path: 'xspot.remoteDir',
    mentions: /absolute path/,
  },
  {
    name: 'a job script dir under another variable',
    config: { scheduler: { scriptDir: '$USER/jobs' } },
    id: 'invalid-value',
    path: 'scheduler.scriptDir',
    mentions: /starting with \$HOME\//,
  },
  {
    name: 'a job script dir climbing out of $HOME',
    config: { scheduler: { scriptDir: '$HOME/../shared' } },
    id: 'invalid-value',
    path: 'scheduler.scriptDir',
    mentions: /no "\.\."/,
  },
  {
    name: 'path with ..',
    config: { xspot: { remoteDir: '/efs/../etc' } },
    id: 'invalid-value',
    path: 'xspot.remoteDir',
    mentions: /no "\.\."/,
  },
  {
    name: 'image name with spaces',
    config: { xspot: { imageNameList: ['docker base'] } },
    id: 'invalid-value',
    path: 'xspot.imageNameList[0]',
    mentions: /docker image name/,
  },
  {
    name: 'bad CONTAINER_FS_SIZE',
    config: { xspot: { containerFsSize: '50GB' } },
    id: 'invalid-value',
    path: 'xspot.containerFsSize',
    mentions: /50G/,
  },
  {
    name: 'bad overlay CIDR',
    config: { workers: { overlayPrefix: '192.168.137.0' } },
    id: 'invalid-value',
    path: 'workers.overlayPrefix',
    mentions: /IPv4 CIDR/,
  },
  {
    name: 'bad AMI id',
    config: { workers: { ami: 'ami-xyz' } },
    id: 'invalid-value',
    path: 'workers.ami',
    mentions: /ami-0123456789abcdef0/,
  },
  {
    name: 'bad license key',
    config: { license: { key: 'metering' } },
    id: 'invalid-value',
    path: 'license.key',
    mentions: /x-spot-metering/,
  },
  {
    name: 'bad deployment name',
    config: { deployment: { name: 'X_Spot' } },
    id: 'invalid-value',
    path: 'deployment.name',
    mentions: /lowercase/,
  },
  {
    name: 'bad region',
    config: { deployment: { region: 'virginia' } },
    id: 'invalid-value',
    path: 'deployment.region',
    mentions: /us-east-1/,
  },
  {
    name: 'tag key with aws: prefix',
    config: { workers: { instanceTags: { 'aws:owner': 'x' } } },
    id: 'invalid-value',
    path: 'workers.instanceTags["aws:owner"]',
    mentions: /not starting with aws:/,
  },
  {
    name: 'max capacity 0',
    config: { controllers: { maxCapacity: 0 } },
    id: 'out-of-range',
    path: 'controllers.maxCapacity',
    mentions: /greater than 0/,
  },
  {
    name: 'empty image list',
    config: { xspot: { imageNameList: [] } },
    id: 'out-of-range',
    path: 'xspot.imageNameList',
    mentions: /./,
  },
  {
    name: 'parent image of no known form',
    config: { workerImage: { parentImage: { id: 'ami-0123456789abcdef0' } } },
    id: 'invalid-value',
    path: 'workerImage.parentImage',
    mentions: /amiId.*ssmParameter.*name, owners/,
  },
  // the guide's rules
  {
    name: 'GovCloud region',
    config: { deployment: { region: 'us-gov-west-1' } },
    id: 'govcloud-region',
    path: 'deployment.region',
    mentions: /commercial AWS region/,
  },
  {
    name: 'overlay overlaps the new VPC',
    config: { network: { newVpc: { cidr: '192.168.0.0/16' } } },
    id: 'overlay-overlaps-vpc',
    path: 'workers.overlayPrefix',
    mentions: /192\.168\.0\.0\/16/,
  },
  {
    name: 'overlay overlaps an existing VPC secondary block',
    config: { ...EXISTING_VPC_CONFIG, workers: { overlayPrefix: '100.64.5.0/24' } },
    id: 'overlay-overlaps-vpc',
    path: 'workers.overlayPrefix',
    mentions: /100\.64\.0\.0\/16/,
  },
  {
    name: 'overlay not a /24',
    config: { workers: { overlayPrefix: '192.168.136.0/23' } },
    id: 'overlay-not-class-c',
    path: 'workers.overlayPrefix',
    mentions: /\/24/,
  },
  {
    name: 'capacity equation',
    config: { controllers: { maxContainers: 80, maxWorkers: 100, dockerVolumeGb: 8000 } },
    id: 'controller-capacity-equation',
    path: 'controllers.maxContainers',
    mentions: /<= 245/,
  },
  {
    name: 'more than 80 job slots',
    config: { scheduler: { slotsPerController: 81 } },
    id: 'job-slots-over-80',
    path: 'scheduler.slotsPerController',
    mentions: /1-80/,
  },
  {
    name: 'ONTAP without folders',
    config: { xspot: { ontapNeeded: true, autofsNeeded: true } },
    id: 'ontap-folders-required',
    path: 'xspot.ontapFolders',
    mentions: /ONTAP folders/,
  },
  {
    name: 'ONTAP folders without ONTAP_NEEDED',
    config: { xspot: { ontapFolders: ['/ontap/1'] } },
    id: 'ontap-folders-without-ontap',
    path: 'xspot.ontapFolders',
    mentions: /ontapNeeded: true/,
  },
  {
    name: 'Amazon Linux 2023 parent image',
    config: { workerImage: { parentImage: { name: 'al2023-ami-*-x86_64', owners: ['amazon'] } } },
    id: 'amazon-linux-2023',
    path: 'workerImage.parentImage',
    mentions: /EL7/,
  },
  {
    name: 'Amazon Linux 2023 via SSM',
    config: {
      workerImage: {
        parentImage: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64' },
      },
    },
    id: 'amazon-linux-2023',
    path: 'workerImage.parentImage',
    mentions: /EL7/,
  },
  {
    name: 'arm64 worker family',
    config: { workers: { spotFleetTypes: ['r6g'] } },
    id: 'arch-not-x86-64',
    path: 'workers.spotFleetTypes[0]',
    mentions: /x86_64/,
  },
  {
    name: 'arm64 controller',
    config: { controllers: { instanceType: 'm6gd.xlarge' } },
    id: 'arch-not-x86-64',
    path: 'controllers.instanceType',
    mentions: /x86_64/,
  },
  {
    name: 'non-Nitro AMI builder',
    config: { workerImage: { builderInstanceTypes: ['t2.micro'] } },
    id: 'builder-not-nitro',
    path: 'workerImage.builderInstanceTypes[0]',
    mentions: /c5\.xlarge/,
  },
  {
    name: 'the metadata equation: 82 containers with one worker each',
    config: { controllers: { maxContainers: 82 } },
    id: 'controller-capacity-equation',
    path: 'controllers.maxContainers',
    mentions: /containers \+ 2 x workers = 246 exceeds 245.*at most 81 containers/,
  },
  {
    name: 'the metadata equation: workers alone',
    config: { controllers: { maxWorkers: 83 } },
    id: 'controller-capacity-equation',
    path: 'controllers.maxWorkers',
    mentions: /= 246 exceeds 245/,
  },
  {
    name: 'rand_backoff_ratio of 1',
    config: { containers: { randBackoffRatio: 1 } },
    id: 'rand-backoff-ratio',
    path: 'containers.randBackoffRatio',
    mentions: /0 <= x < 1/,
  },
  {
    name: 'container image not approved',
    config: { xspot: { imageNameList: ['docker-base', 'eda'] }, containers: { containerImage: 'eda' } },
    id: 'container-image-not-approved',
    path: 'containers.containerImage',
    mentions: /docker-base/,
  },
  {
    name: 'container image not built',
    config: { containers: { containerImage: 'eda', approvedContainerImages: ['eda', 'docker-base'] } },
    id: 'container-image-not-built',
    path: 'containers.containerImage',
    mentions: /docker-base/,
  },
  {
    name: 'scheduler image not approved',
    config: { scheduler: { image: 'eda' } },
    id: 'scheduler-image-not-approved',
    path: 'scheduler.image',
    mentions: /docker-base/,
  },
  {
    name: 'REMOTE_DIR outside the shared mount',
    config: { xspot: { remoteDir: '/opt/deploy' } },
    id: 'remote-dir-outside-storage',
    path: 'xspot.remoteDir',
    mentions: /\/efs or a path below it/,
  },
  {
    name: 'existing storage not described',
    config: { storage: { type: 'nfs' } },
    id: 'storage-existing-missing',
    path: 'storage.existing',
    mentions: /dnsName/,
  },
  {
    name: 'lustre without mount name',
    config: {
      storage: { type: 'lustre', mountPoint: '/fsx', existing: { dnsName: 'fs-1.fsx.example' } },
      xspot: { remoteDir: '/fsx/deploy' },
    },
    id: 'lustre-mount-name',
    path: 'storage.existing.mountName',
    mentions: /MountName/,
  },
  {
    name: 'world-open ingress',
    config: { network: { applicationIngress: [{ description: 'ssh', fromPort: 22, cidrs: ['0.0.0.0/0'] }] } },
    id: 'world-ingress',
    path: 'network.applicationIngress[0].cidrs[0]',
    mentions: /allowWorldIngress/,
  },
  {
    name: 'subnet outside the VPC',
    config: {
      network: {
        existingVpc: {
          vpcId: 'vpc-0a1b2c3d4e5f60718',
          cidrBlocks: ['172.31.0.0/16'],
          privateSubnets: [{ id: 'subnet-0a1b2c3d4e5f60718', cidr: '10.1.0.0/24', availabilityZone: 'us-east-1a' }],
        },
      },
    },
    id: 'subnet-outside-vpc',
    path: 'network.existingVpc.privateSubnets[0].cidr',
    mentions: /172\.31\.0\.0\/16/,
  },
  {
    name: 'both a new and an existing VPC',
    config: { network: { newVpc: {}, existingVpc: EXISTING_VPC_CONFIG.network.existingVpc } },
    id: 'network-vpc-ambiguous',
    path: 'network',
    mentions: /either/,
  },
  {
    name: 'desired above max',
    config: { controllers: { desiredCapacity: 3, maxCapacity: 2 } },
    id: 'controller-capacity-order',
    path: 'controllers.desiredCapacity',
    mentions: /minCapacity <= desiredCapacity <= maxCapacity/,
  },
  {
    name: 'acknowledging an error',
    config: {
      deployment: { region: 'us-gov-east-1' },
      acknowledgedWarnings: [{ id: 'govcloud-region', reason: 'we insist' }],
    },
    id: 'acknowledged-error',
    path: 'acknowledgedWarnings[0].id',
    mentions: /only warnings/,
  },
  // typos the offline checks used to let through
  {
    name: 'a controller type with a typo (m5d.2xlarg)',
    config: { controllers: { instanceType: 'm5d.2xlarg' } },
    id: 'instance-type-unknown',
    path: 'controllers.instanceType',
    mentions: /m5d has no size 2xlarg \(allowed: .*m5d\.2xlarge/,
  },
  {
    name: 'a made-up worker family (r5x)',
    config: { workers: { onDemandTypes: ['r5', 'r5x'] } },
    id: 'instance-type-unknown',
    path: 'workers.onDemandTypes[1]',
    mentions: /r5x is not an EC2 instance family .*families like it: r5, r5a/,
  },
  {
    name: 'a size no family has (r5.96xlarge)',
    config: { workers: { spotFleetTypes: ['r5.96xlarge'] } },
    id: 'instance-type-unknown',
    path: 'workers.spotFleetTypes[0]',
    mentions: /r5 has no size 96xlarge .*r5\.24xlarge, r5\.metal/,
  },
  {
    name: 'an AMI builder type with a typo',
    config: { workerImage: { builderInstanceTypes: ['c5.xlarge', 'm5.xlareg'] } },
    id: 'instance-type-unknown',
    path: 'workerImage.builderInstanceTypes[1]',
    mentions: /m5\.xlarge/,
  },
  {
    name: 'an existing subnet in an AZ of another region',
    config: {
      ...EXISTING_VPC_CONFIG,
      network: {
        ...EXISTING_VPC_CONFIG.network,
        existingVpc: {
          ...EXISTING_VPC_CONFIG.network.existingVpc,
          privateSubnets: [
            EXISTING_VPC_CONFIG.network.existingVpc.privateSubnets[0],
            { ...EXISTING_VPC_CONFIG.network.existingVpc.privateSubnets[1], availabilityZone: 'us-east-1b' },
          ],
        },
      },
    },
    id: 'az-not-in-region',
    path: 'network.existingVpc.privateSubnets[1].availabilityZone',
    mentions: /an availability zone of us-east-1, not of deployment\.region eu-west-1/,
  },
  {
    name: 'an account id YAML read as a number',
    config: { deployment: { account: 123456789012 } },
    id: 'invalid-type',
    path: 'deployment.account',
    mentions: /YAML read this unquoted value as a number: quote it/,
  },
  // values AWS (or the host) refuses once fields are combined
  {
    name: 'healthy percentages more than 100 apart',
    config: { upgrade: { minHealthyPercentage: 50, maxHealthyPercentage: 200 } },
    id: 'upgrade-healthy-gap',
    path: 'upgrade.maxHealthyPercentage',
    mentions: /more than 100 apart \(allowed: maxHealthyPercentage <= 150, or minHealthyPercentage >= 100\)/,
  },
  {
    name: 'a /8 new VPC',
    config: { network: { newVpc: { cidr: '10.0.0.0/8' } } },
    id: 'vpc-cidr-size',
    path: 'network.newVpc.cidr',
    mentions: /\/16 .*to \/28/,
  },
  {
    name: 'an existing VPC block larger than /16',
    config: {
      ...EXISTING_VPC_CONFIG,
      network: {
        ...EXISTING_VPC_CONFIG.network,
        existingVpc: { ...EXISTING_VPC_CONFIG.network.existingVpc, cidrBlocks: ['172.16.0.0/12', '100.64.0.0/16'] },
      },
    },
    id: 'vpc-cidr-size',
    path: 'network.existingVpc.cidrBlocks[0]',
    mentions: /a \/12 VPC CIDR block is larger than Amazon VPC allows/,
  },
  {
    name: 'an existing subnet of /30',
    config: {
      ...EXISTING_VPC_CONFIG,
      network: {
        ...EXISTING_VPC_CONFIG.network,
        existingVpc: {
          ...EXISTING_VPC_CONFIG.network.existingVpc,
          privateSubnets: [{ ...EXISTING_VPC_CONFIG.network.existingVpc.privateSubnets[0], cidr: '172.31.0.0/30' }],
        },
      },
    },
    id: 'vpc-cidr-size',
    path: 'network.existingVpc.privateSubnets[0].cidr',
    mentions: /a \/30 subnet is smaller than Amazon VPC allows/,
  },
  {
    name: 'IAM role names over 64 characters once prefix and name are joined',
    config: { iam: { roleNamePrefix: 'p'.repeat(32) }, deployment: { name: 'd'.repeat(24) } },
    id: 'iam-role-name-too-long',
    path: 'iam.roleNamePrefix',
    mentions: /-ami-lifecycle" is 70 characters; IAM allows 64 \(allowed: .*at most 50 characters\)/,
  },
  {
    name: 'default job CPUs larger than the largest worker',
    config: {
      workers: { onDemandTypes: ['r5.xlarge'], spotFleetTypes: ['r5.2xlarge'] },
      scheduler: { defaultCpus: 16 },
    },
    id: 'default-job-too-large',
    path: 'scheduler.defaultCpus',
    mentions: /more than the 8 vCPUs .*\(allowed: 1-8/,
  },
  {
    name: 'default job memory larger than the largest worker',
    config: {
      workers: { onDemandTypes: ['r5.xlarge'], spotFleetTypes: ['r5.xlarge'] },
      scheduler: { defaultMemoryGb: 64 },
    },
    id: 'default-job-too-large',
    path: 'scheduler.defaultMemoryGb',
    mentions: /more than the 32 GB .*\(allowed: 1-32/,
  },
  {
    name: 'two worker mounts on one mount point',
    config: {
      workerImage: {
        mounts: [
          { server: '10.0.5.10', export: '/volume1', mountPoint: '/fsx' },
          { server: '10.0.5.11', export: '/volume2', mountPoint: '/fsx' },
        ],
      },
    },
    id: 'mount-point-duplicate',
    path: 'workerImage.mounts[1].mountPoint',
    mentions: /workerImage\.mounts\[0\] is already mounted there/,
  },
  {
    name: 'a worker mount over /tmp',
    config: { workerImage: { mounts: [{ server: '10.0.5.10', export: '/volume1', mountPoint: '/tmp' }] } },
    id: 'mount-over-system-dir',
    path: 'workerImage.mounts[0].mountPoint',
    mentions: /would hide the system directory \/tmp \(allowed: a directory of its own/,
  },
  {
    name: 'a worker mount inside /etc',
    config: { workerImage: { mounts: [{ server: '10.0.5.10', export: '/volume1', mountPoint: '/etc/xspot' }] } },
    id: 'mount-over-system-dir',
    path: 'workerImage.mounts[0].mountPoint',
    mentions: /is inside the system directory \/etc/,
  },
  {
    name: 'the shared file system mounted over /var',
    config: { storage: { mountPoint: '/var' }, xspot: { remoteDir: '/var/deploy' } },
    id: 'mount-over-system-dir',
    path: 'storage.mountPoint',
    mentions: /would hide the system directory \/var/,
  },
  {
    name: 'an ONTAP folder no ONTAP worker mount holds',
    config: {
      storage: { type: 'ontap', mountPoint: '/fsx', existing: { dnsName: 'svm.example.internal' } },
      xspot: { remoteDir: '/fsx/deploy', ontapFolders: ['/fsx/proj', '/data/eda'] },
      workerImage: { mounts: [{ type: 'ontap', server: '10.0.5.10', export: '/volume1', mountPoint: '/fsx' }] },
    },
    id: 'ontap-folder-not-mounted',
    path: 'xspot.ontapFolders[1]',
    mentions: /no ONTAP worker mount holds it .*\(allowed: a folder at or below \/fsx/,
  },
  {
    name: 'an http:// repository',
    config: { xspot: { repositoryUrl: 'http://mirror.example.com/xspot/el7/' } },
    id: 'invalid-value',
    path: 'xspot.repositoryUrl',
    mentions: /https:\/\/ URL.*http:\/\/ is refused/,
  },
  {
    name: 'a package-signing key fetched over http://',
    config: { xspot: { repositoryGpgKey: 'http://mirror.example.com/RPM-GPG-KEY' } },
    id: 'invalid-value',
    path: 'xspot.repositoryGpgKey',
    mentions: /http:\/\/ URL: a key fetched without TLS can be replaced in transit/,
  },
  {
    name: 'IA transition before 30 days',
    config: { logs: { transitionToInfrequentAccessDays: 10 } },
    id: 'log-transition-too-early',
    path: 'logs.transitionToInfrequentAccessDays',
    mentions: />= 30/,
  },
];

describe('bad configs are rejected with a finding that names the field and what is allowed', () => {
  test('the table has at least 30 distinct cases', () => {
    expect(new Set(BAD.map((b) => b.name)).size).toBeGreaterThanOrEqual(30);
  });

  test.each(BAD.map((b) => [b.name, b] as const))('%s', (_name, b) => {
    // GIVEN a config with one problem / WHEN it is checked
    const errors = errorsOf(b.config);
    // THEN an error with the stable id names the field, and its one line says what is allowed
    const hit = errors.find((e) => e.id === b.id && e.path === b.path);
    expect(hit).toBeDefined();
    const line = formatFinding(hit!);
    expect(line).toContain(b.path);
    expect(line).toMatch(b.mentions);
    expect(line).not.toContain('\n');
  });
});

describe('good configs', () => {
  test.each([
    ['the embedded default', {}],
    ['the existing-VPC site example', EXISTING_VPC_CONFIG],
    [
      'ONTAP mounted by autofs (the guide: both toggles and ONTAP_FOLDERS)',
      { xspot: { ontapNeeded: true, autofsNeeded: true, ontapFolders: ['/ontap/1', '/ontap/2'] } },
    ],
    [
      'm5d.2xlarge with 30G containers (the guide: 300GB SSD, 10 containers)',
      { controllers: { instanceType: 'm5d.2xlarge', maxContainers: 10 }, xspot: { containerFsSize: '30G' } },
    ],
    ['the guide chipspot queue', { scheduler: { queues: ['xspot', 'chipspot'] } }],
    ['a floating license key', { license: { key: 'ABCD-1234-EFGH-5678' } }],
    ['healthy percentages exactly 100 apart', { upgrade: { minHealthyPercentage: 0, maxHealthyPercentage: 100 } }],
    [
      'a /28 existing subnet (the smallest AWS allows)',
      {
        ...EXISTING_VPC_CONFIG,
        network: {
          ...EXISTING_VPC_CONFIG.network,
          existingVpc: {
            ...EXISTING_VPC_CONFIG.network.existingVpc,
            privateSubnets: [{ ...EXISTING_VPC_CONFIG.network.existingVpc.privateSubnets[0], cidr: '172.31.0.0/28' }],
          },
        },
      },
    ],
    [
      'role names of exactly 64 characters',
      { iam: { roleNamePrefix: 'p'.repeat(26) }, deployment: { name: 'd'.repeat(24) } },
    ],
    ['a default job of the whole largest worker', { scheduler: { defaultCpus: 96, defaultMemoryGb: 768 } }],
    [
      'worker mounts under /home, /opt and /mnt',
      {
        workerImage: {
          mounts: [
            { server: '10.0.5.10', export: '/home', mountPoint: '/home' },
            { server: '10.0.5.10', export: '/apps', mountPoint: '/opt/apps' },
            { server: '10.0.5.10', export: '/scratch', mountPoint: '/mnt/scratch' },
          ],
        },
      },
    ],

    ['job scripts on a shared scratch', { scheduler: { scriptDir: '/shared/xspot-jobs' } }],
  ])('%s has no errors', (_name, cfg) => {
    expect(errorsOf(cfg)).toEqual([]);
  });

  test('trailing slashes in directories are stripped, as env.cfg does', () => {
    const c = check({ xspot: { remoteDir: '/efs/deploy/', imageDeployDir: '/efs/deploy/img//' } }).config!;
    expect(c.xspot.remoteDir).toBe('/efs/deploy');
    expect(c.resolved.imageDeployDir).toBe('/efs/deploy/img');
    expect(c.resolved.scriptDeployDir).toBe('/efs/deploy/scripts');
  });

  test("containers and slots default to the guide's 80-slot recommendation, with one worker each", () => {
    const c = check({}).config!;
    expect(c.resolved.dockerDiskGb).toBe(150);
    expect(c.resolved.maxContainers).toBe(80);
    expect(c.resolved.maxWorkers).toBe(80);
    expect(c.resolved.slotsPerController).toBe(80);
  });

  test.each([
    ['81 containers, one worker each (the guide: 81)', { maxContainers: 81 }],
    ['243 containers packed on 1 worker', { maxContainers: 243, maxWorkers: 1 }],
    ['the guide m5d.xlarge with 50G and 80 slots', {}],
  ])('%s is within the metadata equation', (_name, controllers) => {
    expect(errorsOf({ controllers }).map((f) => f.id)).toEqual([]);
  });
});

describe('warnings', () => {
  test('disk over-commit is a warning stating the ratio and what happens when it is reached', () => {
    const cfg = { controllers: { instanceType: 'm5d.2xlarge', maxContainers: 20 }, xspot: { containerFsSize: '30G' } };
    expect(errorsOf(cfg)).toEqual([]);
    const w = warningsOf(cfg).find((f) => f.id === 'docker-disk-overcommit');
    expect(w).toMatchObject({ path: 'controllers.maxContainers', value: 20 });
    // 20 x 30 GB = 600 GB on the 300 GB SSD of m5d.2xlarge: 2.0x; 10 containers at full size fill it.
    expect(formatFinding(w!)).toContain(
      '20 containers x CONTAINER_FS_SIZE 30G = 600 GB is 2.0x the instance store of m5d.2xlarge (300 GB): when more than 10 containers fill their CONTAINER_FS_SIZE at the same time, jobs fail with "No space left on device"',
    );
    expect(w?.allowed).toMatch(/at most 10 containers/);
    expect(
      warningsOf({ ...cfg, controllers: { ...cfg.controllers, maxContainers: 10 } }).map((f) => f.id),
    ).not.toContain('docker-disk-overcommit');
  });

  test('an instance store the offline table does not know is a warning pointing at --live, not an error', () => {
    const cfg = { controllers: { instanceType: 'x2iedn.xlarge' } };
    expect(errorsOf(cfg)).toEqual([]);
    expect(warningsOf(cfg).find((f) => f.id === 'docker-disk-unknown')?.allowed).toMatch(/--live/);
  });

  test("a controller below the guide's 4 vCPUs and 8 GB is a warning; the guide's c5d.xlarge is not", () => {
    const small = { controllers: { instanceType: 'c5d.large', maxContainers: 2 } };
    expect(errorsOf(small)).toEqual([]);
    const w = warningsOf(small).find((f) => f.id === 'controller-below-guide-size');
    expect(formatFinding(w!)).toMatch(/has 2 vCPUs and 4 GiB; the guide recommends 4 vCPUs and 8 GB/);
    const guide = { controllers: { instanceType: 'c5d.xlarge', maxContainers: 2 } };
    expect(warningsOf(guide).map((f) => f.id)).not.toContain('controller-below-guide-size');
  });

  test('ONTAP: folders all held by worker mounts pass; a mounted volume with no folder is a warning', () => {
    const ontap = (folders: string[], mounts: string[]) => ({
      storage: { type: 'ontap', mountPoint: '/fsx', existing: { dnsName: 'svm.example.internal' } },
      xspot: { remoteDir: '/fsx/deploy', ontapFolders: folders },
      workerImage: {
        mounts: mounts.map((mountPoint, i) => ({
          type: 'ontap',
          server: '10.0.5.10',
          export: `/volume${i}`,
          mountPoint,
        })),
      },
    });
    expect(errorsOf(ontap(['/fsx/proj', '/fsx'], ['/fsx'])).map((f) => f.id)).toEqual([]);
    const w = warningsOf(ontap(['/fsx/proj'], ['/fsx', '/fsx2'])).find((f) => f.id === 'ontap-mount-not-in-folders');
    expect(w).toMatchObject({ path: 'workerImage.mounts[1].mountPoint', value: '/fsx2' });
    // autofs mounts ONTAP on demand: no worker mounts to compare with
    const autofs = ontap(['/data/eda'], ['/fsx']);
    autofs.xspot = { ...autofs.xspot, autofsNeeded: true } as typeof autofs.xspot;
    expect(errorsOf(autofs).map((f) => f.id)).not.toContain('ontap-folder-not-mounted');
  });

  test('a controller type without local NVMe is a warning, not an error', () => {
    const cfg = { controllers: { instanceType: 'm5.xlarge' } };
    expect(errorsOf(cfg)).toEqual([]);
    const w = warningsOf(cfg).find((f) => f.id === 'controller-no-local-nvme');
    expect(w?.path).toBe('controllers.instanceType');
    expect(w?.allowed).toMatch(/m5d\.xlarge/);
  });

  test('world ingress is a warning once explicitly allowed', () => {
    const cfg = {
      network: {
        allowWorldIngress: true,
        applicationIngress: [{ description: 'ssh', fromPort: 22, cidrs: ['0.0.0.0/0'] }],
      },
    };
    expect(errorsOf(cfg)).toEqual([]);
    expect(warningsOf(cfg).map((f) => f.id)).toContain('world-ingress');
  });

  test('a warning can be acknowledged by id with a reason; a stale acknowledgement is reported', () => {
    const cfg = {
      controllers: { instanceType: 'm5.xlarge' },
      acknowledgedWarnings: [
        { id: 'controller-no-local-nvme', reason: 'EBS is fast enough for our images' },
        { id: 'no-such-warning', reason: 'left over' },
      ],
    };
    const all = check(cfg).findings;
    expect(all.find((f) => f.id === 'controller-no-local-nvme')?.acknowledged).toBe(
      'EBS is fast enough for our images',
    );
    expect(all.find((f) => f.id === 'unused-acknowledgement')?.value).toBe('no-such-warning');
  });
});

describe('package signing: xspot.repositoryGpgKey is required unless unsigned-packages is acknowledged', () => {
  /** The key with the first base64 character of line `n` changed. */
  const damage = (text: string, n: number) => {
    const lines = text.split('\n');
    lines[n] = `${lines[n][0] === 'A' ? 'B' : 'A'}${lines[n].slice(1)}`;
    return lines.join('\n');
  };
  const find = (cfg: object, id: string) => checkRaw(cfg).findings.find((f) => f.id === id);

  test('no key and no acknowledgement: an error naming the field, gpgcheck=0 and how to accept it', () => {
    const f = find({}, 'unsigned-packages');
    expect(f).toMatchObject({ severity: 'error', path: 'xspot.repositoryGpgKey' });
    const line = formatFinding(f!);
    expect(line).toContain('gpgcheck=0');
    expect(line).toContain('refused until acknowledged');
    expect(line).not.toContain('\n');
  });

  test('no key, acknowledged with a reason: a warning, no errors (the site said so explicitly)', () => {
    const r = checkRaw({
      acknowledgedWarnings: [{ id: 'unsigned-packages', reason: 'the mirror publishes no key' }],
    });
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r.findings.find((f) => f.id === 'unsigned-packages')).toMatchObject({
      severity: 'warning',
      acknowledged: 'the mirror publishes no key',
    });
  });

  test('a key URL: no finding; acknowledging unsigned-packages as well is a stale acknowledgement', () => {
    const r = checkRaw({
      xspot: { repositoryGpgKey: 'https://rpm.example.com/RPM-GPG-KEY' },
      acknowledgedWarnings: [{ id: 'unsigned-packages', reason: 'left over' }],
    });
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r.findings.find((f) => f.id === 'unused-acknowledgement')?.value).toBe('unsigned-packages');
  });

  test.each([
    ['as exported by gpg', KEY],
    ['with CRLF line ends and trailing blanks (normalised)', KEY.replace(/\n/g, ' \r\n')],
  ])('the armored key itself, %s, is accepted', (_what, text) => {
    const r = checkRaw({ xspot: { repositoryGpgKey: text } });
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r.config?.xspot.repositoryGpgKey).toBe(KEY);
  });

  test.each([
    ['a damaged checksum line', KEY.replace(/^=(.{4})$/m, '=AAAA'), /armor checksum/],
    ['a damaged body', damage(KEY, 3), /armor checksum/],
    ['a private key block', KEY.replace(/PUBLIC/g, 'PRIVATE'), /PRIVATE key: give the public key/],
    ['shell syntax in an armor header', KEY.replace('-----\n\n', "-----\nComment: $(id)'\n\n"), /not an ASCII-armored/],
    [
      'an empty body',
      '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n',
      /not an ASCII-armored/,
    ],
    ['a file path', '/etc/pki/rpm-gpg/RPM-GPG-KEY', /https:\/\/ URL/],
  ])('%s is refused, naming the field', (_what, value, message) => {
    const errors = checkRaw({ xspot: { repositoryGpgKey: value } }).findings.filter((f) => f.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].path).toBe('xspot.repositoryGpgKey');
    expect(errors[0].message).toMatch(message);
  });

  test('signed metadata (repo_gpgcheck) without a key is an error', () => {
    const f = find(
      {
        xspot: { repositoryMetadataSigned: true },
        acknowledgedWarnings: [{ id: 'unsigned-packages', reason: 'no key' }],
      },
      'metadata-signing-without-key',
    );
    expect(f).toMatchObject({ severity: 'error', path: 'xspot.repositoryMetadataSigned' });
  });
});
