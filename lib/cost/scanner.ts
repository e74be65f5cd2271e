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
/** Shortest anchor considered; shorter needles match too often by chance. */
const MIN_ANCHOR = 4;
/** Needles shorter than this are searched by memchr + compare only (node's string_search.h). */
const BM_MIN_LENGTH = 7;
/** Bytes searched per `indexOf` call: the chunk size the local reader uses (sources.ts). */
export const SEARCH_CHUNK_BYTES = 256 * 1024;
/** Bytes of the sample in which short needles are counted. */
const COUNT_SAMPLE = 128 * 1024;

/**
 * Costs in nanoseconds, measured on the benchmark log set (bench/cost-bench.mjs): memchr per
 * byte, a first-byte hit that fails the comparison, a needle hit handed back to JavaScript, and
 * one Boyer-Moore-Horspool step.
 */
const NS_MEMCHR_BYTE = 0.03;
const NS_FIRST_BYTE_HIT = 20;
const NS_JS_HIT = 180;
const NS_BMH_STEP = 5;

/** Where a marker is searched from: `needle` is `marker[offset, offset + needle.length)`. */
export interface Anchor {
  readonly needle: Buffer;
  readonly offset: number;
}

/** Whole markers: right when nothing is known about the logs. */
export const DEFAULT_ANCHORS: readonly Anchor[] = MARKER_BYTES.map((m) => ({ needle: m, offset: 0 }));

/**
 * Estimated search cost (ns per byte) of `needle` in text with byte probabilities `p`, where the
 * needle itself occurs `q` times per byte, following what `Buffer.indexOf` does (node's
 * string_search.h): a needle under 7 bytes is found by memchr() on its first byte and a compare;
 * a longer one the same way while first-byte hits stay under a "badness" budget of about
 * 10 + 4 * length per call, then by Boyer-Moore-Horspool, which advances by the bad-character
 * shift of the byte under the needle's last position. Each needle hit costs a trip to JavaScript.
 */
export function searchCost(needle: Buffer, p: Float64Array, q = 0): number {
  const len = needle.length;
  const first = p[needle[0]];
  const hits = q * NS_JS_HIT;
  if (len < BM_MIN_LENGTH || first * SEARCH_CHUNK_BYTES <= (10 + 4 * len) / 3) {
    return NS_MEMCHR_BYTE + first * NS_FIRST_BYTE_HIT + hits;
  }
  // Expected shift: a byte absent from needle[0, len - 1) shifts by len; the others by their
  // distance from the end (the last byte by at least 1).
  const occurrence = OCCURRENCE.fill(-1);
  for (let i = 0; i < len - 1; i++) occurrence[needle[i]] = i;
  const last = needle[len - 1];
  let advance = len;
  for (let i = 0; i < len - 1; i++) {
    const c = needle[i];
    if (occurrence[c] !== i || c === last) continue;
    advance -= p[c] * (i + 1);
  }
  advance -= p[last] * (len - Math.max(1, len - 1 - occurrence[last]));
  return NS_BMH_STEP / Math.max(advance, 1e-9) + hits;
}

/** Scratch table of searchCost (the last position of each byte in the needle). */
const OCCURRENCE = new Int32Array(256);

/** Occurrences of `needle` in `haystack`, counted up to `stopAt` (enough to know it is too many). */
function occurrences(haystack: Buffer, needle: Buffer, stopAt = Number.POSITIVE_INFINITY): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0 && n < stopAt; at = haystack.indexOf(needle, at + 1)) n++;
  return n;
}

/**
 * For each marker, the substring (at least MIN_ANCHOR bytes, or the whole marker) that is
 * cheapest to search for in text like `sample` (ties: the longest, the earliest). An empty sample
 * gives the whole markers.
 */
