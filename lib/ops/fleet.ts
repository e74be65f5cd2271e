/**
 * The controller fleet as the operator CLI sees it: SDK clients, the `<deployment>-controllers`
 * stack outputs, and the Auto Scaling group with its instances and launch template versions.
 * Shared by `fleet status`, `fleet upgrade`, `fleet drain|undrain` and `fleet check`
 * (fleet-status.ts, fleet-upgrade.ts, fleet-ssm.ts). SDK only; no CDK imports.
 *
 * Every AWS call goes through `callAws`, which turns an SDK error into one line an operator can
 * act on (a UserError, exit code 1) and keeps the original error as `cause`.
 */
import {
  AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
} from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, DescribeLaunchTemplatesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { UserError } from '../errors';
import { type AwsErrorContext, type AwsErrorKind, classifyAwsError, describeAwsError } from './aws-errors';
import { DEPLOY_HINT, readStack, readStackCall } from './stacks';

// ---------------------------------------------------------------------------------------------
// clients, clock, output

export interface FleetClients {
  readonly asg: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly cfn: CloudFormationClient;
  readonly ssm: SSMClient;
}

export interface ClientOptions {
  readonly region: string;
  /** Named profile from the shared AWS config/credentials files. */
  readonly profile?: string;
}

/** Attempts per call, with the SDK's adaptive (client-side rate limiting) retry mode. */
export const MAX_ATTEMPTS = 8;

/** The SDK v3 client settings every operator command uses: adaptive retry absorbs throttling. */
export function sdkClientConfig(opts: ClientOptions): {
  region: string;
  retryMode: string;
  maxAttempts: number;
  profile?: string;
} {
  return {
    region: opts.region,
    retryMode: 'adaptive',
    maxAttempts: MAX_ATTEMPTS,
    ...(opts.profile ? { profile: opts.profile } : {}),
  };
}

/** SDK v3 clients with adaptive retry, so throttling is absorbed before it becomes an error. */
export function createFleetClients(opts: ClientOptions): FleetClients {
  const config = sdkClientConfig(opts);
  return {
    asg: new AutoScalingClient(config),
    ec2: new EC2Client(config),
    cfn: new CloudFormationClient(config),
    ssm: new SSMClient(config),
  };
}

/** Time, injected so tests never wait. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Where results (stdout) and notes/progress (stderr) go. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** What every fleet operation needs. */
export interface FleetContext {
  /** deployment.name from the config; the stacks are `<deployment>-<tier>`. */
  readonly deployment: string;
  readonly region: string;
  readonly clients: FleetClients;
  readonly clock: Clock;
  readonly io: Output;
}

// ---------------------------------------------------------------------------------------------
// errors

/** A failed AWS call, already described in one line. */
export class AwsCallError extends UserError {
  readonly kind: AwsErrorKind;
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message, 1);
    this.name = 'AwsCallError';
    this.kind = classifyAwsError(cause);
  }
}

/** Runs one AWS call; an SDK error becomes an AwsCallError with a one-line message. */
export async function callAws<T>(ctx: AwsErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new AwsCallError(describeAwsError(err, ctx), err);
  }
}

/** Errors worth retrying inside a long wait (the SDK already retried each call). */
export function isTransient(err: unknown): boolean {
  return err instanceof AwsCallError && (err.kind === 'throttled' || err.kind === 'network');
}

// ---------------------------------------------------------------------------------------------
// the controllers stack

export const OUTPUT = {
  asgName: 'AutoScalingGroupName',
  launchTemplateId: 'LaunchTemplateId',
  launchTemplateVersion: 'LaunchTemplateVersion',
  refreshPreferences: 'RefreshPreferences',
  runtimeVersion: 'RuntimeVersion',
} as const;

export function controllersStackName(deployment: string): string {
  return `${deployment}-controllers`;
}

