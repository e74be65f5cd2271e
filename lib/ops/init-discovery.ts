/**
 * What `xspot-cdk init` offers when it has AWS credentials: the account's VPCs, a VPC's subnets
 * (with the route that decides whether controllers may use them), the region's availability zones
 * and the account's own images. Read-only EC2 and STS calls; SDK only, no CDK imports.
 */
import {
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  paginateDescribeRouteTables,
  type RouteTable,
  type Tag,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { tableOf, vpcCidrBlocks } from './live-check-network';

export interface InitClients {
  readonly ec2: EC2Client;
  readonly sts: STSClient;
}

export interface InitClientOptions {
  readonly region: string;
  readonly profile?: string;
  /** One endpoint for every service (a local AWS emulator); AWS_ENDPOINT_URL works too. */
  readonly endpoint?: string;
}

export function createInitClients(o: InitClientOptions): InitClients {
  const base = {
    region: o.region,
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
  };
  return { ec2: new EC2Client(base), sts: new STSClient(base) };
}

export function destroyInitClients(c: InitClients): void {
  c.ec2.destroy();
  c.sts.destroy();
}

const nameTag = (tags: readonly Tag[] | undefined) => tags?.find((t) => t.Key === 'Name')?.Value;

/** The caller's account (throws the SDK's error when there are no usable credentials). */
export async function callerAccount(c: InitClients): Promise<string> {
  const id = await c.sts.send(new GetCallerIdentityCommand({}));
  return String(id.Account);
}

export interface VpcChoice {
  readonly id: string;
  readonly name?: string;
  readonly cidrBlocks: readonly string[];
  readonly isDefault: boolean;
}

export async function listVpcs(c: InitClients): Promise<VpcChoice[]> {
  const res = await c.ec2.send(new DescribeVpcsCommand({}));
  return (res.Vpcs ?? [])
    .filter((v) => v.VpcId && v.State !== 'pending')
    .map((v) => ({
      id: String(v.VpcId),
      ...(nameTag(v.Tags) ? { name: nameTag(v.Tags) } : {}),
      cidrBlocks: vpcCidrBlocks(v),
      isDefault: v.IsDefault === true,
    }))
    .sort((a, b) => Number(a.isDefault) - Number(b.isDefault) || a.id.localeCompare(b.id));
}

/** How a subnet reaches the internet: the default route of the table it uses. */
export type SubnetRoute = 'nat' | 'public' | 'none' | 'other';

export interface SubnetChoice {
  readonly id: string;
  readonly name?: string;
  readonly cidr: string;
  readonly availabilityZone: string;
  /** The table the subnet uses (its own association, else the VPC's main table). */
  readonly routeTableId?: string;
  readonly route: SubnetRoute;
}

function routeOf(table: RouteTable | undefined): SubnetRoute {
  const def = table?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
  if (!def || def.State === 'blackhole') return 'none';
  if (def.NatGatewayId) return 'nat';
  if (def.GatewayId?.startsWith('igw-')) return 'public';
  return 'other';
}

/** The VPC's subnets, private ones behind a NAT gateway first, then by AZ. */
export async function listSubnets(c: InitClients, vpcId: string): Promise<SubnetChoice[]> {
  // a fresh input each: the paginator writes NextToken and MaxResults into the one it is given
  const filter = () => ({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] });
  const [subnets, tables] = await Promise.all([
    c.ec2.send(new DescribeSubnetsCommand(filter())),
    (async () => {
      const out: RouteTable[] = [];
      for await (const page of paginateDescribeRouteTables({ client: c.ec2, pageSize: 100 }, filter())) {
        out.push(...(page.RouteTables ?? []));
      }
      return out;
    })(),
  ]);
  const rank: Record<SubnetRoute, number> = { nat: 0, other: 1, none: 2, public: 3 };
  return (subnets.Subnets ?? [])
    .filter((s) => s.SubnetId && s.CidrBlock && s.AvailabilityZone)
    .map((s) => {
      const table = tableOf(String(s.SubnetId), tables);
      return {
        id: String(s.SubnetId),
        ...(nameTag(s.Tags) ? { name: nameTag(s.Tags) } : {}),
        cidr: String(s.CidrBlock),
        availabilityZone: String(s.AvailabilityZone),
        ...(table?.RouteTableId ? { routeTableId: table.RouteTableId } : {}),
        route: routeOf(table),
      };
    })
    .sort(
      (a, b) =>
        rank[a.route] - rank[b.route] ||
        a.availabilityZone.localeCompare(b.availabilityZone) ||
        a.cidr.localeCompare(b.cidr, undefined, { numeric: true }),
    );
}

/** The region's available availability zones (not Local or Wavelength zones), sorted. */
export async function listAzs(c: InitClients): Promise<string[]> {
  const res = await c.ec2.send(
    new DescribeAvailabilityZonesCommand({
      Filters: [
        { Name: 'zone-type', Values: ['availability-zone'] },
        { Name: 'state', Values: ['available'] },
      ],
    }),
  );
  return (res.AvailabilityZones ?? [])
    .map((z) => z.ZoneName)
    .filter((n): n is string => !!n)
    .sort();
}

export interface ImageChoice {
  readonly id: string;
  readonly name: string;
  readonly created?: string;
}

/** The account's own available x86_64 images, newest first: where a site's controller image lives. */
export async function listOwnImages(c: InitClients): Promise<ImageChoice[]> {
  const res = await c.ec2.send(
    new DescribeImagesCommand({
      Owners: ['self'],
      Filters: [
        { Name: 'state', Values: ['available'] },
        { Name: 'architecture', Values: ['x86_64'] },
      ],
    }),
  );
  return (res.Images ?? [])
    .filter((i) => i.ImageId)
    .map((i) => ({
      id: String(i.ImageId),
      name: i.Name ?? '',
      ...(i.CreationDate ? { created: i.CreationDate } : {}),
    }))
    .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.id.localeCompare(b.id));
}
