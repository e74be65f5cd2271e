/**
 * Live instance-type checks: every type or family in the config (controller, AMI builder,
 * on-demand and spot worker lists) exists in the region, is offered in the chosen AZs, is x86_64,
 * is Nitro where the guide requires it, fits the docker disk (controller), keeps to one CPU vendor
 * and is offered for the usage class its list needs. Families ("r5") are expanded with
 * DescribeInstanceTypes filters ("r5.*").
 */
import {
  DescribeAvailabilityZonesCommand,
  DescribeSubnetsCommand,
  type InstanceTypeInfo,
  paginateDescribeInstanceTypeOfferings,
  paginateDescribeInstanceTypes,
} from '@aws-sdk/client-ec2';
import { newVpcAzs } from '../config/az';
import type { Finding } from '../config/findings';
import { cpuVendor } from '../config/instance-types';
import type { XspotConfig } from '../config/resolve';
import { dockerDiskOvercommit } from '../config/validate';
import { aws, chunks, type LiveCheckDef, type LiveContext, liveError, liveWarning, plural } from './live-check-context';
import { configuredSubnets } from './live-check-network';

export type TypeRole = 'controller' | 'builder' | 'onDemand' | 'spot';

export interface TypeEntry {
  /** Field path, e.g. "workers.spotFleetTypes[2]". */
  readonly path: string;
  /** As written: a type ("m5.xlarge") or a family ("r5"). */
  readonly value: string;
  readonly role: TypeRole;
  readonly isFamily: boolean;
}

/** Every instance type or family the config names, with its field path. */
export function instanceTypeEntries(c: XspotConfig): TypeEntry[] {
  const entry = (path: string, value: string, role: TypeRole): TypeEntry => ({
    path,
    value,
    role,
    isFamily: !value.includes('.'),
  });
  return [
    entry('controllers.instanceType', c.controllers.instanceType, 'controller'),
    ...c.workerImage.builderInstanceTypes.map((t, i) => entry(`workerImage.builderInstanceTypes[${i}]`, t, 'builder')),
    ...c.workers.onDemandTypes.map((t, i) => entry(`workers.onDemandTypes[${i}]`, t, 'onDemand')),
    ...c.workers.spotFleetTypes.map((t, i) => entry(`workers.spotFleetTypes[${i}]`, t, 'spot')),
  ];
}

/** DescribeInstanceTypes for every type and family in the config, keyed by type name. */
export function describeConfiguredTypes(ctx: LiveContext): Promise<Map<string, InstanceTypeInfo>> {
  return ctx.memo('instance-types', async () => {
    const values = [
      ...new Set(instanceTypeEntries(ctx.config).map((e) => (e.isFamily ? `${e.value}.*` : e.value))),
    ].sort();
    const out = new Map<string, InstanceTypeInfo>();
    await Promise.all(
      chunks(values, 100).map((chunk) =>
        aws('ec2:DescribeInstanceTypes', async () => {
          const pages = paginateDescribeInstanceTypes(
            { client: ctx.clients.ec2, pageSize: 100 },
            { Filters: [{ Name: 'instance-type', Values: chunk }] },
          );
          for await (const page of pages) {
            for (const t of page.InstanceTypes ?? []) if (t.InstanceType) out.set(t.InstanceType, t);
          }
        }),
      ),
    );
    return out;
  });
}

/** The types an entry stands for: itself, or every size of its family. */
export function membersOf(entry: TypeEntry, types: ReadonlyMap<string, InstanceTypeInfo>): InstanceTypeInfo[] {
  if (!entry.isFamily) {
    const t = types.get(entry.value);
    return t ? [t] : [];
  }
  return [...types.values()]
    .filter((t) => t.InstanceType?.startsWith(`${entry.value}.`))
    .sort((a, b) => String(a.InstanceType).localeCompare(String(b.InstanceType)));
}

export interface ChosenAzs {
  readonly azs: readonly string[];
  /** Where the AZs come from, for messages. */
  readonly source: string;
}

/** The region's available AZs (zone type availability-zone), and those with a default subnet. */
export function regionAzs(ctx: LiveContext): Promise<{ available: string[]; withDefaultSubnet: string[] }> {
  return ctx.memo('region-azs', async () => {
    const [zones, defaults] = await Promise.all([
      aws('ec2:DescribeAvailabilityZones', () =>
        ctx.clients.ec2.send(
          new DescribeAvailabilityZonesCommand({
            Filters: [
              { Name: 'zone-type', Values: ['availability-zone'] },
              { Name: 'state', Values: ['available'] },
            ],
          }),
        ),
      ),
      aws('ec2:DescribeSubnets', () =>
        ctx.clients.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] })),
      ),
    ]);
    const available = (zones.AvailabilityZones ?? [])
      .map((z) => z.ZoneName)
      .filter((n): n is string => !!n)
      .sort();
    const withDefault = new Set(
      (defaults.Subnets ?? []).map((s) => s.AvailabilityZone).filter((z): z is string => !!z),
    );
    return { available, withDefaultSubnet: available.filter((az) => withDefault.has(az)) };
  });
}