export interface FleetStack {
  readonly stackName: string;
  readonly stackStatus: string;
  readonly asgName: string;
  readonly launchTemplateId?: string;
  /** The launch template version the stack deployed (a number, as a string). */
  readonly launchTemplateVersion?: string;
  /** Raw JSON of the instance-refresh preferences (parsed by fleet-upgrade.ts). */
  readonly refreshPreferences?: string;
  readonly runtimeVersion?: string;
}

/**
 * Reads the `<deployment>-controllers` stack outputs. A stack that does not exist, failed to
 * create, or lacks the outputs becomes one line saying what to run.
 */
export async function resolveFleetStack(ctx: FleetContext): Promise<FleetStack> {
  const stackName = controllersStackName(ctx.deployment);
  const { status, outputs } = await callAws(readStackCall(ctx, stackName), () => readStack(ctx, stackName));
  if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED' || status === 'CREATE_FAILED') {
    throw new UserError(
      `stack ${stackName} in ${ctx.region} is ${status}: its first deploy failed; see the stack events, delete it and ${DEPLOY_HINT}`,
    );
  }
  const asgName = outputs.get(OUTPUT.asgName);
  if (!asgName) {
    if (status === 'CREATE_IN_PROGRESS') {
      throw new UserError(
        `stack ${stackName} in ${ctx.region} is still being created (CREATE_IN_PROGRESS); wait for the deploy to finish`,
      );
    }
    throw new UserError(
      `stack ${stackName} in ${ctx.region} (${status}) has no output ${OUTPUT.asgName}; it was deployed by an older version, ${DEPLOY_HINT}`,
    );
  }
  const opt = (k: string) => {
    const v = outputs.get(k);
    return v ? v : undefined;
  };
  return {
    stackName,
    stackStatus: status,
    asgName,
    launchTemplateId: opt(OUTPUT.launchTemplateId),
    launchTemplateVersion: opt(OUTPUT.launchTemplateVersion),
    refreshPreferences: opt(OUTPUT.refreshPreferences),
    runtimeVersion: opt(OUTPUT.runtimeVersion),
  };
}

// ---------------------------------------------------------------------------------------------
// the Auto Scaling group, its instances and launch template versions

export interface LaunchTemplateRef {
  readonly id?: string;
  readonly name?: string;
  /** As configured: a number, `$Latest` or `$Default`. */
  readonly spec: string;
  /** The number `spec` stands for (resolved through DescribeLaunchTemplates). */
  readonly version?: number;
}

/** How an instance's launch template version compares with the group's. */
export type VersionState = 'current' | 'stale' | 'target' | 'unknown';

export interface Controller {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly instanceType?: string;
  /** Auto Scaling lifecycle state: InService, Pending, Pending:Wait, Terminating:Wait, Standby, ... */
  readonly lifecycleState: string;
  readonly health: string;
  readonly launchTemplate?: LaunchTemplateRef;
  readonly versionState: VersionState;
  readonly launchTime?: Date;
  readonly protectedFromScaleIn: boolean;
}

export interface FleetGroup {
  readonly name: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  readonly launchTemplate?: LaunchTemplateRef;
  readonly controllers: readonly Controller[];
}

interface TemplateVersions {
  readonly id: string;
  readonly name?: string;
  readonly latest?: number;
  readonly default?: number;
}

