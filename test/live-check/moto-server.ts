/**
 * moto in server mode on 127.0.0.1 for the live-check tests: a free port, a private image set
 * (MOTO_AMIS_PATH), fake credentials, `reset()` between scenarios and `stop()` in afterAll.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

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
export const MOTO_ACCOUNT = '123456789012';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export async function startMoto(images: readonly MotoImage[], timeoutMs = 30_000): Promise<MotoServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-moto-'));
  const amis = path.join(dir, 'amis.json');
  fs.writeFileSync(amis, JSON.stringify(images));
  const logFile = path.join(dir, 'moto.log');
  const logFd = fs.openSync(logFile, 'w');
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_AMIS_PATH: amis },
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited(child).then(() => true), sleep(5000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(`${base}/moto-api/`))) {
    if (spawnError || child.exitCode !== null || Date.now() > deadline) {
      const why = spawnError ? spawnError.message : child.exitCode !== null ? `exited ${child.exitCode}` : 'timed out';
      const text = log();
      await stop();
      throw new Error(
        `moto server did not start (${why}); it is a test dependency: python3 -m moto.server (moto with its server extras)\n${text.slice(-2000)}`,
      );
    }
    await sleep(200);
  }
  return {
    endpoint: `http://localhost:${port}`,
    port,
    log,
    stop,
    async reset() {
      const res = await fetch(`${base}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
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
