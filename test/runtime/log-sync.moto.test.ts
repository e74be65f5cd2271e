/**
 * scripts/log-sync.sh with the real AWS CLI against a real S3 API (moto server on 127.0.0.1): the
 * keys it writes (`<prefix>/<day>/<instance-id>/<file>`, `undated/`, `xspot-cdk/`), that
 * `aws s3 sync` reads a staged symlink's target, that nothing outside LOG_PATH is uploaded, and that
 * `cost -l s3://<bucket>/<prefix>` reads the result with one controller per instance. Skipped when
 * the AWS CLI or moto is not installed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { runCost } from '../../lib/cost/run';
import { type MotoServer, startMoto } from '../../lib/ops/local-deploy-moto';
import { LOGS, PRICING_DIR } from '../cost/helpers';
import { Sandbox } from './harness';

const IID = 'i-0123456789abcdef0';
const BUCKET = 'xspot-logs-123456789012';
const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
/**
 * The directory of the real `aws` (the one beside python3's interpreter when it is a Python install,
 * as pyenv's shims need the developer's HOME), put after the stand-ins on the script's PATH.
 */
function awsDir(): string | undefined {
  const py = spawnSync('python3', ['-c', 'import os, sys; print(os.path.dirname(sys.executable))'], {
    encoding: 'utf8',
  });
  const beside = py.status === 0 ? py.stdout.trim() : '';
  if (beside !== '' && fs.existsSync(path.join(beside, 'aws'))) return beside;
  const which = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' });
  return which.status === 0 ? path.dirname(which.stdout.trim()) : undefined;
}
const AWS_DIR = awsDir();
const ready = AWS_DIR !== undefined && has('python3', ['-c', 'import moto.server']);

let moto: MotoServer | undefined;
let s3: S3Client;
let sb: Sandbox | undefined;
const saved = { ...process.env };
/** moto's address as an IP, so the SDK addresses the bucket by path (no bucket.localhost name to resolve). */
const endpoint = () => `http://127.0.0.1:${moto!.port}`;

(ready ? describe : describe.skip)('log-sync.sh with the AWS CLI, against moto', () => {
  beforeAll(async () => {
    const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-moto-')), 'moto.log');
    moto = await startMoto({ logFile, python: 'python3' });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint(),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }, 60_000);

  afterAll(async () => {
    sb?.cleanup();
    await moto?.stop();
    process.env = saved;
  });

  const keys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key!).sort();
  const body = async (key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();

  test("THEN the keys are <prefix>/<day>/<instance-id>/<file>, undated/ and xspot-cdk/; the CLI reads the staged links' targets; nothing outside LOG_PATH", async () => {
    const s = new Sandbox();
    sb = s;
    // One controller's X-Spot logs: the cost fixtures' controller A (two files of 2024-03-01).
    for (const f of fs.readdirSync(path.join(LOGS, 'i-0a11a11a11a11a11a'))) {
      s.write(`/var/log/xspot/${f}`, fs.readFileSync(path.join(LOGS, 'i-0a11a11a11a11a11a', f), 'utf8'));
    }
    s.write('/var/log/xspot/archive/xspot.log.9', '2024-02-27T08:00:00Z INFO heartbeat\n');
    s.write('/var/log/xspot/notes.txt', 'no timestamps here\n');
    s.write('/etc/secret', '2024-03-01T00:00:00Z root only\n');
    fs.symlinkSync('archive/xspot.log.9', s.path('/var/log/xspot/latest'));
    fs.symlinkSync(s.path('/etc/secret'), s.path('/var/log/xspot/secret.log'));
    const env = {
      PATH: `${s.pathWithReal('aws')}:${AWS_DIR}`,
      AWS_ENDPOINT_URL: endpoint(),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_CONFIG_FILE: path.join(s.dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(s.dir, 'no-aws-credentials'),
    };
    const r = s.run('scripts/log-sync.sh', [], env);
    expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
    expect(await keys()).toEqual([
      `xspot/2024-02-27/${IID}/archive/xspot.log.9`,
      `xspot/2024-03-01/${IID}/xspot.log.1`,
      `xspot/2024-03-01/${IID}/xspot.log.2`,
      `xspot/undated/${IID}/notes.txt`,
      `xspot/xspot-cdk/${IID}/log-sync.log`,
    ]);
    expect(r.output).toMatch(/skipping \/var\/log\/xspot\/secret\.log: a symlink to \S+, not a file under/);
    expect(await body(`xspot/2024-03-01/${IID}/xspot.log.2`)).toBe(
      fs.readFileSync(path.join(LOGS, 'i-0a11a11a11a11a11a', 'xspot.log.2'), 'utf8'),
    );

    // Synced again after the file grew: the same key, the new content; nothing else changes.
    fs.appendFileSync(s.path('/var/log/xspot/archive/xspot.log.9'), '2024-02-27T09:00:00Z INFO more\n');
    expect(s.run('scripts/log-sync.sh', [], env).status).toBe(0);
    expect((await keys()).filter((k) => !k.includes('/xspot-cdk/'))).toHaveLength(4);
    expect(await body(`xspot/2024-02-27/${IID}/archive/xspot.log.9`)).toContain('INFO more');
  }, 120_000);

  test('THEN cost -l s3://<bucket>/xspot reads the day layout as one controller, the instance', async () => {
    const { report } = await runCost(
      {
        logs: `s3://${BUCKET}/xspot`,
        start: '2024-03-01',
        end: '2024-03-01',
        pricing: PRICING_DIR,
        output: 'json',
        outDir: fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-cost-out-')),
      },
      { out: () => {}, err: () => {}, now: () => Date.parse('2024-03-20T00:00:00Z') },
    );
    expect(report.controllers.map((c) => c.id)).toEqual([IID]);
    // Controller A's hand-worked figures (test/fixtures/cost/README.md): 2.304 + 0.3024 + 0.504 + 0.27.
    expect(report.summary.realCost).toBeCloseTo(3.3804, 6);
  }, 60_000);
});
