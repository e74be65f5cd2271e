/**
 * A problem found in the config, offline or live: a stable id, a severity, the field path,
 * the value received and what is allowed. Warnings can be acknowledged by id in the config.
 */
export type Severity = 'error' | 'warning';

export interface Finding {
  /** Stable id, e.g. "overlay-overlaps-vpc"; used to acknowledge warnings. */
  readonly id: string;
  readonly severity: Severity;
  /** Dotted field path, e.g. "workers.overlayPrefix" or "network.existingVpc.privateSubnets[0].cidr". */
  readonly path: string;
  /** The value received (rendered with JSON.stringify in messages). */
  readonly value?: unknown;
  /** What is wrong, in words. */
  readonly message: string;
  /** What is allowed instead. */
  readonly allowed?: string;
  /** file:line:column of the field, when the config came from a file. */
  readonly location?: string;
  /** Set when the warning was acknowledged in the config. */
  readonly acknowledged?: string;
  /**
   * A warning that stops the deployment until it is acknowledged: an accepted risk the site must
   * state (with its reason) rather than a mistake to fix. Unacknowledged, it is reported as an error.
   */
  readonly mustAcknowledge?: boolean;
}

/** Characters JSON.stringify leaves alone that a terminal still acts on: DEL, C1 controls, bidi overrides. */
const TERMINAL_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const escapeUnsafe = (s: string) =>
  s.replace(TERMINAL_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Text from the user, made safe to echo on one line: control characters escaped, at most `max` characters. */
export function echoText(text: string, max = 120): string {
  const s = escapeUnsafe(JSON.stringify(text.length > max ? text.slice(0, max) : text));
  return text.length > max ? `${s}...(${text.length} characters)` : s;
}

export function formatValue(value: unknown): string {
  if (value === undefined) return '(not set)';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const s = escapeUnsafe(JSON.stringify(value) ?? String(value));
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** One line: `error [id] file:line: path = value: message (allowed: ...)`. */
export function formatFinding(f: Finding): string {
  const where = f.location ? `${f.location}: ` : '';
  const value = 'value' in f ? ` = ${formatValue(f.value)}` : '';
  const allowed = f.allowed ? ` (allowed: ${f.allowed})` : '';
  const ack = f.acknowledged ? ` [acknowledged: ${f.acknowledged}]` : '';
  return `${f.severity} [${f.id}] ${where}${f.path}${value}: ${f.message}${allowed}${ack}`;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * A dotted field path. Keys that are not plain names (a key the user typed with spaces, control
 * characters or 200,000 characters) are quoted, escaped and truncated: `xspot["bad\u001bkey"]`.
 */
export function pathToString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (PLAIN_KEY.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${echoText(String(p), 60)}]`;
  }
  return out || '(root)';
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/**
 * Applies `acknowledgedWarnings`: matching warnings are marked; acknowledging an error or an id
 * that matched nothing is itself reported, so a stale acknowledgement does not hide the next problem.
 * A `mustAcknowledge` warning left unacknowledged becomes an error.
 */
export function applyAcknowledgements(
  findings: readonly Finding[],
  acks: readonly { id: string; reason: string }[],
): Finding[] {
  const out: Finding[] = [];
  const used = new Set<string>();
  for (const f of findings) {
    const ack = acks.find((a) => a.id === f.id);
    if (ack && f.severity === 'warning') {
      used.add(ack.id);
      out.push({ ...f, acknowledged: ack.reason });
    } else {
      if (ack) used.add(ack.id);
      out.push(
        f.mustAcknowledge && f.severity === 'warning'
          ? {
              ...f,
              severity: 'error',
              message: `${f.message}; refused until acknowledged (acknowledgedWarnings: - id: ${f.id}, reason: ...)`,
            }
          : f,
      );
    }
  }
  acks.forEach((a, i) => {
    const target = findings.find((f) => f.id === a.id);
    if (target?.severity === 'error') {
      out.push({
        id: 'acknowledged-error',
        severity: 'error',
        path: `acknowledgedWarnings[${i}].id`,
        value: a.id,
        message: 'errors cannot be acknowledged, only warnings',
        allowed: 'the id of a warning',
      });
    } else if (!used.has(a.id)) {
      out.push({
        id: 'unused-acknowledgement',
        severity: 'warning',
        path: `acknowledgedWarnings[${i}].id`,
        value: a.id,
        message: 'no warning with this id was raised; remove the acknowledgement',
      });
    }
  });
  return out;
}
