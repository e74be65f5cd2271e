/**
 * Fleet commands that run on the controllers through SSM Run Command (AWS-RunShellScript):
 *  - `fleet drain INSTANCE`: what the terminate lifecycle hook does, on demand: the runtime's
 *    bin/drain.sh --no-lifecycle (stop new jobs, wait for running containers, final log sync);
 *    with --standby the instance first goes to Standby so Auto Scaling neither replaces it nor
 *    counts it while it is drained;
 *  - `fleet undrain INSTANCE`: bin/undrain.sh (the scheduler sends jobs again); with --standby
 *    the instance then leaves Standby;
 *  - `fleet check`: the guide's validation on every InService controller: `xspot check -f` and
 *    a smoke `exorun run -c 1 -m 1 -- /bin/true`; one PASS/FAIL line per controller.
 *
 * The scripts run from /opt/xspot-cdk/current (the link the runtime keeps to the active
 * release), falling back to XSPOT_RELEASE_DIR from /etc/xspot-cdk/deploy.env
 * (docs/controller-contract.md). The command text is constant apart from allow-listed config
 * values (scheduler.exorunPath) and numbers.
 */
import { EnterStandbyCommand, ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import {
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { UserError } from '../errors';
import { describeAwsError } from './aws-errors';
import {
  AwsCallError,
  type Controller,
  callAws,
  describeFleetGroup,
  type FleetContext,
  type FleetGroup,
  isTransient,
  resolveFleetStack,
} from './fleet';
import { duration, tail } from './fleet-format';

// ---------------------------------------------------------------------------------------------
// commands

const RUNTIME_LOCATE = [
  'd=/opt/xspot-cdk/current',
  'if [ ! -f "$d/bin/drain.sh" ] && [ -r /etc/xspot-cdk/deploy.env ]; then . /etc/xspot-cdk/deploy.env; d="$XSPOT_RELEASE_DIR"; fi',
];

export function drainCommands(timeoutSeconds?: number): string[] {
  const t = timeoutSeconds !== undefined ? ` --timeout ${Math.floor(timeoutSeconds)}` : '';
  return ['set -eu', ...RUNTIME_LOCATE, `exec /bin/bash "$d/bin/drain.sh" --no-lifecycle${t}`];
}

export function undrainCommands(): string[] {
  return ['set -eu', ...RUNTIME_LOCATE, 'exec /bin/bash "$d/bin/undrain.sh"'];
}

/** Marker lines the check prints after each step, parsed by `parseCheckOutput`. */
const STEP_MARK = 'XSPOT-CDK-STEP';
export const CHECK_STEPS = [
  { id: 'xspot-check', label: 'xspot check -f' },
  { id: 'exorun-smoke', label: 'exorun run -c 1 -m 1 -- /bin/true' },
] as const;

const SAFE_PATH = /^\/[A-Za-z0-9._+@/-]+$/;

export function checkCommands(exorunPath: string): string[] {
  if (!SAFE_PATH.test(exorunPath) || exorunPath.includes('..')) {
    throw new UserError(`scheduler.exorunPath ${JSON.stringify(exorunPath)} is not a plain absolute path`);
  }
  const step = (id: string, label: string, cmd: string) => [
    `echo '--- ${label}'`,
    `${cmd} </dev/null 2>&1; s=$?; echo "${STEP_MARK} ${id} rc=$s"; [ "$s" -eq 0 ] || rc=$s`,
  ];
  return [
    'export PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
    'rc=0',
    ...step(CHECK_STEPS[0].id, CHECK_STEPS[0].label, 'xspot check -f'),
    ...step(CHECK_STEPS[1].id, CHECK_STEPS[1].label, `'${exorunPath}' run -c 1 -m 1 -- /bin/true`),
    'exit "$rc"',
  ];
}

/** The line scripts/scheduler-state.sh prints (docs/controller-runtime.md). */
const SCHED_LINE =
  /^XSPOT-SCHEDULER scheduler=(slurm|gridengine|lsf|none) node=(\S*) state=(registered|draining|down|missing|unknown|none) jobs=(\d+)$/m;

export function schedulerStateCommands(): string[] {
  return ['set -eu', ...RUNTIME_LOCATE, 'exec /bin/bash "$d/scripts/scheduler-state.sh"'];
}

/** A controller's membership as its own scheduler-state.sh reports it. */
export interface SchedulerState {
  readonly scheduler: string;
  readonly node: string;
  /** registered | draining | down | missing | unknown | none (no scheduler configured) */
  readonly state: string;
  readonly jobs: number;
}

export function parseSchedulerState(stdout: string): SchedulerState | undefined {
  const m = SCHED_LINE.exec(stdout);
  if (!m) return undefined;
  return { scheduler: m[1], node: m[2], state: m[3], jobs: Number(m[4]) };
}

/** Either the state, or why it could not be read. */
export type SchedulerRead = { readonly state: SchedulerState } | { readonly unreadable: string };

/**
 * Reads each controller's scheduler membership through SSM Run Command, one command per
 * instance (an instance that SSM cannot reach fails alone). Never throws for one controller:
 * what could not be read says why.
 */
export async function readSchedulerStates(
  ctx: FleetContext,
  instanceIds: readonly string[],
  opts: { readonly timeoutSeconds: number; readonly pollSeconds: number },
): Promise<Map<string, SchedulerRead>> {
  const out = new Map<string, SchedulerRead>();
  for (const id of instanceIds) {
    try {
      const commandId = await sendShell(
        ctx,
        [id],
        schedulerStateCommands(),
        'xspot-cdk fleet status --scheduler',
        opts.timeoutSeconds,
      );
      const [inv] = await waitForCommand(ctx, commandId, [id], {
        pollMs: opts.pollSeconds * 1000,
        deadlineMs: opts.timeoutSeconds * 1000,
      });
      const state = parseSchedulerState(inv.stdout);
      out.set(
        id,
        state
          ? { state }
          : {
              unreadable:
                `no state line in the output (${invocationFailure(inv)}): ${tail(inv.stderr || inv.stdout, 1, 200, '').join('')}`.trim(),
            },
      );
    } catch (err) {
      if (err instanceof AwsCallError && (err.kind === 'credentials' || err.kind === 'expired')) throw err;
      out.set(id, { unreadable: (err as Error).message });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Run Command plumbing

export interface Invocation {
  readonly instanceId: string;
  /** Success | Failed | TimedOut | Cancelled (or our own TimedOut when AWS never answered). */
  readonly status: string;
  readonly statusDetails?: string;
  readonly responseCode?: number;
  readonly stdout: string;
  readonly stderr: string;
}

const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
/** How long SSM may take to deliver the command to an instance (SendCommand TimeoutSeconds). */
const DELIVERY_TIMEOUT_SECONDS = 600;
/** AWS-RunShellScript's executionTimeout limit. */
const MAX_EXECUTION_SECONDS = 172800;

function errName(err: unknown): string {
  return (err as { name?: string } | undefined)?.name ?? '';
}

async function sendShell(
  ctx: FleetContext,
  instanceIds: readonly string[],
  commands: readonly string[],
  comment: string,
  executionTimeoutSeconds: number,
): Promise<string> {
  try {
    const res = await ctx.clients.ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [...instanceIds],
        Comment: comment.slice(0, 100),
        TimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
        Parameters: {
          commands: [...commands],
          executionTimeout: [String(Math.min(MAX_EXECUTION_SECONDS, Math.ceil(executionTimeoutSeconds)))],
        },
      }),
    );
    const id = res.Command?.CommandId;
    if (!id) throw new UserError(`SSM accepted '${comment}' but returned no command id`);
    return id;
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (errName(err) === 'InvalidInstanceId') {
      throw new AwsCallError(
        `running '${comment}' on ${instanceIds.join(', ')}: not reachable through SSM (the SSM agent is not running or registered, or the instance role lacks the SessionManager statement, iam.sessionManager)`,
        err,
      );
    }
    throw new AwsCallError(
      describeAwsError(err, { action: `running '${comment}'`, permission: 'ssm:SendCommand', region: ctx.region }),
      err,
    );
  }
}

function toInvocation(instanceId: string, r: GetCommandInvocationCommandOutput): Invocation {
  return {
    instanceId,
    status: r.Status ?? 'Unknown',
    statusDetails: r.StatusDetails,
    responseCode: r.ResponseCode,
    stdout: r.StandardOutputContent ?? '',
    stderr: r.StandardErrorContent ?? '',
  };
}

interface WaitOptions {
  readonly pollMs: number;
  /** Give up waiting (the command may still run) after this long. */
  readonly deadlineMs: number;
  /** Called after every round with the instances still running. */
  readonly onPending?: (pending: readonly string[], elapsedMs: number) => void;
}

/** Waits for the command on every instance; returns one invocation per instance, in order. */
async function waitForCommand(
  ctx: FleetContext,
  commandId: string,
  instanceIds: readonly string[],
  opts: WaitOptions,
): Promise<Invocation[]> {
  const results = new Map<string, Invocation>();
  const pending = new Set(instanceIds);
  const start = ctx.clock.now().getTime();
  let transient = 0;
  while (pending.size > 0) {
    for (const id of [...pending]) {
      try {
        const r = await callAws(
          {
            action: `reading the result of command ${commandId} on ${id}`,
            permission: 'ssm:GetCommandInvocation',
            region: ctx.region,
          },
          () => ctx.clients.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id })),
        );
        transient = 0;
        if (TERMINAL.has(r.Status ?? '')) {
          results.set(id, toInvocation(id, r));
          pending.delete(id);
        }
      } catch (err) {
        // Right after SendCommand the invocation may not exist yet.
        if (err instanceof AwsCallError && errName(err.cause) === 'InvocationDoesNotExist') continue;
        if (isTransient(err) && ++transient < 10) {
          ctx.io.err(`warning: ${(err as Error).message}; retrying`);
          continue;
        }
        throw err;
      }
    }
    if (pending.size === 0) break;
    const elapsed = ctx.clock.now().getTime() - start;
    if (elapsed >= opts.deadlineMs) {
      for (const id of pending) {
        results.set(id, {
          instanceId: id,
          status: 'TimedOut',
          statusDetails: `no result after ${duration(elapsed)} (command ${commandId} may still be running)`,
          stdout: '',
          stderr: '',
        });
      }
      break;
    }
    opts.onPending?.([...pending], elapsed);
    await ctx.clock.sleep(opts.pollMs);
  }
  return instanceIds.map((id) => results.get(id) as Invocation);
}

