/**
 * Totals of the fixture logs against figures worked out by hand (test/fixtures/cost/README.md).
 *
 * Prices (test/fixtures/cost/pricing/us-east-1.json), USD/hour on-demand:
 *   m5.large 0.096, m5.xlarge 0.192, r5.xlarge 0.252, r5b.xlarge 0.298, r5.4xlarge 1.008
 *
 * Controller A (i-0a11...) m5.xlarge, logs 2024-03-01 00:00 -> 12:00 (two rotated files)
 *   1a1a1a1a spot r5.xlarge @0.0756   01:00 -> 05:00  4 h
 *   2b2b2b2b on-demand r5.xlarge      02:00 -> 04:00  2 h
 *   3c3c3c3c spot r5b.xlarge @0.09    04:30 -> 07:30  3 h
 *   C1 (4 vCPU, job 1001) 1a1a1a1a 01:00 -> 04:30, migrated to 3c3c3c3c 04:30 -> 06:30
 *   C2 (2 vCPU, job 1001) 1a1a1a1a 02:00 -> 04:00
 *   C3 (4 vCPU, job 1002) 2b2b2b2b 02:00 -> 04:00
 * Controller B (i-0b22...) m5.large, logs 2024-03-01 10:00 -> 03-02 10:00 (written at +01:00)
 *   5eed5eed spot, no instance type   12:00 -> 13:00  (unpriced: warning)
 *   4d4d4d4d spot r5.4xlarge @0.30    03-01 20:00 -> 03-02 08:00  12 h
 *   C4 (16 vCPU, job 2001) 4d4d4d4d 20:00 -> 08:00
 */

import type { CostReport } from '../../lib/cost/report';
import { runCost } from '../../lib/cost/run';
import { C1, C2, C3, C4, LOGS, PRICING_DIR, tempDir } from './helpers';

const out = tempDir();
afterAll(() => out.cleanup());

async function report(extra: Record<string, string> = {}): Promise<{ report: CostReport; stderr: string[] }> {
  const stderr: string[] = [];
  const res = await runCost(
    {
      logs: LOGS,
      start: '2024-03-01',
      end: '2024-03-02',
      pricing: PRICING_DIR,
      output: 'json',
      outDir: out.path,
      ...extra,
    },
    { out: () => {}, err: (l) => stderr.push(l), now: () => Date.parse('2024-04-15T12:00:00Z') },
  );
  return { report: res.report, stderr };
}

// Hand-computed building blocks.
const ctrlA = 12 * 0.192; // 2.304
const ctrlB = 24 * 0.096; // 2.304
const w1 = { real: 4 * 0.0756, od: 4 * 0.252 }; // 0.3024 / 1.008
const w2 = { real: 2 * 0.252, od: 2 * 0.252 }; // 0.504 / 0.504
const w3 = { real: 3 * 0.09, od: 3 * 0.298 }; // 0.27 / 0.894
const w4 = { real: 12 * 0.3, od: 12 * 1.008 }; // 3.6 / 12.096

