/**
 * bin/bootstrap.sh end to end: the real scripts in a scratch root, stand-ins for the vendor's
 * and the OS's commands (see harness.ts).
 */
import * as fs from 'node:fs';
import { BOOT_STEPS, inOrder, matching, Sandbox, type SandboxOptions, SLURM_GUARD_FRAGMENT } from './harness';

const VERSIONS = {
  xspot: 'xspot-1.3.0.1-rc_5cb0ffb0.el7',
  cliWrapper: 'XSpotCLIWrapper-v2.0.0-0192f37.el7',
  platform: 'xcontainer-4.12.0-v23.08.07+abaaf51.el7',
  guestKernel: 'xspot-guest-kernel-4.19.49-v23.08.07-abaaf5112.el7',
};
const IID = 'i-0123456789abcdef0';
const LIFECYCLE = `aws autoscaling complete-lifecycle-action --region us-east-1 --auto-scaling-group-name xspot-controllers-Asg-ABC123 --lifecycle-hook-name xspot-launch --instance-id ${IID} --lifecycle-action-result`;
const SIGNAL = `aws cloudformation signal-resource --region us-east-1 --stack-name xspot-controllers --logical-resource-id ControllersGroupASG0A1B2C3D --unique-id ${IID}`;
/** Commands that change a host: none may run when a bootstrap is repeated. */
const MUTATING = [
  'yum -y --setopt',
  'yum -y downgrade',
  'yum -y clean',
  'mkfs.xfs',
  'mount -t',
  'pvcreate',
  'vgcreate',
  'lvcreate',
  'docker load',
  'docker build',
  'docker import',
  'docker save',
  'tar ',
  'exorun config',
  'xspot restart',
  'systemctl daemon-reload',
  'systemctl enable',
  'systemctl restart',
  'systemctl stop',
  ...['iptables', 'ip6tables'].flatMap((t) => ['-N', '-A', '-I', '-D', '-F', '-X', '-E'].map((op) => `${t} -w ${op}`)),
];

let sb: Sandbox;
const sandbox = (opts?: SandboxOptions) => {
  sb = new Sandbox(opts);
  return sb;
};
afterEach(() => sb?.cleanup());

