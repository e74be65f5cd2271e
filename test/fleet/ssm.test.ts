/**
 * `fleet drain`, `fleet undrain` and `fleet check`: SSM Run Command on the controllers, plus
 * Standby through Auto Scaling. AWS is mocked with aws-sdk-client-mock: moto does not run
 * commands on instances (no Run Command results) and does not model lifecycle hooks.
 */
import { EnterStandbyCommand, ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import {
  checkCommands,
  type DrainOptions,
  drainCommands,
  judgeCheck,
  parseCheckOutput,
  runCheck,
  runDrain,
  runUndrain,
} from '../../lib/ops/fleet-ssm';
import { ASG, fleet, type Harness, harness, sdkError, stackOutputs } from './harness';

const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';

function controllers(h: Harness, states: { a?: string; b?: string } = {}) {
  stackOutputs(h);
  fleet(h, '7', [
    { id: A, az: 'us-east-1a', version: 7, state: states.a },
    { id: B, az: 'us-east-1b', version: 7, state: states.b },
  ]);
}

const drainOpts = (o: Partial<DrainOptions> = {}): DrainOptions => ({
  standby: false,
  keepCapacity: false,
  wait: true,
  configuredDrainSeconds: 7200,
  pollSeconds: 10,
  ...o,
});

/** GetCommandInvocation: not there yet, then InProgress, then `final`. */
function invocation(h: Harness, instanceId: string, final: Record<string, unknown>) {
  h.ssm
    .on(GetCommandInvocationCommand, { InstanceId: instanceId })
    .rejectsOnce(sdkError('InvocationDoesNotExist', 'no invocation'))
    .resolvesOnce({ Status: 'InProgress' })
    .resolves({ ResponseCode: 0, StandardOutputContent: '', StandardErrorContent: '', ...final });
}

const CHECK_OK = [
  '--- xspot check -f',
  'license ok',
  'XSPOT-CDK-STEP xspot-check rc=0',
  '--- exorun run -c 1 -m 1 -- /bin/true',
  'XSPOT-CDK-STEP exorun-smoke rc=0',
].join('\n');

describe('fleet drain / undrain', () => {
  test('drain runs the runtime drain.sh --no-lifecycle through AWS-RunShellScript and waits for its result', async () => {
    const h = harness();
    controllers(h);
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    invocation(h, A, {
      Status: 'Success',
      StandardOutputContent:
        'drain.sh: 2 container(s) running; waiting\ndrain.sh: drained (no lifecycle action to complete)\n',
    });

    const code = await runDrain(h.ctx, A, drainOpts());

    expect(code).toBe(0);
    const input = h.ssm.commandCalls(SendCommandCommand)[0].args[0].input;
    expect(input).toMatchObject({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [A],
      Parameters: { commands: drainCommands(), executionTimeout: ['8100'] },
    });
    expect(input.Parameters?.commands?.join('\n')).toContain('exec /bin/bash "$d/bin/drain.sh" --no-lifecycle');
    expect(input.Parameters?.commands?.[1]).toBe('d=/opt/xspot-cdk/current');
    expect(h.out[0]).toBe(`drain.sh --no-lifecycle on ${A}: done`);
    expect(h.out).toContain('    drain.sh: drained (no lifecycle action to complete)');
    expect(h.out.at(-1)).toBe(`undo with 'xspot-cdk fleet undrain ${A}'`);
    expect(h.asg.commandCalls(EnterStandbyCommand)).toHaveLength(0);
  });

  test('drain --standby --timeout: Standby first (desired capacity lowered), then drain.sh --timeout', async () => {
    const h = harness();
    controllers(h);
    h.asg.on(EnterStandbyCommand).resolves({});
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    invocation(h, A, { Status: 'Success' });

    expect(await runDrain(h.ctx, A, drainOpts({ standby: true, timeoutSeconds: 600 }))).toBe(0);

    expect(h.asg.commandCalls(EnterStandbyCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: ASG,
      InstanceIds: [A],
      ShouldDecrementDesiredCapacity: true,
    });
    const cmd = h.ssm.commandCalls(SendCommandCommand)[0].args[0].input;
    expect(cmd.Parameters?.commands?.at(-1)).toBe('exec /bin/bash "$d/bin/drain.sh" --no-lifecycle --timeout 600');
    expect(cmd.Parameters?.executionTimeout).toEqual(['1500']);
    expect(h.err.join('\n')).toContain(
      'is in Standby: Auto Scaling neither health-checks nor replaces it (desired capacity lowered by 1)',
    );
  });

  test('drain --standby at the minimum capacity is refused before anything changes; --keep-capacity allows it', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: A, version: 7 }]); // desired 1, min 1
    h.asg.on(EnterStandbyCommand).resolves({});
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    invocation(h, A, { Status: 'Success' });

    await expect(runDrain(h.ctx, A, drainOpts({ standby: true }))).rejects.toThrow(
      `Standby would lower the desired capacity of ${ASG} below its minimum (desired 1, min 1); add --keep-capacity to let a replacement launch, or drain without --standby`,
    );
    expect(h.asg.commandCalls(EnterStandbyCommand)).toHaveLength(0);
    expect(h.ssm.commandCalls(SendCommandCommand)).toHaveLength(0);

    expect(await runDrain(h.ctx, A, drainOpts({ standby: true, keepCapacity: true }))).toBe(0);
    expect(h.asg.commandCalls(EnterStandbyCommand)[0].args[0].input.ShouldDecrementDesiredCapacity).toBe(false);
  });

  test('a failing drain prints the status and the output tail; exit 1', async () => {
    const h = harness();
    controllers(h);
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    invocation(h, A, {
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 1,
      StandardErrorContent: 'drain.sh: ERROR: cannot read /etc/xspot-cdk/deploy.env',
    });

    expect(await runDrain(h.ctx, A, drainOpts())).toBe(1);
    expect(h.out[0]).toBe(`drain.sh --no-lifecycle on ${A}: FAILED Failed, exit 1`);
    expect(h.out).toContain('    drain.sh: ERROR: cannot read /etc/xspot-cdk/deploy.env');
  });

  test('an instance outside the fleet is refused before anything runs', async () => {
    const h = harness();
    controllers(h);
    await expect(runDrain(h.ctx, 'i-0cccccccccccccccc', drainOpts())).rejects.toThrow(
      `i-0cccccccccccccccc is not a controller of ${ASG} (controllers: ${A}, ${B})`,
    );
    await expect(runDrain(h.ctx, 'web-1', drainOpts())).rejects.toThrow(/'web-1' is not an EC2 instance id/);
    expect(h.ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
  });

  test('an instance SSM cannot reach: one line with the likely cause', async () => {
    const h = harness();
    controllers(h);
    h.ssm.on(SendCommandCommand).rejects(sdkError('InvalidInstanceId', 'Instances not in a valid state for account'));
    await expect(runDrain(h.ctx, A, drainOpts())).rejects.toThrow(
      `running 'drain.sh --no-lifecycle' on ${A}: not reachable through SSM (the SSM agent is not running or registered, or the instance role lacks the SessionManager statement, iam.sessionManager)`,
    );
  });

  test('undrain --standby runs undrain.sh, then leaves Standby', async () => {
    const h = harness();
    controllers(h, { a: 'Standby' });
    h.asg.on(ExitStandbyCommand).resolves({});
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    invocation(h, A, { Status: 'Success', StandardOutputContent: 'undrain.sh: done' });

    expect(await runUndrain(h.ctx, A, drainOpts({ standby: true }))).toBe(0);

    expect(h.ssm.commandCalls(SendCommandCommand)[0].args[0].input.Parameters?.commands?.at(-1)).toBe(
      'exec /bin/bash "$d/bin/undrain.sh"',
    );
    expect(h.asg.commandCalls(ExitStandbyCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: ASG,
      InstanceIds: [A],
    });
    expect(h.out.at(-1)).toBe(`${A} left Standby and is InService again`);
  });

  test('undrain without --standby leaves a Standby instance there, and says so', async () => {
    const h = harness();
    controllers(h, { a: 'Standby' });
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    invocation(h, A, { Status: 'Success' });

    expect(await runUndrain(h.ctx, A, drainOpts())).toBe(0);
    expect(h.asg.commandCalls(ExitStandbyCommand)).toHaveLength(0);
    expect(h.err.at(-1)).toBe(`${A} is still in Standby; add --standby to return it to service`);
  });
});

