/**
 * Intervals whose start or end is not in the logs read, and a spot worker with no price.
 * Hand-computed with the fixture prices: m5.large 0.096, r5.xlarge 0.252, r5b.xlarge 0.298.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { iso } from '../../lib/cost/compute';
import type { CostReport } from '../../lib/cost/report';
import { runCost } from '../../lib/cost/run';
import { defaultThreads } from '../../lib/cost/scan-pool';
import { PRICING_DIR, tempDir } from './helpers';

const dir = tempDir();
afterAll(() => dir.cleanup());

const LOG = [
  '2024-03-01T00:00:00Z INFO [main] log file opened (older file rotated away)',
  '2024-03-01T00:00:01Z INFO Scheduler configurations: {"DefaultRegion":"us-east-1","ControllerInstanceType":"m5.large"}',
  // e1 and k1 started before this file: no FinalizeWorkerMetadata, no "started".
  '2024-03-01T02:00:00Z INFO ContainerStateChange: {"ContainerID":"k1","State":"stopped","WorkerID":"e1"}',
  '2024-03-01T03:00:00Z INFO Terminating Worker Instance: {"WorkerID":"e1","InstanceType":"r5.xlarge","Spot":true,"Price":0.1}',
  // e2 and k2 are still running when the file ends.
  '2024-03-01T04:00:00Z INFO FinalizeWorkerMetadata worker=e2 instanceType=r5.xlarge spot=false',
  '2024-03-01T05:00:00Z INFO ContainerStateChange: {"ContainerID":"k2","State":"started","WorkerID":"e2","JobID":"j2","Cpu":8}',
  // A spot worker whose price was not logged: costed at on-demand, with a warning.
  '2024-03-01T06:00:00Z INFO FinalizeWorkerMetadata worker=e3 instanceType=r5b.xlarge spot=true',
  '2024-03-01T07:00:00Z INFO Terminating Worker Instance: {"WorkerID":"e3"}',
  '2024-03-01T10:00:00Z INFO heartbeat',
  '',
].join('\n');

let r: CostReport;
let warnings: string[];
beforeAll(async () => {
  // Top-level files: the controller is named after the directory.
  const logs = join(dir.path, 'xspot');
  mkdirSync(logs);
  writeFileSync(join(logs, 'xspot.log.1'), LOG);
  warnings = [];
  ({ report: r } = await runCost(
    { logs, start: '2024-03-01', end: '2024-03-01', pricing: PRICING_DIR, output: 'json', outDir: dir.path },
    { out: () => {}, err: (l) => warnings.push(l) },
  ));
});

test('a worker with no FinalizeWorkerMetadata is billed from the first line read', () => {
  const e1 = r.workers.find((w) => w.id === 'e1')!;
  expect([e1.start, e1.end]).toEqual(['2024-03-01T00:00:00.000Z', '2024-03-01T03:00:00.000Z']);
  expect(e1.realCost).toBeCloseTo(3 * 0.1, 6); // 0.3
  expect(e1.onDemandCost).toBeCloseTo(3 * 0.252, 6); // 0.756
});

test('a container with no "started" ran since the first line read; vCPUs default to 1', () => {
  const k1 = r.containers.find((c) => c.id === 'k1')!;
  expect([k1.start, k1.end, k1.cpu]).toEqual(['2024-03-01T00:00:00.000Z', '2024-03-01T02:00:00.000Z', 1]);
  expect(k1.realCost).toBeCloseTo(2 * 0.1, 6);
});

test('what is still running when the logs end runs to their last line', () => {
  const e2 = r.workers.find((w) => w.id === 'e2')!;
  expect(e2.end).toBe('2024-03-01T10:00:00.000Z');
  expect(e2.realCost).toBeCloseTo(6 * 0.252, 6); // on-demand: 1.512
  const k2 = r.containers.find((c) => c.id === 'k2')!;
  expect([k2.hours, k2.jobId]).toEqual([5, 'j2']);
  expect(k2.realCost).toBeCloseTo(5 * 0.252, 6); // 1.26
});

test('a spot worker with no price is costed at on-demand and named in a warning', () => {
  const e3 = r.workers.find((w) => w.id === 'e3')!;
  expect([e3.spot, e3.rate, e3.realCost, e3.savings]).toEqual([true, 0.298, 0.298, 0]);
  expect(warnings).toEqual(['warning: no spot price for: e3; costed at the on-demand rate']);
});

test('totals', () => {
  expect(r.controllers.map((c) => [c.name, c.hours])).toEqual([['xspot', 10]]);
  expect(r.summary.realCost).toBeCloseTo(10 * 0.096 + 0.3 + 1.512 + 0.298, 6); // 3.07
  expect(r.summary.onDemandCost).toBeCloseTo(0.756 + 1.512 + 0.298, 6); // 2.566
});

test('iso formats like Date.prototype.toISOString', () => {
  for (const t of [
    0,
    1,
    999,
    86_399_999,
    86_400_000,
    Date.parse('2024-02-29T23:59:59.999Z'),
    Date.parse('1969-12-31T23:00:00.5Z'),
    -1,
    1.5,
  ]) {
    expect(iso(t)).toBe(new Date(t).toISOString());
  }
  for (let t = Date.parse('2024-03-01T00:00:00Z'); t < Date.parse('2024-03-03T00:00:00Z'); t += 7_777_777) {
    expect(iso(t)).toBe(new Date(t).toISOString());
  }
});

test('default threads: one per idle core, and one on two cores or fewer', () => {
  expect(defaultThreads(2, 0)).toBe(1);
  expect(defaultThreads(1, 0)).toBe(1);
  expect(defaultThreads(4, 0)).toBe(4);
  expect(defaultThreads(8, 0.3)).toBe(8);
  expect(defaultThreads(8, 3.7)).toBe(5);
  expect(defaultThreads(2, 2.5)).toBe(1);
  expect(defaultThreads(64, 0)).toBe(8);
});