function invocationFailure(inv: Invocation): string {
  const details = inv.statusDetails && inv.statusDetails !== inv.status ? ` (${inv.statusDetails})` : '';
  const code = inv.responseCode !== undefined && inv.responseCode >= 0 ? `, exit ${inv.responseCode}` : '';
  return `${inv.status}${details}${code}`;
}

// ---------------------------------------------------------------------------------------------
// drain / undrain

export interface DrainOptions {
  /** Move the instance to Standby first (drain) / out of Standby afterwards (undrain). */
  readonly standby: boolean;
  /** With --standby: keep the desired capacity, so Auto Scaling launches a replacement. */
  readonly keepCapacity: boolean;
  /** Wait for the script's result (default) or return once SSM accepted the command. */
  readonly wait: boolean;
  /** drain.sh --timeout; default: the runtime's XSPOT_DRAIN_TIMEOUT_SECONDS. */
  readonly timeoutSeconds?: number;
  /** controllers.drainTimeoutMinutes, to size the SSM execution timeout. */
  readonly configuredDrainSeconds: number;
  readonly pollSeconds: number;
}

async function findController(
  ctx: FleetContext,
  instanceId: string,
): Promise<{ asg: string; controller: Controller; group: FleetGroup }> {
  if (!/^i-[0-9a-f]{8,17}$/.test(instanceId)) {
    throw new UserError(
      `'${instanceId}' is not an EC2 instance id (i-0123456789abcdef0); see 'xspot-cdk fleet status'`,
    );
  }
  const stack = await resolveFleetStack(ctx);
  const group = await describeFleetGroup(ctx, stack.asgName);
  const controller = group.controllers.find((c) => c.instanceId === instanceId);
  if (!controller) {
    const ids = group.controllers.map((c) => c.instanceId).join(', ') || 'none';
    throw new UserError(`${instanceId} is not a controller of ${group.name} (controllers: ${ids})`);
  }
  return { asg: group.name, controller, group };
}

