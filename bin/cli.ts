#!/usr/bin/env node
/**
 * xspot-cdk: the operator CLI. Each command lives in lib/cli/<name>.ts and exports
 * `register(program)`; this file only wires them together and turns errors into one line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { reportError, UserError } from '../lib/errors';
import { packageRoot } from '../lib/package-root';

// The lockfile pins the AWS SDK, so its notice about future releases needing Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { version } = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
  version: string;
};

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when needed: a run of one command does not load the AWS SDK
 * clients of all the others (a plain `require`: this compiles to CommonJS).
 */
const MODULES: Record<string, () => Register> = {
  config: () =>
    (require('../lib/cli/config-commands') as typeof import('../lib/cli/config-commands')).registerConfigCommands,
  cost: () => (require('../lib/cli/cost') as typeof import('../lib/cli/cost')).registerCostCommand,
  ami: () => (require('../lib/cli/ami') as typeof import('../lib/cli/ami')).registerAmiCommands,
  fleet: () => (require('../lib/cli/fleet') as typeof import('../lib/cli/fleet')).registerFleetCommands,
  scheduler: () => (require('../lib/cli/scheduler') as typeof import('../lib/cli/scheduler')).registerSchedulerCommands,
  local: () => (require('../lib/cli/local') as typeof import('../lib/cli/local')).registerLocalCommands,
  diff: () => (require('../lib/cli/diff') as typeof import('../lib/cli/diff')).registerDiffCommand,
  init: () => (require('../lib/cli/init') as typeof import('../lib/cli/init')).registerInitCommand,
};
/** Top-level command name -> the module that registers it. */
const COMMAND_MODULE: Record<string, string> = {
  'check-config': 'config',
  render: 'config',
  schema: 'config',
  cost: 'cost',
  ami: 'ami',
  fleet: 'fleet',
  scheduler: 'scheduler',
  local: 'local',
  diff: 'diff',
  init: 'init',
};

/**
 * A --profile that the shared files do not define fails before any command runs, naming the profile
 * and the files (the SDK itself says only "could not load credentials"). Loaded only when given.
 */
function checkProfileFlag(profile: unknown): void {
  if (typeof profile !== 'string') return;
  const { lookupProfile, missingProfileMessage } =
    require('../lib/ops/aws-profile') as typeof import('../lib/ops/aws-profile');
  const missing = missingProfileMessage(lookupProfile(profile));
  if (missing) throw new UserError(`--profile: ${missing}`);
}

/** Builds the CLI; with `command`, registers only the module that owns it (all of them otherwise, e.g. for --help). */
export function buildProgram(command?: string): Command {
  const program = new Command('xspot-cdk')
    .description('Deploy and operate Exostellar X-Spot on AWS')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .hook('preAction', (_program, action) => checkProfileFlag(action.opts().profile));
  const only = command === undefined ? undefined : COMMAND_MODULE[command];
  for (const [name, load] of Object.entries(MODULES)) {
    if (only === undefined || only === name) load()(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(argv[0]);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (unknown option, missing argument, --help ...)
      return err.exitCode;
    }
    return reportError(err);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
