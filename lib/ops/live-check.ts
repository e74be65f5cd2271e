/**
 * `check-config --live`: checks the parsed config against the target AWS account before anything
 * is deployed. Read-only SDK calls only; no CDK imports. Every check reports `Finding`s in the
 * same shape as the offline validators; a check whose calls are refused, throttled past the SDK's
 * retries or time out becomes a `live-check-not-run` warning naming the call, never a crash.
 *
 * Order: the region and the caller's identity first (no point asking a disabled region anything;
 * no credentials ends the run with one line), then every other check at once, sharing calls.
 */
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { FSxClient } from '@aws-sdk/client-fsx';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Finding } from '../config/findings';
import type { XspotConfig } from '../config/resolve';
import { classifyAwsError, describeAwsError } from './aws-errors';
import {
  aws,
  CallFailed,
  type LiveCheckDef,
  type LiveClients,
  type LiveContext,
  liveError,
} from './live-check-context';
import { IMAGE_CHECKS } from './live-check-images';
import { INSTANCE_CHECKS } from './live-check-instances';
import { NETWORK_CHECKS } from './live-check-network';
import { RESOURCE_CHECKS } from './live-check-resources';

export type { LiveCheckDef, LiveClients } from './live-check-context';
export { WORKER_AMI_VERSION_TAGS } from './live-check-images';

/** Every check after the region/identity preflight, in report order. */
export const LIVE_CHECKS: readonly LiveCheckDef[] = [
  ...INSTANCE_CHECKS,
  ...IMAGE_CHECKS,
  ...NETWORK_CHECKS,
  ...RESOURCE_CHECKS,
];

/** The id of the warning a check that could not run reports. */
export const NOT_RUN_ID = 'live-check-not-run';

export interface LiveClientOptions {
  readonly region: string;
  /** Named profile from the shared config/credentials files. */
  readonly profile?: string;
  /** One endpoint for every service (a local AWS emulator in tests); AWS_ENDPOINT_URL works too. */
  readonly endpoint?: string;
  /** Per-request timeout (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Attempts per call, retries included (default 3, the SDK's standard retry mode). */
  readonly maxAttempts?: number;
}

/** The partition's home region: asked whether a region is enabled when the region itself refuses. */
export function homeRegion(region: string): string {
  return region.startsWith('cn-') ? 'cn-north-1' : 'us-east-1';
}

export function createLiveClients(o: LiveClientOptions): LiveClients {
  const base = (region: string) => ({
    region,
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    maxAttempts: o.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: 3000, requestTimeout: o.requestTimeoutMs ?? 10_000 },
  });
  return {
    ec2: new EC2Client(base(o.region)),
    ec2Home: new EC2Client(base(homeRegion(o.region))),
    sts: new STSClient(base(o.region)),
    ssm: new SSMClient(base(o.region)),
    efs: new EFSClient(base(o.region)),
    fsx: new FSxClient(base(o.region)),
    iam: new IAMClient(base(o.region)),
  };
}

export function destroyLiveClients(c: LiveClients): void {
  for (const client of Object.values(c)) client.destroy();
}

export type CheckStatus = 'passed' | 'warning' | 'error' | 'skipped';

export interface CheckOutcome {
  readonly name: string;
  /** skipped: its data came from a call another check already reported as refused; not counted as run. */
  readonly status: CheckStatus;
  readonly findings: readonly Finding[];
}

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
}

export interface LiveCheckReport {
  readonly region: string;
  readonly identity?: CallerIdentity;
  readonly outcomes: readonly CheckOutcome[];
  /** Every finding, in check order. */
  readonly findings: readonly Finding[];
}

export interface LiveCheckSummary {
  readonly run: number;
  readonly passed: number;
  readonly warnings: number;
  readonly errors: number;
  readonly acknowledged: number;
}

/** Thrown when nothing can be checked (no or expired credentials, no endpoint); the message is one line. */
export class LiveCheckAborted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LiveCheckAborted';
  }
}

export interface RunLiveChecksOptions {
  /** Region to check; default deployment.region. */
  readonly region?: string;
  /** Longest a single check may take before it becomes a warning (default 60 s). */
  readonly checkTimeoutMs?: number;
}

