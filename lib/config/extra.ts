/**
 * `xspot.extra`: keys of a newer X-Spot release that xspot-cdk does not render yet, merged into
 * config.toml, dockerWrapper.toml and log_upload.env as they are. A key xspot-cdk renders itself
 * is never overridden from here (it has a typed, validated config field), so the merge only adds.
 */
import { stringify as tomlStringify } from 'smol-toml';
import type { Finding } from './findings';
import type { TomlValue } from './schema';

type Table = { [key: string]: TomlValue };

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys of `extra` (dotted) that `rendered` already has, with the extra value; a table in both is walked, not a collision. */
export function extraCollisions(rendered: Table, extra: Table, prefix = ''): { key: string; value: TomlValue }[] {
  const out: { key: string; value: TomlValue }[] = [];
  for (const [k, v] of Object.entries(extra)) {
    if (!Object.hasOwn(rendered, k)) continue;
    const r = rendered[k];
    if (isTable(r) && isTable(v)) out.push(...extraCollisions(r, v, `${prefix}${k}.`));
    else out.push({ key: `${prefix}${k}`, value: v });
  }
  return out;
}

/** `rendered` with `extra` merged in; throws on a collision (check-config reports them first). */
export function mergeExtra(rendered: Table, extra: Table, file: string): Table {
  const clash = extraCollisions(rendered, extra);
  if (clash.length > 0) throw new Error(`xspot.extra: ${file} key ${clash[0].key} is rendered by xspot-cdk`);
  const out: Table = { ...rendered };
  for (const [k, v] of Object.entries(extra)) {
    const r = out[k];
    out[k] = isTable(r) && isTable(v) ? mergeExtra(r, v, file) : v;
  }
  return out;
}

/**
 * Findings for one TOML file's extra keys: collisions with rendered keys, and a merged document
 * TOML cannot write. `rendered` holds every key xspot-cdk may write (config.toml's aws.ami too).
 */
export function tomlExtraFindings(field: string, file: string, rendered: Table, extra: Table): Finding[] {
  const out: Finding[] = extraCollisions(rendered, extra).map(({ key, value }) => ({
    id: 'extra-overrides-rendered',
    severity: 'error',
    path: `xspot.extra.${field}.${key}`,
    value,
    message: `${file} key ${key} is rendered by xspot-cdk from a config field; extra keys may only add`,
    allowed: `a key ${file} does not have yet; set the existing one through its config field (docs/config-reference.md)`,
  }));
  if (out.length > 0) return out;
  try {
    tomlStringify(mergeExtra(rendered, extra, file));
  } catch (e) {
    out.push({
      id: 'extra-not-toml',
      severity: 'error',
      path: `xspot.extra.${field}`,
      message: `merged into ${file}, the keys do not make a TOML document: ${String((e as Error).message).split('\n')[0]}`,
      allowed: 'TOML tables, strings, numbers, booleans and arrays',
    });
  }
  return out;
}
