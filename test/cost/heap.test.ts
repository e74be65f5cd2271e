import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// Allocates many objects that survive (as a cost run does), then prints the young generation's
// size. Run in a fresh node (on the built dist/, as the CLI runs) so the heap starts as the CLI's does.
const SCRIPT = (tune: boolean) => `
  ${tune ? `require(${JSON.stringify(join(__dirname, '../../dist/lib/cost/heap.js'))}).keepYoungGenerationSmall();` : ''}
  const kept = [];
  for (let i = 0; i < 400000; i++) kept.push({ id: 'c' + i, start: i, end: i + 1, cpu: i % 4 });
  const ns = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  console.log(ns.space_size, kept.length);
`;

function newSpaceBytes(tune: boolean): number {
  const res = spawnSync(process.execPath, ['-e', SCRIPT(tune)], {
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(res.stderr);
  return Number(res.stdout.trim().split(' ')[0]);
}

describe('keepYoungGenerationSmall', () => {
  test('keeps the young generation at its initial size while survivors pile up (V8 default: it grows)', () => {
    const MiB = 1024 * 1024;
    const untuned = newSpaceBytes(false);
    const tuned = newSpaceBytes(true);
    // The control shows the mechanism: without the setting the new space grows well past 2 MiB.
    expect(untuned).toBeGreaterThan(4 * MiB);
    expect(tuned).toBeLessThanOrEqual(2 * MiB);
  });
});
