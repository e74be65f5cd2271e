/**
 * A written model of how Amazon EFS authorizes an NFS client, from "Using IAM to control access
 * to file systems" in the Amazon EFS User Guide
 * (https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html), and the IAM rule
 * for a condition key missing from the request (IAM User Guide, "IAM JSON policy elements:
 * Condition operators", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
 * No emulator models this (moto's EFS mounts nothing); the IAM evaluator runs the requests the
 * model builds.
 *
 * What the documents say, and how the model follows:
 * 1. A client identifies itself with an IAM role only when mounted through the EFS mount helper
 *    with the `iam` option; otherwise it is anonymous.
 * 2. The client actions: `ClientMount` (read-only access), `ClientWrite` (write),
 *    `ClientRootAccess` (act as root). A root mount that writes needs all three.
 * 3. An allow in EITHER the identity policy or the file-system policy grants the action; an
 *    explicit deny in either refuses it. Another account's principal needs the file-system
 *    policy to name it (and its own identity policy).
 * 4. Without a file-system policy the default policy applies: full access for any client,
 *    anonymous included, that reaches a mount target.
 * 5. For NFS clients EFS provides exactly these condition keys, and "no other condition keys are
 *    enforced": `aws:SecureTransport` (the `tls` option), `aws:SourceIp` (public addresses only, so
 *    absent for a client in the VPC), `elasticfilesystem:AccessPointArn` (the `accesspoint`
 *    option), `elasticfilesystem:AccessedViaMountTarget` (true through a mount target). The model's
 *    request context therefore holds these keys and nothing else: no `aws:PrincipalArn`, no
 *    `aws:PrincipalAccount`, no instance keys.
 * 6. A negated operator (`StringNotEquals`, `ArnNotEquals`, ...) on a key the request lacks is
 *    true; a positive one is false. A deny that names a key EFS does not provide therefore
 *    applies to every NFS client.
 */
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate';
import type { Decision } from './evaluate';
import type { PolicyDoc } from './model';

export const EFS_CLIENT_ACTIONS = [
  'elasticfilesystem:ClientMount',
  'elasticfilesystem:ClientWrite',
  'elasticfilesystem:ClientRootAccess',
] as const;
export type EfsClientAction = (typeof EFS_CLIENT_ACTIONS)[number];

/** The only condition keys EFS sets for an NFS client (point 5). */
export const EFS_NFS_CONTEXT_KEYS = [
  'aws:SecureTransport',
  'aws:SourceIp',
  'elasticfilesystem:AccessPointArn',
  'elasticfilesystem:AccessedViaMountTarget',
] as const;

export interface NfsClient {
  /** Who runs the mount: an assumed-role session ARN, or undefined for a host with no IAM role. */
  readonly session?: string;
  /** The role's identity policies (point 3). */
  readonly identityPolicies: PolicyDoc[];
  /** The account the client's credentials belong to. */
  readonly account: string;
}

/** The request context an NFS mount with these options produces (points 1 and 5). */
export function nfsContext(options: readonly string[]): Record<string, string> {
  const ctx: Record<string, string> = {
    'aws:SecureTransport': options.includes('tls') ? 'true' : 'false',
    'elasticfilesystem:AccessedViaMountTarget': 'true',
  };
  const ap = options.find((o) => o.startsWith('accesspoint='));
  if (ap) ctx['elasticfilesystem:AccessPointArn'] = ap.slice('accesspoint='.length);
  for (const k of Object.keys(ctx)) {
    if (!(EFS_NFS_CONTEXT_KEYS as readonly string[]).includes(k)) throw new Error(`not an EFS NFS key: ${k}`);
  }
  return ctx;
}

/** EFS's decision for one client action on a file system mounted with `options`. */
export async function efsDecide(
  fileSystemArn: string,
  fileSystemPolicy: PolicyDoc | undefined,
  client: NfsClient,
  options: readonly string[],
  action: EfsClientAction,
): Promise<Decision> {
  const withIam = options.includes('iam') && client.session !== undefined;
  // Point 4: no file-system policy means full access for every client through a mount target.
  const policy: PolicyDoc = fileSystemPolicy ?? {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: [...EFS_CLIENT_ACTIONS], Resource: '*' }],
  };
  const account = /^arn:aws:elasticfilesystem:[^:]+:(\d{12}):/.exec(fileSystemArn)?.[1];
  if (!account) throw new Error(`not a file-system ARN: ${fileSystemArn}`);
  const result = await runSimulation(
    {
      request: {
        principal: withIam ? (client.session as string) : anonymousPrincipal,
        action,
        resource: { resource: fileSystemArn, accountId: account },
        contextVariables: nfsContext(options),
      },
      identityPolicies: withIam ? client.identityPolicies.map((p, i) => ({ name: `identity-${i}`, policy: p })) : [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: policy,
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`${action}: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}
