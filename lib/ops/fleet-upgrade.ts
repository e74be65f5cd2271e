/**
 * `xspot-cdk fleet upgrade`: rolls the controllers onto the launch template version the stack
 * deployed, through an Auto Scaling instance refresh with the preferences the stack publishes
 * (output RefreshPreferences, built from the config's `upgrade:` section: canary checkpoint,
 * min/max healthy percentage, warmup, auto rollback, skip matching).
 *
 * How a refresh is started:
 *  - always with a desired configuration (launch template id + the deployed version number), so
 *    that AWS can roll back at all (rollback needs one) and the refresh targets exactly what was
 *    deployed;
 *  - when `cdk deploy` has already switched the group to the new version while every controller
 *    still runs one older numbered version, the group is first pointed back at that older version
 *    (UpdateAutoScalingGroup). A rollback restores the configuration the group had when the
 *    refresh started; without this step it would "restore" the new version. On success the
 *    refresh sets the group to the new version, which is what the stack says again;
 *  - when there is no single previous version to return to, auto rollback is turned off for this
 *    refresh (with a note) instead of letting AWS roll "back" to the new version.
 *
 * Following a refresh (`--wait`): polls DescribeInstanceRefreshes and reports progress. At each
 * checkpoint below 100% it stops and asks whether to go on. Yes (or `--yes`) continues at once:
 * AWS has no call that ends a checkpoint delay, so the canary refresh is cancelled at its
 * checkpoint and a second refresh with SkipMatching replaces the rest (continueNow). No cancels
 * the refresh (replaced controllers stay on the new version); rollback puts them back. A rollback
 * of the second refresh only replaces what it replaced; the command then replaces the canary too
 * (restoreStragglers), so a rollback always ends with every controller on the previous version;
 * `--rollback` with no refresh in progress does the same for a rollback nobody followed.
 * Without a terminal and without `--yes` the command exits 4 at the checkpoint and AWS resumes by
 * itself after the checkpoint delay (`upgrade.checkpointDelayMinutes`).
 *
 * Exit codes (EXIT): 0 success (or request accepted without --wait), 1 usage/config/AWS error,
 * 2 refresh failed or cancelled (or the rollback failed), 3 rolled back, 4 stopped at a
 * checkpoint without an answer.
 */
import {
  CancelInstanceRefreshCommand,
  type InstanceRefresh,
  type RefreshPreferences,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { UserError } from '../errors';
import {
  callAws,
  describeFleetGroup,
  describeRefreshes,
  type FleetContext,
  type FleetGroup,
  type FleetStack,
  isActiveRefresh,
  isTransient,
  OUTPUT,
  resolveFleetStack,
} from './fleet';
import { clockTime, duration } from './fleet-format';
import type { ProgressView, RefreshProgress } from './fleet-progress';
import { checkpointReached, describeRefreshLines, summarizeRefresh } from './fleet-status';

export const EXIT = {
  ok: 0,
  error: 1,
  failedOrCancelled: 2,
  rolledBack: 3,
  stoppedAtCheckpoint: 4,
} as const;

/** The exit code for a refresh that ended in `status`. */
export function exitCodeFor(status: string | undefined): number {
  switch (status) {
    case 'Successful':
      return EXIT.ok;
    case 'RollbackSuccessful':
      return EXIT.rolledBack;
    default:
      return EXIT.failedOrCancelled;
  }
}

// ---------------------------------------------------------------------------------------------
// the RefreshPreferences stack output

type Kind = 'number' | 'boolean' | 'string' | 'numbers' | 'object';
const PREFERENCE_KEYS: Record<string, Kind> = {
  MinHealthyPercentage: 'number',
  MaxHealthyPercentage: 'number',
  InstanceWarmup: 'number',
  CheckpointPercentages: 'numbers',
  CheckpointDelay: 'number',
  SkipMatching: 'boolean',
  AutoRollback: 'boolean',
  ScaleInProtectedInstances: 'string',
  StandbyInstances: 'string',
  AlarmSpecification: 'object',
  BakeTime: 'number',
};

export interface ParsedPreferences {
  readonly preferences: RefreshPreferences;
  /** Keys that are not instance-refresh preferences; left out of the request. */
  readonly ignored: readonly string[];
}

/**
 * Parses the stack output: a JSON object of StartInstanceRefresh `Preferences` (PascalCase, as the
 * API takes them; camelCase keys are accepted too). Seconds for warmup, delay and bake time.
 */
export function parseRefreshPreferences(raw: string, stackName: string): ParsedPreferences {
  const where = `stack ${stackName} output ${OUTPUT.refreshPreferences}`;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw new UserError(`${where} is not valid JSON (${(e as Error).message}); redeploy with 'npx cdk deploy --all'`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(`${where} must be a JSON object of instance refresh preferences, got ${JSON.stringify(value)}`);
  }
  const out: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const k = key.charAt(0).toUpperCase() + key.slice(1);
    const kind = PREFERENCE_KEYS[k];
    if (!kind) {
      ignored.push(key);
      continue;
    }
    const ok =
      kind === 'numbers'
        ? Array.isArray(v) && v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 100)
        : kind === 'object'
          ? v !== null && typeof v === 'object' && !Array.isArray(v)
          : kind === 'number'
            ? typeof v === 'number' && Number.isInteger(v) && v >= 0
            : typeof v === kind;
    if (!ok) {
      const allowed =
        kind === 'numbers'
          ? 'an array of whole percentages 1-100'
          : kind === 'number'
            ? 'a whole number >= 0'
            : `a ${kind}`;
      throw new UserError(`${where}: ${key} is ${JSON.stringify(v)}; it must be ${allowed}`);
    }
    out[k] = v;
  }
  const cps = out.CheckpointPercentages as number[] | undefined;
  if (cps?.some((c, i) => i > 0 && c <= cps[i - 1])) {
    throw new UserError(`${where}: CheckpointPercentages ${JSON.stringify(cps)} must be ascending and unique`);
  }
  return { preferences: out as RefreshPreferences, ignored };
}

