/**
 * Offline facts about EC2 instance types that the validators need before anything is created:
 * whether a name exists at all (the EC2 API's own list, instance-catalog.ts), architecture,
 * hypervisor (Nitro or Xen), CPU vendor, instance-store size, and vCPU/memory. The size tables
 * cover the families X-Spot sites use; `check-config --live` confirms the rest against the
 * account (DescribeInstanceTypes) and whether the region offers the type.
 */
import { INSTANCE_CATALOG_SOURCE, INSTANCE_SIZES } from './instance-catalog';

export type CpuVendor = 'intel' | 'amd' | 'graviton' | 'unknown';

/** Families that run on the Xen hypervisor (not Nitro). */
const XEN_FAMILIES = new Set([
  'c1',
  'c3',
  'c4',
  'cc2',
  'cr1',
  'd2',
  'f1',
  'g2',
  'g3',
  'g3s',
  'h1',
  'hs1',
  'i2',
  'i3',
  'm1',
  'm2',
  'm3',
  'm4',
  'p2',
  'p3',
  'r3',
  'r4',
  't1',
  't2',
  'x1',
  'x1e',
]);

/** Graviton (arm64) families: X-Spot supports x86_64 only. */
const GRAVITON = /^(a1|[a-z]+\dg[a-z]*)$/;

/** vCPUs by size suffix (same for every current x86 family). */
const SIZE_VCPUS: Record<string, number> = {
  nano: 2,
  micro: 2,
  small: 2,
  medium: 2,
  large: 2,
  xlarge: 4,
  '2xlarge': 8,
  '3xlarge': 12,
  '4xlarge': 16,
  '6xlarge': 24,
  '8xlarge': 32,
  '9xlarge': 36,
  '10xlarge': 40,
  '12xlarge': 48,
  '16xlarge': 64,
  '18xlarge': 72,
  '24xlarge': 96,
  '32xlarge': 128,
  '48xlarge': 192,
  metal: 96,
};

/** GiB of memory per vCPU by family class letter. */
const MEM_PER_VCPU: Record<string, number> = { c: 2, m: 4, r: 8, x: 16, z: 8, t: 4, i: 8, d: 8 };

/** Instance-store GB of the NVMe-SSD ("d") sizes, per family group. */
const STORE_M5D: Record<string, number> = {
  large: 75,
  xlarge: 150,
  '2xlarge': 300,
  '4xlarge': 600,
  '8xlarge': 1200,
  '12xlarge': 1800,
  '16xlarge': 2400,
  '24xlarge': 3600,
  metal: 3600,
};
const STORE_C5D: Record<string, number> = {
  large: 50,
  xlarge: 100,
  '2xlarge': 200,
  '4xlarge': 400,
  '9xlarge': 900,
  '12xlarge': 1800,
  '18xlarge': 1800,
  '24xlarge': 3600,
  metal: 3600,
};
const STORE_6ID: Record<string, number> = {
  large: 118,
  xlarge: 237,
  '2xlarge': 474,
  '4xlarge': 950,
  '8xlarge': 1900,
  '12xlarge': 2850,
  '16xlarge': 3800,
  '24xlarge': 5700,
  '32xlarge': 7600,
  metal: 7600,
};
const INSTANCE_STORE: Record<string, Record<string, number>> = {
  m5d: STORE_M5D,
  m5ad: STORE_M5D,
  m5dn: STORE_M5D,
  r5d: STORE_M5D,
  r5ad: STORE_M5D,
  r5dn: STORE_M5D,
  c5d: STORE_C5D,
  m6id: STORE_6ID,
  c6id: STORE_6ID,
  r6id: STORE_6ID,
  m6idn: STORE_6ID,
  r6idn: STORE_6ID,
};

export interface InstanceTypeParts {
  readonly family: string;
  readonly size?: string;
}

export const INSTANCE_TYPE_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
export const INSTANCE_FAMILY_PATTERN = /^[a-z][a-z0-9-]*\d[a-z0-9-]*$/;

export function parseInstanceType(value: string): InstanceTypeParts {
  const [family, size] = value.split('.', 2);
  return size === undefined ? { family } : { family, size };
}

export function isGraviton(typeOrFamily: string): boolean {
  return GRAVITON.test(parseInstanceType(typeOrFamily).family);
}

/** true, false, or undefined when the family is not in the table. */
export function isNitro(typeOrFamily: string): boolean | undefined {
  const { family } = parseInstanceType(typeOrFamily);
  if (XEN_FAMILIES.has(family)) return false;
  if (/^[a-z]+[5-9]/.test(family) || /^(u-|mac|hpc|trn|inf|dl|vt|im4|is4|i4)/.test(family)) return true;
  return undefined;
}

