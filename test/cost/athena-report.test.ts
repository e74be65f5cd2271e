/**
 * `cost --athena` gives the report `cost -l` gives, over the same logs: the generated SQL really
 * runs (athena-engine.ts) over the logs laid out as in the log bucket, a mocked Athena client
 * serves its result, and the two reports are compared field by field.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AthenaCostArgs, runCostAthena } from '../../lib/cost/athena-run';
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

/** The parts of a report that come from the logs (not when or from where it was made). */
function figures(r: CostReport) {
  const { generatedAt: _g, logs: _l, ...rest } = r;
  return rest;
}

async function both(logs: string, args: CostArgs, opts: { pageRows?: number } = {}) {
  const out = join(dir.path, `out-${Math.random().toString(36).slice(2)}`);
  const localErr: string[] = [];
  const localOut: string[] = [];
  const local = await runCost(
    { ...args, logs, pricing: PRICING_DIR, output: 'json', outDir: out },
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
  test('the same report, field by field: totals, days, instance types, controllers, workers, containers, jobs, warnings', async () => {
    const r = await both(LOGS, { start: '2024-03-01', end: '2024-03-02' }, { pageRows: 7 });
    expect(figures(r.athena)).toEqual(figures(r.local));
    // The scenario's hand-worked totals (test/fixtures/cost/README.md), so equality is not of two empty reports.
    expect(r.athena.summary.realCost).toBeCloseTo(9.2844, 6);
    expect(r.athena.summary.onDemandCost).toBeCloseTo(14.502, 6);
    expect(r.athena.summary.containers).toBe(4);
    expect(r.athenaErr).toEqual(r.localErr);
    expect(r.athena.logs).toBe('athena://xspot-cost/xspot_xspot_logs.controller_logs');
  });

  test('the query goes to the deployment workgroup and database; results are read page by page', async () => {
    const r = await both(LOGS, { start: '2024-03-01', end: '2024-03-02' }, { pageRows: 7 });
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
    const a = await both(LOGS, { start: '2024-03-02', end: '2024-03-02', discount: '20', jobid: '2001' });
    expect(a.athena.files).toEqual({ found: 3, read: 1, outsideWindow: 2, invalid: 0 });
    expect(figures(a.athena)).toEqual(figures(a.local));
    const b = await both(LOGS, { start: '2024-03-01', end: '2024-03-01', containerLife: C1.slice(0, 6) });
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
      'i-0e0e0e0e0e0e0e0e0/xspot.log',
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
      'i-0f0f0f0f0f0f0f0f0/a/xspot.log.1',
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
    put('i-0f0f0f0f0f0f0f0f0/notes.txt', 'no timestamps in this file\nnor here\n');
    put(
      '.hidden/xspot.log',
      lines('2024-03-01T00:00:00Z INFO FinalizeWorkerMetadata worker=h1 instanceType=r5.xlarge'),
    );
    put(
      'i-0a0a0a0a0a0a0a0a0/old.log',
      lines('2024-02-01T00:00:00Z INFO Scheduler configurations: {"DefaultRegion":"us-east-1"}'),
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
      'skipping s3://log-bucket/xspot/i-0f0f0f0f0f0f0f0f0/notes.txt: no timestamp in any line',
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

describe('through the command line', () => {
  test('cost --athena --config FILE: the config names the table and workgroup; the summary is the local one', async () => {
    const config = join(dir.path, 'site.yaml');
    writeFileSync(config, `${signedYaml(DEFAULT_YAML)}\nlogs:\n  athena: true\n`);
    const served = servingAthena(tableRows(LOGS, 'log-bucket', 'xspot'), SOURCE, { runningPolls: 0 });
    try {
      const out = join(dir.path, 'cli-out');
      const args = ['-s', '2024-03-01', '-e', '2024-03-02', '--pricing', PRICING_DIR, '-o', 'json', '--out-dir', out];
      const athena = await runCli(['cost', '--athena', '--config', config, ...args]);
      const local = await runCli(['cost', '-l', LOGS, ...args]);
      expect(athena.code).toBe(0);
      expect(served.queries.map((q) => [q.workgroup, q.database])).toEqual([['xspot-cost', 'xspot_xspot_logs']]);
      expect(athena.stdout.slice(1)).toEqual(local.stdout);
      expect(athena.stdout[2]).toBe('real cost $9.28, on-demand equivalent $14.50, savings $5.22 (35.98%)');
    } finally {
      served.mock.restore();
    }
  });
});