// ---------------------------------------------------------------------------------------------
// options and UI hooks

export type CheckpointAnswer = 'continue' | 'cancel' | 'rollback';

export interface UpgradeUi {
  readonly progress: RefreshProgress;
  /**
   * Asks a question on the terminal; resolves with the answer, or undefined when `signal` aborts
   * (the refresh moved on by itself) or input closes. Absent when there is no terminal.
   */
  readonly ask?: (question: string, signal: AbortSignal) => Promise<string | undefined>;
}

export interface UpgradeOptions {
  /** Follow the refresh until it ends (progress, checkpoint prompt, exit code from the outcome). */
  readonly wait: boolean;
  /** Answer yes at checkpoints. */
  readonly yes: boolean;
  /** Seconds between DescribeInstanceRefreshes calls while following. */
  readonly pollSeconds: number;
}

const CLI = 'xspot-cdk fleet';
const ANSWER_HELP = "answer 'y' (go on), 'n' (cancel the refresh) or 'r' (roll back)";

export function parseAnswer(text: string): CheckpointAnswer | undefined {
  const a = text.trim().toLowerCase();
  if (a === 'y' || a === 'yes') return 'continue';
  if (a === 'n' || a === 'no') return 'cancel';
  if (a === 'r' || a === 'rollback') return 'rollback';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// start

interface Plan {
  readonly launchTemplateId: string;
  readonly target: number;
  /** Version the group is pointed back to before the refresh starts (see the file header). */
  readonly rewindTo?: number;
  /** The version a rollback returns to, if any. */
  readonly previous?: number;
  readonly preferences: RefreshPreferences;
  readonly notes: readonly string[];
}

function numbered(v: string | undefined): number | undefined {
  return v !== undefined && /^[1-9]\d*$/.test(v) ? Number(v) : undefined;
}

function planRefresh(stack: FleetStack, group: FleetGroup, parsed: ParsedPreferences): Plan | 'up-to-date' {
  const groupLt = group.launchTemplate;
  const launchTemplateId = stack.launchTemplateId ?? groupLt?.id;
  if (!launchTemplateId || !groupLt) {
    throw new UserError(
      `group ${group.name} has no launch template; 'fleet upgrade' only rolls launch template versions`,
    );
  }
  const target = numbered(stack.launchTemplateVersion) ?? groupLt.version;
  if (target === undefined) {
    throw new UserError(
      `cannot tell which launch template version to roll out: stack ${stack.stackName} has no output ${OUTPUT.launchTemplateVersion} and the group's version ${groupLt.spec} does not resolve`,
    );
  }
  const notes: string[] = [];
  const prefs: RefreshPreferences = { ...parsed.preferences };
  if (parsed.ignored.length > 0) {
    notes.push(
      `note: ignoring ${parsed.ignored.join(', ')} in output ${OUTPUT.refreshPreferences} (not an instance refresh preference)`,
    );
  }
  // Controllers on their way out (Terminating, Terminating:Wait, ...) do not count.
  const live = group.controllers.filter((c) => !c.lifecycleState.startsWith('Terminat'));
  const onTarget = (c: (typeof live)[number]) =>
    c.launchTemplate?.version === target && c.launchTemplate?.id === launchTemplateId;
  if (live.length > 0 && live.every(onTarget) && prefs.SkipMatching !== false && groupLt.version === target) {
    return 'up-to-date';
  }

  const sameTemplate = groupLt.id === undefined || groupLt.id === launchTemplateId;
  let previous: number | undefined;
  let rewindTo: number | undefined;
  if (sameTemplate && groupLt.version !== undefined && groupLt.version !== target && /^\d+$/.test(groupLt.spec)) {
    previous = groupLt.version;
  } else if (sameTemplate) {
    const versions = new Set(
      live.filter((c) => c.launchTemplate?.id === launchTemplateId).map((c) => c.launchTemplate?.version),
    );
    const only = versions.size === 1 ? [...versions][0] : undefined;
    if (only !== undefined && only !== target && live.every((c) => c.launchTemplate?.id === launchTemplateId)) {
      previous = only;
      rewindTo = only;
    }
  }
  if (previous === undefined && prefs.AutoRollback) {
    prefs.AutoRollback = false;
    notes.push(
      'note: auto rollback is off for this refresh: the controllers do not share one earlier launch template version to return to',
    );
  }
  return { launchTemplateId, target, rewindTo, previous, preferences: prefs, notes };
}

function describePreferences(p: RefreshPreferences): string {
  const parts: string[] = [];
  if (p.CheckpointPercentages?.length) {
    parts.push(
      `checkpoints ${p.CheckpointPercentages.map((c) => `${c}%`).join(',')} (delay ${duration((p.CheckpointDelay ?? 3600) * 1000)})`,
    );
  }
  if (p.MinHealthyPercentage !== undefined) parts.push(`min healthy ${p.MinHealthyPercentage}%`);
  if (p.MaxHealthyPercentage !== undefined) parts.push(`max healthy ${p.MaxHealthyPercentage}%`);
  if (p.InstanceWarmup !== undefined) parts.push(`warmup ${duration(p.InstanceWarmup * 1000)}`);
  parts.push(`auto rollback ${p.AutoRollback ? 'on' : 'off'}`);
  if (p.SkipMatching) parts.push('skip matching');
  return parts.join(', ');
}

async function setGroupVersion(
  ctx: FleetContext,
  group: string,
  launchTemplateId: string,
  version: number,
): Promise<void> {
  await callAws(
    {
      action: `pointing group ${group} at launch template version ${version}`,
      permission: 'autoscaling:UpdateAutoScalingGroup (and ec2:RunInstances, iam:PassRole for the launch template)',
      region: ctx.region,
    },
    () =>
      ctx.clients.asg.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: group,
          LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: String(version) },
        }),
      ),
  );
}

