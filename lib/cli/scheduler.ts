/**
 * `xspot-cdk scheduler render --out DIR`: writes the scheduler hooks (Slurm, Grid Engine, LSF),
 * their config snippets and install READMEs, rendered from the deployment config, with their
 * SHA256SUMS, and prints that list's own checksum for `install-hooks.sh --sums-sha256`.
 */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import { schedulerSettingsFromConfig } from '../scheduler/from-config';
import { renderSchedulerFiles, SUMS_FILE, withChecksums, writeRenderedFiles } from '../scheduler/render';
import { SCHEDULER_KINDS, type SchedulerKind } from '../scheduler/types';
import { UserError } from './errors';

interface RenderArgs {
  readonly out?: string;
  readonly config?: string;
  readonly scheduler?: string;
}

function chosenKinds(value: string | undefined): readonly SchedulerKind[] | undefined {
  if (value === undefined) return undefined;
  if (value === 'all') return SCHEDULER_KINDS;
  if ((SCHEDULER_KINDS as readonly string[]).includes(value)) return [value as SchedulerKind];
  throw new UserError(
    `--scheduler: ${JSON.stringify(value)} is not allowed; expected ${SCHEDULER_KINDS.join(', ')} or all`,
  );
}

export function runSchedulerRender(args: RenderArgs, out: (line: string) => void): void {
  if (!args.out) throw new UserError('--out: missing; give the directory to write the scheduler files to');
  const kinds = chosenKinds(args.scheduler);
  const { config } = loadConfig(args.config);
  const settings = schedulerSettingsFromConfig(config);
  if (kinds === undefined && settings.type === 'none') {
    throw new UserError('scheduler.type: "none" renders nothing; set slurm, gridengine or lsf, or pass --scheduler');
  }
  const files = withChecksums(renderSchedulerFiles(settings, kinds));
  const written = writeRenderedFiles(args.out, files);
  for (const file of written) out(file);
  const pin = createHash('sha256').update(files[SUMS_FILE].content).digest('hex');
  out(`${SUMS_FILE} sha256 ${pin} (install as root: install-hooks.sh --from <dir> --sums-sha256 ${pin})`);
}

export function registerSchedulerCommands(program: Command): void {
  const scheduler = program.command('scheduler').description('scheduler integration (Slurm, Grid Engine, LSF)');
  scheduler
    .command('render')
    .description('write the X-Spot scheduler hooks, config snippets and install README rendered from the config')
    .requiredOption('-o, --out <dir>', 'directory to write to, created if missing (required)')
    .option('-c, --config <path>', 'config file (default: $XSPOT_CONFIG, then config/default.yaml)')
    .option('--scheduler <name>', `render for slurm, gridengine, lsf or all (default: scheduler.type)`)
    .action((args: RenderArgs) => {
      runSchedulerRender(args, (line) => process.stdout.write(`${line}\n`));
    });
}
