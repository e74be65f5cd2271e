/**
 * `fleet upgrade`: starting an instance refresh with the stack's preferences, following it to its
 * end, the checkpoint prompt, cancel/rollback, and the exit codes.
 *
 * AWS is mocked with aws-sdk-client-mock: moto (the local emulator the end-to-end deploy test
 * uses) does not model StartInstanceRefresh, its checkpoints and rollback, or lifecycle hooks.
 * The clock is fake (sleep only advances time) and the prompt is injected, so nothing waits.
 */
import {
  CancelInstanceRefreshCommand,
  DescribeInstanceRefreshesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { UserError } from '../../lib/errors';
import {
  EXIT,
  exitCodeFor,
  parseAnswer,
  parseRefreshPreferences,
  runStopRefresh,
  runUpgrade,
  type UpgradeUi,
} from '../../lib/ops/fleet-upgrade';
import {
  ASG,
  fleet,
  type Harness,
  harness,
  LT,
  PREFERENCES,
  recordingProgress,
  refresh,
  refreshSteps,
  sdkError,
  stackOutputs,
} from './harness';

const NO_CHECKPOINTS = { ...PREFERENCES, CheckpointPercentages: undefined, CheckpointDelay: undefined };
/** A refresh started without checkpoints. */
const plain = (fields: Parameters<typeof refresh>[0]) => refresh({ Preferences: NO_CHECKPOINTS, ...fields });

/** The usual starting point: cdk deploy switched the group to 7, both controllers still run 6. */
function deployed(h: Harness, prefs: object = PREFERENCES) {
  stackOutputs(h, { RefreshPreferences: JSON.stringify(prefs) });
  fleet(h, '7', [
    { id: 'i-0aaaaaaaaaaaaaaa1', version: 6 },
    { id: 'i-0bbbbbbbbbbbbbbb2', az: 'us-east-1b', version: 6 },
  ]);
  h.asg.on(UpdateAutoScalingGroupCommand).resolves({});
  h.asg.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'ir-1' });
  h.asg.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'ir-1' });
  h.asg.on(RollbackInstanceRefreshCommand).resolves({ InstanceRefreshId: 'ir-1' });
}

function ui(ask?: UpgradeUi['ask']) {
  const progress = recordingProgress();
  return { progress, ask };
}

const opts = (o: Partial<{ wait: boolean; yes: boolean }> = {}) => ({ wait: true, yes: false, pollSeconds: 15, ...o });

const atCheckpoint = refresh({
  PercentageComplete: 50,
  InstancesToUpdate: 1,
  StatusReason: 'Waiting for checkpoint delay to complete',
});

describe('RefreshPreferences stack output', () => {
  test('PascalCase (the API shape) passes through', () => {
    expect(parseRefreshPreferences(JSON.stringify(PREFERENCES), 's').preferences).toEqual(PREFERENCES);
  });

  test('camelCase keys are accepted; unknown keys are reported, not sent', () => {
    const r = parseRefreshPreferences(
      '{"minHealthyPercentage":90,"checkpointPercentages":[34,100],"strategy":"x"}',
      's',
    );
    expect(r.preferences).toEqual({ MinHealthyPercentage: 90, CheckpointPercentages: [34, 100] });
    expect(r.ignored).toEqual(['strategy']);
  });

  test.each([
    ['not json', /output RefreshPreferences is not valid JSON/],
    ['[1,2]', /must be a JSON object/],
    ['{"AutoRollback":"yes"}', /AutoRollback is "yes"; it must be a boolean/],
    ['{"CheckpointPercentages":[50,0]}', /array of whole percentages 1-100/],
    ['{"CheckpointPercentages":[50,50,100]}', /must be ascending and unique/],
    ['{"InstanceWarmup":-1}', /InstanceWarmup is -1; it must be a whole number >= 0/],
  ])('%s is refused with a one-line reason', (raw, message) => {
    expect(() => parseRefreshPreferences(raw, 'xspot-controllers')).toThrow(message);
  });
});

describe('exit codes', () => {
  test.each([
    ['Successful', EXIT.ok],
    ['RollbackSuccessful', EXIT.rolledBack],
    ['Failed', EXIT.failedOrCancelled],
    ['Cancelled', EXIT.failedOrCancelled],
    ['RollbackFailed', EXIT.failedOrCancelled],
  ])('%s -> %i', (status, code) => {
    expect(exitCodeFor(status)).toBe(code);
  });

  test('answers', () => {
    expect(['y', 'YES', ' n ', 'no', 'r', 'rollback', '', 'maybe'].map(parseAnswer)).toEqual([
      'continue',
      'continue',
      'cancel',
      'cancel',
      'rollback',
      'rollback',
      undefined,
      undefined,
    ]);
  });
});