/** `fleet upgrade [--wait] [--yes]`. Returns the exit code. */
export async function runUpgrade(ctx: FleetContext, opts: UpgradeOptions, ui: UpgradeUi): Promise<number> {
  const { io } = ctx;
  const stack = await resolveFleetStack(ctx);
  if (/_IN_PROGRESS$/.test(stack.stackStatus)) {
    throw new UserError(
      `stack ${stack.stackName} is ${stack.stackStatus}; wait for the deploy to finish, then run '${CLI} upgrade'`,
    );
  }
  const [latest] = await describeRefreshes(ctx, stack.asgName);
  if (isActiveRefresh(latest)) {
    if (!opts.wait) {
      throw new UserError(
        `instance refresh ${latest.InstanceRefreshId} is already ${latest.Status} (${latest.PercentageComplete ?? 0}%) on ${stack.asgName}; follow it with '${CLI} upgrade --wait', or stop it with --cancel or --rollback`,
      );
    }
    io.err(`following instance refresh ${latest.InstanceRefreshId} already ${latest.Status} on ${stack.asgName}`);
    return followRefresh(ctx, stack.asgName, latest.InstanceRefreshId ?? '', opts, ui);
  }
  if (!stack.refreshPreferences) {
    throw new UserError(
      `stack ${stack.stackName} has no output ${OUTPUT.refreshPreferences}; it was deployed by an older version, run 'npx cdk deploy --all' first`,
    );
  }
  const parsed = parseRefreshPreferences(stack.refreshPreferences, stack.stackName);
  const group = await describeFleetGroup(ctx, stack.asgName);
  const plan = planRefresh(stack, group, parsed);
  if (plan === 'up-to-date') {
    io.out(
      `nothing to upgrade: every controller of ${group.name} runs launch template version ${group.launchTemplate?.version} (the version deployed)`,
    );
    return EXIT.ok;
  }
  for (const note of plan.notes) io.err(note);

  if (plan.rewindTo !== undefined) {
    io.err(
      `the group already uses version ${plan.target} (set by cdk deploy) while every controller runs ${plan.rewindTo}; pointing it back at ${plan.rewindTo} so that a rollback returns there (the refresh moves it to ${plan.target} when it succeeds)`,
    );
    await setGroupVersion(ctx, group.name, plan.launchTemplateId, plan.rewindTo);
  }

  let refreshId: string;
  try {
    const res = await callAws(
      {
        action: `starting an instance refresh of ${group.name}`,
        permission: 'autoscaling:StartInstanceRefresh (and ec2:RunInstances, iam:PassRole for the launch template)',
        region: ctx.region,
      },
      () =>
        ctx.clients.asg.send(
          new StartInstanceRefreshCommand({
            AutoScalingGroupName: group.name,
            Strategy: 'Rolling',
            DesiredConfiguration: {
              LaunchTemplate: { LaunchTemplateId: plan.launchTemplateId, Version: String(plan.target) },
            },
            Preferences: plan.preferences,
          }),
        ),
    );
    refreshId = res.InstanceRefreshId ?? '';
  } catch (err) {
    if (plan.rewindTo !== undefined) {
      // Put the group back where the stack left it; the original error is what matters.
      await setGroupVersion(ctx, group.name, plan.launchTemplateId, plan.target).catch((e: unknown) =>
        io.err(`warning: could not point ${group.name} back at version ${plan.target}: ${(e as Error).message}`),
      );
    }
    throw err;
  }
  const from = plan.previous !== undefined ? `${plan.previous} -> ` : '';
  io.out(
    `started instance refresh ${refreshId} on ${group.name}: launch template ${plan.launchTemplateId} version ${from}${plan.target}`,
  );
  io.out(`  ${describePreferences(plan.preferences)}`);
  if (!opts.wait) {
    io.out(`follow it with '${CLI} upgrade --wait' or '${CLI} status'`);
    return EXIT.ok;
  }
  return followRefresh(ctx, group.name, refreshId, opts, ui);
}

