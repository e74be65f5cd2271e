/**
 * What the live-check tests create in moto: images (loaded at start-up), a VPC with a secondary
 * CIDR block, private subnets behind a NAT gateway, a public subnet, a subnet that falls back to
 * the main route table (no default route), a subnet in another VPC, a key pair, a boundary
 * policy, an EFS and an FSx for Lustre file system, and SSM parameters naming parent images.
 */
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AssociateVpcCidrBlockCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateKeyPairCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import { CreateFileSystemCommand as CreateEfsCommand, EFSClient } from '@aws-sdk/client-efs';
import { CreateFileSystemCommand as CreateFsxCommand, FSxClient } from '@aws-sdk/client-fsx';
import { CreatePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { resolveConfig, type XspotConfig } from '../../lib/config/resolve';
import { ConfigSchema, type XspotConfigInput } from '../../lib/config/schema';
import type { MotoImage } from './moto-server';

export const REGION = 'us-east-1';

const DEFAULTS = ConfigSchema.parse({}).xspot;
const RELEASE_TAGS = {
  'xspot:rpm-version': DEFAULTS.rpmVersion,
  'xspot:platform-version': DEFAULTS.platformVersion,
  'xspot:kernel-version': DEFAULTS.kernelVersion,
  'xspot:guest-kernel-version': DEFAULTS.guestKernelVersion,
};

export const AMI = {
  centos7: 'ami-0c0c0c0c0c0c0c0c0',
  centos7Arm: 'ami-0a1a1a1a1a1a1a1a1',
  al2023: 'ami-0a2023a2023a2023a',
  worker: 'ami-0b0b0b0b0b0b0b0b0',
  workerOld: 'ami-0d0d0d0d0d0d0d0d0',
  workerUntagged: 'ami-0e0e0e0e0e0e0e0e0',
  controller: 'ami-0f0f0f0f0f0f0f0f0',
  missing: 'ami-0000000000000dead',
} as const;

export const CENTOS_OWNER = '125523088429';

export const IMAGES: readonly MotoImage[] = [
  {
    ami_id: AMI.centos7,
    name: 'CentOS Linux 7 x86_64 - 2211',
    description: 'CentOS Linux 7 x86_64 - 2211',
    owner_id: CENTOS_OWNER,
    architecture: 'x86_64',
  },
  {
    ami_id: AMI.centos7Arm,
    name: 'CentOS Linux 7 aarch64 - 2211',
    description: 'CentOS Linux 7 aarch64 - 2211',
    owner_id: CENTOS_OWNER,
    architecture: 'arm64',
  },
  {
    ami_id: AMI.al2023,
    name: 'al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64',
    description: 'Amazon Linux 2023 AMI 2023.6.20241010.0 x86_64 HVM kernel-6.1',
    owner_id: '137112412989',
    architecture: 'x86_64',
  },
  {
    ami_id: AMI.worker,
    name: 'xspot-worker-2023.08.07',
    owner_id: '123456789012',
    architecture: 'x86_64',
    tags: RELEASE_TAGS,
  },
  {
    ami_id: AMI.workerOld,
    name: 'xspot-worker-2023.05.01',
    owner_id: '123456789012',
    architecture: 'x86_64',
    tags: { ...RELEASE_TAGS, 'xspot:platform-version': 'xcontainer-4.11.0-v23.05.01+0123abc.el7' },
  },
  { ami_id: AMI.workerUntagged, name: 'hand-made-worker', owner_id: '123456789012', architecture: 'x86_64' },
  { ami_id: AMI.controller, name: 'site-compute-node-el7', owner_id: '123456789012', architecture: 'x86_64' },
];

export interface SubnetRef {
  readonly id: string;
  readonly cidr: string;
  readonly availabilityZone: string;
  readonly routeTableId?: string;
}

export interface World {
  readonly vpcId: string;
  readonly otherVpcId: string;
  /** Private, routes 0.0.0.0/0 to the NAT gateway (primary CIDR, us-east-1a). */
  readonly privateA: SubnetRef;
  /** Private, routes to the NAT gateway, in the secondary CIDR block (us-east-1b). */
  readonly privateB: SubnetRef;
  /** No explicit association: uses the main table, which has no default route. */
  readonly noRoute: SubnetRef;
  /** Routes 0.0.0.0/0 to the internet gateway. */
  readonly publicSubnet: SubnetRef;
  /** Private behind the NAT, in us-east-1e (where most instance types are not offered). */
  readonly privateE: SubnetRef;
  /** A subnet of the other VPC. */
  readonly foreign: SubnetRef;
  readonly keyPair: string;
  readonly boundaryArn: string;
  readonly efsId: string;
  readonly lustreId: string;
  readonly paramCentos: string;
  readonly paramArm: string;
}

export interface Clients {
  readonly ec2: EC2Client;
  readonly efs: EFSClient;
  readonly fsx: FSxClient;
  readonly iam: IAMClient;
  readonly ssm: SSMClient;
}

export function setupClients(endpoint: string): Clients {
  const cfg = { region: REGION, endpoint };
  return {
    ec2: new EC2Client(cfg),
    efs: new EFSClient(cfg),
    fsx: new FSxClient(cfg),
    iam: new IAMClient(cfg),
    ssm: new SSMClient(cfg),
  };
}

export async function buildWorld(c: Clients): Promise<World> {
  const { ec2 } = c;
  const vpcId = String((await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId);
  await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, CidrBlock: '10.1.0.0/16' }));
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: true } }));

  const subnet = async (vpc: string, cidr: string, az: string): Promise<SubnetRef> => {
    const s = await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr, AvailabilityZone: az }));
    return { id: String(s.Subnet?.SubnetId), cidr, availabilityZone: az };
  };
  const table = async (subnetRef: SubnetRef, route: { NatGatewayId?: string; GatewayId?: string }) => {
    const rt = String((await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable?.RouteTableId);
    await ec2.send(new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', ...route }));
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: rt, SubnetId: subnetRef.id }));
    return { ...subnetRef, routeTableId: rt };
  };

  const igw = String((await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway?.InternetGatewayId);
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
  const publicSubnet = await table(await subnet(vpcId, '10.0.0.0/24', 'us-east-1a'), { GatewayId: igw });
  const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  const nat = String(
    (await ec2.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet.id, AllocationId: eip.AllocationId })))
      .NatGateway?.NatGatewayId,
  );
  const privateA = await table(await subnet(vpcId, '10.0.1.0/24', 'us-east-1a'), { NatGatewayId: nat });
  const privateB = await table(await subnet(vpcId, '10.1.2.0/24', 'us-east-1b'), { NatGatewayId: nat });
  const privateE = await table(await subnet(vpcId, '10.0.4.0/24', 'us-east-1e'), { NatGatewayId: nat });
  const noRoute = await subnet(vpcId, '10.0.3.0/24', 'us-east-1b');

  const otherVpcId = String((await ec2.send(new CreateVpcCommand({ CidrBlock: '172.16.0.0/16' }))).Vpc?.VpcId);
  const foreign = await subnet(otherVpcId, '172.16.1.0/24', 'us-east-1a');

  await ec2.send(new CreateKeyPairCommand({ KeyName: 'ops' }));
  const boundaryArn = String(
    (
      await c.iam.send(
        new CreatePolicyCommand({
          PolicyName: 'hpc-boundary',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
          }),
        }),
      )
    ).Policy?.Arn,
  );
  const efsId = String((await c.efs.send(new CreateEfsCommand({ CreationToken: 'xspot-test' }))).FileSystemId);
  const lustreId = String(
    (
      await c.fsx.send(
        new CreateFsxCommand({
          FileSystemType: 'LUSTRE',
          StorageCapacity: 1200,
          SubnetIds: [privateA.id],
          LustreConfiguration: { DeploymentType: 'SCRATCH_2' },
        }),
      )
    ).FileSystem?.FileSystemId,
  );
  const paramCentos = '/xspot/test/parent-centos7';
  const paramArm = '/xspot/test/parent-arm';
  await c.ssm.send(new PutParameterCommand({ Name: paramCentos, Value: AMI.centos7, Type: 'String' }));
  await c.ssm.send(new PutParameterCommand({ Name: paramArm, Value: AMI.centos7Arm, Type: 'String' }));

  return {
    vpcId,
    otherVpcId,
    privateA,
    privateB,
    noRoute,
    publicSubnet,
    privateE,
    foreign,
    keyPair: 'ops',
    boundaryArn,
    efsId,
    lustreId,
    paramCentos,
    paramArm,
  };
}

