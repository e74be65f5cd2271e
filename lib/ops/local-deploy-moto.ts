/**
 * The local AWS emulator for `xspot-cdk local deploy`: moto in server mode
 * (`python3 -m moto.server -H 127.0.0.1 -p PORT`), listening on the loopback interface only, with
 * its log in a file. `startMoto` returns once the server answers; `stop()` ends it (SIGTERM, then
 * SIGKILL after a few seconds) and is safe to call more than once.
 *
 * Clients use `http://localhost:PORT`, not 127.0.0.1: moto derives S3 URLs from the host name, and
 * CloudFormation template URLs on 127.0.0.1 are misread as a bucket name. No CDK imports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { UserError } from '../errors';

/** The account moto answers for unless MOTO_ACCOUNT_ID says otherwise. */
export const MOTO_DEFAULT_ACCOUNT = '123456789012';

export interface MotoOptions {
  /** Port on 127.0.0.1. @default - a free port chosen by the operating system */
  readonly port?: number;
  /** File that receives moto's stdout and stderr (its request log and tracebacks). */
  readonly logFile: string;
  /** The account moto creates resources in. @default 123456789012 */
  readonly account?: string;
  /** How long to wait for the server to answer. @default 60 seconds */
  readonly startTimeoutMs?: number;
  /** The Python interpreter. @default python3 (or $XSPOT_PYTHON) */
  readonly python?: string;
}

export interface MotoServer {
  /** `http://localhost:PORT`: the endpoint for AWS clients. */
  readonly endpoint: string;
  readonly port: number;
  readonly account: string;
  readonly logFile: string;
  /** The process id of the server (for the operator's notes; stop with `stop()`). */
  readonly pid: number | undefined;
  /** POST /moto-api/reset: every resource is gone. */
  reset(): Promise<void>;
  /** Ends the server; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
  /** Whether the server process is still running. */
  running(): boolean;
}

/** A free TCP port on 127.0.0.1. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(true));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
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

/** The last `lines` lines of a file ('' when it does not exist). */
export function tailFile(file: string, lines = 40): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * The most useful lines of moto's log after a failure: the exception lines of its tracebacks
 * (moto answers 500 and logs a traceback for what it cannot do), then the last lines.
 */
export function motoLogExcerpt(file: string, lines = 25): string {
  const text = (() => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  })();
  const all = text.trimEnd().split('\n');
  const errors = [
    ...new Set(all.filter((l) => /^[A-Za-z_][\w.]*(Error|Exception)\b.*:/.test(l) || /^KeyError/.test(l))),
  ];
  const out: string[] = [];
  if (errors.length > 0) out.push('exceptions raised in the emulator:', ...errors.slice(-8).map((l) => `  ${l}`));
  out.push(`last lines of ${file}:`, ...all.slice(-lines));
  return out.join('\n');
}

/** The pip command that installs moto's server for `python`. */
export const MOTO_INSTALL = (python: string) => `${python} -m pip install 'moto[server]'`;

/**
 * Why moto did not start, from its log: the last error line (e.g. "No module named 'moto'"), and the
 * install command when the module is missing; the log's path otherwise.
 */
export function motoStartHint(python: string, logFile: string): string {
  const lines = tailFile(logFile).split('\n');
  const cause = [...lines]
    .reverse()
    .find((l) => /(Error|Exception)\b|No module named/.test(l))
    ?.trim();
  const missing = lines.some((l) => /No module named '?moto/.test(l));
  const said = cause ? `; its log says: ${cause.slice(0, 300)}` : '';
  if (missing) return `${said}; moto is not installed for ${python}; install it with: ${MOTO_INSTALL(python)}`;
  return `${said} (log: ${logFile})`;
}

/** Starts moto on 127.0.0.1 and waits until it answers. */
export async function startMoto(opts: MotoOptions): Promise<MotoServer> {
  const python = opts.python ?? (process.env.XSPOT_PYTHON || 'python3');
  const account = opts.account ?? MOTO_DEFAULT_ACCOUNT;
  let port: number;
  if (opts.port !== undefined) {
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
      throw new UserError(`--port must be a TCP port number (1-65535), got '${opts.port}'`);
    }
    if (await portInUse(opts.port))
      throw new UserError(`--port ${opts.port}: 127.0.0.1:${opts.port} is already in use`);
    port = opts.port;
  } else {
    port = await freeLoopbackPort();
  }

  const logFd = fs.openSync(opts.logFile, 'a');
  // detached: the server gets its own process group, so a Ctrl-C in the terminal reaches only this
  // process, which then stops the server itself (after printing what it needs from the log).
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_ACCOUNT_ID: account, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  fs.closeSync(logFd);
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(timer);
    })();
    return stopping;
  };

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  while (!(await answers(`${base}/moto-api/`))) {
    const dead = spawnError !== undefined || child.exitCode !== null;
    if (dead || Date.now() > deadline) {
      await stop();
      const why = spawnError
        ? `${python}: ${spawnError.message}`
        : dead
          ? `it exited with status ${child.exitCode}`
          : `it did not answer within ${Math.round((opts.startTimeoutMs ?? 60_000) / 1000)}s`;
      throw new UserError(`the local AWS emulator (moto) did not start: ${why}${motoStartHint(python, opts.logFile)}`);
    }
    await sleep(250);
  }

  return {
    endpoint: `http://localhost:${port}`,
    port,
    account,
    logFile: opts.logFile,
    pid: child.pid,
    stop,
    running: () => child.exitCode === null && child.signalCode === null,
    async reset() {
      const res = await fetch(`${base}/moto-api/reset`, { method: 'POST' });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    },
  };
}
