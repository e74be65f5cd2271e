/**
 * Live checks of an existing VPC (network.existingVpc): the VPC and its subnets exist and match
 * the config, DNS support and DNS hostnames are on (schedulers such as LSF resolve the
 * `ip-a-b-c-d` host names), every private subnet routes 0.0.0.0/0 to a NAT gateway, and the
 * overlay network stays clear of every CIDR block of the VPC, secondary ones included; with
 * addS3Endpoint, no S3 gateway endpoint already serves the private route tables.
 */
import {
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  paginateDescribeRouteTables,
  paginateDescribeVpcEndpoints,
  type Route,
  type RouteTable,
  type Subnet,
  type Vpc,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { cidrsOverlap } from '../config/cidr';
import type { Finding } from '../config/findings';
import type { XspotConfig } from '../config/resolve';
import { aws, type LiveCheckDef, type LiveContext, liveError, liveWarning } from './live-check-context';

const SUBNETS = 'network.existingVpc.privateSubnets';

const hasExistingVpc = (c: XspotConfig) => c.network.existingVpc !== undefined;

function existing(ctx: LiveContext) {
  const v = ctx.config.network.existingVpc;
  if (!v) throw new Error('network.existingVpc is not set');
  return v;
}

/** The configured VPC as AWS describes it; undefined when it does not exist. */
export function describeVpc(ctx: LiveContext): Promise<Vpc | undefined> {
  return ctx.memo('vpc', async () => {
    const id = existing(ctx).vpcId;
    const res = await aws('ec2:DescribeVpcs', () =>
      ctx.clients.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: [id] }] })),
    );
    return res.Vpcs?.find((v) => v.VpcId === id);
  });
}

/** The configured private subnets that exist, by id. */
export function configuredSubnets(ctx: LiveContext): Promise<Map<string, Subnet>> {
  return ctx.memo('subnets', async () => {
    const ids = [...new Set(existing(ctx).privateSubnets.map((s) => s.id))];
    const res = await aws('ec2:DescribeSubnets', () =>
      ctx.clients.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: ids }] })),
    );
    return new Map((res.Subnets ?? []).filter((s) => s.SubnetId).map((s) => [String(s.SubnetId), s]));
  });
}

function routeTables(ctx: LiveContext): Promise<RouteTable[]> {
  return ctx.memo('route-tables', () =>
    aws('ec2:DescribeRouteTables', async () => {
      const out: RouteTable[] = [];
      const pages = paginateDescribeRouteTables(
        { client: ctx.clients.ec2, pageSize: 100 },
        { Filters: [{ Name: 'vpc-id', Values: [existing(ctx).vpcId] }] },
      );
      for await (const page of pages) out.push(...(page.RouteTables ?? []));
      return out;
    }),
  );
}

/** CIDR blocks associated with the VPC (primary and secondary). */
export function vpcCidrBlocks(vpc: Vpc): string[] {
  const blocks = (vpc.CidrBlockAssociationSet ?? [])
    .filter((a) => a.CidrBlock && ['associated', 'associating', undefined].includes(a.CidrBlockState?.State))
    .map((a) => String(a.CidrBlock));
  if (vpc.CidrBlock && !blocks.includes(vpc.CidrBlock)) blocks.unshift(vpc.CidrBlock);
  return blocks;
}

const vpcCheck: LiveCheckDef = {
  name: 'vpc',
  title: 'looking up the VPC',
  path: () => 'network.existingVpc.vpcId',
  applies: hasExistingVpc,
  run: async (ctx) => {
    const cfg = existing(ctx);
    const vpc = await describeVpc(ctx);
    if (!vpc) {
      return [
        liveError(
          'vpc-not-found',
          'network.existingVpc.vpcId',
          cfg.vpcId,
          `no such VPC in ${ctx.region}${ctx.account ? ` (account ${ctx.account})` : ''}`,
          'the id of an existing VPC in the deployment region',
        ),
      ];
    }
    const out: Finding[] = [];
    const blocks = vpcCidrBlocks(vpc);
    const overlay = ctx.config.workers.overlayPrefix;
    for (const b of blocks) {
      if (cidrsOverlap(overlay, b)) {
        out.push(
          liveError(
            'overlay-overlaps-vpc',
            'workers.overlayPrefix',
            overlay,
            `overlaps ${b}, a CIDR block of ${cfg.vpcId} (DescribeVpcs)`,
            `a /24 outside ${blocks.join(', ')}`,
          ),
        );
      }
    }
    cfg.cidrBlocks.forEach((b, i) => {
      if (!blocks.includes(b)) {
        out.push(
          liveError(
            'vpc-cidr-block-unknown',
            `network.existingVpc.cidrBlocks[${i}]`,
            b,
            `is not a CIDR block of ${cfg.vpcId}`,
            blocks.join(', '),
          ),
        );
      }
    });
    const unlisted = blocks.filter((b) => !cfg.cidrBlocks.includes(b));
    if (unlisted.length > 0) {
      out.push(
        liveWarning(
          'vpc-cidr-blocks-incomplete',
          'network.existingVpc.cidrBlocks',
          cfg.cidrBlocks,
          `${cfg.vpcId} also has ${unlisted.join(', ')}; the offline checks only see the blocks listed here`,
          blocks.join(', '),
        ),
      );
    }
    return out;
  },
};