describe('fleet upgrade: start', () => {
  test('GIVEN the group already on the new version WHEN upgrading THEN it is pointed back first so a rollback returns to 6', async () => {
    const h = harness();
    deployed(h, NO_CHECKPOINTS);
    refreshSteps(h, [plain({ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 })]);

    const code = await runUpgrade(h.ctx, opts({ wait: false }), ui());

    expect(code).toBe(EXIT.ok);
    expect(h.asg.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: ASG, LaunchTemplate: { LaunchTemplateId: LT, Version: '6' } },
    ]);
    const start = h.asg.commandCalls(StartInstanceRefreshCommand)[0].args[0].input;
    expect(start).toEqual({
      AutoScalingGroupName: ASG,
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: LT, Version: '7' } },
      Preferences: {
        MinHealthyPercentage: 100,
        MaxHealthyPercentage: 200,
        InstanceWarmup: 1200,
        SkipMatching: true,
        AutoRollback: true,
      },
    });
    expect(h.out).toContain(`started instance refresh ir-1 on ${ASG}: launch template ${LT} version 6 -> 7`);
    expect(h.out).toContain('  min healthy 100%, max healthy 200%, warmup 20m, auto rollback on, skip matching');
    expect(h.err.join('\n')).toMatch(/already uses version 7 \(set by cdk deploy\).*pointing it back at 6/);
  });

  test('GIVEN the group still on the old version THEN no rewind; the canary checkpoint goes with the request', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '6', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 6 }]);
    h.asg.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'ir-1' });
    refreshSteps(h, []);

    expect(await runUpgrade(h.ctx, opts({ wait: false }), ui())).toBe(EXIT.ok);

    expect(h.asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(h.asg.commandCalls(StartInstanceRefreshCommand)[0].args[0].input.Preferences).toEqual(PREFERENCES);
    expect(h.out[1]).toBe(
      '  checkpoints 50%,100% (delay 1h00m), min healthy 100%, max healthy 200%, warmup 20m, auto rollback on, skip matching',
    );
  });

  test('GIVEN controllers on mixed old versions THEN auto rollback is turned off, with a note', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [
      { id: 'i-0aaaaaaaaaaaaaaa1', version: 5 },
      { id: 'i-0bbbbbbbbbbbbbbb2', version: 6 },
    ]);
    h.asg.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'ir-1' });
    refreshSteps(h, []);

    await runUpgrade(h.ctx, opts({ wait: false }), ui());

    expect(h.asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(h.asg.commandCalls(StartInstanceRefreshCommand)[0].args[0].input.Preferences?.AutoRollback).toBe(false);
    expect(h.err.join('\n')).toContain('auto rollback is off for this refresh');
  });

  test('GIVEN every controller already on the deployed version THEN nothing starts', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 7 }]);
    refreshSteps(h, []);

    expect(await runUpgrade(h.ctx, opts(), ui())).toBe(EXIT.ok);
    expect(h.asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
    expect(h.out.join('\n')).toContain('nothing to upgrade');
  });

  test('GIVEN a refresh already running WHEN upgrading without --wait THEN one line says how to follow or stop it', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [], [refresh({ PercentageComplete: 20 })]);

    await expect(runUpgrade(h.ctx, opts({ wait: false }), ui())).rejects.toThrow(
      `instance refresh ir-1 is already InProgress (20%) on ${ASG}; follow it with 'xspot-cdk fleet upgrade --wait', or stop it with --cancel or --rollback`,
    );
    expect(h.asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  test('GIVEN a refresh already running WHEN upgrading with --wait THEN it is followed, not restarted', async () => {
    const h = harness();
    deployed(h, NO_CHECKPOINTS);
    refreshSteps(
      h,
      [
        plain({ PercentageComplete: 50, InstancesToUpdate: 1 }),
        plain({ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 }),
      ],
      [plain({ PercentageComplete: 50, InstancesToUpdate: 1 })],
    );

    expect(await runUpgrade(h.ctx, opts(), ui())).toBe(EXIT.ok);
    expect(h.asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
    expect(h.err[0]).toBe(`following instance refresh ir-1 already InProgress on ${ASG}`);
  });

  test('GIVEN StartInstanceRefresh is denied after the rewind THEN the group is put back and the error names the permission', async () => {
    const h = harness();
    deployed(h);
    h.asg
      .on(StartInstanceRefreshCommand)
      .rejects(sdkError('AccessDenied', 'User: arn:aws:iam::123456789012:user/ops is not authorized'));
    refreshSteps(h, []);

    const err = await runUpgrade(h.ctx, opts(), ui()).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `starting an instance refresh of ${ASG} in us-east-1: access denied; the caller needs autoscaling:StartInstanceRefresh (and ec2:RunInstances, iam:PassRole for the launch template) (User: arn:aws:iam::123456789012:user/ops is not authorized)`,
    );
    expect(
      h.asg.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input.LaunchTemplate?.Version),
    ).toEqual(['6', '7']);
  });

  test('GIVEN a stack without RefreshPreferences THEN it asks for a deploy', async () => {
    const h = harness();
    stackOutputs(h, { RefreshPreferences: undefined });
    fleet(h, '7', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 6 }]);
    refreshSteps(h, []);
    await expect(runUpgrade(h.ctx, opts(), ui())).rejects.toThrow(
      "stack xspot-controllers has no output RefreshPreferences; it was deployed by an older version, run 'npx cdk deploy --all' first",
    );
  });

  test('GIVEN the stack mid-deploy THEN it refuses to start', async () => {
    const h = harness();
    stackOutputs(h, {}, 'UPDATE_IN_PROGRESS');
    await expect(runUpgrade(h.ctx, opts(), ui())).rejects.toThrow(
      /stack xspot-controllers is UPDATE_IN_PROGRESS; wait for the deploy to finish/,
    );
  });
});

