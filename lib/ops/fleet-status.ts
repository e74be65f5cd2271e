/**
 * `xspot-cdk fleet status`: the controllers (instance id, AZ, lifecycle state, health, launch
 * template version current/stale, uptime) and any instance refresh in progress (percentage,
 * instances left, status reason, checkpoints). Gathered once into a plain object, then rendered
 * as a table or printed as JSON.
 */
import type { InstanceRefresh } from '@aws-sdk/client-auto-scaling';
import {
  AwsCallError,
  type Controller,
  describeFleetGroup,
  describeRefreshes,
  type FleetContext,
  isActiveRefresh,
  type LaunchTemplateRef,
  resolveFleetStack,
  type VersionState,
} from './fleet';
import { clockTime, duration, table } from './fleet-format';
import { readSchedulerStates, type SchedulerRead } from './fleet-ssm';

export interface RefreshSummary {
  readonly id: string;
  readonly status: string;
  readonly statusReason?: string;
  readonly percentageComplete: number;
  readonly instancesToUpdate?: number;
  readonly startTime?: string;
  readonly endTime?: string;
  /** Checkpoint percentages from the refresh's preferences (empty: no checkpoints). */
  readonly checkpoints: readonly number[];
  readonly checkpointDelaySeconds?: number;
  /** The highest checkpoint below 100% that the refresh has reached, if any. */
  readonly checkpointReached?: number;
  readonly targetLaunchTemplateVersion?: string;
  readonly autoRollback: boolean;
  readonly rollback?: {
    readonly reason?: string;
    readonly percentageComplete?: number;
    readonly instancesToUpdate?: number;
  };
}

export interface ControllerStatus {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly instanceType?: string;
  readonly lifecycleState: string;
  readonly health: string;
  readonly launchTemplateId?: string;
  readonly launchTemplateVersion?: number;
  readonly versionState: VersionState;
  readonly launchTime?: string;
  readonly uptimeSeconds?: number;
  readonly protectedFromScaleIn: boolean;
  /** Its scheduler membership, read through SSM (only with `--scheduler`). */
  readonly scheduler?: SchedulerRead;
}

export interface FleetStatus {
  readonly deployment: string;
  readonly region: string;
  readonly stackName: string;
  readonly stackStatus: string;
  readonly runtimeVersion?: string;
  readonly autoScalingGroupName: string;
  readonly capacity: { readonly min: number; readonly max: number; readonly desired: number };
  readonly launchTemplate?: {
    readonly id?: string;
    readonly name?: string;
    /** As the group is configured: a number, `$Latest` or `$Default`. */
    readonly versionSpec: string;
    readonly version?: number;
    /** The version the stack deployed (stack output LaunchTemplateVersion). */
    readonly deployedVersion?: string;
  };
  readonly controllers: readonly ControllerStatus[];
  /** The refresh in progress, if any. */
  readonly refresh?: RefreshSummary;
  /** The most recent finished refresh, when none is in progress. */
  readonly lastRefresh?: RefreshSummary;
  /** Why the instance refreshes could not be read (the rest of the status still is). */
  readonly refreshError?: string;
  /** Controllers that are InService but not usable in the scheduler (only with `--scheduler`). */
  readonly schedulerProblems?: readonly string[];
}

export interface StatusOptions {
  /** Read each controller's scheduler membership through SSM Run Command. */
  readonly scheduler?: { readonly timeoutSeconds: number; readonly pollSeconds: number };
}

/** Lifecycle states in which a controller has booted far enough to answer (and to matter). */
const SCHEDULER_READABLE = new Set([
  'InService',
  'Standby',
  'Terminating:Wait',
  'Terminating:Proceed',
  'Pending:Proceed',
]);

