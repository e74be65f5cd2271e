/**
 * The wrappers' diagnostics lines against the guide's own sample outputs (fixtures copied from
 * the guide: test/fixtures/guide/sub_wrapper-output-*), for the guide's own test submissions of
 * each scheduler, on a host (controller_ip None). The original submit command is a stand-in
 * that prints nothing, so every line compared is the wrapper's. The ssh sample is compared in
 * submit-slurm.test.ts, where the forward really runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SchedulerKind } from '../../lib/scheduler/types';
import { TEST_SETTINGS } from './cases';
import { renderTo, run, tempDir } from './helpers';

const GUIDE = path.join(__dirname, '..', 'fixtures', 'guide');
/** The lines of a sample output that the guide's sub_wrapper.py prints (the rest is the scheduler's). */
const WRAPPER_LINE = /^(controller_ip = |NO stdin|\*\*\* BEGIN |\*\*\* {2}END {2})/;
const wrapperLines = (text: string) => text.split('\n').filter((l) => WRAPPER_LINE.test(l));

let root = '';
beforeAll(() => {
  root = tempDir('xspot-diag-');
  const real = path.join(root, 'real-submit');
  fs.writeFileSync(real, '#!/bin/sh\ncat >/dev/null\n', { mode: 0o755 });
  for (const kind of ['slurm', 'gridengine', 'lsf'] as const) {
    renderTo(path.join(root, kind), { ...TEST_SETTINGS, type: kind, realSubmitCommand: real }, [kind]);
  }
  fs.writeFileSync(
    path.join(root, 'simple.sh'),
    '#!/bin/bash\n#SBATCH -o %j.out\n#SBATCH -p xspot\n\nfor i in {0..99}; do\n    echo $i\ndone\n',
  );
});
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const WRAPPER: Record<SchedulerKind, string> = { slurm: 'sbatch', gridengine: 'qsub', lsf: 'bsub' };

test.each([
  // the guide's test submission of each scheduler, and its sample output
  ['slurm', ['--ntasks=2', '--mem=3G', 'simple.sh'], 'sub_wrapper-output-slurm'],
  ['gridengine', ['-q', 'xspot', '-l', 'mem_free=2.5', 'simple.sh'], 'sub_wrapper-output-gridengine'],
  [
    'lsf',
    ['-q', 'xspot', '-n', '2', '-R', 'rusage[mem=2.5GB]', '-o', '%J.out', '-e', '%J.err', 'sleep', '60'],
    'sub_wrapper-output-lsf',
  ],
] as const)('%s: the wrapper prints the diagnostics of the guide sample', (kind, args, fixture) => {
  const r = run(path.join(root, kind, kind, WRAPPER[kind]), args, {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: root, LANG: 'C' },
  });
  expect(r.code).toBe(0);
  const guide = wrapperLines(fs.readFileSync(path.join(GUIDE, fixture), 'utf8'));
  expect(guide.length).toBeGreaterThanOrEqual(2);
  expect(wrapperLines(r.stderr)).toEqual(guide);
  expect(r.stdout).toBe('');
});

test('a script on stdin is reported as stdin, and the size fed to the original command', () => {
  const script = '#!/bin/bash\n#BSUB -q xspot\necho hi\n';
  const r = run(path.join(root, 'lsf', 'lsf', 'bsub'), ['-n', '1'], {
    cwd: root,
    input: script,
    env: { PATH: process.env.PATH, HOME: root, LANG: 'C' },
  });
  expect(r.code).toBe(0);
  expect(r.stderr.split('\n')).toEqual([
    'controller_ip = None',
    '*** BEGIN stdin',
    `(${Buffer.byteLength(script)} bytes)`,
    '***  END  stdin',
    'NO stdin(sub_cmd)',
    '',
  ]);
});