async function runOne(
  ctx: FleetContext,
  instanceId: string,
  commands: string[],
  comment: string,
  executionSeconds: number,
  opts: { wait: boolean; pollSeconds: number },
): Promise<number> {
  const commandId = await sendShell(ctx, [instanceId], commands, comment, executionSeconds);
  ctx.io.err(`sent '${comment}' to ${instanceId} (SSM command ${commandId})`);
  if (!opts.wait) {
    ctx.io.out(
      `not waiting; see the result with: aws ssm get-command-invocation --command-id ${commandId} --instance-id ${instanceId}`,
    );
    return 0;
  }
  let lastNote = 0;
  const [inv] = await waitForCommand(ctx, commandId, [instanceId], {
    pollMs: opts.pollSeconds * 1000,
    deadlineMs: (executionSeconds + DELIVERY_TIMEOUT_SECONDS + 120) * 1000,
    onPending: (_p, elapsed) => {
      if (elapsed - lastNote >= 5 * 60 * 1000) {
        lastNote = elapsed;
        ctx.io.err(`still running on ${instanceId} (${duration(elapsed)})`);
      }
    },
  });
  if (inv.status === 'Success') {
    ctx.io.out(`${comment} on ${instanceId}: done`);
    for (const l of tail(inv.stdout, 5)) ctx.io.out(l);
    return 0;
  }
  ctx.io.out(`${comment} on ${instanceId}: FAILED ${invocationFailure(inv)}`);
  for (const l of tail(`${inv.stdout}\n${inv.stderr}`)) ctx.io.out(l);
  return 1;
}

