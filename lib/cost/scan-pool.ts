/**
 * Scans local log files on worker threads, one file per task, so a multi-file log set uses every
 * core. Only available from the compiled JavaScript (a worker cannot load the TypeScript sources);
 * `scanFiles` falls back to the calling thread otherwise, or when one thread is asked for.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { UserError } from '../errors';
import { type FileScan, type ScanSink, scanLocalFileInto } from './scan-file';
import type { Anchor } from './scanner';

const WORKER_FILE = join(__dirname, 'scan-worker.js');
/** More threads than this rarely helps: reading from the page cache becomes the limit. */
export const MAX_THREADS = 8;

/**
 * Threads to use by default: one per core that is not already busy (cores minus the 1-minute
 * load average), at least 1, at most MAX_THREADS; and 1 on a machine with two cores or fewer. A
 * worker thread's events come back as copies that the calling thread replays, and the report
 * built from them runs slower than from events it parsed itself; on two cores, where the calling
 * thread and V8's garbage collector already need the second core, that costs more than the
 * parallel scan gains: on the dense benchmark set (bench/cost-bench.mjs, 2 idle CPUs) `--threads 2`
 * took 1.02 s and `--threads 1` 0.85 s. On a loaded or shared machine extra threads only add
 * contention.
 */
export function defaultThreads(cores = availableParallelism(), load = loadavg()[0]): number {
  if (cores <= 2) return 1;
  return Math.max(1, Math.min(MAX_THREADS, cores - Math.floor(load)));
}

export function threadsAvailable(): boolean {
  return __filename.endsWith('.js') && existsSync(WORKER_FILE);
}

/**
 * Scans `paths` with up to `threads` threads. For each file, in the order of `paths` (not of
 * completion, so results do not depend on timing): `sinkFor(index)` gives where its events and
 * warnings go, they are delivered in the order they were read, then `done(index, overlong)`. On
 * the calling thread the file streams straight into the sink; from a worker thread its events
 * arrive held, and are replayed into the sink.
 */
export async function scanFiles(
  paths: readonly string[],
  anchors: readonly Anchor[],
  threads: number,
  sinkFor: (index: number) => ScanSink,
  done: (index: number, overlong: number) => void,
): Promise<void> {
  const n = Math.min(threads, paths.length);
  if (n <= 1 || !threadsAvailable()) {
    paths.forEach((p, i) => {
      let overlong: number;
      try {
        overlong = scanLocalFileInto(p, anchors, sinkFor(i));
      } catch (err) {
        throw new UserError(`reading ${p}: ${(err as Error).message}`);
      }
      done(i, overlong);
    });
    return;
  }
  const results = new Map<number, FileScan>();
  let delivered = 0;
  const deliver = () => {
    while (results.has(delivered)) {
      const r = results.get(delivered)!;
      results.delete(delivered);
      const sink = sinkFor(delivered);
      for (const ev of r.events) sink.event(ev);
      for (const w of r.warnings) sink.warning(w);
      done(delivered++, r.overlong);
    }
  };
  const workerData = { anchors: anchors.map((a) => ({ needle: new Uint8Array(a.needle), offset: a.offset })) };
  // Loaded here: a one-thread scan (the default on two cores) does not pay for the module.
  const { Worker: WorkerThread } = require('node:worker_threads') as typeof import('node:worker_threads');
  const workers: Worker[] = Array.from({ length: n }, () => new WorkerThread(WORKER_FILE, { workerData }));
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= paths.length) return resolve();
              const id = next++;
              w.postMessage({ id, path: paths[id] });
            };
            w.on('message', (msg: { id: number; result?: FileScan; error?: string }) => {
              if (msg.error !== undefined) return reject(new UserError(`reading ${paths[msg.id]}: ${msg.error}`));
              results.set(msg.id, msg.result!);
              deliver();
              send();
            });
            w.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