/** Why an InService controller is not usable in the scheduler, or undefined when it is. */
export function schedulerProblem(c: ControllerStatus): string | undefined {
  if (c.lifecycleState !== 'InService' || !c.scheduler || !('state' in c.scheduler)) return undefined;
  const st = c.scheduler.state;
  if (st.state === 'registered' || st.state === 'none') return undefined;
  const what: Record<string, string> = {
    missing: 'is not in the scheduler',
    draining: 'is closed to new jobs in the scheduler',
    down: 'is down in the scheduler',
    unknown: 'could not ask the scheduler (its commands failed)',
  };
  return `${c.instanceId} is InService but ${st.node || 'its node'} ${what[st.state] ?? st.state} (${st.scheduler}): see /var/log/xspot-cdk/scheduler-join.log on it, or run 'xspot-cdk fleet undrain ${c.instanceId}'`;
}

/**
 * The highest checkpoint below 100% the refresh has reached and that is not in `seen`, judged from
 * PercentageComplete (which AWS updates once the new instances have warmed up) and from a status
 * reason that mentions a checkpoint.
 */
export function checkpointReached(r: InstanceRefresh, seen: ReadonlySet<number> = new Set()): number | undefined {
  if (r.Status !== 'InProgress') return undefined;
  const checkpoints = (r.Preferences?.CheckpointPercentages ?? []).filter((c) => c < 100);
  if (checkpoints.length === 0) return undefined;
  const pct = r.PercentageComplete ?? 0;
  const reached = checkpoints.filter((c) => pct >= c && !seen.has(c));
  if (reached.length > 0) return Math.max(...reached);
  if (/checkpoint/i.test(r.StatusReason ?? '')) return checkpoints.find((c) => !seen.has(c));
  return undefined;
}

export function summarizeRefresh(r: InstanceRefresh): RefreshSummary {
  const p = r.Preferences ?? {};
  const checkpoints = p.CheckpointPercentages ?? [];
  const rb = r.RollbackDetails;
  return {
    id: r.InstanceRefreshId ?? '',
    status: r.Status ?? 'Unknown',
    statusReason: r.StatusReason || undefined,
    percentageComplete: r.PercentageComplete ?? 0,
    instancesToUpdate: r.InstancesToUpdate,
    startTime: r.StartTime?.toISOString(),
    endTime: r.EndTime?.toISOString(),
    checkpoints,
    // AWS applies one hour when checkpoints are set without a delay.
    checkpointDelaySeconds: checkpoints.length > 0 ? (p.CheckpointDelay ?? 3600) : undefined,
    checkpointReached: checkpointReached(r),
    targetLaunchTemplateVersion: r.DesiredConfiguration?.LaunchTemplate?.Version,
    autoRollback: p.AutoRollback === true,
    rollback:
      rb && (rb.RollbackReason || rb.PercentageCompleteOnRollback !== undefined)
        ? {
            reason: rb.RollbackReason,
            percentageComplete: rb.PercentageCompleteOnRollback,
            instancesToUpdate: rb.InstancesToUpdateOnRollback,
          }
        : undefined,
  };
}

function controllerStatus(c: Controller, now: Date): ControllerStatus {
  return {
    instanceId: c.instanceId,
    availabilityZone: c.availabilityZone,
    instanceType: c.instanceType,
    lifecycleState: c.lifecycleState,
    health: c.health,
    launchTemplateId: c.launchTemplate?.id,
    launchTemplateVersion: c.launchTemplate?.version,
    versionState: c.versionState,
    launchTime: c.launchTime?.toISOString(),
    uptimeSeconds: c.launchTime ? Math.max(0, Math.floor((now.getTime() - c.launchTime.getTime()) / 1000)) : undefined,
    protectedFromScaleIn: c.protectedFromScaleIn,
  };
}

function templateOf(
  lt: LaunchTemplateRef | undefined,
  deployedVersion: string | undefined,
): FleetStatus['launchTemplate'] {
  if (!lt) return undefined;
  return { id: lt.id, name: lt.name, versionSpec: lt.spec, version: lt.version, deployedVersion };
}

