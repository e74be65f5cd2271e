/**
 * check-config --live against moto in server mode: each check passes on resources that match the
 * config and fails, naming the field, on resources that do not.
 */
import {
  CreateVpcEndpointCommand,
  DeleteSubnetCommand,
  DescribeSubnetsCommand,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import { type Finding, formatFinding } from '../../lib/config/findings';
import type { XspotConfig } from '../../lib/config/resolve';
import { validateConfig } from '../../lib/config/validate';
import {
  createLiveClients,
  destroyLiveClients,
  LIVE_CHECKS,
  type LiveCheckReport,
  runLiveChecks,
  summarizeLiveChecks,
} from '../../lib/ops/live-check';
import { fakeAwsEnv, MOTO_ACCOUNT, type MotoServer, startMoto } from './moto-server';
import { AMI, buildWorld, CENTOS_OWNER, type Clients, IMAGES, setupClients, type World, worldConfig } from './world';

let moto: MotoServer | undefined;
let restoreEnv: (() => void) | undefined;
let clients: Clients;
let world: World;

beforeAll(async () => {
  restoreEnv = fakeAwsEnv();
  moto = await startMoto(IMAGES);
  clients = setupClients(moto.endpoint);
}, 60_000);

afterAll(async () => {
  if (clients) for (const c of Object.values(clients)) c.destroy();
  await moto?.stop();
  restoreEnv?.();
});

/** A clean moto with the world built again: each scenario group starts from the same resources. */
async function fresh() {
  await moto!.reset();
  world = await buildWorld(clients);
}

async function live(config: XspotConfig, region?: string): Promise<LiveCheckReport> {
  const lc = createLiveClients({ region: region ?? config.deployment.region, endpoint: moto!.endpoint });
  try {
    return await runLiveChecks(config, lc, region ? { region } : {});
  } finally {
    destroyLiveClients(lc);
  }
}

const brief = (fs: readonly Finding[]) => fs.map((f) => `${f.severity} ${f.id} ${f.path}`);

/** The report has this finding, and its printed line names the field and the value. */
function expectFinding(report: LiveCheckReport, severity: string, id: string, path: string, value?: unknown) {
  const f = report.findings.find((x) => x.id === id && x.path === path);
  if (!f)
    throw new Error(`expected ${severity} ${id} at ${path}; got:\n${report.findings.map(formatFinding).join('\n')}`);
  expect(f.severity).toBe(severity);
  const line = formatFinding(f);
  expect(line.startsWith(`${severity} [${id}] ${path}`)).toBe(true);
  if (value !== undefined) {
    expect(f.value).toEqual(value);
    expect(line).toContain(`${path} = ${JSON.stringify(value)}`);
  }
  return f;
}

describe('a config that matches the account', () => {
  beforeAll(fresh);

  test('every check runs and passes, in seconds', async () => {
    const t0 = Date.now();
    const report = await live(worldConfig(world));
    const elapsed = Date.now() - t0;
    expect(brief(report.findings)).toEqual([]);
    expect(report.identity?.account).toBe(MOTO_ACCOUNT);
    const names = report.outcomes.map((o) => o.name);
    expect(names).toEqual(['region', 'account', ...LIVE_CHECKS.map((c) => c.name)]);
    const s = summarizeLiveChecks(report);
    expect(s).toEqual({ run: names.length, passed: names.length, warnings: 0, errors: 0, acknowledged: 0 });
    expect(elapsed).toBeLessThan(15_000);
  });

  test('the embedded default (new VPC, no existing resources) passes the checks that apply', async () => {
    const report = await live(worldConfig(world, { network: { existingVpc: undefined, newVpc: {} } }));
    expect(brief(report.findings)).toEqual([]);
    const names = report.outcomes.map((o) => o.name);
    expect(names).not.toContain('vpc');
    expect(names).toContain('instance-type-offerings');
  });
});

describe('region and account', () => {
  beforeAll(fresh);

  test('a region that is not enabled for the account is an error, and nothing else is asked', async () => {
    const report = await live(worldConfig(world, { deployment: { region: 'ap-east-1' } }));
    expectFinding(report, 'error', 'region-not-enabled', 'deployment.region', 'ap-east-1');
    expect(report.outcomes.map((o) => o.name)).toEqual(['region']);
  });

  test('a region EC2 does not know is an error', async () => {
    const report = await live(worldConfig(world), 'xx-nowhere-1');
    expectFinding(report, 'error', 'region-unknown', 'deployment.region', 'xx-nowhere-1');
  });

  test('credentials for another account than deployment.account is an error', async () => {
    const report = await live(worldConfig(world, { deployment: { account: '111122223333' } }));
    const f = expectFinding(report, 'error', 'account-mismatch', 'deployment.account', '111122223333');
    expect(f.message).toContain(MOTO_ACCOUNT);
  });
});

describe('instance types', () => {
  beforeAll(fresh);

  test.each<[string, Record<string, unknown>, string, string, string]>([
    [
      'an unknown type',
      { controllers: { instanceType: 'm5.bogus' } },
      'error',
      'instance-type-unknown',
      'controllers.instanceType',
    ],
    [
      'an unknown family',
      { workers: { onDemandTypes: ['zz9'] } },
      'error',
      'instance-type-unknown',
      'workers.onDemandTypes[0]',
    ],
    [
      'an arm64 family',
      { workers: { onDemandTypes: ['m6g'] } },
      'error',
      'arch-not-x86-64',
      'workers.onDemandTypes[0]',
    ],
    [
      'a Xen builder',
      { workerImage: { builderInstanceTypes: ['c5.xlarge', 't2.micro'] } },
      'error',
      'builder-not-nitro',
      'workerImage.builderInstanceTypes[1]',
    ],
    [
      'a family with no Spot offering',
      { workers: { spotFleetTypes: ['r5', 'c8ine'] } },
      'error',
      'spot-not-offered',
      'workers.spotFleetTypes[1]',
    ],
    [
      'a family not offered in the region',
      { workers: { onDemandTypes: ['hpc6id'] } },
      'error',
      'instance-type-not-offered',
      'workers.onDemandTypes[0]',
    ],
    [
      'AMD and Intel mixed',
      { workers: { onDemandTypes: ['r5'], spotFleetTypes: ['r5', 'r5a'] } },
      'warning',
      'worker-cpu-vendor-mix',
      'workers.spotFleetTypes',
    ],
    [
      'more containers than the instance store holds (over-commit: a warning)',
      { controllers: { maxContainers: 4 } },
      'warning',
      'docker-disk-overcommit',
      'controllers.maxContainers',
    ],
  ])('%s', async (_what, patch, severity, id, path) => {
    const report = await live(worldConfig(world, patch));
    expectFinding(report, severity, id, path);
    expect(report.findings.filter((f) => f.severity === 'error' && f.id !== id)).toEqual([]);
  });

  test('families are expanded: every r5 size counts, r5n is not part of r5', async () => {
    const report = await live(worldConfig(world, { workers: { onDemandTypes: ['r5', 'r5n.large'] } }));
    expect(brief(report.findings)).toEqual([]);
  });

  test('the instance store found in the account fills the gap the offline table leaves', async () => {
    const report = await live(worldConfig(world, { controllers: { instanceType: 'z1d.large' } }));
    const f = expectFinding(report, 'warning', 'docker-disk-overcommit', 'controllers.maxContainers', 3);
    // 3 x 50 GB against the 75 GB store DescribeInstanceTypes reports for z1d.large.
    expect(f.message).toContain('= 150 GB is 2.0x the instance store of z1d.large (DescribeInstanceTypes) (75 GB)');
    expect(f.message).toContain('more than 1 container fill');
    expect(f.allowed).toContain('at most 1 containers');
  });

  test('a type missing from one subnet AZ of an existing VPC is a warning naming the AZ', async () => {
    const config = worldConfig(world, {
      network: {
        existingVpc: {
          vpcId: world.vpcId,
          cidrBlocks: ['10.0.0.0/16', '10.1.0.0/16'],
          privateSubnets: [world.privateA, world.privateE],
        },
      },
    });
    const report = await live(config);
    const f = expectFinding(
      report,
      'warning',
      'instance-type-not-offered-in-az',
      'controllers.instanceType',
      'm5d.xlarge',
    );
    expect(f.message).toContain('us-east-1e');
    expect(f.message).not.toContain('us-east-1a');
  });

  test('a new VPC uses the first maxAzs AZs Fn::GetAZs returns', async () => {
    const two = await live(worldConfig(world, { network: { existingVpc: undefined, newVpc: { maxAzs: 2 } } }));
    expect(brief(two.findings)).toEqual([]);
    const six = await live(worldConfig(world, { network: { existingVpc: undefined, newVpc: { maxAzs: 6 } } }));
    const f = expectFinding(six, 'warning', 'instance-type-not-offered-in-az', 'controllers.instanceType');
    expect(f.message).toMatch(/us-east-1e .*first 6 AZs Fn::GetAZs returns in us-east-1/);
  });

  test('named AZs: those that exist pass and decide where the types must be offered; one that does not is an error', async () => {
    const ok = await live(
      worldConfig(world, {
        network: { existingVpc: undefined, newVpc: { availabilityZones: ['us-east-1b', 'us-east-1e'] } },
      }),
    );
    const warn = expectFinding(ok, 'warning', 'instance-type-not-offered-in-az', 'controllers.instanceType');
    expect(warn.message).toContain('us-east-1e (network.newVpc.availabilityZones)');
    expect(ok.findings.filter((x) => x.id === 'az-not-found')).toEqual([]);

    const bad = await live(
      worldConfig(world, {
        network: { existingVpc: undefined, newVpc: { availabilityZones: ['us-east-1a', 'us-east-1q'] } },
      }),
    );
    const f = expectFinding(bad, 'error', 'az-not-found', 'network.newVpc.availabilityZones[1]', 'us-east-1q');
    expect(f.message).toMatch(/DescribeAvailabilityZones lists us-east-1a, us-east-1b/);
  });
});

describe('availability zones: the Fn::GetAZs model', () => {
  beforeAll(fresh);

  test('with default subnets in only some AZs, Fn::GetAZs returns those: a larger maxAzs is an error naming them', async () => {
    const { Subnets } = await clients.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }),
    );
    const defaults = (Subnets ?? []).sort((a, b) =>
      String(a.AvailabilityZone).localeCompare(String(b.AvailabilityZone)),
    );
    expect(defaults.length).toBeGreaterThan(2);
    for (const s of defaults.slice(2)) await clients.ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    const kept = defaults.slice(0, 2).map((s) => s.AvailabilityZone);

    const two = await live(worldConfig(world, { network: { existingVpc: undefined, newVpc: { maxAzs: 2 } } }));
    expect(two.findings.filter((x) => x.id.startsWith('az-'))).toEqual([]);
    const three = await live(worldConfig(world, { network: { existingVpc: undefined, newVpc: { maxAzs: 3 } } }));
    const f = expectFinding(three, 'error', 'az-too-few', 'network.newVpc.maxAzs', 3);
    expect(f.message).toContain(`offers 2 AZs to Fn::GetAZs (${kept.join(', ')})`);
  });
});

