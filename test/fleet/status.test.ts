/**
 * `fleet status`: what it reads (stack outputs, group, launch template, instances, refreshes) and
 * how it renders. AWS is mocked with aws-sdk-client-mock: moto does not model instance refreshes,
 * their checkpoints, or launch-template version roll-out.
 */

import { DescribeInstanceRefreshesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2';
import { gatherFleetStatus, renderFleetStatus } from '../../lib/ops/fleet-status';
import { fleet, harness, refresh, refreshSteps, sdkError, stackOutputs, T0 } from './harness';

describe('fleet status', () => {
  test('GIVEN controllers on the current and an older version WHEN rendered THEN each is marked current or stale', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [
      { id: 'i-0aaaaaaaaaaaaaaa1', az: 'us-east-1a', version: 7, launchedHoursAgo: 3 },
      { id: 'i-0bbbbbbbbbbbbbbb2', az: 'us-east-1b', version: 6, launchedHoursAgo: 24 * 12 + 4 },
    ]);
    refreshSteps(
      h,
      [],
      [refresh({ InstanceRefreshId: 'ir-0', Status: 'Successful', PercentageComplete: 100, EndTime: T0 })],
    );

    const status = await gatherFleetStatus(h.ctx);
    const text = renderFleetStatus(status, h.ctx.clock.now()).join('\n');

    expect(status.controllers.map((c) => [c.instanceId, c.launchTemplateVersion, c.versionState])).toEqual([
      ['i-0aaaaaaaaaaaaaaa1', 7, 'current'],
      ['i-0bbbbbbbbbbbbbbb2', 6, 'stale'],
    ]);
    expect(text).toMatch(/^INSTANCE +AZ +TYPE +STATE +HEALTH +LT VERSION +UPTIME$/m);
    expect(text).toMatch(/^i-0aaaaaaaaaaaaaaa1 +us-east-1a +m5d\.xlarge +InService +Healthy +7 current +3h00m$/m);
    expect(text).toMatch(/^i-0bbbbbbbbbbbbbbb2 +us-east-1b +m5d\.xlarge +InService +Healthy +6 stale +12d04h$/m);
    expect(text).toContain(
      'group xspot-controllers-Asg-1ABCDEF: desired 2 (min 1, max 4), launch template lt-0123456789abcdef0 version 7',
    );
    expect(text).toContain('no instance refresh in progress (last: ir-0 Successful');
    expect(text).toContain("1 controller runs an older launch template version: run 'xspot-cdk fleet upgrade --wait'");
  });

  test('GIVEN a group on $Latest and an instance known only as $Default THEN both resolve through DescribeLaunchTemplates', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '$Latest', [{ id: 'i-0ccccccccccccccc3', version: '$Default' }], { latest: 9, default: 8 });
    refreshSteps(h, []);

    const status = await gatherFleetStatus(h.ctx);

    expect(status.launchTemplate).toMatchObject({ versionSpec: '$Latest', version: 9, deployedVersion: '7' });
    expect(status.controllers[0]).toMatchObject({ launchTemplateVersion: 8, versionState: 'stale' });
    const text = renderFleetStatus(status, T0).join('\n');
    expect(text).toContain('version 9 ($Latest)');
    expect(text).toContain('the stack deployed version 7; the group uses 9');
  });

  test('GIVEN a refresh at its canary checkpoint THEN status shows percentage, instances left, reason and checkpoints', async () => {
    const h = harness();
    stackOutputs(h);
    // The refresh targets version 7 while the group still uses 6 (desired configuration).
    fleet(h, '6', [
      { id: 'i-0aaaaaaaaaaaaaaa1', version: 7 },
      { id: 'i-0bbbbbbbbbbbbbbb2', az: 'us-east-1b', version: 6 },
    ]);
    refreshSteps(
      h,
      [],
      [
        refresh({
          InstanceRefreshId: 'ir-42',
          PercentageComplete: 50,
          InstancesToUpdate: 1,
          StatusReason: 'Waiting for checkpoint delay to complete',
          StartTime: new Date(T0.getTime() - 35 * 60_000),
        }),
      ],
    );

    const status = await gatherFleetStatus(h.ctx);
    const text = renderFleetStatus(status, T0).join('\n');

    expect(status.refresh).toMatchObject({
      id: 'ir-42',
      status: 'InProgress',
      percentageComplete: 50,
      instancesToUpdate: 1,
      checkpoints: [50, 100],
      checkpointReached: 50,
      targetLaunchTemplateVersion: '7',
    });
    expect(status.controllers.map((c) => c.versionState)).toEqual(['target', 'stale']);
    expect(text).toContain('instance refresh ir-42: InProgress 50%, 1 to update, started 11:25 UTC (35m ago)');
    expect(text).toContain('  reason: Waiting for checkpoint delay to complete');
    expect(text).toContain('  checkpoints: 50% (reached), 100%; delay 1h00m at each');
    expect(text).toContain('  target launch template version 7; auto rollback on');
    expect(text).toMatch(/i-0aaaaaaaaaaaaaaa1 .* 7 new \(refresh target\)/);
  });

  test('--json data: ISO times, uptime in seconds, no rendering', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 7, launchedHoursAgo: 2 }]);
    refreshSteps(h, []);

    const status = JSON.parse(JSON.stringify(await gatherFleetStatus(h.ctx)));

    expect(status).toMatchObject({
      deployment: 'xspot',
      region: 'us-east-1',
      stackName: 'xspot-controllers',
      autoScalingGroupName: 'xspot-controllers-Asg-1ABCDEF',
      capacity: { min: 1, max: 4, desired: 1 },
      controllers: [
        {
          instanceId: 'i-0aaaaaaaaaaaaaaa1',
          lifecycleState: 'InService',
          health: 'Healthy',
          launchTemplateVersion: 7,
          versionState: 'current',
          launchTime: '2026-03-02T10:00:00.000Z',
          uptimeSeconds: 7200,
        },
      ],
    });
    expect(status.refresh).toBeUndefined();
  });

  test('an empty group says so', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', []);
    refreshSteps(h, []);
    const text = renderFleetStatus(await gatherFleetStatus(h.ctx), T0).join('\n');
    expect(text).toContain('no controllers running');
    expect(text).toContain('no instance refresh in progress');
  });

  test('refreshes that cannot be read (a narrow policy) still leave the controllers on screen', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 7 }]);
    h.asg.on(DescribeInstanceRefreshesCommand).rejects(sdkError('AccessDenied', 'not authorized'));

    const text = renderFleetStatus(await gatherFleetStatus(h.ctx), T0).join('\n');

    expect(text).toMatch(/^i-0aaaaaaaaaaaaaaa1 .* 7 current/m);
    expect(text).toContain(
      'instance refreshes unknown: reading instance refreshes of xspot-controllers-Asg-1ABCDEF in us-east-1: access denied; the caller needs autoscaling:DescribeInstanceRefreshes (not authorized)',
    );
  });

  test('a launch template that no longer exists leaves versions from the instance tags, not an error', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 7 }]);
    refreshSteps(h, []);
    h.ec2.on(DescribeLaunchTemplatesCommand).rejects(sdkError('InvalidLaunchTemplateId.NotFound', 'not found'));

    const status = await gatherFleetStatus(h.ctx);

    expect(status.controllers[0]).toMatchObject({ launchTemplateVersion: 7, versionState: 'current' });
  });
});