export function cpuVendor(typeOrFamily: string): CpuVendor {
  const { family } = parseInstanceType(typeOrFamily);
  if (isGraviton(family)) return 'graviton';
  // The processor letter follows the generation digit: m5a, c6a, r7a, hpc7a -> AMD; m5, c6i, r7iz -> Intel.
  const m = /^[a-z-]+?(\d+)([a-z]*)$/.exec(family);
  if (!m) return 'unknown';
  const attrs = m[2];
  if (attrs.startsWith('a')) return 'amd';
  return 'intel';
}

/** Whether the family name says it has local NVMe instance storage ("d" in the attributes). */
export function hasLocalNvme(typeOrFamily: string): boolean {
  const { family } = parseInstanceType(typeOrFamily);
  const m = /^[a-z-]+?\d+([a-z]*)$/.exec(family);
  return m?.[1].includes('d') ?? false;
}

/** Instance-store capacity in GB, or undefined when not known offline (or none). */
export function instanceStoreGb(instanceType: string): number | undefined {
  const { family, size } = parseInstanceType(instanceType);
  if (!size) return undefined;
  return INSTANCE_STORE[family]?.[size];
}

export interface Capacity {
  readonly vcpus: number;
  readonly memoryGiB: number;
}

/** The largest "<N>xlarge" size of a family in the EC2 API's list (r5 -> 24xlarge, m7i -> 48xlarge). */
function largestSize(family: string): string {
  const sizes = familySizes(family)?.filter((s) => /^\d*xlarge$/.test(s) && SIZE_VCPUS[s] !== undefined) ?? [];
  return sizes.length > 0 ? sizes.reduce((a, b) => (SIZE_VCPUS[b] > SIZE_VCPUS[a] ? b : a)) : '24xlarge';
}

/**
 * vCPUs and memory of a type, or of the largest size of a family ("r5" -> r5.24xlarge). The memory
 * is estimated from the family's class letter. undefined when the class or size is not known offline.
 */
export function capacityOf(typeOrFamily: string): Capacity | undefined {
  const { family, size } = parseInstanceType(typeOrFamily);
  const perVcpu = MEM_PER_VCPU[family[0]];
  if (perVcpu === undefined) return undefined;
  const vcpus = SIZE_VCPUS[size ?? largestSize(family)];
  if (vcpus === undefined) return undefined;
  return { vcpus, memoryGiB: vcpus * perVcpu };
}

/** The largest vCPU count and memory any of the given types or families offers. */
export function largestCapacity(typesOrFamilies: readonly string[]): Capacity | undefined {
  let best: Capacity | undefined;
  for (const t of typesOrFamilies) {
    const c = capacityOf(t);
    if (!c) continue;
    best = best ? { vcpus: Math.max(best.vcpus, c.vcpus), memoryGiB: Math.max(best.memoryGiB, c.memoryGiB) } : c;
  }
  return best;
}

/** The sizes of a family in the EC2 API's list, smallest first; undefined for a family that does not exist. */
export function familySizes(family: string): readonly string[] | undefined {
  const sizes = Object.hasOwn(INSTANCE_SIZES, family) ? INSTANCE_SIZES[family] : undefined;
  return sizes?.split(' ');
}

/** Why a name is not an EC2 instance type (or family), and what is allowed instead. */
export interface UnknownInstanceName {
  readonly message: string;
  readonly allowed: string;
}

/** Existing families that share the longest leading part with `family` (r5x -> r5, r5a, r5ad, ...). */
function nearFamilies(family: string, max = 12): string[] {
  const all = Object.keys(INSTANCE_SIZES);
  for (let n = family.length; n > 0; n--) {
    const prefix = family.slice(0, n);
    const near = all.filter((f) => f.startsWith(prefix));
    if (near.length > 0) return near.length > max ? [...near.slice(0, max), '...'] : near;
  }
  return [];
}

/**
 * Checks a name against the EC2 API's list of instance types: `undefined` when it exists, else
 * what is wrong and the forms that exist. `familyAllowed` accepts a bare family (r5) as well.
 */
export function unknownInstanceName(value: string, familyAllowed: boolean): UnknownInstanceName | undefined {
  const { family, size } = parseInstanceType(value);
  const sizes = familySizes(family);
  if (!sizes) {
    const near = nearFamilies(family);
    const forms = familyAllowed
      ? 'a family (r5) or <family>.<size> (r5.xlarge)'
      : '<family>.<size>, such as m5d.xlarge';
    return {
      message: `${family} is not an EC2 instance family (the EC2 API's list in ${INSTANCE_CATALOG_SOURCE})`,
      allowed: `${forms}${near.length > 0 ? `; families like it: ${near.join(', ')}` : ''}`,
    };
  }
  if (size === undefined) {
    return familyAllowed
      ? undefined
      : {
          message: 'is a family, not an instance type',
          allowed: sizes.map((s) => `${family}.${s}`).join(', '),
        };
  }
  if (sizes.includes(size)) return undefined;
  return {
    message: `${family} has no size ${size}`,
    allowed: sizes.map((s) => `${family}.${s}`).join(', '),
  };
}
