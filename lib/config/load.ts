/**
 * Reads the YAML config file, parses it with the zod schema, derives defaults and runs the
 * validators: the one place config enters the program. Unreadable or malformed files raise a
 * one-line UserError with file:line; everything else comes back as findings.
 */
import * as path from 'node:path';
import { type Document, isMap, isPair, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors';
import { packageRoot } from '../package-root';
import { exampleAcknowledgements } from './example';
import { applyAcknowledgements, echoText, type Finding, hasErrors, pathToString } from './findings';
import { resolveConfig, type XspotConfig } from './resolve';
import { ConfigSchema } from './schema';
import { readSiteFile, SITE_FILE_LIMIT_BYTES } from './site-files';
import { validateConfig } from './validate';

/** Environment variable that selects the config file when no path is given. */
export const CONFIG_ENV = 'XSPOT_CONFIG';

export { packageRoot };

export function defaultConfigPath(): string {
  return path.join(packageRoot(), 'config', 'default.yaml');
}

/** The config path to use: the explicit one, then $XSPOT_CONFIG, then the embedded default. */
export function chooseConfigPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? (env[CONFIG_ENV] || undefined) ?? defaultConfigPath();
}

/**
 * The site's own hook scripts, only those the config names (containers.scripts). A hook it does
 * not name is the one the X-Spot packages install on the controller, never a default of ours.
 */
export interface SiteScripts {
  readonly startup?: string;
  readonly jobStartupUser?: string;
  readonly jobStartupRoot?: string;
  readonly jobCleanupUser?: string;
  readonly jobCleanupRoot?: string;
}

/** Dockerfile text per image name (only the images the config names a Dockerfile for). */
export type SiteDockerfiles = Readonly<Record<string, string>>;

export interface ConfigCheck {
  readonly path: string;
  /** Present when the file parsed against the schema (findings may still hold errors). */
  readonly config?: XspotConfig;
  readonly findings: readonly Finding[];
  /** The site hook scripts the config names (or the shipped no-op defaults). */
  readonly siteScripts?: SiteScripts;
  readonly dockerfiles?: SiteDockerfiles;
}

export interface LoadedConfig {
  readonly path: string;
  readonly config: XspotConfig;
  readonly findings: readonly Finding[];
  readonly siteScripts: SiteScripts;
  /** Site Dockerfiles named in containers.dockerfiles. @default - none */
  readonly dockerfiles?: SiteDockerfiles;
}

function readText(file: string, what: string): string {
  const r = readSiteFile(file);
  if ('text' in r) return r.text;
  if (r.code === 'ENOENT') throw new UserError(`${what} not found: ${file}`);
  throw new UserError(`${what} ${file} is ${r.problem}`);
}

function locate(
  doc: Document,
  counter: LineCounter,
  file: string,
  p: readonly PropertyKey[],
  key?: string,
): string | undefined {
  let node: unknown = doc.contents;
  let range: readonly number[] | undefined = (node as Node | null)?.range ?? undefined;
  const steps = key === undefined ? p : [...p, key];
  for (const step of steps) {
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const items = (node as { items: unknown[] }).items;
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === step);
      if (!pair) break;
      range = (isScalar(pair.key) ? pair.key.range : undefined) ?? range;
      node = pair.value;
      if (step !== steps[steps.length - 1] || key === undefined) range = (pair.value as Node | null)?.range ?? range;
    } else if (typeof step === 'number' && items[step]) {
      node = items[step];
      range = (node as Node).range ?? range;
    } else break;
  }
  if (!range) return undefined;
  const pos = counter.linePos(range[0]);
  return `${file}:${pos.line}:${pos.col}`;
}

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const step of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[step];
  }
  return v;
}