describe('fleet upgrade --wait: progress and outcome', () => {
  test('progress to success: percentage, controllers replaced, status reason; exit 0', async () => {
    const h = harness();
    deployed(h, NO_CHECKPOINTS);
    refreshSteps(h, [
      plain({ Status: 'Pending', PercentageComplete: 0, InstancesToUpdate: undefined }),
      plain({
        PercentageComplete: 0,
        InstancesToUpdate: 2,
        StatusReason: 'Waiting for instances to warm up before continuing',
      }),
      plain({ PercentageComplete: 50, InstancesToUpdate: 1 }),
      plain({
        Status: 'Successful',
        PercentageComplete: 100,
        InstancesToUpdate: 0,
        EndTime: new Date('2026-03-02T13:10:00Z'),
      }),
    ]);
    const u = ui();

    const code = await runUpgrade(h.ctx, opts(), u);

    expect(code).toBe(EXIT.ok);
    expect(u.progress.views.map((v) => [v.status, v.percentage, v.replaced, v.total])).toEqual([
      ['Pending', 0, undefined, undefined],
      ['InProgress', 0, 0, 2],
      ['InProgress', 50, 1, 2],
      ['Successful', 100, 2, 2],
    ]);
    expect(u.progress.views[1].reason).toBe('Waiting for instances to warm up before continuing');
    expect(u.progress.events.at(-1)).toBe('stop');
    expect(h.out.at(-1)).toBe(
      'instance refresh ir-1 Successful after 1h10m: every controller runs launch template version 7',
    );
    expect(h.sleeps.every((ms) => ms === 15000)).toBe(true);
  });

  test('failure: exit 2 with the status reason', async () => {
    const h = harness();
    deployed(h, NO_CHECKPOINTS);
    refreshSteps(h, [
      plain({ PercentageComplete: 0 }),
      plain({ Status: 'Failed', StatusReason: 'Instance i-0ccc failed to launch: lifecycle action ABANDON' }),
    ]);

    expect(await runUpgrade(h.ctx, opts(), ui())).toBe(EXIT.failedOrCancelled);
    expect(h.out.at(-1)).toMatch(
      /^instance refresh ir-1 Failed after .*: Instance i-0ccc failed to launch: lifecycle action ABANDON; see 'xspot-cdk fleet status'/,
    );
  });

  test('auto rollback after a failed canary: progress follows the rollback; exit 3', async () => {
    const h = harness();
    deployed(h, NO_CHECKPOINTS);
    const rb = {
      RollbackReason: 'Instance refresh failed; rolling back',
      PercentageCompleteOnRollback: 0,
      InstancesToUpdateOnRollback: 1,
    };
    refreshSteps(h, [
      plain({ PercentageComplete: 0 }),
      plain({ Status: 'RollbackInProgress', RollbackDetails: rb }),
      plain({
        Status: 'RollbackSuccessful',
        RollbackDetails: { ...rb, PercentageCompleteOnRollback: 100, InstancesToUpdateOnRollback: 0 },
      }),
    ]);
    const u = ui();

    expect(await runUpgrade(h.ctx, opts(), u)).toBe(EXIT.rolledBack);
    expect(u.progress.views.map((v) => `${v.status} ${v.percentage}`)).toEqual([
      'InProgress 0',
      'RollbackInProgress 0',
      'RollbackSuccessful 100',
    ]);
    expect(h.out.at(-1)).toMatch(
      /rolled back .*\(Instance refresh failed; rolling back\): the controllers are back on the previous configuration/,
    );
  });

  test('throttling while following is retried with a warning, not fatal', async () => {
    const h = harness();
    deployed(h, NO_CHECKPOINTS);
    let polls = 0;
    h.asg.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => {
      if (!input.InstanceRefreshIds) return { InstanceRefreshes: [] };
      polls += 1;
      if (polls === 2) throw sdkError('Throttling', 'Rate exceeded');
      return { InstanceRefreshes: [plain(polls < 3 ? {} : { Status: 'Successful', PercentageComplete: 100 })] };
    });

    expect(await runUpgrade(h.ctx, opts(), ui())).toBe(EXIT.ok);
    expect(h.err.join('\n')).toContain(
      'warning: reading instance refreshes of xspot-controllers-Asg-1ABCDEF in us-east-1: AWS is throttling requests even after retries',
    );
  });
});

