import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonFile } from '../../lib/cost/json-writer';
import { tempDir } from './helpers';

const dir = tempDir();
afterAll(() => dir.cleanup());

test.each([
  [
    'a report-like object',
    {
      a: 1,
      rows: [
        { x: 'é\n"q"', y: [1, 2, { z: null }] },
        { x: '', y: [] },
      ],
      empty: [],
      obj: {},
      s: 'x',
      u: undefined,
    },
  ],
  ['nested deeper than two levels', { a: { b: { c: { d: [1, { e: 2 }] } } }, list: [[1, [2, [3]]], null, 'x'] }],
  ['a bare array', [1, 'two', { three: 3 }, [], {}]],
  ['a scalar', 42],
  [
    'many rows (crosses the 1 MiB flush)',
    { rows: Array.from({ length: 20000 }, (_, i) => ({ id: `c${i}`, cost: i / 7, tags: ['a', 'b'] })) },
  ],
])('%s is written exactly as JSON.stringify(value, null, 2)', (_name, value) => {
  const path = join(dir.path, 'out.json');
  writeJsonFile(path, value);
  expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(value, null, 2)}\n`);
});
