/**
 * Runs the real AWS CDK CLI (the `aws-cdk` package this project depends on, the same binary as
 * `npx cdk`) against the local emulator: `cdk synth`, `cdk bootstrap`, `cdk deploy`.
 *
 * Each run writes its whole output to a log file and hands every line to `onLine`. A run can be
 * stopped through an AbortSignal: the CLI and whatever it started get SIGTERM (SIGKILL after a few
 * seconds). The child environment points every AWS SDK at the emulator with fake credentials and
 * ignores the operator's own AWS profiles, so nothing here can reach a real account. No CDK imports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LocalAwsTarget {
  /** `http://localhost:PORT` */
  readonly endpoint: string;
  readonly region: string;
  readonly account: string;
}

/** Credentials the emulator accepts; they are not secrets and reach nothing else. */
export const FAKE_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/** Environment variables of the parent that must not reach a child aimed at the emulator. */
const DROPPED_ENV = /^(AWS_|CDK_DEFAULT_|CDK_DEPLOY_)/;

/**
 * The environment for a child process aimed at the emulator: the endpoint, fake credentials, the
 * region, no shared config/credentials files, no instance metadata, a private CDK home, no
 * telemetry or version check, and no proxy for localhost.
 */
export function localAwsEnv(target: LocalAwsTarget, workDir: string, base: NodeJS.ProcessEnv = process.env) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!DROPPED_ENV.test(k)) env[k] = v;
  const noProxy = [base.NO_PROXY ?? base.no_proxy, 'localhost', '127.0.0.1'].filter(Boolean).join(',');
  return {
    ...env,
    AWS_ENDPOINT_URL: target.endpoint,
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_REGION: target.region,
    AWS_DEFAULT_REGION: target.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: path.join(workDir, 'no-aws-credentials'),
    AWS_CONFIG_FILE: path.join(workDir, 'no-aws-config'),
    // its own CDK home: the CLI caches the account of an access key there, and the emulator's
    // account depends on the config; nothing leaks into the operator's ~/.cdk either
    CDK_HOME: path.join(workDir, 'cdk-home'),
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    NODE_NO_WARNINGS: '1',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };
}

/** The CDK CLI entry point of the installed `aws-cdk` package. */
export function cdkCliEntry(): string {
  const pkg = require.resolve('aws-cdk/package.json');
  const bin = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { bin: Record<string, string> }).bin.cdk;
  return path.join(path.dirname(pkg), bin);
}

export interface CdkRunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Receives the whole output of the run. */
  readonly logFile: string;
  /** Called with each output line (stdout and stderr). */
  readonly onLine?: (line: string) => void;
  readonly signal?: AbortSignal;
  /** Stop the run after this long. @default 20 minutes */
  readonly timeoutMs?: number;
}

/** A CDK CLI run that failed: the message is one line; `log` is where the whole output is. */
export class CdkRunError extends Error {
  constructor(
    message: string,
    readonly log: string,
    readonly lastLines: readonly string[],
  ) {
    super(message);
    this.name = 'CdkRunError';
  }
}

/** The run was stopped by the AbortSignal (Ctrl-C). */
export class RunAborted extends Error {
  constructor() {
    super('stopped');
    this.name = 'RunAborted';
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** The first line that says why the CDK CLI failed, for the one-line error. */
export function cdkFailureLine(lines: readonly string[]): string | undefined {
  const marks = [/^\s*‣\s*(.+)$/, /^\s*❌\s*(.+)$/, /^(?:Error|ValidationError|ToolkitError)\b:?\s*(.+)$/];
  for (const re of marks) {
    for (const l of lines) {
      const m = re.exec(l);
      if (m) return m[1].trim();
    }
  }
  return undefined;
}

/** Runs `cdk <args>`; resolves on exit 0, rejects with CdkRunError or RunAborted. */
export function runCdk(args: readonly string[], opts: CdkRunOptions): Promise<void> {
  if (opts.signal?.aborted) return Promise.reject(new RunAborted());
  const log = fs.openSync(opts.logFile, 'a');
  fs.writeSync(log, `$ cdk ${args.join(' ')}\n`);
  const lines: string[] = [];
  // detached: its own process group, so Ctrl-C reaches this process first and it stops the CLI
  // together with anything the CLI started (the CDK app during synth).
  const child = spawn(process.execPath, [cdkCliEntry(), ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const feed = (stream: NodeJS.ReadableStream) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      fs.writeSync(log, chunk);
      pending += chunk;
      const parts = pending.split(/\r?\n/);
      pending = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        if (lines.length > 400) lines.shift();
        opts.onLine?.(l);
      }
    });
    stream.on('end', () => {
      if (pending) {
        lines.push(pending);
        opts.onLine?.(pending);
      }
    });
  };
  if (child.stdout) feed(child.stdout);
  if (child.stderr) feed(child.stderr);

  return new Promise<void>((resolve, reject) => {
    let aborted = false;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      killGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () => {
        timedOut = true;
        stop();
      },
      opts.timeoutMs ?? 20 * 60_000,
    );
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      fs.closeSync(log);
      if (err) reject(err);
      else resolve();
    };
    child.on('error', (e) => finish(new CdkRunError(`could not run the CDK CLI: ${e.message}`, opts.logFile, lines)));
    child.on('close', (code, sig) => {
      if (aborted) return finish(new RunAborted());
      if (code === 0) return finish();
      const what = `cdk ${args[0]}`;
      if (timedOut) return finish(new CdkRunError(`${what} did not finish in time`, opts.logFile, lines.slice(-30)));
      const why = cdkFailureLine(lines) ?? (sig ? `stopped by ${sig}` : `exit status ${code}`);
      finish(new CdkRunError(`${what} failed: ${why}`, opts.logFile, lines.slice(-30)));
    });
  });
}