async function standbyCall(
  ctx: FleetContext,
  asg: string,
  instanceId: string,
  enter: boolean,
  keepCapacity: boolean,
): Promise<void> {
  await callAws(
    {
      action: `${enter ? 'moving' : 'returning'} ${instanceId} ${enter ? 'to' : 'from'} Standby`,
      permission: enter ? 'autoscaling:EnterStandby' : 'autoscaling:ExitStandby',
      region: ctx.region,
    },
    async () => {
      if (enter) {
        await ctx.clients.asg.send(
          new EnterStandbyCommand({
            AutoScalingGroupName: asg,
            InstanceIds: [instanceId],
            ShouldDecrementDesiredCapacity: !keepCapacity,
          }),
        );
      } else {
        await ctx.clients.asg.send(new ExitStandbyCommand({ AutoScalingGroupName: asg, InstanceIds: [instanceId] }));
      }
    },
  );
}

/** `fleet drain INSTANCE [--standby]`. Returns the exit code. */
export async function runDrain(ctx: FleetContext, instanceId: string, opts: DrainOptions): Promise<number> {
  const { asg, controller, group } = await findController(ctx, instanceId);
  if (opts.standby) {
    if (controller.lifecycleState === 'Standby') {
      ctx.io.err(`${instanceId} is already in Standby`);
    } else if (controller.lifecycleState !== 'InService') {
      throw new UserError(
        `only an InService controller can go to Standby; ${instanceId} is ${controller.lifecycleState}`,
      );
    } else if (!opts.keepCapacity && group.desiredCapacity - 1 < group.minSize) {
      // EnterStandby refuses to lower the desired capacity below the minimum.
      throw new UserError(
        `Standby would lower the desired capacity of ${asg} below its minimum (desired ${group.desiredCapacity}, min ${group.minSize}); add --keep-capacity to let a replacement launch, or drain without --standby`,
      );
    } else {
      await standbyCall(ctx, asg, instanceId, true, opts.keepCapacity);
      ctx.io.err(
        `${instanceId} is in Standby: Auto Scaling neither health-checks nor replaces it${opts.keepCapacity ? '; a replacement launches to keep the desired capacity' : ' (desired capacity lowered by 1)'}`,
      );
    }
  }
  const drainSeconds = opts.timeoutSeconds ?? opts.configuredDrainSeconds;
  const code = await runOne(
    ctx,
    instanceId,
    drainCommands(opts.timeoutSeconds),
    'drain.sh --no-lifecycle',
    drainSeconds + 900,
    opts,
  );
  if (code === 0 && opts.wait) {
    ctx.io.out(`undo with 'xspot-cdk fleet undrain ${instanceId}${opts.standby ? ' --standby' : ''}'`);
  }
  return code;
}

