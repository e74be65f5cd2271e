/**
 * The X-Spot controller log grammar that `xspot-cdk cost` relies on, in one place.
 *
 * X-Spot's log format is not public. The vendor guide's cost tool names a handful of markers
 * (timestamps at the start of lines, `FinalizeWorkerMetadata`, `Terminating Worker Instance` with
 * JSON, the `Scheduler configurations` line with `DefaultRegion`); everything else here is our
 * assumption, documented in docs/cost.md and exercised by the fixtures in test/fixtures/cost/.
 * If a real log disagrees, this is the only file to change.
 *
 * A line is `<timestamp> <anything> <MARKER><payload>`. Only lines that contain one of `MARKERS`
 * matter; every other line is skipped without being decoded (see scanner.ts). Timestamps are read
 * from the marker lines themselves and, for a file's time span, from its first and last lines.
 */

/** What a log line can tell the cost tool. Order matters: a line holding two markers is read as the first. */
export const MARKERS = [
  'FinalizeWorkerMetadata',
  'Terminating Worker Instance',
  'ContainerStateChange',
  'Scheduler configurations',
] as const;
export type Marker = (typeof MARKERS)[number];

export const MARKER_FINALIZE = 0;
export const MARKER_TERMINATE = 1;
export const MARKER_CONTAINER = 2;
export const MARKER_SCHEDULER = 3;

/** The guide's cost tool accepts a file when a timestamp is found in its first or last this-many lines. */
export const HEAD_TAIL_LINES = 5;

/** Longest line the tool looks at; longer lines are counted and skipped. */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface SchedulerConfigEvent {
  readonly kind: 'scheduler';
  readonly ts: number;
  /** `DefaultRegion`: where the controller runs, hence which price list applies. */
  readonly region?: string;
  readonly controllerInstanceId?: string;
  readonly controllerInstanceType?: string;
}

/** `FinalizeWorkerMetadata` (worker is up; billing starts) or `Terminating Worker Instance` (billing stops). */
export interface WorkerEvent {
  readonly kind: 'worker-ready' | 'worker-terminate';
  readonly ts: number;
  readonly workerId: string;
  readonly instanceId?: string;
  readonly instanceType?: string;
  /** true for a spot instance, false for on-demand. */
  readonly spot?: boolean;
  /** USD per hour actually paid (the spot price for spot workers). */
  readonly price?: number;
}

export type ContainerState = 'started' | 'migrated' | 'stopped';

export interface ContainerEvent {
  readonly kind: 'container';
  readonly ts: number;
  readonly containerId: string;
  readonly state: ContainerState;
  /** The worker the container runs on from now on (started, migrated) or ran on (stopped). */
  readonly workerId?: string;
  /** For `migrated`: the worker it left. */
  readonly fromWorkerId?: string;
  readonly jobId?: string;
  /** vCPUs requested for the container; used to share a worker between containers. */
  readonly cpu?: number;
}

export type LogEvent = SchedulerConfigEvent | WorkerEvent | ContainerEvent;

/** Either an event, or one line of warning saying why the line was skipped. */
export type LineResult = { readonly event: LogEvent } | { readonly warning: string };

const WARN_LINE_CHARS = 200;

