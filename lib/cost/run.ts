/**
 * `xspot-cdk cost` end to end: options -> list log files -> check each file's first and last lines
 * -> stream the files that overlap the window through the marker scanner -> prices -> report ->
 * json / html / xlsx files. Heavy modules (AWS SDK, exceljs) load only when used.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PricingClient } from '@aws-sdk/client-pricing';
import type { S3Client } from '@aws-sdk/client-s3';
import { UserError } from '../errors';
import { Collector, Warnings } from './collect';
import { buildReport, pricingNeeds, resolveModel, type Selection, selectContainers } from './compute';
import { renderHtml } from './html';
import { writeJsonFile } from './json-writer';
import { headTimestamp, parseMarkedLine, tailTimestamp } from './log-format';
import { type CostArgs, type CostOptions, resolveOptions } from './options';
import { PriceListApiSource, type PriceSource, type PriceTable, PricingFileSource } from './pricing';
import type { CostReport, OutputFormat } from './report';
import { scanFiles } from './scan-pool';
import { chooseAnchors, MarkerScanner } from './scanner';
import { LocalLogStore, type LogFile, type LogStore, S3LogStore } from './sources';
import { renderXlsx } from './xlsx';

/** Bytes read from each end of a file to find its first and last timestamps. */
export const HEAD_TAIL_BYTES = 64 * 1024;

export interface CostIo {
  /** Normal output (one line per call). */
  readonly out: (line: string) => void;
  /** Warnings (one line per call). */
  readonly err: (line: string) => void;
  /** Epoch ms "now": decides the default window. */
  readonly now?: () => number;
}

export interface CostResult {
  readonly report: CostReport;
  /** Files written, in the order of the formats. */
  readonly written: readonly string[];
}

async function credentials(profile: string | undefined) {
  if (profile === undefined) return undefined;
  const { fromIni } = await import('@aws-sdk/credential-providers');
  return fromIni({ profile });
}

function clientRegion(opts: CostOptions): string {
  return opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

async function s3Client(opts: CostOptions): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    region: clientRegion(opts),
    followRegionRedirects: true,
    credentials: await credentials(opts.profile),
  });
}

async function pricingClient(opts: CostOptions): Promise<PricingClient> {
  const { PricingClient } = await import('@aws-sdk/client-pricing');
  // The Price List API is served from us-east-1 (and a few others) for every region's prices.
  return new PricingClient({ region: 'us-east-1', credentials: await credentials(opts.profile) });
}

interface FileSpan {
  readonly file: LogFile;
  readonly start: number;
  readonly end: number;
}

/** Bytes of file heads kept to pick the marker anchors (see scanner.ts). */
const SAMPLE_BYTES = 256 * 1024;

/**
 * First and last timestamps of a file, from its first and last HEAD_TAIL_LINES lines. The head
 * read is added to `sample` (a sample of what the logs look like) until that holds SAMPLE_BYTES.
 */
