/**
 * A written model of an Auto Scaling instance refresh (Strategy Rolling), for tests that drive
 * `fleet upgrade` over a whole roll on a fake clock. No emulator models instance refreshes (moto
 * has no StartInstanceRefresh checkpoints, rollback or lifecycle hooks), so the behaviour is written
 * down here from the AWS documentation, each rule with its source:
 *
 *  - Pace, MinHealthyPercentage / MaxHealthyPercentage: max is "the maximum percentage of the group
 *    that can be in service and healthy, or pending" while replacing, and "a large range increases
 *    the number of instances that can be replaced at the same time"; with min 100 / max 200 new
 *    instances launch (up to desired capacity at once) before old ones terminate.
 *    API InstanceMaintenancePolicy and RefreshPreferences:
 *    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceMaintenancePolicy.html
 *    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
 *    User Guide, "Instance maintenance policies":
 *    https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html
 *  - Lifecycle hooks: a launching instance stays in Pending:Wait until its launch lifecycle action
 *    completes (the controller's bootstrap sends CONTINUE after `xspot check -f`), then goes
 *    InService; a terminating instance stays in Terminating:Wait until its terminate action
 *    completes (the drain). User Guide, "Amazon EC2 Auto Scaling lifecycle hooks":
 *    https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html
 *  - Warmup: InstanceWarmup is "a time period, in seconds, during which an instance refresh waits
 *    before moving on to replacing the next instance after a new instance enters the InService
 *    state"; unset, it is the group's DefaultInstanceWarmup or else its health check grace period
 *    (`graceSeconds` here). API RefreshPreferences (above); User Guide, "Understand the default
 *    values for an instance refresh":
 *    https://docs.aws.amazon.com/autoscaling/ec2/userguide/understand-instance-refresh-default-values.html
 *  - Checkpoints: "the minimum percentage of instances in the Auto Scaling group that must be new
 *    instances before the checkpoint is considered reached"; replacements are paced not to pass it;
 *    the refresh then waits CheckpointDelay (default 3600 s), StatusReason "Waiting for checkpoint
 *    delay to complete". No API call ends the delay early. User Guide, "Add checkpoints to an
 *    instance refresh":
 *    https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html
 *  - Cancel: "Canceling an instance refresh does not roll back any instances that were already
 *    replaced"; status Cancelling, then Cancelled. User Guide, "Cancel an instance refresh":
 *    https://docs.aws.amazon.com/autoscaling/ec2/userguide/cancel-instance-refresh.html
 *  - Desired configuration: "Once the instance refresh succeeds, Amazon EC2 Auto Scaling updates the
 *    settings of the Auto Scaling group to reflect the new desired configuration" (so a cancelled or
 *    rolled-back refresh leaves the group's own configuration as it was). With SkipMatching,
 *    "Amazon EC2 Auto Scaling skips replacing instances that already use the specified launch
 *    template". API StartInstanceRefresh:
 *    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html
 *  - Rollback: "replaces the instances that have been deployed so far. The new instances match the
 *    configuration that you last saved on the Auto Scaling group before starting the instance
 *    refresh". Only this refresh's instances: an instance an earlier (cancelled) refresh replaced
 *    is not touched. User Guide, "Undo changes with a manual or auto rollback":
 *    https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html;
 *    API RollbackInstanceRefresh:
 *    https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RollbackInstanceRefresh.html
 *
 * Simplifications (stated, not hidden): MaxHealthyPercentage above 100 only (launch before
 * terminate); every instance boots in the same `bootMs` and drains in the same `drainMs`; a batch
 * in flight when a cancel or rollback arrives finishes first; a cancel at a checkpoint (nothing in
 * flight) takes effect at once; API calls take no time.
 */
import type {
  Instance as AsgInstance,
  AutoScalingGroup,
  InstanceRefresh,
  RefreshPreferences,
} from '@aws-sdk/client-auto-scaling';

