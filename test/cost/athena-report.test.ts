/**
 * `cost --athena` gives the report `cost -l` gives, over the same logs: the generated SQL really
 * runs (athena-engine.ts) over the logs laid out as log-sync.sh lays them out in the log bucket
 * (`<day>/<instance-id>/<file>`, the day of the file's first timestamp), a mocked Athena client
 * serves its result, and the two reports are compared field by field.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { type AthenaCostArgs, runCostAthena } from '../../lib/cost/athena-run';
import { headTimestamp } from '../../lib/cost/log-format';
import type { CostArgs } from '../../lib/cost/options';
import type { CostReport } from '../../lib/cost/report';
import { runCost } from '../../lib/cost/run';
import { DEFAULT_YAML } from '../support/app';
import { signedYaml } from '../support/configs';
import { servingAthena, tableRows } from './athena-engine';
import { C1, LOGS, PRICING_DIR, runCli, tempDir } from './helpers';

const DEP = { configPath: 'site.yaml', name: 'xspot', region: 'us-east-1', athena: true };
const SOURCE = { database: 'xspot_xspot_logs', table: 'controller_logs', deployment: 'xspot' };

const dir = tempDir();
afterAll(() => dir.cleanup());
/** The fixture logs in the bucket's day layout. */
let DAYS: string;
beforeAll(() => {
  DAYS = dayLayout(LOGS, join(dir.path, 'days'));
});

/**
 * A copy of the logs under `src` (one directory per controller) in the bucket's layout under a
 * deployment: `<UTC day of the first timestamp in the first 5 lines>/<controller>/<file>`, or
 * `undated/<controller>/<file>`, as log-sync.sh files them.
 */
function dayLayout(src: string, dest: string): string {
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        walk(p);
        continue;
      }
      const first = headTimestamp(readFileSync(p, 'utf8'), true);
      const day = first === undefined ? 'undated' : new Date(first).toISOString().slice(0, 10);
      const to = join(dest, day, ...relative(src, p).split(sep));
      mkdirSync(join(to, '..'), { recursive: true });
      copyFileSync(p, to);
    }
  };
  walk(src);
  return dest;
}

/** The parts of a report that come from the logs (not when or from where it was made). */
function figures(r: CostReport) {
  const { generatedAt: _g, logs: _l, ...rest } = r;
  return rest;
}

