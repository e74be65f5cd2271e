/**
 * `xspot-cdk cost`: what X-Spot cost and what it saved, from the controllers' logs (a directory or
 * the S3 prefix they sync to). The options follow the vendor guide's cost tool; see docs/cost.md.
 * The work is in lib/cost/, loaded when the command runs (other commands do not pay for it); the
 * AWS SDK and exceljs load only when a run needs them.
 */
import type { Command } from 'commander';
import type { CostArgs } from '../cost/options';
import { UserError } from '../errors';
import { stdio } from './common';

/** --config supplies the default --region (deployment.region); an explicit --region wins. */
function withConfigRegion(args: CostArgs, configPath: string | undefined): CostArgs {
  if (configPath === undefined || args.region !== undefined) return args;
  const { loadConfig } = require('../config/load') as typeof import('../config/load');
  return { ...args, region: loadConfig(configPath).config.deployment.region };
}

export function registerCostCommand(program: Command): void {
  program
    .command('cost')
    .description('report the real cost of X-Spot and its savings against on-demand, from X-Spot logs')
    .option('-l, --logs <dir>', 'log files to parse: a directory, or s3://BUCKET/PREFIX of synced logs (mandatory)')
    .option('-s, --start <date>', 'first day, YYYY-MM-DD (UTC; default 30 days ago)')
    .option('-e, --end <date>', 'last day, YYYY-MM-DD (UTC; default today)')
    .option('-n, --num_days <days>', 'the last N days and today (overrides -s and -e)')
    .option('-d, --discount <percent>', 'whole percent off on-demand prices to use (default 0)')
    .option('-o, --output <type>', 'json, html or xlsx, or a comma-separated list (default: all three)')
    .option('-c, --container <id>', 'only this container (a unique prefix of its id)')
    .option('-f, --containerLife <id>', "only this container, in 'Lifetime' format (a unique prefix of its id)")
    .option('-j, --jobid <id>', "only this job's containers, in 'Lifetime' format")
    .option('--out-dir <dir>', 'where to write the reports (default: current directory)')
    .option(
      '--pricing <file>',
      'on-demand prices: a JSON file {"m5.xlarge": 0.192, ...} or a directory of <region>.json',
    )
    .option(
      '--pricing-cache <dir>',
      'cache of prices read from the AWS Price List API (default ~/.cache/xspot-cdk/pricing)',
    )
    .option(
      '--config <path>',
      "deployment config, long form only (-c is the guide's --container): its deployment.region is the default --region",
    )
    .option('--region <region>', 'region of controllers whose logs do not say (DefaultRegion), and of the S3 client')
    .option('--profile <name>', 'AWS profile for S3 and the Price List API')
    .option(
      '--threads <n>',
      'threads scanning local log files (default: one per idle CPU, at most 8; 1 on 2 CPUs or fewer)',
    )
    .option(
      '--athena',
      "read the deployment's synced logs with Amazon Athena instead of -l (needs --config with logs.athena: true)",
    )
    .option('--workgroup <name>', 'Athena workgroup for --athena (default: <deployment>-cost, made by the stack)')
    .option(
      '--lookback-days <n>',
      'with --athena: read log files that started up to N days before the window start, 0 to 366 (default 7)',
    )
    .action(
      async (args: CostArgs & { config?: string; athena?: boolean; workgroup?: string; lookbackDays?: string }) => {
        (require('../cost/heap') as typeof import('../cost/heap')).keepYoungGenerationSmall();
        const { config, athena, workgroup, lookbackDays, ...rest } = args;
        if (athena) {
          const { runCostAthena } = require('../cost/athena-run') as typeof import('../cost/athena-run');
          const { loadConfig } = require('../config/load') as typeof import('../config/load');
          const dep =
            config === undefined
              ? undefined
              : (() => {
                  const c = loadConfig(config).config;
                  return {
                    configPath: config,
                    name: c.deployment.name,
                    region: c.deployment.region,
                    athena: c.logs.athena,
                  };
                })();
          await runCostAthena({ ...rest, workgroup, lookbackDays }, dep, stdio);
          return;
        }
        if (lookbackDays !== undefined) {
          throw new UserError(
            `Incorrect entry: --lookback-days '${lookbackDays}' needs --athena (-l reads every file, whenever it started)`,
          );
        }
        if (workgroup !== undefined) {
          throw new UserError(
            `Incorrect entry: --workgroup '${workgroup}' needs --athena (it names the Athena workgroup)`,
          );
        }
        // require, not import(): this compiles to CommonJS, where a relative import() needs a file extension.
        const { runCost } = require('../cost/run') as typeof import('../cost/run');
        await runCost(withConfigRegion(rest, config), stdio);
      },
    );
}