describe('GIVEN the fixture logs, 2024-03-01 to 2024-03-02, no discount', () => {
  let r: CostReport;
  let stderr: string[];
  beforeAll(async () => {
    ({ report: r, stderr } = await report());
  });

  test('THEN the totals are the hand-computed ones', () => {
    const real = ctrlA + ctrlB + w1.real + w2.real + w3.real + w4.real; // 9.2844
    const od = w1.od + w2.od + w3.od + w4.od; // 14.502
    expect(r.summary.realCost).toBeCloseTo(9.2844, 6);
    expect(r.summary.realCost).toBeCloseTo(real, 6);
    expect(r.summary.onDemandCost).toBeCloseTo(14.502, 6);
    expect(r.summary.onDemandCost).toBeCloseTo(od, 6);
    expect(r.summary.savings).toBeCloseTo(14.502 - 9.2844, 6); // 5.2176
    expect(r.summary.savingsPercent).toBe(35.98); // 5.2176 / 14.502 = 0.35978
    expect(r.summary.controllerCost).toBeCloseTo(4.608, 6);
    expect(r.summary.controllerHours).toBe(36);
    expect(r.summary.workerHours).toBe(4 + 2 + 3 + 1 + 12);
    expect(r.summary.spotWorkerHours).toBe(4 + 3 + 1 + 12);
    expect(r.summary.onDemandWorkerHours).toBe(2);
    expect(r.summary).toMatchObject({
      controllers: 2,
      workers: 5,
      spotWorkers: 4,
      onDemandWorkers: 1,
      containers: 4,
      jobs: 3,
    });
  });

  test('THEN each controller carries its own instance and its workers', () => {
    const [a, b] = r.controllers;
    expect(a).toMatchObject({ name: 'i-0a11a11a11a11a11a', region: 'us-east-1', instanceType: 'm5.xlarge', hours: 12 });
    expect(a.controllerCost).toBeCloseTo(ctrlA, 6);
    expect(a.realCost).toBeCloseTo(ctrlA + w1.real + w2.real + w3.real, 6); // 3.3804
    expect(a.onDemandCost).toBeCloseTo(w1.od + w2.od + w3.od, 6); // 2.406
    expect(a.savings).toBeCloseTo(2.406 - 3.3804, 6); // small controller: the controller costs more than spot saves
    expect(b).toMatchObject({ name: 'i-0b22b22b22b22b22b', instanceType: 'm5.large', hours: 24, workers: 2 });
    expect(b.start).toBe('2024-03-01T10:00:00.000Z'); // 11:00+01:00
    expect(b.realCost).toBeCloseTo(ctrlB + w4.real, 6); // 5.904
    expect(b.savings).toBeCloseTo(12.096 - 5.904, 6);
  });

  test('THEN workers are costed at the spot price paid or on-demand, idle time stays with the worker', () => {
    const byId = Object.fromEntries(r.workers.map((w) => [w.id, w]));
    expect(byId['1a1a1a1a']).toMatchObject({
      spot: true,
      instanceType: 'r5.xlarge',
      rate: 0.0756,
      onDemandRate: 0.252,
      hours: 4,
    });
    expect(byId['1a1a1a1a'].realCost).toBeCloseTo(w1.real, 6);
    expect(byId['1a1a1a1a'].idleCost).toBeCloseTo(0.5 * 0.0756, 6); // 04:30 -> 05:00, after C1 left
    expect(byId['2b2b2b2b']).toMatchObject({
      spot: false,
      rate: 0.252,
      realCost: 0.504,
      onDemandCost: 0.504,
      savings: 0,
    });
    expect(byId['3c3c3c3c'].idleCost).toBeCloseTo(1 * 0.09, 6); // 06:30 -> 07:30
    expect(byId['4d4d4d4d'].onDemandCost).toBeCloseTo(w4.od, 6);
    expect(byId['5eed5eed']).toMatchObject({ instanceType: null, realCost: 0, hours: 1 });
    expect(r.summary.idleWorkerCost).toBeCloseTo(0.0378 + 0.09, 6);
  });

  test('THEN containers share a worker by vCPUs and follow migrations', () => {
    const byId = Object.fromEntries(r.containers.map((c) => [c.id, c]));
    // C1 on 1a1a1a1a: 01-02 alone, 02-04 with C2 (4 of 6 vCPUs), 04-04:30 alone; then 3c3c3c3c 04:30-06:30 alone.
    const c1Real = 1 * 0.0756 + 2 * 0.0756 * (4 / 6) + 0.5 * 0.0756 + 2 * 0.09; // 0.3942
    const c1Od = 1 * 0.252 + 2 * 0.252 * (4 / 6) + 0.5 * 0.252 + 2 * 0.298; // 1.31
    expect(byId[C1].realCost).toBeCloseTo(c1Real, 6);
    expect(byId[C1].realCost).toBeCloseTo(0.3942, 6);
    expect(byId[C1].onDemandCost).toBeCloseTo(c1Od, 6);
    expect(byId[C1]).toMatchObject({
      jobId: '1001',
      cpu: 4,
      hours: 5.5,
      workers: ['1a1a1a1a', '3c3c3c3c'],
      migrations: 1,
    });
    expect(byId[C1].segments).toBeUndefined(); // per-worker detail only with -c/-f/-j
    expect(byId[C2].realCost).toBeCloseTo(2 * 0.0756 * (2 / 6), 6); // 0.0504
    expect(byId[C3].realCost).toBeCloseTo(2 * 0.252, 6);
    expect(byId[C4].onDemandCost).toBeCloseTo(12 * 1.008, 6);
    // What the containers used plus the idle time is what the workers cost.
    expect(r.summary.containerCost + r.summary.idleWorkerCost).toBeCloseTo(r.summary.workerCost, 6);
  });

  test('THEN jobs add up their containers', () => {
    expect(r.jobs.map((j) => j.id)).toEqual(['1001', '1002', '2001']);
    expect(r.jobs[0].containers).toEqual([C1, C2]);
    expect(r.jobs[0].realCost).toBeCloseTo(0.3942 + 0.0504, 6); // 0.4446
    expect(r.jobs[0].onDemandCost).toBeCloseTo(1.31 + 0.168, 6); // 1.478
    expect(r.jobs[2].savings).toBeCloseTo(12.096 - 3.6, 6); // 8.496
  });

  test('THEN cost per day splits intervals at midnight UTC', () => {
    // 03-01: A 12 h, B 14 h (10-24), workers 1-3 whole, 4d4d4d4d 4 h (20-24).
    const day1Real = ctrlA + 14 * 0.096 + w1.real + w2.real + w3.real + 4 * 0.3; // 5.9244
    const day1Od = w1.od + w2.od + w3.od + 4 * 1.008; // 6.438
    expect(r.daily.map((d) => d.date)).toEqual(['2024-03-01', '2024-03-02']);
    expect(r.daily[0].realCost).toBeCloseTo(day1Real, 6);
    expect(r.daily[0].onDemandCost).toBeCloseTo(day1Od, 6);
    expect(r.daily[1].realCost).toBeCloseTo(10 * 0.096 + 8 * 0.3, 6); // 3.36
    expect(r.daily[1].onDemandCost).toBeCloseTo(8 * 1.008, 6); // 8.064
  });

  test('THEN savings by instance type are sorted, the unpriced worker is listed as unknown', () => {
    expect(r.byInstanceType.map((t) => [t.instanceType, t.workers, t.hours])).toEqual([
      ['r5.4xlarge', 1, 12],
      ['r5.xlarge', 2, 6],
      ['r5b.xlarge', 1, 3],
      [null, 1, 1],
    ]);
    expect(r.byInstanceType[1].savings).toBeCloseTo(w1.od + w2.od - w1.real - w2.real, 6); // 0.7056
  });

  test("THEN malformed lines are skipped with the guide's messages", () => {
    expect(r.warnings.count).toBe(2);
    expect(r.warnings.shown[0]).toMatch(
      /^json not matched: 2024-03-01T15:00:00.000\+01:00 ERROR \[worker\] Terminating Worker Instance/,
    );
    expect(r.warnings.shown[1]).toBe('no instance type for: 5eed5eed (controller i-0b22b22b22b22b22b)');
    expect(stderr).toEqual(r.warnings.shown.map((w) => `warning: ${w}`));
    expect(r.files).toEqual({ found: 3, read: 3, outsideWindow: 0, invalid: 0 });
  });
});