export async function gatherFleetStatus(ctx: FleetContext, opts: StatusOptions = {}): Promise<FleetStatus> {
  const stack = await resolveFleetStack(ctx);
  // The controllers are worth showing even when the refreshes cannot be read (a narrow policy).
  let refreshError: string | undefined;
  const refreshes = await describeRefreshes(ctx, stack.asgName).catch((err: unknown) => {
    if (!(err instanceof AwsCallError) || err.kind === 'credentials' || err.kind === 'expired') throw err;
    refreshError = err.message;
    return [];
  });
  const active = refreshes.find(isActiveRefresh);
  const targetSpec = active?.DesiredConfiguration?.LaunchTemplate;
  const group = await describeFleetGroup(
    ctx,
    stack.asgName,
    targetSpec?.Version && /^\d+$/.test(targetSpec.Version)
      ? { launchTemplateId: targetSpec.LaunchTemplateId, version: Number(targetSpec.Version) }
      : undefined,
  );
  const now = ctx.clock.now();
  const last = active ? undefined : refreshes[0];
  let controllers = group.controllers.map((c) => controllerStatus(c, now));
  let schedulerProblems: string[] | undefined;
  if (opts.scheduler) {
    const ids = controllers.filter((c) => SCHEDULER_READABLE.has(c.lifecycleState)).map((c) => c.instanceId);
    const reads = await readSchedulerStates(ctx, ids, opts.scheduler);
    controllers = controllers.map((c) => {
      const r = reads.get(c.instanceId);
      return r ? { ...c, scheduler: r } : c;
    });
    schedulerProblems = controllers.map(schedulerProblem).filter((p): p is string => p !== undefined);
  }
  return {
    deployment: ctx.deployment,
    region: ctx.region,
    stackName: stack.stackName,
    stackStatus: stack.stackStatus,
    runtimeVersion: stack.runtimeVersion,
    autoScalingGroupName: group.name,
    capacity: { min: group.minSize, max: group.maxSize, desired: group.desiredCapacity },
    launchTemplate: templateOf(group.launchTemplate, stack.launchTemplateVersion),
    controllers,
    refresh: active ? summarizeRefresh(active) : undefined,
    lastRefresh: last ? summarizeRefresh(last) : undefined,
    refreshError,
    ...(schedulerProblems ? { schedulerProblems } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// rendering

function since(iso: string | undefined, now: Date): string {
  if (!iso) return '';
  const t = new Date(iso);
  return `${clockTime(t)} (${duration(now.getTime() - t.getTime())} ago)`;
}

/** One or more lines describing a refresh, as `fleet status` and `fleet upgrade` print it. */
export function describeRefreshLines(r: RefreshSummary, now: Date): string[] {
  const left = r.instancesToUpdate !== undefined ? `, ${r.instancesToUpdate} to update` : '';
  const lines = [
    `instance refresh ${r.id}: ${r.status} ${r.percentageComplete}%${left}, started ${since(r.startTime, now)}`,
  ];
  if (r.statusReason) lines.push(`  reason: ${r.statusReason}`);
  if (r.checkpoints.length > 0) {
    const cps = r.checkpoints.map(
      (c) => `${c}%${r.checkpointReached !== undefined && c <= r.checkpointReached ? ' (reached)' : ''}`,
    );
    lines.push(`  checkpoints: ${cps.join(', ')}; delay ${duration((r.checkpointDelaySeconds ?? 0) * 1000)} at each`);
  }
  const details: string[] = [];
  if (r.targetLaunchTemplateVersion) details.push(`target launch template version ${r.targetLaunchTemplateVersion}`);
  details.push(`auto rollback ${r.autoRollback ? 'on' : 'off'}`);
  lines.push(`  ${details.join('; ')}`);
  if (r.rollback) {
    const pct = r.rollback.percentageComplete !== undefined ? ` ${r.rollback.percentageComplete}% rolled back` : '';
    const n = r.rollback.instancesToUpdate !== undefined ? `, ${r.rollback.instancesToUpdate} to update` : '';
    lines.push(`  rollback:${pct}${n}${r.rollback.reason ? ` (${r.rollback.reason})` : ''}`);
  }
  return lines;
}

function versionCell(c: ControllerStatus): string {
  if (c.launchTemplateVersion === undefined) return '? unknown';
  const label = c.versionState === 'target' ? 'new (refresh target)' : c.versionState;
  return `${c.launchTemplateVersion} ${label}`;
}

function schedulerCell(c: ControllerStatus): string {
  if (!c.scheduler) return '';
  if ('unreadable' in c.scheduler) return '? unreadable';
  const st = c.scheduler.state;
  if (st.state === 'none') return 'none configured';
  const jobs = st.state === 'missing' ? '' : `, ${st.jobs} job${st.jobs === 1 ? '' : 's'}`;
  return `${st.state} ${st.node}${jobs}${schedulerProblem(c) ? ' (!)' : ''}`;
}

export function renderFleetStatus(s: FleetStatus, now: Date): string[] {
  const lines: string[] = [];
  const runtime = s.runtimeVersion ? `, runtime ${s.runtimeVersion}` : '';
  lines.push(`deployment ${s.deployment} in ${s.region}: stack ${s.stackName} ${s.stackStatus}${runtime}`);
  const lt = s.launchTemplate;
  const ltText = lt
    ? `launch template ${lt.id ?? lt.name ?? '?'} version ${lt.version ?? '?'}${lt.versionSpec !== String(lt.version) ? ` (${lt.versionSpec})` : ''}`
    : 'no launch template';
  const c = s.capacity;
  lines.push(`group ${s.autoScalingGroupName}: desired ${c.desired} (min ${c.min}, max ${c.max}), ${ltText}`);
  if (lt?.deployedVersion && lt.version !== undefined && lt.deployedVersion !== String(lt.version)) {
    lines.push(
      `  the stack deployed version ${lt.deployedVersion}; the group uses ${lt.version} (an instance refresh moves it on success)`,
    );
  }
  lines.push('');
  const withScheduler = s.schedulerProblems !== undefined;
  if (s.controllers.length === 0) {
    lines.push('no controllers running');
  } else {
    lines.push(
      ...table(
        ['INSTANCE', 'AZ', 'TYPE', 'STATE', 'HEALTH', 'LT VERSION', 'UPTIME', ...(withScheduler ? ['SCHEDULER'] : [])],
        s.controllers.map((x) => [
          x.instanceId,
          x.availabilityZone,
          x.instanceType ?? '',
          x.lifecycleState,
          x.health,
          versionCell(x),
          x.uptimeSeconds !== undefined ? duration(x.uptimeSeconds * 1000) : '',
          ...(withScheduler ? [schedulerCell(x)] : []),
        ]),
      ),
    );
  }
  if (withScheduler) {
    for (const x of s.controllers) {
      if (x.scheduler && 'unreadable' in x.scheduler) {
        lines.push(`scheduler state of ${x.instanceId} unknown: ${x.scheduler.unreadable}`);
      }
    }
    for (const p of s.schedulerProblems ?? []) lines.push(`WARNING: ${p}`);
  }
  lines.push('');
  if (s.refreshError) {
    lines.push(`instance refreshes unknown: ${s.refreshError}`);
  } else if (s.refresh) {
    lines.push(...describeRefreshLines(s.refresh, now));
  } else {
    const stale = s.controllers.filter((x) => x.versionState === 'stale').length;
    const last = s.lastRefresh
      ? ` (last: ${s.lastRefresh.id} ${s.lastRefresh.status}${s.lastRefresh.endTime ? `, ended ${since(s.lastRefresh.endTime, now)}` : ''})`
      : '';
    lines.push(`no instance refresh in progress${last}`);
    if (stale > 0) {
      lines.push(
        `${stale} controller${stale === 1 ? ' runs' : 's run'} an older launch template version: run 'xspot-cdk fleet upgrade --wait'`,
      );
    }
  }
  return lines;
}
