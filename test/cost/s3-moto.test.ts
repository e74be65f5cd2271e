/**
 * -l s3://... against a real S3 API (moto server on 127.0.0.1): real ranged GETs and streamed
 * bodies through the SDK. Skipped when moto is not installed (scripts/install-test-deps.sh).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runCost } from '../../lib/cost/run';
import { LOGS, PRICING_DIR, tempDir } from './helpers';

const hasMoto = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;
const out = tempDir();
let moto: ChildProcess | undefined;
const saved = { ...process.env };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`moto did not start at ${url}`);
}

(hasMoto ? describe : describe.skip)('GIVEN logs synced to S3 (moto server)', () => {
  beforeAll(async () => {
    const port = await freePort();
    moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const endpoint = `http://127.0.0.1:${port}`;
    await waitFor(endpoint);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'xspot-logs' }));
    for (const dir of readdirSync(LOGS)) {
      for (const file of readdirSync(join(LOGS, dir))) {
        await s3.send(
          new PutObjectCommand({
            Bucket: 'xspot-logs',
            Key: `xspot/${dir}/${file}`,
            Body: readFileSync(join(LOGS, dir, file)),
          }),
        );
      }
    }
  });

  afterAll(() => {
    moto?.kill();
    process.env = saved;
    out.cleanup();
  });

  test('THEN the report equals the hand-computed one of the local fixtures', async () => {
    const warnings: string[] = [];
    const { report } = await runCost(
      {
        logs: 's3://xspot-logs/xspot',
        start: '2024-03-01',
        end: '2024-03-02',
        pricing: PRICING_DIR,
        output: 'json',
        outDir: out.path,
      },
      { out: () => {}, err: (l) => warnings.push(l) },
    );
    expect(report.files).toEqual({ found: 3, read: 3, outsideWindow: 0, invalid: 0 });
    expect(report.controllers.map((c) => c.id)).toEqual(['i-0a11a11a11a11a11a', 'i-0b22b22b22b22b22b']);
    expect(report.summary.realCost).toBeCloseTo(9.2844, 6);
    expect(report.summary.onDemandCost).toBeCloseTo(14.502, 6);
    expect(warnings).toHaveLength(2);
  });
});
