/** The Auto Scaling group: sizes, subnets, both lifecycle hooks, notifications, creation signals, no CloudFormation replacement. */
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { buildFleet } from './helpers';

// GIVEN a fleet of min 1 / desired 2 / max 4 with the default timeouts
const { template, fleet } = buildFleet();

function group(): Record<string, unknown> {
  const groups = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup'));
  expect(groups).toHaveLength(1);
  return groups[0] as Record<string, unknown>;
}

describe('Auto Scaling group', () => {
  test('has the configured sizes and name, across the private subnets, on the fleet launch template', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      AutoScalingGroupName: 'xspot-controllers',
      MinSize: '1',
      DesiredCapacity: '2',
      MaxSize: '4',
      VPCZoneIdentifier: [
        { Ref: Match.stringLikeRegexp('^VpcPrivateSubnet1') },
        { Ref: Match.stringLikeRegexp('^VpcPrivateSubnet2') },
      ],
      LaunchTemplate: {
        LaunchTemplateId: { Ref: Match.stringLikeRegexp('LaunchTemplate') },
        // A numbered version (rollback needs one), never $Latest/$Default.
        Version: { 'Fn::GetAtt': [Match.stringLikeRegexp('LaunchTemplate'), 'LatestVersionNumber'] },
      },
    });
  });

  test('declares both lifecycle hooks on the group itself, so the very first instances wait too', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      LifecycleHookSpecificationList: [
        {
          LifecycleHookName: 'xspot-bootstrap',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          HeartbeatTimeout: 2700,
          DefaultResult: 'ABANDON',
        },
        {
          LifecycleHookName: 'xspot-drain',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: 7200,
          DefaultResult: 'CONTINUE',
        },
      ],
    });
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
  });

  test('notifies the encrypted topic, collects group metrics, launches replacements before terminating', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      NotificationConfigurations: [
        {
          TopicARN: { Ref: Match.stringLikeRegexp('Topic') },
          NotificationTypes: [
            'autoscaling:EC2_INSTANCE_LAUNCH',
            'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
            'autoscaling:EC2_INSTANCE_TERMINATE',
            'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
          ],
        },
      ],
      MetricsCollection: [{ Granularity: '1Minute' }],
      InstanceMaintenancePolicy: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200 },
      HealthCheckType: 'EC2',
      HealthCheckGracePeriod: 300,
    });
  });

  test('CloudFormation never replaces controllers (no rolling/replacing update)', () => {
    const policy = (group().UpdatePolicy ?? {}) as Record<string, unknown>;
    expect(policy.AutoScalingRollingUpdate).toBeUndefined();
    expect(policy.AutoScalingReplacingUpdate).toBeUndefined();
  });

  test('its creation waits for one boot signal per desired controller, for bootstrapTimeout + 15 minutes', () => {
    // 2 desired, bootstrapTimeout 45 min by default
    expect(group().CreationPolicy).toEqual({ ResourceSignal: { Count: 2, Timeout: 'PT1H' } });
  });

  test('the creation timeout can be set; waiting can be turned off, and nothing waits for zero controllers', () => {
    const timed = buildFleet({ creationTimeout: Duration.minutes(90) }).template;
    const [g] = Object.values(timed.findResources('AWS::AutoScaling::AutoScalingGroup')) as Record<string, unknown>[];
    expect(g.CreationPolicy).toEqual({ ResourceSignal: { Count: 2, Timeout: 'PT1H30M' } });
    for (const t of [
      buildFleet({ waitForBootOnCreate: false }).template,
      buildFleet({ minCapacity: 0, desiredCapacity: 0 }).template,
    ]) {
      const [x] = Object.values(t.findResources('AWS::AutoScaling::AutoScalingGroup')) as Record<string, unknown>[];
      expect(x.CreationPolicy).toBeUndefined();
    }
    expect(() => buildFleet({ creationTimeout: Duration.hours(13) })).toThrow(
      /creationTimeout: must be from 1 minute to 12 hours/,
    );
  });

  test('the userdata and deploy.env name this stack and the group, so the boot can signal it', () => {
    const resolved = JSON.stringify(template.toJSON());
    expect(fleet.deployEnv).toContain("XSPOT_CFN_STACK='Fleet'");
    const logicalId = Object.keys(template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(resolved).toContain(`XSPOT_CFN_RESOURCE='${logicalId}'`);
    expect(resolved).toContain(`readonly CFN_RESOURCE='${logicalId}'`);
    const off = buildFleet({ waitForBootOnCreate: false });
    expect(off.fleet.deployEnv).toContain("XSPOT_CFN_STACK=''");
  });

  test('is created after the boot policy, so the first instances can read the archives and complete their hook', () => {
    expect(group().DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/BootPolicy/)]));
  });

  test('the terminate hook is capped at 2 hours for longer drains (drain.sh heartbeats), with a note', () => {
    const { template: t, stack } = buildFleet({ drainTimeout: Duration.hours(6) });
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      LifecycleHookSpecificationList: Match.arrayWith([
        Match.objectLike({ LifecycleHookName: 'xspot-drain', HeartbeatTimeout: 7200 }),
      ]),
    });
    expect(stack.node.findAll().flatMap((c) => c.node.metadata.map((m) => String(m.data)))).toEqual(
      expect.arrayContaining([expect.stringContaining('capped at 2 hours')]),
    );
  });
});

describe('boot policy on the controller role', () => {
  test('grants exactly what the boot contract needs, scoped to this group and these archives', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Role') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ReadReleaseArchives',
            Action: 's3:GetObject',
            Resource: [Match.stringLikeRegexp('/[0-9a-f]{64}\\.zip$'), Match.stringLikeRegexp('/[0-9a-f]{64}\\.zip$')],
          }),
          Match.objectLike({
            Sid: 'OwnLifecycleActions',
            Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
            Resource:
              'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/xspot-controllers',
          }),
          Match.objectLike({
            Sid: 'TagFailedBoot',
            Action: 'ec2:CreateTags',
            Condition: {
              StringEquals: { 'aws:ResourceTag/xspot:deployment': 'xspot' },
              'ForAllValues:StringEquals': { 'aws:TagKeys': ['xspot:bootstrap-failed-step'] },
            },
          }),
          Match.objectLike({
            Sid: 'CountBootstrapFailures',
            Action: 'cloudwatch:PutMetricData',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'XspotCdk' } },
          }),
          Match.objectLike({
            Sid: 'SignalStackCreation',
            Action: 'cloudformation:SignalResource',
            Resource: { Ref: 'AWS::StackId' },
          }),
        ]),
      },
    });
    expect(fleet.launchHookName).toBe('xspot-bootstrap');
  });

  test('log sync may write and list under the log prefix only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Role') }],
      PolicyDocument: {
        Statement: [
          {
            Sid: 'WriteLogs',
            Effect: 'Allow',
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Logs'), 'Arn'] }, '/xspot/*']] },
          },
          {
            Sid: 'ListLogs',
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Logs'), 'Arn'] },
            Condition: { StringLike: { 's3:prefix': ['xspot/*'] } },
          },
        ],
      },
    });
  });
});