// ---------------------------------------------------------------------------------------------
// cancel / rollback

async function activeRefreshOrFail(ctx: FleetContext, asgName: string, what: string): Promise<InstanceRefresh> {
  const [latest] = await describeRefreshes(ctx, asgName);
  if (!isActiveRefresh(latest)) {
    const last = latest ? ` (the last one, ${latest.InstanceRefreshId}, ended ${latest.Status})` : '';
    throw new UserError(`no instance refresh in progress on ${asgName}${last}; nothing to ${what}`);
  }
  return latest;
}

async function cancel(ctx: FleetContext, asgName: string): Promise<void> {
  await callAws(
    {
      action: `cancelling the instance refresh of ${asgName}`,
      permission: 'autoscaling:CancelInstanceRefresh',
      region: ctx.region,
    },
    () => ctx.clients.asg.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: asgName })),
  );
}

async function rollback(ctx: FleetContext, asgName: string): Promise<void> {
  await callAws(
    {
      action: `rolling back the instance refresh of ${asgName}`,
      permission: 'autoscaling:RollbackInstanceRefresh (and ec2:RunInstances, iam:PassRole for the launch template)',
      region: ctx.region,
    },
    () => ctx.clients.asg.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: asgName })),
  );
}

/** `fleet upgrade --cancel` / `--rollback`. */
export async function runStopRefresh(
  ctx: FleetContext,
  action: 'cancel' | 'rollback',
  opts: UpgradeOptions,
  ui: UpgradeUi,
): Promise<number> {
  const stack = await resolveFleetStack(ctx);
  if (action === 'rollback') {
    // A rollback nobody followed after a continue leaves the canary on the new version: put it back.
    const [latest] = await describeRefreshes(ctx, stack.asgName);
    if (latest?.Status === 'RollbackSuccessful') {
      const id = await restoreStragglers(ctx, stack.asgName, latest.Preferences);
      if (id !== undefined) {
        if (!opts.wait) {
          ctx.io.out(`follow it with '${CLI} upgrade --wait' or '${CLI} status'`);
          return EXIT.ok;
        }
        return followRefresh(ctx, stack.asgName, id, { ...opts, yes: false }, ui, true);
      }
    }
  }
  const active = await activeRefreshOrFail(ctx, stack.asgName, action === 'cancel' ? 'cancel' : 'roll back');
  const id = active.InstanceRefreshId ?? '';
  if (action === 'cancel') {
    await cancel(ctx, stack.asgName);
    ctx.io.out(
      `cancelling instance refresh ${id}: no further controllers are replaced; those already replaced stay as they are`,
    );
  } else {
    await rollback(ctx, stack.asgName);
    ctx.io.out(
      `rolling back instance refresh ${id}: the controllers it replaced are replaced again with the previous configuration`,
    );
  }
  if (!opts.wait) {
    ctx.io.out(`follow it with '${CLI} upgrade --wait' or '${CLI} status'`);
    return EXIT.ok;
  }
  return followRefresh(ctx, stack.asgName, id, { ...opts, yes: false }, ui);
}

