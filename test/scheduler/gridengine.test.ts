/**
 * Grid Engine against a real single-host cell (sge_qmaster + sge_execd from Debian packages,
 * started by gridengine-cluster.sh with its own SGE_ROOT, spool and ports in a temp dir). The
 * rendered JSV is the cell's server-side jsv_url, the rendered queues use the rendered
 * starter_method, and every row of the shared table is submitted (held), read back with
 * `qstat -j`, then released and checked in the job's output (the stand-in exorun's arguments).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { casesFor, exorunArgs, type SubmitCase, TEST_SETTINGS } from './cases';
import {
  argLines,
  exorunLine,
  HERE,
  installStandInExorun,
  jobScript,
  missingPrerequisite,
  mustRun,
  renderTo,
  run,
  tempDir,
  waitFor,
} from './helpers';

const GE = '/usr/lib/gridengine';
const skipReason = missingPrerequisite([`${GE}/sge_qmaster`, `${GE}/sge_execd`, `${GE}/qsub`, `${GE}/qconf`]);
if (skipReason) console.warn(`skipping the Grid Engine scheduler tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

interface Submitted {
  readonly c: SubmitCase;
  readonly jobId: string;
  readonly script: string;
}

maybe('Grid Engine: jsv_xspot and xspot_starter on a real cell', () => {
  let root = '';
  let cell = '';
  let cellEnv: Record<string, string> = {};
  const submitted: Submitted[] = [];

  function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { PATH: `${GE}:${process.env.PATH}`, LANG: 'C', HOME: path.join(root, 'home'), ...cellEnv, ...extra };
  }
  const qconf = (...args: string[]) => mustRun(`${GE}/qconf`, args, { env: env() });

  beforeAll(() => {
    root = tempDir('xspot-ge-');
    for (const d of ['out', 'record', 'home', 'src', 'jobs']) fs.mkdirSync(path.join(root, d));
    const exorun = installStandInExorun(root);
    const host = mustRun('hostname', []).trim();
    const render = path.join(root, 'render');
    renderTo(
      render,
      {
        ...TEST_SETTINGS,
        type: 'gridengine',
        exorunPath: exorun,
        scriptDir: path.join(root, 'jobs'),
        publishDir: render,
        installDir: render,
        gridEngineHostList: host,
      },
      ['gridengine'],
    );
    cell = path.join(root, 'cell');
    fs.mkdirSync(cell);
    const out = mustRun('bash', [path.join(HERE, 'gridengine-cluster.sh'), 'start', cell], { timeoutMs: 90_000 });
    cellEnv = Object.fromEntries(
      out
        .split('\n')
        .filter((l) => /^SGE_[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    // The rendered complex, PE (the cluster script made `smp` before all.q), queues and JSV.
    const complexes = path.join(root, 'complexes');
    fs.writeFileSync(
      complexes,
      qconf('-sc') + fs.readFileSync(path.join(render, 'gridengine/xspot_job.complex'), 'utf8'),
    );
    qconf('-Mc', complexes);
    qconf('-Mp', path.join(render, 'gridengine/smp.pe'));
    qconf('-Aq', path.join(render, 'gridengine/xspot.queue'));
    qconf('-Aq', path.join(render, 'gridengine/chipspot.queue'));
    const global = path.join(root, 'global');
    fs.writeFileSync(
      global,
      qconf('-sconf', 'global').replace(/^jsv_url .*$/m, `jsv_url ${path.join(render, 'gridengine/jsv_xspot')}`),
    );
    qconf('-Mconf', global);
  }, 120_000);

  afterAll(() => {
    if (cell) run('bash', [path.join(HERE, 'gridengine-cluster.sh'), 'stop', cell]);
    if (root && !process.env.XSPOT_TEST_KEEP) fs.rmSync(root, { recursive: true, force: true });
  });

  function queue(c: SubmitCase): string {
    switch (c.queue ?? 'xspot') {
      case 'other':
        return 'all.q';
      case 'mixed':
        return 'xspot,all.q';
      default:
        return c.queue ?? 'xspot';
    }
  }

  /** Lets the stand-in exorun keep a copy of the script it was given. */
  function record(): string[] {
    return ['-v', `STANDIN_RECORD_DIR=${path.join(root, 'record')}`];
  }

  function optionsFor(c: SubmitCase): string[] {
    const a = ['-h', '-j', 'y', '-o', `${root}/out/$JOB_ID.$TASK_ID.out`, '-q', queue(c), ...record()];
    if (c.cpus) a.push('-pe', 'smp', c.cpus);
    if (c.mem) a.push('-l', `mem_free=${c.mem}`);
    if (c.image) a.push('-v', `XSPOT_IMAGE=${c.image}`);
    if (c.array) a.push('-t', '1-2');
    return a;
  }

  function jobIdOf(stdout: string): string {
    const m = /Your job(?:-array)? (\d+)/.exec(stdout);
    if (!m) throw new Error(`no job id in: ${stdout}`);
    return m[1];
  }

  function qstat(jobId: string): string {
    return mustRun(`${GE}/qstat`, ['-j', jobId], { env: env() });
  }

  function field(text: string, name: string): string {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text);
    return m ? m[1].trim() : '';
  }

  test.each(casesFor('gridengine').map((c) => [c.id, c] as const))('%s', (_id, c) => {
    // GIVEN a job script  WHEN it is submitted (held) through the server-side JSV
    const script = jobScript(`ge-${c.id}`);
    const file = path.join(root, 'src', `${c.id}.sh`);
    fs.writeFileSync(file, script);
    const r = run(`${GE}/qsub`, [...optionsFor(c), file, ...(c.args ?? [])], { env: env() });
    const e = c.expect;
    if (typeof e === 'object' && 'reject' in e) {
      // THEN a bad request is refused at submission with a message
      expect(r.code).not.toBe(0);
      expect(r.stderr + r.stdout).toMatch(e.reject);
      expect(r.stdout).not.toMatch(/Your job/);
      return;
    }
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const jobId = jobIdOf(r.stdout);
    submitted.push({ c, jobId, script });
    const j = qstat(jobId);
    expect(field(j, 'script_file')).toBe(file);
    if (e === 'unchanged') {
      // THEN a job for another queue is exactly what was asked
      expect(field(j, 'hard resource_list')).toBe('mem_free=3G');
      expect(field(j, 'parallel environment')).toBe('smp range: 2');
      expect(field(j, 'env_list')).not.toContain('XSPOT_');
      expect(field(j, 'env_list')).toContain('STANDIN_RECORD_DIR=');
      expect(field(j, 'context')).toBe('');
      return;
    }
    // THEN qmaster holds the launcher's resources, and the request in env and context
    expect(field(j, 'hard resource_list')).toBe('mem_free=50M,xspot_job=TRUE');
    expect(field(j, 'parallel environment')).toBe('smp range: 1');
    const envList = field(j, 'env_list');
    expect(envList).toContain(`XSPOT_CPUS=${e.cpus}`);
    expect(envList).toContain(`XSPOT_MEM_GB=${e.gb}`);
    expect(envList).toContain(`XSPOT_IMAGE=${e.image ?? 'docker-base'}`);
    expect(field(j, 'context')).toContain(`xspot_cpus=${e.cpus},xspot_mem_gb=${e.gb}`);
    // (qstat shows an empty argument as NONE)
    expect(field(j, 'job_args')).toBe((c.args ?? []).map((a) => a || 'NONE').join(','));
  });

  test('a pe range is refused with the fix', () => {
    const file = path.join(root, 'src', 'range.sh');
    fs.writeFileSync(file, jobScript('range'));
    const r = run(`${GE}/qsub`, ['-h', '-q', 'xspot', '-pe', 'smp', '2-4', file], { env: env() });
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/is a range; ask for a fixed number of CPUs such as -pe smp 4/);
  });

  test('binary jobs (-b y) and scripts on stdin go through exorun too', () => {
    const b = run(
      `${GE}/qsub`,
      [
        '-h',
        '-j',
        'y',
        '-o',
        `${root}/out/$JOB_ID.$TASK_ID.out`,
        '-q',
        'xspot',
        '-pe',
        'smp',
        '2',
        '-b',
        'y',
        '/bin/echo',
        'JOB-START',
        'a b',
      ],
      { env: env() },
    );
    expect(b.code).toBe(0);
    submitted.push({ c: { id: 'binary', note: '', expect: { cpus: 2, gb: 1 } }, jobId: jobIdOf(b.stdout), script: '' });
    const script = jobScript('ge-stdin');
    const s = run(
      `${GE}/qsub`,
      ['-h', '-j', 'y', '-o', `${root}/out/$JOB_ID.$TASK_ID.out`, '-q', 'xspot', '-l', 'mem_free=2049M', ...record()],
      {
        env: env(),
        input: script,
      },
    );
    expect(s.code).toBe(0);
    submitted.push({ c: { id: 'stdin', note: '', expect: { cpus: 1, gb: 3 } }, jobId: jobIdOf(s.stdout), script });
  });

  test('a broken JSV rejects X-Spot jobs instead of letting them through', () => {
    // GIVEN a JSV whose configuration lost a line (an unset variable under set -u)
    const good = fs.readFileSync(path.join(root, 'render/gridengine/jsv_xspot'), 'utf8');
    expect(good).toMatch(/^CONF_PE_NAME=/m);
    const broken = path.join(root, 'jsv_broken');
    fs.writeFileSync(broken, good.replace(/^CONF_PE_NAME=.*$/m, ''), { mode: 0o755 });
    const file = path.join(root, 'src', 'broken.sh');
    fs.writeFileSync(file, jobScript('broken'));
    // WHEN an X-Spot job is submitted with it  THEN it is refused with a message
    const r = run(`${GE}/qsub`, ['-h', '-jsv', broken, '-q', 'xspot', '-pe', 'smp', '2', file], { env: env() });
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/X-Spot JSV failed/);
    // AND jobs for other queues still go through
    const ok = run(`${GE}/qsub`, ['-h', '-jsv', broken, '-q', 'all.q', file], { env: env() });
    expect(ok.code).toBe(0);
    run(`${GE}/qdel`, [jobIdOf(ok.stdout)], { env: env() });
  });

  test('a job that skipped the JSV fails in the starter instead of running on the controller', () => {
    // (qalter cannot move jobs here; the starter is checked directly with the job's environment)
    const r = run(path.join(root, 'render/gridengine/xspot_starter'), ['/bin/echo', 'hi'], {
      env: { PATH: process.env.PATH, HOME: path.join(root, 'home'), JOB_ID: '7' },
    });
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/was not rewritten by jsv_xspot/);
  });

  test('released jobs run through exorun with their arguments and their script unchanged', async () => {
    for (const s of submitted) mustRun(`${GE}/qrls`, [s.jobId], { env: env() });
    await waitFor(
      'the released jobs to finish',
      () => {
        const listed = mustRun(`${GE}/qstat`, ['-u', '*'], { env: env() });
        const ids = new Set(listed.split('\n').map((l) => l.trim().split(/\s+/)[0]));
        return submitted.some((s) => ids.has(s.jobId)) ? undefined : true;
      },
      90_000,
    );
    for (const s of submitted) {
      const e = s.c.expect;
      const outs = s.c.array
        ? [1, 2].map((i) => path.join(root, 'out', `${s.jobId}.${i}.out`))
        : [path.join(root, 'out', `${s.jobId}.0.out`)];
      for (const out of outs) {
        const text = fs.readFileSync(out, 'utf8');
        if (e === 'unchanged') {
          expect(exorunLine(text)).toBeUndefined();
          expect(text).toContain(`JOB-START ge-${s.c.id}`);
          continue;
        }
        if (typeof e !== 'object' || 'reject' in e) throw new Error(`unexpected row ${s.c.id}`);
        const args = exorunLine(text);
        expect({ id: s.c.id, args: args?.slice(0, 8) }).toEqual({ id: s.c.id, args: exorunArgs(e) });
        if (s.c.id === 'binary') {
          expect(args?.slice(8)).toEqual(['/bin/echo', 'JOB-START', 'a b']);
          expect(text).toContain('JOB-START a b');
          continue;
        }
        const saved = args?.[8] ?? '';
        expect(saved.startsWith(path.join(root, 'jobs', `sge-${s.jobId}.`))).toBe(true);
        expect(args?.slice(9)).toEqual(s.c.args ?? []);
        expect(argLines(text)).toEqual(s.c.args ?? []);
        expect(fs.readFileSync(path.join(root, 'record', path.basename(saved)), 'utf8')).toBe(s.script);
        expect(fs.existsSync(saved)).toBe(false);
      }
    }
  }, 120_000);
});