/**
 * What CloudFormation's Fn::GetAZs returns for the region, modelled on its documentation: the
 * AZs that have a default subnet, or every AZ when none has one, in alphabetical order.
 * (CloudFormation User Guide, "Fn::GetAZs": "returns only Availability Zones that have a default
 * subnet unless none of the Availability Zones has a default subnet".)
 */
export function getAzsModel(r: { available: readonly string[]; withDefaultSubnet: readonly string[] }): string[] {
  return [...(r.withDefaultSubnet.length > 0 ? r.withDefaultSubnet : r.available)].sort();
}

/**
 * The AZs the deployment will use: those of the existing VPC's private subnets (as AWS reports
 * them, falling back to the config when DescribeSubnets is refused); for a new VPC, the AZs named
 * in network.newVpc.availabilityZones that exist, or the first maxAzs entries of Fn::GetAZs.
 */
export function chosenAzs(ctx: LiveContext): Promise<ChosenAzs> {
  return ctx.memo('azs', async () => {
    const existing = ctx.config.network.existingVpc;
    if (existing) {
      let found = new Map<string, { AvailabilityZone?: string }>();
      try {
        found = await configuredSubnets(ctx);
      } catch {
        // the subnet check reports the refusal; the config's AZs are the best guess here
      }
      const azs = existing.privateSubnets.map((s) => found.get(s.id)?.AvailabilityZone ?? s.availabilityZone);
      return { azs: [...new Set(azs)].sort(), source: 'the AZs of network.existingVpc.privateSubnets' };
    }
    const want = newVpcAzs(ctx.config.network.newVpc);
    const region = await regionAzs(ctx);
    if (want.kind === 'named') {
      return {
        azs: want.azs.filter((az) => region.available.includes(az)),
        source: 'network.newVpc.availabilityZones',
      };
    }
    return {
      azs: getAzsModel(region).slice(0, want.count),
      source: `the first ${plural(want.count, 'AZ')} Fn::GetAZs returns in ${ctx.region} (network.newVpc.maxAzs)`,
    };
  });
}

/** The AZs a new VPC needs exist in the region and are available. */
const azCheck: LiveCheckDef = {
  name: 'availability-zones',
  title: 'checking the availability zones',
  path: () => 'network.newVpc.availabilityZones',
  run: async (ctx) => {
    if (ctx.config.network.existingVpc) return []; // the subnets check reports the subnets' AZs
    const want = newVpcAzs(ctx.config.network.newVpc);
    const region = await regionAzs(ctx);
    const listed = region.available.join(', ') || 'none';
    if (want.kind === 'named') {
      return want.azs.flatMap((az, i) =>
        region.available.includes(az)
          ? []
          : [
              liveError(
                'az-not-found',
                `network.newVpc.availabilityZones[${i}]`,
                az,
                `is not an available availability zone of ${ctx.region} for this account (DescribeAvailabilityZones lists ${listed})`,
                `one of ${listed}`,
              ),
            ],
      );
    }
    const resolved = getAzsModel(region);
    if (resolved.length >= want.count) return [];
    return [
      liveError(
        'az-too-few',
        'network.newVpc.maxAzs',
        want.count,
        `${ctx.region} offers ${plural(resolved.length, 'AZ')} to Fn::GetAZs (${resolved.join(', ') || 'none'}), fewer than the VPC would span`,
        `at most ${resolved.length}, or name the AZs in network.newVpc.availabilityZones`,
      ),
    ];
  },
};

/** DescribeInstanceTypeOfferings (availability-zone) of the given types in the given AZs: type -> AZs. */
function offerings(ctx: LiveContext, types: readonly string[], azs: readonly string[]) {
  return ctx.memo(`offerings:${types.join(',')}:${azs.join(',')}`, async () => {
    const out = new Map<string, Set<string>>();
    await Promise.all(
      chunks(types, 100).map((chunk) =>
        aws('ec2:DescribeInstanceTypeOfferings', async () => {
          const pages = paginateDescribeInstanceTypeOfferings(
            { client: ctx.clients.ec2, pageSize: 1000 },
            {
              LocationType: 'availability-zone',
              Filters: [
                { Name: 'instance-type', Values: chunk },
                { Name: 'location', Values: [...azs] },
              ],
            },
          );
          for await (const page of pages) {
            for (const o of page.InstanceTypeOfferings ?? []) {
              if (!o.InstanceType || !o.Location) continue;
              const set = out.get(o.InstanceType) ?? new Set<string>();
              set.add(o.Location);
              out.set(o.InstanceType, set);
            }
          }
        }),
      ),
    );
    return out;
  });
}

