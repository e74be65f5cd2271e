/**
 * The subnet plan of a VPC this app creates, with no CDK loaded: which groups it has, and the
 * CIDRs the VPC's allocator (`IpAddresses.cidr` in aws-cdk-lib) gives them. The network construct
 * builds its VPC from `newVpcSubnetGroups`; the scheduler files take their address ranges from
 * `newVpcPrivateSubnetCidrs`. test/prereqs/prereqs-stack.test.ts checks these CIDRs against the
 * subnets a synthesized VPC really has.
 */

export interface SubnetGroupPlan {
  readonly name: 'public' | 'private';
  /** Prefix length of each subnet; unset: an equal share of the space the fixed groups leave. */
  readonly cidrMask?: number;
}

/** A small public group for the NAT gateways; the private group (controllers, workers) takes the rest. */
export function newVpcSubnetGroups(cidr: string): SubnetGroupPlan[] {
  const prefix = Number(cidr.split('/')[1]);
  return [{ name: 'public', cidrMask: Math.min(28, prefix + 8) }, { name: 'private' }];
}

const ipToNum = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const numToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * The private subnets' CIDRs, one per AZ in AZ order. The allocator's rule: groups with a mask
 * first, each subnet at the next address aligned to its size; then the rest split equally, each
 * share the largest power of two that fits (`NetworkBuilder.maskForRemainingSubnets`).
 */
export function newVpcPrivateSubnetCidrs(cidr: string, azCount: number): string[] {
  const [base, bits] = cidr.split('/');
  const vpcStart = ipToNum(base);
  const vpcEnd = vpcStart + 2 ** (32 - Number(bits)) - 1;
  let next = vpcStart;
  const take = (mask: number) => {
    const size = 2 ** (32 - mask);
    const start = Math.ceil(next / size) * size;
    next = start + size;
    return `${numToIp(start)}/${mask}`;
  };
  const groups = newVpcSubnetGroups(cidr);
  for (const g of groups) if (g.cidrMask !== undefined) for (let i = 0; i < azCount; i++) take(g.cidrMask);
  const shared = groups.filter((g) => g.cidrMask === undefined).length * azCount;
  const mask = 32 - Math.floor(Math.log2(Math.floor((vpcEnd - next + 1) / shared)));
  const out: string[] = [];
  for (const g of groups) {
    if (g.cidrMask !== undefined) continue;
    for (let i = 0; i < azCount; i++) {
      const c = take(mask);
      if (g.name === 'private') out.push(c);
    }
  }
  return out;
}
