/**
 * What the local deploy created, read back from the emulator through the AWS SDK v3: the stacks
 * and their outputs, then each resource the stacks list (DescribeStackResources) described by its
 * own service: VPC, subnets, security groups, IAM roles and their policies, the EFS file system,
 * buckets, the launch template and its versions, the Auto Scaling group and its instances.
 * `renderLocalSummary` prints it; `describeChanges` compares two summaries (an update in place).
 * SDK only; no CDK imports.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand, DescribeMountTargetsCommand, EFSClient } from '@aws-sdk/client-efs';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetBucketEncryptionCommand, HeadBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { FAKE_CREDENTIALS, type LocalAwsTarget } from './local-deploy-cdk';
import type { DroppedResource } from './local-deploy-rewrite';

export interface LocalClients {
  readonly cfn: CloudFormationClient;
  readonly ec2: EC2Client;
  readonly iam: IAMClient;
  readonly efs: EFSClient;
  readonly s3: S3Client;
  readonly asg: AutoScalingClient;
  readonly ssm: SSMClient;
}

/** SDK v3 clients aimed at the emulator, with its fake credentials. */
export function createLocalClients(target: LocalAwsTarget): LocalClients {
  const config = {
    region: target.region,
    endpoint: target.endpoint,
    credentials: { ...FAKE_CREDENTIALS },
    maxAttempts: 2,
  };
  return {
    cfn: new CloudFormationClient(config),
    ec2: new EC2Client(config),
    iam: new IAMClient(config),
    efs: new EFSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    asg: new AutoScalingClient(config),
    ssm: new SSMClient(config),
  };
}

export function destroyLocalClients(c: LocalClients): void {
  for (const client of Object.values(c)) client.destroy();
}

export interface StackSummary {
  readonly name: string;
  readonly status: string;
  readonly outputs: Readonly<Record<string, string>>;
  /** Resource count per type, as the emulator's CloudFormation lists them. */
  readonly resourceTypes: Readonly<Record<string, number>>;
}

export interface SubnetSummary {
  readonly id: string;
  readonly cidr: string;
  readonly az: string;
  /** aws-cdk:subnet-type tag (Public, Private, Isolated) or '-'. */
  readonly kind: string;
}

export interface SecurityGroupSummary {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** One line per rule: `tcp 2049 from sg-...`, `all from 10.0.0.0/16`. */
  readonly ingress: readonly string[];
}

export interface RoleSummary {
  readonly name: string;
  readonly arn: string;
  readonly stack: string;
  readonly logicalId: string;
  /** Inline policy name -> the actions it allows. */
  readonly inlinePolicies: Readonly<Record<string, readonly string[]>>;
  readonly managedPolicies: readonly string[];
}

export interface FileSystemSummary {
  readonly id: string;
  readonly encrypted: boolean;
  readonly state: string;
  readonly mountTargets: number;
}

export interface BucketSummary {
  readonly name: string;
  readonly logicalId: string;
  /** SSE algorithm of the default encryption, or '-' when the emulator reports none. */
  readonly encryption: string;
}

export interface LaunchTemplateSummary {
  readonly id: string;
  readonly name: string;
  readonly latestVersion: number;
  readonly defaultVersion: number;
  /** MetadataOptions.HttpTokens of the latest version ('required' = IMDSv2 only). */
  readonly httpTokens: string;
  readonly latestDescription: string;
  /** SHA-256 prefix of the latest version's user data, to see that it changed. */
  readonly userDataDigest: string;
}

export interface InstanceSummary {
  readonly id: string;
  readonly az: string;
  readonly lifecycleState: string;
  readonly health: string;
  readonly launchTemplateVersion: string;
}

export interface GroupSummary {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  readonly launchTemplateId: string;
  readonly launchTemplateVersion: string;
  readonly lifecycleHooks: readonly string[];
  readonly instances: readonly InstanceSummary[];
}