describe('fleet upgrade --wait: the canary checkpoint', () => {
  test('--yes: stops at the checkpoint, says when AWS resumes, and goes on without asking; exit 0', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [
      refresh({ PercentageComplete: 0 }),
      atCheckpoint,
      atCheckpoint,
      refresh({ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 }),
    ]);
    const ask = jest.fn();
    const u = ui(ask);

    expect(await runUpgrade(h.ctx, opts({ yes: true }), u)).toBe(EXIT.ok);

    expect(ask).not.toHaveBeenCalled();
    const err = h.err.join('\n');
    expect(err).toContain(
      "checkpoint 50% reached: validate the new controllers now ('xspot-cdk fleet status', 'xspot-cdk fleet check'); AWS goes on with the rest after the checkpoint delay, at about 13:00 UTC",
    );
    expect(err).toContain('--yes: continuing');
    expect(u.progress.events).toContain('pause');
    expect(h.asg.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
    // Asked once, not at every poll while the refresh waits at the checkpoint.
    expect(err.match(/checkpoint 50% reached/g)).toHaveLength(1);
  });

  test('answering no cancels the refresh; exit 2', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [
      refresh({ PercentageComplete: 0 }),
      atCheckpoint,
      refresh({ Status: 'Cancelling', PercentageComplete: 50 }),
      refresh({ Status: 'Cancelled', PercentageComplete: 50 }),
    ]);
    const ask = jest.fn(async () => 'n');

    expect(await runUpgrade(h.ctx, opts(), ui(ask))).toBe(EXIT.failedOrCancelled);

    expect(ask).toHaveBeenCalledWith(
      'Continue the upgrade? [y]es / [n]o: cancel / [r]ollback: ',
      expect.any(AbortSignal),
    );
    expect(h.asg.commandCalls(CancelInstanceRefreshCommand)[0].args[0].input).toEqual({ AutoScalingGroupName: ASG });
    expect(h.asg.commandCalls(RollbackInstanceRefreshCommand)).toHaveLength(0);
    expect(h.out.at(-1)).toMatch(
      /^instance refresh ir-1 Cancelled .*controllers replaced before the cancel keep the new version/,
    );
  });

  test('answering r rolls the canary back; exit 3', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [
      atCheckpoint,
      refresh({
        Status: 'RollbackInProgress',
        RollbackDetails: { PercentageCompleteOnRollback: 0, InstancesToUpdateOnRollback: 1 },
      }),
      refresh({
        Status: 'RollbackSuccessful',
        RollbackDetails: { PercentageCompleteOnRollback: 100, InstancesToUpdateOnRollback: 0 },
      }),
    ]);

    expect(
      await runUpgrade(
        h.ctx,
        opts(),
        ui(async () => 'r'),
      ),
    ).toBe(EXIT.rolledBack);
    expect(h.asg.commandCalls(RollbackInstanceRefreshCommand)).toHaveLength(1);
    expect(h.asg.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
  });

  test('an unclear answer is asked again; yes lets AWS resume after the delay', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [atCheckpoint, refresh({ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 })]);
    const answers = ['sure', 'y'];
    const ask = jest.fn(async () => answers.shift());

    expect(await runUpgrade(h.ctx, opts(), ui(ask))).toBe(EXIT.ok);
    expect(ask).toHaveBeenCalledTimes(2);
    expect(h.err).toContain("answer 'y' (go on), 'n' (cancel the refresh) or 'r' (roll back)");
    expect(h.err).toContain('continuing: AWS resumes the refresh after the checkpoint delay, at about 13:00 UTC');
  });

  test('while the question is open, AWS resuming by itself closes it and following goes on', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [
      atCheckpoint,
      refresh({ PercentageComplete: 100, InstancesToUpdate: 0, StatusReason: undefined }),
      refresh({ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 }),
    ]);
    // Never answers; gives up when the signal aborts.
    const ask = jest.fn(
      (_q: string, signal: AbortSignal) =>
        new Promise<string | undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined))),
    );

    expect(await runUpgrade(h.ctx, opts(), ui(ask))).toBe(EXIT.ok);
    expect(h.err).toContain('the refresh moved on by itself (checkpoint delay over); following it');
    expect(h.asg.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
  });

  test('no terminal and no --yes: stops at the checkpoint with exit 4 and says what to run next', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [refresh({ PercentageComplete: 0 }), atCheckpoint]);

    expect(await runUpgrade(h.ctx, opts(), ui(undefined))).toBe(EXIT.stoppedAtCheckpoint);
    expect(h.err.at(-1)).toBe(
      "stopped at the checkpoint (no terminal to ask, and no --yes). Stop it before 13:00 UTC with 'xspot-cdk fleet upgrade --cancel' or '--rollback', or follow it again with 'xspot-cdk fleet upgrade --wait [--yes]'",
    );
    expect(h.asg.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
  });

  test('a checkpoint already passed when attaching is not asked again', async () => {
    const h = harness();
    deployed(h, { ...PREFERENCES, CheckpointPercentages: [25, 50, 100] });
    const at50 = refresh({
      PercentageComplete: 60,
      InstancesToUpdate: 1,
      Preferences: { ...PREFERENCES, CheckpointPercentages: [25, 50, 100] },
    });
    refreshSteps(h, [at50, refresh({ Status: 'Successful', PercentageComplete: 100 })], [at50]);
    const ask = jest.fn(async () => 'y');

    expect(await runUpgrade(h.ctx, opts(), ui(ask))).toBe(EXIT.ok);
    expect(ask).not.toHaveBeenCalled();
  });
});

