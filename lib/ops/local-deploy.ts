/**
 * `xspot-cdk local deploy`: the whole app deployed with the real CDK CLI to a local AWS emulator
 * (moto in server mode on 127.0.0.1), read back through the AWS SDK, and the emulator stopped
 * again — on success, on failure and on Ctrl-C.
 *
 *   1. start moto on a free loopback port (its log in <work>/moto.log);
 *   2. `cdk bootstrap aws://ACCOUNT/REGION`;
 *   3. for each config (the first, then the optional --then-config): `cdk synth` of the unchanged
 *      app, an emulator copy of the assembly (local-deploy-rewrite.ts: what was dropped or edited
 *      is printed), `cdk deploy --app <copy> --all --require-approval never --method=direct`
 *      with every template parameter passed explicitly, then a summary read back from the emulator;
 *      after the second config, what the update changed in place;
 *   4. with --keep, the emulator stays up until Ctrl-C.
 *
 * The pieces (openLocalSession, bootstrapLocal, deployConfigLocally, readLocalSummary) are what the
 * end-to-end test drives. No CDK imports: the CDK CLI is a child process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { packageRoot } from '../config/load';
import { UserError } from '../errors';
import { describeAwsError } from './aws-errors';
import type { Output } from './fleet';
import { duration, tail } from './fleet-format';
import { CdkRunError, type LocalAwsTarget, localAwsEnv, RunAborted, runCdk } from './local-deploy-cdk';
import { MOTO_DEFAULT_ACCOUNT, type MotoServer, motoLogExcerpt, startMoto } from './local-deploy-moto';
import { type RewriteReport, rewriteAssembly } from './local-deploy-rewrite';
import {
  createLocalClients,
  describeChanges,
  destroyLocalClients,
  EMULATOR_LIMITS,
  type LocalClients,
  type LocalSummary,
  readLocalSummary,
  renderDropped,
  renderLocalSummary,
} from './local-deploy-summary';

export { RunAborted } from './local-deploy-cdk';

/** The deployment a config describes, as far as the local deploy needs it. */
export interface LocalDeployment {
  /** Absolute path of the config file. */
  readonly configPath: string;
  readonly name: string;
  readonly region: string;
  /** deployment.account, when the config pins one. */
  readonly account?: string;
}

export interface LocalSession {
  readonly moto: MotoServer;
  readonly target: LocalAwsTarget;
  /** Environment for the CDK CLI (endpoint, fake credentials). */
  readonly env: NodeJS.ProcessEnv;
  readonly workDir: string;
  readonly clients: LocalClients;
  /** Stops the emulator and closes the clients. Idempotent. */
  close(): Promise<void>;
}

export interface StepContext {
  readonly io: Output;
  readonly signal?: AbortSignal;
  /** Print every line of the CDK CLI, not only the stack events. */
  readonly verbose?: boolean;
}

/** The compiled CDK app that `cdk synth` runs. */
export function defaultAppEntry(): string {
  const entry = path.join(packageRoot(), 'dist', 'bin', 'xspot-cdk.js');
  if (!fs.existsSync(entry)) {
    throw new UserError(
      `the CDK app is not built (${path.relative(process.cwd(), entry) || entry} is missing): run 'npm run build'`,
    );
  }
  return entry;
}

/** Starts the emulator and creates the SDK clients for it. */
export async function openLocalSession(opts: {
  readonly region: string;
  readonly account?: string;
  readonly port?: number;
  readonly workDir: string;
}): Promise<LocalSession> {
  fs.mkdirSync(opts.workDir, { recursive: true });
  const moto = await startMoto({
    port: opts.port,
    account: opts.account ?? MOTO_DEFAULT_ACCOUNT,
    logFile: path.join(opts.workDir, 'moto.log'),
  });
  const target: LocalAwsTarget = { endpoint: moto.endpoint, region: opts.region, account: moto.account };
  const clients = createLocalClients(target);
  let closed = false;
  return {
    moto,
    target,
    env: localAwsEnv(target, opts.workDir),
    workDir: opts.workDir,
    clients,
    async close() {
      if (!closed) {
        closed = true;
        destroyLocalClients(clients);
      }
      await moto.stop();
    },
  };
}

/** Lines of CDK CLI output worth showing without --verbose: stack events, results, failures. */
export function isCdkHeadline(line: string): boolean {
  return (
    /^\s*(✅|❌|‣)/.test(line) ||
    /\|\s*\d+(\/\d+)?\s*\|.*\b(CREATE|UPDATE|DELETE|ROLLBACK|IMPORT)_[A-Z_]+\b/.test(line) ||
    /\bno changes\b/i.test(line)
  );
}

