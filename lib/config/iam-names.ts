/**
 * Names of the IAM roles (and instance profiles) xspot-cdk creates when `iam.roleNamePrefix` is
 * set: `<prefix><deployment name>-<suffix>`. One rule for the constructs that name the roles and
 * the validator that checks IAM's 64-character limit before anything is synthesized.
 */

/** IAM's limit on a role name (an instance profile allows 128). */
export const IAM_ROLE_NAME_MAX = 64;

/** Every role suffix xspot-cdk uses. */
export const ROLE_SUFFIXES = ['worker', 'controller', 'ami-parent', 'ami-build', 'ami-lifecycle'] as const;
export type RoleSuffix = (typeof ROLE_SUFFIXES)[number];

/** The role name for `suffix`, or undefined when no prefix is configured (CloudFormation names the role). */
export function roleNameOf(prefix: string | undefined, deploymentName: string, suffix: RoleSuffix): string | undefined {
  return prefix === undefined ? undefined : `${prefix}${deploymentName}-${suffix}`;
}

/** The longest role name the config produces, or undefined when no prefix is configured. */
export function longestRoleName(prefix: string | undefined, deploymentName: string): string | undefined {
  const names = ROLE_SUFFIXES.map((s) => roleNameOf(prefix, deploymentName, s) ?? '');
  const longest = names.reduce((a, b) => (b.length > a.length ? b : a), '');
  return longest || undefined;
}
