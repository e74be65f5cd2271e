/**
 * The query's reading of single lines against log-format.ts, line by line: each line below is a
 * file of its own (after a heartbeat line, so that every file has a timestamp and is read), the
 * generated SQL really runs over them (athena-engine.ts), and each file's rows must give the
 * timestamp parseTimestamp gives and the event (or warning) parseMarkedLine gives.
 */

import { problemWarning, type Row, rowEvent } from '../../lib/cost/athena-run';
import {
  type AthenaSource,
  costEventsSql,
  MAX_QUERY_BYTES,
  queryDays,
  RESULT_COLUMNS,
} from '../../lib/cost/athena-sql';
import { MARKERS, parseMarkedLine, parseTimestamp } from '../../lib/cost/log-format';
import { controllerOf } from '../../lib/cost/sources';
import { runSql } from './athena-engine';

const SOURCE: AthenaSource = { database: 'db', table: 'controller_logs', deployment: 'site-a' };
const WIDE = { start: Date.parse('1990-01-01T00:00:00Z'), end: Date.parse('2200-01-01T00:00:00Z') };

const TIMESTAMPS = [
  '2024-03-01T00:00:00Z',
  '2024-03-01 00:00:00',
  '2024/03/01T00:00:00',
  '2024-03/01T00:00:00',
  '[2024-03-01 10:00:00,5]',
  'time="2024-03-01T00:00:00.123456789+05:30"',
  '2024-03-01T00:00:00.1-0430',
  '2024-03-01T00:00:00+0530x',
  '2024-03-01T00:00:00+05:3',
  '2024-03-01T00:00:00.123+05:xx',
  '2024-03-01T00:00:00.',
  '2024-03-01T00:00:00,Z',
  '2024-03-01T00:00:00-',
  '2024-02-29T23:59:60Z',
  '2023-02-29T00:00:00Z',
  '2024-04-31T00:00:00Z',
  '2024-12-31T23:59:59.999Z',
  '2024-13-01T00:00:00Z',
  '2024-00-10T00:00:00Z',
  '2024-01-00T00:00:00Z',
  '2024-01-01T24:00:00Z',
  '2024-01-01T23:60:00Z',
  '2024-01-01T23:00:00+24:00',
  '2024-01-01T23:00:00-23:59',
  '1999-12-31T23:59:59Z',
  '2100-02-29T00:00:00Z',
  '2000-02-29T00:00:00Z',
  ' 2024-01-01T00:00:00Z',
  '2024-01-01X00:00:00Z',
  '2024-01-01T00:00:00.1234Z',
  '[time="2024-01-01T00:00:00Z',
  '2024-07-31 12:34:56,789 +0200',
  '2024-07-31T12:34:56.789+0200',
];

const P = '2024-03-01T00:00:00Z INFO [x] ';
const PAYLOADS = [
  'FinalizeWorkerMetadata worker=w1 instanceId=i-1 instanceType=r5.xlarge spot=true price=0.088',
  'FinalizeWorkerMetadata worker="w 2" instanceType=r5.xlarge',
  'FinalizeWorkerMetadata worker=w3 price=-1 spot=TRUE',
  'FinalizeWorkerMetadata worker=w3 price=1e-3 spot=1',
  'FinalizeWorkerMetadata worker=w3 price=+.5 spot=0',
  'FinalizeWorkerMetadata worker=w3 price=abc spot=False',
  'FinalizeWorkerMetadata WorkerID=w4 InstanceType=m5.large Spot=True Price="0.2"',
  'FinalizeWorkerMetadata worker= WorkerID=w5',
  'FinalizeWorkerMetadata worker=w6,instanceType=r5.large,spot=false',
  'FinalizeWorkerMetadata worker=w7 worker=w8',
  'FinalizeWorkerMetadata xworker=w9',
  'FinalizeWorkerMetadata worker=w10 instanceType=""',
  'FinalizeWorkerMetadata worker=w11 instanceType=" r5.large "',
  'FinalizeWorkerMetadata worker=w12 instanceType=R5.large',
  'FinalizeWorkerMetadata worker=w13 ContainerStateChange: {"ContainerID":"c0","State":"started"}',
  'Terminating Worker Instance: {"WorkerID":"w1","InstanceType":"r5.xlarge","Spot":"True","Price":"0.1"}',
  'Terminating Worker Instance: {"worker":"w2","WorkerID":"w3"}',
  'Terminating Worker Instance: {"worker":null,"WorkerID":"w3"}',
  'Terminating Worker Instance: {"WorkerID":123,"InstanceID":"i-0abc"}',
  'Terminating Worker Instance: {"WorkerID":true}',
  'Terminating Worker Instance: {"WorkerID":" w4 "}',
  'Terminating Worker Instance: {"WorkerID":"w5","Spot":1,"Price":-0.5}',
  'Terminating Worker Instance: {"WorkerID":"w7","Price":"1e2","Spot":false}',
  'Terminating Worker Instance: [1,2] {"WorkerID":"w8"}',
  'Terminating Worker Instance: {"WorkerID":"w9"} trailing } brace',
  'Terminating Worker Instance: {"WorkerID":"w10","InstanceType":"bad type"}',
  'Terminating Worker Instance: {"WorkerID":"w11","InstanceType":{"a":1}}',
  'Terminating Worker Instance: nothing',
  'Terminating Worker Instance: {"WorkerID":"w12"',
  'ContainerStateChange: {"ContainerID":"c1","State":" Stopped ","WorkerID":"w1"}',
  'ContainerStateChange: {"ContainerID":"c2","State":"started","Cpu":0,"JobID":1001}',
  'ContainerStateChange: {"ContainerID":"c2","State":"started","Cpu":"3.5","JobID":"a b"}',
  'ContainerStateChange: {"ContainerID":"c2","State":"migrated","Cpu":-2,"FromWorkerID":"w1","WorkerID":"w2"}',
  'ContainerStateChange: {"ContainerID":"c3"}',
  'ContainerStateChange: {"State":"started"}',
  'ContainerStateChange: {"ContainerID":"c\\u0031","State":"started"}',
  'ContainerStateChange: {"ContainerID":"c\u00e9","State":"started"}',
  'ContainerStateChange: {"ContainerID":"c4","State":"stopped","WorkerID":"it\'s"}',
  'Scheduler configurations: {"DefaultRegion":"us-east-1x"}',
  'Scheduler configurations: {"SchedulerEnabled":true,"DefaultRegion":"eu-west-1","ControllerInstanceType":"m5.xlarge","ControllerInstanceID":"i-abc"}',
  'Scheduler configurations: {}',
  'Scheduler configurations: {"ControllerInstanceType":"m5"}',
  'Scheduler configurations: nojson',
];

