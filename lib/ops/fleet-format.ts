/**
 * Text helpers for the fleet commands: aligned tables, short durations, trimmed command output.
 * Pure functions, no I/O.
 */

/** Left-aligned columns separated by two spaces; trailing spaces trimmed. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** 45s, 12m, 3h05m, 2d04h. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** HH:MM in UTC, for "AWS resumes at" lines (the operator's terminal may be anywhere). */
export function clockTime(d: Date): string {
  return `${d.toISOString().slice(11, 16)} UTC`;
}

/**
 * The last `maxLines` non-empty lines of command output, each at most `maxWidth` characters,
 * indented for printing under a result line.
 */
export function tail(text: string, maxLines = 15, maxWidth = 200, indent = '    '): string[] {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  const kept = lines
    .slice(-maxLines)
    .map((l) => `${indent}${l.length > maxWidth ? `${l.slice(0, maxWidth - 3)}...` : l}`);
  if (lines.length > maxLines) kept.unshift(`${indent}... (${lines.length - maxLines} earlier lines)`);
  return kept;
}