const typeNames = (ts: readonly InstanceTypeInfo[]) => ts.map((t) => String(t.InstanceType));

const existsCheck: LiveCheckDef = {
  name: 'instance-types',
  title: 'looking up the instance types',
  path: () => 'workers.spotFleetTypes',
  run: async (ctx) => {
    const types = await describeConfiguredTypes(ctx);
    const out: Finding[] = [];
    for (const e of instanceTypeEntries(ctx.config)) {
      const members = membersOf(e, types);
      if (members.length === 0) {
        out.push(
          liveError(
            'instance-type-unknown',
            e.path,
            e.value,
            e.isFamily ? `no ${e.value}.* instance types exist in ${ctx.region}` : `does not exist in ${ctx.region}`,
            'an instance type that `aws ec2 describe-instance-types` lists in the region',
          ),
        );
        continue;
      }
      const x86 = members.filter((t) => t.ProcessorInfo?.SupportedArchitectures?.includes('x86_64'));
      if (x86.length === 0) {
        const archs = [...new Set(members.flatMap((t) => t.ProcessorInfo?.SupportedArchitectures ?? []))];
        out.push(
          liveError(
            'arch-not-x86-64',
            e.path,
            e.value,
            `is ${archs.join('/') || 'of unknown architecture'} (DescribeInstanceTypes); X-Spot supports 64-bit x86 (x86_64) only`,
            'an x86_64 type such as m5.xlarge',
          ),
        );
      }
    }
    return out;
  },
};

const offeredCheck: LiveCheckDef = {
  name: 'instance-type-offerings',
  title: 'looking up where the instance types are offered',
  path: () => 'workers.spotFleetTypes',
  run: async (ctx) => {
    const [types, { azs, source }] = await Promise.all([describeConfiguredTypes(ctx), chosenAzs(ctx)]);
    if (azs.length === 0) {
      return [
        liveError(
          'no-availability-zones',
          ctx.config.network.existingVpc ? 'network.existingVpc.privateSubnets' : 'deployment.region',
          ctx.region,
          'no availability zone to check the instance types against',
          'a region with available AZs',
        ),
      ];
    }
    const entries = instanceTypeEntries(ctx.config);
    const names = [...new Set(entries.flatMap((e) => typeNames(membersOf(e, types))))].sort();
    const offers = names.length ? await offerings(ctx, names, azs) : new Map<string, Set<string>>();
    const out: Finding[] = [];
    const allowed =
      'a type offered in every chosen AZ (aws ec2 describe-instance-type-offerings --location-type availability-zone)';
    for (const e of entries) {
      const members = membersOf(e, types);
      if (members.length === 0) continue; // reported by the instance-types check
      const offered = new Set(members.flatMap((t) => [...(offers.get(String(t.InstanceType)) ?? [])]));
      const missing = azs.filter((az) => !offered.has(az));
      if (missing.length === azs.length) {
        out.push(
          liveError(
            'instance-type-not-offered',
            e.path,
            e.value,
            `is not offered in ${missing.join(', ')} (${source})`,
            allowed,
          ),
        );
      } else if (missing.length > 0) {
        out.push(
          liveWarning(
            'instance-type-not-offered-in-az',
            e.path,
            e.value,
            `is not offered in ${missing.join(', ')} (${source}); launches there will fail`,
            allowed,
          ),
        );
      }
    }
    return out;
  },
};

const nitroCheck: LiveCheckDef = {
  name: 'builder-nitro',
  title: 'checking that the AMI builder types are Nitro-based',
  path: () => 'workerImage.builderInstanceTypes',
  run: async (ctx) => {
    const types = await describeConfiguredTypes(ctx);
    const out: Finding[] = [];
    for (const e of instanceTypeEntries(ctx.config).filter((x) => x.role === 'builder')) {
      for (const t of membersOf(e, types)) {
        if (t.Hypervisor === 'nitro' || t.BareMetal === true) continue;
        out.push(
          liveError(
            'builder-not-nitro',
            e.path,
            e.value,
            `${t.InstanceType} runs on the ${t.Hypervisor ?? 'unknown'} hypervisor (DescribeInstanceTypes); the AMI builder must be Nitro-based (t2.micro and other Xen types fail)`,
            'a Nitro type such as c5.xlarge or m5.xlarge',
          ),
        );
        break;
      }
    }
    return out;
  },
};

