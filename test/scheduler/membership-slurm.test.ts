/**
 * Slurm membership on a real cluster: slurmctld + a static node on this machine (slurm-cluster.sh,
 * started with the rendered slurm.conf lines), and a second "controller" host in a network
 * namespace the test creates (netns-host.sh) where the runtime's own scripts
 * (scheduler-join.sh, scheduler-leave.sh, scheduler-state.sh) run slurmd as a dynamic node.
 * Proves: the node registers into the X-Spot partitions with slots as CPUs; a second join is a
 * no-op and a restarted slurmd keeps the node; N+5 queued jobs across two X-Spot partitions never
 * run more than N at once on the controller (counted from the jobs' own start/end records);
 * the runtime's step guard is required on the controller (a join without it in plugstack.conf
 * is refused; srun into a running X-Spot job there is refused, while the static node runs steps);
 * leave drains with a job running (it finishes, a job queued meanwhile does not start there) and
 * removes the node; a replacement registers under a new name and takes the waiting job.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSchedulerFiles } from '../../lib/scheduler/render';
import { DEFAULT_SCHEDULER_SETTINGS, type SchedulerSettings } from '../../lib/scheduler/types';
import { HERE, missingPrerequisite, mustRun, type RunResult, run, tempDir, waitFor } from './helpers';

const skipReason = missingPrerequisite([
  'munged',
  'slurmctld',
  'slurmd',
  'sbatch',
  'scontrol',
  'ip',
  'nsenter',
  'cc',
  '/usr/include/slurm/spank.h',
]);
if (skipReason) console.warn(`skipping the Slurm membership tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

const RUNTIME = path.resolve(HERE, '../../assets/controller-runtime/scripts');
const SLOTS = 3;
const NS = `xsm${process.pid % 100000}`;
const OCTET = 16 + (process.pid % 200);
const HOST_ADDR = `10.231.${OCTET}.1`;
const NS_ADDR = `10.231.${OCTET}.2`;

const SETTINGS: SchedulerSettings = {
  ...DEFAULT_SCHEDULER_SETTINGS,
  queues: ['xspot', 'chipspot'],
  slotsPerController: SLOTS,
  controllerCpus: 1,
  controllerMemoryMb: 50,
  maxControllers: 2,
};

/** The rendered slurm.conf lines that are settings (comments and the lua plugin left out). */
function renderedConfLines(): string[] {
  const snippet = renderSchedulerFiles(SETTINGS, ['slurm'])['slurm/slurm.conf.snippet'].content;
  return (
    snippet
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      // (Prolog/Epilog: the submit keys, tested in submit-slurm.test.ts with the helper installed)
      .filter((l) => !/^(JobSubmitPlugins|SlurmdParameters|Prolog|Epilog)=/.test(l))
  );
}