describe('fleet upgrade --cancel / --rollback', () => {
  test('--cancel without --wait: request accepted, exit 0', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [], [refresh({ PercentageComplete: 50 })]);

    expect(await runStopRefresh(h.ctx, 'cancel', opts({ wait: false }), ui())).toBe(EXIT.ok);
    expect(h.asg.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(1);
    expect(h.out[0]).toBe(
      'cancelling instance refresh ir-1: no further controllers are replaced; those already replaced stay as they are',
    );
  });

  test('--cancel --wait ends Cancelled: exit 2', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(
      h,
      [refresh({ Status: 'Cancelling' }), refresh({ Status: 'Cancelled' })],
      [refresh({ PercentageComplete: 50 })],
    );
    expect(await runStopRefresh(h.ctx, 'cancel', opts(), ui())).toBe(EXIT.failedOrCancelled);
  });

  test('--rollback --wait ends RollbackSuccessful: exit 3', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(
      h,
      [refresh({ Status: 'RollbackInProgress' }), refresh({ Status: 'RollbackSuccessful' })],
      [refresh({ PercentageComplete: 50 })],
    );
    expect(await runStopRefresh(h.ctx, 'rollback', opts(), ui())).toBe(EXIT.rolledBack);
    expect(h.asg.commandCalls(RollbackInstanceRefreshCommand)[0].args[0].input).toEqual({ AutoScalingGroupName: ASG });
  });

  test('--rollback --wait where the rollback fails: exit 2', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [refresh({ Status: 'RollbackFailed', StatusReason: 'no previous configuration' })], [refresh({})]);
    expect(await runStopRefresh(h.ctx, 'rollback', opts(), ui())).toBe(EXIT.failedOrCancelled);
  });

  test('nothing in progress: one line naming the last refresh', async () => {
    const h = harness();
    deployed(h);
    refreshSteps(h, [], [refresh({ InstanceRefreshId: 'ir-0', Status: 'Successful' })]);
    await expect(runStopRefresh(h.ctx, 'rollback', opts(), ui())).rejects.toThrow(
      `no instance refresh in progress on ${ASG} (the last one, ir-0, ended Successful); nothing to roll back`,
    );
    expect(h.asg.commandCalls(RollbackInstanceRefreshCommand)).toHaveLength(0);
  });
});