describe("creation signal (the group's CloudFormation creation policy)", () => {
  test('SUCCESS once xspot check -f passed and the launch continued; never FAILURE', () => {
    const s = sandbox();
    const r = s.run('bin/bootstrap.sh');
    expect(r.status).toBe(0);
    const order = ['xspot check -f', `${LIFECYCLE} CONTINUE`, `${SIGNAL} --status SUCCESS`];
    expect(inOrder(s.calls(), order)).toEqual(order);
    expect(matching(s.calls(), 'aws cloudformation')).toEqual([`${SIGNAL} --status SUCCESS`]);
  });

  test('a refused signal (a later boot: the stack is not creating the group) does not fail the boot', () => {
    const s = sandbox();
    const r = s.run('bin/bootstrap.sh', [], { STUB_FAIL: 'aws cloudformation signal-resource' });
    expect(r.status).toBe(0);
    expect(matching(s.calls(), `${LIFECYCLE} CONTINUE`)).toHaveLength(1);
  });

  test('without a stack in deploy.env (a hand-run bootstrap) no signal is sent', () => {
    const s = sandbox({ deployEnv: { XSPOT_CFN_STACK: '', XSPOT_CFN_RESOURCE: '' } });
    const r = s.run('bin/bootstrap.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'aws cloudformation')).toEqual([]);
    expect(r.stdout).toContain('no creation policy configured: skipping signal-resource SUCCESS');
  });
});

describe('happy path', () => {
  test('runs the guide steps in order with the configured versions, then CONTINUE', () => {
    // GIVEN a fresh controller
    const s = sandbox();
    // WHEN it bootstraps
    const r = s.run('bin/bootstrap.sh');
    // THEN every step ran, in the contract's order, and the launch action continued
    expect(r.status).toBe(0);
    const expected = [
      'systemctl start xspot-lifecycle-watch.service',
      'yum -y --setopt=skip_missing_names_on_install=False install amazon-efs-utils',
      `mount -t efs -o tls,iam,_netdev fs-0123456789abcdef0:/ ${s.path('/efs')}`,
      'mkfs.xfs -n ftype=1 -L xspot-docker /dev/nvme1n1',
      `mount -t xfs -o noatime,pquota /dev/nvme1n1 ${s.path('/var/lib/docker')}`,
      `yum -y --setopt=skip_missing_names_on_install=False install ${VERSIONS.xspot} ${VERSIONS.cliWrapper} ${VERSIONS.platform} ${VERSIONS.guestKernel} docker`,
      `rpm -q ${VERSIONS.xspot}`,
      `rpm -q ${VERSIONS.cliWrapper}`,
      `rpm -q ${VERSIONS.platform}`,
      `rpm -q ${VERSIONS.guestKernel}`,
      'systemctl start docker.service',
      'exorun config',
      'systemctl start post-docker.service',
      'docker build --build-arg BASE_IMAGE=xspot-base:',
      'docker save -o',
      'systemctl start xspot-log-sync.timer',
      'xspot check -f',
      `${LIFECYCLE} CONTINUE`,
    ];
    expect(inOrder(s.calls(), expected)).toEqual(expected);
    expect(matching(s.calls(), `${LIFECYCLE} ABANDON`, 'aws ec2 create-tags')).toEqual([]);

    const log = s.read('/var/log/xspot-cdk/bootstrap.log');
    const starts = BOOT_STEPS.map((step) => log.indexOf(`step ${step}: start`));
    expect(starts.every((i) => i >= 0)).toBe(true);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    for (const step of BOOT_STEPS) expect(s.exists(`/var/log/xspot-cdk/${step}.log`)).toBe(true);
    expect(r.stdout).toMatch(
      /post-docker\.sh: Building of container docker-base: SUCCESS!\npost-docker\.sh: Finished\./,
    );
  });

  test('installs what the contract says where it says', () => {
    const s = sandbox();
    expect(s.run('bin/bootstrap.sh').status).toBe(0);
    // the vendor repository from runtime.env
    expect(s.read('/etc/yum.repos.d/xspot-cdk.repo')).toContain('baseurl=https://packages.example.com/xspot/el7/\n');
    // rendered files copied verbatim
    for (const f of ['config.toml', 'dockerWrapper.toml', 'log_upload.env']) {
      expect(s.read(`/etc/xspot/config/${f}`)).toBe(s.read(`/opt/xspot-cdk/releases/${s.version}/conf/${f}`));
    }
    for (const f of ['startup.sh', 'job_startup_user.sh', 'job_cleanup_root.sh']) {
      expect(s.read(`/etc/xspot/scripts/${f}`)).toBe(s.read(`/opt/xspot-cdk/releases/${s.version}/conf/scripts/${f}`));
    }
    // fstab keeps both mounts
    const fstab = s.read('/etc/fstab');
    expect(fstab).toContain('fs-0123456789abcdef0:/ /efs efs tls,iam,_netdev 0 0\n');
    expect(fstab).toMatch(/^UUID=\S+ \/var\/lib\/docker xfs defaults,nofail,noatime,pquota 0 2$/m);
    expect(fstab).toContain('UUID=root-uuid / xfs defaults 0 0\n');
    // units run from the stable path
    expect(s.read('/etc/systemd/system/post-docker.service')).toContain(
      'ExecStart=/bin/bash /opt/xspot-cdk/current/scripts/post-docker.sh',
    );
    expect(s.read('/etc/systemd/system/docker.service.d/xspot-storage.conf')).toContain(
      'RequiresMountsFor=/var/lib/docker',
    );
    // published release and latest link
    expect(s.exists(`/efs/deploy/scripts/${s.version}/tools/sched-wrapper/README`)).toBe(true);
    expect(s.exists(`/efs/deploy/scripts/${s.version}/Makefile`)).toBe(true);
    expect(s.exists('/efs/deploy/scripts/latest/bin/bootstrap.sh')).toBe(true);
  });

  test('a second run changes nothing', () => {
    // GIVEN a bootstrapped controller
    const s = sandbox();
    expect(s.run('bin/bootstrap.sh').status).toBe(0);
    const before = s.snapshot();
    s.clearCalls();
    // WHEN the bootstrap runs again
    const r = s.run('bin/bootstrap.sh');
    // THEN it passes without installing, formatting, mounting, loading or reloading anything
    expect(r.status).toBe(0);
    expect(matching(s.calls(), ...MUTATING)).toEqual([]);
    expect(s.snapshot()).toEqual(before);
    expect(matching(s.calls(), 'xspot check -f')).toHaveLength(1);
  });

  test('sends launch heartbeats while a step runs', () => {
    const s = sandbox({ deployEnv: { XSPOT_HEARTBEAT_SECONDS: '1' } });
    const r = s.run('bin/bootstrap.sh', [], { STUB_SLOW: 'xspot check', STUB_SLOW_SECONDS: '2.5' });
    expect(r.status).toBe(0);
    const beats = matching(
      s.calls(),
      'aws autoscaling record-lifecycle-action-heartbeat --region us-east-1 --auto-scaling-group-name xspot-controllers-Asg-ABC123 --lifecycle-hook-name xspot-launch',
    );
    expect(beats.length).toBeGreaterThanOrEqual(2);
    const calls = s.calls();
    expect(calls.lastIndexOf(beats[0])).toBeLessThan(s.indexOf(`${LIFECYCLE} CONTINUE`));
  });

  test('makes no lifecycle call without a launch hook', () => {
    const s = sandbox({ deployEnv: { XSPOT_LAUNCH_HOOK: '', XSPOT_HEARTBEAT_SECONDS: '1' } });
    const r = s.run('bin/bootstrap.sh', [], { STUB_SLOW: 'xspot check', STUB_SLOW_SECONDS: '1.5' });
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'aws autoscaling')).toEqual([]);
    expect(r.stdout).toContain('no lifecycle hook configured: skipping complete-lifecycle-action CONTINUE');
  });
});