describe('GIVEN -d 10', () => {
  test('THEN on-demand rates (controllers, on-demand workers, the equivalent) drop 10%, spot prices do not', async () => {
    const { report: r } = await report({ discount: '10' });
    const real = 0.9 * (ctrlA + ctrlB + w2.real) + w1.real + w3.real + w4.real; // 4.1472 + 0.4536 + 4.1724 = 8.7732
    expect(r.summary.realCost).toBeCloseTo(real, 6);
    expect(r.summary.realCost).toBeCloseTo(8.7732, 6);
    expect(r.summary.onDemandCost).toBeCloseTo(0.9 * 14.502, 6); // 13.0518
    expect(r.summary.savings).toBeCloseTo(13.0518 - 8.7732, 6); // 4.2786
    expect(r.discountPercent).toBe(10);
  });
});

describe('GIVEN a window of 2024-03-02 only', () => {
  test("THEN controller A's files are skipped and what ran across midnight is clipped", async () => {
    const { report: r } = await report({ start: '2024-03-02', end: '2024-03-02' });
    expect(r.files).toEqual({ found: 3, read: 1, outsideWindow: 2, invalid: 0 });
    expect(r.controllers.map((c) => [c.name, c.hours])).toEqual([['i-0b22b22b22b22b22b', 10]]);
    expect(r.summary.realCost).toBeCloseTo(10 * 0.096 + 8 * 0.3, 6); // 3.36
    expect(r.summary.onDemandCost).toBeCloseTo(8 * 1.008, 6); // 8.064
    expect(r.containers.map((c) => [c.id, c.hours, c.realCost])).toEqual([[C4, 8, 2.4]]);
  });

  test('THEN -n 0 on 2024-03-02 is the same window', async () => {
    const stderr: string[] = [];
    const res = await runCost(
      { logs: LOGS, num_days: '0', start: '2020-01-01', pricing: PRICING_DIR, output: 'json', outDir: out.path },
      { out: () => {}, err: (l) => stderr.push(l), now: () => Date.parse('2024-03-02T15:00:00Z') },
    );
    expect(res.report.window).toEqual({
      start: '2024-03-02T00:00:00.000Z',
      end: '2024-03-03T00:00:00.000Z',
      firstDay: '2024-03-02',
      lastDay: '2024-03-02',
    });
    expect(res.report.summary.realCost).toBeCloseTo(3.36, 6);
  });
});