export interface LocalSummary {
  readonly stacks: readonly StackSummary[];
  readonly vpcs: readonly { id: string; cidr: string }[];
  readonly subnets: readonly SubnetSummary[];
  readonly securityGroups: readonly SecurityGroupSummary[];
  readonly roles: readonly RoleSummary[];
  readonly fileSystems: readonly FileSystemSummary[];
  readonly buckets: readonly BucketSummary[];
  readonly launchTemplates: readonly LaunchTemplateSummary[];
  readonly groups: readonly GroupSummary[];
  readonly ssmParameters: readonly { name: string; value: string }[];
  /** Objects in the CDK asset bucket (runtime and config bundles, templates). */
  readonly assetObjects: number;
}

interface StackResource {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
}

function ruleLines(perms: readonly IpPermission[] | undefined): string[] {
  const out: string[] = [];
  for (const p of perms ?? []) {
    const proto = p.IpProtocol === '-1' ? 'all' : (p.IpProtocol ?? '?');
    const ports =
      p.IpProtocol === '-1' || p.FromPort === undefined || p.FromPort === -1
        ? ''
        : p.FromPort === p.ToPort
          ? ` ${p.FromPort}`
          : ` ${p.FromPort}-${p.ToPort}`;
    const sources = [
      ...(p.IpRanges ?? []).map((r) => r.CidrIp ?? '?'),
      ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6 ?? '?'),
      ...(p.UserIdGroupPairs ?? []).map((g) => g.GroupId ?? '?'),
      ...(p.PrefixListIds ?? []).map((l) => l.PrefixListId ?? '?'),
    ];
    for (const s of sources.length > 0 ? sources : ['?']) out.push(`${proto}${ports} from ${s}`);
  }
  return out;
}

/** A policy document as IAM returns it (URL-encoded JSON, or plain JSON from some emulators). */
export function policyActions(document: string | undefined): string[] {
  if (!document) return [];
  let doc: { Statement?: unknown } | undefined;
  for (const text of [document, decodeURIComponent(document)]) {
    try {
      doc = JSON.parse(text);
      break;
    } catch {
      // try the next form
    }
  }
  if (!doc) throw new Error(`unreadable policy document: ${decodeURIComponent(document).slice(0, 120)}`);
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  const actions: string[] = [];
  for (const s of statements as { Effect?: string; Action?: string | string[] }[]) {
    if (s.Effect !== 'Allow' || s.Action === undefined) continue;
    actions.push(...(Array.isArray(s.Action) ? s.Action : [s.Action]));
  }
  return [...new Set(actions)].sort();
}