function resolveSpec(spec: string | undefined, t: TemplateVersions | undefined): number | undefined {
  if (spec === undefined || spec === '' || spec === '$Default') return t?.default;
  if (spec === '$Latest') return t?.latest;
  const n = Number(spec);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function isNumbered(spec: string | undefined): boolean {
  return spec !== undefined && /^[1-9]\d*$/.test(spec);
}

/**
 * The group, its controllers, and which launch template version each one runs. `target` is the
 * version an instance refresh in progress is moving to (its instances show as `target`, not
 * `stale`).
 */
export async function describeFleetGroup(
  ctx: FleetContext,
  asgName: string,
  target?: { launchTemplateId?: string; version?: number },
): Promise<FleetGroup> {
  const region = ctx.region;
  const res = await callAws(
    { action: `reading Auto Scaling group ${asgName}`, permission: 'autoscaling:DescribeAutoScalingGroups', region },
    () => ctx.clients.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asgName] })),
  );
  const group: AutoScalingGroup | undefined = res.AutoScalingGroups?.[0];
  if (!group) {
    throw new UserError(
      `Auto Scaling group ${asgName} (from stack ${controllersStackName(ctx.deployment)}) was not found in ${region}; ${DEPLOY_HINT}`,
    );
  }
  const groupLt = group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  const instances = group.Instances ?? [];

  // Launch templates referenced by the group or its instances, with $Latest/$Default resolved.
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const lt of [groupLt, ...instances.map((i) => i.LaunchTemplate)]) {
    if (lt?.LaunchTemplateId) ids.add(lt.LaunchTemplateId);
    else if (lt?.LaunchTemplateName) names.add(lt.LaunchTemplateName);
  }
  const templates: TemplateVersions[] = [];
  if (ids.size > 0 || names.size > 0) {
    const query = async (input: { LaunchTemplateIds?: string[]; LaunchTemplateNames?: string[] }) => {
      const r = await callAws(
        { action: 'reading the controller launch template', permission: 'ec2:DescribeLaunchTemplates', region },
        () => ctx.clients.ec2.send(new DescribeLaunchTemplatesCommand(input)),
      ).catch((err: unknown) => {
        // A deleted template leaves its instances' versions unresolved, not the whole status.
        if (err instanceof AwsCallError && err.kind === 'not-found') return { LaunchTemplates: [] };
        throw err;
      });
      for (const t of r.LaunchTemplates ?? []) {
        templates.push({
          id: t.LaunchTemplateId ?? '',
          name: t.LaunchTemplateName,
          latest: t.LatestVersionNumber,
          default: t.DefaultVersionNumber,
        });
      }
    };
    if (ids.size > 0) await query({ LaunchTemplateIds: [...ids] });
    if (names.size > 0) await query({ LaunchTemplateNames: [...names] });
  }
  const findTemplate = (id?: string, name?: string) =>
    templates.find(
      (t) => (id !== undefined && t.id === id) || (id === undefined && name !== undefined && t.name === name),
    );

  // EC2 details: launch time, type, and the version actually launched (aws:ec2launchtemplate:version).
  const ec2Info = new Map<string, { launchTime?: Date; type?: string; ltId?: string; ltVersion?: string }>();
  const instanceIds = instances.map((i) => i.InstanceId).filter((id): id is string => !!id);
  for (let i = 0; i < instanceIds.length; i += 200) {
    const r = await callAws(
      { action: 'reading the controller instances', permission: 'ec2:DescribeInstances', region },
      // A filter, not InstanceIds: an instance EC2 does not list yet (or any more) is not an error.
      () =>
        ctx.clients.ec2.send(
          new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: instanceIds.slice(i, i + 200) }] }),
        ),
    );
    for (const reservation of r.Reservations ?? []) {
      for (const inst of reservation.Instances ?? []) {
        if (!inst.InstanceId) continue;
        const tag = (k: string) => inst.Tags?.find((t) => t.Key === k)?.Value;
        ec2Info.set(inst.InstanceId, {
          launchTime: inst.LaunchTime,
          type: inst.InstanceType,
          ltId: tag('aws:ec2launchtemplate:id'),
          ltVersion: tag('aws:ec2launchtemplate:version'),
        });
      }
    }
  }

  const groupTemplate = findTemplate(groupLt?.LaunchTemplateId, groupLt?.LaunchTemplateName);
  const groupRef: LaunchTemplateRef | undefined = groupLt
    ? {
        id: groupLt.LaunchTemplateId ?? groupTemplate?.id,
        name: groupLt.LaunchTemplateName ?? groupTemplate?.name,
        spec: groupLt.Version ?? '$Default',
        version: resolveSpec(groupLt.Version, groupTemplate),
      }
    : undefined;

  const controllers: Controller[] = instances.map((i) => {
    const id = i.InstanceId ?? '';
    const info = ec2Info.get(id);
    const lt = i.LaunchTemplate;
    const t = findTemplate(lt?.LaunchTemplateId ?? info?.ltId, lt?.LaunchTemplateName);
    // The EC2 tag holds the number actually launched; the ASG may only know "$Latest".
    const spec = isNumbered(info?.ltVersion) ? (info?.ltVersion as string) : (lt?.Version ?? info?.ltVersion);
    const ref: LaunchTemplateRef | undefined =
      lt || info?.ltId
        ? {
            id: lt?.LaunchTemplateId ?? info?.ltId ?? t?.id,
            name: lt?.LaunchTemplateName ?? t?.name,
            spec: spec ?? '$Default',
            version: isNumbered(spec) ? Number(spec) : resolveSpec(spec, t),
          }
        : undefined;
    return {
      instanceId: id,
      availabilityZone: i.AvailabilityZone ?? '',
      instanceType: i.InstanceType ?? info?.type,
      lifecycleState: i.LifecycleState ?? 'Unknown',
      health: i.HealthStatus ?? 'Unknown',
      launchTemplate: ref,
      versionState: versionState(ref, groupRef, target),
      launchTime: info?.launchTime,
      protectedFromScaleIn: i.ProtectedFromScaleIn === true,
    };
  });
  controllers.sort(
    (a, b) => a.availabilityZone.localeCompare(b.availabilityZone) || a.instanceId.localeCompare(b.instanceId),
  );

  return {
    name: group.AutoScalingGroupName ?? asgName,
    minSize: group.MinSize ?? 0,
    maxSize: group.MaxSize ?? 0,
    desiredCapacity: group.DesiredCapacity ?? 0,
    launchTemplate: groupRef,
    controllers,
  };
}