async function both(logs: string, args: CostArgs & { lookbackDays?: string }, opts: { pageRows?: number } = {}) {
  const out = join(dir.path, `out-${Math.random().toString(36).slice(2)}`);
  const localErr: string[] = [];
  const localOut: string[] = [];
  const { lookbackDays: _lookback, ...localArgs } = args;
  const local = await runCost(
    { ...localArgs, logs, pricing: PRICING_DIR, output: 'json', outDir: out },
    { out: (l) => localOut.push(l), err: (l) => localErr.push(l), now: () => Date.parse('2024-03-20T00:00:00Z') },
  );
  const served = servingAthena(tableRows(logs, 'log-bucket', 'xspot'), SOURCE, opts);
  const athenaOut: string[] = [];
  const athenaErr: string[] = [];
  const sleeps: number[] = [];
  const athena = await runCostAthena(
    { ...(args as AthenaCostArgs), pricing: PRICING_DIR, output: 'json', outDir: out },
    DEP,
    { out: (l) => athenaOut.push(l), err: (l) => athenaErr.push(l), now: () => Date.parse('2024-03-20T00:00:00Z') },
    {
      client: served.client,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  );
  served.mock.restore();
  return {
    local: local.report,
    localErr,
    localOut,
    athena: athena.report,
    athenaOut,
    athenaErr,
    served,
    sleeps,
    query: athena.query,
  };
}

describe('the fixture logs (test/fixtures/cost)', () => {
  test('laid out by day: one day folder, and -l reads it as it reads one folder per controller', async () => {
    expect(readdirSync(DAYS)).toEqual(['2024-03-01']);
    const run = async (logs: string) =>
      (
        await runCost(
          { logs, start: '2024-03-01', end: '2024-03-02', pricing: PRICING_DIR, output: 'json', outDir: dir.path },
          { out: () => {}, err: () => {} },
        )
      ).report;
    const byDay = await run(DAYS);
    const { logs: _a, generatedAt: _b, ...rest } = byDay;
    const { logs: _c, generatedAt: _d, ...flat } = await run(LOGS);
    expect(rest).toEqual(flat);
    expect(byDay.controllers.map((c) => c.id).sort()).toEqual(['i-0a11a11a11a11a11a', 'i-0b22b22b22b22b22b']);
  });

  test('the same report, field by field: totals, days, instance types, controllers, workers, containers, jobs, warnings', async () => {
    const r = await both(DAYS, { start: '2024-03-01', end: '2024-03-02' }, { pageRows: 7 });
    expect(figures(r.athena)).toEqual(figures(r.local));
    // The scenario's hand-worked totals (test/fixtures/cost/README.md), so equality is not of two empty reports.
    expect(r.athena.summary.realCost).toBeCloseTo(9.2844, 6);
    expect(r.athena.summary.onDemandCost).toBeCloseTo(14.502, 6);
    expect(r.athena.summary.containers).toBe(4);
    expect(r.athenaErr).toEqual(r.localErr);
    expect(r.athena.logs).toBe('athena://xspot-cost/xspot_xspot_logs.controller_logs');
  });

  test('the query goes to the deployment workgroup and database; results are read page by page', async () => {
    const r = await both(DAYS, { start: '2024-03-01', end: '2024-03-02' }, { pageRows: 7 });
    expect(r.served.queries).toHaveLength(1);
    expect(r.served.queries[0]).toMatchObject({ workgroup: 'xspot-cost', database: 'xspot_xspot_logs' });
    expect(r.served.queries[0].sql).toContain('FROM "xspot_xspot_logs"."controller_logs"');
    const pages = r.served.mock.commandCalls(require('@aws-sdk/client-athena').GetQueryResultsCommand);
    expect(pages.length).toBe(Math.ceil((r.query.rows + 1) / 7));
    expect(r.athenaOut[0]).toMatch(/^Athena query q-1 in workgroup xspot-cost: [0-9.]+ MB scanned, \d+ rows$/);
    // Then the local path's own lines: the window, files, counts, totals and the files written.
    expect(r.athenaOut.slice(1)).toEqual(r.localOut);
    expect(r.athenaOut[1]).toBe(
      '2024-03-01 .. 2024-03-02 (UTC): 3 of 3 log files read; 2 controllers, 5 workers, 4 containers, 3 jobs',
    );
  });

  test('a window that leaves out a file, a discount and a job filter: still the same report', async () => {
    const a = await both(DAYS, { start: '2024-03-02', end: '2024-03-02', discount: '20', jobid: '2001' });
    expect(a.athena.files).toEqual({ found: 3, read: 1, outsideWindow: 2, invalid: 0 });
    expect(figures(a.athena)).toEqual(figures(a.local));
    const b = await both(DAYS, { start: '2024-03-01', end: '2024-03-01', containerLife: C1.slice(0, 6) });
    expect(figures(b.athena)).toEqual(figures(b.local));
    expect(b.athena.lifetime?.length).toBeGreaterThan(1);
  });
});

describe('edge cases of the grammar and the model (edges.test.ts and more)', () => {
  const lines = (...l: string[]) => `${l.join('\n')}\n`;
  let logs: string;
  beforeAll(() => {
    logs = join(dir.path, 'edges');
    const put = (rel: string, text: string) => {
      mkdirSync(join(logs, rel, '..'), { recursive: true });
      writeFileSync(join(logs, rel), text);
    };
    // Controller e: intervals that start or end outside the files, a spot worker without a price.
    put(
      '2024-03-01/i-0e0e0e0e0e0e0e0e0/xspot.log',
      lines(
        '2024-03-01T00:00:00Z INFO [main] log file opened (older file rotated away)',
        '2024-03-01T00:00:01Z INFO Scheduler configurations: {"DefaultRegion":"us-east-1","ControllerInstanceType":"m5.large"}',
        '2024-03-01T02:00:00Z INFO ContainerStateChange: {"ContainerID":"k1","State":"stopped","WorkerID":"e1"}',
        '2024-03-01T03:00:00Z INFO Terminating Worker Instance: {"WorkerID":"e1","InstanceType":"r5.xlarge","Spot":true,"Price":0.1}',
        '2024-03-01T04:00:00Z INFO FinalizeWorkerMetadata worker=e2 instanceType=r5.xlarge spot=false',
        '2024-03-01T05:00:00Z INFO ContainerStateChange: {"ContainerID":"k2","State":"started","WorkerID":"e2","JobID":"j2","Cpu":8}',
        '2024-03-01T06:00:00Z INFO FinalizeWorkerMetadata worker=e3 instanceType=r5b.xlarge spot=true',
        '2024-03-01T07:00:00Z INFO Terminating Worker Instance: {"WorkerID":"e3"}',
        '2024-03-01T10:00:00Z INFO heartbeat',
      ),
    );
    // Controller f: other timestamp spellings, quoted and PascalCase pairs, strings for numbers and
    // booleans, numeric ids, a migration, a worker terminated before it was ready, bad lines.
    put(
      '2024-03-01/i-0f0f0f0f0f0f0f0f0/a/xspot.log.1',
      lines(
        '[2024/03/01 08:00:00,250+01:00] INFO Scheduler configurations: {"DefaultRegion":"us-east-1","ControllerInstanceID":"i-0f0f0f0f0f0f0f0f0","ControllerInstanceType":"m5.xlarge"}',
        'time="2024-03-01T07:30:00.5Z" level=info msg="FinalizeWorkerMetadata worker=\\"f1\\" InstanceType=r5.xlarge Spot=True Price=\\"0.07\\""',
        '2024-03-01 07:45:00.123456-0000 INFO FinalizeWorkerMetadata worker="f2" instanceType="r5b.xlarge" spot=false price=0.5 worker=f2',
        '2024-03-01T08:00:00Z INFO ContainerStateChange: {"ContainerID":"m1","State":"STARTED","WorkerID":"f1","JobID":77,"Cpu":"2"}',
        '2024-03-01T08:00:00Z INFO ContainerStateChange: {"ContainerID":"m2","State":"started","WorkerID":"f1","JobID":"77"}',
        '2024-03-01T09:00:00Z INFO ContainerStateChange: {"ContainerID":"m1","State":"migrated","FromWorkerID":"f1","WorkerID":"f2"}',
        '2024-03-01T09:30:00Z INFO ContainerStateChange: {"ContainerID":"m3","State":"started"}',
        '2024-03-01T10:00:00Z INFO Terminating Worker Instance: {"WorkerID":"f1","Spot":"true","Price":0.08}',
        '2024-03-01T10:30:00Z INFO Terminating Worker Instance: {"WorkerID":"f9"}',
        '2024-03-01T11:00:00Z INFO FinalizeWorkerMetadata worker=f9 instanceType=r5.xlarge spot=true price=0.1',
        '2024-03-01T11:05:00Z INFO Terminating Worker Instance: {"WorkerID":"f3", oops}',
        '2024-03-01T11:06:00Z INFO Terminating Worker Instance: no json here',
        '2024-03-01T11:07:00Z INFO FinalizeWorkerMetadata instanceType=r5.xlarge',
        '2024-03-01T11:08:00Z INFO FinalizeWorkerMetadata worker=f4 instanceType=R5.XL',
        '2024-03-01T11:09:00Z INFO ContainerStateChange: {"ContainerID":"m4","State":"paused","WorkerID":"f1"}',
        '2024-02-30T11:10:00Z INFO FinalizeWorkerMetadata worker=f5 instanceType=r5.xlarge',
        '2024-03-01T11:11:00. INFO FinalizeWorkerMetadata worker=f6 instanceType=r5.xlarge',
        '2024-03-01T11:12:00+25:00 INFO FinalizeWorkerMetadata worker=f7 instanceType=r5.xlarge',
        '2024-03-01T11:13:00Z INFO FinalizeWorkerMetadata ContainerStateChange worker=f8 instanceType=r5.xlarge',
        '2024-03-01T11:20:00Z INFO ContainerStateChange: {"ContainerID":"m2","State":"stopped","WorkerID":"f1"}',
        '2024-03-01T12:00:00.000+00:00 INFO ContainerStateChange: {"ContainerID":"m1","State":"stopped","WorkerID":"f2"}',
        '2024-03-01T12:30:00Z INFO Terminating Worker Instance: {"WorkerID":"f2"}',
        '2024-03-01T13:00:00Z INFO bye',
      ),
    );
    // Not where log-sync.sh puts such a file (undated/), but the query must still skip it.
    put('2024-03-01/i-0f0f0f0f0f0f0f0f0/notes.txt', 'no timestamps in this file\nnor here\n');
    put(
      '2024-03-01/.hidden/xspot.log',
      lines('2024-03-01T00:00:00Z INFO FinalizeWorkerMetadata worker=h1 instanceType=r5.xlarge'),
    );
    put(
      '2024-02-27/i-0a0a0a0a0a0a0a0a0/old.log',
      lines('2024-02-27T00:00:00Z INFO Scheduler configurations: {"DefaultRegion":"us-east-1"}'),
    );
  });

  test('the same report and warnings (in time order, not line order; a skipped file worded for the rule SQL applies)', async () => {
    const r = await both(logs, { start: '2024-03-01', end: '2024-03-01' });
    expect(figures({ ...r.athena, warnings: r.local.warnings })).toEqual(figures(r.local));
    const notSkip = (w: string) => !/skipping .*notes\.txt/.test(w);
    // Athena has no line numbers: warnings come in time order, lines without a timestamp first.
    expect(r.athena.warnings.shown.filter(notSkip).sort()).toEqual(r.local.warnings.shown.filter(notSkip).sort());
    expect(r.athena.warnings.count).toBe(r.local.warnings.count);
    expect(r.athena.warnings.shown.filter((w) => !notSkip(w))).toEqual([
      'skipping s3://log-bucket/xspot/2024-03-01/i-0f0f0f0f0f0f0f0f0/notes.txt: no timestamp in any line',
    ]);
    // Not vacuous: the lines above produce the warnings and the workers they are meant to.
    expect(r.local.warnings.shown).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^json not matched: .*f3/),
        expect.stringMatching(/^no worker id in: /),
        expect.stringMatching(/^Invalid instance type: R5\.XL \(worker f4\)/),
        expect.stringMatching(/^no ContainerID or State/),
        expect.stringMatching(/^no timestamp in: 2024-02-30/),
        expect.stringMatching(/^worker f9 .*terminated before FinalizeWorkerMetadata/),
      ]),
    );
    expect(r.local.workers.map((w) => w.id).sort()).toEqual(['e1', 'e2', 'e3', 'f1', 'f2', 'f8'].sort());
  });
});

