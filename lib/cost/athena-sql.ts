/**
 * The log reading of `xspot-cdk cost` as one Athena (Trino) query over the log table of
 * athena-table.ts, so a year of many controllers' logs is scanned where it lies instead of being
 * downloaded. Everything after the reading (clipping to the window, prices, sharing a worker among
 * its containers, rounding) stays in compute.ts and runs on the rows this query returns, so each
 * cost rule lives in one place and the two paths give the same report.
 *
 * The query is generated from the grammar of log-format.ts (the markers, the id, instance type
 * and region patterns, the 1 MiB line limit) and reads the table once: per line it parses the
 * leading timestamp (parseTimestamp, as a regular expression plus range checks) and finds the
 * first marker; per file it takes the first and last timestamps (a window over the file's lines);
 * it returns one row per file and one per marker line of the files that overlap the report
 * window, with the line's payload parsed the way parseMarkedLine does. It reads only the day
 * partitions from `lookbackDays` days before the window start to the window's last day (queryDays):
 * a file is filed under the day of its first timestamp, so a file that started earlier than that
 * is not read, even when it runs into the window. Where SQL cannot follow
 * the TypeScript exactly the difference is listed in docs/cost.md.
 *
 * Only functions Athena engine v3 documents are used: regexp_like, regexp_extract, regexp_replace, strpos,
 * reverse, substr, length, trim, lower, nullif, coalesce, try, json_parse, json_extract,
 * json_extract_scalar, json_format, and min/max/row_number over a window.
 */

import { DAY_COLUMN, DAY_FOLDER, DEPLOYMENT_COLUMN } from './athena-table';
import type { CostWindow } from './compute';
import { DAY_MS, HOUR_MS } from './compute';
import {
  ID,
  INSTANCE_TYPE,
  MARKER_CONTAINER,
  MARKER_FINALIZE,
  MARKER_SCHEDULER,
  MARKER_TERMINATE,
  MARKERS,
  MAX_LINE_BYTES,
  REGION,
} from './log-format';

export interface AthenaSource {
  readonly database: string;
  readonly table: string;
  /** The value of the table's `deployment` partition (also the first key segment under the bucket). */
  readonly deployment: string;
}

/** Days before the window start whose partitions are read by default (`--lookback-days`). */
export const DEFAULT_LOOKBACK_DAYS = 7;
/** The most `--lookback-days` allows: a year (and a leap day). */
export const MAX_LOOKBACK_DAYS = 366;

const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * The day partitions a query over `window` reads: from `lookbackDays` before the window's first day
 * to its last day (the window end is exclusive), as `YYYY-MM-DD`, both included.
 */
export function queryDays(window: CostWindow, lookbackDays: number): { first: string; last: string } {
  return { first: isoDay(window.start - lookbackDays * DAY_MS), last: isoDay(window.end - 1) };
}

/** Why a marker line yields no event; the TypeScript side words the warning as the local path does. */
export const PROBLEMS = ['no-timestamp', 'no-worker-id', 'instance-type', 'json', 'container', 'overlong'] as const;
export type Problem = (typeof PROBLEMS)[number];

/** The columns of each result row, in order. Times are epoch ms; ids and flags are strings. */
export const RESULT_COLUMNS = [
  'path',
  'controller',
  'file_row',
  'file_first',
  'file_last',
  'ts',
  'marker',
  'problem',
  'excerpt',
  'worker_id',
  'instance_id',
  'instance_type',
  'spot',
  'price',
  'container_id',
  'state',
  'worker',
  'from_worker',
  'job_id',
  'cpu',
  'region',
] as const;
export type ResultColumn = (typeof RESULT_COLUMNS)[number];

/** Characters of a bad line returned for its warning (clip() shortens it to 200 after flattening). */
export const EXCERPT_CHARS = 2000;

/** Athena's limit on a query string (StartQueryExecution QueryString), in bytes. */
export const MAX_QUERY_BYTES = 262_144;

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;
/** A JavaScript RegExp's source as a SQL string literal (the patterns used are Java/Joni compatible). */
const re = (r: RegExp): string => lit(r.source);

/**
 * parseTimestamp as a pattern: optional `[` or `time="`, date with `-` or `/` (the same both
 * times), `T` or space, time, an optional fraction that must have digits when its `.`/`,` is
 * there, and a zone that must be well formed when a sign follows. Groups: 1 year, 3 month, 4 day,
 * 5-7 time, 8 fraction, 9 sign, 10-11 zone hours and minutes.
 */
