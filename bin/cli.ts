#!/usr/bin/env node
/**
 * xspot-cdk: the operator CLI. Each command lives in lib/cli/<name>.ts and exports
 * `register(program)`; this file only wires them together and turns errors into one line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerAmiCommands } from '../lib/cli/ami';
import { registerConfigCommands } from '../lib/cli/config-commands';
import { registerCostCommand } from '../lib/cli/cost';
import { reportError } from '../lib/cli/errors';
import { registerFleetCommands } from '../lib/cli/fleet';
import { registerLocalCommands } from '../lib/cli/local';
import { registerSchedulerCommands } from '../lib/cli/scheduler';
import { packageRoot } from '../lib/config/load';

// The lockfile pins the AWS SDK, so its notice about future releases needing Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { version } = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command('xspot-cdk')
    .description('Deploy and operate Exostellar X-Spot on AWS')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerConfigCommands(program);
  registerCostCommand(program);
  registerAmiCommands(program);
  registerFleetCommands(program);
  registerSchedulerCommands(program);
  registerLocalCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
