/**
 * `xspot-cdk cost` options: parsed and checked once, at the edge. Messages start with the vendor
 * guide's wording ("Cost Calculation Script Error Reference") and then name the flag, the value
 * received and what is allowed. Dates are UTC days.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../errors';
import { type CostWindow, DAY_MS } from './compute';
import { isRegion } from './log-format';
import { defaultPricingCacheDir } from './pricing';
import { type FilterKind, OUTPUT_FORMATS, type OutputFormat } from './report';
import { defaultThreads, MAX_THREADS } from './scan-pool';
import { parseS3Uri, type S3Location } from './sources';

/** The options as commander hands them over (all strings). */
export interface CostArgs {
  readonly logs?: string;
  readonly start?: string;
  readonly end?: string;
  readonly num_days?: string;
  readonly discount?: string;
  readonly output?: string;
  readonly container?: string;
  readonly containerLife?: string;
  readonly jobid?: string;
  readonly outDir?: string;
  readonly pricing?: string;
  readonly pricingCache?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly threads?: string;
}

export interface CostOptions {
  /** The -l value as given. */
  readonly logs: string;
  /** Set when -l is an s3:// URI; else -l is a local directory. */
  readonly s3?: S3Location;
  readonly window: CostWindow;
  readonly discountPercent: number;
  readonly outputs: readonly OutputFormat[];
  readonly filter?: { readonly kind: FilterKind; readonly flag: string; readonly value: string };
  readonly outDir: string;
  readonly pricing?: string;
  readonly pricingCache: string;
  readonly region?: string;
  readonly profile?: string;
  /** Threads scanning local files. */
  readonly threads: number;
}

const DEFAULT_DAYS_BACK = 30;

function startOfUtcDay(t: number): number {
  return Math.floor(t / DAY_MS) * DAY_MS;
}

/** `2024-03-17` -> midnight UTC of that day, or undefined. */
export function parseDay(v: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? t : undefined;
}

function wholeNumber(v: string): number | undefined {
  return /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : undefined;
}

/** The report window from -s/-e/-n; `now` is injectable for tests. */
export function resolveWindow(args: CostArgs, now: number): CostWindow {
  const today = startOfUtcDay(now);
  let start = today - DEFAULT_DAYS_BACK * DAY_MS;
  let end = today + DAY_MS;
  if (args.start !== undefined) {
    const t = parseDay(args.start);
    if (t === undefined) {
      throw new UserError(
        `Incorrect entry: Start time (in 2022-03-17 format): -s/--start got '${args.start}' (a date YYYY-MM-DD)`,
      );
    }
    start = t;
  }
  if (args.end !== undefined) {
    const t = parseDay(args.end);
    if (t === undefined) {
      throw new UserError(
        `Incorrect entry: End time (in 2022-03-17 format): -e/--end got '${args.end}' (a date YYYY-MM-DD)`,
      );
    }
    end = t + DAY_MS;
  }
  if (args.num_days !== undefined) {
    const n = wholeNumber(args.num_days);
    if (n === undefined) {
      throw new UserError(
        `Incorrect Entry: --number of days must be integer only: -n/--num_days got '${args.num_days}' (a whole number of days >= 0; 0 = today)`,
      );
    }
    // -n overrides -s and -e: the last n days and today, to the end of today.
    start = today - n * DAY_MS;
    end = today + DAY_MS;
  } else if (start >= end) {
    throw new UserError(
      `Incorrect entry: Start time (in 2022-03-17 format): -s/--start ${args.start ?? new Date(start).toISOString().slice(0, 10)} is after -e/--end ${args.end ?? new Date(end - DAY_MS).toISOString().slice(0, 10)}`,
    );
  }
  return { start, end };
}

export function parseDiscount(v: string | undefined): number {
  if (v === undefined) return 0;
  const n = wholeNumber(v);
  if (n === undefined || n > 100) {
    throw new UserError(
      `Incorrect Entry: --discount must be integer only: -d/--discount got '${v}' (a whole percent off on-demand, 0 to 100)`,
    );
  }
  return n;
}