const dnsCheck: LiveCheckDef = {
  name: 'vpc-dns',
  title: 'reading the VPC DNS attributes',
  path: () => 'network.existingVpc.vpcId',
  applies: hasExistingVpc,
  run: async (ctx) => {
    const id = existing(ctx).vpcId;
    if (!(await describeVpc(ctx))) return []; // reported by the vpc check
    const attr = (Attribute: 'enableDnsSupport' | 'enableDnsHostnames') =>
      aws('ec2:DescribeVpcAttribute', () =>
        ctx.clients.ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute })),
      );
    const [support, hostnames] = await Promise.all([attr('enableDnsSupport'), attr('enableDnsHostnames')]);
    const out: Finding[] = [];
    if (support.EnableDnsSupport?.Value !== true) {
      out.push(
        liveError(
          'vpc-dns-support-off',
          'network.existingVpc.vpcId',
          id,
          'DNS resolution (enableDnsSupport) is off, so instances cannot resolve the shared file system or AWS endpoints',
          'a VPC with enableDnsSupport on (aws ec2 modify-vpc-attribute --enable-dns-support)',
        ),
      );
    }
    if (hostnames.EnableDnsHostnames?.Value !== true) {
      out.push(
        liveError(
          'vpc-dns-hostnames-off',
          'network.existingVpc.vpcId',
          id,
          'DNS hostnames (enableDnsHostnames) are off, so the ip-a-b-c-d host names schedulers use for workers and controllers do not resolve',
          'a VPC with enableDnsHostnames on (aws ec2 modify-vpc-attribute --enable-dns-hostnames)',
        ),
      );
    }
    return out;
  },
};

const subnetsCheck: LiveCheckDef = {
  name: 'subnets',
  title: 'looking up the private subnets',
  path: () => SUBNETS,
  applies: hasExistingVpc,
  run: async (ctx) => {
    const cfg = existing(ctx);
    const found = await configuredSubnets(ctx);
    const out: Finding[] = [];
    cfg.privateSubnets.forEach((s, i) => {
      const p = `${SUBNETS}[${i}]`;
      const real = found.get(s.id);
      if (!real) {
        out.push(
          liveError('subnet-not-found', `${p}.id`, s.id, `no such subnet in ${ctx.region}`, 'a subnet id of the VPC'),
        );
        return;
      }
      if (real.VpcId !== cfg.vpcId) {
        out.push(
          liveError(
            'subnet-wrong-vpc',
            `${p}.id`,
            s.id,
            `belongs to ${real.VpcId}, not to network.existingVpc.vpcId ${cfg.vpcId}`,
            `a subnet of ${cfg.vpcId}`,
          ),
        );
      }
      if (real.CidrBlock && real.CidrBlock !== s.cidr) {
        out.push(
          liveError('subnet-cidr-mismatch', `${p}.cidr`, s.cidr, `${s.id} is ${real.CidrBlock}`, real.CidrBlock),
        );
      }
      if (real.AvailabilityZone && real.AvailabilityZone !== s.availabilityZone) {
        out.push(
          liveError(
            'subnet-az-mismatch',
            `${p}.availabilityZone`,
            s.availabilityZone,
            `${s.id} is in ${real.AvailabilityZone}`,
            real.AvailabilityZone,
          ),
        );
      }
    });
    return out;
  },
};

/** The table a subnet uses: its explicit association, else the VPC's main table. */
export function tableOf(subnetId: string, tables: readonly RouteTable[]): RouteTable | undefined {
  return (
    tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId)) ??
    tables.find((t) => t.Associations?.some((a) => a.Main === true))
  );
}

function target(r: Route): string {
  return String(
    r.NatGatewayId ??
      r.GatewayId ??
      r.TransitGatewayId ??
      r.InstanceId ??
      r.NetworkInterfaceId ??
      r.VpcPeeringConnectionId ??
      r.LocalGatewayId ??
      r.CarrierGatewayId ??
      'an unknown target',
  );
}

