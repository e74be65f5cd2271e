/**
 * logs.athena: the prerequisites stack's Glue table over the synced controller logs and the Athena
 * workgroup `cost --athena` uses (GIVEN a config, WHEN synthesized, THEN ...). cdk-nag and cfn-lint
 * gate the same resources through config/examples/multi-az.yaml (test/gates/examples.test.ts).
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { athenaNames } from '../../lib/cost/athena-table';
import { buildApp, loadFromText } from '../support/app';

const prereqs = (config: object) => Template.fromStack(buildApp(config).stacks.prereqs);

describe('logs.athena', () => {
  test('off by default: no Glue or Athena resource, no output for them', () => {
    const t = prereqs({});
    for (const type of [
      'AWS::Glue::Database',
      'AWS::Glue::Table',
      'AWS::Athena::WorkGroup',
      'AWS::IAM::ManagedPolicy',
    ]) {
      t.resourceCountIs(type, 0);
    }
    expect(Object.keys(t.findOutputs('*'))).not.toContain('CostWorkGroupName');
  });

  describe('on', () => {
    const t = prereqs({ deployment: { name: 'site-a' }, logs: { athena: true } });
    const names = athenaNames('site-a');
    const bucketRef = { Ref: Match.stringLikeRegexp('^LogsBucket') };

    test('a database and an external text table, one string column per line, over the deployment prefix', () => {
      t.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'xspot_site_a_logs' } });
      t.hasResourceProperties('AWS::Glue::Table', {
        DatabaseName: names.database,
        TableInput: {
          Name: 'controller_logs',
          TableType: 'EXTERNAL_TABLE',
          PartitionKeys: [
            { Name: 'deployment', Type: 'string' },
            { Name: 'day', Type: 'string' },
          ],
          StorageDescriptor: {
            Columns: [{ Name: 'line', Type: 'string' }],
            Location: { 'Fn::Join': ['', ['s3://', bucketRef, '/site-a/']] },
            InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            SerdeInfo: {
              SerializationLibrary: 'org.apache.hadoop.hive.serde2.RegexSerDe',
              Parameters: { 'input.regex': '^(.*)$' },
            },
          },
        },
      });
    });

    test('partitions are projected (no crawler, no MSCK REPAIR): deployment and day map to <bucket>/<deployment>/<day>/', () => {
      t.hasResourceProperties('AWS::Glue::Table', {
        TableInput: {
          Parameters: {
            'projection.enabled': 'true',
            'projection.deployment.type': 'enum',
            'projection.deployment.values': 'site-a',
            'projection.day.type': 'date',
            'projection.day.format': 'yyyy-MM-dd',
            'projection.day.range': '2000-01-01,NOW',
            'projection.day.interval': '1',
            'projection.day.interval.unit': 'DAYS',
            'storage.location.template': {
              'Fn::Join': ['', ['s3://', bucketRef, `/\${deployment}/\${day}/`]],
            },
          },
        },
      });
      t.resourceCountIs('AWS::Glue::Crawler', 0);
    });

    test('the workgroup enforces SSE-S3 encrypted results in the log bucket, outside the deployment prefix', () => {
      t.hasResourceProperties('AWS::Athena::WorkGroup', {
        Name: 'site-a-cost',
        State: 'ENABLED',
        WorkGroupConfiguration: {
          EnforceWorkGroupConfiguration: true,
          ResultConfiguration: {
            OutputLocation: { 'Fn::Join': ['', ['s3://', bucketRef, '/athena-results/']] },
            EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          },
        },
      });
      expect(names.resultsPrefix.startsWith('site-a/')).toBe(false);
    });

    test('the table is created after its database; the names are stack outputs', () => {
      const tables = t.findResources('AWS::Glue::Table');
      const [table] = Object.values(tables) as { DependsOn?: string[] }[];
      const [dbId] = Object.keys(t.findResources('AWS::Glue::Database'));
      expect(table.DependsOn).toContain(dbId);
      t.hasOutput('LogDatabaseName', { Value: names.database });
      t.hasOutput('CostWorkGroupName', { Value: 'site-a-cost' });
      t.hasOutput('CostQueryPolicyArn', { Value: { Ref: Match.stringLikeRegexp('^LogQueriesQueryPolicy') } });
    });

    test('one managed policy for the operators, attached to no role (athena-iam.test.ts evaluates it)', () => {
      t.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
      const [policy] = Object.values(t.findResources('AWS::IAM::ManagedPolicy')) as {
        Properties: { Roles?: unknown; Users?: unknown; Groups?: unknown };
      }[];
      expect([policy.Properties.Roles, policy.Properties.Users, policy.Properties.Groups]).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
    });
  });

  test('logs.athena without logs.s3Sync is refused, naming the field', () => {
    expect(() => loadFromText({ logs: { athena: true, s3Sync: false } })).toThrow(/logs\.athena: .*s3Sync is false/);
  });
});
