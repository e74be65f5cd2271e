/**
 * `xspot-cdk check-config --live`: runs the live checks of lib/ops/live-check.ts against the
 * target account and prints every finding, then `live checks: N run, P passed, W warnings, E errors`.
 * Exit code 1 on any error. No (or expired) credentials: one line, exit 1.
 */
import { formatFinding } from '../config/findings';
import { checkConfigFile } from '../config/load';
import { ALLOW } from '../config/patterns';
import {
  createLiveClients,
  destroyLiveClients,
  formatLiveSummary,
  LiveCheckAborted,
  runLiveChecks,
  summarizeLiveChecks,
} from '../ops/live-check';
import { UserError } from './errors';

export interface LiveCheckCliOptions {
  /** Config file (default: $XSPOT_CONFIG, then the embedded default). */
  readonly configPath?: string;
  /** Region to check (default: deployment.region). */
  readonly region?: string;
  /** AWS profile. */
  readonly profile?: string;
  /** One endpoint for every AWS service (a local emulator); AWS_ENDPOINT_URL works too. */
  readonly endpoint?: string;
}

export async function runLiveCheck(opts: LiveCheckCliOptions, out: (line: string) => void): Promise<number> {
  if (opts.region !== undefined && !ALLOW.region.pattern.test(opts.region)) {
    throw new UserError(`--region ${JSON.stringify(opts.region)}: must be ${ALLOW.region.allowed}`);
  }
  const check = checkConfigFile(opts.configPath);
  if (!check.config) {
    out(`live checks: not run, ${check.path} does not match the schema (fix the errors above first)`);
    return 1;
  }
  const region = opts.region ?? check.config.deployment.region;
  const clients = createLiveClients({
    region,
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  });
  try {
    const report = await runLiveChecks(check.config, clients, { region });
    out(`live checks in ${region}${report.identity ? ` as ${report.identity.arn}` : ''}:`);
    for (const f of report.findings) out(formatFinding(f));
    const summary = summarizeLiveChecks(report);
    out(formatLiveSummary(summary));
    return summary.errors > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof LiveCheckAborted) {
      out(`error: ${e.message}${opts.profile ? ` [profile ${opts.profile}]` : ''}`);
      return 1;
    }
    throw e;
  } finally {
    destroyLiveClients(clients);
  }
}
