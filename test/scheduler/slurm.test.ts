/**
 * Slurm against a real single-node cluster (munged, slurmctld, slurmd from Debian packages,
 * started by slurm-cluster.sh with state in a temp dir). Every row of the shared table is
 * submitted through the server-side path (job_submit.lua) and the client-side path (sbatch
 * wrapper + cli_filter.lua); the test reads back what slurmctld holds (scontrol show job, the
 * stored batch script) before releasing the jobs, then what they ran (the stand-in exorun's
 * arguments and the saved script).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CASES, casesFor, exorunArgs, type SubmitCase, TEST_SETTINGS } from './cases';
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

const skipReason = missingPrerequisite(['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'scontrol', 'python3']);
if (skipReason) console.warn(`skipping the Slurm scheduler tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

type Path = 'server' | 'client';

interface Submitted {
  readonly path: Path;
  readonly c: SubmitCase;
  readonly jobId: string;
  readonly script: string;
}

maybe('Slurm: job_submit.lua, cli_filter.lua and the sbatch wrapper on a real cluster', () => {
  let root = '';
  let clusterDir = '';
  let clientClusterDir = '';
  let clientConf = '';
  let host = '';
  const submitted: Submitted[] = [];

  beforeAll(() => {
    root = tempDir('xspot-slurm-');
    for (const d of ['out', 'record', 'home', 'src', 'jobs']) fs.mkdirSync(path.join(root, d));
    const exorun = installStandInExorun(root);
    const realSbatch = mustRun('sh', ['-c', 'command -v sbatch']).trim();
    renderTo(
      path.join(root, 'render'),
      {
        ...TEST_SETTINGS,
        type: 'slurm',
        exorunPath: exorun,
        scriptDir: path.join(root, 'jobs'),
        realSubmitCommand: realSbatch,
        publishDir: path.join(root, 'render'),
      },
      ['slurm'],
    );
    host = mustRun('hostname', ['-s']).trim();
    clusterDir = path.join(root, 'cluster');
    fs.mkdirSync(clusterDir);
    fs.copyFileSync(path.join(root, 'render/slurm/job_submit.lua'), path.join(clusterDir, 'job_submit.lua'));
    mustRun(
      'bash',
      [
        path.join(HERE, 'slurm-cluster.sh'),
        'start',
        clusterDir,
        'JobSubmitPlugins=lua',
        `PartitionName=xspot Nodes=${host} MaxTime=INFINITE State=UP`,
        `PartitionName=chipspot Nodes=${host} MaxTime=INFINITE State=UP`,
      ],
      { timeoutMs: 90_000 },
    );
    // The client-side path, for sites that cannot change slurmctld: a second cluster without
    // job_submit.lua (the server side wraps every X-Spot job, so the two are not combined),
    // seen through a slurm.conf with CliFilterPlugins=lua.
    clientClusterDir = path.join(root, 'client-cluster');
    fs.mkdirSync(clientClusterDir);
    mustRun(
      'bash',
      [
        path.join(HERE, 'slurm-cluster.sh'),
        'start',
        clientClusterDir,
        `PartitionName=xspot Nodes=${host} MaxTime=INFINITE State=UP`,
        `PartitionName=chipspot Nodes=${host} MaxTime=INFINITE State=UP`,
      ],
      { timeoutMs: 90_000 },
    );
    const clientDir = path.join(root, 'client');
    fs.mkdirSync(clientDir);
    clientConf = path.join(clientDir, 'slurm.conf');
    fs.writeFileSync(
      clientConf,
      `${fs.readFileSync(path.join(clientClusterDir, 'slurm.conf'), 'utf8')}CliFilterPlugins=lua\n`,
    );
    fs.copyFileSync(path.join(root, 'render/slurm/cli_filter.lua'), path.join(clientDir, 'cli_filter.lua'));
  }, 180_000);

  afterAll(() => {
    if (clusterDir) run('bash', [path.join(HERE, 'slurm-cluster.sh'), 'stop', clusterDir]);
    if (clientClusterDir) run('bash', [path.join(HERE, 'slurm-cluster.sh'), 'stop', clientClusterDir]);
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  function env(p: Path, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const e: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: 'C' };
    return {
      ...e,
      HOME: path.join(root, 'home'),
      SLURM_CONF: p === 'server' ? path.join(clusterDir, 'slurm.conf') : clientConf,
      STANDIN_RECORD_DIR: path.join(root, 'record'),
      ...extra,
    };
  }

  function sbatch(p: Path): string {
    return p === 'server' ? 'sbatch' : path.join(root, 'render/slurm/sbatch');
  }

  function partition(c: SubmitCase): string {
    switch (c.queue ?? 'xspot') {
      case 'other':
        return 'debug';
      case 'mixed':
        return 'xspot,debug';
      default:
        return c.queue ?? 'xspot';
    }
  }

  function optionsFor(c: SubmitCase, p: Path): string[] {
    const out = c.array ? `${root}/out/${p}-%A_%a.out` : `${root}/out/${p}-%j.out`;
    const a = ['-H', '-o', out, '-p', partition(c)];
    if (c.cpus) a.push('-n', c.cpus);
    if (c.cpusPerTask) a.push('-c', c.cpusPerTask);
    if (c.mem) a.push(`--mem=${c.mem}`);
    if (c.memPerCpu) a.push(`--mem-per-cpu=${c.memPerCpu}`);
    if (c.array) a.push('-a', '1-2');
    return a;
  }

  function showJob(jobId: string, p: Path): string {
    return mustRun('scontrol', ['show', 'job', '-o', jobId], { env: env(p) }).split('\n')[0];
  }

  function batchScript(jobId: string, p: Path): string {
    return mustRun('scontrol', ['write', 'batch_script', jobId, '-'], { env: env(p) });
  }

  function submit(c: SubmitCase, p: Path, script: string, opts: string[] = optionsFor(c, p)) {
    const file = path.join(root, 'src', `${p}-${c.id}.sh`);
    fs.writeFileSync(file, script);
    const extra: Record<string, string> = c.image ? { XSPOT_IMAGE: c.image } : {};
    return { file, r: run(sbatch(p), [...opts, file, ...(c.args ?? [])], { env: env(p, extra) }) };
  }

  function jobIdOf(stdout: string): string {
    const m = /Submitted batch job (\d+)/.exec(stdout);
    if (!m) throw new Error(`no job id in: ${stdout}`);
    return m[1];
  }

  /** Fractional sizes: Slurm's own sbatch refuses them; the wrapper turns them into whole MB. */
  function nativeRefusal(c: SubmitCase, p: Path): boolean {
    return p === 'server' && c.mem !== undefined && c.mem.includes('.');
  }

  for (const p of ['server', 'client'] as const) {
    describe(`${p} side`, () => {
      test.each(casesFor('slurm').map((c) => [c.id, c] as const))('%s', (_id, c) => {
        // GIVEN a batch script  WHEN it is submitted (held)
        const script = jobScript(`${p}-${c.id}`);
        const { r } = submit(c, p, script);
        const e = c.expect;
        if (nativeRefusal(c, p)) {
          expect(r.code).not.toBe(0);
          expect(r.stderr).toMatch(/Invalid --mem/);
          return;
        }
        if (typeof e === 'object' && 'reject' in e) {
          // THEN bad requests are refused at submission, with a message, and nothing is queued
          expect(r.code).not.toBe(0);
          expect(r.stderr).toMatch(e.reject);
          expect(r.stdout).not.toMatch(/Submitted batch job/);
          return;
        }
        // the client side prints the guide's diagnostics (stderr), nothing else
        expect(r.stderr).toMatch(
          p === 'server'
            ? /^$/
            : /^controller_ip = None\nNO stdin\n(NO stdin\(sub_cmd\)|stdin\(sub_cmd\): \d+ bytes)\n$/,
        );
        expect(r.code).toBe(0);
        const jobId = jobIdOf(r.stdout);
        submitted.push({ path: p, c, jobId, script });
        const job = showJob(jobId, p);
        const stored = batchScript(jobId, p);
        if (e === 'unchanged') {
          // THEN a job for another partition is byte-for-byte what was submitted
          expect(stored).toBe(script);
          expect(job).toMatch(/ NumCPUs=2 /);
          expect(job).toMatch(/ MinMemoryNode=3G /);
          expect(job).not.toMatch(/Comment=xspot/);
          return;
        }
        // THEN slurmctld holds the controller-side request and the original request in the comment
        expect(job).toMatch(/ NumCPUs=1 /);
        expect(job).toMatch(/ NumTasks=1 /);
        // (the client side keeps --mem-per-cpu as per-CPU memory: an option cannot be unset there)
        expect(job).toMatch(p === 'client' && c.memPerCpu ? / MinMemoryCPU=50M / : / MinMemoryNode=50M /);
        expect(job).toContain(
          `Comment=xspot: exorun -c ${e.cpus} -m ${e.gb} -i ${e.image ?? 'docker-base'} (requested:`,
        );
        // AND the stored batch script is the launcher, with the original script inside
        expect(stored).toContain(`# xspot-launcher (${p})`);
        expect(stored).toContain(`# ${p}-${c.id}: original script line kept byte for byte`);
        if (p === 'server') {
          expect(stored).toContain(
            `run -c ${e.cpus} -m ${e.gb} -i '${e.image ?? 'docker-base'}' -- "$xspot_script" "$@"`,
          );
        }
      });
    });
  }

  test.each(['server', 'client'] as const)(
    '%s side: the guide simple.sh (#SBATCH -p xspot, --ntasks=2 --mem=3G)',
    (p) => {
      const script = '#!/bin/bash\n#SBATCH -o %j.out\n#SBATCH -p xspot\n\nfor i in {0..99}; do\n    echo $i\ndone\n';
      const c: SubmitCase = { id: 'guide-simple', note: 'guide simple.sh', expect: { cpus: 2, gb: 3 } };
      const { r } = submit(c, p, script, ['-H', '-o', `${root}/out/${p}-%j.out`, '--ntasks=2', '--mem=3G']);
      expect(r.code).toBe(0);
      const jobId = jobIdOf(r.stdout);
      submitted.push({ path: p, c, jobId, script });
      expect(showJob(jobId, p)).toContain('Comment=xspot: exorun -c 2 -m 3 -i docker-base');
    },
  );

  test.each(['server', 'client'] as const)('%s side: a script on stdin and a --wrap command are rewritten', (p) => {
    const script = jobScript(`${p}-stdin`);
    const r = run(sbatch(p), ['-H', '-p', 'xspot', '-n', '3', '-o', `${root}/out/${p}-%j.out`], {
      env: env(p),
      input: script,
    });
    expect(r.code).toBe(0);
    const stdinJob = jobIdOf(r.stdout);
    submitted.push({ path: p, c: { id: 'stdin', note: '', expect: { cpus: 3, gb: 1 } }, jobId: stdinJob, script });
    expect(showJob(stdinJob, p)).toContain('Comment=xspot: exorun -c 3 -m 1 -i docker-base');

    const w = run(
      sbatch(p),
      ['-H', '-p', 'xspot', '--mem=2G', '-o', `${root}/out/${p}-%j.out`, '--wrap', 'echo "JOB-START wrapped $((6*7))"'],
      {
        env: env(p),
      },
    );
    expect(w.code).toBe(0);
    const wrapJob = jobIdOf(w.stdout);
    submitted.push({ path: p, c: { id: 'wrap', note: '', expect: { cpus: 1, gb: 2 } }, jobId: wrapJob, script: '' });
    expect(batchScript(wrapJob, p)).toContain('JOB-START wrapped $((6*7))');
  });

  test('server side: interactive allocations and moving a pending job into X-Spot are refused', () => {
    const r = run('srun', ['-p', 'xspot', '-n', '1', 'true'], { env: env('server'), timeoutMs: 30_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/X-Spot partitions take batch jobs only/);
    const file = path.join(root, 'src', 'move.sh');
    fs.writeFileSync(file, jobScript('move'));
    const held = jobIdOf(mustRun('sbatch', ['-H', '-p', 'debug', file], { env: env('server') }));
    const moved = run('scontrol', ['update', `JobId=${held}`, 'Partition=xspot'], { env: env('server') });
    expect(moved.code).not.toBe(0);
    expect(showJob(held, 'server')).toMatch(/ Partition=debug /);
    run('scancel', [held], { env: env('server') });
  });

  test('server side: --export=NONE is refused (slurmd would run the login scripts on the controller)', () => {
    const file = path.join(root, 'src', 'server-export-none.sh');
    fs.writeFileSync(file, jobScript('server-export-none'));
    const r = run('sbatch', ['-H', '-p', 'xspot', '--export=NONE', file], { env: env('server') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/would load your login environment on the controller/);
  });

  test.each(['client'] as const)('%s side: --export=NONE (no HOME, no PATH from the submitter)', (p) => {
    const script = jobScript(`${p}-export-none`);
    const file = path.join(root, 'src', `${p}-export-none.sh`);
    fs.writeFileSync(file, script);
    const r = run(
      sbatch(p),
      ['-H', '-p', 'xspot', '-n', '2', '--export=NONE', '-o', `${root}/out/${p}-%j.out`, file, 'x y'],
      {
        env: env(p),
      },
    );
    expect(r.code).toBe(0);
    const jobId = jobIdOf(r.stdout);
    submitted.push({
      path: p,
      c: { id: 'export-none', note: '', args: ['x y'], expect: { cpus: 2, gb: 1 } },
      jobId,
      script: '',
    });
    expect(showJob(jobId, p)).toContain('Comment=xspot: exorun -c 2 -m 1 -i docker-base');
  });

  test('client side: an X-Spot job that bypasses the wrapper is refused by cli_filter.lua', () => {
    const file = path.join(root, 'src', 'bypass.sh');
    fs.writeFileSync(file, jobScript('bypass'));
    const r = run('sbatch', ['-H', '-p', 'xspot', file], { env: env('client') });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/must be submitted with the X-Spot sbatch wrapper/);
  });

  test('server side: a broken job_submit.lua rejects X-Spot jobs instead of letting them through', () => {
    // GIVEN job_submit.lua with a broken setting (max_cpus = nil: comparing with it raises)
    const live = path.join(clusterDir, 'job_submit.lua');
    const good = fs.readFileSync(live, 'utf8');
    expect(good).toMatch(/max_cpus = 16,/);
    const later = (s: number) => new Date(Date.now() + s * 1000);
    try {
      fs.writeFileSync(live, good.replace('max_cpus = 16,', 'max_cpus = nil,'));
      fs.utimesSync(live, later(5), later(5));
      const file = path.join(root, 'src', 'broken.sh');
      fs.writeFileSync(file, jobScript('broken'));
      // WHEN an X-Spot job is submitted  THEN it is refused with a message
      const r = run('sbatch', ['-H', '-p', 'xspot', '-n', '2', file], { env: env('server') });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/X-Spot submit hook failed/);
      // AND jobs for other partitions still go through
      const ok = run('sbatch', ['-H', '-p', 'debug', file], { env: env('server') });
      expect(ok.code).toBe(0);
      run('scancel', [jobIdOf(ok.stdout)], { env: env('server') });
    } finally {
      fs.writeFileSync(live, good);
      fs.utimesSync(live, later(10), later(10));
    }
  });

  test('released jobs run through exorun with their arguments and their script unchanged', async () => {
    expect(submitted.length).toBeGreaterThan(CASES.length);
    for (const p of ['server', 'client'] as const) {
      const ids = submitted.filter((s) => s.path === p).map((s) => s.jobId);
      mustRun('scontrol', ['release', ids.join(',')], { env: env(p) });
    }
    await waitFor(
      'the released jobs to finish',
      () => {
        for (const p of ['server', 'client'] as const) {
          const ids = new Set(mustRun('squeue', ['-h', '-o', '%F'], { env: env(p) }).split('\n'));
          if (submitted.some((s) => s.path === p && ids.has(s.jobId))) return undefined;
        }
        return true;
      },
      90_000,
      () =>
        (['server', 'client'] as const)
          .map((p) => `${p}: ${run('squeue', ['-h', '-o', '%F %T %r %C %P'], { env: env(p) }).stdout.trim()}`)
          .join('\n'),
    );
    for (const s of submitted) {
      const e = s.c.expect;
      const outs =
        s.c.id === 'guide-simple'
          ? [path.join(root, 'out', `${s.path}-${s.jobId}.out`)]
          : s.c.array
            ? [1, 2].map((i) => path.join(root, 'out', `${s.path}-${s.jobId}_${i}.out`))
            : [path.join(root, 'out', `${s.path}-${s.jobId}.out`)];
      for (const out of outs) {
        const text = fs.readFileSync(out, 'utf8');
        if (e === 'unchanged') {
          expect(exorunLine(text)).toBeUndefined();
          expect(text).toContain(`JOB-START ${s.path}-${s.c.id}`);
          continue;
        }
        if (typeof e !== 'object' || 'reject' in e) throw new Error(`unexpected row ${s.c.id}`);
        const args = exorunLine(text);
        expect({ id: s.c.id, path: s.path, args: args?.slice(0, 8) }).toEqual({
          id: s.c.id,
          path: s.path,
          args: exorunArgs(e),
        });
        const saved = args?.[8] ?? '';
        expect(saved.startsWith(path.join(root, 'jobs', 'slurm-'))).toBe(true);
        expect(args?.slice(9)).toEqual(s.c.args ?? []);
        if (s.c.id === 'guide-simple') {
          expect(text).toContain('\n99\n');
        } else if (s.script) {
          expect(argLines(text)).toEqual(s.c.args ?? []);
          expect(fs.readFileSync(path.join(root, 'record', path.basename(saved)), 'utf8')).toBe(s.script);
        }
        // the saved script is removed when the job ends
        expect(fs.existsSync(saved)).toBe(false);
      }
    }
  }, 120_000);
});