export const TIMESTAMP_PATTERN = String.raw`^(?:\[|time=")?(\d{4})([-/])(\d{2})\2(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+)(?!\d)|(?![.,]))(?:Z|([+-])(\d{2}):?(\d{2})|(?![+-]))`;

/** The number of an optional group, or NULL (never an empty string cast to a number). */
const group = (src: string, n: number) =>
  `CAST(nullif(regexp_extract(${src}, ${lit(TIMESTAMP_PATTERN)}, ${n}), '') AS bigint)`;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), integer arithmetic only. */
function daysFromCivil(y: string, m: string, d: string): string {
  const yy = `(${y} - CASE WHEN ${m} <= 2 THEN 1 ELSE 0 END)`;
  const era = `(${yy} / 400)`;
  const yoe = `(${yy} - ${era} * 400)`;
  const doy = `((153 * ((${m} + 9) % 12) + 2) / 5 + ${d} - 1)`;
  return `(${era} * 146097 + ${yoe} * 365 + ${yoe} / 4 - ${yoe} / 100 + ${doy} - 719468)`;
}

function daysInMonth(y: string, m: string): string {
  const leap = `((${y} % 4 = 0 AND ${y} % 100 <> 0) OR ${y} % 400 = 0)`;
  return `CASE WHEN ${m} = 2 THEN CASE WHEN ${leap} THEN 29 ELSE 28 END ELSE 30 + ((${m} + ${m} / 8) % 2) END`;
}

// ---------------------------------------------------------------------------------------------
// Payload fields: str(), id(), bool(), nonNegative() of log-format.ts over JSON and key=value.
// ---------------------------------------------------------------------------------------------

/** The raw JSON text of `$.key` (`"x"`, `4`, `true`, `null`, `{...}`), or NULL when absent. */
const jtok = (key: string) => `json_format(json_extract(j, ${lit(`$.${key}`)}))`;
/** `$.key` as text when it is a scalar (strings unescaped). */
const jscalar = (key: string) => `json_extract_scalar(j, ${lit(`$.${key}`)})`;
/** `fields[camel] ?? fields[pascal]`: the first key whose value is neither absent nor null. */
const jpick = (camel: string, pascal: string, f: (k: string) => string) =>
  camel === pascal
    ? f(camel)
    : `CASE WHEN coalesce(${jtok(camel)}, 'null') <> 'null' THEN ${f(camel)} ELSE ${f(pascal)} END`;

/** str(): a trimmed non-empty string, or an integer as written (JSON numbers other than integers are not read as text). */
const jstr = (key: string) =>
  `CASE WHEN substr(${jtok(key)}, 1, 1) = '"' THEN nullif(trim(${jscalar(key)}), '') WHEN regexp_like(${jtok(key)}, '^-?(0|[1-9][0-9]*)$') THEN ${jtok(key)} END`;

const NUMBER_TEXT = String.raw`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`;

/** nonNegative() of a text value: a decimal number >= 0, or NULL. */
const textNumber = (v: string) =>
  `CASE WHEN regexp_like(trim(${v}), ${lit(NUMBER_TEXT)}) AND CAST(trim(${v}) AS double) >= 0 THEN CAST(trim(${v}) AS double) END`;
/** nonNegative() of a JSON value: a number, or a string holding one. */
const jnum = (key: string) =>
  `CASE WHEN substr(${jtok(key)}, 1, 1) = '"' THEN ${textNumber(jscalar(key))} WHEN regexp_like(${jtok(key)}, '^-?[0-9]') THEN ${textNumber(jtok(key))} END`;

const TRUE_TEXT = `('true', 'True', '1')`;
const FALSE_TEXT = `('false', 'False', '0')`;
/** bool() of a JSON value: true/false, or a string spelling one; as 'true'/'false'. */
const jbool = (key: string) =>
  `CASE WHEN ${jtok(key)} = 'true' THEN 'true' WHEN ${jtok(key)} = 'false' THEN 'false' WHEN substr(${jtok(key)}, 1, 1) = '"' THEN CASE WHEN ${jscalar(key)} IN ${TRUE_TEXT} THEN 'true' WHEN ${jscalar(key)} IN ${FALSE_TEXT} THEN 'false' END END`;

