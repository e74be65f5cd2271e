/**
 * `check-config --live` output and exit codes: in-process through runLiveCheck, and through the
 * compiled CLI (`npm test` builds dist/ first) with AWS_ENDPOINT_URL pointing at moto.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { runLiveCheck } from '../../lib/cli/live-check';
import { ROOT, runCli } from '../support/cli';
import { fakeAwsEnv, MOTO_ACCOUNT, type MotoServer, startMoto } from './moto-server';
import { AMI, buildWorld, type Clients, IMAGES, setupClients, type World, worldConfigInput } from './world';

let moto: MotoServer | undefined;
let restoreEnv: (() => void) | undefined;
let clients: Clients | undefined;
let world: World;
let dir: string;

beforeAll(async () => {
  restoreEnv = fakeAwsEnv();
  moto = await startMoto(IMAGES);
  clients = setupClients(moto.endpoint);
  world = await buildWorld(clients);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-live-cli-'));
}, 60_000);

afterAll(async () => {
  if (clients) for (const c of Object.values(clients)) c.destroy();
  await moto?.stop();
  restoreEnv?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, patch: Record<string, unknown> = {}): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, stringify(worldConfigInput(world, patch)));
  return file;
}

async function runInProcess(configPath: string, extra: { region?: string; endpoint?: string } = {}) {
  const lines: string[] = [];
  const code = await runLiveCheck({ configPath, endpoint: moto!.endpoint, ...extra }, (l) => lines.push(l));
  return { code, lines };
}

const SUMMARY = /^live checks: (\d+) run, (\d+) passed, (\d+) warnings?, (\d+) errors?$/;

describe('runLiveCheck', () => {
  test('a matching config: a header, no findings, a summary with every check passed, exit 0', async () => {
    const { code, lines } = await runInProcess(writeConfig('good.yaml'));
    expect(code).toBe(0);
    expect(lines[0]).toBe(`live checks in us-east-1 as arn:aws:sts::${MOTO_ACCOUNT}:user/moto:`);
    expect(lines).toHaveLength(2);
    const m = SUMMARY.exec(lines[1]);
    expect(m).not.toBeNull();
    const [, run, passed, warnings, errors] = m!.map(Number);
    expect(run).toBeGreaterThan(15);
    expect([passed, warnings, errors]).toEqual([run, 0, 0]);
  });

  test('every finding is printed in the offline format, then the summary; exit 1 on an error', async () => {
    const file = writeConfig('bad.yaml', {
      controllers: { keyPairName: 'nope', amiId: AMI.controller },
      workers: { ami: AMI.workerUntagged },
    });
    const { code, lines } = await runInProcess(file);
    expect(code).toBe(1);
    expect(lines).toContain(
      'error [key-pair-not-found] controllers.keyPairName = "nope": no such EC2 key pair in us-east-1 (allowed: the name of a key pair in the deployment region, or leave it unset and use Session Manager)',
    );
    expect(
      lines.some((l) => l.startsWith(`warning [worker-ami-untagged] workers.ami = "${AMI.workerUntagged}": `)),
    ).toBe(true);
    const m = SUMMARY.exec(lines[lines.length - 1]);
    expect(m?.slice(3)).toEqual(['1', '1']);
  });

  test('warnings alone exit 0', async () => {
    const { code, lines } = await runInProcess(writeConfig('warn.yaml', { workers: { ami: AMI.workerUntagged } }));
    expect(code).toBe(0);
    expect(lines[lines.length - 1]).toMatch(/, 1 warning, 0 errors$/);
  });

  test('--region overrides deployment.region', async () => {
    const { code, lines } = await runInProcess(writeConfig('region.yaml'), { region: 'ap-east-1' });
    expect(code).toBe(1);
    expect(lines).toContain(
      'error [region-not-enabled] deployment.region = "ap-east-1": is not enabled for this account (OptInStatus not-opted-in) (allowed: an enabled region, or enable this one (AWS console: Account > AWS Regions))',
    );
  });

  test('no credentials: exactly one line, exit 1', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const { code, lines } = await runInProcess(writeConfig('nocreds.yaml'));
      expect(code).toBe(1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: check-config --live: no AWS credentials found \(.*--profile/);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  test('a config that does not parse: one line, exit 1, no AWS call', async () => {
    const file = path.join(dir, 'broken.yaml');
    fs.writeFileSync(file, 'controllers:\n  instanceType: 42\n');
    const { code, lines } = await runInProcess(file);
    expect(code).toBe(1);
    expect(lines).toEqual([`live checks: not run, ${file} does not match the schema (fix the errors above first)`]);
  });
});

/** Sources of the live check newer than their compiled files in dist/ (`npm test` builds first). */
function staleBuild(): string[] {
  const dirs = ['lib/ops', 'lib/cli'];
  return dirs.flatMap((d) =>
    fs
      .readdirSync(path.join(ROOT, d))
      .filter((f) => /^live-check.*\.ts$/.test(f))
      .map((f) => path.join(d, f))
      .filter((f) => {
        const js = path.join(ROOT, 'dist', f.replace(/\.ts$/, '.js'));
        return !fs.existsSync(js) || fs.statSync(js).mtimeMs < fs.statSync(path.join(ROOT, f)).mtimeMs;
      }),
  );
}

describe('xspot-cdk check-config --live (compiled CLI)', () => {
  const env = () => ({ AWS_ENDPOINT_URL: moto!.endpoint });

  beforeAll(() => {
    const stale = staleBuild();
    if (stale.length > 0) throw new Error(`dist/ is older than ${stale.join(', ')}: run npm run build first`);
  });

  test('offline findings, then the live summary; exit 0', () => {
    const r = runCli(['check-config', '--live', '--config', writeConfig('cli-good.yaml')], { env: env() });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/cli-good\.yaml: 0 errors, 0 warnings/);
    expect(lines[lines.length - 1]).toMatch(SUMMARY);
    expect(lines[lines.length - 1]).toMatch(/, 0 warnings, 0 errors$/);
  });

  test('a live error: exit 1', () => {
    const file = writeConfig('cli-bad.yaml', {
      network: { existingVpc: undefined, newVpc: { maxAzs: 2 } },
      controllers: { keyPairName: 'nope', amiId: AMI.controller },
    });
    const r = runCli(['check-config', '--live', '-c', file, '--region', 'us-east-1'], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error [key-pair-not-found] controllers.keyPairName = "nope"');
    expect(r.stdout).toMatch(/live checks: \d+ run, \d+ passed, 0 warnings, 1 error\n/);
  });

  test('no credentials: one line for the live part, exit 1', () => {
    const file = writeConfig('cli-nocreds.yaml');
    const r = runCli(['check-config', '--live', '-c', file], {
      env: { ...env(), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
    });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2); // the offline summary, then the one live line
    expect(lines[1]).toMatch(/^error: check-config --live: no AWS credentials found/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
