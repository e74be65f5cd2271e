/**
 * `xspot-cdk fleet ...`: operate the controller fleet of a deployed stack.
 *
 *   fleet status  [--json] [--scheduler]         controllers, versions, refresh in progress, scheduler membership
 *   fleet upgrade [--wait] [--yes]               instance refresh with the stack's preferences
 *   fleet upgrade --cancel | --rollback [--wait]
 *   fleet drain   INSTANCE [--standby] [--keep-capacity] [--timeout MIN] [--no-wait]
 *   fleet undrain INSTANCE [--standby] [--no-wait]
 *   fleet check   [--timeout MIN]                xspot check -f + exorun smoke on each controller
 *
 * Every subcommand takes --config, --region (default deployment.region) and --profile.
 * Exit codes: 0 ok; 1 usage, config or AWS error, or a failed drain/check; 2 refresh failed or
 * cancelled; 3 refresh rolled back; 4 stopped at a checkpoint without an answer
 * (lib/ops/fleet-upgrade.ts). The logic lives in lib/ops/fleet*.ts; this file parses options
 * and connects the terminal (progress bar, prompt, Ctrl-C).
 */
import * as readline from 'node:readline';
import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import { ALLOW } from '../config/patterns';
import type { XspotConfig } from '../config/resolve';
import type { Clock, FleetClients, FleetContext, Output } from '../ops/fleet';
import type { RefreshProgress } from '../ops/fleet-progress';
import type { UpgradeUi } from '../ops/fleet-upgrade';
import { type CommonOptions, positiveNumber, stdio, withCommon } from './common';
import { UserError } from './errors';

/** The fleet operations and their AWS SDK clients, loaded when an action runs (not for --help). */
function ops() {
  return {
    ...(require('../ops/fleet') as typeof import('../ops/fleet')),
    ...(require('../ops/fleet-progress') as typeof import('../ops/fleet-progress')),
    ...(require('../ops/fleet-ssm') as typeof import('../ops/fleet-ssm')),
    ...(require('../ops/fleet-status') as typeof import('../ops/fleet-status')),
    ...(require('../ops/fleet-upgrade') as typeof import('../ops/fleet-upgrade')),
  };
}

/** Seams for tests; the defaults talk to AWS and the terminal. */
export interface FleetCliDeps {
  readonly clients?: (opts: { region: string; profile?: string }) => FleetClients;
  readonly clock?: Clock;
  readonly io?: Output;
  /** Whether stdin/stderr are a terminal (prompt, progress bar). */
  readonly interactive?: boolean;
  readonly ask?: UpgradeUi['ask'];
  readonly progress?: () => RefreshProgress;
  readonly loadConfig?: (path?: string) => { config: XspotConfig };
}

/** Reads the config and builds the context every fleet operation takes. */
function makeContext(opts: CommonOptions, deps: FleetCliDeps): { ctx: FleetContext; config: XspotConfig } {
  const { config } = (deps.loadConfig ?? loadConfig)(opts.config);
  const region = opts.region ?? config.deployment.region;
  if (!ALLOW.region.pattern.test(region)) {
    throw new UserError(`--region '${region}' is not ${ALLOW.region.allowed}`);
  }
  const clients = (deps.clients ?? ops().createFleetClients)({ region, profile: opts.profile });
  return {
    config,
    ctx: {
      deployment: config.deployment.name,
      region,
      clients,
      clock: deps.clock ?? ops().realClock,
      io: deps.io ?? stdio,
    },
  };
}

function isInteractive(deps: FleetCliDeps): boolean {
  return deps.interactive ?? (process.stdin.isTTY === true && process.stderr.isTTY === true);
}

/** A y/n question on the terminal that gives up (undefined) when `signal` aborts or input closes. */
function terminalAsk(question: string, signal: AbortSignal): Promise<string | undefined> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer: string | undefined) => {
      if (done) return;
      done = true;
      rl.close();
      resolve(answer);
    };
    rl.on('close', () => finish(undefined));
    rl.on('SIGINT', () => finish(undefined));
    signal.addEventListener('abort', () => finish(undefined), { once: true });
    rl.question(question, (answer) => finish(answer));
  });
}

function upgradeUi(deps: FleetCliDeps, ctx: FleetContext): UpgradeUi {
  const interactive = isInteractive(deps);
  const progress =
    deps.progress?.() ??
    (process.stderr.isTTY
      ? ops().barProgress(process.stderr)
      : ops().lineProgress(
          (l) => ctx.io.err(l),
          () => ctx.clock.now(),
        ));
  const ask = deps.ask ?? (interactive ? terminalAsk : undefined);
  return { progress, ask: interactive ? ask : undefined };
}

/**
 * While following a refresh, Ctrl-C stops following (the refresh goes on in AWS) with exit 130
 * instead of leaving a half-drawn progress bar.
 */