async function fileSpan(store: LogStore, file: LogFile, sample: Buffer[]): Promise<FileSpan | undefined> {
  if (file.size === 0) return undefined;
  const head = await store.head(file, HEAD_TAIL_BYTES);
  if (sample.reduce((n, b) => n + b.length, 0) < SAMPLE_BYTES) sample.push(head);
  const whole = head.length >= file.size;
  const start = headTimestamp(head.toString('utf8'), whole);
  const tail = whole ? head : await store.tail(file, HEAD_TAIL_BYTES);
  const end = tailTimestamp(tail.toString('utf8'), whole);
  if (start === undefined || end === undefined) return undefined;
  return { file, start, end };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

function safeName(v: string): string {
  return v.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

export function reportBaseName(report: CostReport): string {
  const f = report.filter;
  const suffix = f === null ? '' : `-${f.kind}-${safeName(f.value)}`;
  return `xspot-cost-${report.window.firstDay}_${report.window.lastDay}${suffix}`;
}

/** Writes one output file. JSON is streamed (json-writer.ts); HTML and XLSX are built in memory. */
async function writeReport(format: OutputFormat, report: CostReport, path: string): Promise<void> {
  switch (format) {
    case 'json':
      return writeJsonFile(path, report);
    case 'html':
      return writeFile(path, renderHtml(report));
    case 'xlsx':
      return writeFile(path, await renderXlsx(report));
  }
}

function usd(v: number): string {
  const sign = v < 0 ? '-' : '';
  return `${sign}$${Math.abs(v).toFixed(2)}`;
}

export async function runCost(args: CostArgs, io: CostIo): Promise<CostResult> {
  const now = io.now ?? Date.now;
  const opts = await resolveOptions(args, now());
  const warnings = new Warnings(200, (line) => io.err(`warning: ${line}`));

  const store: LogStore =
    opts.s3 !== undefined
      ? new S3LogStore(opts.logs, opts.s3, await s3Client(opts), clientRegion(opts))
      : new LocalLogStore(opts.logs);
  const files = await store.list();
  if (files.length === 0) throw new UserError(`No valid log files specified: ${opts.logs} holds no files`);

  const sample: Buffer[] = [];
  const spans = await mapLimit(files, opts.s3 !== undefined ? 16 : 4, async (f) => {
    try {
      return await fileSpan(store, f, sample);
    } catch (err) {
      // A local file we may not read is skipped like one without timestamps; S3 errors are fatal.
      if (err instanceof UserError) throw err;
      return (err as Error).message;
    }
  });
  const valid: FileSpan[] = [];
  spans.forEach((s, i) => {
    if (s === undefined) {
      warnings.add(`skipping ${files[i].display}: no timestamp in its first 5 and last 5 lines`);
    } else if (typeof s === 'string') {
      warnings.add(`skipping ${files[i].display}: ${s}`);
    } else {
      valid.push(s);
    }
  });
  if (valid.length === 0) {
    throw new UserError(
      `No valid log files specified: none of the ${files.length} files under ${opts.logs} has a timestamp in its first 5 and last 5 lines`,
    );
  }
  const win = opts.window;
  const inWindow = valid
    .filter((s) => s.end >= win.start && s.start < win.end)
    .sort(
      (a, b) =>
        (a.file.controller < b.file.controller ? -1 : a.file.controller > b.file.controller ? 1 : 0) ||
        a.start - b.start,
    );
  if (inWindow.length === 0) {
    const first = valid.reduce((m, s) => Math.min(m, s.start), Number.POSITIVE_INFINITY);
    const last = valid.reduce((m, s) => Math.max(m, s.end), Number.NEGATIVE_INFINITY);
    throw new UserError(
      `No valid log files specified: none of the ${valid.length} log files under ${opts.logs} has entries between ${day(win.start)} and ${day(win.end - 1)} (they span ${day(first)} to ${day(last)}; use -s/-e or -n)`,
    );
  }

  // Stream every file in the window through the marker scanner.
  const anchors = chooseAnchors(Buffer.concat(sample));
  sample.length = 0;
  const collector = new Collector(warnings);
  let overlong = 0;
  if (opts.s3 === undefined) {
    // Local files: one file per task on worker threads (scan-pool.ts), results in file order.
    await scanFiles(
      inWindow.map((s) => s.file.ref),
      anchors,
      opts.threads,
      (i) => {
        const { file, start, end } = inWindow[i];
        collector.addFile(file.controller, start, end);
        return {
          event: (ev) => collector.add(file.controller, ev),
          warning: (w) => warnings.add(w),
        };
      },
      (_i, skipped) => {
        overlong += skipped;
      },
    );
  } else {
    for (const { file, start, end } of inWindow) {
      collector.addFile(file.controller, start, end);
      const scanner = new MarkerScanner((line, marker) => {
        const r = parseMarkedLine(marker, line);
        if ('event' in r) collector.add(file.controller, r.event);
        else warnings.add(r.warning);
      }, anchors);
      await store.scan(file, (chunk) => scanner.push(chunk));
      scanner.end();
      overlong += scanner.stats.overlong;
    }
  }
  if (overlong > 0) warnings.add(`skipped ${overlong} lines longer than 1 MiB`);

  return finishReport(
    opts,
    {
      collector,
      warnings,
      rootName: store.rootName,
      files: {
        found: files.length,
        read: inWindow.length,
        outsideWindow: valid.length - inWindow.length,
        invalid: files.length - valid.length,
      },
    },
    io,
  );
}

/** What reading the logs gave, by either path (files here, or the Athena query of athena-run.ts). */
export interface LogsRead {
  readonly collector: Collector;
  readonly warnings: Warnings;
  /** How to name a controller whose logs sit at the top of the logs location. */
  readonly rootName: string;
  readonly files: CostReport['files'];
}

/** From the collected logs to the report files and the two summary lines: the same for both paths. */
export async function finishReport(opts: CostOptions, read: LogsRead, io: CostIo): Promise<CostResult> {
  const now = io.now ?? Date.now;
  const { collector, warnings } = read;
  const win = opts.window;
  const model = resolveModel(collector, win, { fallbackRegion: opts.region, rootName: read.rootName, warnings });
  let selection: Selection | undefined;
  if (opts.filter !== undefined) {
    selection = selectContainers(model, opts.filter.kind, opts.filter.flag, opts.filter.value);
  }

  // Prices: one lookup per region for the instance types that ran in the window.
  const needs = pricingNeeds(model);
  const tables = new Map<string | undefined, PriceTable>();
  if (needs.length > 0) {
    const source: PriceSource =
      opts.pricing !== undefined
        ? await PricingFileSource.open(opts.pricing)
        : new PriceListApiSource(() => pricingClient(opts), opts.pricingCache, now);
    const byRegion = new Map<string | undefined, Map<string, string>>();
    for (const n of needs) {
      const types = byRegion.get(n.region) ?? new Map<string, string>();
      if (!types.has(n.instanceType)) types.set(n.instanceType, n.who);
      byRegion.set(n.region, types);
    }
    for (const [region, types] of byRegion) {
      tables.set(region, await source.prices(region, [...types.keys()], (t) => types.get(t) ?? t));
    }
  }
  const price = (region: string | undefined, type: string): number => {
    const v = tables.get(region)?.get(type);
    if (v === undefined) throw new Error(`internal: no price for ${type} in ${region}`);
    return v;
  };

  const report = buildReport(model, {
    logs: opts.logs,
    discountPercent: opts.discountPercent,
    price,
    selection,
    warnings,
    files: read.files,
    now: new Date(now()),
  });

  await mkdir(opts.outDir, { recursive: true });
  const base = join(opts.outDir, reportBaseName(report));
  const written: string[] = [];
  for (const format of opts.outputs) {
    const path = `${base}.${format}`;
    await writeReport(format, report, path);
    written.push(path);
  }

  const s = report.summary;
  if (warnings.count > 20) {
    io.err(
      `warning: ${warnings.count - 20} more warnings not shown (the report lists the first ${report.warnings.shown.length})`,
    );
  }
  io.out(
    `${report.window.firstDay} .. ${report.window.lastDay} (UTC): ${read.files.read} of ${read.files.found} log files read; ${s.controllers} controllers, ${s.workers} workers, ${s.containers} containers, ${s.jobs} jobs`,
  );
  io.out(
    `real cost ${usd(s.realCost)}, on-demand equivalent ${usd(s.onDemandCost)}${opts.discountPercent ? ` (${opts.discountPercent}% discount)` : ''}, savings ${usd(s.savings)} (${s.savingsPercent}%)`,
  );
  for (const path of written) io.out(`wrote ${path}`);
  return { report, written };
}
