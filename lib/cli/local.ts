/**
 * `xspot-cdk local deploy`: deploy the whole app to a local AWS emulator (moto, on 127.0.0.1) with
 * the real CDK CLI, print what exists, and stop the emulator again. No AWS account is needed.
 *
 *   local deploy [--config PATH] [--then-config PATH2] [--keep] [--port N] [--work-dir DIR] [--verbose]
 *
 * --then-config deploys a second config over the first in the same emulator (the emulator keeps its
 * state in memory only, so an update in place happens within one run) and prints what changed.
 * Exit codes: 0 deployed (and, with --keep, stopped by Ctrl-C); 1 config, emulator or deploy error;
 * 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP (the emulator is stopped either way).
 * The logic lives in lib/ops/local-deploy*.ts; this file parses options and connects the terminal.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import type { Output } from '../ops/fleet';
import type { LocalDeployment, LocalDeployOptions, StepContext } from '../ops/local-deploy';
import { stdio } from './common';
import { UserError } from './errors';

/** Seams for tests; the defaults run the real thing. */
export interface LocalCliDeps {
  readonly io?: Output;
  readonly run?: (opts: LocalDeployOptions, ctx: StepContext) => Promise<void>;
  /** Where SIGINT/SIGTERM/SIGHUP come from. @default process */
  readonly signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

interface DeployOptions {
  config?: string;
  thenConfig?: string;
  keep?: boolean;
  port?: number;
  workDir?: string;
  verbose?: boolean;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UserError(`--port must be a TCP port number (1-65535), got '${v}'`);
  return n;
}

function deploymentOf(configPath?: string): LocalDeployment {
  const { path: file, config } = loadConfig(configPath);
  const existing = config.network.existingVpc;
  if (existing) {
    throw new UserError(
      `${file}: network.existingVpc (${existing.vpcId}) cannot be deployed locally: the emulator starts empty, ` +
        'so the VPC and subnets it names do not exist there; use a config with network.newVpc (as config/default.yaml)',
    );
  }
  return {
    configPath: path.resolve(file),
    name: config.deployment.name,
    region: config.deployment.region,
    ...(config.deployment.account ? { account: config.deployment.account } : {}),
  };
}

export function registerLocalCommands(program: Command, deps: LocalCliDeps = {}): void {
  const local = program
    .command('local')
    .description('Run the app against a local AWS emulator (moto on 127.0.0.1); no AWS account needed');

  local
    .command('deploy')
    .description(
      'Start moto, cdk bootstrap and cdk deploy --all to it, print what exists, stop moto (also on failure and Ctrl-C)',
    )
    .option('-c, --config <path>', 'config file (default: $XSPOT_CONFIG, then config/default.yaml)')
    .option(
      '--then-config <path>',
      'then deploy this config over the first in the same emulator and show what was updated in place',
    )
    .option('--keep', 'keep the emulator running after the summary, until Ctrl-C')
    .option('--port <n>', 'port on 127.0.0.1 for the emulator (default: a free port)', port)
    .option(
      '--work-dir <dir>',
      'keep the assemblies and logs here (default: a temporary directory, removed on success)',
    )
    .option('--verbose', 'print every line of the CDK CLI, not only the stack events')
    .action(async (opts: DeployOptions) => {
      const deployment = deploymentOf(opts.config);
      const then = opts.thenConfig ? deploymentOf(opts.thenConfig) : undefined;
      if (then && (then.name !== deployment.name || then.region !== deployment.region)) {
        throw new UserError(
          `--then-config ${then.configPath}: deployment.name/region (${then.name}, ${then.region}) must match ` +
            `the first config (${deployment.name}, ${deployment.region}) to update the same stacks in place`,
        );
      }
      if (then && (then.account ?? '') !== (deployment.account ?? '')) {
        throw new UserError(`--then-config ${then.configPath}: deployment.account must match the first config`);
      }

      const io = deps.io ?? stdio;
      const signals = deps.signals ?? process;
      const controller = new AbortController();
      let received: NodeJS.Signals | undefined;
      const handler = (sig: NodeJS.Signals) => {
        if (received) return;
        received = sig;
        io.err(`${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping`);
        controller.abort();
      };
      // the emulator and the CDK CLI run in their own process groups, so a terminal's signals reach
      // only this process, which stops them; SIGHUP too, or closing the terminal would orphan them
      const handlers = SIGNALS.map((sig) => [sig, () => handler(sig)] as const);
      for (const [sig, h] of handlers) signals.on(sig, h);
      try {
        await (deps.run ?? (require('../ops/local-deploy') as typeof import('../ops/local-deploy')).runLocalDeploy)(
          {
            deployment,
            ...(then ? { update: then } : {}),
            ...(opts.port !== undefined ? { port: opts.port } : {}),
            keep: opts.keep === true,
            ...(opts.workDir ? { workDir: path.resolve(opts.workDir) } : {}),
            verbose: opts.verbose === true,
          },
          { io, signal: controller.signal, verbose: opts.verbose === true },
        );
        process.exitCode = 0;
      } catch (err) {
        if (err instanceof UserError && err.exitCode === 130 && received && received !== 'SIGINT') {
          throw new UserError(err.message, 128 + os.constants.signals[received]);
        }
        throw err;
      } finally {
        for (const [sig, h] of handlers) signals.off(sig, h);
      }
    });
}