export function chooseAnchors(sample: Buffer): Anchor[] {
  if (sample.length === 0) return [...DEFAULT_ANCHORS];
  // Integer counts: this loop runs once per command, mostly before the JIT has compiled it, where
  // each increment of a Float64Array element would allocate a boxed number.
  const counts = new Uint32Array(256);
  for (let i = 0; i < sample.length; i++) counts[sample[i]]++;
  const p = Float64Array.from(counts, (c) => c / sample.length);
  const small = sample.subarray(0, COUNT_SAMPLE);
  return MARKER_BYTES.map((m) => {
    let best: Anchor = { needle: m, offset: 0 };
    let bestCost = searchCost(m, p);
    for (let to = m.length; to >= Math.min(MIN_ANCHOR, m.length); to--) {
      for (let from = 0; from <= to - Math.min(MIN_ANCHOR, m.length); from++) {
        const needle = m.subarray(from, to);
        // Long needles are (nearly) only the marker itself; short ones are counted in the sample,
        // unless they cannot win even with no hits at all.
        let cost = searchCost(needle, p);
        if (needle.length < BM_MIN_LENGTH && cost < bestCost - 1e-9) {
          // Counting stops at the first count whose hits alone would make the needle lose.
          const stopAt = Math.floor(((bestCost - 1e-9 - cost) / NS_JS_HIT) * small.length) + 1;
          cost = searchCost(needle, p, occurrences(small, needle, stopAt) / small.length);
        }
        if (cost < bestCost - 1e-9) {
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
  /**
   * The unfinished last line of the previous chunk, copied into `carry[0, carryLen)` (callers may
   * reuse their buffers); carryLen -1 when there is none. One buffer, grown when needed, holds it
   * for the whole stream: no allocation per chunk.
   */
  private carry: Buffer = Buffer.allocUnsafe(4096);
  private carryLen = -1;
  private carryDropped = false;

  constructor(
    private readonly onLine: MarkedLineHandler,
    private readonly anchors: readonly Anchor[] = DEFAULT_ANCHORS,
  ) {}

  /** Feeds the next chunk. The chunk may be reused by the caller once this returns. */
  push(chunk: Buffer): void {
    this.stats.bytes += chunk.length;
    let from = 0;
    if (this.carryLen >= 0 || this.carryDropped) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.extendCarry(chunk, 0, chunk.length);
        return;
      }
      if (this.carryLen >= 0) {
        // The carried line, completed by the start of this chunk.
        this.reserve(this.carryLen + nl);
        chunk.copy(this.carry, this.carryLen, 0, nl);
        this.scanRegion(this.carry, 0, this.carryLen + nl);
      }
      this.carryLen = -1;
      this.carryDropped = false;
      from = nl + 1;
    }
    const lastNl = chunk.lastIndexOf(NL);
    if (lastNl < from) {
      this.extendCarry(chunk, from, chunk.length);
      return;
    }
    this.scanRegion(chunk, from, lastNl);
    if (lastNl + 1 < chunk.length) this.extendCarry(chunk, lastNl + 1, chunk.length);
  }

  /** Flushes the last line when the stream does not end with a newline. */
  end(): void {
    if (this.carryLen >= 0) this.scanRegion(this.carry, 0, this.carryLen);
    this.carryLen = -1;
    this.carryDropped = false;
  }

  /** Appends chunk[from, to) to the carried line, or drops the line once it is too long. */
  private extendCarry(chunk: Buffer, from: number, to: number): void {
    if (this.carryDropped) return;
    const have = Math.max(this.carryLen, 0);
    const size = have + (to - from);
    if (size > MAX_LINE_BYTES) {
      this.stats.overlong++;
      this.carryLen = -1;
      this.carryDropped = true;
      return;
    }
    this.reserve(size);
    chunk.copy(this.carry, have, from, to);
    this.carryLen = size;
  }

  /** Makes `carry` hold at least `bytes` bytes, keeping the carried line. */
  private reserve(bytes: number): void {
    if (bytes <= this.carry.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(bytes, this.carry.length * 2));
    this.carry.copy(bigger, 0, 0, Math.max(this.carryLen, 0));
    this.carry = bigger;
  }

  /** Finds marker lines among the complete lines in buf[from, to); `to` is a newline or the end. */
  private scanRegion(buf: Buffer, from: number, to: number): void {
    for (let k = 0; k < this.anchors.length; k++) {
      const { needle, offset } = this.anchors[k];
      const marker = MARKER_BYTES[k];
      let at = buf.indexOf(needle, from + offset);
      while (at >= 0 && at < to) {
        const start = at - offset;
        if (!matchesAt(buf, start, marker, to)) {
          at = buf.indexOf(needle, at + 1);
          continue;
        }
        const lineStart = Math.max(from, buf.lastIndexOf(NL, start) + 1);
        let lineEnd = buf.indexOf(NL, at);
        if (lineEnd < 0 || lineEnd > to) lineEnd = to;
        let stop = lineEnd;
        if (stop > lineStart && buf[stop - 1] === 13 /* \r */) stop--;
        if (stop - lineStart > MAX_LINE_BYTES) {
          if (!this.hasEarlierMarker(buf, lineStart, lineEnd, k)) this.stats.overlong++;
        } else {
          const line = buf.toString('utf8', lineStart, stop);
          if (!hasEarlierMarker(line, k)) this.onLine(line, k);
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

/**
 * A line with two markers belongs to the first one in MARKERS order (and is reported once). On the
 * decoded line: markers are ASCII, and UTF-8 decoding keeps every ASCII byte as it is.
 */
function hasEarlierMarker(line: string, k: number): boolean {
  for (let j = 0; j < k; j++) if (line.includes(MARKERS[j])) return true;
  return false;
}

/** The whole marker is at buf[start], before `to`. */
function matchesAt(buf: Buffer, start: number, marker: Buffer, to: number): boolean {
  if (start < 0 || start + marker.length > to) return false;
  for (let i = 0; i < marker.length; i++) if (buf[start + i] !== marker[i]) return false;
  return true;
}
