/**
 * The Athena view of the log bucket, shared by the prerequisites stack (which creates it when
 * `logs.athena` is true) and `xspot-cdk cost --athena` (which queries it). No CDK imports here.
 *
 * Layout read: the controllers sync X-Spot's logs to
 * `s3://<log bucket>/<deployment>/<day>/<instance-id>/<file>` (controller-runtime log-sync.sh),
 * `<day>` being the UTC date (YYYY-MM-DD) of the file's first timestamp. The table has two
 * partition columns, `deployment` and `day`, both projected (no crawler, no MSCK REPAIR):
 * `storage.location.template` maps them to `<deployment>/<day>/` and Athena reads every object
 * below the days a query names, and no other. Files without a timestamp in their first lines
 * (`<deployment>/undated/...`) and the runtime's own logs (`<deployment>/xspot-cdk/...`) are in no
 * partition. A row is one line of a log file; `"$path"` names the file.
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
/** The first partition column: the deployment, i.e. the first key segment under the bucket. */
export const DEPLOYMENT_COLUMN = 'deployment';
/** The second partition column: the UTC day a file starts, the key segment after the deployment. */
export const DAY_COLUMN = 'day';
/** The day's spelling in keys and in the column (Java date format; log-sync.sh writes `date -u +%F`). */
export const DAY_FORMAT = 'yyyy-MM-dd';
/** The first day the table projects (the last is today, `NOW`); older keys are not read. */
export const FIRST_DAY = '2000-01-01';
/** The folder, in place of a day, of files with no timestamp in their first lines: in no partition. */
export const UNDATED_FOLDER = 'undated';
/** A key segment that is a day folder or the undated folder (not part of a controller's name). */
export const DAY_FOLDER = /^(?:\d{4}-\d{2}-\d{2}|undated)$/;

/** Text files, one row per line, the whole line in one string column (no field splitting). */
export const TABLE_STORAGE = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serializationLibrary: 'org.apache.hadoop.hive.serde2.RegexSerDe',
  serdeParameters: { 'input.regex': '^(.*)$' },
} as const;

/**
 * Table parameters for partition projection over `bucketName` (a token is fine). The deployment
 * column is an enum of this deployment's name: nothing outside the deployment's prefix (the
 * workgroup's results, image-build logs) is read. The day column is a projected date, one
 * partition a day from FIRST_DAY to today; a query bounds it so Athena lists only those days.
 * Property names and values: "Supported types for partition projection", Amazon Athena User Guide,
 * https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html#partition-projection-date-type
 */
export function projectionParameters(bucketName: string, deploymentName: string): Record<string, string> {
  return {
    classification: 'text',
    'projection.enabled': 'true',
    [`projection.${DEPLOYMENT_COLUMN}.type`]: 'enum',
    [`projection.${DEPLOYMENT_COLUMN}.values`]: deploymentName,
    [`projection.${DAY_COLUMN}.type`]: 'date',
    [`projection.${DAY_COLUMN}.format`]: DAY_FORMAT,
    [`projection.${DAY_COLUMN}.range`]: `${FIRST_DAY},NOW`,
    [`projection.${DAY_COLUMN}.interval`]: '1',
    [`projection.${DAY_COLUMN}.interval.unit`]: 'DAYS',
    'storage.location.template': `s3://${bucketName}/\${${DEPLOYMENT_COLUMN}}/\${${DAY_COLUMN}}/`,
  };
}