/** conf/runtime.env of a Slurm site (membership on); the node's address fixed for the drop-in. */
const SLURM = {
  XSPOT_SCHEDULER: 'slurm',
  XSPOT_SCHED_SLOTS: '3',
  XSPOT_SCHED_LAUNCHER_CPUS: '1',
  XSPOT_SCHED_LAUNCHER_MEMORY_MB: '50',
  XSPOT_SCHED_NODE_NAME: 'ip-10-0-1-23',
  XSPOT_SCHED_NODE_ADDR: '10.0.1.23',
};

describe('scheduler-join (membership; the real Slurm run is test/scheduler/membership-slurm.test.ts)', () => {
  test('joins Slurm as a dynamic node after xspot check -f and before the launch continues', () => {
    const s = sandbox({ runtimeEnv: SLURM });
    const r = s.run('bin/bootstrap.sh');
    expect(r.status).toBe(0);
    const order = ['xspot check -f', 'systemctl restart slurmd', `${LIFECYCLE} CONTINUE`, `${SIGNAL} --status SUCCESS`];
    expect(inOrder(s.calls(), order)).toEqual(order);
    // the node's options survive restarts: a drop-in replaces ExecStart, its --conf one argument
    expect(s.read('/etc/systemd/system/slurmd.service.d/xspot-dynamic-node.conf')).toMatch(
      /^ExecStart=\nExecStart=\S*\/slurmd -D -s -Z -N ip-10-0-1-23 --conf "CPUs=3 RealMemory=150 Feature=xspot NodeAddr=10\.0\.1\.23"$/m,
    );
    expect(r.stdout).toContain('Slurm node ip-10-0-1-23 is in service (state IDLE+DYNAMIC_NORM)');
  });

  test('a second boot (restart) keeps the node and changes nothing', () => {
    const s = sandbox({ runtimeEnv: SLURM });
    expect(s.run('bin/bootstrap.sh').status).toBe(0);
    const before = s.snapshot();
    s.clearCalls();
    const r = s.run('bin/bootstrap.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), ...MUTATING, 'scontrol update', 'scontrol delete')).toEqual([]);
    expect(s.snapshot()).toEqual(before);
    expect(r.stdout).toContain('slurmd runs here');
  });

  test('builds the step guard against the Slurm headers and lists it as required, before slurmd starts', () => {
    const s = sandbox({ runtimeEnv: SLURM });
    const r = s.run('bin/bootstrap.sh');
    expect(r.status).toBe(0);
    const so = s.path('/usr/libexec/xspot-cdk/slurm/xspot_step_guard.so');
    // a shared object, root's, not writable by others, with the SPANK entry point
    const st = fs.statSync(so);
    expect({ uid: st.uid, mode: (st.mode & 0o7777).toString(8) }).toEqual({ uid: 0, mode: '755' });
    expect(fs.readFileSync(so).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(fs.readFileSync(so).includes('slurm_spank_init')).toBe(true);
    expect(s.read(SLURM_GUARD_FRAGMENT)).toMatch(new RegExp(`^required ${so.replaceAll('.', '\\.')}$`, 'm'));
    expect(r.stdout).toContain(`Slurm step guard: ${so}`);
    // the guard is in place before the node can take a job
    const log = s.read('/var/log/xspot-cdk/scheduler-join.log');
    expect(log.indexOf('Slurm step guard:')).toBeLessThan(log.indexOf('registering Slurm dynamic node'));
  });

  test.each([
    [
      "the site's plugstack.conf does not include the guard",
      (s: Sandbox) => s.write('/etc/slurm/plugstack.conf', 'optional /usr/lib/other.so\n'),
      /plugstack\.conf does not include the step guard: add the line 'include \S+\/usr\/libexec\/xspot-cdk\/slurm\/plugstack\.conf'/,
      {},
    ],
    [
      'the include is commented out',
      (s: Sandbox) => s.write('/etc/slurm/plugstack.conf', `# include ${s.path(SLURM_GUARD_FRAGMENT)}\n`),
      /does not include the step guard/,
      {},
    ],
    [
      'no local slurm.conf (configless)',
      (s: Sandbox) => fs.rmSync(s.path('/etc/slurm/slurm.conf')),
      /no slurm\.conf at \S+: the controller must read its plugstack\.conf locally/,
      {},
    ],
    [
      "Slurm's headers are missing",
      (s: Sandbox) => s.write('/empty/README', ''),
      /cannot build the Slurm step guard: \S+\/slurm\/spank\.h is missing/,
      { XSPOT_SLURM_INCLUDE: '@ROOT@/empty' },
    ],
    [
      'the headers are of another Slurm version than slurmd',
      (s: Sandbox) => s.setState('slurmd_version', '23.11.1'),
      /the Slurm headers in \/usr\/include are version '\d+\.\d+', slurmd is 23\.11/,
      {},
    ],
    [
      'the install directory is writable by others',
      (s: Sandbox) => {
        s.write('/usr/libexec/xspot-cdk/slurm/README', '');
        fs.chmodSync(s.path('/usr/libexec/xspot-cdk/slurm'), 0o777);
      },
      /\/usr\/libexec\/xspot-cdk\/slurm: mode 777 is writable by group or others: refusing to install the Slurm step guard/,
      {},
    ],
  ])('%s: the controller does not join (fails closed)', (_name, setup, message, env: Record<string, string>) => {
    const s = sandbox({ runtimeEnv: SLURM });
    setup(s);
    const extra = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace('@ROOT@', s.root)]));
    const r = s.run('bin/bootstrap.sh', [], extra);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(message);
    expect(r.output).toContain('XSPOT-BOOTSTRAP-FAILED step=scheduler-join');
    expect(matching(s.calls(), 'systemctl restart slurmd', `${LIFECYCLE} CONTINUE`)).toEqual([]);
  });

  test('no scheduler configured: the step passes and calls nothing', () => {
    const s = sandbox({ runtimeEnv: { XSPOT_SCHEDULER: 'none' } });
    const r = s.run('bin/bootstrap.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'scontrol', 'slurmd', 'systemctl restart slurmd')).toEqual([]);
    expect(s.read('/var/log/xspot-cdk/scheduler-join.log')).toContain('nothing to join');
  });

  test.each([
    ['XSPOT_SCHEDULER', 'pbs', "XSPOT_SCHEDULER='pbs' is not allowed: must be slurm, gridengine, lsf or none"],
    ['XSPOT_SCHED_SLOTS', '81', "XSPOT_SCHED_SLOTS='81' is not allowed: must be at most 80"],
    ['XSPOT_SCHED_NODE_NAME', 'a;b', "XSPOT_SCHED_NODE_NAME='a;b' is not allowed"],
    ['XSPOT_SCHED_NODE_ADDR', '$(id)', "XSPOT_SCHED_NODE_ADDR='$(id)' is not allowed: must be an IP address"],
  ])('%s=%s fails the step with one line naming it', (key, value, message) => {
    const s = sandbox({ runtimeEnv: { ...SLURM, [key]: value } });
    const r = s.run('bin/bootstrap.sh');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(message);
    expect(r.output).toContain('XSPOT-BOOTSTRAP-FAILED step=scheduler-join');
    expect(matching(s.calls(), 'systemctl restart slurmd')).toEqual([]);
  });
});

