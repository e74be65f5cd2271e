/**
 * The Slurm attack table (attacks.ts) against a real single-node cluster running
 * job_submit.lua, submitted as an unprivileged account. Every row ends in its safe outcome:
 * refused at submission, or run only through the stand-in exorun within the limits (16 CPUs,
 * 64 GB, an approved image). Each payload records where it ran; a "native" record from an
 * X-Spot row fails the test.
 * The node plays a controller: its slurmd loads the step guard (the SPANK plugin the controller
 * runtime builds, assets/controller-runtime/slurm/xspot_step_guard.c) as `required`, with
 * PrologFlags=Contain, so the `step` rows (srun into a running job) meet what a controller has.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Attack, SLURM_ATTACKS } from './attacks';
import { TEST_SETTINGS } from './cases';
import {
  type Attacker,
  attackerDir,
  ensureAttacker,
  exorunLine,
  HERE,
  installStandInExorun,
  missingPrerequisite,
  mustRun,
  renderTo,
  run,
  runAs,
  tempDir,
  waitFor,
} from './helpers';

const GUARD_SOURCE = path.resolve(HERE, '../../assets/controller-runtime/slurm/xspot_step_guard.c');
const skipReason = missingPrerequisite([
  'munged',
  'slurmctld',
  'slurmd',
  'sbatch',
  'srun',
  'scontrol',
  'setpriv',
  'useradd',
  'script',
  'cc',
  '/usr/include/slurm/spank.h',
]);
if (skipReason) console.warn(`skipping the Slurm attack tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

const GUARD_SO = 'xspot_step_guard.so';
const FAKE_COMMANDS = ['mkdir', 'mktemp', 'chmod', 'getent', 'id', 'cut', 'rm', 'cat', 'printf'];

maybe('Slurm attack table: a hostile user gets no native execution on a controller', () => {
  let root = '';
  let clusterDir = '';
  let who: Attacker;
  const queued: { a: Attack; jobId: string }[] = [];

  beforeAll(() => {
    root = tempDir('xspot-slurm-atk-');
    fs.chmodSync(root, 0o755);
    who = ensureAttacker();
    for (const d of ['out', 'marks', 'src', 'atk']) attackerDir(who, path.join(root, d));
    fs.chmodSync(path.join(root, 'marks'), 0o777);
    fs.writeFileSync(path.join(root, 'exorun.log'), '');
    fs.chmodSync(path.join(root, 'exorun.log'), 0o666);
    const exorun = installStandInExorun(root);
    renderTo(path.join(root, 'render'), { ...TEST_SETTINGS, type: 'slurm', exorunPath: exorun }, ['slurm']);
    const host = mustRun('hostname', ['-s']).trim();
    clusterDir = path.join(root, 'cluster');
    fs.mkdirSync(clusterDir);
    fs.copyFileSync(path.join(root, 'render/slurm/job_submit.lua'), path.join(clusterDir, 'job_submit.lua'));
    const guard = path.join(root, 'guard');
    fs.mkdirSync(guard);
    mustRun('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', '-o', path.join(guard, GUARD_SO), GUARD_SOURCE]);
    fs.writeFileSync(path.join(guard, 'plugstack.conf'), `required ${path.join(guard, GUARD_SO)}\n`);
    mustRun(
      'bash',
      [
        path.join(HERE, 'slurm-cluster.sh'),
        'start',
        clusterDir,
        'JobSubmitPlugins=lua',
        `PlugStackConfig=${path.join(guard, 'plugstack.conf')}`,
        'PrologFlags=Contain',
        `PartitionName=xspot Nodes=${host} MaxTime=INFINITE State=UP`,
        `PartitionName=chipspot Nodes=${host} MaxTime=INFINITE State=UP`,
      ],
      { timeoutMs: 90_000 },
    );
    // the attacker's own copy of slurm.conf, without the plugin stack (for srun-own-conf)
    const own = fs
      .readFileSync(conf(), 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('PlugStackConfig='));
    fs.writeFileSync(userConf(), own.join('\n'));
    fs.chownSync(userConf(), who.uid, who.gid);
  }, 120_000);

  afterAll(() => {
    if (clusterDir) run('bash', [path.join(HERE, 'slurm-cluster.sh'), 'stop', clusterDir]);
    if (root && !process.env.XSPOT_TEST_KEEP) fs.rmSync(root, { recursive: true, force: true });
  });

  const conf = () => path.join(clusterDir, 'slurm.conf');
  const userConf = () => path.join(root, 'atk', 'user-slurm.conf');
  const mark = (a: Attack) => path.join(root, 'marks', a.id);
  const payload = (a: Attack) => `echo "\${STANDIN_INSIDE_EXORUN:-native}" >>'${mark(a)}'`;

  /** The row's files (payload file, fake commands) and its text with the placeholders filled. */
  function prepare(a: Attack): (s: string) => string {
    const dir = attackerDir(who, path.join(root, 'atk', a.id));
    const bin = attackerDir(who, path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'payload.sh'), `${payload(a)}\n`);
    for (const c of FAKE_COMMANDS) {
      fs.writeFileSync(path.join(bin, c), `#!/bin/sh\n${payload(a)}\nexec /usr/bin/${c} "$@"\n`, { mode: 0o755 });
    }
    return (s) =>
      s
        .replaceAll('@PAYLOAD_FILE@', path.join(dir, 'payload.sh'))
        .replaceAll('PAYLOAD', payload(a))
        .replaceAll('@FAKE_BIN@', bin)
        .replaceAll('@USER_CONF@', userConf());
  }

  function userEnv(a: Attack, fill: (s: string) => string): NodeJS.ProcessEnv {
    const extra = Object.fromEntries(Object.entries(a.env ?? {}).map(([k, v]) => [k, fill(v)]));
    return {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C',
      HOME: who.home,
      USER: who.name,
      SLURM_CONF: conf(),
      STANDIN_LOG: path.join(root, 'exorun.log'),
      ...extra,
    };
  }

  function jobIdOf(stdout: string): string {
    const m = /Submitted batch job (\d+)/.exec(stdout);
    if (!m) throw new Error(`no job id in: ${stdout}`);
    return m[1];
  }

  /** Submits the row's batch job, held, as the attacker. */
  function submitBatch(a: Attack, hold = true) {
    const fill = prepare(a);
    const opts = (a.opts ?? []).map(fill);
    const script = fill(a.script ?? '#!/bin/bash\nPAYLOAD\n');
    const file = path.join(root, 'src', `${a.id}.sh`);
    fs.writeFileSync(file, script);
    const wrap = opts.includes('--wrap');
    const args = [...(hold ? ['-H'] : []), '-o', path.join(root, 'out', `${a.id}-%j.out`), ...opts];
    if (!wrap && !a.stdin) args.push(file, ...(a.args ?? []));
    return runAs(who, 'sbatch', args, { env: userEnv(a, fill), input: a.stdin ? script : '', cwd: root });
  }

  function expectRefused(a: Attack, r: { code: number; stdout: string; stderr: string }) {
    if (typeof a.safe !== 'object') throw new Error(`${a.id} is not a refusal row`);
    expect({ id: a.id, code: r.code === 0 ? 0 : 'non-zero' }).toEqual({ id: a.id, code: 'non-zero' });
    expect(r.stderr).toMatch(a.safe.rejected);
    expect(r.stdout).not.toMatch(/Submitted batch job/);
  }

  const rows = SLURM_ATTACKS.filter((a) => a.via !== 'step');

  test.each(rows.map((a) => [a.id, a] as const))('%s', (_id, a) => {
    const via = a.via ?? 'batch';
    if (via === 'srun' || via === 'salloc') {
      const fill = prepare(a);
      const cmd = via === 'srun' ? ['bash', '-c', payload(a)] : ['bash', '-c', payload(a)];
      const r = runAs(who, via, [...(a.opts ?? []), ...cmd], { env: userEnv(a, fill), cwd: root, timeoutMs: 30_000 });
      expectRefused(a, r);
      return;
    }
    if (via === 'update') {
      // GIVEN a held job of the attacker's in an ordinary partition
      const fill = prepare(a);
      const held = jobIdOf(submitBatch({ ...a, opts: ['-p', 'debug'] }).stdout);
      // WHEN the attacker moves it into an X-Spot partition  THEN it is refused and the job stays put
      const r = runAs(who, 'scontrol', ['update', `JobId=${held}`, ...(a.opts ?? []).map(fill)], {
        env: userEnv(a, fill),
      });
      expect(r.code).not.toBe(0);
      expect(mustRun('scontrol', ['show', 'job', '-o', held], { env: { ...process.env, SLURM_CONF: conf() } })).toMatch(
        / Partition=debug /,
      );
      queued.push({ a: { ...a, safe: 'untouched' }, jobId: held });
      return;
    }
    if (via === 'default-partition') {
      const env = { ...process.env, SLURM_CONF: conf() };
      // (slurmctld keeps the old partition's default flag when another is made default: clear it first)
      mustRun('scontrol', ['update', 'PartitionName=debug', 'Default=NO'], { env });
      mustRun('scontrol', ['update', 'PartitionName=xspot', 'Default=YES'], { env });
      try {
        const r = submitBatch(a);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        const jobId = jobIdOf(r.stdout);
        expect(mustRun('scontrol', ['show', 'job', '-o', jobId], { env })).toMatch(
          / Partition=xspot .*Comment=xspot: exorun/,
        );
        queued.push({ a, jobId });
      } finally {
        mustRun('scontrol', ['update', 'PartitionName=xspot', 'Default=NO'], { env });
        mustRun('scontrol', ['update', 'PartitionName=debug', 'Default=YES'], { env });
      }
      return;
    }
    const r = submitBatch(a);
    if (typeof a.safe === 'object') {
      expectRefused(a, r);
      return;
    }
    expect({ id: a.id, code: r.code, stderr: r.stderr }).toEqual({ id: a.id, code: 0, stderr: '' });
    const jobId = jobIdOf(r.stdout);
    const job = mustRun('scontrol', ['show', 'job', '-o', jobId], { env: { ...process.env, SLURM_CONF: conf() } });
    if (a.safe === 'exorun') expect(job).toMatch(/Comment=xspot: exorun -c \d+ -m \d+ -i /);
    else expect(job).not.toMatch(/Comment=xspot/);
    queued.push({ a, jobId });
  });

  /** The stand-in exorun invocations recorded for a job. */
  function invocations(jobId: string): string[][] {
    return fs
      .readFileSync(path.join(root, 'exorun.log'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`JOB<${jobId}> `))
      .map((l) => exorunLine(l.slice(l.indexOf(' ') + 1)) ?? []);
  }

  function marks(a: Attack): string[] {
    return fs.existsSync(mark(a)) ? fs.readFileSync(mark(a), 'utf8').split('\n').filter(Boolean) : [];
  }

  test('every accepted row ran only through exorun, within the limits', async () => {
    expect(queued.length).toBeGreaterThan(10);
    const env = { ...process.env, SLURM_CONF: conf() };
    mustRun('scontrol', ['release', queued.map((q) => q.jobId).join(',')], { env });
    await waitFor(
      'the released jobs to finish',
      () => {
        const ids = new Set(mustRun('squeue', ['-h', '-o', '%F'], { env }).split('\n'));
        return queued.some((q) => ids.has(q.jobId)) ? undefined : true;
      },
      120_000,
    );
    for (const { a, jobId } of queued) {
      const calls = invocations(jobId);
      if (a.safe === 'untouched') {
        expect({ id: a.id, calls }).toEqual({ id: a.id, calls: [] });
        continue;
      }
      // THEN the payload ran, and only inside exorun
      expect({ id: a.id, marks: [...new Set(marks(a))] }).toEqual({ id: a.id, marks: ['inside'] });
      // AND exorun was called once, within the limits, with an approved image
      expect({ id: a.id, calls: calls.length }).toEqual({ id: a.id, calls: 1 });
      const [verb, c, cpus, m, gb, i, image] = calls[0];
      expect([verb, c, m, i]).toEqual(['run', '-c', '-m', '-i']);
      expect(Number(cpus)).toBeLessThanOrEqual(TEST_SETTINGS.maxCpus);
      expect(Number(gb)).toBeLessThanOrEqual(TEST_SETTINGS.maxMemoryGb);
      expect(TEST_SETTINGS.approvedImages).toContain(image);
      if (a.args) expect(calls[0].slice(9)).toEqual(a.args);
    }
    for (const a of SLURM_ATTACKS.filter((r) => typeof r.safe === 'object' && r.via !== 'update')) {
      // AND nothing of a refused row ran anywhere
      expect({ id: a.id, marks: marks(a) }).toEqual({ id: a.id, marks: [] });
    }
  }, 180_000);

  const slurmEnv = () => ({ ...process.env, SLURM_CONF: conf() });
  const slurmdLog = () => fs.readFileSync(path.join(clusterDir, 'log', 'slurmd.log'), 'utf8');
  const jobLine = (jobId: string) => run('scontrol', ['show', 'job', '-o', jobId], { env: slurmEnv() }).stdout;
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

  /** Waits until the job has left the queue's active states; returns its last `scontrol show job` line. */
  function finished(jobId: string): Promise<string> {
    return waitFor(
      `job ${jobId} to finish`,
      () => {
        const line = jobLine(jobId);
        return /JobState=(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|BOOT_FAIL|OUT_OF_MEMORY)\b/.test(line)
          ? line
          : undefined;
      },
      60_000,
      () => jobLine(jobId),
    );
  }

  /** A running job of the attacker's (the row's host options, default an X-Spot job) that ends when released. */
  async function runningJob(a: Attack) {
    const release = path.join(root, 'marks', `${a.id}.release`);
    const host: Attack = {
      id: `${a.id}-host`,
      note: `the running job ${a.id} steps into`,
      opts: a.host ?? ['-p', 'xspot'],
      script: `#!/bin/bash\nPAYLOAD\nfor _ in $(seq 1 240); do [ -e '${release}' ] && exit 0; sleep 0.25; done\nexit 3\n`,
      safe: a.host?.includes('debug') ? 'untouched' : 'exorun',
    };
    const r = submitBatch(host, false);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const jobId = jobIdOf(r.stdout);
    await waitFor(
      `job ${jobId} to run`,
      () => (/JobState=RUNNING/.test(jobLine(jobId)) && marks(host).length > 0 ? true : undefined),
      60_000,
      () => jobLine(jobId),
    );
    return { jobId, host, release: () => fs.writeFileSync(release, '') };
  }

  for (const a of SLURM_ATTACKS.filter((r) => r.via === 'step')) {
    test(`${a.id}: ${a.note}`, async () => {
      if (typeof a.safe !== 'object') throw new Error(`${a.id} is not a refusal row`);
      // GIVEN a running job of the attacker's on the controller, with its batch and extern steps
      const { jobId, host, release } = await runningJob(a);
      try {
        const steps = mustRun('squeue', ['-h', '-s', '-j', jobId, '-o', '%i'], { env: slurmEnv() });
        expect(steps.split('\n').filter(Boolean).sort()).toEqual([`${jobId}.batch`, `${jobId}.extern`]);
        // WHEN the attacker starts a step in it
        const fill = prepare(a);
        const srun = ['srun', `--jobid=${jobId}`, ...(a.opts ?? []).map(fill), 'bash', '-c', payload(a)];
        const opts = { env: userEnv(a, fill), cwd: root, timeoutMs: 30_000 };
        const r = srun.includes('--pty')
          ? runAs(who, 'script', ['-qec', srun.map(quote).join(' '), '/dev/null'], opts)
          : runAs(who, srun[0], srun.slice(1), opts);
        // THEN slurmstepd refused the step before its command ran
        expect(`${r.stdout}${r.stderr}`).toMatch(a.safe.rejected);
        expect(slurmdLog()).toMatch(new RegExp(`\\[${jobId}\\.\\d+\\] xspot_step_guard: job ${jobId}: .* refused`));
        expect({ id: a.id, marks: marks(a) }).toEqual({ id: a.id, marks: [] });
      } finally {
        release();
      }
      // AND the job itself goes on: released, it completes (an X-Spot job through exorun)
      expect(await finished(jobId)).toMatch(/JobState=COMPLETED .*ExitCode=0:0/);
      expect(marks(host)).toEqual([host.safe === 'untouched' ? 'native' : 'inside']);
      expect(slurmdLog()).toMatch(new RegExp(`\\[${jobId}\\.extern\\] done with job`));
    }, 90_000);
  }

  test('fails closed: with the guard plugin missing, no step starts on the controller (the batch step included)', async () => {
    // GIVEN a running X-Spot job, then the plugin file gone from the controller
    const a = SLURM_ATTACKS.find((r) => r.id === 'srun-own-conf');
    if (!a) throw new Error('no srun-own-conf row');
    const step: Attack = { ...a, id: 'guard-missing' };
    const { jobId, host, release } = await runningJob(step);
    const so = path.join(root, 'guard', GUARD_SO);
    fs.renameSync(so, `${so}.away`);
    const late: Attack = { id: 'guard-missing-late', note: '', opts: ['-p', 'xspot'], env: a.env, safe: 'exorun' };
    try {
      // WHEN the attacker starts a step in it (with a client that loads no plugin)
      const fill = prepare(a);
      const r = runAs(who, 'srun', [`--jobid=${jobId}`, '--overlap', 'bash', '-c', payload(step)], {
        env: userEnv(a, fill),
        cwd: root,
        timeoutMs: 30_000,
      });
      // THEN it does not start
      expect(`${r.stdout}${r.stderr}`).toMatch(/launch failed/);
      // AND an X-Spot job submitted now never runs its script: slurmstepd aborts the batch step
      // (Slurm 22.05 then reports the job COMPLETED, without output; the runtime checks the plugin
      // before the controller joins, so this is the last line, not the normal path)
      const lateId = jobIdOf(submitBatch(late, false).stdout);
      await finished(lateId);
      expect(slurmdLog()).toMatch(new RegExp(`\\[${lateId}\\.batch\\] error: Plugin stack initialization failed`));
      expect(fs.readdirSync(path.join(root, 'out')).filter((f) => f.startsWith(late.id))).toEqual([]);
    } finally {
      fs.renameSync(`${so}.away`, so);
      release();
    }
    expect(marks(step)).toEqual([]);
    expect(marks(host)).toEqual(['inside']);
    expect(marks(late)).toEqual([]);
  }, 120_000);
});