// ---------------------------------------------------------------------------------------------
// follow

const MAX_TRANSIENT_FAILURES = 10;
/** Poll interval while a cancel settles (seconds, not a progress poll). */
const CANCEL_POLL_MS = 5000;

async function pollOnce(
  ctx: FleetContext,
  asgName: string,
  refreshId: string,
  failures: { n: number },
): Promise<InstanceRefresh | undefined> {
  try {
    const [r] = await describeRefreshes(ctx, asgName, refreshId);
    failures.n = 0;
    if (!r) throw new UserError(`instance refresh ${refreshId} of ${asgName} is no longer listed by AWS`);
    return r;
  } catch (err) {
    if (isTransient(err) && ++failures.n < MAX_TRANSIENT_FAILURES) {
      ctx.io.err(`warning: ${(err as Error).message}; retrying (${failures.n}/${MAX_TRANSIENT_FAILURES})`);
      return undefined;
    }
    throw err;
  }
}

function view(r: InstanceRefresh, counts: { total?: number }): ProgressView {
  const rolling =
    r.Status === 'RollbackInProgress' || r.Status === 'RollbackSuccessful' || r.Status === 'RollbackFailed';
  const toUpdate = rolling ? r.RollbackDetails?.InstancesToUpdateOnRollback : r.InstancesToUpdate;
  if (!rolling && toUpdate !== undefined) counts.total = Math.max(counts.total ?? 0, toUpdate);
  const total = rolling ? undefined : counts.total;
  return {
    status: r.Status ?? 'Unknown',
    percentage: (rolling ? r.RollbackDetails?.PercentageCompleteOnRollback : r.PercentageComplete) ?? 0,
    replaced: total !== undefined && toUpdate !== undefined ? total - toUpdate : undefined,
    total,
    reason: r.StatusReason || undefined,
  };
}

