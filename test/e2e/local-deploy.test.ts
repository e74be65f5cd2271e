/**
 * End to end on a local AWS emulator: the code path of `xspot-cdk local deploy` — moto in server mode
 * on 127.0.0.1, the real CDK CLI (`cdk bootstrap`, `cdk synth` of the compiled app, `cdk deploy --all
 * --method=direct`) — then everything checked through the AWS SDK v3: what the default config
 * creates, and what a redeploy with a new X-Spot release (xspot.rpmVersion) updates in place.
 *
 * Not here, because the emulator does not model them (local-deploy-rewrite.ts drops them and the
 * command prints the list): Image Builder, lifecycle hooks, alarms, custom resources, instance
 * refresh and the group's move to a new launch template version. Those are covered by template
 * assertions (test/worker-image, test/controller-fleet) and SDK mocks (test/fleet).
 *
 * The emulator is stopped in afterAll whatever happened. Needs python3 with moto (server extras)
 * and a current `npm run build` (npm test builds first).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeStackResourcesCommand, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import {
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand, DescribeMountTargetsCommand } from '@aws-sdk/client-efs';
import { GetRolePolicyCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetBucketEncryptionCommand, HeadBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  bootstrapLocal,
  type DeployRound,
  deployConfigLocally,
  type LocalSession,
  openLocalSession,
  readSessionSummary,
} from '../../lib/ops/local-deploy';
import { EMULATED_TYPES } from '../../lib/ops/local-deploy-rewrite';
import {
  describeChanges,
  type LocalSummary,
  policyActions,
  renderLocalSummary,
} from '../../lib/ops/local-deploy-summary';
import { collectingOutput, DEFAULT_CONFIG, deploymentFor, requireFreshBuild, writeConfig } from './helpers';

const STACKS = ['xspot-prereqs', 'xspot-worker-image', 'xspot-controllers'] as const;
const OLD_RPM = 'xspot-1.3.0.1-rc_5cb0ffb0.el7';
const NEW_RPM = 'xspot-1.3.0.2-rc_5cb0ffb0.el7';
const MINUTES = 60_000;

let work: string;
let appEntry: string;
let session: LocalSession | undefined;
let first: DeployRound;
let firstSummary: LocalSummary;
const io = collectingOutput();

async function stack(name: string): Promise<Stack> {
  const s = (await session!.clients.cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
  if (!s) throw new Error(`stack ${name} not found`);
  return s;
}

async function outputs(name: string): Promise<Record<string, string>> {
  const s = await stack(name);
  return Object.fromEntries((s.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
}

async function physicalIds(name: string, type: string): Promise<string[]> {
  const res = await session!.clients.cfn.send(new DescribeStackResourcesCommand({ StackName: name }));
  return (res.StackResources ?? []).filter((r) => r.ResourceType === type).map((r) => r.PhysicalResourceId!);
}

async function latestUserData(ltId: string): Promise<{ version: number; userData: string; description: string }> {
  const v = (
    await session!.clients.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: ltId, Versions: ['$Latest'] }),
    )
  ).LaunchTemplateVersions![0];
  return {
    version: v.VersionNumber!,
    userData: Buffer.from(v.LaunchTemplateData?.UserData ?? '', 'base64').toString('utf8'),
    description: v.VersionDescription ?? '',
  };
}

/** The asset objects (runtime and config bundles) the userdata downloads. */
function assetUrls(userData: string): { bucket: string; key: string }[] {
  return [...userData.matchAll(/s3:\/\/([a-z0-9.-]+)\/([0-9a-f]{64}\.zip)/g)].map((m) => ({ bucket: m[1], key: m[2] }));
}

beforeAll(async () => {
  appEntry = requireFreshBuild();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-e2e-local-'));
  session = await openLocalSession({ region: 'us-east-1', workDir: work });
  await bootstrapLocal(session, { io });
  first = await deployConfigLocally(session, deploymentFor(DEFAULT_CONFIG), 'deploy-1', { io, appEntry });
  firstSummary = await readSessionSummary(session, first.rewrite.stacks);
}, 15 * MINUTES);

afterAll(async () => {
  await session?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
}, MINUTES);