async function digest(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** Reads back everything the named stacks created. */
export async function readLocalSummary(
  c: LocalClients,
  stackNames: readonly string[],
  opts: { assetBucket?: string } = {},
): Promise<LocalSummary> {
  const stacks: StackSummary[] = [];
  const resources: StackResource[] = [];
  for (const name of stackNames) {
    const s = (await c.cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
    const res = (await c.cfn.send(new DescribeStackResourcesCommand({ StackName: name }))).StackResources ?? [];
    const types: Record<string, number> = {};
    for (const r of res) {
      const type = r.ResourceType ?? '?';
      types[type] = (types[type] ?? 0) + 1;
      resources.push({ stack: name, logicalId: r.LogicalResourceId ?? '?', type, physicalId: r.PhysicalResourceId });
    }
    stacks.push({
      name,
      status: s?.StackStatus ?? 'MISSING',
      outputs: Object.fromEntries((s?.Outputs ?? []).map((o) => [o.OutputKey ?? '?', o.OutputValue ?? ''])),
      resourceTypes: types,
    });
  }
  const ids = (type: string) => resources.filter((r) => r.type === type && r.physicalId).map((r) => r.physicalId!);
  const ofType = (type: string) => resources.filter((r) => r.type === type && r.physicalId);

  const vpcIds = ids('AWS::EC2::VPC');
  const vpcs = vpcIds.length
    ? ((await c.ec2.send(new DescribeVpcsCommand({ VpcIds: vpcIds }))).Vpcs ?? []).map((v) => ({
        id: v.VpcId ?? '?',
        cidr: v.CidrBlock ?? '?',
      }))
    : [];

  const subnetIds = ids('AWS::EC2::Subnet');
  const subnets = subnetIds.length
    ? ((await c.ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }))).Subnets ?? [])
        .map((s) => ({
          id: s.SubnetId ?? '?',
          cidr: s.CidrBlock ?? '?',
          az: s.AvailabilityZone ?? '?',
          kind: s.Tags?.find((t) => t.Key === 'aws-cdk:subnet-type')?.Value ?? '-',
        }))
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.cidr.localeCompare(b.cidr))
    : [];

  const sgIds = ids('AWS::EC2::SecurityGroup');
  const securityGroups = sgIds.length
    ? ((await c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: sgIds }))).SecurityGroups ?? []).map((g) => ({
        id: g.GroupId ?? '?',
        name: g.GroupName ?? '?',
        description: g.Description ?? '',
        ingress: ruleLines(g.IpPermissions),
      }))
    : [];

  const roles: RoleSummary[] = [];
  for (const r of ofType('AWS::IAM::Role')) {
    const role = (await c.iam.send(new GetRoleCommand({ RoleName: r.physicalId }))).Role;
    const names = (await c.iam.send(new ListRolePoliciesCommand({ RoleName: r.physicalId }))).PolicyNames ?? [];
    const inline: Record<string, string[]> = {};
    for (const n of names) {
      const p = await c.iam.send(new GetRolePolicyCommand({ RoleName: r.physicalId, PolicyName: n }));
      inline[n] = policyActions(p.PolicyDocument);
    }
    const attached =
      (await c.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: r.physicalId }))).AttachedPolicies ?? [];
    roles.push({
      name: r.physicalId!,
      arn: role?.Arn ?? '?',
      stack: r.stack,
      logicalId: r.logicalId,
      inlinePolicies: inline,
      managedPolicies: attached.map((a) => a.PolicyName ?? a.PolicyArn ?? '?'),
    });
  }

  const fileSystems: FileSystemSummary[] = [];
  for (const id of ids('AWS::EFS::FileSystem')) {
    const fsd = (await c.efs.send(new DescribeFileSystemsCommand({ FileSystemId: id }))).FileSystems?.[0];
    const mts = (await c.efs.send(new DescribeMountTargetsCommand({ FileSystemId: id }))).MountTargets ?? [];
    fileSystems.push({
      id,
      encrypted: fsd?.Encrypted === true,
      state: fsd?.LifeCycleState ?? '?',
      mountTargets: mts.length,
    });
  }

  const buckets: BucketSummary[] = [];
  for (const b of ofType('AWS::S3::Bucket')) {
    await c.s3.send(new HeadBucketCommand({ Bucket: b.physicalId }));
    let encryption = '-';
    try {
      const enc = await c.s3.send(new GetBucketEncryptionCommand({ Bucket: b.physicalId }));
      encryption =
        enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm ?? '-';
    } catch {
      // no default encryption recorded
    }
    buckets.push({ name: b.physicalId!, logicalId: b.logicalId, encryption });
  }

  const launchTemplates: LaunchTemplateSummary[] = [];
  const ltIds = ids('AWS::EC2::LaunchTemplate');
  if (ltIds.length) {
    const lts = (await c.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ltIds }))).LaunchTemplates;
    for (const lt of lts ?? []) {
      const latest = (
        await c.ec2.send(
          new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId, Versions: ['$Latest'] }),
        )
      ).LaunchTemplateVersions?.[0];
      launchTemplates.push({
        id: lt.LaunchTemplateId ?? '?',
        name: lt.LaunchTemplateName ?? '?',
        latestVersion: lt.LatestVersionNumber ?? 0,
        defaultVersion: lt.DefaultVersionNumber ?? 0,
        httpTokens: latest?.LaunchTemplateData?.MetadataOptions?.HttpTokens ?? '-',
        latestDescription: latest?.VersionDescription ?? '',
        userDataDigest: await digest(latest?.LaunchTemplateData?.UserData ?? ''),
      });
    }
  }

  const groups: GroupSummary[] = [];
  const groupNames = ids('AWS::AutoScaling::AutoScalingGroup');
  if (groupNames.length) {
    const found = await c.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: groupNames }));
    for (const g of found.AutoScalingGroups ?? []) {
      const hooks = await c.asg.send(
        new DescribeLifecycleHooksCommand({ AutoScalingGroupName: g.AutoScalingGroupName }),
      );
      groups.push({
        name: g.AutoScalingGroupName ?? '?',
        min: g.MinSize ?? 0,
        max: g.MaxSize ?? 0,
        desired: g.DesiredCapacity ?? 0,
        launchTemplateId: g.LaunchTemplate?.LaunchTemplateId ?? '-',
        launchTemplateVersion: g.LaunchTemplate?.Version ?? '-',
        lifecycleHooks: (hooks.LifecycleHooks ?? []).map((h) => h.LifecycleHookName ?? '?'),
        instances: (g.Instances ?? []).map((i) => ({
          id: i.InstanceId ?? '?',
          az: i.AvailabilityZone ?? '?',
          lifecycleState: i.LifecycleState ?? '?',
          health: i.HealthStatus ?? '?',
          launchTemplateVersion: i.LaunchTemplate?.Version ?? '-',
        })),
      });
    }
  }

  const ssmParameters: { name: string; value: string }[] = [];
  for (const name of ids('AWS::SSM::Parameter')) {
    const p = await c.ssm.send(new GetParameterCommand({ Name: name }));
    ssmParameters.push({ name, value: p.Parameter?.Value ?? '' });
  }

  let assetObjects = 0;
  if (opts.assetBucket) {
    let token: string | undefined;
    do {
      const page = await c.s3.send(new ListObjectsV2Command({ Bucket: opts.assetBucket, ContinuationToken: token }));
      assetObjects += page.KeyCount ?? page.Contents?.length ?? 0;
      token = page.NextContinuationToken;
    } while (token);
  }

  return {
    stacks,
    vpcs,
    subnets,
    securityGroups,
    roles,
    fileSystems,
    buckets,
    launchTemplates,
    groups,
    ssmParameters,
    assetObjects,
  };
}

