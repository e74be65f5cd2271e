/**
 * Shared fixtures for the fleet CLI tests: SDK clients mocked with aws-sdk-client-mock (moto, the
 * local AWS emulator used elsewhere, models neither StartInstanceRefresh and its checkpoints nor
 * lifecycle hooks nor SSM Run Command results), a fake clock whose sleep only advances time, and
 * captured output.
 */
import {
  type Instance as AsgInstance,
  AutoScalingClient,
  type AutoScalingGroup,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand, type StackStatus } from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, DescribeLaunchTemplatesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { FleetClients, FleetContext } from '../../lib/ops/fleet';
import type { ProgressView, RefreshProgress } from '../../lib/ops/fleet-progress';
import type { RefreshModel } from './refresh-model';

export const T0 = new Date('2026-03-02T12:00:00.000Z');
export const ASG = 'xspot-controllers-Asg-1ABCDEF';
export const LT = 'lt-0123456789abcdef0';

export function sdkError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

export function harness() {
  const cfg = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };
  const clients: FleetClients = {
    asg: new AutoScalingClient(cfg),
    ec2: new EC2Client(cfg),
    cfn: new CloudFormationClient(cfg),
    ssm: new SSMClient(cfg),
  };
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  let now = T0.getTime();
  const ctx: FleetContext = {
    deployment: 'xspot',
    region: 'us-east-1',
    clients,
    clock: {
      now: () => new Date(now),
      // No real waiting; a macrotask hop lets a pending prompt answer settle first.
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length > 500) throw new Error('runaway wait loop in a test (more than 500 sleeps)');
        now += ms;
        await new Promise((r) => setImmediate(r));
      },
    },
    io: { out: (l) => out.push(l), err: (l) => err.push(l) },
  };
  return {
    ctx,
    asg: mockClient(clients.asg),
    ec2: mockClient(clients.ec2),
    cfn: mockClient(clients.cfn),
    ssm: mockClient(clients.ssm),
    out,
    err,
    sleeps,
    advance: (ms: number) => {
      now += ms;
    },
  };
}
export type Harness = ReturnType<typeof harness>;

export const PREFERENCES = {
  MinHealthyPercentage: 100,
  MaxHealthyPercentage: 200,
  InstanceWarmup: 1200,
  CheckpointPercentages: [50, 100],
  CheckpointDelay: 3600,
  SkipMatching: true,
  AutoRollback: true,
};

export function stackOutputs(
  h: Harness,
  overrides: Record<string, string | undefined> = {},
  status = 'UPDATE_COMPLETE',
) {
  const values: Record<string, string | undefined> = {
    AutoScalingGroupName: ASG,
    LaunchTemplateId: LT,
    LaunchTemplateVersion: '7',
    RefreshPreferences: JSON.stringify(PREFERENCES),
    RuntimeVersion: '3f2a0c9d1b7e-9c1d22ab04ef',
    ...overrides,
  };
  h.cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'xspot-controllers',
        StackStatus: status as StackStatus,
        CreationTime: T0,
        Outputs: Object.entries(values)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => ({ OutputKey: k, OutputValue: v })),
      },
    ],
  });
}

export interface InstanceSpec {
  id: string;
  az?: string;
  version: number | string;
  state?: string;
  health?: string;
  launchedHoursAgo?: number;
}

/** The Auto Scaling group (launch template at `groupVersion`) with its instances. */
export function fleetGroup(groupVersion: string, instances: InstanceSpec[]): AutoScalingGroup {
  const asgInstances: AsgInstance[] = instances.map((i) => ({
    InstanceId: i.id,
    AvailabilityZone: i.az ?? 'us-east-1a',
    InstanceType: 'm5d.xlarge',
    LifecycleState: (i.state ?? 'InService') as AsgInstance['LifecycleState'],
    HealthStatus: i.health ?? 'Healthy',
    LaunchTemplate: { LaunchTemplateId: LT, LaunchTemplateName: 'xspot-controller', Version: String(i.version) },
    ProtectedFromScaleIn: false,
  }));
  return {
    AutoScalingGroupName: ASG,
    MinSize: 1,
    MaxSize: 4,
    DesiredCapacity: instances.length,
    DefaultCooldown: 300,
    AvailabilityZones: ['us-east-1a', 'us-east-1b'],
    HealthCheckType: 'EC2',
    CreatedTime: T0,
    LaunchTemplate: { LaunchTemplateId: LT, LaunchTemplateName: 'xspot-controller', Version: groupVersion },
    Instances: asgInstances,
  };
}

/** The group (launch template at `groupVersion`), its instances, the template and EC2 details. */
export function fleet(
  h: Harness,
  groupVersion: string,
  instances: InstanceSpec[],
  template = { latest: 7, default: 6 },
) {
  h.asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [fleetGroup(groupVersion, instances)] });
  h.ec2.on(DescribeLaunchTemplatesCommand).resolves({
    LaunchTemplates: [
      {
        LaunchTemplateId: LT,
        LaunchTemplateName: 'xspot-controller',
        LatestVersionNumber: template.latest,
        DefaultVersionNumber: template.default,
      },
    ],
  });
  h.ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: instances.map((i) => ({
          InstanceId: i.id,
          InstanceType: 'm5d.xlarge',
          LaunchTime: new Date(T0.getTime() - (i.launchedHoursAgo ?? 1) * 3600_000),
          Tags: [
            { Key: 'aws:ec2launchtemplate:id', Value: LT },
            ...(typeof i.version === 'number'
              ? [{ Key: 'aws:ec2launchtemplate:version', Value: String(i.version) }]
              : []),
          ],
        })),
      },
    ],
  });
}

