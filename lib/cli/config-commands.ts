/**
 * check-config, render and schema: the guide's `make check-config` and `make sync-config-preview`
 * for the typed config, plus the JSON Schema export for editors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import { renderConfigBundle } from '../config/bundle';
import { formatFinding, hasErrors } from '../config/findings';
import { checkConfigFile, loadConfig } from '../config/load';
import { configJsonSchema, renderConfigReference } from '../config/reference';
import { withCommon } from './common';
import { UserError } from './errors';

type Out = (line: string) => void;
const stdout: Out = (l) => process.stdout.write(`${l}\n`);

/** Prints every finding and a summary; returns the exit code (1 on any error). */
export function runCheckConfig(configPath: string | undefined, out: Out = stdout): number {
  const check = checkConfigFile(configPath);
  for (const f of check.findings) out(formatFinding(f));
  const errors = check.findings.filter((f) => f.severity === 'error').length;
  const warnings = check.findings.filter((f) => f.severity === 'warning' && !f.acknowledged).length;
  const acked = check.findings.filter((f) => f.acknowledged).length;
  out(
    `${check.path}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${acked ? `, ${acked} acknowledged` : ''}`,
  );
  return hasErrors(check.findings) ? 1 : 0;
}

export interface RenderResult {
  readonly written: string[];
  readonly unchanged: string[];
  readonly diff: string;
}

/** Renders the config bundle into `outDir`. Everything is rendered before anything is written. */
export function runRender(
  configPath: string | undefined,
  outDir: string,
  opts: { dryRun?: boolean } = {},
): RenderResult {
  const loaded = loadConfig(configPath);
  const files = renderConfigBundle(loaded);
  if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) {
    throw new UserError(`--out ${outDir} exists and is not a directory`);
  }
  const written: string[] = [];
  const unchanged: string[] = [];
  let diff = '';
  const pending: [string, string, number][] = [];
  for (const rel of Object.keys(files).sort()) {
    const target = path.join(outDir, rel);
    const { content, mode } = files[rel];
    const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
    if (before === content) {
      unchanged.push(rel);
      continue;
    }
    diff += createTwoFilesPatch(
      before === undefined ? '/dev/null' : `a/${rel}`,
      `b/${rel}`,
      before ?? '',
      content,
      '',
      '',
      {
        context: 3,
      },
    );
    pending.push([target, content, mode]);
    written.push(rel);
  }
  if (!opts.dryRun) {
    for (const [target, content, mode] of pending) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const tmp = `${target}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, content, { mode });
      fs.renameSync(tmp, target);
    }
  }
  return { written, unchanged, diff };
}

export function registerConfigCommands(program: Command): void {
  withCommon(program.command('check-config'))
    .description(
      "Validate the deployment config (the guide's `make check-config`); exit 1 on any error; --region/--profile apply with --live",
    )
    .option('--live', 'also check the config against the target AWS account (read-only calls)')
    .action(async (opts: { config?: string; live?: boolean; region?: string; profile?: string }) => {
      let code = runCheckConfig(opts.config);
      if (opts.live) {
        // the AWS SDK is loaded only for --live
        const { runLiveCheck } = require('./live-check') as typeof import('./live-check');
        const liveCode = await runLiveCheck(
          { configPath: opts.config, region: opts.region, profile: opts.profile },
          stdout,
        );
        code = Math.max(code, liveCode);
      }
      process.exitCode = code;
    });

  program
    .command('render')
    .description('Render env.cfg, config.toml, dockerWrapper.toml, log_upload.env, hook scripts and scheduler files')
    .requiredOption('-o, --out <dir>', 'directory to write into, required (an existing one is diffed first)')
    .option('-c, --config <path>', 'config file (default: $XSPOT_CONFIG, then config/default.yaml)')
    .option('--dry-run', "show the diff only; write nothing (the guide's sync-config-preview)")
    .action((opts: { out: string; config?: string; dryRun?: boolean }) => {
      const existed = fs.existsSync(opts.out);
      const r = runRender(opts.config, opts.out, { dryRun: opts.dryRun });
      if (existed && r.diff) process.stdout.write(r.diff);
      const verb = opts.dryRun ? 'would write' : 'wrote';
      stdout(
        `${verb} ${r.written.length} file${r.written.length === 1 ? '' : 's'} to ${opts.out}, ${r.unchanged.length} unchanged`,
      );
    });

  program
    .command('schema')
    .description('Print (or write) the JSON Schema of the config file, for editor completion')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--markdown', 'the Markdown config reference instead of the JSON Schema')
    .action((opts: { out?: string; markdown?: boolean }) => {
      const text = opts.markdown ? renderConfigReference() : `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
      if (opts.out) fs.writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });
}
