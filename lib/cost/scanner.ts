/**
 * Finds the marker lines of a log stream without splitting it into lines.
 *
 * A log is mostly chatter; the cost tool needs the few lines that carry a marker (log-format.ts).
 * Instead of decoding every line and testing it against every marker, each chunk is searched for
 * each marker's bytes with `Buffer.indexOf` (a native Boyer-Moore-Horspool search that skips ahead
 * by up to the marker's length), and only the lines around a hit are decoded. Memory is one
 * chunk plus one partial line, however large the log.
 */
import { MARKERS, MAX_LINE_BYTES } from './log-format';

const NL = 10;
const MARKER_BYTES: readonly Buffer[] = MARKERS.map((m) => Buffer.from(m, 'latin1'));

export interface ScanStats {
  /** Bytes pushed through the scanner. */
  bytes: number;
  /** Lines longer than MAX_LINE_BYTES (skipped). */
  overlong: number;
}

/** Receives each line (without its newline) that holds a marker, and the marker's index in MARKERS. */
export type MarkedLineHandler = (line: string, marker: number) => void;

export class MarkerScanner {
  readonly stats: ScanStats = { bytes: 0, overlong: 0 };
  /** The unfinished last line of the previous chunk (a copy: callers may reuse their buffers). */
  private carry: Buffer | undefined;
  private carryDropped = false;

  constructor(private readonly onLine: MarkedLineHandler) {}

  /** Feeds the next chunk. The chunk may be reused by the caller once this returns. */
  push(chunk: Buffer): void {
    this.stats.bytes += chunk.length;
    let from = 0;
    if (this.carry !== undefined || this.carryDropped) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.extendCarry(chunk);
        return;
      }
      if (this.carry !== undefined) {
        const line = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
        this.scanRegion(line, 0, line.length);
      }
      this.carry = undefined;
      this.carryDropped = false;
      from = nl + 1;
    }
    const lastNl = chunk.lastIndexOf(NL);
    if (lastNl < from) {
      this.extendCarry(chunk.subarray(from));
      return;
    }
    this.scanRegion(chunk, from, lastNl);
    if (lastNl + 1 < chunk.length) this.extendCarry(chunk.subarray(lastNl + 1));
  }

  /** Flushes the last line when the stream does not end with a newline. */
  end(): void {
    if (this.carry !== undefined) this.scanRegion(this.carry, 0, this.carry.length);
    this.carry = undefined;
    this.carryDropped = false;
  }

  private extendCarry(part: Buffer): void {
    if (this.carryDropped) return;
    const size = (this.carry?.length ?? 0) + part.length;
    if (size > MAX_LINE_BYTES) {
      this.stats.overlong++;
      this.carry = undefined;
      this.carryDropped = true;
      return;
    }
    this.carry = this.carry === undefined ? Buffer.from(part) : Buffer.concat([this.carry, part]);
  }

  /** Finds marker lines among the complete lines in buf[from, to); `to` is a newline or the end. */
  private scanRegion(buf: Buffer, from: number, to: number): void {
    for (let k = 0; k < MARKER_BYTES.length; k++) {
      const marker = MARKER_BYTES[k];
      let at = buf.indexOf(marker, from);
      while (at >= 0 && at < to) {
        const start = Math.max(from, buf.lastIndexOf(NL, at) + 1);
        let end = buf.indexOf(NL, at);
        if (end < 0 || end > to) end = to;
        if (!this.hasEarlierMarker(buf, start, end, k)) {
          let stop = end;
          if (stop > start && buf[stop - 1] === 13 /* \r */) stop--;
          if (stop - start > MAX_LINE_BYTES) this.stats.overlong++;
          else this.onLine(buf.toString('utf8', start, stop), k);
        }
        at = buf.indexOf(marker, end + 1);
      }
    }
  }

  /** A line with two markers belongs to the first one in MARKERS order (and is reported once). */
  private hasEarlierMarker(buf: Buffer, start: number, end: number, k: number): boolean {
    if (k === 0) return false;
    const line = buf.subarray(start, end);
    for (let j = 0; j < k; j++) {
      if (line.indexOf(MARKER_BYTES[j]) >= 0) return true;
    }
    return false;
  }
}