const LINES = [
  ...TIMESTAMPS.map((t) => `${t} INFO Scheduler configurations: {"DefaultRegion":"us-east-1"}`),
  ...TIMESTAMPS.map((t) => `${t} INFO heartbeat`),
  ...PAYLOADS.map((p) => `${P}${p}`),
  'INFO FinalizeWorkerMetadata worker=w1 (no timestamp)',
  '',
];

const HEARTBEAT = '1990-06-01T00:00:00Z INFO heartbeat';
const HEARTBEAT_TS = String(Date.parse('1990-06-01T00:00:00Z'));

/** The day partition the files are in (the table model does not look inside them). */
const DAY = '2024-03-01';

/** Per file: its rows (one carries file_row 1) and the row of its marker line, if any. */
let byPath: Map<string, { rows: Row[]; event?: Row }>;
beforeAll(() => {
  const rows = LINES.flatMap((line, i) =>
    [HEARTBEAT, line].map((l) => ({
      deployment: SOURCE.deployment,
      day: DAY,
      path: `s3://b/site-a/${DAY}/c/${i}.log`,
      line: l,
    })),
  );
  const res = runSql(costEventsSql(SOURCE, WIDE, 7), SOURCE, rows);
  expect(res.columns).toEqual([...RESULT_COLUMNS]);
  byPath = new Map();
  for (const values of res.rows) {
    const r = Object.fromEntries(RESULT_COLUMNS.map((c, i) => [c, values[i]])) as Row;
    const f = byPath.get(r.path!) ?? { rows: [] };
    f.rows.push(r);
    if (r.marker !== null) {
      expect(f.event).toBeUndefined();
      f.event = r;
    }
    byPath.set(r.path!, f);
  }
});

const cases = LINES.map((line, i) => [i, line] as const);

test.each(cases)('line %i: the file span is the timestamp parseTimestamp reads: %s', (i, line) => {
  const f = byPath.get(`s3://b/site-a/${DAY}/c/${i}.log`)!;
  expect(f.rows.filter((r) => r.file_row === '1')).toHaveLength(1);
  const ts = parseTimestamp(line);
  for (const r of f.rows) {
    expect(r.controller).toBe('c');
    expect([r.file_first, r.file_last]).toEqual([HEARTBEAT_TS, ts === undefined ? HEARTBEAT_TS : String(ts)]);
  }
});

test.each(cases)('line %i: the event or warning parseMarkedLine gives: %s', (i, line) => {
  const f = byPath.get(`s3://b/site-a/${DAY}/c/${i}.log`)!;
  const marker = MARKERS.findIndex((m) => line.includes(m));
  if (marker < 0) {
    expect(f.event).toBeUndefined();
    expect(f.rows.map((r) => r.problem)).toEqual([null]);
    return;
  }
  const r = f.event!;
  expect(r.marker).toBe(String(marker));
  const local = parseMarkedLine(marker, line);
  if ('event' in local) {
    expect(r.problem).toBeNull();
    expect(rowEvent(r)).toEqual(local.event);
  } else {
    expect(r.problem).not.toBeNull();
    expect(problemWarning(r.problem as never, r)).toBe(local.warning);
  }
});