function cdkLines(ctx: StepContext): (line: string) => void {
  return (line) => {
    if (ctx.verbose ? line.trim() !== '' : isCdkHeadline(line)) ctx.io.err(`    ${line.trim()}`);
  };
}

/** `cdk bootstrap aws://ACCOUNT/REGION` against the emulator. */
export async function bootstrapLocal(session: LocalSession, ctx: StepContext): Promise<void> {
  const { account, region } = session.target;
  await runCdk(['bootstrap', `aws://${account}/${region}`, '--no-notices'], {
    cwd: session.workDir,
    env: session.env,
    logFile: path.join(session.workDir, 'cdk-bootstrap.log'),
    onLine: cdkLines(ctx),
    signal: ctx.signal,
  });
}

/** `--parameters STACK:NAME=VALUE` for every template parameter with a default. */
export function parameterArgs(report: Pick<RewriteReport, 'parameterDefaults'>): string[] {
  const args: string[] = [];
  for (const [stack, params] of Object.entries(report.parameterDefaults)) {
    for (const [name, value] of Object.entries(params)) args.push('--parameters', `${stack}:${name}=${value}`);
  }
  return args;
}

export interface DeployRound {
  readonly label: string;
  readonly dir: string;
  readonly rewrite: RewriteReport;
  /** Stack outputs as `cdk deploy --outputs-file` wrote them. */
  readonly outputs: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly synthMs: number;
  readonly deployMs: number;
}

/**
 * Synthesizes the app for one config with the CDK CLI, writes the emulator copy of the assembly and
 * deploys every stack of it with `cdk deploy --all --method=direct`.
 */
export async function deployConfigLocally(
  session: LocalSession,
  deployment: LocalDeployment,
  label: string,
  ctx: StepContext & { readonly appEntry?: string },
): Promise<DeployRound> {
  const dir = path.join(session.workDir, label);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const assembly = path.join(dir, 'cdk.out');
  const emulatorCopy = path.join(dir, 'emulator.out');
  const run = (args: string[], log: string) =>
    runCdk(args, {
      cwd: dir,
      env: session.env,
      logFile: path.join(dir, log),
      onLine: cdkLines(ctx),
      signal: ctx.signal,
    });

  const t0 = Date.now();
  ctx.io.err(`  cdk synth -c config=${deployment.configPath}`);
  await run(
    [
      'synth',
      '--app',
      ctx.appEntry ?? defaultAppEntry(),
      '--output',
      assembly,
      '--context',
      `config=${deployment.configPath}`,
      '--quiet',
      '--no-notices',
    ],
    'synth.log',
  );
  const rewrite = rewriteAssembly(assembly, emulatorCopy);
  const synthMs = Date.now() - t0;

  const t1 = Date.now();
  const outputsFile = path.join(dir, 'outputs.json');
  ctx.io.err(`  cdk deploy --all --require-approval never --method=direct (${rewrite.stacks.join(', ')})`);
  await run(
    [
      'deploy',
      '--app',
      emulatorCopy,
      '--all',
      '--require-approval',
      'never',
      '--method=direct',
      '--progress',
      'events',
      '--outputs-file',
      outputsFile,
      '--no-notices',
      ...parameterArgs(rewrite),
    ],
    'deploy.log',
  );
  const outputs = fs.existsSync(outputsFile) ? JSON.parse(fs.readFileSync(outputsFile, 'utf8')) : {};
  return { label, dir, rewrite, outputs, synthMs, deployMs: Date.now() - t1 };
}

/** The bootstrap bucket, from the CDKToolkit stack's BucketName output. */
export async function assetBucketName(session: LocalSession): Promise<string | undefined> {
  const s = await session.clients.cfn.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }));
  return s.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'BucketName')?.OutputValue;
}

export async function readSessionSummary(session: LocalSession, stacks: readonly string[]): Promise<LocalSummary> {
  return readLocalSummary(session.clients, stacks, { assetBucket: await assetBucketName(session) });
}

export interface LocalDeployOptions {
  readonly deployment: LocalDeployment;
  /** A second config deployed over the first in the same emulator: an update in place. */
  readonly update?: LocalDeployment;
  /** Port on 127.0.0.1. @default - a free port */
  readonly port?: number;
  /** Keep the emulator running after the summary until Ctrl-C. */
  readonly keep?: boolean;
  /** Where the assemblies and logs go; kept afterwards. @default - a temporary directory, removed on success */
  readonly workDir?: string;
  readonly verbose?: boolean;
  /** The compiled CDK app. @default dist/bin/xspot-cdk.js of this package */
  readonly appEntry?: string;
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new RunAborted();
}

