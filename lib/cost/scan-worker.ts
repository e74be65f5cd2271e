/**
 * Worker thread body for parallel scanning (scan-pool.ts): receives `{ id, path }`, answers
 * `{ id, result }` or `{ id, error }`. The anchors come once, in workerData.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { scanLocalFile } from './scan-file';
import type { Anchor } from './scanner';

const anchors: Anchor[] = (workerData as { anchors: { needle: Uint8Array; offset: number }[] }).anchors.map((a) => ({
  needle: Buffer.from(a.needle),
  offset: a.offset,
}));

parentPort?.on('message', (msg: { id: number; path: string }) => {
  try {
    parentPort?.postMessage({ id: msg.id, result: scanLocalFile(msg.path, anchors) });
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