function finalLine(r: InstanceRefresh, now: Date): string {
  const took = r.StartTime ? ` after ${duration((r.EndTime ?? now).getTime() - r.StartTime.getTime())}` : '';
  const reason = r.StatusReason ? `: ${r.StatusReason}` : '';
  const id = r.InstanceRefreshId;
  switch (r.Status) {
    case 'Successful':
      return `instance refresh ${id} Successful${took}: every controller runs launch template version ${r.DesiredConfiguration?.LaunchTemplate?.Version ?? 'deployed'}`;
    case 'RollbackSuccessful':
      return `instance refresh ${id} rolled back${took}${r.RollbackDetails?.RollbackReason ? ` (${r.RollbackDetails.RollbackReason})` : ''}: the controllers are back on the previous configuration`;
    case 'Cancelled':
      return `instance refresh ${id} Cancelled${took}; controllers replaced before the cancel keep the new version (see '${CLI} status')`;
    default:
      return `instance refresh ${id} ${r.Status}${took}${reason}; see '${CLI} status' and the group's scaling activities`;
  }
}

/**
 * Preferences for the refresh that replaces the rest after a continue: the first refresh's,
 * without its checkpoints (the canary is validated) and with SkipMatching (the canary already runs
 * the target and must stay). Undefined when a later checkpoint below 100% remains (AWS then
 * resumes the first refresh after its delay, as before).
 */
export function restPreferences(r: InstanceRefresh, cp: number): RefreshPreferences | undefined {
  const p = r.Preferences ?? {};
  if ((p.CheckpointPercentages ?? []).some((c) => c > cp && c < 100)) return undefined;
  const { CheckpointPercentages: _c, CheckpointDelay: _d, ...rest } = p;
  return { ...rest, SkipMatching: true };
}

/** Preferences of the refresh that puts controllers back after a rollback (restoreStragglers). */
export function restorePreferences(p: RefreshPreferences = {}): RefreshPreferences {
  return {
    MinHealthyPercentage: p.MinHealthyPercentage ?? 100,
    MaxHealthyPercentage: p.MaxHealthyPercentage ?? 200,
    ...(p.InstanceWarmup !== undefined ? { InstanceWarmup: p.InstanceWarmup } : {}),
    SkipMatching: true,
    AutoRollback: false,
  };
}

async function startRefresh(
  ctx: FleetContext,
  asgName: string,
  launchTemplateId: string,
  version: string,
  preferences: RefreshPreferences,
  why: string,
): Promise<string> {
  const res = await callAws(
    {
      action: `starting an instance refresh of ${asgName} (${why})`,
      permission: 'autoscaling:StartInstanceRefresh (and ec2:RunInstances, iam:PassRole for the launch template)',
      region: ctx.region,
    },
    () =>
      ctx.clients.asg.send(
        new StartInstanceRefreshCommand({
          AutoScalingGroupName: asgName,
          Strategy: 'Rolling',
          DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: version } },
          Preferences: preferences,
        }),
      ),
  );
  return res.InstanceRefreshId ?? '';
}

/** Polls until refresh `id` is no longer active (a cancel takes seconds); returns its last state. */
async function waitInactive(ctx: FleetContext, asgName: string, id: string, pollMs: number): Promise<InstanceRefresh> {
  const failures = { n: 0 };
  const step = Math.min(pollMs, CANCEL_POLL_MS);
  for (;;) {
    const r = await pollOnce(ctx, asgName, id, failures);
    if (r && !isActiveRefresh(r)) return r;
    await ctx.clock.sleep(step);
  }
}

/**
 * "Continue means continue": AWS has no call that ends a checkpoint delay, so the refresh that
 * stopped at the canary checkpoint is cancelled (the canary is kept: a cancel rolls nothing back)
 * and a second refresh starts for the rest with SkipMatching. The group's configuration is only
 * moved to the target when a refresh with a desired configuration succeeds, so the second refresh
 * starts from the same previous version: its rollback returns there. Returns the new refresh id,
 * or undefined when the first refresh cannot be replaced (then AWS resumes it after the delay).
 */