/** Known keys of the object schema at `p`, for "unknown key" messages. */
function knownKeys(p: readonly PropertyKey[]): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definition tree
  let s: any = ConfigSchema;
  for (const step of p) {
    while (s?._zod?.def && ['default', 'prefault', 'optional', 'pipe'].includes(s._zod.def.type)) {
      s = s._zod.def.innerType ?? s._zod.def.in;
    }
    if (typeof step === 'number') s = s?._zod?.def?.element;
    else s = s?._zod?.def?.shape?.[step];
  }
  while (s?._zod?.def && ['default', 'prefault', 'optional', 'pipe'].includes(s._zod.def.type)) {
    s = s._zod.def.innerType ?? s._zod.def.in;
  }
  return s?._zod?.def?.shape ? Object.keys(s._zod.def.shape) : [];
}

/** The text of a plain YAML scalar as written (012345678901 before YAML made it the number 12345678901). */
function sourceAt(doc: Document, p: readonly PropertyKey[]): string | undefined {
  const node = doc.getIn(p as unknown[], true);
  return isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
}

/**
 * A string field that YAML read as a number: an account id, an owner id or a version written
 * without quotes. Leading zeros, trailing zeros and digits beyond 2^53 are already lost.
 */
function unquotedNumber(p: readonly PropertyKey[], value: number, written: string | undefined): Finding {
  const text = written ?? String(value);
  const changed = text !== String(value);
  return {
    id: 'invalid-type',
    severity: 'error',
    path: pathToString(p),
    value,
    message: changed
      ? `YAML read the unquoted ${echoText(text, 40)} as the number ${value}, which changes it: quote it`
      : 'YAML read this unquoted value as a number: quote it',
    allowed: `a string in quotes: ${echoText(text, 40)}`,
  };
}

/** Keys that were renamed, with what replaces them (the unknown-key message says so). */
const RENAMED: Record<string, string> = {
  'upgrade.instanceWarmupMinutes':
    'upgrade.instanceWarmupSeconds, in seconds and 0 by default: the launch hook already proves the controller ready',
};