/**
 * The value of the last `key=value` pair after the marker (pairsAfter: later pairs win; a value
 * is `"quoted"` or runs to a space or comma), unquoted; NULL when the key is not there.
 */
const pair = (key: string) => {
  const raw = `regexp_extract(after, ${lit(String.raw`^(?:.*[^A-Za-z0-9_])?${key}=("[^"]*"|[^\s,]*)`)}, 1)`;
  return `CASE WHEN length(${raw}) >= 2 AND substr(${raw}, 1, 1) = '"' AND substr(${raw}, length(${raw}), 1) = '"' THEN substr(${raw}, 2, length(${raw}) - 2) ELSE ${raw} END`;
};
const pairPick = (camel: string, pascal: string) => `coalesce(${pair(camel)}, ${pair(pascal)})`;
const ifId = (v: string) => `CASE WHEN regexp_like(${v}, ${re(ID)}) THEN ${v} END`;
const textStr = (v: string) => `nullif(trim(${v}), '')`;

/** One marker line's worker fields (FinalizeWorkerMetadata pairs or the termination JSON). */
function workerFields(json: boolean): Record<'worker' | 'instance_id' | 'type_text' | 'spot' | 'price', string> {
  if (json) {
    return {
      worker: ifId(jpick('worker', 'WorkerID', jstr)),
      instance_id: ifId(jpick('instanceId', 'InstanceID', jstr)),
      type_text: jpick('instanceType', 'InstanceType', jstr),
      spot: jpick('spot', 'Spot', jbool),
      price: jpick('price', 'Price', jnum),
    };
  }
  const spot = pairPick('spot', 'Spot');
  return {
    worker: ifId(textStr(pairPick('worker', 'WorkerID'))),
    instance_id: ifId(textStr(pairPick('instanceId', 'InstanceID'))),
    type_text: textStr(pairPick('instanceType', 'InstanceType')),
    spot: `CASE WHEN ${spot} IN ${TRUE_TEXT} THEN 'true' WHEN ${spot} IN ${FALSE_TEXT} THEN 'false' END`,
    price: textNumber(pairPick('price', 'Price')),
  };
}

const STATE = `lower(${jstr('State')})`;

function markerCase(f: (marker: number) => string): string {
  return `CASE marker ${MARKERS.map((_, i) => `WHEN ${i} THEN ${f(i)}`).join(' ')} END`;
}

/**
 * The query. The window decides which files' marker lines are returned (files that overlap it) and,
 * with `lookbackDays`, which day partitions are read (queryDays).
 */
