/** Alarms on failed boots, missing capacity and unhealthy controllers, to an encrypted, TLS-only topic. */
import { Match } from 'aws-cdk-lib/assertions';
import { buildFleet } from './helpers';

const { template } = buildFleet();

describe('notification topic', () => {
  test('is encrypted with a rotating customer managed key that CloudWatch alarms may use', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('TopicKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
          Match.objectLike({
            Sid: 'AccountPublishersThroughSns',
            Condition: { StringEquals: Match.objectLike({ 'kms:ViaService': Match.anyValue() }) },
          }),
        ]),
      },
    });
  });

  test('accepts TLS publishers only, and CloudWatch alarms of this account', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });
});

describe('alarms', () => {
  test('three alarms, each notifying the topic on ALARM and on OK', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      const topic = { Ref: expect.stringMatching(/Topic/) };
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
  });

  test('a single failed boot (userdata or bootstrap) raises the bootstrap-failures alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'xspot-controllers-bootstrap-failures',
      Namespace: 'XspotCdk',
      MetricName: 'BootstrapFailures',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'xspot-controllers' }],
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('fewer controllers in service than desired for longer than a boot may take raises the capacity alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'xspot-controllers-below-desired-capacity',
      // 45 min bootstrap timeout + 15 min, in 5-minute periods
      EvaluationPeriods: 12,
      DatapointsToAlarm: 12,
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'desired - inService', ReturnData: true }),
        Match.objectLike({
          Id: 'desired',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'AWS/AutoScaling', MetricName: 'GroupDesiredCapacity' }),
          }),
        }),
        Match.objectLike({
          Id: 'inService',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'AWS/AutoScaling', MetricName: 'GroupInServiceInstances' }),
          }),
        }),
      ]),
    });
  });

  test('a controller failing its EC2 status checks raises the unhealthy alarm', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'xspot-controllers-status-check-failed',
      Namespace: 'AWS/EC2',
      MetricName: 'StatusCheckFailed',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'xspot-controllers' }],
      Statistic: 'Maximum',
      Period: 60,
    });
  });
});
