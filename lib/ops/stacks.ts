/**
 * Reading a deployed stack of this app (`<deployment>-<tier>`) for the operator CLI: its status
 * and outputs, with "not deployed yet" as one line saying what to run. SDK only; no CDK imports.
 */
import { type CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { UserError } from '../errors';
import type { AwsErrorContext } from './aws-errors';

/** What to run when a stack or one of its outputs is missing. */
export const DEPLOY_HINT = "run 'npx cdk deploy --all' (with the same config) first";

export interface StackContext {
  readonly region: string;
  readonly clients: { readonly cfn: CloudFormationClient };
}

export interface DeployedStack {
  readonly stackName: string;
  /** CloudFormation's StackStatus; `UNKNOWN` when it gives none. */
  readonly status: string;
  /** OutputKey to OutputValue. */
  readonly outputs: ReadonlyMap<string, string>;
}

/** How an error from `readStack` is described; pass it to `callAws` with the call. */
export function readStackCall(ctx: StackContext, stackName: string): AwsErrorContext {
  return { action: `reading stack ${stackName}`, permission: 'cloudformation:DescribeStacks', region: ctx.region };
}

function errorName(err: unknown): string {
  const e = (err ?? {}) as { name?: string; Code?: string };
  return e.name ?? e.Code ?? '';
}

function errorMessage(err: unknown): string {
  return ((err as { message?: string } | undefined)?.message ?? String(err)).split('\n')[0];
}

/**
 * DescribeStacks for one stack. A stack that does not exist becomes a UserError saying to deploy
 * it; any other SDK error is thrown as it is, for the caller to wrap with
 * `callAws(readStackCall(ctx, stackName), ...)`. Checking the status and outputs is the caller's.
 */
export async function readStack(ctx: StackContext, stackName: string): Promise<DeployedStack> {
  const notDeployed = () => new UserError(`stack ${stackName} is not deployed in ${ctx.region} yet; ${DEPLOY_HINT}`);
  let stack: Stack | undefined;
  try {
    stack = (await ctx.clients.cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (err) {
    if (errorName(err) === 'ValidationError' && /does not exist/i.test(errorMessage(err))) throw notDeployed();
    throw err;
  }
  if (!stack) throw notDeployed();
  return {
    stackName,
    status: stack.StackStatus ?? 'UNKNOWN',
    outputs: new Map((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
  };
}
