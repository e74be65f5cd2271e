/**
 * `fleet status --scheduler`: each controller's scheduler membership, read through SSM Run Command
 * (scripts/scheduler-state.sh on the controller), next to its Auto Scaling state; an InService
 * controller that the scheduler cannot use is flagged. SSM is mocked with aws-sdk-client-mock
 * (moto does not run commands on instances).
 */
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { parseSchedulerState } from '../../lib/ops/fleet-ssm';
import { gatherFleetStatus, renderFleetStatus } from '../../lib/ops/fleet-status';
import { fleet, harness, refreshSteps, sdkError, stackOutputs, T0 } from './harness';

const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';
const C = 'i-0ccccccccccccccc3';
const D = 'i-0ddddddddddddddd4';
const OPTS = { scheduler: { timeoutSeconds: 60, pollSeconds: 1 } };

/** The state line a controller's scheduler-state.sh prints. */
const line = (node: string, state: string, jobs = 0) =>
  `XSPOT-SCHEDULER scheduler=slurm node=${node} state=${state} jobs=${jobs}\n`;

describe('fleet status --scheduler', () => {
  test('GIVEN four controllers THEN registered, draining, missing and unreachable are shown; InService-but-missing is flagged', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [
      { id: A, version: 7 },
      { id: B, version: 7, state: 'Terminating:Wait' },
      { id: C, version: 7 },
      { id: D, version: 7 },
      { id: 'i-0eeeeeeeeeeeeeee5', version: 7, state: 'Pending' },
    ]);
    refreshSteps(h, []);
    h.ssm
      .on(SendCommandCommand, { InstanceIds: [A] })
      .resolves({ Command: { CommandId: 'cmd-a' } })
      .on(SendCommandCommand, { InstanceIds: [B] })
      .resolves({ Command: { CommandId: 'cmd-b' } })
      .on(SendCommandCommand, { InstanceIds: [C] })
      .resolves({ Command: { CommandId: 'cmd-c' } })
      .on(SendCommandCommand, { InstanceIds: [D] })
      .rejects(sdkError('InvalidInstanceId', 'Instances not in a valid state for account'));
    const ok = (stdout: string) => ({ Status: 'Success' as const, ResponseCode: 0, StandardOutputContent: stdout });
    h.ssm
      .on(GetCommandInvocationCommand, { CommandId: 'cmd-a' })
      .resolves(ok(line('ip-10-0-1-23', 'registered', 4)))
      .on(GetCommandInvocationCommand, { CommandId: 'cmd-b' })
      .resolves(ok(line('ip-10-0-1-24', 'draining', 1)))
      .on(GetCommandInvocationCommand, { CommandId: 'cmd-c' })
      .resolves(ok(line('ip-10-0-1-25', 'missing')));

    const status = await gatherFleetStatus(h.ctx, OPTS);
    const text = renderFleetStatus(status, T0).join('\n');

    // a Pending instance is not asked (its runtime may not be there yet)
    const asked = h.ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input.InstanceIds);
    expect(asked).toEqual([[A], [B], [C], [D]]);
    expect(h.ssm.commandCalls(SendCommandCommand)[0].args[0].input.Parameters?.commands?.at(-1)).toBe(
      'exec /bin/bash "$d/scripts/scheduler-state.sh"',
    );
    expect(text).toMatch(/^INSTANCE .* UPTIME +SCHEDULER$/m);
    expect(text).toMatch(new RegExp(`^${A} .* InService .* registered ip-10-0-1-23, 4 jobs$`, 'm'));
    expect(text).toMatch(new RegExp(`^${B} .* Terminating:Wait .* draining ip-10-0-1-24, 1 job$`, 'm'));
    expect(text).toMatch(new RegExp(`^${C} .* InService .* missing ip-10-0-1-25 \\(!\\)$`, 'm'));
    expect(text).toMatch(new RegExp(`^${D} .* \\? unreadable$`, 'm'));
    expect(text).toContain(
      `scheduler state of ${D} unknown: running 'xspot-cdk fleet status --scheduler' on ${D}: not reachable through SSM`,
    );
    // only C is flagged: B is leaving (draining is expected), D could not be read
    expect(status.schedulerProblems).toEqual([
      `${C} is InService but ip-10-0-1-25 is not in the scheduler (slurm): see /var/log/xspot-cdk/scheduler-join.log on it, or run 'xspot-cdk fleet undrain ${C}'`,
    ]);
    expect(text).toContain(`WARNING: ${C} is InService but ip-10-0-1-25 is not in the scheduler (slurm)`);
  });

  test('GIVEN an InService controller closed to new jobs THEN it is flagged too', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: A, version: 7 }]);
    refreshSteps(h, []);
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-a' } });
    h.ssm
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: line('ip-10-0-1-23', 'draining', 2) });
    const status = await gatherFleetStatus(h.ctx, OPTS);
    expect(status.schedulerProblems?.[0]).toMatch(
      /is InService but ip-10-0-1-23 is closed to new jobs in the scheduler/,
    );
  });

  test('GIVEN a failed command THEN the controller is unreadable with the reason, and the status still renders', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: A, version: 7 }]);
    refreshSteps(h, []);
    h.ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-a' } });
    h.ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      ResponseCode: 127,
      StandardErrorContent: '/bin/bash: /opt/xspot-cdk/current/scripts/scheduler-state.sh: No such file or directory\n',
    });
    const status = await gatherFleetStatus(h.ctx, OPTS);
    expect(status.controllers[0].scheduler).toEqual({
      unreadable:
        'no state line in the output (Failed, exit 127): /bin/bash: /opt/xspot-cdk/current/scripts/scheduler-state.sh: No such file or directory',
    });
    expect(status.schedulerProblems).toEqual([]);
  });

  test('without --scheduler nothing is sent through SSM and there is no SCHEDULER column', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: A, version: 7 }]);
    refreshSteps(h, []);
    const status = await gatherFleetStatus(h.ctx);
    expect(h.ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(renderFleetStatus(status, T0).join('\n')).not.toContain('SCHEDULER');
  });

  test.each([
    [
      'XSPOT-SCHEDULER scheduler=gridengine node=ip-10-0-1-23 state=registered jobs=3',
      { state: 'registered', jobs: 3 },
    ],
    ['noise\nXSPOT-SCHEDULER scheduler=none node=h state=none jobs=0\n', { state: 'none', jobs: 0 }],
    ['XSPOT-SCHEDULER scheduler=slurm node=h state=happy jobs=0', undefined],
    ['XSPOT-SCHEDULER scheduler=slurm node=h state=registered jobs=-1', undefined],
  ])('parses %j', (stdout, expected) => {
    const r = parseSchedulerState(stdout);
    if (expected === undefined) expect(r).toBeUndefined();
    else expect(r).toMatchObject(expected);
  });
});