describe('images', () => {
  beforeAll(fresh);

  test.each<[string, Record<string, unknown>, string, string]>([
    ['by id', { amiId: AMI.centos7 }, '', ''],
    ['by SSM parameter', { ssmParameter: '/xspot/test/parent-centos7' }, '', ''],
    ['by name and owner, newest match', { name: 'CentOS Linux 7 x86_64*', owners: [CENTOS_OWNER] }, '', ''],
    ['an id that does not exist', { amiId: AMI.missing }, 'parent-image-not-found', 'workerImage.parentImage.amiId'],
    [
      'an SSM parameter that does not exist',
      { ssmParameter: '/xspot/test/none' },
      'parent-image-not-found',
      'workerImage.parentImage.ssmParameter',
    ],
    [
      'a name nothing matches',
      { name: 'Rocky-8*', owners: [CENTOS_OWNER] },
      'parent-image-not-found',
      'workerImage.parentImage.name',
    ],
    ['an arm64 image', { amiId: AMI.centos7Arm }, 'arch-not-x86-64', 'workerImage.parentImage.amiId'],
    [
      'an SSM parameter naming an arm64 image',
      { ssmParameter: '/xspot/test/parent-arm' },
      'arch-not-x86-64',
      'workerImage.parentImage.ssmParameter',
    ],
    ['Amazon Linux 2023 behind an id', { amiId: AMI.al2023 }, 'amazon-linux-2023', 'workerImage.parentImage.amiId'],
  ])('parent image %s', async (_what, parentImage, id, path) => {
    const report = await live(worldConfig(world, { workerImage: { parentImage } }));
    if (!id) {
      expect(brief(report.findings)).toEqual([]);
      return;
    }
    expectFinding(report, 'error', id, path);
    expect(report.findings.filter((f) => f.id !== id)).toEqual([]);
  });

  test('Amazon Linux 2023 is caught by the image, not only by its name in the config', async () => {
    const config = worldConfig(world, { workerImage: { parentImage: { amiId: AMI.al2023 } } });
    expect(validateConfig(config).map((f) => f.id)).not.toContain('amazon-linux-2023');
    const report = await live(config);
    const f = expectFinding(report, 'error', 'amazon-linux-2023', 'workerImage.parentImage.amiId', AMI.al2023);
    expect(f.message).toContain('al2023-ami-');
  });

  test('a worker AMI built for another X-Spot release is an error naming the version field', async () => {
    const report = await live(worldConfig(world, { workers: { ami: AMI.workerOld } }));
    const f = expectFinding(report, 'error', 'worker-ami-version-mismatch', 'workers.ami', AMI.workerOld);
    expect(f.message).toContain('xspot:platform-version');
    expect(f.message).toContain('xspot.platformVersion');
    expect(f.message).toContain('xcontainer-4.11.0');
    expect(report.findings).toHaveLength(1);
  });

  test('a worker AMI without version tags is a warning', async () => {
    const report = await live(worldConfig(world, { workers: { ami: AMI.workerUntagged } }));
    const f = expectFinding(report, 'warning', 'worker-ami-untagged', 'workers.ami', AMI.workerUntagged);
    expect(f.message).toContain(
      'xspot:rpm-version, xspot:platform-version, xspot:kernel-version, xspot:guest-kernel-version',
    );
  });

  test('a worker AMI or controller AMI that does not exist is an error', async () => {
    const report = await live(
      worldConfig(world, { workers: { ami: AMI.missing }, controllers: { amiId: AMI.missing } }),
    );
    expectFinding(report, 'error', 'worker-ami-not-found', 'workers.ami', AMI.missing);
    expectFinding(report, 'error', 'controller-ami-not-found', 'controllers.amiId', AMI.missing);
  });
});

