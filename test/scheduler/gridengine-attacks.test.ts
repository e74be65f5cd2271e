/**
 * The Grid Engine attack table (attacks.ts) against a real single-host cell running the rendered
 * JSV (server-side jsv_url), the FORCED xspot_job complex, the rendered X-Spot queues and their
 * starter_method, submitted as an unprivileged account. Each payload records where it ran; a
 * "native" record from an X-Spot row fails the test, and every exorun call must be within the
 * limits (16 CPUs, 64 GB, an approved image).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Attack, GE_ATTACKS } from './attacks';
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

const GE = '/usr/lib/gridengine';
const skipReason = missingPrerequisite([`${GE}/sge_qmaster`, `${GE}/sge_execd`, `${GE}/qsub`, 'setpriv', 'useradd']);
if (skipReason) console.warn(`skipping the Grid Engine attack tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

const FAKE_COMMANDS = ['mkdir', 'mktemp', 'chmod', 'getent', 'id', 'cut', 'rm', 'cat', 'cp', 'head'];

maybe('Grid Engine attack table: a hostile user gets no native execution on a controller', () => {
  let root = '';
  let cell = '';
  let host = '';
  let cellEnv: Record<string, string> = {};
  let who: Attacker;
  const queued: { a: Attack; jobId: string }[] = [];

  const adminEnv = (): NodeJS.ProcessEnv => ({ PATH: `${GE}:${process.env.PATH}`, LANG: 'C', ...cellEnv });
  const qconf = (...args: string[]) => mustRun(`${GE}/qconf`, args, { env: adminEnv() });

  beforeAll(() => {
    root = tempDir('xspot-ge-atk-');
    fs.chmodSync(root, 0o755);
    who = ensureAttacker();
    for (const d of ['out', 'marks', 'src', 'atk']) attackerDir(who, path.join(root, d));
    fs.chmodSync(path.join(root, 'marks'), 0o777);
    fs.writeFileSync(path.join(root, 'exorun.log'), '');
    fs.chmodSync(path.join(root, 'exorun.log'), 0o666);
    const exorun = installStandInExorun(root);
    host = mustRun('hostname', []).trim();
    const render = path.join(root, 'render');
    renderTo(
      render,
      { ...TEST_SETTINGS, type: 'gridengine', exorunPath: exorun, installDir: render, gridEngineHostList: host },
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
    if (who) fs.rmSync(path.join(who.home, '.sge_request'), { force: true });
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const mark = (a: Attack) => path.join(root, 'marks', a.id);
  const payload = (a: Attack) => `echo "\${STANDIN_INSIDE_EXORUN:-native}" >>'${mark(a)}'`;

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
        .replaceAll('@HOST@', host);
  }

  function userEnv(a: Attack, fill: (s: string) => string): NodeJS.ProcessEnv {
    const extra = Object.fromEntries(Object.entries(a.env ?? {}).map(([k, v]) => [k, fill(v)]));
    return {
      PATH: `${GE}:/usr/sbin:/usr/bin:/sbin:/bin`,
      LANG: 'C',
      HOME: who.home,
      USER: who.name,
      LOGNAME: who.name,
      STANDIN_LOG: path.join(root, 'exorun.log'),
      ...cellEnv,
      ...extra,
    };
  }

  function jobIdOf(stdout: string): string {
    const m = /Your job(?:-array)? (\d+)/.exec(stdout);
    if (!m) throw new Error(`no job id in: ${stdout}`);
    return m[1];
  }

  /** Submits the row's job, held, as the attacker. */
  function submit(a: Attack, optsOverride?: readonly string[]) {
    const fill = prepare(a);
    const script = fill(a.script ?? '#!/bin/bash\nPAYLOAD\n');
    const file = path.join(root, 'src', `${a.id}.sh`);
    fs.writeFileSync(file, script, { mode: 0o644 });
    const args = [
      '-h',
      '-j',
      'y',
      '-o',
      path.join(root, 'out', `${a.id}.$JOB_ID.out`),
      '-v',
      `STANDIN_LOG=${path.join(root, 'exorun.log')}`,
      ...(optsOverride ?? a.opts ?? []).map(fill),
      file,
      ...(a.args ?? []),
    ];
    return runAs(who, `${GE}/qsub`, args, { env: userEnv(a, fill), cwd: root });
  }

  const qstatJob = (jobId: string) => run(`${GE}/qstat`, ['-j', jobId], { env: adminEnv() }).stdout;

  test.each(GE_ATTACKS.map((a) => [a.id, a] as const))('%s', (_id, a) => {
    const via = a.via ?? 'batch';
    if (via === 'qrsh') {
      const fill = prepare(a);
      const r = runAs(who, `${GE}/qrsh`, ['-now', 'y', ...(a.opts ?? []), 'bash', '-c', payload(a)], {
        env: userEnv(a, fill),
        cwd: root,
        timeoutMs: 30_000,
      });
      expect({ id: a.id, refused: r.code !== 0 }).toEqual({ id: a.id, refused: true });
      return;
    }
    if (via === 'qalter') {
      // GIVEN a held job of the attacker's in all.q
      const fill = prepare(a);
      const jobId = jobIdOf(submit(a, ['-q', 'all.q']).stdout);
      // WHEN the attacker moves it into xspot
      const r = runAs(who, `${GE}/qalter`, [...(a.opts ?? []).map(fill), jobId], { env: userEnv(a, fill) });
      if (r.code !== 0) {
        // THEN either the move is refused (the job stays an ordinary all.q job) ...
        expect(qstatJob(jobId)).toMatch(/hard_queue_list:\s+all\.q/);
        queued.push({ a: { ...a, safe: 'untouched' }, jobId });
      } else {
        // ... or the starter is the last line (checked after release)
        queued.push({ a, jobId });
      }
      return;
    }
    const requestFile = path.join(who.home, '.sge_request');
    if (via === 'sge-request') fs.writeFileSync(requestFile, '-q xspot\n');
    let r: ReturnType<typeof submit>;
    try {
      r = submit(a);
    } finally {
      fs.rmSync(requestFile, { force: true });
    }
    if (typeof a.safe === 'object') {
      expect({ id: a.id, refused: r.code !== 0 }).toEqual({ id: a.id, refused: true });
      expect(r.stderr + r.stdout).toMatch(a.safe.rejected);
      expect(r.stdout).not.toMatch(/Your job/);
      return;
    }
    expect({ id: a.id, code: r.code, stderr: r.stderr }).toEqual({ id: a.id, code: 0, stderr: '' });
    const jobId = jobIdOf(r.stdout);
    const j = qstatJob(jobId);
    if (a.safe === 'exorun') {
      expect(j).toMatch(/hard resource_list:\s+.*xspot_job=TRUE/);
      expect(j).toMatch(/hard_queue_list:\s+(xspot|chipspot)(,(xspot|chipspot))*\s*$/m);
    }
    if (a.safe === 'untouched') expect(j).not.toMatch(/xspot_job/);
    queued.push({ a, jobId });
  });

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

  function withinLimits(a: Attack, call: string[]) {
    const [verb, c, cpus, m, gb, i, image] = call;
    expect({ id: a.id, flags: [verb, c, m, i] }).toEqual({ id: a.id, flags: ['run', '-c', '-m', '-i'] });
    expect(Number(cpus)).toBeLessThanOrEqual(TEST_SETTINGS.maxCpus);
    expect(Number(gb)).toBeLessThanOrEqual(TEST_SETTINGS.maxMemoryGb);
    expect(TEST_SETTINGS.approvedImages).toContain(image);
  }

  test('every accepted row ran only through exorun, within the limits', async () => {
    expect(queued.length).toBeGreaterThan(10);
    for (const q of queued) mustRun(`${GE}/qrls`, [q.jobId], { env: adminEnv() });
    // Done: gone from qstat, or in error state (a job the starter refused stays as Eqw).
    await waitFor(
      'the released jobs to finish',
      () => {
        const lines = mustRun(`${GE}/qstat`, ['-u', '*'], { env: adminEnv() }).split('\n');
        const live = lines
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => queued.some((q) => q.jobId === f[0]) && !(f[4] ?? '').includes('E'));
        return live.length > 0 ? undefined : true;
      },
      120_000,
    );
    for (const { a, jobId } of queued) {
      const calls = invocations(jobId);
      if (a.safe === 'untouched') {
        expect({ id: a.id, calls }).toEqual({ id: a.id, calls: [] });
        continue;
      }
      const seen = [...new Set(marks(a))];
      if (a.safe === 'never-native') {
        expect({ id: a.id, native: seen.includes('native') }).toEqual({ id: a.id, native: false });
        for (const call of calls) withinLimits(a, call);
        continue;
      }
      expect({ id: a.id, marks: seen }).toEqual({ id: a.id, marks: ['inside'] });
      expect({ id: a.id, calls: calls.length }).toEqual({ id: a.id, calls: 1 });
      withinLimits(a, calls[0]);
      if (a.args) expect(calls[0].slice(9)).toEqual(a.args);
    }
    for (const a of GE_ATTACKS.filter((r) => typeof r.safe === 'object')) {
      expect({ id: a.id, marks: marks(a) }).toEqual({ id: a.id, marks: [] });
    }
    run(
      `${GE}/qdel`,
      queued.map((q) => q.jobId),
      { env: adminEnv() },
    );
  }, 180_000);
});
