/**
 * Scanning one local log file into the events it records: what a scan worker thread runs, and
 * what the main thread runs when there are no threads. Light imports only (a worker loads this).
 */
import { type LogEvent, parseMarkedLine } from './log-format';
import { type Anchor, MarkerScanner } from './scanner';
import { READ_BUFFER_BYTES, readFileChunks } from './sources';

/** Where a scan puts what it reads, line by line, in the order of the scan. */
export interface ScanSink {
  event(ev: LogEvent): void;
  warning(line: string): void;
}

/** A file's events and warnings, held: what a worker thread hands back. */
export interface FileScan {
  readonly events: LogEvent[];
  readonly warnings: string[];
  readonly overlong: number;
}

let shared: Buffer | undefined;

/**
 * Streams `path` through the marker scanner into `sink`; returns the number of lines skipped as
 * too long. Nothing of the file is held here: on the main thread the sink is the collector, so
 * each event is folded into its worker's or container's state as it is read.
 */
export function scanLocalFileInto(path: string, anchors: readonly Anchor[], sink: ScanSink): number {
  const scanner = new MarkerScanner((line, marker) => {
    const r = parseMarkedLine(marker, line);
    if ('event' in r) sink.event(r.event);
    else sink.warning(r.warning);
  }, anchors);
  shared ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
  readFileChunks(path, shared, (chunk) => scanner.push(chunk));
  scanner.end();
  return scanner.stats.overlong;
}

/** The file's events and warnings, held (for a worker thread to post back). */
export function scanLocalFile(path: string, anchors: readonly Anchor[]): FileScan {
  const events: LogEvent[] = [];
  const warnings: string[] = [];
  const overlong = scanLocalFileInto(path, anchors, {
    event: (ev) => events.push(ev),
    warning: (w) => warnings.push(w),
  });
  return { events, warnings, overlong };
}