/**
 * A config that passes every live check in the world, with `patch` merged on top (one level deep
 * per section). The patch is loosely typed on purpose: the schema checks it when the config is parsed.
 */
export function worldConfigInput(w: World, patch: Record<string, unknown> = {}): Record<string, unknown> {
  const sub = (s: SubnetRef) => ({ ...s });
  const base: XspotConfigInput = {
    deployment: { region: REGION, account: '123456789012' },
    network: {
      existingVpc: {
        vpcId: w.vpcId,
        cidrBlocks: ['10.0.0.0/16', '10.1.0.0/16'],
        privateSubnets: [sub(w.privateA), sub(w.privateB)],
      },
    },
    iam: { permissionsBoundaryArn: w.boundaryArn },
    storage: { type: 'nfs', mountPoint: '/efs', existing: { fileSystemId: w.efsId, dnsName: 'fs.example.internal' } },
    xspot: { repositoryGpgKey: 'https://packages.example.com/xspot/RPM-GPG-KEY' },
    workers: { ami: AMI.worker },
    // 3 containers x 50G fit the 150 GB store of m5d.xlarge: no over-commit warning in the baseline.
    controllers: { amiId: AMI.controller, keyPairName: w.keyPair, maxContainers: 3 },
    workerImage: { parentImage: { name: 'CentOS Linux 7 x86_64*', owners: [CENTOS_OWNER] } },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const old = merged[k];
    merged[k] =
      old && typeof old === 'object' && !Array.isArray(old) && v && typeof v === 'object' && !Array.isArray(v)
        ? { ...old, ...v }
        : v;
  }
  return merged;
}

export function worldConfig(w: World, patch: Record<string, unknown> = {}): XspotConfig {
  return resolveConfig(ConfigSchema.parse(worldConfigInput(w, patch)));
}
