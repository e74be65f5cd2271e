/**
 * Runs the `cost --athena` query for real over a directory of log files laid out as in the log
 * bucket, and serves its result through a mocked Athena client (no Athena emulator exists).
 *
 * The table is modelled as Athena reads it (athena-table.ts): every file under a projected day
 * partition of the deployment, `<deployment>/<day>/...` with `<day>` a real date spelled
 * yyyy-MM-dd from FIRST_DAY to today (partition projection generates only those, so `undated/`,
 * `xspot-cdk/` and any other folder are in no partition and never read), one row per line as
 * Hadoop's TextInputFormat splits them (`\n`, `\r\n` or `\r` end a line; a final terminator adds no
 * empty line), `"$path"` the object's s3:// URI, `day` the partition value. The SQL runs in SQLite
 * with Trino's functions modelled in trino-sqlite.py; its WHERE on `day` is what prunes partitions.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { AthenaSource } from '../../lib/cost/athena-sql';
import { FIRST_DAY } from '../../lib/cost/athena-table';

export interface TableRow {
  readonly deployment: string;
  readonly day: string;
  readonly path: string;
  readonly line: string;
}

/** A day partition value the projection generates: a real date, FIRST_DAY to today (UTC). */
export function projectedDay(segment: string, now = Date.now()): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(segment)) return false;
  const t = Date.parse(`${segment}T00:00:00Z`);
  return (
    !Number.isNaN(t) &&
    new Date(t).toISOString().slice(0, 10) === segment &&
    segment >= FIRST_DAY &&
    segment <= new Date(now).toISOString().slice(0, 10)
  );
}

/**
 * The table rows of the files under `dir`, as objects under `s3://<bucket>/<deployment>/`: those
 * whose first folder is a projected day (the rest are listed in `unread`).
 */
export function tableRows(dir: string, bucket: string, deployment: string, unread: string[] = []): TableRow[] {
  const rows: TableRow[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const rel = relative(dir, p).split(sep);
        const key = `${deployment}/${rel.join('/')}`;
        const day = rel[0];
        if (rel.length < 2 || !projectedDay(day)) {
          unread.push(key);
          continue;
        }
        const text = readFileSync(p, 'utf8');
        const lines = text.split(/\r\n|\n|\r/);
        if (lines[lines.length - 1] === '') lines.pop();
        for (const line of lines) rows.push({ deployment, day, path: `s3://${bucket}/${key}`, line });
      }
    }
  };
  walk(dir);
  return rows;
}

export interface SqlResult {
  readonly columns: string[];
  readonly rows: (string | null)[][];
}

/** Executes `sql` over `rows` (the table `source` names) and returns every row as text or null. */
export function runSql(sql: string, source: AthenaSource, rows: readonly TableRow[]): SqlResult {
  const r = spawnSync('python3', [join(__dirname, 'trino-sqlite.py')], {
    input: JSON.stringify({ sql, database: source.database, table: source.table, rows }),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`trino-sqlite.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as SqlResult;
}

export interface ServedQuery {
  readonly sql: string;
  readonly workgroup?: string;
  readonly database?: string;
}

/**
 * A mocked Athena client that answers like Athena: StartQueryExecution records the query;
 * GetQueryExecution says RUNNING `runningPolls` times, then SUCCEEDED; GetQueryResults returns what
 * the query really computes over `rows`, `pageRows` rows a page, the column names as the first
 * row of the first page, NULL as a Datum without VarCharValue.
 */
export function servingAthena(
  rows: readonly TableRow[],
  source: AthenaSource,
  opts: { pageRows?: number; runningPolls?: number } = {},
) {
  const { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } =
    require('@aws-sdk/client-athena') as typeof import('@aws-sdk/client-athena');
  const { mockClient } = require('aws-sdk-client-mock') as typeof import('aws-sdk-client-mock');
  const mock = mockClient(AthenaClient);
  const queries: ServedQuery[] = [];
  let result: SqlResult | undefined;
  let polls = 0;
  const pageRows = opts.pageRows ?? 1000;
  mock.on(StartQueryExecutionCommand).callsFake((input) => {
    queries.push({
      sql: input.QueryString,
      workgroup: input.WorkGroup,
      database: input.QueryExecutionContext?.Database,
    });
    result = runSql(input.QueryString, source, rows);
    polls = 0;
    return { QueryExecutionId: `q-${queries.length}` };
  });
  mock.on(GetQueryExecutionCommand).callsFake(() => ({
    QueryExecution: {
      Status: { State: polls++ < (opts.runningPolls ?? 2) ? 'RUNNING' : 'SUCCEEDED' },
      Statistics: { DataScannedInBytes: rows.reduce((n, r) => n + Buffer.byteLength(r.line) + 1, 0) },
    },
  }));
  mock.on(GetQueryResultsCommand).callsFake((input) => {
    if (result === undefined) throw new Error('GetQueryResults before StartQueryExecution');
    const all = [result.columns, ...result.rows];
    const from = input.NextToken === undefined ? 0 : Number(input.NextToken);
    const size = Math.min(pageRows, input.MaxResults ?? 1000);
    const page = all.slice(from, from + size);
    return {
      ResultSet: {
        ResultSetMetadata:
          from === 0 ? { ColumnInfo: result.columns.map((Name) => ({ Name, Type: 'varchar' })) } : undefined,
        Rows: page.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
      },
      NextToken: from + size < all.length ? String(from + size) : undefined,
    };
  });
  return { mock, client: new AthenaClient({ region: 'us-east-1' }), queries };
}
