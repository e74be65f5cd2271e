/** Instance-refresh preferences: one controller first, launch before terminate, rollback on. */
import { Duration } from 'aws-cdk-lib';
import { canaryCheckpoints, refreshPreferences } from '../../lib/constructs/controller-fleet-refresh';

describe('canary checkpoints', () => {
  test.each([
    [0, undefined],
    [1, undefined],
    [2, [50, 100]],
    [3, [33, 100]],
    [4, [25, 100]],
    [7, [14, 100]],
    [100, [1, 100]],
  ])('desired %i -> %j', (desired, expected) => {
    expect(canaryCheckpoints(desired)).toEqual(expected);
  });

  test.each([2, 3, 4, 5, 6, 7, 9, 11, 33, 67, 99, 100])(
    'with %i controllers the first checkpoint is reached after exactly one new controller',
    (desired) => {
      const [first] = canaryCheckpoints(desired)!;
      // A checkpoint is reached when at least that percentage of the group is new.
      expect((1 / desired) * 100).toBeGreaterThanOrEqual(first);
      expect((0 / desired) * 100).toBeLessThan(first);
    },
  );
});

describe('refreshPreferences', () => {
  test('defaults: canary checkpoint, 100/200 healthy, warmup, auto rollback, skip matching, alarm', () => {
    expect(refreshPreferences(4, {}, ['xspot-controllers-bootstrap-failures'])).toEqual({
      MinHealthyPercentage: 100,
      MaxHealthyPercentage: 200,
      InstanceWarmup: 0,
      SkipMatching: true,
      AutoRollback: true,
      CheckpointPercentages: [25, 100],
      CheckpointDelay: 3600,
      AlarmSpecification: { Alarms: ['xspot-controllers-bootstrap-failures'] },
    });
  });

  test('config values come through in seconds', () => {
    const p = refreshPreferences(2, {
      checkpointDelay: Duration.minutes(15),
      instanceWarmup: Duration.minutes(5),
      minHealthyPercentage: 50,
      maxHealthyPercentage: 150,
      autoRollback: false,
    });
    expect(p).toMatchObject({
      CheckpointDelay: 900,
      InstanceWarmup: 300,
      MinHealthyPercentage: 50,
      MaxHealthyPercentage: 150,
      AutoRollback: false,
    });
    expect(p.AlarmSpecification).toBeUndefined();
  });

  test('canary off: no checkpoints', () => {
    const p = refreshPreferences(4, { canary: false });
    expect(p.CheckpointPercentages).toBeUndefined();
    expect(p.CheckpointDelay).toBeUndefined();
  });

  test.each([
    [{ minHealthyPercentage: 101 }, /upgrade\.minHealthyPercentage: must be a whole number from 0 to 100, got 101/],
    [{ maxHealthyPercentage: 99 }, /upgrade\.maxHealthyPercentage: must be a whole number from 100 to 200, got 99/],
    [
      { minHealthyPercentage: 50, maxHealthyPercentage: 200 },
      /may exceed minHealthyPercentage \(50\) by at most 100, got 200/,
    ],
    [{ minHealthyPercentage: 100, maxHealthyPercentage: 100 }, /must be above 100 when minHealthyPercentage is 100/],
    [{ checkpointDelay: Duration.hours(49) }, /upgrade\.checkpointDelay: must be at most 48 hours/],
  ])('%j is refused', (opts, message) => {
    expect(() => refreshPreferences(2, opts)).toThrow(message);
  });
});
