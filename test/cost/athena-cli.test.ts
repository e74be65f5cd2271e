/**
 * `cost --athena`: the Athena client's protocol (StartQueryExecution, GetQueryExecution with a
 * growing delay, GetQueryResults pages), its failures, and the flags and config it needs, each
 * refused in one line that names the flag or field.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { POLL_FIRST_MS, POLL_MAX_MS, QUERY_TIMEOUT_MS, runAthenaQuery } from '../../lib/cost/athena';
import { DEFAULT_YAML } from '../support/app';
import { signedYaml } from '../support/configs';
import { runCli, tempDir } from './helpers';

const dir = tempDir();
afterAll(() => dir.cleanup());

const QUERY = { sql: 'SELECT 1', workgroup: 'wg', database: 'db', columns: ['a', 'b'] };
const mock = mockClient(AthenaClient);
afterEach(() => mock.reset());
afterAll(() => mock.restore());
const client = new AthenaClient({ region: 'us-east-1' });

function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

const page = (rows: (string | null)[][], token?: string, header = false) => ({
  ResultSet: {
    ResultSetMetadata: { ColumnInfo: QUERY.columns.map((Name) => ({ Name, Type: 'varchar' })) },
    Rows: [...(header ? [QUERY.columns] : []), ...rows].map((r) => ({
      Data: r.map((v) => (v === null ? {} : { VarCharValue: v })),
    })),
  },
  NextToken: token,
});

describe('runAthenaQuery', () => {
  test('polls with a growing delay, capped, until SUCCEEDED; then reads every page, header row skipped, NULL kept', async () => {
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    let n = 0;
    mock.on(GetQueryExecutionCommand).callsFake(() => ({
      QueryExecution: { Status: { State: n++ < 14 ? 'RUNNING' : 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 42 } },
    }));
    mock
      .on(GetQueryResultsCommand, { NextToken: undefined })
      .resolves(page([['1', null]], 't2', true))
      .on(GetQueryResultsCommand, { NextToken: 't2' })
      .resolves(
        page([
          ['2', 'x'],
          ['3', 'y'],
        ]),
      );
    const clock = fakeClock();
    const rows: (string | null)[][] = [];
    const stats = await runAthenaQuery(QUERY, { client, ...clock }, (r) => rows.push([...r]));
    expect(rows).toEqual([
      ['1', null],
      ['2', 'x'],
      ['3', 'y'],
    ]);
    expect(stats).toEqual({ queryId: 'q1', scannedBytes: 42, rows: 3, polls: 15 });
    expect(clock.sleeps[0]).toBe(POLL_FIRST_MS);
    for (let i = 1; i < clock.sleeps.length; i++) {
      expect(clock.sleeps[i]).toBeGreaterThanOrEqual(clock.sleeps[i - 1]);
    }
    expect(Math.max(...clock.sleeps)).toBe(POLL_MAX_MS);
    // A two-minute query costs about 30 status calls, not one per 250 ms.
    expect(clock.sleeps.filter((ms) => ms === POLL_MAX_MS).length).toBeGreaterThan(2);
    const start = mock.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
    expect(start).toEqual({
      QueryString: 'SELECT 1',
      WorkGroup: 'wg',
      QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'db' },
    });
    expect(mock.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.MaxResults)).toEqual([1000, 1000]);
  });

  test('a failed query is one line with its reason', async () => {
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q2' });
    mock.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: line 1:1: Table db.t does not exist' },
      },
    });
    await expect(runAthenaQuery(QUERY, { client, ...fakeClock() }, () => {})).rejects.toThrow(
      'Athena query q2 in workgroup wg failed: TABLE_NOT_FOUND: line 1:1: Table db.t does not exist',
    );
  });

  test('access denied names the permission', async () => {
    mock.on(StartQueryExecutionCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: athena:StartQueryExecution'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(runAthenaQuery(QUERY, { client, ...fakeClock() }, () => {})).rejects.toThrow(
      /starting the cost query in Athena workgroup wg.*athena:StartQueryExecution/,
    );
  });

  test('a query still running after the timeout is stopped and reported', async () => {
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q3' });
    mock.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'QUEUED' } } });
    mock.on(StopQueryExecutionCommand).resolves({});
    const clock = fakeClock();
    await expect(runAthenaQuery(QUERY, { client, ...clock }, () => {})).rejects.toThrow(
      'Athena query q3 in workgroup wg still QUEUED after 30 minutes; stopped it',
    );
    expect(mock.commandCalls(StopQueryExecutionCommand)[0].args[0].input).toEqual({ QueryExecutionId: 'q3' });
    expect(clock.now()).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS);
    expect(clock.now()).toBeLessThan(QUERY_TIMEOUT_MS + POLL_MAX_MS * 2);
  });

  test('a result without the expected columns is refused', async () => {
    mock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q4' });
    mock.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    mock
      .on(GetQueryResultsCommand)
      .resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'x', Type: 'varchar' }] } } });
    await expect(runAthenaQuery(QUERY, { client, ...fakeClock() }, () => {})).rejects.toThrow(
      'Athena query q4 returned the columns x; expected a, b',
    );
  });
});

describe('cost --athena: flags and setup', () => {
  const config = (athena: boolean) => {
    const file = join(dir.path, `site-${athena}.yaml`);
    writeFileSync(file, `${signedYaml(DEFAULT_YAML)}\nlogs:\n  athena: ${athena}\n`);
    return file;
  };

  test.each([
    [['--athena'], /^error: Incorrect entry: --athena needs --config FILE/],
    [
      ['--athena', '--config', '<off>'],
      /--athena: logs\.athena is false in .*site-false\.yaml \(set logs\.athena: true/,
    ],
    [['--athena', '-l', '.', '--config', '<on>'], /-l\/--logs and --athena cannot be combined/],
    [['--athena', '--threads', '2', '--config', '<on>'], /--threads .* with --athena/],
    [
      ['--athena', '--config', '<on>', '--workgroup', 'bad name!'],
      /--workgroup got 'bad name!' \(an Athena workgroup name/,
    ],
    [['-l', '.', '--workgroup', 'wg'], /--workgroup 'wg' needs --athena/],
    [['-l', '.', '--lookback-days', '3'], /^error: Incorrect entry: --lookback-days '3' needs --athena/],
    ...['-1', '367', '1.5', 'seven', '', '0x10', '1e2'].map((v): [string[], RegExp] => [
      ['--athena', '--config', '<on>', '--lookback-days', v],
      new RegExp(
        `^error: Incorrect entry: --lookback-days got '${v.replace(/[.]/g, '\\.')}' \\(a whole number of days from 0 to 366`,
      ),
    ]),
    [['--athena', '--config', '<on>', '-s', '2024-13-01'], /-s\/--start got '2024-13-01'/],
  ])('%j is refused in one line naming the flag or field', async (argv, message) => {
    const args = argv.map((a) => (a === '<on>' ? config(true) : a === '<off>' ? config(false) : a));
    const r = await runCli(['cost', ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(message);
  });
});