type State = 'Pending:Wait' | 'InService' | 'Terminating:Wait';

interface ModelInstance {
  id: string;
  version: number;
  state: State;
}

interface Batch {
  /** When the new instances launched. */
  readonly at: number;
  readonly newIds: string[];
  readonly oldIds: string[];
  readonly version: number;
}

interface ModelRefresh {
  id: string;
  status: string;
  reason?: string;
  startTime: number;
  endTime?: number;
  version: number;
  launchTemplateId: string;
  /** The group's version when this refresh started (what a rollback returns to). */
  from: number;
  prefs: RefreshPreferences;
  total: number;
  replaced: number;
  launched: string[];
  batch?: Batch;
  checkpointUntil?: number;
  passed: Set<number>;
  rollback?: { total: number; replaced: number };
}

export interface ModelOptions {
  readonly now: () => number;
  readonly groupVersion: number;
  readonly controllers: number;
  readonly controllerVersion: number;
  /** Launch to launch lifecycle action complete (the bootstrap, ending in `xspot check -f`). */
  readonly bootMs: number;
  /** Terminate lifecycle action: the drain. */
  readonly drainMs: number;
  /** The group's health check grace period: the warmup of a refresh that sets none (default 300 s). */
  readonly graceSeconds?: number;
}

export class RefreshModel {
  groupVersion: number;
  readonly instances: ModelInstance[] = [];
  readonly refreshes: ModelRefresh[] = [];
  private seq = 0;
  private nextId = 1;

  constructor(private readonly o: ModelOptions) {
    this.groupVersion = o.groupVersion;
    for (let i = 0; i < o.controllers; i++) this.launch(o.controllerVersion, 'InService');
  }

  private launch(version: number, state: State): string {
    const id = `i-${String(this.nextId++).padStart(17, '0')}`;
    this.instances.push({ id, version, state });
    return id;
  }

  private get desired(): number {
    return this.o.controllers;
  }