describe('local deploy of the default config', () => {
  test('every stack is created, with the outputs the operator CLI reads', async () => {
    expect([...first.rewrite.stacks].sort()).toEqual([...STACKS].sort());
    for (const name of STACKS) expect((await stack(name)).StackStatus).toBe('CREATE_COMPLETE');

    const prereqs = await outputs('xspot-prereqs');
    for (const key of [
      'VpcId',
      'PrivateSubnetIds',
      'SecurityGroupId',
      'ControllerRoleArn',
      'WorkerRoleArn',
      'WorkerInstanceProfileName',
      'FileSystemId',
      'FileSystemDnsName',
      'LogBucketName',
    ]) {
      expect(prereqs[key]).toBeTruthy();
    }
    expect(prereqs.FileSystemDnsName).toBe(`${prereqs.FileSystemId}.efs.us-east-1.amazonaws.com`);
    const controllers = await outputs('xspot-controllers');
    for (const key of ['AutoScalingGroupName', 'LaunchTemplateId', 'LaunchTemplateVersion', 'RuntimeVersion']) {
      expect(controllers[key]).toBeTruthy();
    }
    expect(JSON.parse(controllers.RefreshPreferences)).toMatchObject({ MinHealthyPercentage: 100, SkipMatching: true });
    const image = await outputs('xspot-worker-image');
    expect(image.AmiParameterName).toBe('/xspot/xspot/worker-ami');
    expect(image.BuildLogsLocation).toBe(`s3://${prereqs.LogBucketName}/image-builder/xspot/`);
    // the pipeline is not emulated: the output says so instead of carrying an ARN
    expect(image.ImagePipelineArn).toMatch(/^not created by the local emulator/);
    // and the deploy wrote the same outputs through `cdk deploy --outputs-file`
    expect(first.outputs['xspot-prereqs']?.VpcId).toBe(prereqs.VpcId);
  });

  test('network: the VPC CIDR, two public and two private subnets, the private ones exported', async () => {
    const { VpcId, PrivateSubnetIds } = await outputs('xspot-prereqs');
    const vpc = (await session!.clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [VpcId] }))).Vpcs![0];
    expect(vpc.CidrBlock).toBe('10.0.0.0/16');
    const subnets =
      (await session!.clients.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [VpcId] }] })))
        .Subnets ?? [];
    expect(subnets).toHaveLength(4);
    const kind = (id: string) =>
      subnets.find((s) => s.SubnetId === id)?.Tags?.find((t) => t.Key === 'aws-cdk:subnet-type')?.Value;
    const privateIds = PrivateSubnetIds.split(',');
    expect(privateIds).toHaveLength(2);
    expect(privateIds.map(kind)).toEqual(['Private', 'Private']);
    expect(new Set(subnets.filter((s) => privateIds.includes(s.SubnetId!)).map((s) => s.AvailabilityZone)).size).toBe(
      2,
    );
  });

  test('security groups: all traffic from the group and the private subnets only; NFS to the mount targets from the controllers-only group', async () => {
    const { SecurityGroupId, ControllerSecurityGroupId, VpcId } = await outputs('xspot-prereqs');
    const ids = await physicalIds('xspot-prereqs', 'AWS::EC2::SecurityGroup');
    const groups =
      (await session!.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ids }))).SecurityGroups ?? [];
    expect(groups).toHaveLength(3);
    const main = groups.find((g) => g.GroupId === SecurityGroupId)!;
    const privateCidrs = (
      (await session!.clients.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [VpcId] }] })))
        .Subnets ?? []
    )
      .filter((s) => s.Tags?.some((t) => t.Key === 'aws-cdk:subnet-type' && t.Value === 'Private'))
      .map((s) => s.CidrBlock!)
      .sort();
    expect(privateCidrs).toHaveLength(2);
    const all = (main.IpPermissions ?? []).filter((p) => p.IpProtocol === '-1');
    expect(all.flatMap((p) => (p.IpRanges ?? []).map((r) => r.CidrIp)).sort()).toEqual(privateCidrs);
    expect(all.flatMap((p) => (p.UserIdGroupPairs ?? []).map((g) => g.GroupId))).toEqual([SecurityGroupId]);
    expect(JSON.stringify(main.IpPermissions)).not.toContain('0.0.0.0/0');
    const controllersOnly = groups.find((g) => g.GroupId === ControllerSecurityGroupId)!;
    expect(controllersOnly.IpPermissions ?? []).toEqual([]);
    const mounts = groups.find((g) => g.GroupId !== SecurityGroupId && g.GroupId !== ControllerSecurityGroupId)!;
    expect(mounts.IpPermissions).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 2049,
        ToPort: 2049,
        UserIdGroupPairs: [expect.objectContaining({ GroupId: ControllerSecurityGroupId })],
      }),
    ]);
  });

  test('IAM: the controller role may describe instance types (capacity planning); EFS access is not in its identity policies', async () => {
    const { ControllerRoleArn } = await outputs('xspot-prereqs');
    const roleName = ControllerRoleArn.split('/').pop()!;
    const iam = session!.clients.iam;
    const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
    expect(names.length).toBeGreaterThan(0);
    const docs = await Promise.all(
      names.map(
        async (n) => (await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: n }))).PolicyDocument,
      ),
    );
    const actions = docs.flatMap((d) => policyActions(d));
    expect(actions).toContain('ec2:DescribeInstanceTypes');
    // The mount is granted by the file-system policy to this role only (the emulator drops
    // FileSystemPolicy; test/iam evaluates it), not by an identity policy any copy could carry.
    expect(actions.filter((a) => a.startsWith('elasticfilesystem:'))).toEqual([]);
  });

  test('storage: the EFS file system is encrypted with a mount target per private subnet; the log bucket exists, encrypted', async () => {
    const { FileSystemId, LogBucketName } = await outputs('xspot-prereqs');
    const efs = session!.clients.efs;
    const fsd = (await efs.send(new DescribeFileSystemsCommand({ FileSystemId }))).FileSystems![0];
    expect(fsd.Encrypted).toBe(true);
    expect(fsd.LifeCycleState).toBe('available');
    const mts = (await efs.send(new DescribeMountTargetsCommand({ FileSystemId }))).MountTargets ?? [];
    expect(mts).toHaveLength(2);

    await expect(session!.clients.s3.send(new HeadBucketCommand({ Bucket: LogBucketName }))).resolves.toBeDefined();
    const enc = await session!.clients.s3.send(new GetBucketEncryptionCommand({ Bucket: LogBucketName }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe(
      'AES256',
    );
  });

  test('controllers: launch template with IMDSv2 required, the group at 1/1/2 with its instance in service', async () => {
    const { LaunchTemplateId, LaunchTemplateVersion, AutoScalingGroupName, RuntimeVersion } =
      await outputs('xspot-controllers');
    const lt = (
      await session!.clients.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [LaunchTemplateId] }))
    ).LaunchTemplates![0];
    expect(lt.LatestVersionNumber).toBe(1);
    expect(LaunchTemplateVersion).toBe('1');
    const v = (
      await session!.clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId, Versions: ['1'] }))
    ).LaunchTemplateVersions![0];
    expect(v.LaunchTemplateData?.MetadataOptions?.HttpTokens).toBe('required');
    expect(v.LaunchTemplateData?.ImageId).toBe('ami-0123456789abcdef0');
    expect(v.LaunchTemplateData?.InstanceType).toBe('m5d.xlarge');
    const { userData } = await latestUserData(LaunchTemplateId);
    expect(userData).toContain(`readonly RELEASE_DIR='/opt/xspot-cdk/releases/${RuntimeVersion}'`);

    const group = (
      await session!.clients.asg.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [AutoScalingGroupName] }),
      )
    ).AutoScalingGroups![0];
    expect({ min: group.MinSize, desired: group.DesiredCapacity, max: group.MaxSize }).toEqual({
      min: 1,
      desired: 1,
      max: 2,
    });
    expect(group.LaunchTemplate?.LaunchTemplateId).toBe(LaunchTemplateId);
    expect(group.Instances).toHaveLength(1);
    expect(group.Instances![0].LifecycleState).toBe('InService');
  });

  test('the runtime and config bundles the userdata downloads were published to the asset bucket', async () => {
    const { LaunchTemplateId } = await outputs('xspot-controllers');
    const urls = assetUrls((await latestUserData(LaunchTemplateId)).userData);
    expect(urls).toHaveLength(2);
    for (const u of urls) {
      await expect(
        session!.clients.s3.send(new HeadObjectCommand({ Bucket: u.bucket, Key: u.key })),
      ).resolves.toBeDefined();
    }
  });

  test('only types the emulator does not model were left out, and each is reported with a reason', () => {
    const dropped = first.rewrite.dropped;
    expect(dropped.length).toBeGreaterThan(0);
    // a type the emulator models is only left out when it references a dropped resource
    expect(dropped.filter((d) => EMULATED_TYPES.has(d.type) && !d.reason.startsWith('references '))).toEqual([]);
    for (const d of dropped) expect(d.reason).not.toBe('');
    const types = new Set(dropped.map((d) => d.type));
    expect(types).toContain('AWS::ImageBuilder::ImagePipeline');
    for (const t of ['AWS::EC2::LaunchTemplate', 'AWS::AutoScaling::AutoScalingGroup', 'AWS::EFS::FileSystem']) {
      expect(types).not.toContain(t);
    }
  });

  test('the summary names what exists', () => {
    const text = renderLocalSummary(firstSummary).join('\n');
    const s = firstSummary;
    expect(s.vpcs.map((v) => v.cidr)).toEqual(['10.0.0.0/16']);
    expect(s.subnets).toHaveLength(4);
    expect(s.fileSystems).toEqual([expect.objectContaining({ encrypted: true, mountTargets: 2 })]);
    expect(s.launchTemplates).toEqual([expect.objectContaining({ latestVersion: 1, httpTokens: 'required' })]);
    expect(s.groups[0].instances).toHaveLength(1);
    expect(text).toContain('10.0.0.0/16');
    expect(text).toContain('HttpTokens required');
    expect(text).toMatch(/Auto Scaling group xspot-controllers: min 1 \/ desired 1 \/ max 2/);
  });
});