type RegionState = { state: 'enabled' } | { state: 'not-enabled'; optIn: string } | { state: 'unknown' };

async function regionState(client: EC2Client, region: string): Promise<RegionState> {
  const res = await aws('ec2:DescribeRegions', () => client.send(new DescribeRegionsCommand({ AllRegions: true })));
  const r = res.Regions?.find((x) => x.RegionName === region);
  if (!r) return { state: 'unknown' };
  const optIn = r.OptInStatus ?? 'opt-in-not-required';
  return optIn === 'opted-in' || optIn === 'opt-in-not-required'
    ? { state: 'enabled' }
    : { state: 'not-enabled', optIn };
}

/** Asks the region itself; when it refuses (a disabled region does), asks the partition's home region. */
async function checkRegion(clients: LiveClients, region: string): Promise<RegionState> {
  try {
    return await regionState(clients.ec2, region);
  } catch (first) {
    let home: RegionState;
    try {
      home = await regionState(clients.ec2Home, region);
    } catch {
      throw first;
    }
    if (home.state === 'enabled') throw first;
    return home;
  }
}

function notRunFinding(def: Pick<LiveCheckDef, 'title' | 'path'>, config: XspotConfig, err: unknown, region: string) {
  const permission = err instanceof CallFailed ? err.permission : undefined;
  const cause = err instanceof CallFailed ? err.cause : err;
  const kind = classifyAwsError(cause);
  const action = permission && kind !== 'access-denied' ? `${def.title} (${permission})` : def.title;
  const f: Finding = {
    id: NOT_RUN_ID,
    severity: 'warning',
    path: def.path(config),
    message: `check not run: ${describeAwsError(cause, { action, region, ...(permission ? { permission } : {}) })}`,
    ...(permission && kind === 'access-denied'
      ? { allowed: `a caller allowed ${permission} (docs/live-check.md has a read-only policy)` }
      : {}),
  };
  return f;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new Error(`no answer within ${Math.round(ms / 1000)} s`);
      e.name = 'TimeoutError';
      reject(e);
    }, ms);
    timer.unref();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

function statusOf(findings: readonly Finding[]): CheckStatus {
  const open = findings.filter((f) => !f.acknowledged);
  if (open.some((f) => f.severity === 'error')) return 'error';
  return open.length > 0 ? 'warning' : 'passed';
}

/** Marks live warnings acknowledged in the config (by id); errors cannot be acknowledged. */
function acknowledge(findings: readonly Finding[], config: XspotConfig): Finding[] {
  return findings.map((f) => {
    const ack = config.acknowledgedWarnings.find((a) => a.id === f.id);
    return ack && f.severity === 'warning' ? { ...f, acknowledged: ack.reason } : f;
  });
}

function outcome(name: string, findings: Finding[], config: XspotConfig): CheckOutcome {
  const acked = acknowledge(findings, config);
  return { name, status: statusOf(acked), findings: acked };
}