  private active(): ModelRefresh | undefined {
    return this.refreshes.find((r) => ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress'].includes(r.status));
  }

  /** Advances the model to the clock's now, processing every event due. */
  sync(): void {
    const now = this.o.now();
    for (;;) {
      const r = this.active();
      if (!r) return;
      const next = this.nextEvent(r);
      if (next === undefined || next > now) return;
      this.step(r, next);
    }
  }

  private warmupMs(r: ModelRefresh): number {
    return (r.prefs.InstanceWarmup ?? this.o.graceSeconds ?? 300) * 1000;
  }

  private nextEvent(r: ModelRefresh): number | undefined {
    if (r.batch) {
      const b = r.batch;
      const inService = b.at + this.o.bootMs;
      const warm = inService + this.warmupMs(r);
      const gone = warm + this.o.drainMs;
      const anyPending = b.newIds.some((id) => this.find(id)?.state === 'Pending:Wait');
      if (anyPending) return inService;
      const anyLive = b.oldIds.some((id) => this.find(id)?.state === 'InService');
      if (anyLive) return warm;
      return gone;
    }
    if (r.checkpointUntil !== undefined) return r.checkpointUntil;
    return r.startTime; // ready to plan the next batch now
  }

  private find(id: string): ModelInstance | undefined {
    return this.instances.find((i) => i.id === id);
  }

  private step(r: ModelRefresh, at: number): void {
    if (r.batch) {
      const b = r.batch;
      if (b.newIds.some((id) => this.find(id)?.state === 'Pending:Wait')) {
        for (const id of b.newIds) this.setState(id, 'InService');
        r.reason = 'Waiting for instances to warm up before continuing.';
        return;
      }
      if (b.oldIds.some((id) => this.find(id)?.state === 'InService')) {
        for (const id of b.oldIds) this.setState(id, 'Terminating:Wait');
        r.reason = 'Waiting for instances to terminate (terminate lifecycle hook).';
        return;
      }
      // Drained: the old instances are gone; the batch counts as replaced.
      for (const id of b.oldIds) this.instances.splice(this.instances.indexOf(this.find(id) as ModelInstance), 1);
      r.batch = undefined;
      if (r.rollback && b.version === r.from) r.rollback.replaced += b.newIds.length;
      else r.replaced += b.newIds.length;
      this.afterBatch(r, at);
      return;
    }
    if (r.checkpointUntil !== undefined) {
      r.checkpointUntil = undefined;
      r.reason = undefined;
    }
    this.plan(r, at);
  }

  private setState(id: string, state: State): void {
    const i = this.find(id);
    if (i) i.state = state;
  }

  private newShare(version: number): number {
    const live = this.instances.filter((i) => i.state !== 'Terminating:Wait');
    return (100 * live.filter((i) => i.version === version).length) / this.desired;
  }

  private afterBatch(r: ModelRefresh, at: number): void {
    if (r.status === 'Cancelling') {
      this.end(r, 'Cancelled', at);
      return;
    }
    if (r.rollback) {
      if (r.rollback.replaced >= r.rollback.total) this.end(r, 'RollbackSuccessful', at);
      else this.plan(r, at);
      return;
    }
    if (r.replaced >= r.total) {
      this.groupVersion = r.version;
      this.end(r, 'Successful', at);
      return;
    }
    const share = this.newShare(r.version);
    const reached = (r.prefs.CheckpointPercentages ?? []).filter((c) => c < 100 && share >= c && !r.passed.has(c));
    if (reached.length > 0) {
      for (const c of reached) r.passed.add(c);
      r.checkpointUntil = at + (r.prefs.CheckpointDelay ?? 3600) * 1000;
      r.reason = 'Waiting for checkpoint delay to complete';
      return;
    }
    this.plan(r, at);
  }

  /** Starts the next batch: as many as max healthy allows, not past the next checkpoint. */
  private plan(r: ModelRefresh, at: number): void {
    const target = r.rollback ? r.from : r.version;
    const old = this.instances.filter((i) =>
      r.rollback
        ? r.launched.includes(i.id) && i.state === 'InService'
        : i.version !== target && i.state === 'InService',
    );
    const room = Math.floor((this.desired * (r.prefs.MaxHealthyPercentage ?? 100)) / 100) - this.desired;
    let n = Math.min(old.length, Math.max(1, room));
    if (!r.rollback) {
      const next = (r.prefs.CheckpointPercentages ?? []).find((c) => c < 100 && !r.passed.has(c));
      if (next !== undefined) {
        const newNow = this.instances.filter((i) => i.version === target).length;
        n = Math.min(n, Math.max(1, Math.ceil((next * this.desired) / 100) - newNow));
      }
    }
    if (n === 0) {
      this.afterBatch(r, at);
      return;
    }
    const oldIds = old.slice(0, n).map((i) => i.id);
    const newIds = oldIds.map(() => this.launch(target, 'Pending:Wait'));
    if (!r.rollback) r.launched.push(...newIds);
    r.batch = { at, newIds, oldIds, version: target };
    r.reason = `Waiting for instances to launch (launch lifecycle hook): ${newIds.join(', ')}`;
  }

  private end(r: ModelRefresh, status: string, at: number): void {
    r.status = status;
    r.endTime = at;
    r.reason = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // API

  start(input: {
    DesiredConfiguration?: { LaunchTemplate?: { LaunchTemplateId?: string; Version?: string } };
    Preferences?: RefreshPreferences;
  }) {
    this.sync();
    if (this.active()) {
      throw Object.assign(new Error('An Instance Refresh is already in progress'), {
        name: 'InstanceRefreshInProgress',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const version = Number(input.DesiredConfiguration?.LaunchTemplate?.Version ?? this.groupVersion);
    const prefs = input.Preferences ?? {};
    const toUpdate = this.instances.filter(
      (i) => i.state === 'InService' && !(prefs.SkipMatching && i.version === version),
    );
    const now = this.o.now();
    const r: ModelRefresh = {
      id: `ir-${++this.seq}`,
      status: 'InProgress',
      startTime: now,
      version,
      launchTemplateId: input.DesiredConfiguration?.LaunchTemplate?.LaunchTemplateId ?? 'lt',
      from: this.groupVersion,
      prefs,
      total: toUpdate.length,
      replaced: 0,
      launched: [],
      passed: new Set(),
    };
    this.refreshes.unshift(r);
    if (r.total === 0) {
      this.groupVersion = version;
      this.end(r, 'Successful', now);
    } else {
      this.plan(r, now);
    }
    return { InstanceRefreshId: r.id };
  }

  cancel() {
    this.sync();
    const r = this.active();
    if (!r)
      throw Object.assign(new Error('No in progress or pending Instance Refresh found'), {
        name: 'ActiveInstanceRefreshNotFound',
      });
    if (r.batch) r.status = 'Cancelling';
    else this.end(r, 'Cancelled', this.o.now());
    return { InstanceRefreshId: r.id };
  }

  rollback() {
    this.sync();
    const r = this.active();
    if (!r)
      throw Object.assign(new Error('No in progress or pending Instance Refresh found'), {
        name: 'ActiveInstanceRefreshNotFound',
      });
    const launched = r.launched.filter((id) => this.find(id));
    r.status = 'RollbackInProgress';
    r.rollback = { total: launched.length, replaced: 0 };
    r.checkpointUntil = undefined;
    if (!r.batch) this.plan(r, this.o.now());
    return { InstanceRefreshId: r.id };
  }

  describe(ids?: string[]): InstanceRefresh[] {
    this.sync();
    const list = ids ? this.refreshes.filter((r) => ids.includes(r.id)) : this.refreshes.slice(0, 5);
    return list.map((r) => ({
      InstanceRefreshId: r.id,
      AutoScalingGroupName: 'asg',
      Status: r.status as InstanceRefresh['Status'],
      StatusReason: r.reason,
      StartTime: new Date(r.startTime),
      EndTime: r.endTime !== undefined ? new Date(r.endTime) : undefined,
      PercentageComplete: r.total === 0 ? 100 : Math.floor((100 * r.replaced) / r.total),
      InstancesToUpdate: r.total - r.replaced,
      Preferences: r.prefs,
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: r.launchTemplateId, Version: String(r.version) } },
      RollbackDetails: r.rollback
        ? {
            PercentageCompleteOnRollback:
              r.rollback.total === 0 ? 100 : Math.floor((100 * r.rollback.replaced) / r.rollback.total),
            InstancesToUpdateOnRollback: r.rollback.total - r.rollback.replaced,
          }
        : undefined,
    }));
  }

  group(name: string, lt: string): AutoScalingGroup {
    this.sync();
    return {
      AutoScalingGroupName: name,
      MinSize: 1,
      MaxSize: this.desired * 2,
      DesiredCapacity: this.desired,
      DefaultCooldown: 300,
      AvailabilityZones: ['us-east-1a'],
      HealthCheckType: 'EC2',
      CreatedTime: new Date(0),
      LaunchTemplate: {
        LaunchTemplateId: lt,
        LaunchTemplateName: 'xspot-controller',
        Version: String(this.groupVersion),
      },
      Instances: this.instances.map(
        (i): AsgInstance => ({
          InstanceId: i.id,
          AvailabilityZone: 'us-east-1a',
          InstanceType: 'm5d.xlarge',
          LifecycleState: i.state as AsgInstance['LifecycleState'],
          HealthStatus: 'Healthy',
          LaunchTemplate: { LaunchTemplateId: lt, LaunchTemplateName: 'xspot-controller', Version: String(i.version) },
          ProtectedFromScaleIn: false,
        }),
      ),
    };
  }
}