async function continueNow(
  ctx: FleetContext,
  asgName: string,
  r: InstanceRefresh,
  cp: number,
  pollMs: number,
): Promise<string | undefined> {
  const { io, clock } = ctx;
  const lt = r.DesiredConfiguration?.LaunchTemplate;
  const prefs = restPreferences(r, cp);
  const resumesAt = clockTime(new Date(clock.now().getTime() + (r.Preferences?.CheckpointDelay ?? 3600) * 1000));
  if (!lt?.LaunchTemplateId || !lt.Version || !prefs) {
    io.err(`continuing: AWS resumes the refresh after the checkpoint delay, at about ${resumesAt}`);
    return undefined;
  }
  await cancel(ctx, asgName);
  const ended = await waitInactive(ctx, asgName, r.InstanceRefreshId ?? '', pollMs);
  if (ended.Status !== 'Cancelled') {
    throw new UserError(
      `instance refresh ${r.InstanceRefreshId} ended ${ended.Status} instead of stopping at its checkpoint; see '${CLI} status'`,
    );
  }
  const id = await startRefresh(ctx, asgName, lt.LaunchTemplateId, lt.Version, prefs, 'the rest after the canary');
  io.err(
    `continuing now: canary refresh ${r.InstanceRefreshId} stopped at its checkpoint, instance refresh ${id} replaces the rest (skip matching: the canary stays)`,
  );
  return id;
}

/**
 * After a rollback: controllers that run another version than the group's (the canary, replaced by
 * the first refresh when a continue started a second one, which a rollback of the second does not
 * touch) are replaced too, by a refresh to the group's version with SkipMatching, the rolled-back
 * refresh's pace and warmup, no checkpoints and no auto rollback. Returns its id, or undefined when
 * every controller already runs the group's version.
 */
async function restoreStragglers(
  ctx: FleetContext,
  asgName: string,
  from: RefreshPreferences | undefined,
): Promise<string | undefined> {
  const group = await describeFleetGroup(ctx, asgName);
  const lt = group.launchTemplate;
  if (!lt?.id || lt.version === undefined) return undefined;
  const others = group.controllers.filter(
    (c) => !c.lifecycleState.startsWith('Terminat') && c.launchTemplate?.version !== lt.version,
  );
  if (others.length === 0) return undefined;
  const list = others.map((c) => `${c.instanceId} (version ${c.launchTemplate?.version ?? '?'})`).join(', ');
  const id = await startRefresh(
    ctx,
    asgName,
    lt.id,
    String(lt.version),
    restorePreferences(from),
    'putting the canary back',
  );
  ctx.io.err(
    `the rollback left ${list} on another version than the group's ${lt.version} (replaced before the continue); instance refresh ${id} replaces ${others.length === 1 ? 'it' : 'them'} with version ${lt.version}`,
  );
  return id;
}

/**
 * Follows refresh `refreshId` until it ends; returns the exit code for its outcome. Stops at each
 * checkpoint below 100% (see the file header). A continue at the canary checkpoint switches to the
 * second refresh; a rollback that leaves controllers on a mix is followed by a restoring refresh.
 */
