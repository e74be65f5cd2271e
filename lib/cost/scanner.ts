/**
 * Finds the marker lines of a log stream without splitting it into lines.
 *
 * A log is mostly chatter; the cost tool needs the few lines that carry a marker (log-format.ts).
 * Instead of decoding every line and testing it against every marker, each chunk is searched for
 * each marker with `Buffer.indexOf`, and only the lines around a hit are decoded. Memory is one
 * chunk plus one partial line, however large the log.
 *
 * Why anchors: `Buffer.indexOf` first runs memchr() on the needle's first byte, and falls back to
 * Boyer-Moore-Horspool once that byte turns out to be frequent. A marker starting with a byte
 * found on every line (the `T` of `Terminating` is also the `T` of every ISO timestamp) is
 * therefore slow to find, while `ContainerStateChange` costs next to nothing. So each marker is
 * searched by an anchor, a substring of it chosen on a sample of the logs (`chooseAnchors`), and
 * a hit is confirmed by comparing the whole marker in place.
 */
import { MARKERS, MAX_LINE_BYTES } from './log-format';

const NL = 10;
const MARKER_BYTES: readonly Buffer[] = MARKERS.map((m) => Buffer.from(m, 'latin1'));
/** Anchors are at least this long (or the whole marker), so a hit is rarely a false one. */
const MIN_ANCHOR = 8;
/** Bytes searched per `indexOf` call: the chunk size the readers use. */
const CHUNK = 64 * 1024;

/** Where a marker is searched from: `needle` is `marker[offset, offset + needle.length)`. */
export interface Anchor {
  readonly needle: Buffer;
  readonly offset: number;
}

/** Whole markers: right when nothing is known about the logs. */
export const DEFAULT_ANCHORS: readonly Anchor[] = MARKER_BYTES.map((m) => ({ needle: m, offset: 0 }));

/**
 * Estimated search cost per byte of `needle` over text with byte probabilities `p`, following
 * what `Buffer.indexOf` does (node's string_search.h): memchr() on the first byte while its hits
 * stay under a "badness" budget of about 10 + 4 * length per call, then Boyer-Moore-Horspool,
 * which advances by the bad-character shift of the byte under the needle's last position.
 */
export function searchCost(needle: Buffer, p: Float64Array): number {
  const len = needle.length;
  const firstHitsPerCall = p[needle[0]] * CHUNK;
  if (firstHitsPerCall <= (10 + 4 * len) / 3) return 0.02 + p[needle[0]] * 20;
  const occurrence = new Int32Array(256).fill(-1);
  for (let i = 0; i < len - 1; i++) occurrence[needle[i]] = i;
  const last = needle[len - 1];
  let advance = 0;
  for (let c = 0; c < 256; c++) {
    if (p[c] === 0) continue;
    advance += p[c] * (c === last ? Math.max(1, len - 1 - occurrence[last]) : len - 1 - occurrence[c]);
  }
  return 1 / Math.max(advance, 1e-9);
}

/**
 * For each marker, the substring (at least MIN_ANCHOR bytes, or the whole marker) that is
 * cheapest to search for in text like `sample`. An empty sample gives the whole markers.
 */
export function chooseAnchors(sample: Buffer): Anchor[] {
  if (sample.length === 0) return [...DEFAULT_ANCHORS];
  const counts = new Float64Array(256);
  for (let i = 0; i < sample.length; i++) counts[sample[i]]++;
  const p = counts.map((c) => c / sample.length);
  return MARKER_BYTES.map((m) => {
    let best: Anchor = { needle: m, offset: 0 };
    let bestCost = searchCost(m, p);
    for (let from = 0; from < m.length; from++) {
      for (let to = m.length; to >= from + Math.min(MIN_ANCHOR, m.length); to--) {
        const needle = m.subarray(from, to);
        const cost = searchCost(needle, p);
        if (cost < bestCost - 1e-12) {
          best = { needle, offset: from };
          bestCost = cost;
        }
      }
    }
    return best;
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
        if (!matchesAt(buf, start, marker)) {
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

/** The whole marker is at buf[start]. */
function matchesAt(buf: Buffer, start: number, marker: Buffer): boolean {
  if (start < 0 || start + marker.length > buf.length) return false;
  for (let i = 0; i < marker.length; i++) if (buf[start + i] !== marker[i]) return false;
  return true;
}