maybe('Slurm: controllers join and leave as dynamic nodes (real slurmctld, second host in a netns)', () => {
  let root = '';
  let cluster = '';
  let nsConf = '';
  let env: NodeJS.ProcessEnv = {};

  const slurm = (cmd: string, args: string[]): string => mustRun(cmd, args, { env });
  const nsPlugstack = () => path.join(root, 'ns-plugstack.conf');
  const guardFragment = () => path.join(root, 'root/usr/libexec/xspot-cdk/slurm/plugstack.conf');
  let waitingJob = '';
  const nsEnv = (node: string): NodeJS.ProcessEnv => ({
    ...process.env,
    SLURM_CONF: nsConf,
    XSPOT_ROOT: path.join(root, 'root'),
    XSPOT_POLL_SECONDS: '1',
    XSPOT_SCHEDULER: 'slurm',
    XSPOT_SCHED_NODE_NAME: node,
    XSPOT_SCHED_NODE_ADDR: NS_ADDR,
    XSPOT_SCHED_SLOTS: String(SLOTS),
    XSPOT_SCHED_LAUNCHER_CPUS: '1',
    XSPOT_SCHED_LAUNCHER_MEMORY_MB: '50',
    XSPOT_SCHED_START: 'direct',
    XSPOT_SCHED_JOIN_SECONDS: '60',
  });
  const nsArgs = (script: string, args: string[]) => [
    `--net=/var/run/netns/${NS}`,
    'bash',
    path.join(RUNTIME, script),
    ...args,
  ];
  const inNsAsync = (script: string, node: string, args: string[]): Promise<RunResult> =>
    new Promise((resolve) => {
      const child = spawn('nsenter', nsArgs(script, args), { env: nsEnv(node) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (code) => resolve({ code: code ?? 128, stdout, stderr }));
    });
  const inNs = (script: string, node: string, args: string[] = [], timeoutMs = 90_000): RunResult =>
    run('nsenter', nsArgs(script, args), { timeoutMs, env: nsEnv(node) });
  const nodeLine = (node: string): string | undefined => {
    const r = run('scontrol', ['-o', 'show', 'node', node], { env });
    return r.code === 0 ? r.stdout : undefined;
  };
  const field = (line: string, key: string): string => new RegExp(`(?:^| )${key}=(\\S*)`).exec(line)?.[1] ?? '';
  const slurmdPid = (node: string): string => fs.readFileSync(path.join(root, `slurmd-${node}.pid`), 'utf8').trim();
  /** A job that records its own start and end (epoch seconds) in DIR/events. */
  const submit = (partition: string, name: string, seconds: number): string =>
    slurm('sbatch', [
      '--parsable',
      '-p',
      partition,
      '-J',
      name,
      '-c',
      String(SETTINGS.controllerCpus),
      `--mem=${SETTINGS.controllerMemoryMb}`,
      '-o',
      path.join(root, 'out', `${name}.out`),
      '--wrap',
      `echo "$(date +%s.%N) start ${name} $(hostname)/$SLURMD_NODENAME" >> ${root}/events; sleep ${seconds}; ` +
        `echo "$(date +%s.%N) end ${name}" >> ${root}/events`,
    ]).trim();
  const jobState = (id: string): string =>
    run('squeue', ['-h', '-j', id, '-o', '%T %N'], { env }).stdout.trim() || 'GONE';

  beforeAll(() => {
    root = tempDir('xspot-membership-');
    for (const d of ['out', 'root']) fs.mkdirSync(path.join(root, d));
    fs.writeFileSync(path.join(root, 'events'), '');
    cluster = path.join(root, 'cluster');
    fs.mkdirSync(cluster);
    mustRun('bash', [path.join(HERE, 'netns-host.sh'), 'up', NS, HOST_ADDR, NS_ADDR]);
    const out = mustRun('bash', [path.join(HERE, 'slurm-cluster.sh'), 'start', cluster, ...renderedConfLines()], {
      timeoutMs: 90_000,
    });
    env = { ...process.env, SLURM_CONF: /SLURM_CONF=(\S+)/.exec(out)?.[1] ?? '' };
    // The namespace host's view: slurmctld at the veth address, its own slurmd spool/pid/log.
    nsConf = path.join(cluster, 'slurm-ns.conf');
    const conf = fs
      .readFileSync(path.join(cluster, 'slurm.conf'), 'utf8')
      .replace(/^SlurmctldHost=(.*)\(127\.0\.0\.1\)$/m, `SlurmctldHost=$1(${HOST_ADDR})`)
      .replace(/^SlurmdSpoolDir=.*$/m, `SlurmdSpoolDir=${root}/spool-%n`)
      .replace(/^SlurmdPidFile=.*$/m, `SlurmdPidFile=${root}/slurmd-%n.pid`)
      .replace(/^SlurmdLogFile=.*$/m, `SlurmdLogFile=${root}/slurmd-%n.log`);
    // the controller's own plugstack.conf (the static node here reads none); the line that
    // includes the step guard is added by the test that shows a join without it is refused
    fs.writeFileSync(nsConf, `${conf}PlugStackConfig=${nsPlugstack()}\n`);
    fs.writeFileSync(nsPlugstack(), '# the site plugstack.conf\n');
  }, 120_000);

  afterAll(() => {
    if (!root) return;
    run('scancel', ['-u', 'root'], { env });
    for (const node of ['xspot-ctl-a', 'xspot-ctl-b']) {
      const pidFile = path.join(root, `slurmd-${node}.pid`);
      if (fs.existsSync(pidFile)) run('kill', [fs.readFileSync(pidFile, 'utf8').trim()]);
    }
    run('bash', [path.join(HERE, 'slurm-cluster.sh'), 'stop', cluster], { timeoutMs: 60_000 });
    run('bash', [path.join(HERE, 'netns-host.sh'), 'down', NS]);
    fs.rmSync(root, { recursive: true, force: true });
  }, 90_000);

  test('the rendered lines have no placeholders and make an empty X-Spot nodeset', () => {
    const lines = renderedConfLines();
    expect(lines.join('\n')).not.toMatch(/[<>{}]/);
    expect(lines).toContain('Nodeset=xspot_controllers Feature=xspot');
    const parts = slurm('sinfo', ['-h', '-o', '%P %D']).trim().split('\n');
    expect(parts).toEqual(expect.arrayContaining(['xspot 0', 'chipspot 0']));
  });

  test('join refuses a controller whose plugstack.conf does not include the step guard (slurmd not started)', () => {
    const r = inNs('scheduler-join.sh', 'xspot-ctl-a');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain(`does not include the step guard: add the line 'include ${guardFragment()}'`);
    expect(fs.existsSync(path.join(root, 'slurmd-xspot-ctl-a.pid'))).toBe(false);
    expect(nodeLine('xspot-ctl-a')).toBeUndefined();
    // the site adds the line (harmless on nodes without the fragment)
    fs.appendFileSync(nsPlugstack(), `include ${guardFragment()}\n`);
  });

  test('join registers a dynamic node (slots as CPUs) into every X-Spot partition; again is a no-op', () => {
    const r = inNs('scheduler-join.sh', 'xspot-ctl-a');
    expect(r.code).toBe(0);
    const line = nodeLine('xspot-ctl-a') ?? '';
    expect(field(line, 'CPUTot')).toBe(String(SLOTS));
    expect(field(line, 'AvailableFeatures')).toBe('xspot');
    expect(field(line, 'NodeAddr')).toBe(NS_ADDR);
    expect(field(line, 'Partitions').split(',').sort()).toEqual(['chipspot', 'xspot']);
    expect(field(line, 'State')).toMatch(/^IDLE/);
    const pid = slurmdPid('xspot-ctl-a');

    const again = inNs('scheduler-join.sh', 'xspot-ctl-a');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('slurmd runs here');
    expect(again.stdout).not.toContain('registering');
    expect(slurmdPid('xspot-ctl-a')).toBe(pid);
    const state = inNs('scheduler-state.sh', 'xspot-ctl-a');
    expect(state.stdout.trim()).toBe('XSPOT-SCHEDULER scheduler=slurm node=xspot-ctl-a state=registered jobs=0');
  }, 120_000);

  test('on the controller no step starts but the batch step: srun into its running job is refused; the static node runs steps', async () => {
    // GIVEN an X-Spot job running on the controller
    const id = submit('xspot', 'step-host', 10);
    await waitFor(
      'the job to run',
      () => (jobState(id) === 'RUNNING xspot-ctl-a' ? true : undefined),
      60_000,
      () => jobState(id),
    );
    // WHEN a step is started into it  THEN slurmstepd refuses it and its command never runs
    const marker = path.join(root, 'out', 'step-ran');
    const step = run('srun', [`--jobid=${id}`, '--overlap', 'bash', '-c', `touch ${marker}`], {
      env,
      timeoutMs: 30_000,
    });
    expect(step.stderr).toMatch(/Plugin initialization failed/);
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.readFileSync(path.join(root, 'slurmd-xspot-ctl-a.log'), 'utf8')).toMatch(
      new RegExp(`xspot_step_guard: job ${id}: .* refused`),
    );
    // AND a job on the static node (another partition, no guard there) runs srun steps as usual
    const other = path.join(root, 'out', 'debug-step-ran');
    const ok = run('srun', ['-p', 'debug', '--mem=50', 'bash', '-c', `touch ${other}`], { env, timeoutMs: 60_000 });
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect(fs.existsSync(other)).toBe(true);
    // AND the X-Spot batch job itself is unaffected: it runs to its end
    await waitFor(
      'the job to end',
      () => (jobState(id) === 'GONE' ? true : undefined),
      60_000,
      () => jobState(id),
    );
    expect(fs.readFileSync(path.join(root, 'events'), 'utf8')).toMatch(/ end step-host\n/);
  }, 120_000);

  test('a restarted slurmd keeps its node (same name, no second node)', async () => {
    const pid = slurmdPid('xspot-ctl-a');
    run('kill', [pid]);
    await waitFor('slurmd to stop', () => (run('kill', ['-0', pid]).code !== 0 ? true : undefined));
    const r = inNs('scheduler-join.sh', 'xspot-ctl-a');
    expect(r.code).toBe(0);
    // slurmctld may still list the node as up (SlurmdTimeout): the local daemon decides
    expect(r.stdout).toContain('slurmd does not run here: starting it');
    expect(slurmdPid('xspot-ctl-a')).not.toBe(pid);
    const nodes = slurm('sinfo', ['-h', '-N', '-p', 'xspot', '-o', '%N']).trim().split('\n');
    expect(nodes).toEqual(['xspot-ctl-a']);
    expect(field(nodeLine('xspot-ctl-a') ?? '', 'State')).toMatch(/^IDLE/);
  }, 120_000);

  test(`${SLOTS + 5} queued jobs across two X-Spot partitions never run more than ${SLOTS} at once`, async () => {
    const ids = Array.from({ length: SLOTS + 5 }, (_, i) =>
      submit(i % 2 === 0 ? 'xspot' : 'chipspot', `limit-${i}`, 3),
    );
    await waitFor(
      'all limit jobs to finish',
      () => (ids.every((id) => jobState(id) === 'GONE') ? true : undefined),
      120_000,
    );
    const events = fs
      .readFileSync(path.join(root, 'events'), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l.includes(' limit-'))
      .map((l) => l.split(' '))
      .map(([t, kind, name, where]) => ({ t: Number(t), kind, name, where }));
    const starts = events.filter((e) => e.kind === 'start');
    expect(starts).toHaveLength(SLOTS + 5);
    expect(new Set(starts.map((e) => e.where.split('/')[1]))).toEqual(new Set(['xspot-ctl-a']));
    let running = 0;
    let most = 0;
    for (const e of [...events].sort((a, b) => a.t - b.t || (a.kind === 'end' ? -1 : 1))) {
      running += e.kind === 'start' ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(SLOTS);
  }, 150_000);

  test('leave drains with a job running: it finishes, no new job starts there, the node is removed', async () => {
    const long = submit('xspot', 'drain-running', 8);
    await waitFor('the job to run', () => (jobState(long).startsWith('RUNNING') ? true : undefined));
    const leave = inNsAsync('scheduler-leave.sh', 'xspot-ctl-a', ['--timeout', '60']);
    await waitFor('the node to drain', () =>
      /DRAIN/.test(field(nodeLine('xspot-ctl-a') ?? '', 'State')) ? true : undefined,
    );
    expect(inNs('scheduler-state.sh', 'xspot-ctl-a').stdout).toContain('state=draining jobs=1');
    waitingJob = submit('chipspot', 'after-drain', 1);
    const r = await leave;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/closing xspot-ctl-a to new jobs[\s\S]*1 job\(s\) run on xspot-ctl-a[\s\S]*removed/);
    const events = fs.readFileSync(path.join(root, 'events'), 'utf8');
    expect(events).toMatch(/ end drain-running\n/);
    expect(events).not.toContain('start after-drain');
    expect(jobState(waitingJob)).toMatch(/^PENDING/);
    expect(nodeLine('xspot-ctl-a')).toBeUndefined();
    expect(slurm('sinfo', ['-h', '-N', '-p', 'xspot', '-o', '%N']).trim()).toBe('');
    expect(inNs('scheduler-state.sh', 'xspot-ctl-a').stdout).toContain('state=missing');
  }, 120_000);

  test('a replacement registers under a new name and takes the waiting job', async () => {
    const joined = inNs('scheduler-join.sh', 'xspot-ctl-b');
    expect(joined.code).toBe(0);
    await waitFor('the waiting job to finish', () => (jobState(waitingJob) === 'GONE' ? true : undefined), 60_000);
    expect(fs.readFileSync(path.join(root, 'events'), 'utf8')).toMatch(/ start after-drain \S+\/xspot-ctl-b\n/);
    expect(slurm('sinfo', ['-h', '-N', '-p', 'xspot', '-o', '%N']).trim()).toBe('xspot-ctl-b');
    expect(inNs('scheduler-leave.sh', 'xspot-ctl-b', ['--timeout', '30']).code).toBe(0);
    expect(nodeLine('xspot-ctl-b')).toBeUndefined();
  }, 150_000);
});
