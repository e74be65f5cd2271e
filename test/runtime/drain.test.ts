/**
 * bin/drain.sh, bin/undrain.sh and the lifecycle watcher: the terminate path of a controller.
 */
import { inOrder, matching, Sandbox, type SandboxOptions } from './harness';

const IID = 'i-0123456789abcdef0';
const CONTINUE = `aws autoscaling complete-lifecycle-action --region us-east-1 --auto-scaling-group-name xspot-controllers-Asg-ABC123 --lifecycle-hook-name xspot-terminate --instance-id ${IID} --lifecycle-action-result CONTINUE`;
const HEARTBEAT = `aws autoscaling record-lifecycle-action-heartbeat --region us-east-1 --auto-scaling-group-name xspot-controllers-Asg-ABC123 --lifecycle-hook-name xspot-terminate --instance-id ${IID}`;
const DRAIN = 'scontrol update nodename=';

let sb: Sandbox;
const sandbox = (opts?: SandboxOptions) => {
  sb = new Sandbox(opts);
  sb.write('/var/log/xspot/xspot.log', 'controller log\n');
  return sb;
};
afterEach(() => sb?.cleanup());

/** The final flush: log-sync.sh's sync of the runtime's own logs, which every run makes (log-sync.test.ts covers LOG_PATH's). */
const logSync = (s: Sandbox) =>
  `aws s3 sync ${s.path('/var/log/xspot-cdk')} s3://xspot-logs-123456789012/xspot/xspot-cdk/${IID}/`;

describe('bin/drain.sh', () => {
  test('stops new work, waits for running containers, flushes logs, then CONTINUE', () => {
    // GIVEN three polls that still see a running container
    const s = sandbox({ deployEnv: { XSPOT_HEARTBEAT_SECONDS: '0' } });
    s.setState('docker_ps', '3');
    // WHEN the node drains
    const r = s.run('bin/drain.sh');
    // THEN it waited until docker reported no container, heartbeating, and only then went on
    expect(r.status).toBe(0);
    const calls = s.calls();
    expect(matching(calls, 'docker ps -q')).toHaveLength(4);
    expect(matching(calls, HEARTBEAT)).toHaveLength(3);
    const expected = [DRAIN, 'docker ps -q', 'docker ps -q', 'docker ps -q', 'docker ps -q', logSync(s), CONTINUE];
    expect(inOrder(calls, expected)).toEqual(expected);
    expect(matching(calls, DRAIN)[0]).toMatch(/^scontrol update nodename=\S+ state=drain reason=xspot-cdk-drain$/);
    expect(r.stdout).toContain('no X-Spot containers running');
    expect(s.read('/var/log/xspot-cdk/drain.log')).toContain('final log sync');
  });

  test('filters docker ps on X-Spot containers when a filter is configured', () => {
    const s = sandbox({ runtimeEnv: { XSPOT_CONTAINER_FILTER: 'label=xspot' } });
    s.setState('docker_ps', '1');
    expect(s.run('bin/drain.sh').status).toBe(0);
    expect(matching(s.calls(), 'docker ps')).toEqual([
      'docker ps -q --filter label=xspot',
      'docker ps -q --filter label=xspot',
    ]);
  });

  test('gives up waiting at the timeout and still flushes logs and continues', () => {
    const s = sandbox();
    s.setState('docker_ps', '100000');
    const r = s.run('bin/drain.sh', ['--timeout', '1'], { XSPOT_POLL_SECONDS: '0.2' });
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/container\(s\) still running after \d+s \(timeout 1s\): going on/);
    const expected = [logSync(s), CONTINUE];
    expect(inOrder(s.calls(), expected)).toEqual(expected);
  });

  test('a failing drain command does not stop the drain', () => {
    const s = sandbox();
    const r = s.run('bin/drain.sh', [], { STUB_FAIL: 'scontrol' });
    expect(r.status).toBe(0);
    expect(r.output).toContain('drain command failed');
    expect(matching(s.calls(), CONTINUE)).toHaveLength(1);
  });

  test('--no-lifecycle drains and flushes without touching the lifecycle action', () => {
    const s = sandbox();
    s.setState('docker_ps', '1');
    const r = s.run('bin/drain.sh', ['--no-lifecycle']);
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'aws autoscaling')).toEqual([]);
    expect(matching(s.calls(), logSync(s))).toHaveLength(1);
  });

  test('without a terminate hook or scheduler command it only waits and flushes', () => {
    const s = sandbox({ deployEnv: { XSPOT_TERMINATE_HOOK: '' }, runtimeEnv: { XSPOT_DRAIN_COMMAND: '' } });
    const r = s.run('bin/drain.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'aws autoscaling', 'scontrol')).toEqual([]);
    expect(r.output).toContain('no XSPOT_DRAIN_COMMAND configured');
  });

  test('still ends the lifecycle action when the config bundle is broken', () => {
    const s = sandbox({ deployEnv: { XSPOT_DRAIN_TIMEOUT_SECONDS: 'soon' } });
    s.write(`/opt/xspot-cdk/releases/${s.version}/conf/env.cfg`, '');
    const r = s.run('bin/drain.sh');
    expect(r.status).toBe(0);
    expect(r.output).toContain('final log sync failed');
    expect(matching(s.calls(), CONTINUE)).toHaveLength(1);
  });

  test('a host without docker has nothing to wait for', () => {
    const s = sandbox();
    const r = s.run('bin/drain.sh', [], { PATH: s.pathWithout('docker') });
    expect(r.status).toBe(0);
    expect(r.output).toContain('no X-Spot containers running');
    expect(matching(s.calls(), CONTINUE)).toHaveLength(1);
  });
});

