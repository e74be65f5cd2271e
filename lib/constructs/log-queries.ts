import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  type AthenaNames,
  athenaNames,
  DAY_COLUMN,
  DEPLOYMENT_COLUMN,
  LINE_COLUMN,
  projectionParameters,
  TABLE_STORAGE,
} from '../cost/athena-table';
import { acknowledgeNag } from './nag';

export interface LogQueriesProps {
  /** The bucket the controllers sync their logs to (`<deployment>/<day>/<instance-id>/<file>`). */
  readonly bucket: s3.Bucket;
  /** `deployment.name`: the key prefix of the logs and the partition value. */
  readonly deploymentName: string;
}

/**
 * `logs.athena`: the controller logs in the log bucket as an Athena table, for
 * `xspot-cdk cost --athena` (lib/cost/athena-table.ts names and lays it out):
 * - a Glue database and table, one row per line, the `deployment` and `day` partitions projected
 *   (no crawler, no MSCK REPAIR);
 * - an Athena workgroup whose results go SSE-S3 encrypted under the bucket's results prefix,
 *   enforced, so no query can send them elsewhere;
 * - a managed policy with exactly what the command needs, for the operators who run it.
 */
export class LogQueries extends Construct {
  public readonly names: AthenaNames;
  public readonly workGroup: athena.CfnWorkGroup;
  public readonly queryPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: LogQueriesProps) {
    super(scope, id);
    this.names = athenaNames(props.deploymentName);
    this.createTable(props);
    this.workGroup = this.createWorkGroup(props);
    this.queryPolicy = this.createQueryPolicy(props);
  }

  private createTable(props: LogQueriesProps): void {
    const account = Stack.of(this).account;
    const bucket = props.bucket.bucketName;
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: {
        name: this.names.database,
        description: `X-Spot controller logs of ${props.deploymentName} (xspot-cdk cost --athena)`,
      },
    });
    const table = new glue.CfnTable(this, 'Table', {
      catalogId: account,
      databaseName: this.names.database,
      tableInput: {
        name: this.names.table,
        description: 'One row per line of the controller logs synced to the log bucket',
        tableType: 'EXTERNAL_TABLE',
        parameters: projectionParameters(bucket, props.deploymentName),
        partitionKeys: [
          { name: DEPLOYMENT_COLUMN, type: 'string' },
          { name: DAY_COLUMN, type: 'string' },
        ],
        storageDescriptor: {
          columns: [{ name: LINE_COLUMN, type: 'string' }],
          location: `s3://${bucket}/${props.deploymentName}/`,
          inputFormat: TABLE_STORAGE.inputFormat,
          outputFormat: TABLE_STORAGE.outputFormat,
          serdeInfo: {
            serializationLibrary: TABLE_STORAGE.serializationLibrary,
            parameters: { ...TABLE_STORAGE.serdeParameters },
          },
        },
      },
    });
    table.node.addDependency(database);
  }

  private createWorkGroup(props: LogQueriesProps): athena.CfnWorkGroup {
    return new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.names.workgroup,
      description: `xspot-cdk cost --athena for ${props.deploymentName}: results encrypted in the log bucket`,
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        resultConfiguration: {
          outputLocation: `s3://${props.bucket.bucketName}/${this.names.resultsPrefix}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }

  /**
   * What `cost --athena` calls, and what Athena then does with the caller's credentials: run
   * queries in this workgroup only; read this table's catalog entries; list and read the
   * deployment's log prefix; write and read query results under the results prefix.
   */
  private createQueryPolicy(props: LogQueriesProps): iam.ManagedPolicy {
    const stack = Stack.of(this);
    const bucket = props.bucket;
    const logs = `${props.deploymentName}/`;
    const results = this.names.resultsPrefix;
    const glueArn = (resource: string) => stack.formatArn({ service: 'glue', resource });
    const policy = new iam.ManagedPolicy(this, 'QueryPolicy', {
      description: `Run xspot-cdk cost --athena for ${props.deploymentName} (workgroup ${this.names.workgroup})`,
      statements: [
        new iam.PolicyStatement({
          sid: 'RunCostQueries',
          actions: [
            'athena:StartQueryExecution',
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:StopQueryExecution',
          ],
          resources: [
            stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.names.workgroup }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ReadLogTable',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
          resources: [
            glueArn('catalog'),
            glueArn(`database/${this.names.database}`),
            glueArn(`table/${this.names.database}/${this.names.table}`),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ListLogsAndResults',
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${logs}*`, `${results}*`] } },
        }),
        new iam.PolicyStatement({
          sid: 'ResultsBucket',
          actions: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
          resources: [bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadLogs',
          actions: ['s3:GetObject'],
          resources: [bucket.arnForObjects(`${logs}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'WriteResults',
          actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [bucket.arnForObjects(`${results}*`)],
        }),
      ],
    });
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    acknowledgeNag(
      policy,
      'AwsSolutions-IAM5',
      'Log objects are <deployment>/<day>/<instance-id>/<file> (days and instance ids unknown until the logs are written) and query results get ' +
        "names Athena chooses; both are confined to their prefix of this deployment's log bucket.",
      [`Resource::<${bucketId}.Arn>/${logs}*`, `Resource::<${bucketId}.Arn>/${results}*`],
    );
    return policy;
  }
}
