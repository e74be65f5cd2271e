/**
 * The roll-time budget of docs/operations.md, checked: `xspot-cdk fleet upgrade --wait` run through
 * the CLI over a whole roll, on a discrete-event clock (no real waiting, no double-counted sleeps),
 * with AWS played by the written model of instance refresh (refresh-model.ts, from the AWS
 * documentation). The preferences are the stack's own (`refreshPreferences` with the config
 * defaults), so the warmup, pace and checkpoints are what a deployment gets.
 *
 * The budget: N > 1 controllers roll in 2 x (boot + drain) + validation; one controller in
 * boot + drain. No other term: no warmup, no checkpoint delay, no fixed wait in the command.
 */
import { Command, CommanderError } from 'commander';
import { type FleetCliDeps, registerFleetCommands } from '../../lib/cli/fleet';
import { refreshPreferences } from '../../lib/constructs/controller-fleet-refresh';
import { reportError } from '../../lib/errors';
import { lineProgress } from '../../lib/ops/fleet-progress';
import { eventClock, harness, modelled, stackOutputs } from './harness';
import { RefreshModel } from './refresh-model';

const MIN = 60_000;
const POLL_SECONDS = 15;

interface Roll {
  readonly controllers: number;
  readonly bootMs: number;
  readonly drainMs: number;
  /** The operator's validation at the checkpoint; undefined: `--yes`. */
  readonly validationMs?: number;
}

/** The formula of docs/operations.md. */
function budget(r: Roll): number {
  const phase = r.bootMs + r.drainMs;
  return r.controllers > 1 ? 2 * phase + (r.validationMs ?? 0) : phase;
}

async function roll(r: Roll) {
  const ec = eventClock();
  const h = harness();
  const prefs = refreshPreferences(r.controllers, {}, ['xspot-controllers-bootstrap-failures']);
  stackOutputs(h, { RefreshPreferences: JSON.stringify(prefs) });
  const model = new RefreshModel({
    now: ec.nowMs,
    groupVersion: 7,
    controllers: r.controllers,
    controllerVersion: 6,
    bootMs: r.bootMs,
    drainMs: r.drainMs,
  });
  modelled(h, model);
  // Every AWS call, with the simulated time it was made.
  const calls: { at: number; command: string }[] = [];
  for (const client of Object.values(h.ctx.clients)) {
    const send = client.send.bind(client) as (command: object) => Promise<unknown>;
    (client as { send: unknown }).send = (command: object) => {
      calls.push({ at: ec.nowMs(), command: command.constructor.name });
      return send(command);
    };
  }
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  const asked: number[] = [];
  const ask = async (_question: string, signal: AbortSignal) => {
    asked.push(ec.nowMs());
    await ec.clock.sleep(r.validationMs ?? 0);
    return signal.aborted ? undefined : 'y';
  };
  const deps: FleetCliDeps = {
    clients: () => h.ctx.clients,
    clock: ec.clock,
    io,
    interactive: r.validationMs !== undefined,
    ask,
    progress: () => lineProgress(io.err, ec.clock.now),
    loadConfig: () => ({ config: { deployment: { name: 'xspot', region: 'us-east-1' } } as never }),
  };
  const program = new Command('xspot-cdk').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerFleetCommands(program, deps);
  const argv = ['fleet', 'upgrade', '--wait', '--poll-seconds', String(POLL_SECONDS)];
  if (r.validationMs === undefined) argv.push('--yes');
  const t0 = ec.nowMs();
  process.exitCode = undefined;
  let code: number;
  try {
    await ec.run(program.parseAsync(argv, { from: 'user' }));
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    code = err instanceof CommanderError ? err.exitCode : reportError(err, (l) => lines.push(l));
  } finally {
    process.exitCode = undefined;
  }
  return { code, elapsed: ec.nowMs() - t0, calls, lines, model, asked, t0, sleeps: ec.sleeps };
}