/** Runs every live check that applies to the config. Throws LiveCheckAborted when nothing can be checked. */
export async function runLiveChecks(
  config: XspotConfig,
  clients: LiveClients,
  opts: RunLiveChecksOptions = {},
): Promise<LiveCheckReport> {
  const region = opts.region ?? config.deployment.region;
  const timeoutMs = opts.checkTimeoutMs ?? 60_000;
  const outcomes: CheckOutcome[] = [];

  // 1. region and identity, together
  const [regionRes, idRes] = await Promise.allSettled([
    withDeadline(checkRegion(clients, region), timeoutMs),
    withDeadline(
      aws('sts:GetCallerIdentity', () => clients.sts.send(new GetCallerIdentityCommand({}))),
      timeoutMs,
    ),
  ]);
  const regionDef = { title: 'checking that the region is enabled', path: () => 'deployment.region' };
  if (regionRes.status === 'fulfilled' && regionRes.value.state !== 'enabled') {
    const r = regionRes.value;
    const f =
      r.state === 'not-enabled'
        ? liveError(
            'region-not-enabled',
            'deployment.region',
            region,
            `is not enabled for this account (OptInStatus ${r.optIn})`,
            'an enabled region, or enable this one (AWS console: Account > AWS Regions)',
          )
        : liveError(
            'region-unknown',
            'deployment.region',
            region,
            'is not an EC2 region this account can see',
            'a region listed by `aws ec2 describe-regions --all-regions`',
          );
    outcomes.push(outcome('region', [f], config));
    return { region, outcomes, findings: outcomes.flatMap((o) => o.findings) };
  }
  if (idRes.status === 'rejected') {
    const cause = idRes.reason instanceof CallFailed ? idRes.reason.cause : idRes.reason;
    const kind = classifyAwsError(cause);
    if (kind === 'credentials' || kind === 'expired' || kind === 'network') {
      throw new LiveCheckAborted(describeAwsError(cause, { action: 'check-config --live', region }));
    }
  }
  outcomes.push(
    outcome(
      'region',
      regionRes.status === 'rejected' ? [notRunFinding(regionDef, config, regionRes.reason, region)] : [],
      config,
    ),
  );
  let identity: CallerIdentity | undefined;
  const accountDef = { title: 'reading the caller identity', path: () => 'deployment.account' };
  if (idRes.status === 'fulfilled') {
    identity = { account: String(idRes.value.Account), arn: String(idRes.value.Arn) };
    const want = config.deployment.account;
    outcomes.push(
      outcome(
        'account',
        want && want !== identity.account
          ? [
              liveError(
                'account-mismatch',
                'deployment.account',
                want,
                `the credentials are for account ${identity.account} (${identity.arn})`,
                `credentials for account ${want}, or deployment.account: '${identity.account}'`,
              ),
            ]
          : [],
        config,
      ),
    );
  } else {
    outcomes.push(outcome('account', [notRunFinding(accountDef, config, idRes.reason, region)], config));
  }

  // 2. everything else, at once; calls shared through memo
  const cache = new Map<string, Promise<unknown>>();
  const ctx: LiveContext = {
    config,
    region,
    clients,
    account: identity?.account,
    memo<T>(key: string, fn: () => Promise<T>): Promise<T> {
      let p = cache.get(key) as Promise<T> | undefined;
      if (!p) {
        p = fn();
        p.catch(() => undefined); // reported by whichever check awaits it
        cache.set(key, p);
      }
      return p;
    },
  };
  const defs = LIVE_CHECKS.filter((d) => d.applies?.(config) ?? true);
  const settled = await Promise.allSettled(defs.map((d) => withDeadline(d.run(ctx), timeoutMs)));
  const reported = new Set<unknown>();
  settled.forEach((s, i) => {
    const def = defs[i];
    if (s.status === 'fulfilled') {
      outcomes.push(outcome(def.name, s.value, config));
    } else if (s.reason instanceof CallFailed && reported.has(s.reason)) {
      outcomes.push({ name: def.name, status: 'skipped', findings: [] });
    } else {
      reported.add(s.reason);
      outcomes.push(outcome(def.name, [notRunFinding(def, config, s.reason, region)], config));
    }
  });
  return { region, ...(identity ? { identity } : {}), outcomes, findings: outcomes.flatMap((o) => o.findings) };
}

export function summarizeLiveChecks(report: LiveCheckReport): LiveCheckSummary {
  const ran = report.outcomes.filter((o) => o.status !== 'skipped');
  const open = report.findings.filter((f) => !f.acknowledged);
  return {
    run: ran.length,
    passed: ran.filter((o) => o.status === 'passed').length,
    warnings: open.filter((f) => f.severity === 'warning').length,
    errors: open.filter((f) => f.severity === 'error').length,
    acknowledged: report.findings.filter((f) => f.acknowledged).length,
  };
}

/** `live checks: N run, P passed, W warnings, E errors` (W and E count findings). */
export function formatLiveSummary(s: LiveCheckSummary): string {
  const ack = s.acknowledged ? `, ${s.acknowledged} acknowledged` : '';
  return `live checks: ${s.run} run, ${s.passed} passed, ${s.warnings} warning${s.warnings === 1 ? '' : 's'}, ${s.errors} error${s.errors === 1 ? '' : 's'}${ack}`;
}
