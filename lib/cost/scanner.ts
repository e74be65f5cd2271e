/**
 * Finds the marker lines of a log stream without splitting it into lines.
 *
 * A log is mostly chatter; the cost tool needs the few lines that carry a marker (log-format.ts).
 * Instead of decoding every line and testing it against every marker, each chunk is searched for
 * each marker with `Buffer.indexOf`, and only the lines around a hit are decoded. Memory is one
 * chunk plus one partial line, however large the log.
 *
 * Why anchors: `Buffer.indexOf` first runs memchr() on the needle's first byte and only falls
 * back to Boyer-Moore-Horspool when that byte is frequent. A marker starting with a byte found on
 * every line (`T` of `Terminating` is also the `T` of every ISO timestamp) is therefore slow to
 * find, while `ContainerStateChange` costs next to nothing. So each marker is searched by an
 * anchor: its tail starting at the byte that is rarest in a sample of the logs (`chooseAnchors`),
 * and a hit is confirmed by comparing the rest of the marker in place.
 */
import { MARKERS, MAX_LINE_BYTES } from './log-format';

const NL = 10;
const MARKER_BYTES: readonly Buffer[] = MARKERS.map((m) => Buffer.from(m, 'latin1'));
/** Anchors are at least this long (or the whole marker), so a hit is rarely a false one. */
const MIN_ANCHOR = 8;

/** Where a marker is searched from: `needle` is `marker[offset..]`. */
export interface Anchor {
  readonly needle: Buffer;
  readonly offset: number;
}

/** Whole markers: right when nothing is known about the logs. */
export const DEFAULT_ANCHORS: readonly Anchor[] = MARKER_BYTES.map((m) => ({ needle: m, offset: 0 }));

/**
 * For each marker, the anchor that starts at the marker byte rarest in `sample` (ties: the
 * earliest, for the longest anchor). An empty sample gives the whole markers.
 */
export function chooseAnchors(sample: Buffer): Anchor[] {
  if (sample.length === 0) return [...DEFAULT_ANCHORS];
  const freq = new Uint32Array(256);
  for (let i = 0; i < sample.length; i++) freq[sample[i]]++;
  return MARKER_BYTES.map((m) => {
    let best = 0;
    for (let p = 1; p <= m.length - MIN_ANCHOR; p++) if (freq[m[p]] < freq[m[best]]) best = p;
    return { needle: m.subarray(best), offset: best };
  });
}

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

  constructor(
    private readonly onLine: MarkedLineHandler,
    private readonly anchors: readonly Anchor[] = DEFAULT_ANCHORS,
  ) {}

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
    for (let k = 0; k < this.anchors.length; k++) {
      const { needle, offset } = this.anchors[k];
      const marker = MARKER_BYTES[k];
      let at = buf.indexOf(needle, from + offset);
      while (at >= 0 && at < to) {
        const start = at - offset;
        if (!hasPrefix(buf, start, marker, offset)) {
          at = buf.indexOf(needle, at + 1);
          continue;
        }
        const lineStart = Math.max(from, buf.lastIndexOf(NL, start) + 1);
        let lineEnd = buf.indexOf(NL, at);
        if (lineEnd < 0 || lineEnd > to) lineEnd = to;
        if (!this.hasEarlierMarker(buf, lineStart, lineEnd, k)) {
          let stop = lineEnd;
          if (stop > lineStart && buf[stop - 1] === 13 /* \r */) stop--;
          if (stop - lineStart > MAX_LINE_BYTES) this.stats.overlong++;
          else this.onLine(buf.toString('utf8', lineStart, stop), k);
        }
        at = buf.indexOf(needle, lineEnd + 1 + offset);
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

/** buf[start, start + n) equals marker[0, n) (the part of the marker before its anchor). */
function hasPrefix(buf: Buffer, start: number, marker: Buffer, n: number): boolean {
  if (start < 0) return false;
  for (let i = 0; i < n; i++) if (buf[start + i] !== marker[i]) return false;
  return true;
}
