/**
 * Grid Engine membership on a real cell (gridengine-cluster.sh): the rendered X-Spot queues on
 * an empty @xspot host group, and the runtime's own scripts (scheduler-join.sh,
 * scheduler-leave.sh, scheduler-state.sh) adding this machine's execution host to the group with
 * a host-level `slots` complex, and removing it again. Proves: the join adds the exec host and
 * its slots (a second join changes nothing); N+5 jobs spread over two X-Spot queues, each queue
 * with N slots of its own, never run more than N at once on the host (the host complex caps
 * both queues together; counted from the jobs' own start/end records); leave disables the queue
 * instances with a job running (it finishes, a job queued meanwhile does not start), then takes
 * the host out of the group and deletes it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_SETTINGS } from './cases';
import {
  HERE,
  installStandInExorun,
  missingPrerequisite,
  mustRun,
  type RunResult,
  renderTo,
  run,
  tempDir,
  waitFor,
} from './helpers';

const GE = '/usr/lib/gridengine';
const skipReason = missingPrerequisite([`${GE}/sge_qmaster`, `${GE}/sge_execd`, `${GE}/qsub`, `${GE}/qconf`]);
if (skipReason) console.warn(`skipping the Grid Engine membership tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

const RUNTIME = path.resolve(HERE, '../../assets/controller-runtime/scripts');
const SLOTS = 3;

maybe('Grid Engine: a controller joins and leaves the X-Spot host group (real cell)', () => {
  let root = '';
  let cell = '';
  let host = '';
  let cellEnv: Record<string, string> = {};
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: `${GE}:${process.env.PATH}`,
    LANG: 'C',
    HOME: path.join(root, 'home'),
    ...cellEnv,
    ...extra,
  });
  const qconf = (...args: string[]) => mustRun(`${GE}/qconf`, args, { env: env() });
  const script = (name: string, args: string[] = [], timeoutMs = 90_000): RunResult =>
    run('bash', [path.join(RUNTIME, name), ...args], {
      timeoutMs,
      env: env({
        XSPOT_ROOT: path.join(root, 'sysroot'),
        XSPOT_POLL_SECONDS: '1',
        XSPOT_SCHEDULER: 'gridengine',
        XSPOT_SCHED_NODE_NAME: host,
        XSPOT_SCHED_SLOTS: String(SLOTS),
        XSPOT_SCHED_QUEUES: 'xspot chipspot',
        XSPOT_SCHED_START: 'direct',
      }),
    });
  const inGroup = (): string[] =>
    qconf('-shgrp_resolved', '@xspot')
      .trim()
      .split(/\s+/)
      .filter((h) => h !== '' && h !== 'NONE');
  const submit = (queue: string, name: string, seconds: number): string => {
    const job = path.join(root, 'jobs-src', `${name}.sh`);
    fs.writeFileSync(
      job,
      `#!/bin/bash\necho "$(date +%s.%N) start ${name} $(hostname)" >> ${root}/events\nsleep ${seconds}\n` +
        `echo "$(date +%s.%N) end ${name}" >> ${root}/events\n`,
    );
    fs.chmodSync(job, 0o755);
    const out = mustRun(
      `${GE}/qsub`,
      ['-terse', '-q', queue, '-N', name, '-o', path.join(root, 'out'), '-e', path.join(root, 'out'), job],
      { env: env() },
    );
    return out.trim().split('\n').pop() ?? '';
  };
  const jobState = (id: string): string => {
    const line = run(`${GE}/qstat`, ['-u', '*'], { env: env() })
      .stdout.split('\n')
      .find((l) => l.trim().split(/\s+/)[0] === id);
    return line ? line.trim().split(/\s+/)[4] : 'GONE';
  };
  const events = (): string => fs.readFileSync(path.join(root, 'events'), 'utf8');

  beforeAll(() => {
    root = tempDir('xspot-ge-membership-');
    for (const d of ['out', 'home', 'jobs', 'jobs-src', 'sysroot']) fs.mkdirSync(path.join(root, d));
    fs.writeFileSync(path.join(root, 'events'), '');
    const exorun = installStandInExorun(root);
    host = mustRun('hostname', []).trim();
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
        slotsPerController: SLOTS,
        gridEngineHostList: '@xspot',
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
    // The site's own queue leaves this host: the host is then only a controller.
    qconf('-dq', 'all.q');
    const group = path.join(root, 'xspot.hgrp');
    fs.writeFileSync(group, 'group_name @xspot\nhostlist NONE\n');
    qconf('-Ahgrp', group);
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
    if (cell) {
      run(`${GE}/qdel`, ['-u', '*'], { env: env() });
      run('bash', [path.join(HERE, 'gridengine-cluster.sh'), 'stop', cell]);
    }
    if (root && !process.env.XSPOT_TEST_KEEP) fs.rmSync(root, { recursive: true, force: true });
  });

  test('the rendered X-Spot queues name the host group, never a host', () => {
    for (const q of ['xspot', 'chipspot']) {
      expect(qconf('-sq', q)).toMatch(/^hostlist\s+@xspot$/m);
      expect(qconf('-sq', q)).toMatch(new RegExp(`^slots\\s+${SLOTS}$`, 'm'));
    }
    expect(inGroup()).toEqual([]);
  });

  test('join adds the exec host to @xspot with a host-level slots complex; again changes nothing', () => {
    const r = script('scheduler-join.sh');
    expect(r.code).toBe(0);
    expect(inGroup()).toEqual([host]);
    expect(qconf('-se', host)).toMatch(new RegExp(`^complex_values\\s+.*slots=${SLOTS}`, 'm'));
    /** The host's definition without its load report (which changes by itself), and the group. */
    const definition = () =>
      `${qconf('-se', host).replace(/^load_values[\s\S]*?^(?=processors)/m, '')}${qconf('-shgrp', '@xspot')}`;
    const before = definition();
    const again = script('scheduler-join.sh');
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/adding|setting slots/);
    expect(definition()).toBe(before);
    expect(script('scheduler-state.sh').stdout.trim()).toBe(
      `XSPOT-SCHEDULER scheduler=gridengine node=${host} state=registered jobs=0`,
    );
  }, 120_000);

  test(`${SLOTS + 5} jobs over two X-Spot queues (${SLOTS} slots each) never run more than ${SLOTS} at once`, async () => {
    const ids = Array.from({ length: SLOTS + 5 }, (_, i) =>
      submit(i % 2 === 0 ? 'xspot' : 'chipspot', `limit-${i}`, 4),
    );
    await waitFor(
      'all limit jobs to finish',
      () => (ids.every((id) => jobState(id) === 'GONE') ? true : undefined),
      180_000,
    );
    const recorded = events()
      .trim()
      .split('\n')
      .filter((l) => l.includes(' limit-'))
      .map((l) => l.split(' '))
      .map(([t, kind]) => ({ t: Number(t), kind }));
    expect(recorded.filter((e) => e.kind === 'start')).toHaveLength(SLOTS + 5);
    let running = 0;
    let most = 0;
    for (const e of [...recorded].sort((a, b) => a.t - b.t || (a.kind === 'end' ? -1 : 1))) {
      running += e.kind === 'start' ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(SLOTS);
  }, 240_000);

  test('leave disables the queue instances with a job running: it finishes, then the host is removed', async () => {
    const long = submit('xspot', 'drain-running', 8);
    await waitFor('the job to run', () => (jobState(long) === 'r' ? true : undefined), 60_000);
    const r = script('scheduler-leave.sh', ['--timeout', '90'], 120_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/closing \S+ to new jobs[\s\S]*1 job\(s\) run on[\s\S]*removed from @xspot/);
    expect(events()).toMatch(/ end drain-running\n/);
    expect(inGroup()).toEqual([]);
    expect(run(`${GE}/qconf`, ['-se', host], { env: env() }).code).not.toBe(0);
    expect(script('scheduler-state.sh').stdout).toContain('state=missing');
  }, 180_000);

  test('a job queued while the host is disabled does not start there', async () => {
    // GIVEN the host joined again and is closed
    expect(script('scheduler-join.sh').code).toBe(0);
    expect(script('scheduler-leave.sh', ['close']).code).toBe(0);
    expect(script('scheduler-state.sh').stdout).toContain('state=draining');
    // WHEN a job is queued
    const waiting = submit('chipspot', 'after-close', 1);
    await new Promise((r) => setTimeout(r, 6000));
    // THEN it waits; reopening (join) lets it run
    expect(jobState(waiting)).toBe('qw');
    expect(events()).not.toContain('start after-close');
    expect(script('scheduler-join.sh').code).toBe(0);
    await waitFor('the waiting job to finish', () => (jobState(waiting) === 'GONE' ? true : undefined), 90_000);
    expect(events()).toContain('start after-close');
    expect(script('scheduler-leave.sh', ['--timeout', '30']).code).toBe(0);
  }, 180_000);
});
