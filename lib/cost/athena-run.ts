/**
 * `xspot-cdk cost --athena`: the same report as `cost -l s3://<log bucket>/<deployment>`, with the
 * logs read by one Athena query over the table the prerequisites stack creates (`logs.athena`)
 * instead of being downloaded. The query (athena-sql.ts) returns the log files' time spans and
 * their parsed marker lines; they go into the same Collector, and finishReport (run.ts) prices,
 * shares and rounds exactly as the local path does.
 */

import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AthenaClient } from '@aws-sdk/client-athena';
import { UserError } from '../errors';
import { type AthenaQueryStats, runAthenaQuery } from './athena';
import {
  type AthenaSource,
  costEventsSql,
  DEFAULT_LOOKBACK_DAYS,
  MAX_LOOKBACK_DAYS,
  type Problem,
  RESULT_COLUMNS,
  type ResultColumn,
} from './athena-sql';
import { athenaNames } from './athena-table';
import { Collector, Warnings } from './collect';
import { type ContainerState, clip, isRegion, type LogEvent } from './log-format';
import { type CostArgs, type CostOptions, parseDiscount, parseFilter, parseOutputs, resolveWindow } from './options';
import { defaultPricingCacheDir } from './pricing';
import { type CostIo, type CostResult, finishReport } from './run';

/** What `--athena` needs from the deployment config (`--config`). */
export interface AthenaDeployment {
  /** The config file, for messages. */
  readonly configPath: string;
  readonly name: string;
  readonly region: string;
  /** `logs.athena`. */
  readonly athena: boolean;
}

export interface AthenaCostArgs extends CostArgs {
  readonly workgroup?: string;
  /** `--lookback-days`: days before the window start whose files are read (athena-sql.ts queryDays). */
  readonly lookbackDays?: string;
}

export interface AthenaCostDeps {
  /** The Athena client; by default one for --region (else the deployment's region) and --profile. */
  readonly client?: AthenaClient;
  readonly sleep?: (ms: number) => Promise<void>;
}

const WORKGROUP = /^[A-Za-z0-9._-]{1,128}$/;

/** `--lookback-days`: a whole number of days, 0 to MAX_LOOKBACK_DAYS; DEFAULT_LOOKBACK_DAYS when not given. */
export function parseLookbackDays(v: string | undefined): number {
  if (v === undefined) return DEFAULT_LOOKBACK_DAYS;
  const n = /^\d{1,4}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n <= MAX_LOOKBACK_DAYS)) {
    throw new UserError(
      `Incorrect entry: --lookback-days got '${v}' (a whole number of days from 0 to ${MAX_LOOKBACK_DAYS}: how long before the window start a log file may have started and still be read)`,
    );
  }
  return n;
}

/** The options of the Athena path, checked once, with messages naming the flag or config field. */
export async function resolveAthenaOptions(
  args: AthenaCostArgs,
  dep: AthenaDeployment | undefined,
  now: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ opts: CostOptions; source: AthenaSource; workgroup: string; lookbackDays: number }> {
  if (args.logs !== undefined) {
    throw new UserError(
      `Incorrect entry: -l/--logs and --athena cannot be combined (--athena reads the deployment's log bucket through its Athena table; -l reads files)`,
    );
  }
  if (args.threads !== undefined) {
    throw new UserError(
      'Incorrect entry: --threads sets how many local files are scanned at once; with --athena Athena scans',
    );
  }
  if (dep === undefined) {
    throw new UserError(
      'Incorrect entry: --athena needs --config FILE (the deployment config whose logs.athena is true: it names the table and the workgroup)',
    );
  }
  if (!dep.athena) {
    throw new UserError(
      `Incorrect entry: --athena: logs.athena is false in ${dep.configPath} (set logs.athena: true and deploy the prerequisites stack; it creates the log table and the workgroup)`,
    );
  }
  const names = athenaNames(dep.name);
  const workgroup = args.workgroup ?? names.workgroup;
  if (!WORKGROUP.test(workgroup)) {
    throw new UserError(
      `Incorrect entry: --workgroup got '${workgroup}' (an Athena workgroup name: letters, digits, '.', '_' and '-', 1 to 128 characters)`,
    );
  }
  const lookbackDays = parseLookbackDays(args.lookbackDays);
  const region = args.region ?? dep.region;
  if (!isRegion(region)) {
    throw new UserError(`Incorrect entry: --region got '${region}' (an AWS region code such as us-east-1)`);
  }
  if (args.pricing !== undefined && (await stat(args.pricing).catch(() => undefined)) === undefined) {
    throw new UserError(`Pricing file not found: ${args.pricing}`);
  }
  const opts: CostOptions = {
    logs: `athena://${workgroup}/${names.database}.${names.table}`,
    window: resolveWindow(args, now),
    discountPercent: parseDiscount(args.discount),
    outputs: parseOutputs(args.output),
    filter: parseFilter(args),
    outDir: resolve(args.outDir ?? '.'),
    pricing: args.pricing,
    pricingCache: args.pricingCache ?? defaultPricingCacheDir(env),
    region,
    profile: args.profile,
    threads: 1,
  };
  return {
    opts,
    source: { database: names.database, table: names.table, deployment: dep.name },
    workgroup,
    lookbackDays,
  };
}

