/**
 * The JSON report of a dense generated log set (dense-logs.ts: ~180 workers, ~450 containers,
 * migrations, open ends, malformed lines) against golden files recorded from the report as it was
 * built before the scan started aggregating per container (every event held, then sorted). Any
 * change to how the report is computed must leave these bytes alone.
 *
 * To re-record after a deliberate change to the report: COST_GOLDEN_UPDATE=1 npx jest test/cost/dense-golden
 * (and say why in the commit).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CostArgs } from '../../lib/cost/options';
import type { CostReport } from '../../lib/cost/report';
import { runCost } from '../../lib/cost/run';
import { writeDenseLogs } from './dense-logs';
import { tempDir } from './helpers';

const GOLDEN = join(__dirname, 'golden');
const UPDATE = process.env.COST_GOLDEN_UPDATE === '1';
const tmp = tempDir('xspot-cost-dense-');
let logs: string;
let pricing: string;

beforeAll(() => {
  logs = writeDenseLogs(tmp.path);
  pricing = join(tmp.path, 'pricing.json');
});
afterAll(() => tmp.cleanup());

/** Runs the report; returns the JSON file's text with the temporary logs path replaced, and the report. */
async function reportJson(name: string, extra: Partial<CostArgs>): Promise<{ text: string; report: CostReport }> {
  const outDir = join(tmp.path, name);
  const res = await runCost(
    { logs, pricing, region: 'us-east-1', output: 'json', outDir, ...extra },
    { out: () => {}, err: () => {}, now: () => Date.parse('2024-04-15T12:00:00Z') },
  );
  const text = readFileSync(res.written[0], 'utf8').split(logs).join('<logs>');
  return { text, report: res.report };
}

function expectGolden(name: string, text: string): void {
  const file = join(GOLDEN, `${name}.golden`);
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`no golden file ${file}; record it with COST_GOLDEN_UPDATE=1`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
  }
  const want = readFileSync(file, 'utf8');
  if (text !== want) {
    // Name the first differing line rather than dumping two large files.
    const a = text.split('\n');
    const b = want.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    expect({ line: i + 1, got: a[i] }).toEqual({ line: i + 1, got: b[i] });
  }
  expect(text).toBe(want);
}

describe('GIVEN a dense generated log set', () => {
  let full: CostReport;

  test('THEN the whole report (2024-03-01 .. 03-05) is the recorded one, byte for byte', async () => {
    const r = await reportJson('full', { start: '2024-03-01', end: '2024-03-05' });
    full = r.report;
    // The set is as dense as meant, so the golden file exercises sharing and migrations.
    expect(full.summary.containers).toBeGreaterThan(300);
    expect(full.containers.filter((c) => c.migrations > 0).length).toBeGreaterThan(20);
    expect(full.warnings.count).toBeGreaterThan(3);
    expectGolden('dense-full', r.text);
  });

  test('THEN a window cutting through it (2024-03-02 .. 03-03) is the recorded one', async () => {
    const r = await reportJson('clipped', { start: '2024-03-02', end: '2024-03-03' });
    expectGolden('dense-clipped', r.text);
  });

  test('THEN -j on the job with most containers, and -f on a migrated container, are the recorded ones', async () => {
    const job = [...full.jobs].sort((a, b) => b.containers.length - a.containers.length || (a.id < b.id ? -1 : 1))[0];
    expect(job.containers.length).toBeGreaterThan(2);
    const j = await reportJson('job', { start: '2024-03-01', end: '2024-03-05', jobid: job.id });
    expectGolden('dense-job', j.text);
    const moved = full.containers.find((c) => c.migrations > 0)!;
    const f = await reportJson('life', {
      start: '2024-03-01',
      end: '2024-03-05',
      containerLife: moved.id.slice(0, 12),
    });
    expectGolden('dense-life', f.text);
  });
});