test('the cases cover what they are for: events and warnings of every marker, valid and invalid timestamps', () => {
  const problems = new Set([...byPath.values()].map((f) => f.event?.problem ?? null));
  expect([...problems].sort()).toEqual(
    [null, 'container', 'instance-type', 'json', 'no-timestamp', 'no-worker-id'].sort() as (string | null)[],
  );
  const stamped = TIMESTAMPS.filter((t) => parseTimestamp(t) !== undefined).length;
  expect(stamped).toBeGreaterThan(10);
  expect(TIMESTAMPS.length - stamped).toBeGreaterThan(10);
});

test('the query is one SELECT within the size Athena accepts', () => {
  const sql = costEventsSql({ ...SOURCE, deployment: 'a-24-character-deployment' }, WIDE, 366);
  expect(sql.startsWith('WITH\n')).toBe(true);
  expect(Buffer.byteLength(sql)).toBeLessThan(MAX_QUERY_BYTES);
});

test('a deployment name that is not one is refused before it reaches SQL', () => {
  expect(() => costEventsSql({ ...SOURCE, deployment: "x' OR 1=1 --" }, WIDE, 7)).toThrow(/deployment name/);
});

test('the query calls only functions Athena (Trino) documents and the test engine models or SQLite shares', () => {
  const sql = costEventsSql(SOURCE, WIDE, 7).replace(/'(?:[^']|'')*'/g, "''");
  const called = new Set([...sql.matchAll(/\b([a-z_]+)\s*\(/g)].map((m) => m[1]));
  expect([...called].sort()).toEqual(
    [
      'coalesce',
      'json_extract',
      'json_extract_scalar',
      'json_format',
      'json_parse',
      'length',
      'lower',
      'max',
      'min',
      'nullif',
      'regexp_extract',
      'regexp_like',
      'regexp_replace',
      'reverse',
      'row_number',
      'strpos',
      'substr',
      'trim',
      'try',
    ].sort(),
  );
  // Upper-case words before a parenthesis are SQL syntax (CAST, a CTE's AS, IN lists, OVER), not functions.
  const syntax = new Set([...sql.matchAll(/\b([A-Z_]+)\s*\(/g)].map((m) => m[1]));
  for (const word of syntax)
    expect(['CAST', 'AS', 'IN', 'OVER', 'AND', 'OR', 'THEN', 'ELSE', 'WHEN', 'NOT']).toContain(word);
});

describe('the day partitions and the controller', () => {
  const at = (iso: string) => Date.parse(iso);
  const win = { start: at('2024-03-10T00:00:00Z'), end: at('2024-03-13T00:00:00Z') };

  test('the days read: lookback days before the first day of the window, to its last day (the end is exclusive)', () => {
    expect(queryDays(win, 7)).toEqual({ first: '2024-03-03', last: '2024-03-12' });
    expect(queryDays(win, 0)).toEqual({ first: '2024-03-10', last: '2024-03-12' });
    expect(queryDays({ start: at('2024-03-01T00:00:00Z'), end: at('2024-03-01T12:00:00Z') }, 1)).toEqual({
      first: '2024-02-29',
      last: '2024-03-01',
    });
  });

  test('only rows of those days are read; the controller is the directory less its day folders, as controllerOf gives', () => {
    const keys = [
      '2024-03-02/i-1/before-lookback.log',
      '2024-03-03/i-1/first-day.log',
      '2024-03-12/i-2/last-day.log',
      '2024-03-13/i-2/after-window.log',
      '2024-03-05/i-3/sub/nested.log',
      '2024-03-05/i-3/2024-01-01/dated-subfolder.log',
      '2024-03-05/top.log',
    ];
    const rows = keys.map((k) => ({
      deployment: SOURCE.deployment,
      day: k.slice(0, 10),
      path: `s3://b/site-a/${k}`,
      line: '2024-03-10T00:00:00Z INFO heartbeat',
    }));
    const res = runSql(costEventsSql(SOURCE, win, 7), SOURCE, rows);
    const got = res.rows.map((v) => [v[0]!.replace('s3://b/site-a/', ''), v[1]]).sort();
    const read = keys.filter((k) => k >= '2024-03-03' && k < '2024-03-13').sort();
    expect(got).toEqual(read.map((k) => [k, controllerOf(k.split('/'))]));
    expect(got.map(([, c]) => c).sort()).toEqual(['', 'i-1', 'i-2', 'i-3', 'i-3/sub'].sort());
  });
});
