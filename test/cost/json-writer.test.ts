import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonFile } from '../../lib/cost/json-writer';
import { tempDir } from './helpers';

const dir = tempDir();
afterAll(() => dir.cleanup());

function roundTrip(value: unknown): string {
  const path = join(dir.path, 'out.json');
  writeJsonFile(path, value);
  const text = readFileSync(path, 'utf8');
  expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
  return text;
}

test('top-level members are pretty-printed; each row of a top-level array is one line', () => {
  const text = roundTrip({
    tool: 'x',
    summary: { a: 1, b: { c: [1, 2] } },
    rows: [{ id: 'r1', nested: [{ x: 'é\n"q"' }] }, { id: 'r2', nested: [] }, null],
    empty: [],
    none: null,
    skipped: undefined,
  });
  expect(text).toBe(
    [
      '{',
      '  "tool": "x",',
      '  "summary": {',
      '    "a": 1,',
      '    "b": {',
      '      "c": [',
      '        1,',
      '        2',
      '      ]',
      '    }',
      '  },',
      '  "rows": [',
      '    {"id":"r1","nested":[{"x":"é\\n\\"q\\""}]},',
      '    {"id":"r2","nested":[]},',
      '    null',
      '  ],',
      '  "empty": [],',
      '  "none": null',
      '}',
      '',
    ].join('\n'),
  );
});

test.each([
  ['a bare array', [1, 'two', { three: 3 }]],
  ['a scalar', 42],
  ['an empty object', {}],
  [
    'many rows (crosses the 1 MiB flush)',
    { rows: Array.from({ length: 20000 }, (_, i) => ({ id: `c${i}`, cost: i / 7 })) },
  ],
])('%s round-trips', (_name, value) => {
  roundTrip(value);
});
