/**
 * Live progress of an instance refresh: a cli-progress bar on a terminal, one plain line per
 * change otherwise (CI logs, pipes). Both take the same updates from fleet-upgrade.ts.
 */
import { Presets, SingleBar } from 'cli-progress';
import { clockTime } from './fleet-format';

export interface ProgressView {
  readonly status: string;
  /** 0-100; during a rollback, the rollback's own percentage. */
  readonly percentage: number;
  /** Controllers replaced so far, out of `total` (undefined until AWS reports it). */
  readonly replaced?: number;
  readonly total?: number;
  readonly reason?: string;
}

export interface RefreshProgress {
  update(view: ProgressView): void;
  /** Stop drawing so that lines or a prompt can be printed; the next update resumes. */
  pause(): void;
  stop(): void;
}

function counts(v: ProgressView): string {
  return v.total !== undefined ? `${v.replaced ?? 0}/${v.total} replaced` : 'counting instances';
}

/** One line per change: `[14:05 UTC] InProgress 50% (1/2 replaced): reason`. */
export function lineProgress(write: (line: string) => void, now: () => Date): RefreshProgress {
  let last = '';
  return {
    update(v) {
      const text = `${v.status} ${v.percentage}% (${counts(v)})${v.reason ? `: ${v.reason}` : ''}`;
      if (text === last) return;
      last = text;
      write(`[${clockTime(now())}] ${text}`);
    },
    pause() {},
    stop() {},
  };
}

function short(text: string | undefined, max: number): string {
  if (!text) return '';
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

/** A progress bar on `stream` (a TTY): percentage, controllers replaced, status and reason. */
export function barProgress(stream: NodeJS.WritableStream): RefreshProgress {
  const bar = new SingleBar(
    {
      format: ' {bar} {percentage}% | {counts} | {status} {reason}',
      stream: stream as NodeJS.WritableStream & { isTTY?: boolean },
      hideCursor: true,
      barsize: 30,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 1,
    },
    Presets.shades_classic,
  );
  let running = false;
  return {
    update(v) {
      const payload = { counts: counts(v), status: v.status, reason: short(v.reason, 70) };
      if (!running) {
        bar.start(100, v.percentage, payload);
        running = true;
      } else {
        bar.update(v.percentage, payload);
      }
    },
    pause() {
      if (running) bar.stop();
      running = false;
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
