/**
 * `xspot-cdk diff --from OLD --to NEW`: what a config change does to every stack, offline (no AWS
 * account): resources added, removed, replaced or changed, with property paths; controller rolls; IAM.
 * Exit 0 when nothing changes, 1 when something does (for CI review), 2 on an error.
 */
import type { Command } from 'commander';
import { stdio } from './common';

export function registerDiffCommand(program: Command): void {
  program
    .command('diff')
    .description(
      'compare the stacks two configs synthesize, offline; exit 0 no change, 1 changes, 2 error (each side a file or git:REF:PATH)',
    )
    .requiredOption('--from <config>', 'the config deployed now: a file, or git:REF:PATH (required)')
    .requiredOption('--to <config>', 'the config to deploy: a file, or git:REF:PATH (required)')
    .action(async (opts: { from: string; to: string }) => {
      const { runDiff } = require('../ops/diff') as typeof import('../ops/diff');
      const { lines, changed } = await runDiff(opts.from, opts.to);
      for (const l of lines) stdio.out(l);
      process.exitCode = changed ? 1 : 0;
    });
}
