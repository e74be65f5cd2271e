/**
 * Every error of the guide's "Cost Calculation Script Error Reference" that applies: one line,
 * starting with the guide's wording, naming the flag and value; exit code 1; no stack trace.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, LOGS, PRICING_DIR, runCli, tempDir } from './helpers';

const out = tempDir();
afterAll(() => out.cleanup());
const base = [
  'cost',
  '-l',
  LOGS,
  '-s',
  '2024-03-01',
  '-e',
  '2024-03-02',
  '--pricing',
  PRICING_DIR,
  '--out-dir',
  out.path,
  '-o',
  'json',
];

/** Warnings about skipped log lines may come first; the error itself is exactly one line. */
function expectOneLineError(run: { code: number; stderr: string[] }, pattern: RegExp): void {
  expect(run.code).toBe(1);
  const errors = run.stderr.filter((l) => !l.startsWith('warning: '));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  expect(errors[0]).not.toMatch(/\n| {4}at /);
}

describe('usage errors', () => {
  test.each([
    [['cost'], /^error: Entry error: -l: location of log files parameter is mandatory/],
    [
      ['cost', '-l', join(FIXTURES, 'pricing', 'us-east-1.json')],
      /^error: Incorrect entry: --logs must be a directory: -l\/--logs got '.*us-east-1\.json' \(not a directory\)$/,
    ],
    [
      ['cost', '-l', join(FIXTURES, 'nope')],
      /^error: Incorrect entry: --logs must be a directory: -l\/--logs got '.*nope' \(no such file or directory\)$/,
    ],
    [
      ['cost', '-l', 's3://Bad_Bucket/x'],
      /^error: Incorrect entry: --logs must be a directory: -l\/--logs got 's3:\/\/Bad_Bucket\/x'/,
    ],
    [
      ['cost', '-l', LOGS, '-s', '2024-3-1'],
      /^error: Incorrect entry: Start time \(in 2022-03-17 format\): -s\/--start got '2024-3-1' \(a date YYYY-MM-DD\)$/,
    ],
    [
      ['cost', '-l', LOGS, '-s', '2024-02-30'],
      /^error: Incorrect entry: Start time \(in 2022-03-17 format\): -s\/--start got '2024-02-30'/,
    ],
    [
      ['cost', '-l', LOGS, '-e', 'yesterday'],
      /^error: Incorrect entry: End time \(in 2022-03-17 format\): -e\/--end got 'yesterday' \(a date YYYY-MM-DD\)$/,
    ],
    [
      ['cost', '-l', LOGS, '-s', '2024-03-05', '-e', '2024-03-01'],
      /^error: Incorrect entry: Start time \(in 2022-03-17 format\): -s\/--start 2024-03-05 is after -e\/--end 2024-03-01$/,
    ],
    [
      ['cost', '-l', LOGS, '-n', '1.5'],
      /^error: Incorrect Entry: --number of days must be integer only: -n\/--num_days got '1\.5' \(a whole number of days >= 0; 0 = today\)$/,
    ],
    [
      ['cost', '-l', LOGS, '-n', 'ten'],
      /^error: Incorrect Entry: --number of days must be integer only: -n\/--num_days got 'ten'/,
    ],
    [
      ['cost', '-l', LOGS, '-d', '12.5'],
      /^error: Incorrect Entry: --discount must be integer only: -d\/--discount got '12\.5' \(a whole percent off on-demand, 0 to 100\)$/,
    ],
    [
      ['cost', '-l', LOGS, '-d', '150'],
      /^error: Incorrect Entry: --discount must be integer only: -d\/--discount got '150'/,
    ],
    [
      ['cost', '-l', LOGS, '-o', 'pdf'],
      /^error: Incorrect entry: output file must be json, or html, or xlsx: -o\/--output got 'pdf'/,
    ],
    [
      ['cost', '-l', LOGS, '-c', 'ab', '-j', '1'],
      /^error: Incorrect entry: -c\/--container and -j\/--jobid cannot be combined/,
    ],
    [['cost', '-l', LOGS, '--region', 'mars-1'], /^error: Incorrect entry: --region got 'mars-1'/],
    [
      ['cost', '-l', LOGS, '--threads', '0'],
      /^error: Incorrect entry: --threads got '0' \(a whole number from 1 to 8\)$/,
    ],
  ])('%j', async (argv, pattern) => {
    expectOneLineError(await runCli(argv), pattern);
  });

  test('an unknown option is reported by commander with usage help, exit 1', async () => {
    const run = await runCli(['cost', '-x']);
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toMatch(/unknown option '-x'/);
  });
});

describe('container and job ids', () => {
  test.each([
    [
      ['-c', '3f2'],
      /^error: The Container ID entered is not unique\. -c\/--container '3f2' is the start of 2 container ids \(3f2a.*, 3f2b.*\); give more characters$/,
    ],
    [['-f', '3f2'], /^error: The Container ID entered is not unique\. -f\/--containerLife '3f2'/],
    [
      ['-c', 'ffff'],
      /^error: The Container ID entered was not found\. -c\/--container 'ffff' matches none of the 4 container ids in the logs$/,
    ],
    [['-f', 'ffff'], /^error: The Container ID entered was not found\. -f\/--containerLife 'ffff'/],
    [
      ['-j', '9999'],
      /^error: The Job ID entered was not found\. -j\/--jobid '9999' matches none of the 3 job ids in the logs$/,
    ],
  ])('%j', async (extra, pattern) => {
    expectOneLineError(await runCli([...base, ...extra]), pattern);
  });
});

