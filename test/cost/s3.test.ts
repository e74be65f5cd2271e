/**
 * -l s3://bucket/prefix: the fixture logs served by a mocked S3 (aws-sdk-client-mock), paginated
 * listing, ranged reads of each file's ends, and bodies streamed in small chunks. The report must
 * be the one the local directory gives.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { runCost } from '../../lib/cost/run';
import { parseS3Uri } from '../../lib/cost/sources';
import { LOGS, PRICING_DIR, runCli, tempDir } from './helpers';

const s3 = mockClient(S3Client);
const out = tempDir();
afterAll(() => {
  s3.restore();
  out.cleanup();
});

/** The fixture tree as objects under `synced/xspot/<instance-id>/<file>`. */
const objects = new Map<string, Buffer>();
for (const dir of readdirSync(LOGS)) {
  for (const file of readdirSync(join(LOGS, dir))) {
    objects.set(`synced/xspot/${dir}/${file}`, readFileSync(join(LOGS, dir, file)));
  }
}
objects.set('synced/xspot/', Buffer.alloc(0)); // a "folder" object
objects.set('synced/xspot/.sync-state', Buffer.from('not a log')); // hidden: skipped
// ~200 KB: larger than the 64 KiB read from each end.
objects.set(
  'big/i-0big/xspot.log.1',
  Buffer.from(
    `2024-03-01T00:00:00Z INFO start\n${'2024-03-01T00:30:00Z DEBUG chatter chatter chatter chatter chatter\n'.repeat(3000)}2024-03-01T01:00:00Z INFO stop\n`,
  ),
);
objects.set('synced/xspot-other/i-0c/xspot.log.1', Buffer.from('2023-01-01T00:00:00Z other deployment\n'));

/** Serves `bytes=a-b` and `bytes=-n` like S3, as a stream of 7-byte chunks. */
function serve(key: string, range?: string): GetObjectCommandOutput {
  let body = objects.get(key);
  if (body === undefined) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
  const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range) : null;
  if (m) {
    body =
      m[1] === ''
        ? body.subarray(Math.max(0, body.length - Number(m[2])))
        : body.subarray(Number(m[1]), Number(m[2]) + 1);
  }
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += 7) chunks.push(body.subarray(i, i + 7));
  return { Body: Readable.from(chunks) as unknown as GetObjectCommandOutput['Body'], $metadata: {} };
}

const ranges: string[] = [];
beforeEach(() => {
  s3.reset();
  ranges.length = 0;
  const keys = [...objects.keys()].sort();
  s3.on(ListObjectsV2Command).callsFake((input) => {
    const all = keys.filter((k) => k.startsWith(input.Prefix ?? ''));
    const from = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
    const page = all.slice(from, from + 2); // two keys a page: forces pagination
    const more = from + 2 < all.length;
    return {
      Contents: page.map((Key) => ({ Key, Size: objects.get(Key)!.length })),
      IsTruncated: more,
      NextContinuationToken: more ? String(from + 2) : undefined,
    };
  });
  s3.on(GetObjectCommand).callsFake((input) => {
    if (input.Range) ranges.push(input.Range);
    return serve(input.Key!, input.Range);
  });
});

const window = { start: '2024-03-01', end: '2024-03-02', pricing: PRICING_DIR, output: 'json', outDir: out.path };
const io = { out: () => {}, err: () => {}, now: () => Date.parse('2024-04-01T00:00:00Z') };

test('parseS3Uri', () => {
  expect(parseS3Uri('s3://my-bucket/synced/xspot')).toEqual({ bucket: 'my-bucket', prefix: 'synced/xspot/' });
  expect(parseS3Uri('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
  expect(parseS3Uri('s3://my-bucket/a/')).toEqual({ bucket: 'my-bucket', prefix: 'a/' });
  expect(parseS3Uri('s3://My_Bucket/a')).toBeUndefined();
});

test('GIVEN synced logs in S3 THEN the report equals the local one', async () => {
  const remote = await runCost({ logs: 's3://xspot-logs/synced/xspot', ...window, region: 'us-east-1' }, io);
  const local = await runCost({ logs: LOGS, ...window }, io);
  expect(remote.report.summary).toEqual(local.report.summary);
  expect(remote.report.containers).toEqual(local.report.containers);
  expect(remote.report.daily).toEqual(local.report.daily);
  // Controllers are the instance-id "directories" under the prefix.
  expect(remote.report.controllers.map((c) => c.id)).toEqual(['i-0a11a11a11a11a11a', 'i-0b22b22b22b22b22b']);
  expect(remote.report.files).toEqual({ found: 3, read: 3, outsideWindow: 0, invalid: 0 });
  expect(remote.report.summary.realCost).toBeCloseTo(9.2844, 6);

  // Listing stayed under the prefix (not xspot-other/) and paged.
  const lists = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
  expect(lists.every((i) => i.Bucket === 'xspot-logs' && i.Prefix === 'synced/xspot/')).toBe(true);
  expect(lists.length).toBeGreaterThan(1);
  // Each small file is read once from its start for the head check, then streamed whole.
  expect(ranges.every((r) => r === 'bytes=0-65535' || /^bytes=0-\d+$/.test(r))).toBe(true);
  const whole = s3.commandCalls(GetObjectCommand).filter((c) => c.args[0].input.Range === undefined);
  expect(whole.map((c) => c.args[0].input.Key).sort()).toEqual(
    [...objects.keys()].filter((k) => /xspot\/i-/.test(k)).sort(),
  );
});

test('GIVEN a large object THEN its first and last 64 KiB are read with ranges', async () => {
  const res = await runCost({ logs: 's3://xspot-logs/big', ...window, start: '2024-03-01', end: '2024-03-01' }, io);
  expect(ranges).toEqual(['bytes=0-65535', 'bytes=-65536']);
  expect(res.report.controllers.map((c) => [c.id, c.hours])).toEqual([['i-0big', 1]]);
});

test('GIVEN S3 denies access THEN one line says what is missing', async () => {
  s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
  const run = await runCli([
    'cost',
    '-l',
    's3://xspot-logs/synced/xspot',
    '--region',
    'eu-west-1',
    '--pricing',
    PRICING_DIR,
  ]);
  expect(run.code).toBe(1);
  expect(run.stderr).toEqual([
    'error: listing s3://xspot-logs/synced/xspot in eu-west-1: access denied; the caller needs s3:ListBucket (Access Denied)',
  ]);
});

test('GIVEN an empty prefix THEN no valid log files', async () => {
  const run = await runCli(['cost', '-l', 's3://xspot-logs/nothing-here', '--pricing', PRICING_DIR]);
  expect(run.code).toBe(1);
  expect(run.stderr).toEqual(['error: No valid log files specified: s3://xspot-logs/nothing-here holds no files']);
});
