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
  DescribeAutoScalingGroupsCommand,
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
  restPreferences,
  runStopRefresh,
  runUpgrade,
  type UpgradeUi,
} from '../../lib/ops/fleet-upgrade';
import {
  ASG,
  fleet,
  fleetGroup,
  type Harness,
  harness,
  LT,
  modelled,
  PREFERENCES,
  recordingProgress,
  refresh,
  refreshSteps,
  sdkError,
  stackOutputs,
  T0,
} from './harness';
import { RefreshModel } from './refresh-model';

const NO_CHECKPOINTS = { ...PREFERENCES, CheckpointPercentages: undefined, CheckpointDelay: undefined };
/** A refresh started without checkpoints. */
const plain = (fields: Parameters<typeof refresh>[0]) => refresh({ Preferences: NO_CHECKPOINTS, ...fields });

const BOTH_ON_6 = [
  { id: 'i-0aaaaaaaaaaaaaaa1', version: 6 },
  { id: 'i-0bbbbbbbbbbbbbbb2', az: 'us-east-1b', version: 6 },
];

const BOOT = 10 * 60_000;
const DRAIN = 5 * 60_000;
const WARMUP = PREFERENCES.InstanceWarmup * 1000;

/**
 * The same starting point with AWS played by the written refresh model: two controllers on 6 that
 * boot in 10 minutes and drain in 5, the group on 7.
 */
function modelDeployed(h: Harness, prefs: object = PREFERENCES): RefreshModel {
  stackOutputs(h, { RefreshPreferences: JSON.stringify(prefs) });
  const model = new RefreshModel({
    now: () => h.ctx.clock.now().getTime(),
    groupVersion: 7,
    controllers: 2,
    controllerVersion: 6,
    bootMs: BOOT,
    drainMs: DRAIN,
  });
  modelled(h, model);
  return model;
}