const storeCheck: LiveCheckDef = {
  name: 'controller-instance-store',
  title: 'checking the controller instance store',
  path: () => 'controllers.instanceType',
  run: async (ctx) => {
    const c = ctx.config;
    const r = c.resolved;
    if (c.controllers.dockerVolumeGb !== undefined || r.dockerDisk === 'ebs') return []; // docker uses EBS
    const types = await describeConfiguredTypes(ctx);
    const t = types.get(c.controllers.instanceType);
    if (!t) return []; // reported by the instance-types check
    const storeGb = t.InstanceStorageInfo?.TotalSizeInGB ?? 0;
    if (storeGb === 0) {
      return [
        liveError(
          'controller-no-instance-store',
          'controllers.instanceType',
          c.controllers.instanceType,
          'has no instance storage (DescribeInstanceTypes), so docker has no local disk',
          'a type with NVMe instance storage such as m5d.xlarge, or set controllers.dockerVolumeGb for an EBS docker disk',
        ),
      ];
    }
    const over = dockerDiskOvercommit(
      r.maxContainers,
      c.xspot.containerFsSize,
      storeGb,
      `the instance store of ${c.controllers.instanceType} (DescribeInstanceTypes)`,
    );
    if (over) {
      return [
        liveWarning('docker-disk-overcommit', 'controllers.maxContainers', r.maxContainers, over.message, over.allowed),
      ];
    }
    return [];
  },
};

type Vendor = 'intel' | 'amd' | 'other';

function vendorOf(t: InstanceTypeInfo): Vendor {
  const m = t.ProcessorInfo?.Manufacturer?.toLowerCase();
  const v = m
    ? m.includes('intel')
      ? 'intel'
      : m.includes('amd')
        ? 'amd'
        : 'other'
    : cpuVendor(String(t.InstanceType));
  return v === 'intel' || v === 'amd' ? v : 'other';
}

const vendorCheck: LiveCheckDef = {
  name: 'worker-cpu-vendor',
  title: 'checking the CPU vendors of the worker types',
  path: () => 'workers.spotFleetTypes',
  run: async (ctx) => {
    const types = await describeConfiguredTypes(ctx);
    const by: Record<'intel' | 'amd', string[]> = { intel: [], amd: [] };
    for (const e of instanceTypeEntries(ctx.config)) {
      if (e.role !== 'onDemand' && e.role !== 'spot') continue;
      for (const v of new Set(membersOf(e, types).map(vendorOf))) {
        if (v !== 'other' && !by[v].includes(e.value)) by[v].push(e.value);
      }
    }
    if (by.intel.length === 0 || by.amd.length === 0) return [];
    return [
      liveWarning(
        'worker-cpu-vendor-mix',
        'workers.spotFleetTypes',
        { intel: by.intel, amd: by.amd },
        `the worker lists mix AMD (${by.amd.join(', ')}) and Intel (${by.intel.join(', ')}) types (ProcessorInfo.Manufacturer); live migration between them is not supported`,
        'only Intel or only AMD families in workers.onDemandTypes and workers.spotFleetTypes',
      ),
    ];
  },
};

const usageCheck: LiveCheckDef = {
  name: 'worker-usage-classes',
  title: 'checking Spot and On-Demand offerings of the worker types',
  path: () => 'workers.spotFleetTypes',
  run: async (ctx) => {
    const types = await describeConfiguredTypes(ctx);
    const out: Finding[] = [];
    for (const e of instanceTypeEntries(ctx.config)) {
      if (e.role !== 'onDemand' && e.role !== 'spot') continue;
      const members = membersOf(e, types);
      if (members.length === 0) continue;
      const usage = e.role === 'spot' ? 'spot' : 'on-demand';
      if (members.some((t) => t.SupportedUsageClasses?.includes(usage))) continue;
      const has = [...new Set(members.flatMap((t) => t.SupportedUsageClasses ?? []))].join(', ') || 'none';
      out.push(
        liveError(
          e.role === 'spot' ? 'spot-not-offered' : 'on-demand-not-offered',
          e.path,
          e.value,
          `is not offered as ${e.role === 'spot' ? 'Spot' : 'On-Demand'} capacity in ${ctx.region} (SupportedUsageClasses: ${has})`,
          `types whose SupportedUsageClasses include ${usage}`,
        ),
      );
    }
    return out;
  },
};

export const INSTANCE_CHECKS: readonly LiveCheckDef[] = [
  azCheck,
  existsCheck,
  offeredCheck,
  nitroCheck,
  storeCheck,
  vendorCheck,
  usageCheck,
];
