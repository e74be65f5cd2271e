/**
 * Scanning one local log file into the events it records: what a scan worker thread runs, and
 * what the main thread runs when there are no threads. Light imports only (a worker loads this).
 */
import { type LogEvent, parseMarkedLine } from './log-format';
import { type Anchor, MarkerScanner } from './scanner';
import { READ_BUFFER_BYTES, readFileChunks } from './sources';

export interface FileScan {
  readonly events: LogEvent[];
  readonly warnings: string[];
  readonly overlong: number;
}

let shared: Buffer | undefined;

export function scanLocalFile(path: string, anchors: readonly Anchor[]): FileScan {
  const events: LogEvent[] = [];
  const warnings: string[] = [];
  const scanner = new MarkerScanner((line, marker) => {
    const r = parseMarkedLine(marker, line);
    if ('event' in r) events.push(r.event);
    else warnings.push(r.warning);
  }, anchors);
  shared ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
  readFileChunks(path, shared, (chunk) => scanner.push(chunk));
  scanner.end();
  return { events, warnings, overlong: scanner.stats.overlong };
}