/** conf/runtime.env of a Slurm site with membership on (scheduler-leave.sh drains and removes). */
const SLURM = {
  XSPOT_SCHEDULER: 'slurm',
  XSPOT_SCHED_SLOTS: '3',
  XSPOT_SCHED_NODE_NAME: 'ip-10-0-1-23',
  XSPOT_SCHED_NODE_ADDR: '10.0.1.23',
};
const CLOSE = 'scontrol update nodename=ip-10-0-1-23 state=drain reason=xspot-cdk: controller leaving';
const REMOVE = 'scontrol delete nodename=ip-10-0-1-23';

describe('bin/drain.sh with scheduler membership (Slurm)', () => {
  /** A controller that joined: its slurmd runs (stub state) and slurmctld knows the node. */
  const joined = (opts: SandboxOptions = {}) => {
    const s = sandbox({ ...opts, runtimeEnv: { ...SLURM, ...opts.runtimeEnv } });
    s.setState('active/slurmd', '');
    return s;
  };

  test('terminate: closes, waits for containers and then for jobs, removes the node, then CONTINUE', () => {
    const s = joined();
    s.setState('docker_ps', '1');
    s.setState('squeue_jobs', '2');
    const r = s.run('bin/drain.sh');
    expect(r.status).toBe(0);
    const calls = s.calls();
    const expected = [
      CLOSE,
      'docker ps -q',
      'squeue',
      'squeue',
      'squeue',
      'systemctl disable --now slurmd',
      REMOVE,
      logSync(s),
      CONTINUE,
    ];
    expect(
      inOrder(
        calls.map((c) => (c.startsWith('squeue') ? 'squeue' : c)),
        expected,
      ),
    ).toEqual(expected);
    expect(r.stdout).toMatch(/1 job\(s\) run on ip-10-0-1-23[\s\S]*no job runs on ip-10-0-1-23[\s\S]*removed/);
  });

  test('jobs still running at the timeout: the node stays closed and registered; the lifecycle still ends', () => {
    const s = joined();
    s.setState('squeue_jobs', '100000');
    const r = s.run('bin/drain.sh', ['--timeout', '1'], { XSPOT_POLL_SECONDS: '0.2' });
    expect(r.status).toBe(0);
    expect(matching(s.calls(), REMOVE)).toEqual([]);
    expect(r.output).toContain('the node stays closed but registered in slurm');
    expect(matching(s.calls(), CONTINUE)).toHaveLength(1);
  });

  test('--no-lifecycle (fleet drain) closes but keeps the node; undrain reopens it', () => {
    const s = joined();
    expect(s.run('bin/drain.sh', ['--no-lifecycle']).status).toBe(0);
    expect(matching(s.calls(), CLOSE)).toHaveLength(1);
    expect(matching(s.calls(), REMOVE, 'systemctl disable', 'aws autoscaling')).toEqual([]);
    s.clearCalls();
    const r = s.run('bin/undrain.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'scontrol update')).toEqual(['scontrol update nodename=ip-10-0-1-23 state=resume']);
    expect(r.stdout).toContain('drained by an earlier leave');
  });

  test("undrain leaves a site admin's drain alone", () => {
    const s = joined();
    s.setState('slurm_drain', 'disk replacement');
    const r = s.run('bin/undrain.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'scontrol update')).toEqual([]);
    expect(r.stdout).toContain("drained by the site (reason 'disk replacement'): left drained");
  });
});

describe('bin/undrain.sh', () => {
  test('runs the configured undrain command', () => {
    const s = sandbox();
    expect(s.run('bin/undrain.sh').status).toBe(0);
    expect(matching(s.calls(), 'scontrol')).toEqual([
      expect.stringMatching(/^scontrol update nodename=\S+ state=resume$/),
    ]);
  });

  test('does nothing without one', () => {
    const s = sandbox({ runtimeEnv: { XSPOT_UNDRAIN_COMMAND: '' } });
    const r = s.run('bin/undrain.sh');
    expect(r.status).toBe(0);
    expect(s.calls()).toEqual([]);
  });
});

describe('scripts/lifecycle-watch.sh', () => {
  test('runs the drain when the target lifecycle state becomes Terminated', () => {
    const s = sandbox();
    s.setState('lifecycle_states', 'InService\nInService\nTerminated\n');
    const r = s.run('scripts/lifecycle-watch.sh');
    expect(r.status).toBe(0);
    const polls = matching(s.calls(), 'curl').filter((c) =>
      c.endsWith('/latest/meta-data/autoscaling/target-lifecycle-state'),
    );
    expect(polls).toHaveLength(3);
    const expected = [DRAIN, logSync(s), CONTINUE];
    expect(inOrder(s.calls(), expected)).toEqual(expected);
    expect(s.read('/var/log/xspot-cdk/lifecycle-watch.log')).toContain('target lifecycle state: Terminated');
  });

  test('its unit runs from the stable release path and restarts on failure', () => {
    const s = sandbox();
    expect(s.run('scripts/install-lifecycle-watch.sh').status).toBe(0);
    const unit = s.read('/etc/systemd/system/xspot-lifecycle-watch.service');
    expect(unit).toContain('ExecStart=/bin/bash /opt/xspot-cdk/current/scripts/lifecycle-watch.sh');
    expect(unit).toContain('Restart=on-failure');
    expect(s.exists('/opt/xspot-cdk/current/scripts/lifecycle-watch.sh')).toBe(true);
    expect(matching(s.calls(), 'systemctl enable', 'systemctl start')).toEqual([
      'systemctl enable xspot-lifecycle-watch.service',
      'systemctl start xspot-lifecycle-watch.service',
    ]);
  });
});