describe('existing VPC', () => {
  beforeAll(fresh);

  const vpcPatch = (w: World, over: Record<string, unknown>) => ({
    network: {
      existingVpc: {
        vpcId: w.vpcId,
        cidrBlocks: ['10.0.0.0/16', '10.1.0.0/16'],
        privateSubnets: [w.privateA, w.privateB],
        ...over,
      },
    },
  });

  test('the overlay must stay clear of secondary CIDR blocks the config does not list', async () => {
    const config = worldConfig(world, {
      ...vpcPatch(world, { cidrBlocks: ['10.0.0.0/16'], privateSubnets: [world.privateA] }),
      workers: { overlayPrefix: '10.1.200.0/24' },
    });
    expect(validateConfig(config).map((f) => f.id)).not.toContain('overlay-overlaps-vpc');
    const report = await live(config);
    const f = expectFinding(report, 'error', 'overlay-overlaps-vpc', 'workers.overlayPrefix', '10.1.200.0/24');
    expect(f.message).toContain('10.1.0.0/16');
    expectFinding(report, 'warning', 'vpc-cidr-blocks-incomplete', 'network.existingVpc.cidrBlocks');
  });

  test('a CIDR block the VPC does not have is an error', async () => {
    const report = await live(
      worldConfig(world, vpcPatch(world, { cidrBlocks: ['10.0.0.0/16', '10.1.0.0/16', '10.2.0.0/16'] })),
    );
    expectFinding(report, 'error', 'vpc-cidr-block-unknown', 'network.existingVpc.cidrBlocks[2]', '10.2.0.0/16');
  });

  test('a VPC that does not exist is an error', async () => {
    const report = await live(worldConfig(world, vpcPatch(world, { vpcId: 'vpc-0123456789abcdef0' })));
    expectFinding(report, 'error', 'vpc-not-found', 'network.existingVpc.vpcId', 'vpc-0123456789abcdef0');
  });

  test.each<[string, (w: World) => object, string, string]>([
    ['uses the main route table, which has no default route', (w) => w.noRoute, 'subnet-no-nat', '[1].id'],
    ['routes 0.0.0.0/0 to the internet gateway', (w) => w.publicSubnet, 'subnet-public', '[1].id'],
    ['belongs to another VPC', (w) => w.foreign, 'subnet-wrong-vpc', '[1].id'],
    [
      'does not exist',
      () => ({ id: 'subnet-0123456789abcdef0', cidr: '10.0.9.0/24', availabilityZone: 'us-east-1a' }),
      'subnet-not-found',
      '[1].id',
    ],
    [
      'has another CIDR than configured',
      (w) => ({ ...w.privateB, cidr: '10.1.3.0/24' }),
      'subnet-cidr-mismatch',
      '[1].cidr',
    ],
    [
      'is in another AZ than configured',
      (w) => ({ ...w.privateB, availabilityZone: 'us-east-1c' }),
      'subnet-az-mismatch',
      '[1].availabilityZone',
    ],
    [
      'uses another route table than configured',
      (w) => ({ ...w.privateB, routeTableId: w.privateA.routeTableId }),
      'route-table-mismatch',
      '[1].routeTableId',
    ],
  ])('a private subnet that %s is an error', async (_what, second, id, suffix) => {
    const report = await live(worldConfig(world, vpcPatch(world, { privateSubnets: [world.privateA, second(world)] })));
    expectFinding(report, 'error', id, `network.existingVpc.privateSubnets${suffix}`);
    expect(report.findings.filter((f) => f.path.includes('privateSubnets[0]'))).toEqual([]);
  });

  test('subnets with routes to a NAT gateway pass, including one in the secondary CIDR block', async () => {
    const report = await live(worldConfig(world, vpcPatch(world, {})));
    expect(brief(report.findings)).toEqual([]);
  });
  test('addS3Endpoint: passes while no S3 gateway endpoint serves the subnets; once one does, an error names it', async () => {
    const before = await live(worldConfig(world, vpcPatch(world, { addS3Endpoint: true })));
    expect(brief(before.findings)).toEqual([]);
    const ep = await clients.ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: world.vpcId,
        VpcEndpointType: 'Gateway',
        ServiceName: 'com.amazonaws.us-east-1.s3',
        RouteTableIds: [String(world.privateB.routeTableId)],
      }),
    );
    const id = String(ep.VpcEndpoint?.VpcEndpointId);
    const after = await live(worldConfig(world, vpcPatch(world, { addS3Endpoint: true })));
    const f = expectFinding(after, 'error', 's3-endpoint-exists', 'network.existingVpc.addS3Endpoint', true);
    expect(f.message).toContain(`${world.privateB.routeTableId} (of ${world.privateB.id})`);
    expect(f.message).toContain(id);
    expect(after.findings.filter((x) => x.id === 's3-endpoint-exists')).toHaveLength(1);
    // without addS3Endpoint the existing endpoint is simply used
    const off = await live(worldConfig(world, vpcPatch(world, {})));
    expect(brief(off.findings)).toEqual([]);
  });
});

