/**
 * Availability zones: which ones a deployment uses, and whether a given name can belong to a
 * region. AZ names are never derived from the region (`<region>a` does not exist in every region
 * and account: ap-northeast-1 has no 1b, many us-west-1 and ca-central-1 accounts have no "a" or
 * "b"). They come from the config, or are resolved by CloudFormation at deploy time (Fn::GetAZs).
 */
import type { Finding } from './findings';

/** How many AZs a new VPC spans when neither availabilityZones nor maxAzs is set. */
export const DEFAULT_AZ_COUNT = 2;

/** The AZs a new VPC spans, as far as the config says. */
export type NewVpcAzs =
  /** Named in network.newVpc.availabilityZones: used as given. */
  | { readonly kind: 'named'; readonly azs: readonly string[] }
  /** Not named: the first `count` AZs CloudFormation's Fn::GetAZs returns for the region. */
  | { readonly kind: 'deployTime'; readonly count: number };

export interface NewVpcAzConfig {
  readonly availabilityZones?: readonly string[];
  readonly maxAzs?: number;
}

export function newVpcAzs(newVpc: NewVpcAzConfig | undefined): NewVpcAzs {
  const named = newVpc?.availabilityZones;
  if (named && named.length > 0) return { kind: 'named', azs: [...named] };
  return { kind: 'deployTime', count: newVpc?.maxAzs ?? DEFAULT_AZ_COUNT };
}

/**
 * True when `az` is an availability zone name of `region`: the region code followed by one
 * letter (us-east-1a). Local and Wavelength Zones (us-west-2-lax-1a) are not AZs a VPC spans here.
 */
export function azBelongsToRegion(az: string, region: string): boolean {
  return az.length === region.length + 1 && az.startsWith(region) && /^[a-z]$/.test(az.slice(region.length));
}

/** The region an AZ name belongs to (us-east-1a -> us-east-1), or undefined if it is not an AZ name. */
export function regionOfAz(az: string): string | undefined {
  return /^([a-z]{2}(-[a-z]+)+-\d)[a-z]$/.exec(az)?.[1];
}

/**
 * Findings for AZ names that cannot belong to the deployment's region. `path(i)` names the field
 * of the i-th AZ (e.g. `network.newVpc.availabilityZones[1]`).
 */
export function azRegionFindings(
  azs: readonly string[],
  region: string,
  path: (i: number) => string,
  id = 'az-not-in-region',
): Finding[] {
  const out: Finding[] = [];
  azs.forEach((az, i) => {
    if (azBelongsToRegion(az, region)) return;
    const other = regionOfAz(az);
    out.push({
      id,
      severity: 'error',
      path: path(i),
      value: az,
      message: other
        ? `is an availability zone of ${other}, not of deployment.region ${region}`
        : `is not an availability zone name of ${region}`,
      allowed: `an AZ of ${region} (${region} followed by one letter; list them with \`aws ec2 describe-availability-zones --region ${region}\`)`,
    });
  });
  return out;
}

/** Findings for network.newVpc.availabilityZones: region membership, duplicates, and maxAzs agreement. */
export function newVpcAzFindings(newVpc: NewVpcAzConfig | undefined, region: string): Finding[] {
  const named = newVpc?.availabilityZones;
  if (!named || named.length === 0) return [];
  const out = azRegionFindings(named, region, (i) => `network.newVpc.availabilityZones[${i}]`);
  const dup = named.find((az, i) => named.indexOf(az) !== i);
  if (dup) {
    out.push({
      id: 'az-duplicate',
      severity: 'error',
      path: 'network.newVpc.availabilityZones',
      value: dup,
      message: 'the same availability zone is listed twice',
      allowed: 'distinct AZ names',
    });
  }
  if (newVpc?.maxAzs !== undefined && newVpc.maxAzs !== named.length) {
    out.push({
      id: 'az-count-mismatch',
      severity: 'error',
      path: 'network.newVpc.maxAzs',
      value: newVpc.maxAzs,
      message: `contradicts network.newVpc.availabilityZones, which names ${named.length}`,
      allowed: 'maxAzs unset (the named AZs decide), or equal to the number of named AZs',
    });
  }
  return out;
}