describe('filters', () => {
  test('-c: a unique prefix selects one container; totals are its share', async () => {
    const { report: r } = await report({ container: '3f2a' });
    expect(r.filter).toEqual({ kind: 'container', flag: '-c/--container', value: '3f2a', containers: [C1] });
    expect(r.summary.realCost).toBeCloseTo(0.3942, 6);
    expect(r.summary.onDemandCost).toBeCloseTo(1.31, 6);
    expect(r.summary.savings).toBeCloseTo(1.31 - 0.3942, 6);
    expect(r.containers.map((c) => c.id)).toEqual([C1]);
    expect(r.containers[0].segments?.map((s) => [s.workerId, s.start, s.end])).toEqual([
      ['1a1a1a1a', '2024-03-01T01:00:00.000Z', '2024-03-01T04:30:00.000Z'],
      ['3c3c3c3c', '2024-03-01T04:30:00.000Z', '2024-03-01T06:30:00.000Z'],
    ]);
    expect(r.workers.map((w) => w.id)).toEqual(['1a1a1a1a', '3c3c3c3c']);
    expect(r.controllers.map((c) => c.name)).toEqual(['i-0a11a11a11a11a11a']);
    expect(r.jobs.map((j) => [j.id, j.containers.length])).toEqual([['1001', 1]]);
    expect(r.lifetime).toBeNull();
    // The daily series and instance types follow the selection too.
    expect(r.daily[0].realCost).toBeCloseTo(0.3942, 6);
    expect(r.daily[1].realCost).toBe(0);
    expect(r.byInstanceType.map((t) => [t.instanceType, t.hours])).toEqual([
      ['r5.xlarge', 3.5],
      ['r5b.xlarge', 2],
    ]);
  });

  test("-f: the same container in 'Lifetime' format, one segment per worker it ran on", async () => {
    const { report: r } = await report({ containerLife: C1.slice(0, 12) });
    expect(r.filter?.kind).toBe('containerLife');
    expect(r.summary.realCost).toBeCloseTo(0.3942, 6);
    expect(r.lifetime?.map((s) => [s.workerId, s.instanceType, s.spot, s.hours])).toEqual([
      ['1a1a1a1a', 'r5.xlarge', true, 3.5],
      ['3c3c3c3c', 'r5b.xlarge', true, 2],
    ]);
    expect(r.lifetime?.[0].realCost).toBeCloseTo(0.0756 + 2 * 0.0756 * (4 / 6) + 0.5 * 0.0756, 6); // 0.2142
    expect(r.lifetime?.[1].onDemandCost).toBeCloseTo(2 * 0.298, 6); // 0.596
  });

  test("-j: a job's containers in 'Lifetime' format", async () => {
    const { report: r } = await report({ jobid: '1001' });
    expect(r.filter).toMatchObject({ kind: 'job', value: '1001', containers: [C1, C2] });
    expect(r.summary.realCost).toBeCloseTo(0.4446, 6);
    expect(r.summary.onDemandCost).toBeCloseTo(1.478, 6);
    expect(r.lifetime?.map((s) => [s.containerId.slice(0, 4), s.workerId, s.start.slice(11, 16)])).toEqual([
      ['3f2a', '1a1a1a1a', '01:00'],
      ['3f2b', '1a1a1a1a', '02:00'],
      ['3f2a', '3c3c3c3c', '04:30'],
    ]);
    expect(r.containers.map((c) => c.id)).toEqual([C1, C2]);
    expect(r.workers.map((w) => w.id)).toEqual(['1a1a1a1a', '3c3c3c3c']);
  });
});