export type Row = Record<ResultColumn, string | null>;

const num = (v: string | null): number | undefined => (v === null ? undefined : Number(v));
const opt = (v: string | null): string | undefined => v ?? undefined;

/** A result row as the event parseMarkedLine would have returned for its line. */
export function rowEvent(r: Row): LogEvent | undefined {
  const ts = num(r.ts);
  if (ts === undefined) return undefined;
  const spot = r.spot === null ? undefined : r.spot === 'true';
  const defined = <T extends object>(o: T): T =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  switch (r.marker) {
    case '0':
    case '1':
      if (r.worker_id === null) return undefined;
      return defined({
        kind: r.marker === '0' ? ('worker-ready' as const) : ('worker-terminate' as const),
        ts,
        workerId: r.worker_id,
        instanceId: opt(r.instance_id),
        instanceType: opt(r.instance_type),
        spot,
        price: num(r.price),
      });
    case '2':
      if (r.container_id === null || r.state === null) return undefined;
      return defined({
        kind: 'container' as const,
        ts,
        containerId: r.container_id,
        state: r.state as ContainerState,
        workerId: opt(r.worker),
        fromWorkerId: opt(r.from_worker),
        jobId: opt(r.job_id),
        cpu: num(r.cpu),
      });
    case '3':
      return defined({
        kind: 'scheduler' as const,
        ts,
        region: opt(r.region),
        controllerInstanceId: opt(r.instance_id),
        controllerInstanceType: opt(r.instance_type),
      });
    default:
      return undefined;
  }
}

/** The warning the local path gives for the same line. */
export function problemWarning(problem: Problem, r: Row): string | undefined {
  const line = clip(r.excerpt ?? '');
  switch (problem) {
    case 'no-timestamp':
      return `no timestamp in: ${line}`;
    case 'json':
      return `json not matched: ${line}`;
    case 'no-worker-id':
      return `no worker id in: ${line}`;
    case 'instance-type':
      return `Invalid instance type: ${line} (worker ${r.worker_id})`;
    case 'container':
      return `no ContainerID or State (started, migrated, stopped) in: ${line}`;
    case 'overlong':
      return undefined;
  }
}

interface FileRow {
  readonly path: string;
  readonly controller: string;
  readonly first?: number;
  readonly last?: number;
  readonly events: Row[];
}