/** What the emulator accepts but cannot show; printed after every summary. */
export const EMULATOR_LIMITS: readonly string[] = [
  'instances do not boot: no user data runs, so there is no X-Spot bootstrap, no health check and no logs',
  'lifecycle hooks (launch bootstrap, terminate drain) are not created; instances go straight to InService',
  'a redeploy creates the new launch template version, but the emulator leaves the Auto Scaling group on the ' +
    "version it had (on AWS the deploy points the group at it) and has no instance refresh ('xspot-cdk fleet upgrade')",
  "IMDSv2 is recorded on the launch template but not applied to the emulator's instances",
  'Image Builder (worker AMI pipeline), custom resources, alarms, bucket and topic policies are not created',
];

function table(header: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The summary as printed by `xspot-cdk local deploy`. */
export function renderLocalSummary(s: LocalSummary): string[] {
  const out: string[] = [];
  out.push('stacks:');
  out.push(
    ...table(
      ['stack', 'status', 'resources', 'outputs'],
      s.stacks.map((st) => [
        st.name,
        st.status,
        String(Object.values(st.resourceTypes).reduce((a, b) => a + b, 0)),
        String(Object.keys(st.outputs).filter((k) => !k.startsWith('ExportsOutput')).length),
      ]),
    ),
  );
  for (const v of s.vpcs) out.push(`VPC ${v.id} ${v.cidr}`);
  out.push(`subnets (${s.subnets.length}):`);
  out.push(
    ...table(
      ['subnet', 'cidr', 'az', 'type'],
      s.subnets.map((x) => [x.id, x.cidr, x.az, x.kind]),
    ),
  );
  out.push(`security groups (${s.securityGroups.length}):`);
  for (const g of s.securityGroups) {
    out.push(`  ${g.id}  ${g.description || g.name}`);
    for (const r of g.ingress) out.push(`    ingress ${r}`);
    if (g.ingress.length === 0) out.push('    no ingress');
  }
  out.push(`IAM roles (${s.roles.length}):`);
  out.push(
    ...table(
      ['role', 'inline policies', 'allowed actions'],
      s.roles.map((r) => [
        r.name,
        String(Object.keys(r.inlinePolicies).length),
        String(new Set(Object.values(r.inlinePolicies).flat()).size),
      ]),
    ),
  );
  for (const f of s.fileSystems) {
    out.push(
      `file system ${f.id}: ${f.state}, ${f.encrypted ? 'encrypted' : 'NOT encrypted'}, ${f.mountTargets} mount target(s)`,
    );
  }
  for (const b of s.buckets) out.push(`bucket ${b.name} (${b.logicalId}), default encryption ${b.encryption}`);
  for (const lt of s.launchTemplates) {
    out.push(
      `launch template ${lt.id}: latest version ${lt.latestVersion} (default ${lt.defaultVersion}), ` +
        `HttpTokens ${lt.httpTokens}${lt.latestDescription ? `, "${lt.latestDescription}"` : ''}`,
    );
  }
  for (const g of s.groups) {
    out.push(
      `Auto Scaling group ${g.name}: min ${g.min} / desired ${g.desired} / max ${g.max}, ` +
        `launch template ${g.launchTemplateId} version ${g.launchTemplateVersion}, ` +
        `lifecycle hooks: ${g.lifecycleHooks.join(', ') || 'none'}`,
    );
    out.push(
      ...table(
        ['instance', 'az', 'state', 'health', 'lt version'],
        g.instances.map((i) => [i.id, i.az, i.lifecycleState, i.health, i.launchTemplateVersion]),
        '    ',
      ),
    );
  }
  for (const p of s.ssmParameters) out.push(`SSM parameter ${p.name} = ${p.value}`);
  if (s.assetObjects) out.push(`CDK asset bucket: ${s.assetObjects} object(s) (templates, runtime and config bundles)`);
  return out;
}

/** The dropped resources, one line each, grouped by stack. */
export function renderDropped(dropped: readonly DroppedResource[]): string[] {
  if (dropped.length === 0) return ['every resource of every stack was deployed to the emulator'];
  const out = [`not deployed to the emulator (${dropped.length} resources; they are deployed on AWS):`];
  out.push(
    ...table(
      ['stack', 'resource', 'type', 'why'],
      dropped.map((d) => [d.stack, d.logicalId, d.type, d.reason]),
    ),
  );
  return out;
}

/** Lines that say what an update changed: stack status, outputs, launch template versions. */
export function describeChanges(before: LocalSummary, after: LocalSummary): string[] {
  const out: string[] = [];
  for (const st of after.stacks) {
    const old = before.stacks.find((x) => x.name === st.name);
    if (!old) out.push(`${st.name}: new, ${st.status}`);
    else if (old.status === st.status) out.push(`${st.name}: unchanged (${st.status})`);
    else out.push(`${st.name}: ${old.status} -> ${st.status}`);
    for (const [k, v] of Object.entries(st.outputs)) {
      if (k.startsWith('ExportsOutput')) continue;
      const was = old?.outputs[k];
      if (was !== v) out.push(`  output ${k}: ${was ?? '(none)'} -> ${v}`);
    }
  }
  for (const lt of after.launchTemplates) {
    const old = before.launchTemplates.find((x) => x.id === lt.id);
    if (!old) out.push(`launch template ${lt.id}: new`);
    else if (old.latestVersion !== lt.latestVersion || old.userDataDigest !== lt.userDataDigest) {
      out.push(
        `launch template ${lt.id}: version ${old.latestVersion} -> ${lt.latestVersion}, ` +
          `user data ${old.userDataDigest} -> ${lt.userDataDigest}`,
      );
    } else out.push(`launch template ${lt.id}: unchanged (version ${lt.latestVersion})`);
  }
  for (const g of after.groups) {
    const old = before.groups.find((x) => x.name === g.name);
    if (old && old.launchTemplateVersion === g.launchTemplateVersion) {
      out.push(
        `Auto Scaling group ${g.name}: still on launch template version ${g.launchTemplateVersion} in the emulator ` +
          '(on AWS the deploy points the group at the new version; xspot-cdk fleet upgrade then replaces the controllers)',
      );
    } else if (old) {
      out.push(`Auto Scaling group ${g.name}: version ${old.launchTemplateVersion} -> ${g.launchTemplateVersion}`);
    }
  }
  if (after.assetObjects !== before.assetObjects) {
    out.push(`CDK asset bucket: ${before.assetObjects} -> ${after.assetObjects} object(s)`);
  }
  return out;
}