/** The most AWS calls made in any window of one simulated minute. */
function peakPerMinute(calls: readonly { at: number }[]): number {
  let peak = 0;
  for (const c of calls) peak = Math.max(peak, calls.filter((d) => d.at >= c.at && d.at < c.at + MIN).length);
  return peak;
}

describe('roll-time budget: fleet upgrade --wait over a whole roll', () => {
  test('4 controllers, --yes: total = 2 x (boot + drain) exactly; at most 4 progress polls a minute', async () => {
    const r = { controllers: 4, bootMs: 22 * MIN, drainMs: 3 * MIN };

    const res = await roll(r);

    expect(res.code).toBe(0);
    expect(res.elapsed).toBe(budget(r));
    expect(res.elapsed).toBe(50 * MIN);
    expect(res.model.instances.map((i) => i.version)).toEqual([7, 7, 7, 7]);
    expect(res.model.groupVersion).toBe(7);
    // The canary alone first (checkpoint at one controller's share), then the other three at once.
    expect(res.calls.filter((c) => c.command === 'StartInstanceRefreshCommand')).toHaveLength(2);
    expect(res.calls.filter((c) => c.command === 'CancelInstanceRefreshCommand').map((c) => c.at - res.t0)).toEqual([
      25 * MIN,
    ]);
    // Polling: never two progress polls closer than the poll interval, and a bounded rate.
    const polls = res.calls.filter((c) => c.command === 'DescribeInstanceRefreshesCommand').map((c) => c.at);
    const gaps = polls.slice(1).map((t, i) => t - polls[i]);
    expect(gaps.filter((g) => g > 0 && g < POLL_SECONDS * 1000)).toEqual([]);
    expect(polls.length).toBeLessThanOrEqual(res.elapsed / (POLL_SECONDS * 1000) + 4);
    // Start (stack, refreshes, group, template, instances, rewind, start) plus four polls.
    expect(peakPerMinute(res.calls)).toBeLessThanOrEqual(12);
    // No sleep longer than a poll: nothing in the command waits a fixed time.
    expect(Math.max(...res.sleeps.map((s) => s.ms))).toBe(POLL_SECONDS * 1000);
    expect(res.lines).toContain('upgrade done in 50m: canary refresh ir-1, then ir-2');
  });

  test('4 controllers, an operator who validates for 12 minutes: total = 2 x (boot + drain) + 12m', async () => {
    const r = { controllers: 4, bootMs: 22 * MIN, drainMs: 3 * MIN, validationMs: 12 * MIN };

    const res = await roll(r);

    expect(res.code).toBe(0);
    expect(res.elapsed).toBe(budget(r));
    // Asked once, when the canary was replaced; the question did not wait for the checkpoint delay.
    expect(res.asked.map((t) => t - res.t0)).toEqual([25 * MIN]);
    // While the question is open the command still only polls at its interval.
    expect(peakPerMinute(res.calls.filter((c) => c.at > res.t0 + MIN))).toBeLessThanOrEqual(4 + 3);
  });

  test.each([
    [1, 19 * MIN + 7_000, 2 * MIN + 41_000, undefined],
    [2, 17 * MIN + 23_000, 4 * MIN + 2_000, undefined],
    [3, 25 * MIN, 61 * MIN + 9_000, 7 * MIN + 30_000],
    [4, 31 * MIN + 1_000, 9_000, undefined],
    [6, 22 * MIN, 3 * MIN, 45 * MIN],
  ])(
    '%i controllers, boot %ims, drain %ims, validation %s: within two polls of the budget, never under it',
    async (controllers, bootMs, drainMs, validationMs) => {
      const r = { controllers, bootMs, drainMs, validationMs };

      const res = await roll(r);

      expect(res.code).toBe(0);
      expect(res.model.instances.every((i) => i.version === 7)).toBe(true);
      // The command learns of the checkpoint and of the end at its next poll: at most one poll late each.
      expect(res.elapsed).toBeGreaterThanOrEqual(budget(r));
      expect(res.elapsed).toBeLessThan(budget(r) + 2 * POLL_SECONDS * 1000);
    },
  );
});