describe('VPC DNS attributes (each scenario on a fresh moto)', () => {
  beforeEach(fresh);

  test.each([
    ['EnableDnsHostnames', 'vpc-dns-hostnames-off'],
    ['EnableDnsSupport', 'vpc-dns-support-off'],
  ])('%s off is an error', async (attribute, id) => {
    await clients.ec2.send(new ModifyVpcAttributeCommand({ VpcId: world.vpcId, [attribute]: { Value: false } }));
    const report = await live(worldConfig(world));
    expectFinding(report, 'error', id, 'network.existingVpc.vpcId', world.vpcId);
  });
});

describe('existing resources', () => {
  beforeAll(fresh);

  const storage = (type: string, fileSystemId: string, extra: Record<string, unknown> = {}) => ({
    storage: { type, mountPoint: '/efs', existing: { fileSystemId, dnsName: 'fs.example.internal', ...extra } },
  });

  test('an EFS file system mounted over NFS, and an FSx for Lustre file system, pass', async () => {
    expect(brief((await live(worldConfig(world, storage('nfs', world.efsId)))).findings)).toEqual([]);
    const lustre = worldConfig(world, storage('lustre', world.lustreId, { mountName: 'abcdef12' }));
    expect(brief((await live(lustre)).findings)).toEqual([]);
  });

  test('a file system that does not exist is an error', async () => {
    const report = await live(worldConfig(world, storage('nfs', 'fs-0123456789abcdef0')));
    expectFinding(report, 'error', 'file-system-not-found', 'storage.existing.fileSystemId', 'fs-0123456789abcdef0');
  });

  test('an FSx for Lustre file system configured as ONTAP is an error on storage.type', async () => {
    const report = await live(worldConfig(world, storage('ontap', world.lustreId)));
    expectFinding(report, 'error', 'file-system-type-mismatch', 'storage.type', 'ontap');
  });

  test('a key pair or permissions boundary that does not exist is an error', async () => {
    const arn = `arn:aws:iam::${MOTO_ACCOUNT}:policy/no-such-boundary`;
    const report = await live(
      worldConfig(world, { controllers: { keyPairName: 'nope' }, iam: { permissionsBoundaryArn: arn } }),
    );
    expectFinding(report, 'error', 'key-pair-not-found', 'controllers.keyPairName', 'nope');
    expectFinding(report, 'error', 'permissions-boundary-not-found', 'iam.permissionsBoundaryArn', arn);
  });
});