export function costEventsSql(source: AthenaSource, window: CostWindow, lookbackDays: number): string {
  const dep = source.deployment;
  if (!/^[a-z][a-z0-9-]*$/.test(dep)) throw new Error(`internal: deployment name ${JSON.stringify(dep)}`);
  if (!Number.isInteger(lookbackDays) || lookbackDays < 0) throw new Error(`internal: lookback ${lookbackDays}`);
  const days = queryDays(window, lookbackDays);
  const under = `^s3://[^/]+/${dep}/`;
  // controllerOf (sources.ts): the file's directory under the deployment, day folders left out.
  const dir = `coalesce(regexp_extract("$path", ${lit(`${under}(?:(.*)/)?[^/]*$`)}, 1), '')`;
  const dayFolder = DAY_FOLDER.source.replace(/^\^/, '').replace(/\$$/, '');
  const controller = `regexp_replace(regexp_replace(${dir}, ${lit(`(?:^|/)${dayFolder}(?=/|$)`)}, ''), '^/', '')`;
  const tsSrc = 'stamp';
  const y = 'y';
  const mo = 'mo';
  const d = 'd';
  const finalize = workerFields(false);
  const terminate = workerFields(true);
  const byWorkerMarker = (k: keyof typeof finalize) =>
    `CASE marker WHEN ${MARKER_FINALIZE} THEN ${finalize[k]} WHEN ${MARKER_TERMINATE} THEN ${terminate[k]} END`;
  const inWindow = `file_last >= ${window.start} AND file_first < ${window.end}`;
  const str = (v: string) => `CAST(${v} AS varchar)`;
  // The comment follows WITH: a statement that starts with a comment may not be recognised as a query.
  return `WITH
-- xspot-cdk cost --athena: files and marker lines of deployment ${dep}, window [${new Date(window.start).toISOString()}, ${new Date(window.end).toISOString()}), files started ${days.first} to ${days.last}
src AS (
  SELECT "$path" AS path,
    ${controller} AS controller,
    line
  FROM ${ident(source.database)}.${ident(source.table)}
  WHERE ${DEPLOYMENT_COLUMN} = ${lit(dep)} AND ${DAY_COLUMN} >= ${lit(days.first)} AND ${DAY_COLUMN} <= ${lit(days.last)}
    AND NOT regexp_like("$path", ${lit(`${under}(?:[^/]*/)*[.]`)})
),
stamped AS (
  SELECT path, controller, line, regexp_extract(line, ${lit(TIMESTAMP_PATTERN)}) AS ${tsSrc} FROM src
),
parts AS (
  SELECT path, controller, line,
    ${group(tsSrc, 1)} AS y, ${group(tsSrc, 3)} AS mo, ${group(tsSrc, 4)} AS d,
    ${group(tsSrc, 5)} AS hh, ${group(tsSrc, 6)} AS mi, ${group(tsSrc, 7)} AS ss,
    CAST(substr(coalesce(regexp_extract(${tsSrc}, ${lit(TIMESTAMP_PATTERN)}, 8), '') || '000', 1, 3) AS bigint) AS ms,
    regexp_extract(${tsSrc}, ${lit(TIMESTAMP_PATTERN)}, 9) AS zsign,
    ${group(tsSrc, 10)} AS oh, ${group(tsSrc, 11)} AS om
  FROM stamped
),
timed AS (
  SELECT path, controller, line,
    CASE WHEN y IS NOT NULL AND mo BETWEEN 1 AND 12 AND d >= 1 AND d <= ${daysInMonth(y, mo)}
      AND hh <= 23 AND mi <= 59 AND ss <= 60 AND (zsign IS NULL OR zsign = '' OR (oh <= 23 AND om <= 59))
    THEN ${daysFromCivil(y, mo, d)} * ${DAY_MS} + hh * ${HOUR_MS} + mi * 60000
      + (CASE WHEN ss > 59 THEN 59 ELSE ss END) * 1000 + ms
      - (CASE zsign WHEN '+' THEN oh * 60 + om WHEN '-' THEN -(oh * 60 + om) ELSE 0 END) * 60000
    END AS ts,
    CASE ${MARKERS.map((m, i) => `WHEN strpos(line, ${lit(m)}) > 0 THEN ${i}`).join(' ')} END AS marker
  FROM parts
),
spans AS (
  SELECT path, controller, ts, marker,
    CASE WHEN marker IS NOT NULL THEN line END AS mline,
    min(ts) OVER (PARTITION BY path) AS file_first,
    max(ts) OVER (PARTITION BY path) AS file_last,
    row_number() OVER (PARTITION BY path) AS file_row
  FROM timed
),
kept AS (
  SELECT path, controller, ts, marker, file_first, file_last, file_row,
    CASE WHEN mline IS NOT NULL AND ${inWindow} AND length(mline) <= ${MAX_LINE_BYTES} THEN mline END AS mline,
    CASE WHEN mline IS NOT NULL AND ${inWindow} AND length(mline) > ${MAX_LINE_BYTES} THEN 1 ELSE 0 END AS overlong
  FROM spans
  WHERE file_row = 1 OR (mline IS NOT NULL AND ${inWindow})
),
located AS (
  SELECT kept.*,
    strpos(mline, ${markerCase((i) => lit(MARKERS[i]))}) + ${markerCase((i) => String(MARKERS[i].length))} AS mend,
    strpos(reverse(mline), '}') AS rclose
  FROM kept
),
bodies AS (
  SELECT located.*,
    substr(mline, mend) AS after,
    CASE WHEN strpos(substr(mline, mend), '{') > 0 AND rclose > 0
      AND length(mline) - rclose + 1 >= mend + strpos(substr(mline, mend), '{') - 1
    THEN substr(mline, mend + strpos(substr(mline, mend), '{') - 1,
      length(mline) - rclose + 1 - (mend + strpos(substr(mline, mend), '{') - 1) + 1) END AS body
  FROM located
),
parsed AS (
  SELECT bodies.*, CASE WHEN marker <> ${MARKER_FINALIZE} THEN try(json_parse(body)) END AS j FROM bodies
),
fields AS (
  SELECT path, controller, file_row, file_first, file_last, ts, marker, mline, overlong,
    CASE WHEN marker = ${MARKER_FINALIZE} OR (marker = ${MARKER_TERMINATE} AND j IS NOT NULL) THEN ${byWorkerMarker('worker')} END AS worker_id,
    ${byWorkerMarker('instance_id')} AS instance_id,
    ${byWorkerMarker('type_text')} AS type_text,
    ${byWorkerMarker('spot')} AS spot,
    ${byWorkerMarker('price')} AS price,
    CASE WHEN marker = ${MARKER_CONTAINER} THEN ${ifId(jstr('ContainerID'))} END AS container_id,
    CASE WHEN marker = ${MARKER_CONTAINER} AND ${STATE} IN ('started', 'migrated', 'stopped') THEN ${STATE} END AS state,
    CASE WHEN marker = ${MARKER_CONTAINER} THEN ${ifId(jstr('WorkerID'))} END AS c_worker,
    CASE WHEN marker = ${MARKER_CONTAINER} THEN ${ifId(jstr('FromWorkerID'))} END AS from_worker,
    CASE WHEN marker = ${MARKER_CONTAINER} THEN ${ifId(jstr('JobID'))} END AS job_id,
    CASE WHEN marker = ${MARKER_CONTAINER} AND ${jnum('Cpu')} > 0 THEN ${jnum('Cpu')} END AS cpu,
    CASE WHEN marker = ${MARKER_SCHEDULER} AND regexp_like(${jstr('DefaultRegion')}, ${re(REGION)}) THEN ${jstr('DefaultRegion')} END AS region,
    CASE WHEN marker = ${MARKER_SCHEDULER} THEN ${ifId(jstr('ControllerInstanceID'))} END AS controller_id,
    CASE WHEN marker = ${MARKER_SCHEDULER} AND regexp_like(${jstr('ControllerInstanceType')}, ${re(INSTANCE_TYPE)}) THEN ${jstr('ControllerInstanceType')} END AS controller_type,
    j
  FROM parsed
),
judged AS (
  SELECT fields.*,
    CASE
      WHEN overlong = 1 THEN 'overlong'
      WHEN mline IS NULL THEN NULL
      WHEN ts IS NULL THEN 'no-timestamp'
      WHEN marker <> ${MARKER_FINALIZE} AND j IS NULL THEN 'json'
      WHEN marker IN (${MARKER_FINALIZE}, ${MARKER_TERMINATE}) AND worker_id IS NULL THEN 'no-worker-id'
      WHEN marker IN (${MARKER_FINALIZE}, ${MARKER_TERMINATE}) AND type_text IS NOT NULL AND NOT regexp_like(type_text, ${re(INSTANCE_TYPE)}) THEN 'instance-type'
      WHEN marker = ${MARKER_CONTAINER} AND (container_id IS NULL OR state IS NULL) THEN 'container'
    END AS problem
  FROM fields
)
SELECT path, controller, ${str('file_row')} AS file_row, ${str('file_first')} AS file_first, ${str('file_last')} AS file_last,
  CASE WHEN mline IS NOT NULL OR overlong = 1 THEN ${str('ts')} END AS ts,
  CASE WHEN mline IS NOT NULL OR overlong = 1 THEN ${str('marker')} END AS marker,
  problem,
  CASE WHEN problem IN ('no-timestamp', 'json', 'no-worker-id', 'container') THEN substr(mline, 1, ${EXCERPT_CHARS})
    WHEN problem = 'instance-type' THEN substr(type_text, 1, ${EXCERPT_CHARS}) END AS excerpt,
  CASE WHEN mline IS NOT NULL THEN worker_id END AS worker_id,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN coalesce(instance_id, controller_id) END AS instance_id,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN coalesce(type_text, controller_type) END AS instance_type,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN spot END AS spot,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN ${str('price')} END AS price,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN container_id END AS container_id,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN state END AS state,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN c_worker END AS worker,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN from_worker END AS from_worker,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN job_id END AS job_id,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN ${str('cpu')} END AS cpu,
  CASE WHEN problem IS NULL AND mline IS NOT NULL THEN region END AS region
FROM judged
`;
}