export async function followRefresh(
  ctx: FleetContext,
  asgName: string,
  refreshId: string,
  opts: UpgradeOptions,
  ui: UpgradeUi,
  /** `refreshId` puts controllers back after a rollback (restoreStragglers): success means exit 3. */
  restoringAfterRollback = false,
): Promise<number> {
  const { io, clock } = ctx;
  const pollMs = Math.max(1, opts.pollSeconds) * 1000;
  const failures = { n: 0 };
  let counts: { total?: number } = {};
  const seen = new Set<number>();
  let id = refreshId;
  let restoring = restoringAfterRollback;
  let startedAt: Date | undefined;
  // Checkpoints already passed when we attach to a running refresh are not asked again.
  let first = true;
  for (;;) {
    const r = await pollOnce(ctx, asgName, id, failures);
    if (!r) {
      await clock.sleep(pollMs * 2);
      continue;
    }
    if (first) {
      first = false;
      startedAt = r.StartTime;
      for (const c of r.Preferences?.CheckpointPercentages ?? []) if (c < (r.PercentageComplete ?? 0)) seen.add(c);
    }
    ui.progress.update(view(r, counts));
    if (!isActiveRefresh(r)) {
      ui.progress.stop();
      io.out(finalLine(r, clock.now()));
      if (r.Status === 'RollbackSuccessful' && !restoring) {
        const next = await restoreStragglers(ctx, asgName, r.Preferences);
        if (next) {
          restoring = true;
          id = next;
          counts = {};
          continue;
        }
      }
      if (restoring) return r.Status === 'Successful' ? EXIT.rolledBack : EXIT.failedOrCancelled;
      if (id !== refreshId && r.Status === 'Successful' && startedAt !== undefined) {
        io.out(
          `upgrade done in ${duration(clock.now().getTime() - startedAt.getTime())}: canary refresh ${refreshId}, then ${id}`,
        );
      }
      return exitCodeFor(r.Status);
    }
    const cp = checkpointReached(r, seen);
    if (cp !== undefined) {
      for (const c of r.Preferences?.CheckpointPercentages ?? []) if (c <= cp) seen.add(c);
      ui.progress.pause();
      const answer = await atCheckpoint(ctx, asgName, r, cp, opts, ui, pollMs);
      if (answer === 'stop') return EXIT.stoppedAtCheckpoint;
      if (answer === 'continue') {
        const next = await continueNow(ctx, asgName, r, cp, pollMs);
        if (next) {
          id = next;
          counts = {};
          continue;
        }
      } else if (answer === 'cancel') {
        await cancel(ctx, asgName);
        io.err('cancelling the instance refresh');
      } else if (answer === 'rollback') {
        await rollback(ctx, asgName);
        io.err('rolling back the instance refresh');
      }
    }
    await clock.sleep(pollMs);
  }
}

async function atCheckpoint(
  ctx: FleetContext,
  asgName: string,
  r: InstanceRefresh,
  cp: number,
  opts: UpgradeOptions,
  ui: UpgradeUi,
  pollMs: number,
): Promise<CheckpointAnswer | 'stop' | 'resumed'> {
  const { io, clock } = ctx;
  const delay = r.Preferences?.CheckpointDelay ?? 3600;
  const resumesAt = new Date(clock.now().getTime() + delay * 1000);
  io.err('');
  for (const line of describeRefreshLines(summarizeRefresh(r), clock.now())) io.err(line);
  io.err(
    `checkpoint ${cp}% reached: validate the new controllers now ('${CLI} status', '${CLI} check'); unanswered, AWS goes on with the rest after the checkpoint delay, at about ${clockTime(resumesAt)}`,
  );
  if (opts.yes) {
    io.err('--yes: continuing');
    return 'continue';
  }
  if (!ui.ask) {
    io.err(
      `stopped at the checkpoint (no terminal to ask, and no --yes). Stop it before ${clockTime(resumesAt)} with '${CLI} upgrade --cancel' or '--rollback', or follow it again with '${CLI} upgrade --wait [--yes]'`,
    );
    return 'stop';
  }
  const ask = ui.ask;
  // Ask, while watching whether AWS resumes by itself (the checkpoint delay ended).
  const abort = new AbortController();
  let answered = false;
  const watch = (async (): Promise<'resumed' | undefined> => {
    const failures = { n: 0 };
    while (!answered) {
      await clock.sleep(pollMs);
      if (answered) return undefined;
      const now = await pollOnce(ctx, asgName, r.InstanceRefreshId ?? '', failures).catch(() => undefined);
      if (!now || answered) continue;
      const moved =
        now.Status !== 'InProgress' ||
        (now.PercentageComplete ?? 0) > (r.PercentageComplete ?? 0) ||
        (now.InstancesToUpdate ?? 0) < (r.InstancesToUpdate ?? 0);
      if (moved) {
        abort.abort();
        return 'resumed';
      }
    }
    return undefined;
  })();
  try {
    for (;;) {
      const text = await ask(`Continue the upgrade? [y]es / [n]o: cancel / [r]ollback: `, abort.signal);
      if (text === undefined) {
        if (abort.signal.aborted) {
          io.err('the refresh moved on by itself (checkpoint delay over); following it');
          return 'resumed';
        }
        io.err('no answer (input closed); leaving the refresh at its checkpoint');
        return 'stop';
      }
      const a = parseAnswer(text);
      if (a) return a;
      io.err(ANSWER_HELP);
    }
  } finally {
    answered = true;
    abort.abort();
    await watch.catch(() => undefined);
  }
}