describe('fleet check', () => {
  test('the command runs both steps and records each exit code', () => {
    const cmds = checkCommands('/usr/bin/exorun').join('\n');
    expect(cmds).toContain('xspot check -f </dev/null 2>&1; s=$?; echo "XSPOT-CDK-STEP xspot-check rc=$s"');
    expect(cmds).toContain(
      '\'/usr/bin/exorun\' run -c 1 -m 1 -- /bin/true </dev/null 2>&1; s=$?; echo "XSPOT-CDK-STEP exorun-smoke rc=$s"',
    );
    expect(() => checkCommands('/usr/bin/exorun; rm -rf /')).toThrow(/not a plain absolute path/);
  });

  test('output is split per step', () => {
    const steps = parseCheckOutput(`${CHECK_OK.replace('exorun-smoke rc=0', 'exorun-smoke rc=125')}`);
    expect(steps.get('xspot-check')).toEqual({ rc: 0, output: 'license ok' });
    expect(steps.get('exorun-smoke')?.rc).toBe(125);
  });

  test('a PASS line per controller; a failing one shows its trimmed output; exit 1', async () => {
    const h = harness();
    controllers(h);
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-3' } });
    invocation(h, A, { Status: 'Success', StandardOutputContent: CHECK_OK });
    invocation(h, B, {
      Status: 'Failed',
      ResponseCode: 125,
      StandardOutputContent: [
        '--- xspot check -f',
        'XSPOT-CDK-STEP xspot-check rc=0',
        '--- exorun run -c 1 -m 1 -- /bin/true',
        'exorun: error: no image docker-base under /efs/deploy/images/current',
        'XSPOT-CDK-STEP exorun-smoke rc=125',
      ].join('\n'),
    });

    const code = await runCheck(h.ctx, { exorunPath: '/usr/bin/exorun', timeoutSeconds: 900, pollSeconds: 10 });

    expect(code).toBe(1);
    const send = h.ssm.commandCalls(SendCommandCommand)[0].args[0].input;
    expect(send.InstanceIds).toEqual([A, B]);
    expect(send.Parameters?.executionTimeout).toEqual(['900']);
    expect(h.out).toEqual([
      `PASS ${A} (us-east-1a): xspot check -f ok, exorun smoke ok`,
      `FAIL ${B} (us-east-1b): exorun run -c 1 -m 1 -- /bin/true exited 125`,
      '  exorun run -c 1 -m 1 -- /bin/true:',
      '    exorun: error: no image docker-base under /efs/deploy/images/current',
      '1 of 2 controllers passed',
    ]);
  });

  test('all pass: exit 0; controllers not InService are skipped with a note', async () => {
    const h = harness();
    controllers(h, { b: 'Pending:Wait' });
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-4' } });
    invocation(h, A, { Status: 'Success', StandardOutputContent: CHECK_OK });

    expect(await runCheck(h.ctx, { exorunPath: '/usr/bin/exorun', timeoutSeconds: 900, pollSeconds: 10 })).toBe(0);
    expect(h.ssm.commandCalls(SendCommandCommand)[0].args[0].input.InstanceIds).toEqual([A]);
    expect(h.err[0]).toBe(`skipping ${B} (Pending:Wait)`);
    expect(h.out.at(-1)).toBe('1 of 1 controller passed');
  });

  test('a controller that never answers fails as timed out instead of hanging', async () => {
    const h = harness();
    controllers(h);
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-5' } });
    invocation(h, A, { Status: 'Success', StandardOutputContent: CHECK_OK });
    h.ssm.on(GetCommandInvocationCommand, { InstanceId: B }).resolves({ Status: 'InProgress' });

    expect(await runCheck(h.ctx, { exorunPath: '/usr/bin/exorun', timeoutSeconds: 60, pollSeconds: 10 })).toBe(1);
    expect(h.out[1]).toMatch(
      new RegExp(`^FAIL ${B} \\(us-east-1b\\): the check did not complete: TimedOut \\(no result after 1[0-9]m`),
    );
  });

  test('judging: a Success without the step markers is not a pass', () => {
    const r = judgeCheck(
      { instanceId: A, availabilityZone: 'us-east-1a' },
      { instanceId: A, status: 'Success', stdout: 'hello', stderr: '' },
    );
    expect(r.passed).toBe(false);
    expect(r.summary).toBe(
      'the check did not complete: no result for xspot check -f, exorun run -c 1 -m 1 -- /bin/true in its output (SSM status Success; output cut short?)',
    );
  });
});
