/**
 * Instance-refresh preferences for a rolling controller upgrade (the guide's "Upgrading Cluster
 * Deployments": validate one controller, then the rest; never drop below the capacity in service).
 * Pure logic: the fleet construct exports the result as the `RefreshPreferences` stack output and
 * `xspot-cdk fleet upgrade` passes it unchanged to StartInstanceRefresh.
 */
import type { RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import { Duration } from 'aws-cdk-lib';

/** How controllers are replaced when the launch template changes. */
export interface ControllerRefreshOptions {
  /**
   * Replace one controller first and wait at a checkpoint before the rest.
   *
   * @default true
   */
  readonly canary?: boolean;
  /**
   * How long to wait at the canary checkpoint (time to validate the first new controller).
   *
   * @default Duration.minutes(60)
   */
  readonly checkpointDelay?: Duration;
  /**
   * Capacity (percent of desired) that must stay in service and healthy during the refresh.
   *
   * @default 100
   */
  readonly minHealthyPercentage?: number;
  /**
   * Capacity (percent of desired) the refresh may run at while it replaces: above 100 new
   * controllers launch before old ones are terminated.
   *
   * @default 200
   */
  readonly maxHealthyPercentage?: number;
  /**
   * Time after a new controller is InService before the refresh counts it and moves on. The
   * launch lifecycle hook already holds it out of service until its bootstrap passed
   * `xspot check -f` (scheduler, docker, storage, logs), so nothing is left to prove: no wait.
   *
   * @default Duration.seconds(0)
   */
  readonly instanceWarmup?: Duration;
  /**
   * Roll back to the previous launch template version when the refresh fails or an alarm fires.
   *
   * @default true
   */
  readonly autoRollback?: boolean;
}

/** The most a checkpoint may wait (StartInstanceRefresh: 172800 seconds). */
const MAX_CHECKPOINT_DELAY_SECONDS = 172_800;

/**
 * Checkpoints that stop after exactly one new controller: `[floor(100 / desired), 100]`.
 * A checkpoint is reached when at least that percentage of the group is new, so the first value
 * must not exceed one controller's share (ceil would overshoot: 3 controllers, 34% needs two).
 * None when there is at most one controller: launching the replacement before terminating the old
 * one already validates it first.
 */
export function canaryCheckpoints(desiredCapacity: number): number[] | undefined {
  if (desiredCapacity <= 1) return undefined;
  return [Math.max(1, Math.floor(100 / desiredCapacity)), 100];
}

/** Validates the options and returns StartInstanceRefresh `Preferences`. */
export function refreshPreferences(
  desiredCapacity: number,
  options: ControllerRefreshOptions = {},
  alarmNames: readonly string[] = [],
): RefreshPreferences {
  const min = options.minHealthyPercentage ?? 100;
  const max = options.maxHealthyPercentage ?? 200;
  if (!Number.isInteger(min) || min < 0 || min > 100) {
    throw new Error(`upgrade.minHealthyPercentage: must be a whole number from 0 to 100, got ${min}`);
  }
  if (!Number.isInteger(max) || max < 100 || max > 200) {
    throw new Error(`upgrade.maxHealthyPercentage: must be a whole number from 100 to 200, got ${max}`);
  }
  if (max - min > 100) {
    throw new Error(
      `upgrade.maxHealthyPercentage: may exceed minHealthyPercentage (${min}) by at most 100, got ${max}`,
    );
  }
  if (min === 100 && max === 100) {
    throw new Error(
      'upgrade.maxHealthyPercentage: must be above 100 when minHealthyPercentage is 100, or no controller could be replaced',
    );
  }
  const warmup = (options.instanceWarmup ?? Duration.seconds(0)).toSeconds();
  const delay = (options.checkpointDelay ?? Duration.minutes(60)).toSeconds();
  if (delay > MAX_CHECKPOINT_DELAY_SECONDS) {
    throw new Error(`upgrade.checkpointDelay: must be at most 48 hours, got ${delay} seconds`);
  }

  const prefs: RefreshPreferences = {
    MinHealthyPercentage: min,
    MaxHealthyPercentage: max,
    InstanceWarmup: warmup,
    SkipMatching: true,
    AutoRollback: options.autoRollback ?? true,
  };
  const checkpoints = (options.canary ?? true) ? canaryCheckpoints(desiredCapacity) : undefined;
  if (checkpoints) {
    prefs.CheckpointPercentages = checkpoints;
    prefs.CheckpointDelay = delay;
  }
  if (alarmNames.length > 0) {
    prefs.AlarmSpecification = { Alarms: [...alarmNames] };
  }
  return prefs;
}