describe('a failing step', () => {
  /** How to make each step fail for real: a stand-in that fails, or a bad value or path. */
  interface Failure {
    readonly step: (typeof BOOT_STEPS)[number];
    readonly opts?: SandboxOptions;
    readonly fail?: string;
    readonly setup?: (s: Sandbox) => void;
  }
  const failures: Failure[] = [
    { step: 'check-config', opts: { runtimeEnv: { MAX_CONTAINERS: 'many' } } },
    { step: 'lifecycle-watch', fail: 'systemctl start xspot-lifecycle-watch' },
    { step: 'mount-remote', fail: 'mount -t efs' },
    { step: 'docker-storage', fail: 'mkfs.xfs' },
    {
      step: 'controller',
      fail: 'yum -y --setopt=skip_missing_names_on_install=False install xspot-\nyum -y downgrade',
    },
    { step: 'imds-guard', fail: 'iptables -w -I OUTPUT' },
    {
      step: 'install-hooks',
      setup: (s) => s.write(`/opt/xspot-cdk/releases/${s.version}/conf/sched-wrapper/README`, 'rewritten\n'),
    },
    { step: 'submit-sshd', opts: { runtimeEnv: SLURM }, fail: 'sshd -t' },
    { step: 'install-config', fail: 'exorun config' },
    { step: 'deploy', setup: (s) => s.write('/efs/deploy/scripts/latest/in-the-way', 'x') },
    { step: 'post-docker', fail: 'docker build' },
    { step: 'log-sync', fail: 'systemctl start xspot-log-sync.timer' },
    { step: 'check', fail: 'xspot check -f' },
    // a directory where the current link must go: the promotion's rename fails for real
    { step: 'promote-images', setup: (s) => s.write('/efs/deploy/images/current/in-the-way', 'x') },
    { step: 'scheduler-join', opts: { runtimeEnv: SLURM }, fail: 'systemctl restart slurmd' },
  ];

  test('covers every boot step', () => {
    expect(failures.map((f) => f.step)).toEqual([...BOOT_STEPS]);
  });

  test.each(failures)(
    '$step: exits non-zero, names the step, tags, tells the console, abandons',
    ({ step, opts, fail, setup }) => {
      // GIVEN a controller where step fails
      const s = sandbox(opts);
      setup?.(s);
      // WHEN it bootstraps
      const r = s.run('bin/bootstrap.sh', [], { STUB_FAIL: fail ?? '' });
      // THEN the bootstrap stops there and abandons the launch
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(`step ${step}: FAILED`);
      expect(r.output).toContain(`XSPOT-BOOTSTRAP-FAILED step=${step}`);
      expect(s.read('/dev/console')).toBe(`XSPOT-BOOTSTRAP-FAILED step=${step}\n`);
      const tag = `aws ec2 create-tags --region us-east-1 --resources ${IID} --tags Key=xspot:bootstrap-failed-step,Value=${step}`;
      expect(inOrder(s.calls(), [tag, `${LIFECYCLE} ABANDON`])).toEqual([tag, `${LIFECYCLE} ABANDON`]);
      expect(matching(s.calls(), `${LIFECYCLE} CONTINUE`)).toEqual([]);
      // CloudFormation's creation is told, naming the step, before the launch is abandoned
      const signal = `${SIGNAL}:failed-step:${step} --status FAILURE`;
      expect(matching(s.calls(), 'aws cloudformation')).toEqual([signal]);
      expect(inOrder(s.calls(), [signal, `${LIFECYCLE} ABANDON`])).toEqual([signal, `${LIFECYCLE} ABANDON`]);
      // no later step started
      const log = s.read('/var/log/xspot-cdk/bootstrap.log');
      for (const later of BOOT_STEPS.slice(BOOT_STEPS.indexOf(step) + 1)) {
        expect(log).not.toContain(`step ${later}: start`);
      }
    },
  );

  test('without a launch hook it still fails loudly but makes no lifecycle call', () => {
    const s = sandbox({ deployEnv: { XSPOT_LAUNCH_HOOK: '' } });
    const r = s.run('bin/bootstrap.sh', [], { STUB_FAIL: 'xspot check' });
    expect(r.status).not.toBe(0);
    expect(s.read('/dev/console')).toContain('XSPOT-BOOTSTRAP-FAILED step=check');
    expect(matching(s.calls(), 'aws autoscaling')).toEqual([]);
  });

  test('a step that outlives the bootstrap budget is stopped and reported', () => {
    // a budget the steps before mount-remote fit in even on a loaded machine; the mount outlives it
    const s = sandbox({ deployEnv: { XSPOT_BOOTSTRAP_TIMEOUT_SECONDS: '20' } });
    const r = s.run('bin/bootstrap.sh', [], { STUB_SLOW: 'mount -t efs', STUB_SLOW_SECONDS: '300' });
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/step (mount-remote|docker-storage|controller|install-config)/);
    expect(r.output).toMatch(/timed out \(bootstrap budget 20s spent\)|no time left of the 20s bootstrap budget/);
    expect(matching(s.calls(), `${LIFECYCLE} ABANDON`)).toHaveLength(1);
  });

  test('flushes its logs to S3 before abandoning', () => {
    const s = sandbox();
    s.run('bin/bootstrap.sh', [], { STUB_FAIL: 'xspot check' });
    const sync = `aws s3 sync ${s.path('/var/log/xspot-cdk')} s3://xspot-logs-123456789012/xspot/xspot-cdk/${IID}/`;
    expect(inOrder(s.calls(), [sync, `${LIFECYCLE} ABANDON`])).toEqual([sync, `${LIFECYCLE} ABANDON`]);
  });
});
