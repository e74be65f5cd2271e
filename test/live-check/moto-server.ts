/**
 * moto in server mode on 127.0.0.1 for the live-check tests: a free port, a private image set
 * (MOTO_AMIS_PATH), fake credentials, `reset()` between scenarios and `stop()` in afterAll.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type MotoServer as LocalMotoServer,
  MOTO_DEFAULT_ACCOUNT,
  startMoto as startLocalMoto,
} from '../../lib/ops/local-deploy-moto';

export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  /** POST /moto-api/reset: every resource is gone, the images are loaded again. */
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
}

/** An image moto loads at start-up (MOTO_AMIS_PATH); keys are moto's. */
export interface MotoImage {
  readonly ami_id: string;
  readonly name: string;
  readonly description?: string;
  readonly owner_id: string;
  readonly architecture: 'x86_64' | 'arm64';
  readonly state?: string;
  readonly tags?: Record<string, string>;
}

/** The account moto answers for. */
export const MOTO_ACCOUNT = MOTO_DEFAULT_ACCOUNT;

/**
 * Starts moto with the product's starter (lib/ops/local-deploy-moto.ts), which passes this
 * process's environment on to the server: MOTO_AMIS_PATH is set only while it starts.
 */
export async function startMoto(images: readonly MotoImage[], timeoutMs = 30_000): Promise<MotoServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-moto-'));
  const amis = path.join(dir, 'amis.json');
  fs.writeFileSync(amis, JSON.stringify(images));
  const logFile = path.join(dir, 'moto.log');
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  const savedAmis = process.env.MOTO_AMIS_PATH;
  process.env.MOTO_AMIS_PATH = amis;
  let server: LocalMotoServer;
  try {
    server = await startLocalMoto({ logFile, account: MOTO_ACCOUNT, startTimeoutMs: timeoutMs, python: 'python3' });
  } catch (e) {
    const text = log();
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `moto server did not start (${e instanceof Error ? e.message : String(e)}); it is a test dependency: python3 -m moto.server (moto with its server extras)\n${text.slice(-2000)}`,
    );
  } finally {
    if (savedAmis === undefined) delete process.env.MOTO_AMIS_PATH;
    else process.env.MOTO_AMIS_PATH = savedAmis;
  }
  return {
    endpoint: server.endpoint,
    port: server.port,
    log,
    reset: () => server.reset(),
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fake credentials for the SDK (and nothing from the developer's own AWS config); returns a restore function. */
export function fakeAwsEnv(): () => void {
  const keys = [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_ENDPOINT_URL',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_CONFIG_FILE',
    'AWS_EC2_METADATA_DISABLED',
  ];
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  for (const k of keys) delete process.env[k];
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(os.tmpdir(), 'xspot-no-aws-credentials');
  process.env.AWS_CONFIG_FILE = path.join(os.tmpdir(), 'xspot-no-aws-config');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  return () => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
}