/** `fleet undrain INSTANCE [--standby]`. Returns the exit code. */
export async function runUndrain(ctx: FleetContext, instanceId: string, opts: DrainOptions): Promise<number> {
  const { asg, controller } = await findController(ctx, instanceId);
  const code = await runOne(ctx, instanceId, undrainCommands(), 'undrain.sh', 600, {
    ...opts,
    wait: opts.wait || opts.standby,
  });
  if (code !== 0) return code;
  if (controller.lifecycleState === 'Standby') {
    if (opts.standby) {
      await standbyCall(ctx, asg, instanceId, false, false);
      ctx.io.out(`${instanceId} left Standby and is InService again`);
    } else {
      ctx.io.err(`${instanceId} is still in Standby; add --standby to return it to service`);
    }
  } else if (opts.standby) {
    ctx.io.err(`${instanceId} is ${controller.lifecycleState}, not in Standby; nothing to exit`);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// check

export interface CheckResult {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly passed: boolean;
  /** e.g. "xspot check -f exited 1" */
  readonly summary: string;
  /** The failing output, trimmed. */
  readonly output: readonly string[];
}

/** Splits the check's output into per-step sections with their exit codes. */
export function parseCheckOutput(stdout: string): Map<string, { rc: number; output: string }> {
  const steps = new Map<string, { rc: number; output: string }>();
  let buf: string[] = [];
  for (const line of stdout.replace(/\r\n?/g, '\n').split('\n')) {
    const m = new RegExp(`^${STEP_MARK} ([a-z-]+) rc=(\\d+)$`).exec(line.trim());
    if (m) {
      steps.set(m[1], { rc: Number(m[2]), output: buf.join('\n') });
      buf = [];
    } else if (!line.startsWith('--- ')) {
      buf.push(line);
    }
  }
  return steps;
}

export function judgeCheck(c: { instanceId: string; availabilityZone: string }, inv: Invocation): CheckResult {
  const steps = parseCheckOutput(inv.stdout);
  const failed = CHECK_STEPS.filter((s) => (steps.get(s.id)?.rc ?? 0) !== 0);
  const missing = CHECK_STEPS.filter((s) => !steps.has(s.id));
  if (inv.status === 'Success' && failed.length === 0 && missing.length === 0) {
    return { ...c, passed: true, summary: 'xspot check -f ok, exorun smoke ok', output: [] };
  }
  if (failed.length > 0) {
    const summary = failed.map((s) => `${s.label} exited ${steps.get(s.id)?.rc}`).join('; ');
    const output = failed.flatMap((s) => [`  ${s.label}:`, ...tail(steps.get(s.id)?.output ?? '', 12)]);
    return { ...c, passed: false, summary, output };
  }
  const why =
    inv.status === 'Success'
      ? `no result for ${missing.map((s) => s.label).join(', ')} in its output (SSM status Success; output cut short?)`
      : invocationFailure(inv);
  return {
    ...c,
    passed: false,
    summary: `the check did not complete: ${why}`,
    output: tail(`${inv.stdout}\n${inv.stderr}`, 12),
  };
}

export interface CheckOptions {
  readonly exorunPath: string;
  readonly timeoutSeconds: number;
  readonly pollSeconds: number;
}

/** `fleet check`. Prints PASS/FAIL per InService controller; returns 0 when all pass, else 1. */
export async function runCheck(ctx: FleetContext, opts: CheckOptions): Promise<number> {
  const stack = await resolveFleetStack(ctx);
  const group = await describeFleetGroup(ctx, stack.asgName);
  const targets = group.controllers.filter((c) => c.lifecycleState === 'InService');
  const skipped = group.controllers.filter((c) => c.lifecycleState !== 'InService');
  for (const c of skipped) ctx.io.err(`skipping ${c.instanceId} (${c.lifecycleState})`);
  if (targets.length === 0) {
    throw new UserError(`no InService controller in ${group.name} to check; see 'xspot-cdk fleet status'`);
  }
  const commands = checkCommands(opts.exorunPath);
  const invocations: Invocation[] = [];
  ctx.io.err(`running xspot check -f and an exorun smoke test on ${targets.length} controller(s)...`);
  for (let i = 0; i < targets.length; i += 50) {
    const batch = targets.slice(i, i + 50).map((c) => c.instanceId);
    const commandId = await sendShell(ctx, batch, commands, 'xspot-cdk fleet check', opts.timeoutSeconds);
    invocations.push(
      ...(await waitForCommand(ctx, commandId, batch, {
        pollMs: opts.pollSeconds * 1000,
        deadlineMs: (opts.timeoutSeconds + DELIVERY_TIMEOUT_SECONDS + 60) * 1000,
      })),
    );
  }
  const results = targets.map((c, i) => judgeCheck(c, invocations[i]));
  for (const r of results) {
    ctx.io.out(`${r.passed ? 'PASS' : 'FAIL'} ${r.instanceId} (${r.availabilityZone}): ${r.summary}`);
    for (const l of r.output) ctx.io.out(l);
  }
  const passed = results.filter((r) => r.passed).length;
  ctx.io.out(`${passed} of ${results.length} controller${results.length === 1 ? '' : 's'} passed`);
  return passed === results.length ? 0 : 1;
}
