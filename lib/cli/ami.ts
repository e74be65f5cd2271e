/**
 * `xspot-cdk ami ...`: the X-Spot worker AMI built by the `<deployment>-worker-image` pipeline.
 *
 *   ami build [--wait]   start the pipeline; with --wait follow it to the end and print the AMI id
 *   ami list [--json]    the pipeline's images: date, status, AMI, the X-Spot release of each
 *   ami latest           the newest available AMI and the `workers.ami:` line for the config
 *
 * Every subcommand takes --config (deployment name and region), --region and --profile.
 * Exit codes: 0 ok; 1 usage, config or AWS error, or a build that failed or was cancelled;
 * 130 Ctrl-C while following a build (the build goes on).
 * The logic lives in lib/ops/imagebuilder.ts; this file parses options and connects the terminal.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import { ALLOW } from '../config/patterns';
import type { XspotConfig } from '../config/resolve';
import type { Clock, Output } from '../ops/fleet';
import { duration } from '../ops/fleet-format';
import type { AmiClients, AmiContext, BuildProgress } from '../ops/imagebuilder';
import { type CommonOptions, positiveNumber, stdio, withCommon } from './common';
import { UserError } from './errors';

/** The Image Builder operations and their AWS SDK clients, loaded when an action runs (not for --help). */
function ops() {
  return {
    ...(require('../ops/fleet') as typeof import('../ops/fleet')),
    ...(require('../ops/imagebuilder') as typeof import('../ops/imagebuilder')),
  };
}

/** Seams for tests; the defaults talk to AWS and the terminal. */
export interface AmiCliDeps {
  readonly clients?: (opts: { region: string; profile?: string }) => AmiClients;
  readonly clock?: Clock;
  readonly io?: Output;
  readonly progress?: () => BuildProgress;
  readonly loadConfig?: (path?: string) => { path: string; config: XspotConfig };
}

function makeContext(
  opts: CommonOptions,
  deps: AmiCliDeps,
): { ctx: AmiContext; config: XspotConfig; configPath: string } {
  const { config, path } = (deps.loadConfig ?? loadConfig)(opts.config);
  const region = opts.region ?? config.deployment.region;
  if (!ALLOW.region.pattern.test(region)) throw new UserError(`--region '${region}' is not ${ALLOW.region.allowed}`);
  const clients = (deps.clients ?? ops().createAmiClients)({ region, profile: opts.profile });
  return {
    config,
    configPath: path,
    ctx: {
      deployment: config.deployment.name,
      region,
      clients,
      clock: deps.clock ?? ops().realClock,
      io: deps.io ?? stdio,
    },
  };
}

/** The three steps after a new AMI, printed where the operator looks next. */
function nextSteps(io: Output, amiId: string, config: XspotConfig, configPath: string): void {
  if (config.workers.ami === amiId) {
    io.err(`${configPath} already uses ${amiId} (workers.ami)`);
    return;
  }
  io.err(
    `to roll it out: set workers.ami in ${configPath}${config.workers.ami ? ` (now ${config.workers.ami})` : ''},`,
  );
  io.err("review it with 'npx cdk diff', deploy with 'npx cdk deploy --all', then 'xspot-cdk fleet upgrade --wait'");
}

export function registerAmiCommands(program: Command, deps: AmiCliDeps = {}): void {
  const ami = program
    .command('ami')
    .description('The X-Spot worker AMI: build it with Image Builder, list the images, pick the newest');

  withCommon(ami.command('build'))
    .description(
      "Start the worker image pipeline (the guide's Worker AMI Preparation); --wait follows it and prints the AMI id",
    )
    .option('--wait', 'follow the build until it is available (30-60 minutes) and print the AMI id')
    .option('--timeout <minutes>', 'with --wait: stop following after this long', positiveNumber('--timeout'), 240)
    .option('--poll-seconds <n>', 'seconds between status polls', positiveNumber('--poll-seconds'), 30)
    .action(async (opts: CommonOptions & { wait?: boolean; timeout: number; pollSeconds: number }) => {
      const { ctx, config, configPath } = makeContext(opts, deps);
      const stack = await ops().resolveWorkerImageStack(ctx);
      const arn = await ops().startBuild(ctx, stack);
      ctx.io.err(`started ${arn}`);
      if (!opts.wait) {
        ctx.io.out(arn);
        ctx.io.err("the build takes 30-60 minutes; follow it with 'xspot-cdk ami list'");
        process.exitCode = 0;
        return;
      }
      const progress =
        deps.progress?.() ??
        (process.stderr.isTTY
          ? ops().barBuildProgress(process.stderr)
          : ops().lineBuildProgress(
              (l) => ctx.io.err(l),
              () => ctx.clock.now(),
            ));
      const started = ctx.clock.now().getTime();
      // Ctrl-C stops following (exit 130); the build goes on in AWS.
      const onSigint = () => {
        progress.stop();
        ctx.io.err(`stopped following; the build goes on in AWS (${arn}); see 'xspot-cdk ami list'`);
        process.exit(130);
      };
      process.once('SIGINT', onSigint);
      let image: Awaited<ReturnType<typeof import('../ops/imagebuilder').waitForImage>>;
      try {
        image = await ops().waitForImage(ctx, arn, {
          pollSeconds: opts.pollSeconds,
          timeoutSeconds: opts.timeout * 60,
          progress,
        });
      } finally {
        progress.stop();
        process.removeListener('SIGINT', onSigint);
      }
      const status = image.state?.status ?? 'UNKNOWN';
      const took = duration(ctx.clock.now().getTime() - started);
      const amiId = ops().amiIdOf(image, ctx.region);
      if (status === 'AVAILABLE' && amiId) {
        ctx.io.err(`worker image available after ${took}`);
        ctx.io.out(amiId);
        nextSteps(ctx.io, amiId, config, configPath);
        process.exitCode = 0;
        return;
      }
      ctx.io.err(`worker image build ${status} after ${took}: ${arn}`);
      for (const line of await ops().failureDetails(ctx, image, stack)) ctx.io.err(`  ${line}`);
      process.exitCode = 1;
    });

  withCommon(ami.command('list'))
    .description('Images of the worker pipeline, newest first: date, status, AMI and X-Spot versions (* = workers.ami)')
    .option('--json', 'print the images as JSON')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const { ctx, config } = makeContext(opts, deps);
      const stack = await ops().resolveWorkerImageStack(ctx);
      const rows = await ops().listWorkerImages(ctx, stack);
      if (opts.json) ctx.io.out(JSON.stringify(rows, null, 2));
      else for (const line of ops().renderImageList(rows, config.workers.ami)) ctx.io.out(line);
      process.exitCode = 0;
    });

  withCommon(ami.command('latest'))
    .description('The newest available worker AMI id, and the workers.ami line to put in the config')
    .action(async (opts: CommonOptions) => {
      const { ctx, config, configPath } = makeContext(opts, deps);
      const stack = await ops().resolveWorkerImageStack(ctx);
      const latest = ops().latestAvailable(await ops().listWorkerImages(ctx, stack));
      if (!latest?.amiId) {
        throw new UserError(`no available worker image in ${ctx.region} yet; run 'xspot-cdk ami build --wait'`);
      }
      ctx.io.out(latest.amiId);
      ctx.io.out(`workers.ami: ${latest.amiId}`);
      ctx.io.err(`built ${ops().shortDate(latest.created)}${latest.platform ? ` with ${latest.platform}` : ''}`);
      nextSteps(ctx.io, latest.amiId, config, configPath);
      process.exitCode = 0;
    });
}