export function parseOutputs(v: string | undefined): OutputFormat[] {
  if (v === undefined || v.trim() === '' || v.trim() === 'all') return [...OUTPUT_FORMATS];
  const out: OutputFormat[] = [];
  for (const part of v.split(',').map((p) => p.trim().toLowerCase())) {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(part)) {
      throw new UserError(
        `Incorrect entry: output file must be json, or html, or xlsx: -o/--output got '${v}' (json, html, xlsx, a comma-separated list of them, or all)`,
      );
    }
    if (!out.includes(part as OutputFormat)) out.push(part as OutputFormat);
  }
  return out;
}

/** -c, -f or -j (at most one), with a non-empty id. */
export function parseFilter(args: CostArgs): CostOptions['filter'] {
  const filters = (
    [
      ['container', '-c/--container', args.container],
      ['containerLife', '-f/--containerLife', args.containerLife],
      ['job', '-j/--jobid', args.jobid],
    ] as const
  ).filter(([, , v]) => v !== undefined);
  if (filters.length > 1) {
    throw new UserError(
      `Incorrect entry: ${filters.map(([, f]) => f).join(' and ')} cannot be combined (pick one of -c, -f, -j)`,
    );
  }
  let filter: CostOptions['filter'];
  if (filters.length === 1) {
    const [kind, flag, value] = filters[0];
    if (value === undefined || value.trim() === '') {
      throw new UserError(`Incorrect entry: ${flag} needs an id, got ''`);
    }
    filter = { kind, flag, value: value.trim() };
  }
  return filter;
}

export async function resolveOptions(
  args: CostArgs,
  now: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CostOptions> {
  if (args.logs === undefined || args.logs.trim() === '') {
    throw new UserError(
      'Entry error: -l: location of log files parameter is mandatory (-l/--logs DIR, or -l s3://BUCKET/PREFIX for synced logs)',
    );
  }
  const window = resolveWindow(args, now);
  const discountPercent = parseDiscount(args.discount);
  const outputs = parseOutputs(args.output);

  const filter = parseFilter(args);

  let threads = defaultThreads();
  if (args.threads !== undefined) {
    const n = wholeNumber(args.threads);
    if (n === undefined || n < 1 || n > MAX_THREADS) {
      throw new UserError(`Incorrect entry: --threads got '${args.threads}' (a whole number from 1 to ${MAX_THREADS})`);
    }
    threads = n;
  }

  if (args.region !== undefined && !isRegion(args.region)) {
    throw new UserError(`Incorrect entry: --region got '${args.region}' (an AWS region code such as us-east-1)`);
  }

  let s3: S3Location | undefined;
  if (args.logs.startsWith('s3://')) {
    s3 = parseS3Uri(args.logs);
    if (s3 === undefined) {
      throw new UserError(
        `Incorrect entry: --logs must be a directory: -l/--logs got '${args.logs}' (a directory, or s3://BUCKET/PREFIX with a valid bucket name)`,
      );
    }
  } else {
    const st = await stat(args.logs).catch(() => undefined);
    if (st === undefined || !st.isDirectory()) {
      throw new UserError(
        `Incorrect entry: --logs must be a directory: -l/--logs got '${args.logs}' (${st === undefined ? 'no such file or directory' : 'not a directory'})`,
      );
    }
  }

  // A missing pricing file is known now; do not make the operator wait for the logs to be read.
  if (args.pricing !== undefined && (await stat(args.pricing).catch(() => undefined)) === undefined) {
    throw new UserError(`Pricing file not found: ${args.pricing}`);
  }

  return {
    logs: args.logs,
    s3,
    window,
    discountPercent,
    outputs,
    filter,
    outDir: resolve(args.outDir ?? '.'),
    pricing: args.pricing,
    pricingCache: args.pricingCache ?? defaultPricingCacheDir(env),
    region: args.region,
    profile: args.profile,
    threads,
  };
}