const routesCheck: LiveCheckDef = {
  name: 'subnet-routes',
  title: 'reading the route tables of the private subnets',
  path: () => SUBNETS,
  applies: hasExistingVpc,
  run: async (ctx) => {
    const cfg = existing(ctx);
    const [found, tables] = await Promise.all([configuredSubnets(ctx), routeTables(ctx)]);
    const out: Finding[] = [];
    const allowed = 'a private subnet whose route table sends 0.0.0.0/0 to a NAT gateway';
    cfg.privateSubnets.forEach((s, i) => {
      const p = `${SUBNETS}[${i}]`;
      const real = found.get(s.id);
      if (!real || real.VpcId !== cfg.vpcId) return; // reported by the subnets check
      const table = tableOf(s.id, tables);
      if (!table) {
        out.push(liveError('subnet-no-nat', `${p}.id`, s.id, `no route table applies to ${s.id}`, allowed));
        return;
      }
      const rtb = String(table.RouteTableId);
      const explicit = table.Associations?.some((a) => a.SubnetId === s.id) ?? false;
      const which = explicit ? `route table ${rtb}` : `the main route table ${rtb}`;
      if (s.routeTableId && s.routeTableId !== rtb) {
        out.push(liveError('route-table-mismatch', `${p}.routeTableId`, s.routeTableId, `${s.id} uses ${which}`, rtb));
      }
      const def = table.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
      if (!def) {
        out.push(
          liveError(
            'subnet-no-nat',
            `${p}.id`,
            s.id,
            `${which} has no default route (0.0.0.0/0); controllers and workers need a NAT gateway to reach the X-Spot repositories and license server`,
            allowed,
          ),
        );
      } else if (def.State === 'blackhole') {
        out.push(
          liveError(
            'subnet-no-nat',
            `${p}.id`,
            s.id,
            `the default route of ${which} goes to ${target(def)}, which no longer exists (blackhole)`,
            allowed,
          ),
        );
      } else if (def.NatGatewayId) {
        // the guide's setup: a private subnet behind a NAT gateway
      } else if (def.GatewayId?.startsWith('igw-')) {
        out.push(
          liveError(
            'subnet-public',
            `${p}.id`,
            s.id,
            `${which} sends 0.0.0.0/0 to the internet gateway ${def.GatewayId}: a public subnet, not a private one behind a NAT gateway`,
            allowed,
          ),
        );
      } else {
        out.push(
          liveWarning(
            'subnet-default-route-not-nat',
            `${p}.id`,
            s.id,
            `${which} sends 0.0.0.0/0 to ${target(def)}, not to a NAT gateway; make sure that path reaches the internet`,
            allowed,
          ),
        );
      }
    });
    return out;
  },
};

/** The VPC's S3 gateway endpoints. */
function s3GatewayEndpoints(ctx: LiveContext): Promise<VpcEndpoint[]> {
  return ctx.memo('s3-endpoints', () =>
    aws('ec2:DescribeVpcEndpoints', async () => {
      const out: VpcEndpoint[] = [];
      const pages = paginateDescribeVpcEndpoints(
        { client: ctx.clients.ec2, pageSize: 100 },
        {
          Filters: [
            { Name: 'vpc-id', Values: [existing(ctx).vpcId] },
            { Name: 'vpc-endpoint-type', Values: ['Gateway'] },
          ],
        },
      );
      for await (const page of pages) out.push(...(page.VpcEndpoints ?? []));
      return out.filter(
        (e) =>
          e.ServiceName?.endsWith(`.${ctx.region}.s3`) &&
          !['deleted', 'deleting'].includes(String(e.State).toLowerCase()),
      );
    }),
  );
}

/**
 * network.existingVpc.addS3Endpoint on a VPC whose private route tables already use an S3 gateway
 * endpoint: CloudFormation would fail to create the second one (one S3 gateway endpoint per
 * route table), so it is an error here.
 */
const s3EndpointCheck: LiveCheckDef = {
  name: 's3-endpoint',
  title: 'looking for an S3 gateway endpoint in the VPC',
  path: () => 'network.existingVpc.addS3Endpoint',
  applies: hasExistingVpc,
  run: async (ctx) => {
    const cfg = existing(ctx);
    if (!cfg.addS3Endpoint) return []; // the VPC is left as it is
    const [endpoints, found, tables] = await Promise.all([
      s3GatewayEndpoints(ctx),
      configuredSubnets(ctx),
      routeTables(ctx),
    ]);
    const out: Finding[] = [];
    const seen = new Set<string>();
    cfg.privateSubnets.forEach((s) => {
      const real = found.get(s.id);
      if (!real || real.VpcId !== cfg.vpcId) return; // reported by the subnets check
      const rtb = s.routeTableId ?? tableOf(s.id, tables)?.RouteTableId;
      const ep = endpoints.find((e) => rtb && e.RouteTableIds?.includes(rtb));
      if (!rtb || !ep || seen.has(rtb)) return;
      seen.add(rtb);
      out.push(
        liveError(
          's3-endpoint-exists',
          'network.existingVpc.addS3Endpoint',
          true,
          `route table ${rtb} (of ${s.id}) already uses the S3 gateway endpoint ${ep.VpcEndpointId}; the deploy would fail creating a second one`,
          'false: the existing endpoint already keeps S3 traffic off the NAT gateway',
        ),
      );
    });
    return out;
  },
};

export const NETWORK_CHECKS: readonly LiveCheckDef[] = [vpcCheck, dnsCheck, subnetsCheck, routesCheck, s3EndpointCheck];