export function refresh(fields: Partial<InstanceRefresh>): InstanceRefresh {
  return {
    InstanceRefreshId: 'ir-1',
    AutoScalingGroupName: ASG,
    Status: 'InProgress',
    PercentageComplete: 0,
    InstancesToUpdate: 2,
    StartTime: T0,
    Preferences: PREFERENCES,
    DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: LT, Version: '7' } },
    ...fields,
  };
}

/**
 * DescribeInstanceRefreshes answers: `before` for the lookups made before the refresh starts
 * (none in progress), then each of `steps` in turn, the last one repeated.
 */
export function refreshSteps(h: Harness, steps: InstanceRefresh[], before: InstanceRefresh[] = []) {
  const queue = [...steps];
  let started = false;
  h.asg.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => {
    if (!input.InstanceRefreshIds && !started) return { InstanceRefreshes: before };
    started = true;
    const next = queue.length > 1 ? queue.shift() : queue[0];
    return { InstanceRefreshes: next ? [next] : [] };
  });
  return { remaining: () => queue.length };
}

/** Records progress updates instead of drawing. */
export function recordingProgress(): RefreshProgress & { views: ProgressView[]; events: string[] } {
  const views: ProgressView[] = [];
  const events: string[] = [];
  return {
    views,
    events,
    update: (v) => {
      views.push(v);
      events.push(`update ${v.status} ${v.percentage}`);
    },
    pause: () => events.push('pause'),
    stop: () => events.push('stop'),
  };
}

/**
 * A discrete-event fake clock: `sleep` registers a timer; `run` lets every pending promise settle,
 * then moves time to the earliest timer, so concurrent sleepers (the follow loop, the prompt's
 * watcher, an operator validating) share one timeline without double counting.
 */
export function eventClock(start = T0.getTime()) {
  let now = start;
  const timers: { at: number; resolve: () => void; ms: number }[] = [];
  const sleeps: { at: number; ms: number }[] = [];
  const settle = async () => {
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    clock: {
      now: () => new Date(now),
      sleep: (ms: number) =>
        new Promise<void>((resolve) => {
          sleeps.push({ at: now, ms });
          timers.push({ at: now + ms, resolve, ms });
        }),
    },
    sleeps,
    nowMs: () => now,
    /** Runs `main` to its end, advancing time only when everything waits on a timer. */
    async run<T>(main: Promise<T>): Promise<T> {
      let done = false;
      const p = main.finally(() => {
        done = true;
      });
      for (let i = 0; i < 100_000; i++) {
        await settle();
        if (done) return p;
        if (timers.length === 0) throw new Error('deadlock: nothing to wait for and not done');
        timers.sort((a, b) => a.at - b.at);
        const t = timers.shift() as (typeof timers)[number];
        now = t.at;
        t.resolve();
      }
      throw new Error('runaway simulation');
    },
  };
}

/**
 * Wires the mocked Auto Scaling and EC2 clients to a written model of instance refresh
 * (refresh-model.ts): the refresh calls, the group and its instances (with the EC2 launch template
 * tags) all answer from the model's state at the clock's now.
 */
export function modelled(h: Pick<Harness, 'asg' | 'ec2'>, model: RefreshModel, template = { latest: 7, default: 6 }) {
  h.asg.on(DescribeAutoScalingGroupsCommand).callsFake(() => ({ AutoScalingGroups: [model.group(ASG, LT)] }));
  h.asg.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => ({
    InstanceRefreshes: model.describe(input.InstanceRefreshIds).map((r) => ({ ...r, AutoScalingGroupName: ASG })),
  }));
  h.asg.on(StartInstanceRefreshCommand).callsFake((input) => model.start(input));
  h.asg.on(CancelInstanceRefreshCommand).callsFake(() => model.cancel());
  h.asg.on(RollbackInstanceRefreshCommand).callsFake(() => model.rollback());
  h.asg.on(UpdateAutoScalingGroupCommand).callsFake((input: { LaunchTemplate?: { Version?: string } }) => {
    model.groupVersion = Number(input.LaunchTemplate?.Version);
    return {};
  });
  h.ec2.on(DescribeLaunchTemplatesCommand).resolves({
    LaunchTemplates: [
      {
        LaunchTemplateId: LT,
        LaunchTemplateName: 'xspot-controller',
        LatestVersionNumber: template.latest,
        DefaultVersionNumber: template.default,
      },
    ],
  });
  h.ec2.on(DescribeInstancesCommand).callsFake(() => ({
    Reservations: [
      {
        Instances: model.instances.map((i) => ({
          InstanceId: i.id,
          InstanceType: 'm5d.xlarge',
          LaunchTime: T0,
          Tags: [
            { Key: 'aws:ec2launchtemplate:id', Value: LT },
            { Key: 'aws:ec2launchtemplate:version', Value: String(i.version) },
          ],
        })),
      },
    ],
  }));
}