/** The line as it appears in a warning: one line, at most 200 characters. */
export function clip(line: string): string {
  const flat = line.replace(/[\r\n\t]+/g, ' ');
  return flat.length > WARN_LINE_CHARS ? `${flat.slice(0, WARN_LINE_CHARS)}...` : flat;
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

function num(s: string, at: number, width: number): number {
  let v = 0;
  for (let k = 0; k < width; k++) {
    const c = s.charCodeAt(at + k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1-12) of `year` in the proleptic Gregorian calendar, as Date uses. */
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/**
 * The timestamp a line starts with, in epoch milliseconds, or undefined.
 *
 * Accepted: an optional `[` or `time="`, then `YYYY-MM-DD` or `YYYY/MM/DD`, `T` or a space,
 * `HH:MM:SS`, an optional `.fff` / `,fff` fraction (any number of digits), and an optional zone
 * `Z`, `+HH:MM`, `+HHMM` or `-...`. No zone means UTC.
 */
export function parseTimestamp(line: string): number | undefined {
  let i = 0;
  const c0 = line.charCodeAt(0);
  if (c0 === 91 /* [ */) i = 1;
  else if (c0 === 116 /* t */ && line.startsWith('time="')) i = 6;
  const year = num(line, i, 4);
  if (year < 0) return undefined;
  const sep = line.charCodeAt(i + 4);
  if (sep !== 45 /* - */ && sep !== 47 /* / */) return undefined;
  const month = num(line, i + 5, 2);
  if (month < 1 || month > 12 || line.charCodeAt(i + 7) !== sep) return undefined;
  const day = num(line, i + 8, 2);
  const t = line.charCodeAt(i + 10);
  if (day < 1 || (t !== 84 /* T */ && t !== 32) /* space */) return undefined;
  const hh = num(line, i + 11, 2);
  const mm = num(line, i + 14, 2);
  const ss = num(line, i + 17, 2);
  if (line.charCodeAt(i + 13) !== 58 || line.charCodeAt(i + 16) !== 58) return undefined;
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) return undefined;
  i += 19;
  let ms = 0;
  let c = line.charCodeAt(i);
  if (c === 46 /* . */ || c === 44 /* , */) {
    i++;
    let scale = 100;
    let digits = 0;
    for (c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) {
      ms += (c - 48) * scale;
      scale /= 10;
      digits++;
    }
    if (digits === 0) return undefined;
    ms = Math.floor(ms);
  }
  let offsetMin = 0;
  if (c === 90 /* Z */) {
    // UTC
  } else if (c === 43 /* + */ || c === 45 /* - */) {
    const oh = num(line, i + 1, 2);
    const colon = line.charCodeAt(i + 3) === 58 ? 1 : 0;
    const om = num(line, i + 3 + colon, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return undefined;
    offsetMin = (c === 43 ? 1 : -1) * (oh * 60 + om);
  }
  // Reject 2024-02-31 and the like instead of rolling over into the next month. (Date.UTC reads
  // years below 100 as 19xx: those are checked against the date it makes.)
  const at = Date.UTC(year, month - 1, day, hh, mm, Math.min(ss, 59), ms);
  if (year >= 100 ? day > daysInMonth(year, month) : new Date(at).getUTCDate() !== day) return undefined;
  return at - offsetMin * 60_000;
}

/**
 * The first timestamp found in the first `HEAD_TAIL_LINES` lines of `text` (the start of a file),
 * or undefined. `complete` says whether `text` is the whole file (else its last line may be cut).
 */
export function headTimestamp(text: string, complete: boolean): number | undefined {
  const lines = text.split('\n');
  if (!complete) lines.pop();
  for (const line of lines.slice(0, HEAD_TAIL_LINES)) {
    const ts = parseTimestamp(line);
    if (ts !== undefined) return ts;
  }
  return undefined;
}

/**
 * The last timestamp found in the last `HEAD_TAIL_LINES` lines of `text` (the end of a file), or
 * undefined. `complete` says whether `text` starts at the start of the file (else its first line
 * may be cut).
 */
export function tailTimestamp(text: string, complete: boolean): number | undefined {
  const lines = text.split('\n');
  if (!complete) lines.shift();
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const last = lines.slice(-HEAD_TAIL_LINES);
  for (let k = last.length - 1; k >= 0; k--) {
    const ts = parseTimestamp(last[k]);
    if (ts !== undefined) return ts;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------

/** `r5b.xlarge`, `u-6tb1.metal`, `c7gn.16xlarge`. */
export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
/** Worker, container and job ids: no spaces, no quotes. */
export const ID = /^[A-Za-z0-9][A-Za-z0-9_.:@/-]*$/;
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function isInstanceType(v: string): boolean {
  return INSTANCE_TYPE.test(v);
}

export function isRegion(v: string): boolean {
  return REGION.test(v);
}

/** The JSON object that follows the marker: from the first `{` after it to the last `}` of the line. */
function jsonAfter(line: string, markerEnd: number): Record<string, unknown> | undefined {
  const open = line.indexOf('{', markerEnd);
  const close = line.lastIndexOf('}');
  if (open < 0 || close < open) return undefined;
  try {
    const v: unknown = JSON.parse(line.slice(open, close + 1));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `key=value key2="value two"` pairs after the marker. */
function pairsAfter(line: string, markerEnd: number): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z][A-Za-z0-9_]*)=("([^"]*)"|[^\s,]*)/g;
  re.lastIndex = markerEnd;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    out[m[1]] = m[3] ?? m[2];
  }
  return out;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function id(v: unknown): string | undefined {
  const s = str(v);
  return s !== undefined && ID.test(s) ? s : undefined;
}

function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True' || v === '1') return true;
  if (v === 'false' || v === 'False' || v === '0') return false;
  return undefined;
}

function nonNegative(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * FinalizeWorkerMetadata spells its keys camelCase (`instanceType=`), the termination JSON
 * PascalCase (`"InstanceType"`); `fields` holds either.
 */
function parseWorker(kind: WorkerEvent['kind'], ts: number, fields: Record<string, unknown>, line: string): LineResult {
  const get = (camel: string, pascal: string) => fields[camel] ?? fields[pascal];
  const workerId = id(get('worker', 'WorkerID'));
  if (workerId === undefined) return { warning: `no worker id in: ${clip(line)}` };
  const ev: Mutable<WorkerEvent> = { kind, ts, workerId };
  const instanceType = str(get('instanceType', 'InstanceType'));
  if (instanceType !== undefined) {
    if (!isInstanceType(instanceType))
      return { warning: `Invalid instance type: ${clip(instanceType)} (worker ${workerId})` };
    ev.instanceType = instanceType;
  }
  const instanceId = id(get('instanceId', 'InstanceID'));
  if (instanceId !== undefined) ev.instanceId = instanceId;
  const spot = bool(get('spot', 'Spot'));
  if (spot !== undefined) ev.spot = spot;
  const price = nonNegative(get('price', 'Price'));
  if (price !== undefined) ev.price = price;
  return { event: ev };
}

const STATES: ReadonlySet<string> = new Set<ContainerState>(['started', 'migrated', 'stopped']);

/**
 * Reads one line that contains `MARKERS[marker]`. Returns the event it records, or a one-line
 * warning (the guide's wording where it has one) when the line is malformed.
 */
export function parseMarkedLine(marker: number, line: string): LineResult {
  const name = MARKERS[marker];
  const at = line.indexOf(name);
  const ts = parseTimestamp(line);
  if (at < 0) return { warning: `no ${name} in: ${clip(line)}` };
  if (ts === undefined) return { warning: `no timestamp in: ${clip(line)}` };
  const end = at + name.length;
  switch (marker) {
    case MARKER_FINALIZE: {
      // FinalizeWorkerMetadata worker=4465ce68 instanceId=i-0222... instanceType=r5b.xlarge spot=true price=0.088
      return parseWorker('worker-ready', ts, pairsAfter(line, end), line);
    }
    case MARKER_TERMINATE: {
      // Terminating Worker Instance: {"WorkerID":"4465ce68","InstanceID":"i-0222...","InstanceType":"r5b.xlarge",...}
      const json = jsonAfter(line, end);
      if (json === undefined) return { warning: `json not matched: ${clip(line)}` };
      return parseWorker('worker-terminate', ts, json, line);
    }
    case MARKER_CONTAINER: {
      // ContainerStateChange: {"ContainerID":"3f2a...","State":"started","WorkerID":"4465ce68","JobID":"1001","Cpu":4}
      const json = jsonAfter(line, end);
      if (json === undefined) return { warning: `json not matched: ${clip(line)}` };
      const containerId = id(json.ContainerID);
      const state = str(json.State)?.toLowerCase();
      if (containerId === undefined || state === undefined || !STATES.has(state)) {
        return { warning: `no ContainerID or State (started, migrated, stopped) in: ${clip(line)}` };
      }
      const ev: Mutable<ContainerEvent> = { kind: 'container', ts, containerId, state: state as ContainerState };
      const workerId = id(json.WorkerID);
      if (workerId !== undefined) ev.workerId = workerId;
      const fromWorkerId = id(json.FromWorkerID);
      if (fromWorkerId !== undefined) ev.fromWorkerId = fromWorkerId;
      const jobId = id(json.JobID);
      if (jobId !== undefined) ev.jobId = jobId;
      const cpu = nonNegative(json.Cpu);
      if (cpu !== undefined && cpu > 0) ev.cpu = cpu;
      return { event: ev };
    }
    default: {
      // Scheduler configurations: {"DefaultRegion":"us-east-1","ControllerInstanceType":"m5.xlarge",...}
      const json = jsonAfter(line, end);
      if (json === undefined) return { warning: `json not matched: ${clip(line)}` };
      const ev: Mutable<SchedulerConfigEvent> = { kind: 'scheduler', ts };
      const region = str(json.DefaultRegion);
      if (region !== undefined && isRegion(region)) ev.region = region;
      const instanceId = id(json.ControllerInstanceID);
      if (instanceId !== undefined) ev.controllerInstanceId = instanceId;
      const type = str(json.ControllerInstanceType);
      if (type !== undefined && isInstanceType(type)) ev.controllerInstanceType = type;
      return { event: ev };
    }
  }
}