describe('day partitions: the window and --lookback-days decide which days Athena reads', () => {
  const lines = (...l: string[]) => `${l.join('\n')}\n`;
  const C = 'i-0c33c33c33c33c33c';
  const D = 'i-0d44d44d44d44d44d';
  let tree: string;
  /** A copy of `tree` with only the day folders `keep` accepts. */
  const only = (name: string, keep: (day: string) => boolean) => {
    const out = join(dir.path, name);
    for (const day of readdirSync(tree).filter(keep)) {
      for (const c of readdirSync(join(tree, day))) {
        mkdirSync(join(out, day, c), { recursive: true });
        for (const f of readdirSync(join(tree, day, c))) copyFileSync(join(tree, day, c, f), join(out, day, c, f));
      }
    }
    return out;
  };
  const put = (rel: string, text: string) => {
    mkdirSync(join(tree, rel, '..'), { recursive: true });
    writeFileSync(join(tree, rel), text);
  };
  beforeAll(() => {
    tree = dayLayout(LOGS, join(dir.path, 'lookback'));
    // Started 2 days before the window (inside the default 7-day lookback), runs into it.
    put(
      `2024-02-27/${C}/xspot.log.2`,
      lines(
        '2024-02-27T00:00:00Z INFO Scheduler configurations: {"DefaultRegion":"us-east-1","ControllerInstanceType":"m5.large"}',
        '2024-02-27T12:00:00Z INFO FinalizeWorkerMetadata worker=cw1 instanceType=r5.xlarge spot=false',
        '2024-03-01T02:00:00Z INFO Terminating Worker Instance: {"WorkerID":"cw1"}',
        '2024-03-01T03:00:00Z INFO heartbeat',
      ),
    );
    // Started 10 days before the window: before the default lookback, though it runs into the window.
    put(
      `2024-02-20/${D}/xspot.log.3`,
      lines(
        '2024-02-20T00:00:00Z INFO Scheduler configurations: {"DefaultRegion":"us-east-1","ControllerInstanceType":"m5.large"}',
        '2024-02-20T06:00:00Z INFO FinalizeWorkerMetadata worker=dw1 instanceType=r5.xlarge spot=false',
        '2024-03-01T04:00:00Z INFO Terminating Worker Instance: {"WorkerID":"dw1"}',
        '2024-03-01T05:00:00Z INFO heartbeat',
      ),
    );
    // After the window, and a file without timestamps (undated/: in no partition).
    put(
      '2024-03-05/i-0a11a11a11a11a11a/xspot.log',
      lines(
        '2024-03-05T00:00:00Z INFO FinalizeWorkerMetadata worker=aw9 instanceType=r5.xlarge spot=false',
        '2024-03-05T01:00:00Z INFO Terminating Worker Instance: {"WorkerID":"aw9"}',
      ),
    );
    put('undated/i-0a11a11a11a11a11a/banner.txt', 'X-Spot\nno timestamps here\n');
  });
  const WINDOW = { start: '2024-03-01', end: '2024-03-02' };
  const workers = (r: CostReport) => r.workers.map((w) => w.id).sort();

  test('default (7 days): the file started inside the lookback counts, the one before it is not read; the same report as -l over the days read', async () => {
    const r = await both(tree, WINDOW);
    const read = only('read-7', (d) => d >= '2024-02-23' && d <= '2024-03-02');
    const local = await both(read, WINDOW);
    expect(figures(r.athena)).toEqual(figures(local.local));
    expect(r.athenaErr).toEqual(local.localErr);
    expect(workers(r.athena)).toContain('cw1');
    expect(workers(r.athena)).not.toContain('dw1');
    expect(r.athena.workers.find((w) => w.id === 'cw1')?.hours).toBe(2);
    // -l reads every file: it counts dw1 (from the window start), so the two differ by exactly that file.
    expect(workers(r.local)).toContain('dw1');
    expect(r.local.summary.realCost).toBeGreaterThan(r.athena.summary.realCost);
    const all = await both(
      only('no-d', (d) => d !== '2024-02-20'),
      WINDOW,
    );
    expect(all.local.summary).toEqual(r.athena.summary);
    // The rows Athena returned are of the days queried only.
    expect(r.served.queries[0].sql).toContain("day >= '2024-02-23' AND day <= '2024-03-02'");
  });

  test('--lookback-days 0: only files started in the window; 10: the older file too, with the totals of -l over everything', async () => {
    const zero = await both(tree, { ...WINDOW, lookbackDays: '0' });
    const inWindow = await both(
      only('read-0', (d) => d >= '2024-03-01' && d <= '2024-03-02'),
      WINDOW,
    );
    expect(figures(zero.athena)).toEqual(figures(inWindow.local));
    expect(workers(zero.athena)).not.toContain('cw1');

    const ten = await both(tree, { ...WINDOW, lookbackDays: '10' });
    expect(workers(ten.athena)).toEqual(expect.arrayContaining(['cw1', 'dw1']));
    // -l also sees the file after the window and the undated one (counted as found, not read).
    expect(ten.athena.summary).toEqual(ten.local.summary);
    expect(ten.local.files.found - ten.athena.files.found).toBe(2);
  });
});

describe('through the command line', () => {
  test('cost --athena --config FILE: the config names the table and workgroup; the summary is the local one', async () => {
    const config = join(dir.path, 'site.yaml');
    writeFileSync(config, `${signedYaml(DEFAULT_YAML)}\nlogs:\n  athena: true\n`);
    const served = servingAthena(tableRows(DAYS, 'log-bucket', 'xspot'), SOURCE, { runningPolls: 0 });
    try {
      const out = join(dir.path, 'cli-out');
      const args = ['-s', '2024-03-01', '-e', '2024-03-02', '--pricing', PRICING_DIR, '-o', 'json', '--out-dir', out];
      const athena = await runCli(['cost', '--athena', '--config', config, ...args]);
      const local = await runCli(['cost', '-l', DAYS, ...args]);
      expect(athena.code).toBe(0);
      expect(served.queries.map((q) => [q.workgroup, q.database])).toEqual([['xspot-cost', 'xspot_xspot_logs']]);
      expect(athena.stdout.slice(1)).toEqual(local.stdout);
      expect(athena.stdout[2]).toBe('real cost $9.28, on-demand equivalent $14.50, savings $5.22 (35.98%)');
    } finally {
      served.mock.restore();
    }
  });
});