/** Puts the query's rows into a Collector in the order the local path reads the same files. */
export function collectRows(
  rows: readonly Row[],
  opts: CostOptions,
  warnings: Warnings,
): { collector: Collector; files: { found: number; read: number; outsideWindow: number; invalid: number } } {
  const byPath = new Map<string, FileRow>();
  const file = (r: Row): FileRow => {
    let f = byPath.get(r.path ?? '');
    if (f === undefined) {
      f = {
        path: r.path ?? '',
        controller: r.controller ?? '',
        first: num(r.file_first),
        last: num(r.file_last),
        events: [],
      };
      byPath.set(f.path, f);
    }
    return f;
  };
  for (const r of rows) {
    const f = file(r);
    if (r.marker !== null) f.events.push(r);
  }
  const all = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (all.length === 0) {
    throw new UserError(
      `No valid log files specified: ${opts.logs} holds no log lines (have the controllers synced yet?)`,
    );
  }
  const valid = all.filter((f) => f.first !== undefined && f.last !== undefined);
  for (const f of all) if (f.first === undefined) warnings.add(`skipping ${f.path}: no timestamp in any line`);
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  if (valid.length === 0) {
    throw new UserError(
      `No valid log files specified: none of the ${all.length} files under ${opts.logs} has a line with a timestamp`,
    );
  }
  const win = opts.window;
  const inWindow = valid
    .filter((f) => f.last! >= win.start && f.first! < win.end)
    .sort((a, b) => (a.controller < b.controller ? -1 : a.controller > b.controller ? 1 : 0) || a.first! - b.first!);
  if (inWindow.length === 0) {
    const first = valid.reduce((m, f) => Math.min(m, f.first!), Number.POSITIVE_INFINITY);
    const last = valid.reduce((m, f) => Math.max(m, f.last!), Number.NEGATIVE_INFINITY);
    throw new UserError(
      `No valid log files specified: none of the ${valid.length} log files under ${opts.logs} has entries between ${day(win.start)} and ${day(win.end - 1)} (they span ${day(first)} to ${day(last)}; use -s/-e or -n)`,
    );
  }
  const collector = new Collector(warnings);
  let overlong = 0;
  for (const f of inWindow) {
    collector.addFile(f.controller, f.first!, f.last!);
    // Line order within a file, as far as the rows tell it: by time (lines without one first).
    const events = [...f.events].sort((a, b) => (num(a.ts) ?? -Infinity) - (num(b.ts) ?? -Infinity));
    for (const r of events) {
      if (r.problem !== null) {
        if (r.problem === 'overlong') overlong++;
        const w = problemWarning(r.problem as Problem, r);
        if (w !== undefined) warnings.add(w);
        continue;
      }
      const ev = rowEvent(r);
      if (ev !== undefined) collector.add(f.controller, ev);
    }
  }
  if (overlong > 0) warnings.add(`skipped ${overlong} marker lines longer than 1 MiB`);
  return {
    collector,
    files: {
      found: all.length,
      read: inWindow.length,
      outsideWindow: valid.length - inWindow.length,
      invalid: all.length - valid.length,
    },
  };
}

async function athenaClient(opts: CostOptions): Promise<AthenaClient> {
  const { AthenaClient } = await import('@aws-sdk/client-athena');
  let credentials: ReturnType<typeof import('@aws-sdk/credential-providers').fromIni> | undefined;
  if (opts.profile !== undefined) {
    const { fromIni } = await import('@aws-sdk/credential-providers');
    credentials = fromIni({ profile: opts.profile });
  }
  return new AthenaClient({ region: opts.region, credentials });
}

export async function runCostAthena(
  args: AthenaCostArgs,
  dep: AthenaDeployment | undefined,
  io: CostIo,
  deps: AthenaCostDeps = {},
): Promise<CostResult & { query: AthenaQueryStats }> {
  const now = io.now ?? Date.now;
  const { opts, source, workgroup, lookbackDays } = await resolveAthenaOptions(args, dep, now());
  const warnings = new Warnings(200, (line) => io.err(`warning: ${line}`));
  const rows: Row[] = [];
  const query = await runAthenaQuery(
    {
      sql: costEventsSql(source, opts.window, lookbackDays),
      workgroup,
      database: source.database,
      columns: RESULT_COLUMNS,
    },
    { client: deps.client ?? (await athenaClient(opts)), sleep: deps.sleep, region: opts.region },
    (values) => {
      const r = {} as Row;
      RESULT_COLUMNS.forEach((c, i) => {
        r[c] = values[i] ?? null;
      });
      rows.push(r);
    },
  );
  io.out(
    `Athena query ${query.queryId} in workgroup ${workgroup}: ${(query.scannedBytes / 1e6).toFixed(1)} MB scanned, ${query.rows} rows`,
  );
  const { collector, files } = collectRows(rows, opts, warnings);
  const result = await finishReport(opts, { collector, warnings, rootName: source.deployment, files }, io);
  return { ...result, query };
}
