/**
 * bench/cost-bench.mjs keeps reporting what its goal is judged on: one ratio (cost/grep
 * throughput) and one peak RSS per density it generates. Run on a tiny log set; nothing here is
 * timed, only the output's shape and that the figures are numbers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const BENCH = join(ROOT, 'bench', 'cost-bench.mjs');
const DENSITY_LINE =
  /^density (\S+) \((\d+) containers\/GB; (\d+) MB, (\d+) containers\): ratio cost\/grep (\d+\.\d\d) \(goal >= 0\.33\) (ok|MISSED); peak RSS (\d+) MB \(goal < 200 MB\) (ok|MISSED), \d+ MB on \d+ MB; ratio per run (\d+\.\d\d)-(\d+\.\d\d)$/;

function bench(env: Record<string, string>) {
  if (!existsSync(join(ROOT, 'dist', 'bin', 'cli.js'))) {
    spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  }
  const r = spawnSync(process.execPath, [BENCH], {
    cwd: ROOT,
    env: { ...process.env, COST_BENCH_MB: '1', COST_BENCH_RUNS: '1', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('density '));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines };
}

describe('bench/cost-bench.mjs on a 1 MB log set', () => {
  test('THEN it reports a ratio, a peak RSS and the spread of the runs for each of sparse, medium and dense', () => {
    const r = bench({ COST_BENCH_RUNS: '2' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(3);
    const parsed = r.lines.map((l) => {
      const m = DENSITY_LINE.exec(l);
      expect(m).not.toBeNull();
      return {
        name: m![1],
        perGb: Number(m![2]),
        containers: Number(m![4]),
        ratio: Number(m![5]),
        rss: Number(m![7]),
        lowest: Number(m![9]),
        highest: Number(m![10]),
      };
    });
    expect(parsed.map((p) => [p.name, p.perGb])).toEqual([
      ['sparse', 100],
      ['medium', 1000],
      ['dense', 10000],
    ]);
    for (const p of parsed) {
      expect(p.containers).toBeGreaterThan(0);
      expect(p.ratio).toBeGreaterThan(0);
      // A node process holds at least its heap; 0 would mean the RSS was not measured.
      expect(p.rss).toBeGreaterThan(10);
      expect(p.lowest).toBeGreaterThan(0);
      expect(p.highest).toBeGreaterThanOrEqual(p.lowest);
    }
  });

  test('THEN COST_BENCH_DENSITIES picks the densities, by name or containers per GB', () => {
    const r = bench({ COST_BENCH_DENSITIES: 'dense,2500' });
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => DENSITY_LINE.exec(l)?.slice(1, 3))).toEqual([
      ['dense', '10000'],
      ['2500', '2500'],
    ]);
  });

  test('THEN an unknown density is refused in one line naming the variable and the value', () => {
    const r = bench({ COST_BENCH_DENSITIES: 'sparse,thick' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      "cost-bench: COST_BENCH_DENSITIES: 'thick' is neither sparse, medium, dense nor a positive number of containers per GB",
    ]);
    expect(r.lines).toEqual([]);
  });
});