function issueToFindings(issue: z.core.$ZodIssue, raw: unknown, doc: Document): Finding[] {
  const p = issue.path;
  const value = valueAt(raw, p);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({
        id: 'unknown-key',
        severity: 'error' as const,
        path: pathToString([...p, k]),
        value: valueAt(raw, [...p, k]),
        message: RENAMED[pathToString([...p, k])]
          ? `unknown key (renamed to ${RENAMED[pathToString([...p, k])]})`
          : 'unknown key',
        allowed: knownKeys(p).join(', ') || 'no keys here',
      }));
    case 'invalid_type':
      if (typeof value === 'number' && !Number.isFinite(value)) {
        return [
          {
            id: 'invalid-value',
            severity: 'error',
            path: pathToString(p),
            value,
            message: 'is not a finite number (YAML .inf and .nan are not allowed here)',
            allowed: `a finite ${issue.expected}`,
          },
        ];
      }
      if (typeof value === 'number' && issue.expected === 'string') {
        return [unquotedNumber(p, value, sourceAt(doc, p))];
      }
      return [
        {
          id: 'invalid-type',
          severity: 'error',
          path: pathToString(p),
          value,
          message:
            value === undefined
              ? 'is required'
              : `expected ${issue.expected}, got ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}`,
          allowed: `a ${issue.expected}`,
        },
      ];
    case 'invalid_value':
      return [
        {
          id: 'invalid-value',
          severity: 'error',
          path: pathToString(p),
          value,
          message: 'is not one of the allowed values',
          allowed: issue.values.map((v) => JSON.stringify(v)).join(' | '),
        },
      ];
    case 'invalid_union':
      return [
        {
          id: 'invalid-value',
          severity: 'error',
          path: pathToString(p),
          value,
          message: 'does not match any allowed form',
          allowed:
            p[p.length - 1] === 'parentImage'
              ? '{ amiId } | { ssmParameter } | { name, owners }'
              : p[0] === 'xspot' && p[1] === 'extra'
                ? 'a TOML value: a string, a finite number, true/false, a list or a table (YAML null is not one)'
                : 'see the config reference',
        },
      ];
    case 'too_small':
    case 'too_big': {
      const inclusive = issue.inclusive !== false;
      const bound =
        issue.code === 'too_small'
          ? `${inclusive ? '>=' : '>'} ${String(issue.minimum)}`
          : `${inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
      const what = issue.origin === 'array' ? 'items' : issue.origin === 'string' ? 'characters' : '';
      return [
        {
          id: 'out-of-range',
          severity: 'error',
          path: pathToString(p),
          value,
          message: issue.message,
          allowed: `${bound}${what ? ` ${what}` : ''}`,
        },
      ];
    }
    case 'invalid_key': {
      const inner = issue.issues.map((i) => i.message).join('; ');
      return [
        {
          id: 'invalid-value',
          severity: 'error',
          path: pathToString(p),
          value: p[p.length - 1],
          message: `invalid key: ${inner}`,
        },
      ];
    }
    case 'custom': {
      const params = (issue.params ?? {}) as { allowed?: string; id?: string };
      return [
        {
          id: params.id ?? 'invalid-value',
          severity: 'error',
          path: pathToString(p),
          value,
          message: issue.message,
          ...(params.allowed ? { allowed: params.allowed } : {}),
        },
      ];
    }
    default:
      return [{ id: 'invalid-value', severity: 'error', path: pathToString(p), value, message: issue.message }];
  }
}

const SCRIPT_KEYS = ['startup', 'jobStartupUser', 'jobStartupRoot', 'jobCleanupUser', 'jobCleanupRoot'] as const;

function loadSiteScripts(config: XspotConfig, configFile: string): { scripts: SiteScripts; findings: Finding[] } {
  const findings: Finding[] = [];
  const out: Record<string, string> = {};
  for (const key of SCRIPT_KEYS) {
    const given = config.containers.scripts[key];
    if (!given) continue; // the X-Spot packages' own hook stays
    const file = path.resolve(path.dirname(configFile), given);
    const r = readSiteFile(file);
    if ('text' in r) {
      out[key] = r.text;
    } else {
      findings.push({
        id: 'hook-script-unreadable',
        severity: 'error',
        path: `containers.scripts.${key}`,
        value: given,
        message: `${file} is ${r.problem}`,
        allowed: `a readable regular .sh file of at most ${SITE_FILE_LIMIT_BYTES} bytes, relative to the config file or absolute`,
      });
    }
  }
  return { scripts: out as SiteScripts, findings };
}

function loadDockerfiles(
  config: XspotConfig,
  configFile: string,
): { dockerfiles: Record<string, string>; findings: Finding[] } {
  const findings: Finding[] = [];
  const dockerfiles: Record<string, string> = {};
  for (const [image, given] of Object.entries(config.containers.dockerfiles)) {
    const field = `containers.dockerfiles.${image}`;
    if (!config.xspot.imageNameList.includes(image)) {
      findings.push({
        id: 'dockerfile-unknown-image',
        severity: 'error',
        path: field,
        value: image,
        message: 'is not in xspot.imageNameList',
        allowed: config.xspot.imageNameList.join(', '),
      });
      continue;
    }
    const file = path.resolve(path.dirname(configFile), given);
    const r = readSiteFile(file);
    if ('text' in r) {
      dockerfiles[image] = r.text;
    } else {
      findings.push({
        id: 'dockerfile-unreadable',
        severity: 'error',
        path: field,
        value: given,
        message: `${file} is ${r.problem}`,
        allowed: `a readable regular Dockerfile of at most ${SITE_FILE_LIMIT_BYTES} bytes, relative to the config file or absolute`,
      });
    }
  }
  return { dockerfiles, findings };
}

/** No config section nests anywhere near this deep; deeper input is refused before it is walked. */
const MAX_NESTING = 16;

/**
 * One iterative walk of the parsed YAML: the first node nested deeper than MAX_NESTING, or the
 * first repeated key of a mapping (what the parser's quadratic uniqueKeys option would report).
 */
function checkShape(root: unknown): { at: number; problem: string } | undefined {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!node || typeof node !== 'object' || !('items' in node)) continue;
    if (depth > MAX_NESTING) {
      return {
        at: (node as Node).range?.[0] ?? 0,
        problem: `the config is nested more than ${MAX_NESTING} levels deep`,
      };
    }
    const seen = new Set<unknown>();
    for (const item of (node as { items: unknown[] }).items) {
      if (isPair(item)) {
        const key = isScalar(item.key) ? item.key.value : item.key;
        if (isScalar(item.key) && seen.has(key)) {
          return {
            at: item.key.range?.[0] ?? 0,
            problem: `invalid YAML: map keys must be unique: ${echoText(String(key), 60)} is repeated`,
          };
        }
        seen.add(key);
        stack.push([item.value, depth + 1]);
        stack.push([item.key, depth + 1]);
      } else stack.push([item, depth + 1]);
    }
  }
  return undefined;
}

/** Parses and validates YAML text. `file` is used for messages and relative script paths. */
export function checkConfigText(text: string, file: string): ConfigCheck {
  const counter = new LineCounter();
  // uniqueKeys is checked below in linear time (the parser's own check is quadratic in the keys of a map).
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0] ?? counter.linePos(e.pos[0]);
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const why = /call stack/i.test(e.message)
      ? `nested more than ${MAX_NESTING} levels deep`
      : echoText(e.message.split('\n')[0], 200).slice(1, -1);
    throw new UserError(`${where}: invalid YAML: ${why}`);
  }
  const shape = checkShape(doc.contents);
  if (shape) {
    const pos = counter.linePos(shape.at);
    throw new UserError(`${file}:${pos.line}:${pos.col}: ${shape.problem}`);
  }
  const raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(
      `${file}:1:1: the config must be a YAML mapping of sections (deployment:, network:, ...), got ${Array.isArray(raw) ? 'a list' : typeof raw}`,
    );
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const findings = parsed.error.issues.flatMap((issue) =>
      issueToFindings(issue, raw, doc).map((f, i) => {
        const key = issue.code === 'unrecognized_keys' ? issue.keys[i] : undefined;
        const location = locate(doc, counter, file, issue.path, key);
        return location ? { ...f, location } : f;
      }),
    );
    return { path: file, findings };
  }
  const config = resolveConfig(parsed.data);
  const { scripts, findings: scriptFindings } = loadSiteScripts(config, file);
  const { dockerfiles, findings: dockerFindings } = loadDockerfiles(config, file);
  const example = exampleAcknowledgements(file, config.example, config.acknowledgedWarnings);
  const findings = applyAcknowledgements(
    [...validateConfig(config), ...scriptFindings, ...dockerFindings, ...example.findings],
    example.apply,
  ).map((f) => {
    const segs = f.path
      .split(/\.|\[(\d+)\]/)
      .filter((s) => s !== undefined && s !== '')
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const location = locate(doc, counter, file, segs);
    return location ? { ...f, location } : f;
  });
  return { path: file, config, findings, siteScripts: scripts, dockerfiles };
}

/** Reads and checks a config file; throws UserError only when the file cannot be read or parsed as YAML. */
export function checkConfigFile(explicit?: string): ConfigCheck {
  const file = chooseConfigPath(explicit);
  return checkConfigText(readText(file, 'config file'), file);
}

/**
 * Loads a config that must be valid: throws a UserError whose message lists every error, one
 * per line. Warnings come back in `findings` for the caller to show.
 */
export function loadConfig(explicit?: string): LoadedConfig {
  const check = checkConfigFile(explicit);
  if (!check.config || !check.siteScripts || hasErrors(check.findings)) {
    throw new ConfigErrors(check);
  }
  return {
    path: check.path,
    config: check.config,
    findings: check.findings,
    siteScripts: check.siteScripts,
    dockerfiles: check.dockerfiles,
  };
}

export class ConfigErrors extends UserError {
  constructor(readonly check: ConfigCheck) {
    const errors = check.findings.filter((f) => f.severity === 'error');
    super(
      `${check.path}: ${errors.length} config error${errors.length === 1 ? '' : 's'} (run xspot-cdk check-config for details)`,
    );
  }
}