function versionState(
  ref: LaunchTemplateRef | undefined,
  group: LaunchTemplateRef | undefined,
  target?: { launchTemplateId?: string; version?: number },
): VersionState {
  if (!ref || ref.version === undefined) return 'unknown';
  if (target?.version !== undefined) {
    // A refresh is moving the group to `target`: anything else is to be replaced.
    const onTarget = ref.version === target.version && (!target.launchTemplateId || target.launchTemplateId === ref.id);
    if (!onTarget) return 'stale';
    return group?.version === target.version ? 'current' : 'target';
  }
  if (!group || group.version === undefined) return 'unknown';
  if (group.id && ref.id && group.id !== ref.id) return 'stale';
  return ref.version === group.version ? 'current' : 'stale';
}

// ---------------------------------------------------------------------------------------------
// instance refreshes

/** Refresh statuses that still change; anything else is final. */
export const ACTIVE_REFRESH = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);

export function isActiveRefresh(r: InstanceRefresh | undefined): boolean {
  return r !== undefined && ACTIVE_REFRESH.has(r.Status ?? '');
}

/** The most recent instance refreshes of the group, newest first. */
export async function describeRefreshes(
  ctx: FleetContext,
  asgName: string,
  refreshId?: string,
): Promise<InstanceRefresh[]> {
  const res = await callAws(
    {
      action: `reading instance refreshes of ${asgName}`,
      permission: 'autoscaling:DescribeInstanceRefreshes',
      region: ctx.region,
    },
    () =>
      ctx.clients.asg.send(
        new DescribeInstanceRefreshesCommand({
          AutoScalingGroupName: asgName,
          ...(refreshId ? { InstanceRefreshIds: [refreshId] } : { MaxRecords: 5 }),
        }),
      ),
  );
  const list = [...(res.InstanceRefreshes ?? [])];
  list.sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0));
  return list;
}
