/**
 * One Athena query, start to last row: StartQueryExecution in the deployment's workgroup, then
 * GetQueryExecution with a growing delay until the query ends, then GetQueryResults page by page.
 * The SDK client and the clock come from the caller (tests pass a mock and a fake sleep).
 */
import type {
  AthenaClient,
  GetQueryExecutionCommandOutput,
  GetQueryResultsCommandOutput,
} from '@aws-sdk/client-athena';
import { UserError } from '../errors';
import { describeAwsError } from '../ops/aws-errors';

/** First delay between two GetQueryExecution calls; each next delay is 1.5 times longer, at most POLL_MAX_MS. */
export const POLL_FIRST_MS = 250;
export const POLL_MAX_MS = 5_000;
/** A query still running after this long is stopped (StopQueryExecution) and reported. */
export const QUERY_TIMEOUT_MS = 30 * 60_000;
/** Rows per GetQueryResults call (Athena's maximum). */
export const PAGE_ROWS = 1000;

export interface AthenaQuery {
  readonly sql: string;
  readonly workgroup: string;
  readonly database: string;
  /** Column names the result must have, in order. */
  readonly columns: readonly string[];
}

export interface AthenaRunDeps {
  readonly client: AthenaClient;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly region?: string;
  readonly timeoutMs?: number;
}

export interface AthenaQueryStats {
  readonly queryId: string;
  readonly scannedBytes: number;
  readonly rows: number;
  /** GetQueryExecution calls made while waiting. */
  readonly polls: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `query` and hands each result row (text, or null for SQL NULL) to `onRow`, in result order. */
export async function runAthenaQuery(
  query: AthenaQuery,
  deps: AthenaRunDeps,
  onRow: (row: readonly (string | null)[]) => void,
): Promise<AthenaQueryStats> {
  const { StartQueryExecutionCommand, GetQueryExecutionCommand, GetQueryResultsCommand, StopQueryExecutionCommand } =
    await import('@aws-sdk/client-athena');
  const sleep = deps.sleep ?? realSleep;
  const now = deps.now ?? Date.now;
  const fail = (err: unknown, action: string, permission: string) =>
    new UserError(describeAwsError(err, { action, permission, region: deps.region }));

  let queryId: string | undefined;
  try {
    const started = await deps.client.send(
      new StartQueryExecutionCommand({
        QueryString: query.sql,
        WorkGroup: query.workgroup,
        QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: query.database },
      }),
    );
    queryId = started.QueryExecutionId;
  } catch (err) {
    throw fail(err, `starting the cost query in Athena workgroup ${query.workgroup}`, 'athena:StartQueryExecution');
  }
  if (!queryId) throw new UserError(`Athena workgroup ${query.workgroup} started no query (no QueryExecutionId)`);

  // Wait, polling less often as the query runs longer.
  const deadline = now() + (deps.timeoutMs ?? QUERY_TIMEOUT_MS);
  let delay = POLL_FIRST_MS;
  let polls = 0;
  let exec: GetQueryExecutionCommandOutput['QueryExecution'];
  for (;;) {
    await sleep(delay);
    polls++;
    try {
      exec = (await deps.client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }))).QueryExecution;
    } catch (err) {
      throw fail(err, `waiting for Athena query ${queryId}`, 'athena:GetQueryExecution');
    }
    const state = exec?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = exec?.Status?.StateChangeReason ?? exec?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
      throw new UserError(`Athena query ${queryId} in workgroup ${query.workgroup} ${state.toLowerCase()}: ${reason}`);
    }
    if (now() >= deadline) {
      await deps.client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId })).catch(() => undefined);
      throw new UserError(
        `Athena query ${queryId} in workgroup ${query.workgroup} still ${state ?? 'unknown'} after ${Math.round((deps.timeoutMs ?? QUERY_TIMEOUT_MS) / 60_000)} minutes; stopped it`,
      );
    }
    delay = Math.min(POLL_MAX_MS, Math.round(delay * 1.5));
  }

  // Read the rows. Athena puts the column names in the first row of the first page.
  let token: string | undefined;
  let first = true;
  let rows = 0;
  do {
    let page: GetQueryResultsCommandOutput;
    try {
      page = await deps.client.send(
        new GetQueryResultsCommand({ QueryExecutionId: queryId, MaxResults: PAGE_ROWS, NextToken: token }),
      );
    } catch (err) {
      throw fail(err, `reading the results of Athena query ${queryId}`, 'athena:GetQueryResults');
    }
    const data = page.ResultSet?.Rows ?? [];
    if (first) {
      const names = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
      if (names.join(',') !== query.columns.join(',')) {
        throw new UserError(
          `Athena query ${queryId} returned the columns ${names.join(', ') || '(none)'}; expected ${query.columns.join(', ')}`,
        );
      }
    }
    for (let i = 0; i < data.length; i++) {
      const row = (data[i].Data ?? []).map((d) => d.VarCharValue ?? null);
      if (first && i === 0 && row.join('\u0000') === query.columns.join('\u0000')) continue;
      onRow(row);
      rows++;
    }
    first = false;
    token = page.NextToken;
  } while (token);
  return {
    queryId,
    scannedBytes: exec?.Statistics?.DataScannedInBytes ?? 0,
    rows,
    polls,
  };
}