async function followable(ui: UpgradeUi, io: Output, run: () => Promise<number>): Promise<number> {
  const onSigint = () => {
    ui.progress.stop();
    io.err(
      "stopped following; the instance refresh goes on in AWS ('xspot-cdk fleet status', 'xspot-cdk fleet upgrade --cancel')",
    );
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    return await run();
  } finally {
    ui.progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

export function registerFleetCommands(program: Command, deps: FleetCliDeps = {}): void {
  const fleet = program
    .command('fleet')
    .description('Operate the X-Spot controller fleet: status, rolling upgrade, drain/undrain, remote validation');

  withCommon(fleet.command('status'))
    .description('Controllers (instance, AZ, state, health, launch template version, uptime) and any instance refresh')
    .option('--json', 'print the status as JSON')
    .option(
      '--scheduler',
      "also read each controller's scheduler membership through SSM Run Command (registered, draining, missing) and flag InService controllers the scheduler cannot use",
    )
    .action(async (opts: CommonOptions & { json?: boolean; scheduler?: boolean }) => {
      const { ctx } = makeContext(opts, deps);
      const status = await ops().gatherFleetStatus(
        ctx,
        opts.scheduler ? { scheduler: { timeoutSeconds: 120, pollSeconds: 2 } } : {},
      );
      if (opts.json) ctx.io.out(JSON.stringify(status, null, 2));
      else for (const line of ops().renderFleetStatus(status, ctx.clock.now())) ctx.io.out(line);
      process.exitCode = 0;
    });

  withCommon(fleet.command('upgrade'))
    .description(
      'Replace the controllers with the deployed launch template version (instance refresh: canary checkpoint first). ' +
        'Exit: 0 done, 1 error, 2 failed/cancelled, 3 rolled back, 4 stopped at a checkpoint',
    )
    .option('--wait', 'follow the refresh until it ends, stopping at checkpoints to ask')
    .option('-y, --yes', 'answer yes at checkpoints (let the refresh go on)')
    .option('--cancel', 'cancel the refresh in progress (replaced controllers stay replaced)')
    .option('--rollback', 'roll back the refresh in progress (replaced controllers go back)')
    .option('--poll-seconds <n>', 'seconds between progress polls', positiveNumber('--poll-seconds'), 15)
    .action(
      async (
        opts: CommonOptions & {
          wait?: boolean;
          yes?: boolean;
          cancel?: boolean;
          rollback?: boolean;
          pollSeconds: number;
        },
      ) => {
        if (opts.cancel && opts.rollback) throw new UserError('--cancel and --rollback exclude each other');
        const { ctx } = makeContext(opts, deps);
        const ui = upgradeUi(deps, ctx);
        const o = { wait: opts.wait === true, yes: opts.yes === true, pollSeconds: opts.pollSeconds };
        process.exitCode = await followable(ui, ctx.io, () => {
          if (opts.cancel) return ops().runStopRefresh(ctx, 'cancel', o, ui);
          if (opts.rollback) return ops().runStopRefresh(ctx, 'rollback', o, ui);
          return ops().runUpgrade(ctx, o, ui);
        });
      },
    );

  const drainOptions = (cmd: Command) =>
    withCommon(cmd)
      .option('--standby', 'also move the instance to Standby (drain) / back to InService (undrain)')
      .option('--no-wait', 'return once SSM accepted the command')
      .option('--poll-seconds <n>', 'seconds between result polls', positiveNumber('--poll-seconds'), 10);

  type DrainCli = CommonOptions & {
    standby?: boolean;
    keepCapacity?: boolean;
    wait: boolean;
    timeout?: number;
    pollSeconds: number;
  };
  const drainOpts = (opts: DrainCli, config: XspotConfig) => ({
    standby: opts.standby === true,
    keepCapacity: opts.keepCapacity === true,
    wait: opts.wait,
    timeoutSeconds: opts.timeout !== undefined ? Math.round(opts.timeout * 60) : undefined,
    configuredDrainSeconds: config.controllers.drainTimeoutMinutes * 60,
    pollSeconds: opts.pollSeconds,
  });

  drainOptions(fleet.command('drain').argument('<instance>', 'controller instance id (i-...)'))
    .description('Drain a controller now, as the terminate hook does: stop new jobs, wait for running ones, flush logs')
    .option('--keep-capacity', 'with --standby: keep the desired capacity (Auto Scaling launches a replacement)')
    .option(
      '--timeout <minutes>',
      'how long running jobs may finish (default: controllers.drainTimeoutMinutes)',
      positiveNumber('--timeout'),
    )
    .action(async (instance: string, opts: DrainCli) => {
      const { ctx, config } = makeContext(opts, deps);
      process.exitCode = await ops().runDrain(ctx, instance, drainOpts(opts, config));
    });

  drainOptions(fleet.command('undrain').argument('<instance>', 'controller instance id (i-...)'))
    .description('Put a drained controller back into service (the scheduler sends it jobs again)')
    .action(async (instance: string, opts: DrainCli) => {
      const { ctx, config } = makeContext(opts, deps);
      process.exitCode = await ops().runUndrain(ctx, instance, drainOpts(opts, config));
    });

  withCommon(fleet.command('check'))
    .description(
      "The guide's validation on every InService controller (SSM): xspot check -f and an exorun smoke test; exit 1 if any fails",
    )
    .option('--timeout <minutes>', 'per-controller time limit', positiveNumber('--timeout'), 15)
    .option('--poll-seconds <n>', 'seconds between result polls', positiveNumber('--poll-seconds'), 10)
    .action(async (opts: CommonOptions & { timeout: number; pollSeconds: number }) => {
      const { ctx, config } = makeContext(opts, deps);
      process.exitCode = await ops().runCheck(ctx, {
        exorunPath: config.scheduler.exorunPath,
        timeoutSeconds: Math.round(opts.timeout * 60),
        pollSeconds: opts.pollSeconds,
      });
    });
}