function printEmulatorNotes(io: Output, rewrite: RewriteReport): void {
  io.out('');
  for (const l of renderDropped(rewrite.dropped)) io.out(l);
  if (rewrite.edits.length > 0) {
    io.out(`template edits for the emulator (${rewrite.edits.length}; the stacks themselves are unchanged):`);
    for (const e of rewrite.edits) io.out(`  ${e.stack} ${e.target}: ${e.what}`);
  }
  io.out('what the emulator cannot show:');
  for (const l of EMULATOR_LIMITS) io.out(`  - ${l}`);
}

/** The whole `local deploy` run; the emulator is stopped before this returns or throws. */
export async function runLocalDeploy(opts: LocalDeployOptions, ctx: StepContext): Promise<void> {
  const { io, signal } = ctx;
  const started = Date.now();
  const appEntry = opts.appEntry ?? defaultAppEntry();
  const workDir = opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-local-'));
  const account = opts.deployment.account ?? MOTO_DEFAULT_ACCOUNT;
  const timings: string[] = [];
  let session: LocalSession | undefined;
  let ok = false;
  try {
    let t = Date.now();
    io.err(`[1] starting the local AWS emulator (moto, 127.0.0.1 only; work dir ${workDir})`);
    session = await openLocalSession({ region: opts.deployment.region, account, port: opts.port, workDir });
    io.err(`  moto answers on ${session.moto.endpoint} (pid ${session.moto.pid}, log ${session.moto.logFile})`);
    timings.push(`emulator ${duration(Date.now() - t)}`);
    checkAborted(signal);

    t = Date.now();
    io.err(`[2] cdk bootstrap aws://${account}/${opts.deployment.region}`);
    await bootstrapLocal(session, ctx);
    timings.push(`bootstrap ${duration(Date.now() - t)}`);

    io.err(`[3] deploying ${opts.deployment.configPath}`);
    const first = await deployConfigLocally(session, opts.deployment, 'deploy-1', { ...ctx, appEntry });
    timings.push(`synth ${duration(first.synthMs)}`, `deploy ${duration(first.deployMs)}`);
    checkAborted(signal);
    const summary = await readSessionSummary(session, first.rewrite.stacks);
    io.out(`deployed to the local emulator (${session.moto.endpoint}):`);
    for (const l of renderLocalSummary(summary)) io.out(l);
    printEmulatorNotes(io, first.rewrite);

    if (opts.update) {
      checkAborted(signal);
      io.err(`[4] updating in place with ${opts.update.configPath}`);
      const second = await deployConfigLocally(session, opts.update, 'deploy-2', { ...ctx, appEntry });
      timings.push(`update synth ${duration(second.synthMs)}`, `update deploy ${duration(second.deployMs)}`);
      const after = await readSessionSummary(session, second.rewrite.stacks);
      io.out('');
      io.out(`updated in place with ${opts.update.configPath}:`);
      for (const l of describeChanges(summary, after)) io.out(`  ${l}`);
    }
    io.err(`done in ${duration(Date.now() - started)} (${timings.join(', ')})`);

    if (opts.keep) {
      const { endpoint, region } = session.target;
      io.err('');
      io.err('the emulator keeps running until Ctrl-C; in another shell:');
      io.err(
        `  export AWS_ENDPOINT_URL=${endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=${region}`,
      );
      io.err('  aws cloudformation describe-stacks; xspot-cdk fleet status');
      await new Promise<void>((resolve) => {
        if (!signal || signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      io.err('stopping the emulator');
    }
    ok = true;
  } catch (err) {
    if (err instanceof RunAborted || signal?.aborted) {
      throw new UserError(`interrupted; the local emulator was stopped (logs in ${workDir})`, 130);
    }
    if (session) {
      io.err('');
      if (err instanceof CdkRunError) {
        io.err(`last lines of the CDK CLI (${err.log}):`);
        for (const l of tail(err.lastLines.join('\n'), 15)) io.err(l);
      }
      for (const l of motoLogExcerpt(session.moto.logFile).split('\n')) io.err(l);
    }
    if (err instanceof CdkRunError) throw new UserError(`local deploy: ${err.message} (logs in ${workDir})`);
    if (err instanceof UserError) throw err;
    throw new UserError(
      `${describeAwsError(err, { action: 'local deploy: reading back the deployment from the emulator' })} (logs in ${workDir})`,
    );
  } finally {
    await session?.close();
    if (ok && !opts.workDir) fs.rmSync(workDir, { recursive: true, force: true });
  }
}
