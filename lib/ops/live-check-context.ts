/**
 * Shared pieces of `check-config --live`: the SDK clients, the context every check reads, the
 * wrapper that turns a failed AWS call into "this check could not run", and finding helpers that
 * produce the same id / severity / path / value / allowed shape as the offline validators.
 * SDK only; no CDK imports.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EFSClient } from '@aws-sdk/client-efs';
import type { FSxClient } from '@aws-sdk/client-fsx';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';
import type { Finding } from '../config/findings';
import type { XspotConfig } from '../config/resolve';
import { type AwsErrorKind, classifyAwsError } from './aws-errors';

export interface LiveClients {
  readonly ec2: EC2Client;
  /** EC2 in the partition's home region: asked whether the target region is enabled when the region itself refuses. */
  readonly ec2Home: EC2Client;
  readonly sts: STSClient;
  readonly ssm: SSMClient;
  readonly efs: EFSClient;
  readonly fsx: FSxClient;
  readonly iam: IAMClient;
}

export interface LiveContext {
  readonly config: XspotConfig;
  /** The region the checks run in (deployment.region unless overridden). */
  readonly region: string;
  readonly clients: LiveClients;
  /** The caller's account id, when GetCallerIdentity answered. */
  readonly account: string | undefined;
  /** Runs `fn` once per key; every check that asks for the same data shares one call. */
  memo<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** One live check: what it looks at, and the findings it reports (none = passed). */
export interface LiveCheckDef {
  /** Stable name, e.g. "subnet-routes". */
  readonly name: string;
  /** What it does, for the warning when it cannot run: "looking up the instance types". */
  readonly title: string;
  /** The config field a "could not run" warning points at. */
  readonly path: (c: XspotConfig) => string;
  /** Whether the config has anything for this check to look at (default: always). */
  readonly applies?: (c: XspotConfig) => boolean;
  readonly run: (ctx: LiveContext) => Promise<Finding[]>;
}

/** An AWS call that failed; carries the IAM action so the warning can name it. */
export class CallFailed extends Error {
  readonly kind: AwsErrorKind;
  constructor(
    readonly permission: string,
    override readonly cause: unknown,
  ) {
    super(`${permission}: ${(cause as { message?: string })?.message ?? String(cause)}`);
    this.name = 'CallFailed';
    this.kind = classifyAwsError(cause);
  }
}

/** Runs one AWS call; any failure comes back as a CallFailed naming `permission`. */
export async function aws<T>(permission: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw e instanceof CallFailed ? e : new CallFailed(permission, e);
  }
}

/** Whether a failed call said "no such resource" (InvalidAMIID.NotFound, NoSuchEntity, ParameterNotFound ...). */
export function isNotFound(e: unknown): boolean {
  if (!(e instanceof CallFailed)) return false;
  if (e.kind === 'not-found') return true;
  const name = (e.cause as { name?: string })?.name ?? '';
  return /NotFound|NoSuchEntity|Malformed/.test(name);
}

export function liveError(id: string, path: string, value: unknown, message: string, allowed?: string): Finding {
  return { id, severity: 'error', path, value, message, ...(allowed ? { allowed } : {}) };
}

export function liveWarning(id: string, path: string, value: unknown, message: string, allowed?: string): Finding {
  return { ...liveError(id, path, value, message, allowed), severity: 'warning' };
}

/** Splits `values` into chunks of at most `size` (EC2 filters take a bounded number of values). */
export function chunks<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

/** Amazon Linux 2023 names and descriptions (X-Spot does not support it). */
export const AL2023 = /al2023|amazon linux 2023|amzn2023/i;

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