describe('log file errors', () => {
  test('no file has a timestamp in its first and last 5 lines', async () => {
    const run = await runCli([
      'cost',
      '-l',
      join(FIXTURES, 'no-timestamps'),
      '--pricing',
      PRICING_DIR,
      '--out-dir',
      out.path,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toEqual([
      'warning: skipping notes.txt: no timestamp in its first 5 and last 5 lines',
      expect.stringMatching(
        /^error: No valid log files specified: none of the 1 files under .*no-timestamps has a timestamp in its first 5 and last 5 lines$/,
      ),
    ]);
  });

  test('an empty directory', async () => {
    const empty = tempDir();
    try {
      expectOneLineError(
        await runCli(['cost', '-l', empty.path]),
        /^error: No valid log files specified: .* holds no files$/,
      );
    } finally {
      empty.cleanup();
    }
  });

  test('valid files, none in the window', async () => {
    expectOneLineError(
      await runCli(['cost', '-l', LOGS, '-s', '2023-01-01', '-e', '2023-01-31', '--pricing', PRICING_DIR]),
      /^error: No valid log files specified: none of the 3 log files under .* has entries between 2023-01-01 and 2023-01-31 \(they span 2024-03-01 to 2024-03-02; use -s\/-e or -n\)$/,
    );
  });
});

describe('pricing errors', () => {
  test('pricing file not found (checked before the logs are read)', async () => {
    const run = await runCli([...base.slice(0, 7), '--pricing', join(FIXTURES, 'missing.json')]);
    expect(run.stderr).toEqual([expect.stringMatching(/^error: Pricing file not found: .*missing\.json$/)]);
    expect(run.code).toBe(1);
  });

  test('pricing directory without the region file', async () => {
    const dir = tempDir();
    try {
      expectOneLineError(
        await runCli([...base.slice(0, 7), '--pricing', dir.path]),
        /^error: Pricing file not found: .*\/us-east-1\.json$/,
      );
    } finally {
      dir.cleanup();
    }
  });

  test('instance type missing from the pricing file', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'partial.json');
      writeFileSync(
        file,
        JSON.stringify({ 'm5.large': 0.096, 'm5.xlarge': 0.192, 'r5.xlarge': 0.252, 'r5b.xlarge': 0.298 }),
      );
      expectOneLineError(
        await runCli([...base.slice(0, 7), '--pricing', file]),
        /^error: Invalid instance type: r5\.4xlarge \(worker 4d4d4d4d; not in pricing file .*partial\.json\)$/,
      );
    } finally {
      dir.cleanup();
    }
  });

  test('no DefaultRegion in the logs and no --region', async () => {
    const dir = tempDir();
    try {
      writeFileSync(
        join(dir.path, 'xspot.log.1'),
        [
          '2024-03-01T00:00:00Z INFO start',
          '2024-03-01T00:00:01Z INFO Scheduler configurations: {"SchedulerEnabled":true,"ControllerInstanceType":"m5.large"}',
          '2024-03-01T02:00:00Z INFO stop',
          '',
        ].join('\n'),
      );
      const args = [
        'cost',
        '-l',
        dir.path,
        '-s',
        '2024-03-01',
        '-e',
        '2024-03-01',
        '--pricing',
        PRICING_DIR,
        '--out-dir',
        out.path,
      ];
      expectOneLineError(
        await runCli(args),
        /^error: Pricing file not found: .*pricing\/\.json \(no DefaultRegion in the Scheduler configurations line for controller xspot-cost-\w+; pass --region\)$/,
      );
      // --region fills in: 2 h of m5.large.
      const ok = await runCli([...args, '--region', 'us-east-1', '-o', 'json']);
      expect(ok.code).toBe(0);
      expect(ok.stdout[1]).toBe('real cost $0.19, on-demand equivalent $0.00, savings -$0.19 (0%)');
    } finally {
      dir.cleanup();
    }
  });
});

const CLI = join(__dirname, '..', '..', 'dist', 'bin', 'cli.js');
(existsSync(CLI) ? describe : describe.skip)('the compiled CLI (npm run build first)', () => {
  test('prints one line, no stack trace, exit 1', () => {
    const res = spawnSync(process.execPath, [CLI, 'cost', '-l', LOGS, '-d', 'lots'], { encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(
      "error: Incorrect Entry: --discount must be integer only: -d/--discount got 'lots' (a whole percent off on-demand, 0 to 100)\n",
    );
    expect(res.stdout).toBe('');
  });

  test('scanning on worker threads gives the same report as the calling thread', async () => {
    const dir = tempDir();
    try {
      const args = ['cost', '-l', LOGS, '-s', '2024-03-01', '-e', '2024-03-02', '--pricing', PRICING_DIR, '-o', 'json'];
      for (const threads of ['1', '3']) {
        const res = spawnSync(
          process.execPath,
          [CLI, ...args, '--threads', threads, '--out-dir', join(dir.path, threads)],
          {
            encoding: 'utf8',
          },
        );
        expect(res.status).toBe(0);
      }
      const read = (t: string) => {
        const r = JSON.parse(readFileSync(join(dir.path, t, 'xspot-cost-2024-03-01_2024-03-02.json'), 'utf8'));
        return { ...r, generatedAt: null };
      };
      expect(read('3')).toEqual(read('1'));
      expect(read('3').summary.realCost).toBeCloseTo(9.2844, 6);
      expect(read('3').warnings.count).toBe(2);
    } finally {
      dir.cleanup();
    }
  });
});
