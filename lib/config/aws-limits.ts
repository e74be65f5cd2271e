/**
 * Values the config schema accepts one field at a time but AWS (or the host) refuses once they are
 * combined: instance refresh percentages, VPC and subnet CIDR sizes, IAM role name lengths, the
 * default job size against the largest worker, and mount points. Each rule reports; none throws.
 * Sources: Auto Scaling RefreshPreferences ("the difference between them cannot be greater than
 * 100"), Amazon VPC ("block size between /16 and /28"), IAM quotas (role name 64 characters).
 */
import { parseCidr } from './cidr';
import type { Finding } from './findings';
import { IAM_ROLE_NAME_MAX, longestRoleName } from './iam-names';
import { largestCapacity } from './instance-types';
import { MOUNT_POINT_ALLOWED, systemMountProblem } from './mounts';
import type { XspotConfig } from './resolve';

const err = (id: string, path: string, value: unknown, message: string, allowed: string): Finding => ({
  id,
  severity: 'error',
  path,
  value,
  message,
  allowed,
});

/** Auto Scaling refuses an instance refresh whose healthy percentages are more than this apart. */
export const MAX_HEALTHY_GAP = 100;
/** The block sizes Amazon VPC allows for a VPC or subnet CIDR. */
export const VPC_PREFIX_MIN = 16;
export const VPC_PREFIX_MAX = 28;

export function upgradeFindings(c: XspotConfig): Finding[] {
  const { minHealthyPercentage: min, maxHealthyPercentage: max } = c.upgrade;
  if (max - min <= MAX_HEALTHY_GAP) return [];
  return [
    err(
      'upgrade-healthy-gap',
      'upgrade.maxHealthyPercentage',
      max,
      `is ${max - min} above minHealthyPercentage ${min}; Auto Scaling refuses an instance refresh whose min and max healthy percentages are more than ${MAX_HEALTHY_GAP} apart`,
      `maxHealthyPercentage <= ${min + MAX_HEALTHY_GAP}, or minHealthyPercentage >= ${max - MAX_HEALTHY_GAP}`,
    ),
  ];
}

export function cidrSizeFindings(c: XspotConfig): Finding[] {
  const out: Finding[] = [];
  const check = (path: string, cidr: string, what: string) => {
    const { prefix } = parseCidr(cidr);
    if (prefix >= VPC_PREFIX_MIN && prefix <= VPC_PREFIX_MAX) return;
    out.push(
      err(
        'vpc-cidr-size',
        path,
        cidr,
        `a /${prefix} ${what} is ${prefix < VPC_PREFIX_MIN ? 'larger' : 'smaller'} than Amazon VPC allows`,
        `a prefix from /${VPC_PREFIX_MIN} (65,536 addresses) to /${VPC_PREFIX_MAX} (16 addresses)`,
      ),
    );
  };
  const n = c.network;
  // A new VPC smaller than /24 is refused by vpc-too-small (no room for subnets in every AZ).
  if (n.newVpc && parseCidr(n.newVpc.cidr).prefix < VPC_PREFIX_MIN) check('network.newVpc.cidr', n.newVpc.cidr, 'VPC');
  n.existingVpc?.cidrBlocks.forEach((b, i) => {
    check(`network.existingVpc.cidrBlocks[${i}]`, b, 'VPC CIDR block');
  });
  n.existingVpc?.privateSubnets.forEach((s, i) => {
    check(`network.existingVpc.privateSubnets[${i}].cidr`, s.cidr, 'subnet');
  });
  return out;
}

export function roleNameFindings(c: XspotConfig): Finding[] {
  const prefix = c.iam.roleNamePrefix;
  const longest = longestRoleName(prefix, c.deployment.name);
  if (longest === undefined || longest.length <= IAM_ROLE_NAME_MAX) return [];
  return [
    err(
      'iam-role-name-too-long',
      'iam.roleNamePrefix',
      prefix,
      `with deployment.name ${JSON.stringify(c.deployment.name)} the role name ${JSON.stringify(longest)} is ${longest.length} characters; IAM allows ${IAM_ROLE_NAME_MAX}`,
      `iam.roleNamePrefix and deployment.name together at most ${IAM_ROLE_NAME_MAX - (longest.length - (prefix ?? '').length - c.deployment.name.length)} characters`,
    ),
  ];
}

/**
 * The scheduler's default job size against the largest configured worker (the same estimate the
 * scheduler hooks use as the per-job maximum): a default that no worker fits makes every job that
 * does not ask for a size unrunnable.
 */
export function defaultJobFindings(c: XspotConfig): Finding[] {
  const s = c.scheduler;
  if (s.type === 'none') return [];
  const types = [...c.workers.onDemandTypes, ...c.workers.spotFleetTypes];
  const largest = largestCapacity(types);
  if (!largest) return [];
  const out: Finding[] = [];
  const where = `the largest configured worker (workers.onDemandTypes/spotFleetTypes: ${[...new Set(types)].join(', ')})`;
  if (s.defaultCpus > largest.vcpus) {
    out.push(
      err(
        'default-job-too-large',
        'scheduler.defaultCpus',
        s.defaultCpus,
        `is more than the ${largest.vcpus} vCPUs of ${where}`,
        `1-${largest.vcpus}, or a larger worker type`,
      ),
    );
  }
  const memory = Math.floor(largest.memoryGiB);
  if (s.defaultMemoryGb > memory) {
    out.push(
      err(
        'default-job-too-large',
        'scheduler.defaultMemoryGb',
        s.defaultMemoryGb,
        `is more than the ${memory} GB of ${where}`,
        `1-${memory}, or a larger worker type`,
      ),
    );
  }
  return out;
}

export function mountFindings(c: XspotConfig): Finding[] {
  const out: Finding[] = [];
  const system = systemMountProblem(c.storage.mountPoint);
  if (system) {
    out.push(err('mount-over-system-dir', 'storage.mountPoint', c.storage.mountPoint, system, MOUNT_POINT_ALLOWED));
  }
  const seen = new Map<string, number>();
  c.workerImage.mounts.forEach((m, i) => {
    const path = `workerImage.mounts[${i}].mountPoint`;
    const problem = systemMountProblem(m.mountPoint);
    if (problem) out.push(err('mount-over-system-dir', path, m.mountPoint, problem, MOUNT_POINT_ALLOWED));
    const first = seen.get(m.mountPoint);
    if (first !== undefined) {
      out.push(
        err(
          'mount-point-duplicate',
          path,
          m.mountPoint,
          `workerImage.mounts[${first}] is already mounted there; the second mount would hide the first`,
          'one mount per mount point',
        ),
      );
    } else seen.set(m.mountPoint, i);
  });
  return out;
}

/** Every rule of this file. */
export const AWS_LIMIT_RULES: readonly ((c: XspotConfig) => Finding[])[] = [
  upgradeFindings,
  cidrSizeFindings,
  roleNameFindings,
  defaultJobFindings,
  mountFindings,
];