describe('redeploy with a new X-Spot release updates the stacks in place', () => {
  let second: DeployRound;
  let before: Record<string, string>;
  let beforeIds: Record<string, string>;

  beforeAll(async () => {
    before = await outputs('xspot-controllers');
    beforeIds = await outputs('xspot-prereqs');
    const config = writeConfig(work, 'new-release.yaml', (yaml) => {
      if (!yaml.includes(OLD_RPM)) throw new Error(`config/default.yaml no longer names ${OLD_RPM}`);
      return yaml.replace(OLD_RPM, NEW_RPM);
    });
    second = await deployConfigLocally(session!, deploymentFor(config), 'deploy-2', { io, appEntry });
  }, 15 * MINUTES);

  test('the controllers stack is updated; the others are unchanged and keep their resources', async () => {
    expect((await stack('xspot-controllers')).StackStatus).toBe('UPDATE_COMPLETE');
    expect((await stack('xspot-prereqs')).StackStatus).toBe('CREATE_COMPLETE');
    expect((await stack('xspot-worker-image')).StackStatus).toBe('CREATE_COMPLETE');
    const after = await outputs('xspot-prereqs');
    expect(after.VpcId).toBe(beforeIds.VpcId);
    expect(after.FileSystemId).toBe(beforeIds.FileSystemId);
    expect(second.rewrite.stacks).toHaveLength(3);
  });

  test('a new launch template version, with new userdata naming the new runtime version', async () => {
    const after = await outputs('xspot-controllers');
    expect(after.LaunchTemplateId).toBe(before.LaunchTemplateId);
    expect(after.AutoScalingGroupName).toBe(before.AutoScalingGroupName);
    expect(after.LaunchTemplateVersion).toBe('2');
    expect(after.RuntimeVersion).not.toBe(before.RuntimeVersion);

    const latest = await latestUserData(after.LaunchTemplateId);
    expect(latest.version).toBe(2);
    expect(latest.description).toContain(after.RuntimeVersion);
    expect(latest.userData).toContain(`/opt/xspot-cdk/releases/${after.RuntimeVersion}'`);
    expect(latest.userData).not.toContain(before.RuntimeVersion);
    const lt = (
      await session!.clients.ec2.send(
        new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [after.LaunchTemplateId] }),
      )
    ).LaunchTemplates![0];
    expect(lt.LatestVersionNumber).toBe(2);
  });

  test('the new config bundle was published; the old version stays for a rollback', async () => {
    const { LaunchTemplateId } = await outputs('xspot-controllers');
    const v1 = (
      await session!.clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId, Versions: ['1'] }))
    ).LaunchTemplateVersions![0];
    const oldUrls = assetUrls(Buffer.from(v1.LaunchTemplateData!.UserData!, 'base64').toString('utf8'));
    const newUrls = assetUrls((await latestUserData(LaunchTemplateId)).userData);
    const changed = newUrls.filter((u) => !oldUrls.some((o) => o.key === u.key));
    expect(changed).toHaveLength(1); // the config bundle; the runtime is the same
    for (const u of [...oldUrls, ...newUrls]) {
      await expect(
        session!.clients.s3.send(new HeadObjectCommand({ Bucket: u.bucket, Key: u.key })),
      ).resolves.toBeDefined();
    }
  });

  test('the printed changes name the update', async () => {
    const after = await readSessionSummary(session!, second.rewrite.stacks);
    const lines = describeChanges(firstSummary, after).join('\n');
    expect(lines).toContain('xspot-controllers: CREATE_COMPLETE -> UPDATE_COMPLETE');
    expect(lines).toContain('xspot-prereqs: unchanged (CREATE_COMPLETE)');
    expect(lines).toMatch(/output LaunchTemplateVersion: 1 -> 2/);
    expect(lines).toMatch(/launch template lt-[0-9a-f]+: version 1 -> 2/);
  });
});
