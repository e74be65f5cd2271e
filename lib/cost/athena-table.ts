/**
 * The Athena view of the log bucket, shared by the prerequisites stack (which creates it when
 * `logs.athena` is true) and `xspot-cdk cost --athena` (which queries it). No CDK imports here.
 *
 * Layout read: the controllers sync to `s3://<log bucket>/<deployment>/<instance-id>/<file>`
 * (controller-runtime log-sync.sh), so the table's one partition column is `deployment`, projected
 * (no crawler, no MSCK REPAIR): `storage.location.template` maps it to that prefix and Athena reads
 * every object below it. A row is one line of a log file; `"$path"` names the file.
 */

/** Glue/Athena names for a deployment (`deployment.name` is lowercase letters, digits and "-"). */
export interface AthenaNames {
  readonly database: string;
  readonly table: string;
  readonly workgroup: string;
  /** Key prefix in the log bucket where the workgroup writes query results. */
  readonly resultsPrefix: string;
}

export function athenaNames(deploymentName: string): AthenaNames {
  return {
    database: `xspot_${deploymentName.replace(/-/g, '_')}_logs`,
    table: 'controller_logs',
    workgroup: `${deploymentName}-cost`,
    resultsPrefix: 'athena-results/',
  };
}

/** The one data column: the whole line, as written. */
export const LINE_COLUMN = 'line';
/** The partition column: the deployment, i.e. the first key segment under the bucket. */
export const DEPLOYMENT_COLUMN = 'deployment';

/** Text files, one row per line, the whole line in one string column (no field splitting). */
export const TABLE_STORAGE = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serializationLibrary: 'org.apache.hadoop.hive.serde2.RegexSerDe',
  serdeParameters: { 'input.regex': '^(.*)$' },
} as const;

/**
 * Table parameters for partition projection over `bucketName` (a token is fine). The deployment
 * column is an enum of this deployment's name: queries need not name it, and nothing outside the
 * deployment's prefix (the workgroup's results, image-build logs) is read.
 */
export function projectionParameters(bucketName: string, deploymentName: string): Record<string, string> {
  return {
    classification: 'text',
    'projection.enabled': 'true',
    [`projection.${DEPLOYMENT_COLUMN}.type`]: 'enum',
    [`projection.${DEPLOYMENT_COLUMN}.values`]: deploymentName,
    'storage.location.template': `s3://${bucketName}/\${${DEPLOYMENT_COLUMN}}/`,
  };
}
