/**
 * Pieces the command modules share: the --config/--region/--profile options, the terminal
 * output, and the parser for numeric options. Kept light (no AWS SDK, no lib/ops code at run
 * time) so that loading one command does not load another's dependencies.
 */
import type { Command } from 'commander';
import type { Output } from '../ops/fleet';
import { UserError } from './errors';

/** The options `withCommon` adds. */
export interface CommonOptions {
  config?: string;
  region?: string;
  profile?: string;
}

/** Results to stdout, notes and progress to stderr, one line per call. */
export const stdio: Output = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** Adds --config, --region and --profile to `cmd`. */
export function withCommon(cmd: Command): Command {
  return cmd
    .option('-c, --config <path>', 'config file (default: $XSPOT_CONFIG, then config/default.yaml)')
    .option('--region <region>', 'AWS region (default: deployment.region from the config)')
    .option('--profile <profile>', 'AWS profile from the shared config/credentials files');
}

/** An option parser that accepts a number greater than 0 and names the option `name` otherwise. */
export function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UserError(`${name} must be a number greater than 0, got '${v}'`);
    return n;
  };
}