/** The usual starting point: cdk deploy switched the group to 7, both controllers still run 6. */
function deployed(h: Harness, prefs: object = PREFERENCES) {
  stackOutputs(h, { RefreshPreferences: JSON.stringify(prefs) });
  fleet(h, '7', BOTH_ON_6);
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
    // Read again after the rollback: the group (pointed back at 6 before the refresh) and both
    // controllers are on 6, so nothing is left on another version.
    h.asg
      .on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({ AutoScalingGroups: [fleetGroup('7', BOTH_ON_6)] })
      .resolves({ AutoScalingGroups: [fleetGroup('6', BOTH_ON_6)] });
    const u = ui();

    expect(await runUpgrade(h.ctx, opts(), u)).toBe(EXIT.rolledBack);
    expect(h.asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(1);
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
  test('--yes: continues at once: the canary refresh is cancelled at its checkpoint and a second refresh with SkipMatching replaces the rest; exit 0', async () => {
    const h = harness();
    const model = modelDeployed(h);
    const ask = jest.fn();
    const u = ui(ask);

    expect(await runUpgrade(h.ctx, opts({ yes: true }), u)).toBe(EXIT.ok);

    expect(ask).not.toHaveBeenCalled();
    const err = h.err.join('\n');
    expect(err).toContain(
      "checkpoint 50% reached: validate the new controllers now ('xspot-cdk fleet status', 'xspot-cdk fleet check'); unanswered, AWS goes on with the rest after the checkpoint delay, at about 13:35 UTC",
    );
    expect(err).toContain('--yes: continuing');
    expect(err).toContain(
      'continuing now: canary refresh ir-1 stopped at its checkpoint, instance refresh ir-2 replaces the rest (skip matching: the canary stays)',
    );
    // Asked once, not at every poll while the refresh waits at the checkpoint.
    expect(err.match(/checkpoint 50% reached/g)).toHaveLength(1);
    expect(u.progress.events).toContain('pause');
    // The progress counts the second refresh's own controllers (one), not the first's.
    expect(u.progress.views.at(-1)).toMatchObject({ status: 'Successful', percentage: 100, replaced: 1, total: 1 });
    expect(h.asg.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(1);
    const starts = h.asg.commandCalls(StartInstanceRefreshCommand).map((c) => c.args[0].input);
    expect(starts).toHaveLength(2);
    expect(starts[1]).toEqual({
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
    // Both controllers on 7, the canary kept (three launches in all would mean it was replaced
    // again), the group on 7; and no checkpoint delay in the elapsed time: two phases of
    // boot + warmup + drain.
    expect(model.instances.map((i) => [i.id, i.version])).toEqual([
      ['i-00000000000000003', 7],
      ['i-00000000000000004', 7],
    ]);
    expect(model.groupVersion).toBe(7);
    expect(h.ctx.clock.now().getTime() - T0.getTime()).toBe(2 * (BOOT + WARMUP + DRAIN));
    expect(h.out.slice(-2)).toEqual([
      'instance refresh ir-2 Successful after 35m: every controller runs launch template version 7',
      'upgrade done in 1h10m: canary refresh ir-1, then ir-2',
    ]);
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

  test('answering r at the checkpoint rolls the canary back: both controllers on 6 again; exit 3', async () => {
    const h = harness();
    const model = modelDeployed(h);

    expect(
      await runUpgrade(
        h.ctx,
        opts(),
        ui(async () => 'r'),
      ),
    ).toBe(EXIT.rolledBack);

    expect(h.asg.commandCalls(RollbackInstanceRefreshCommand)).toHaveLength(1);
    expect(h.asg.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
    expect(h.asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(1);
    expect(model.instances.map((i) => i.version)).toEqual([6, 6]);
    expect(model.groupVersion).toBe(6);
  });

  test('an unclear answer is asked again; yes continues at once', async () => {
    const h = harness();
    const model = modelDeployed(h);
    const answers = ['sure', 'y'];
    const ask = jest.fn(async () => answers.shift());

    expect(await runUpgrade(h.ctx, opts(), ui(ask))).toBe(EXIT.ok);

    expect(ask).toHaveBeenCalledTimes(2);
    expect(h.err).toContain("answer 'y' (go on), 'n' (cancel the refresh) or 'r' (roll back)");
    expect(h.err).toContain(
      'continuing now: canary refresh ir-1 stopped at its checkpoint, instance refresh ir-2 replaces the rest (skip matching: the canary stays)',
    );
    expect(model.instances.map((i) => i.version)).toEqual([7, 7]);
    // Well before the checkpoint delay (1h) would have let AWS go on.
    expect(h.ctx.clock.now().getTime() - T0.getTime()).toBeLessThan(2 * (BOOT + WARMUP + DRAIN) + 60_000);
  });

  test('a rollback after a continue puts the canary back too: every controller on 6; exit 3', async () => {
    const h = harness();
    const model = modelDeployed(h);
    // The canary refresh went to its checkpoint, the operator said yes, the second refresh runs.
    model.groupVersion = 6;
    const desired = { LaunchTemplate: { LaunchTemplateId: LT, Version: '7' } };
    model.start({ DesiredConfiguration: desired, Preferences: PREFERENCES });
    h.advance(BOOT + WARMUP + DRAIN);
    model.cancel();
    model.start({ DesiredConfiguration: desired, Preferences: { ...NO_CHECKPOINTS, SkipMatching: true } });
    h.advance(BOOT / 2);
    const canary = model.instances.find((i) => i.version === 7 && i.state === 'InService')?.id;

    expect(await runStopRefresh(h.ctx, 'rollback', opts(), ui())).toBe(EXIT.rolledBack);

    expect(model.instances.map((i) => i.version)).toEqual([6, 6]);
    expect(model.groupVersion).toBe(6);
    expect(h.asg.commandCalls(StartInstanceRefreshCommand).map((c) => c.args[0].input)).toEqual([
      {
        AutoScalingGroupName: ASG,
        Strategy: 'Rolling',
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: LT, Version: '6' } },
        Preferences: {
          MinHealthyPercentage: 100,
          MaxHealthyPercentage: 200,
          InstanceWarmup: 1200,
          SkipMatching: true,
          AutoRollback: false,
        },
      },
    ]);
    expect(h.err).toContain(
      `the rollback left ${canary} (version 7) on another version than the group's 6 (replaced before the continue); instance refresh ir-3 replaces it with version 6`,
    );
    expect(h.out.some((l) => l.startsWith('instance refresh ir-2 rolled back'))).toBe(true);
    expect(h.out.at(-1)).toMatch(
      /^instance refresh ir-3 Successful after .*: every controller runs launch template version 6$/,
    );
  });

  test('a rollback after a continue that nobody followed: --rollback with nothing in progress puts the canary back; exit 3', async () => {
    const h = harness();
    const model = modelDeployed(h);
    model.groupVersion = 6;
    const desired = { LaunchTemplate: { LaunchTemplateId: LT, Version: '7' } };
    model.start({ DesiredConfiguration: desired, Preferences: PREFERENCES });
    h.advance(BOOT + WARMUP + DRAIN);
    model.cancel();
    model.start({ DesiredConfiguration: desired, Preferences: { ...NO_CHECKPOINTS, SkipMatching: true } });
    h.advance(BOOT / 2);
    model.rollback(); // an alarm, say, while nobody follows
    h.advance(4 * (BOOT + WARMUP + DRAIN));
    expect(model.describe()[0].Status).toBe('RollbackSuccessful');
    expect(model.instances.map((i) => i.version).sort()).toEqual([6, 7]);

    expect(await runStopRefresh(h.ctx, 'rollback', opts(), ui())).toBe(EXIT.rolledBack);

    expect(model.instances.map((i) => i.version)).toEqual([6, 6]);
    expect(h.asg.commandCalls(RollbackInstanceRefreshCommand)).toHaveLength(0);
    expect(h.err.join('\n')).toMatch(/the rollback left i-\d+ \(version 7\) on another version than the group's 6/);
  });

  test('a later checkpoint below 100% left: yes lets AWS go on after the delay (no second refresh)', () => {
    const r = refresh({ Preferences: { ...PREFERENCES, CheckpointPercentages: [25, 50, 100] } });
    expect(restPreferences(r, 25)).toBeUndefined();
    expect(restPreferences(r, 50)).toEqual({
      MinHealthyPercentage: 100,
      MaxHealthyPercentage: 200,
      InstanceWarmup: 1200,
      SkipMatching: true,
      AutoRollback: true,
    });
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
    // What the group looks like once the rollback is done: every controller on the group's 6.
    fleet(h, '6', BOTH_ON_6);
    refreshSteps(
      h,
      [refresh({ Status: 'RollbackInProgress' }), refresh({ Status: 'RollbackSuccessful' })],
      [refresh({ PercentageComplete: 50 })],
    );
    expect(await runStopRefresh(h.ctx, 'rollback', opts(), ui())).toBe(EXIT.rolledBack);
    expect(h.asg.commandCalls(RollbackInstanceRefreshCommand)[0].args[0].input).toEqual({ AutoScalingGroupName: ASG });
    expect(h.asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
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
