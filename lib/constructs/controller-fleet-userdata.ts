/**
 * Renders the controller userdata: the script in `userdata/controller-userdata.sh` with its
 * `@@NAME@@` placeholders replaced, and the `/etc/xspot-cdk/deploy.env` it writes
 * (docs/controller-contract.md). Values end up inside single quotes in bash, so every literal part
 * is allow-listed; CloudFormation references (CDK tokens: bucket names, file system ids, the
 * region) resolve at deploy time to AWS identifiers that fit the same list.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Token, Tokenization } from 'aws-cdk-lib';

/** File name of the userdata template, next to this module under `userdata/`. */
export const USERDATA_TEMPLATE_FILE = 'controller-userdata.sh';

/** EC2 refuses userdata over 16 KiB (before base64). */
export const USERDATA_LIMIT_BYTES = 16 * 1024;

/** What may appear inside the single quotes of a deploy.env line or a userdata placeholder. */
export const SHELL_VALUE_PATTERN = /^[A-Za-z0-9_.,:/@=+%-]*$/;
const SHELL_VALUE_ALLOWED = 'letters, digits and _ . , : / @ = + % - (no quotes, spaces or newlines)';
const KEY_PATTERN = /^[A-Z][A-Z0-9_]*$/;
const PLACEHOLDER = /@@([A-Z][A-Z0-9_]*)@@/g;

/** The literal parts of a string that may hold CDK tokens (tokens themselves removed). */
function literalParts(value: string): string {
  if (!Token.isUnresolved(value)) return value;
  const literal: unknown = Tokenization.reverseString(value)
    .mapTokens({ mapToken: () => '' })
    .join({ join: (left: unknown, right: unknown) => `${left}${right}` });
  return typeof literal === 'string' ? literal : '';
}

/** Checks that `value` can sit inside single quotes in bash; `field` names it in the error. */
export function assertShellValue(field: string, value: string): void {
  const literal = literalParts(value);
  if (!SHELL_VALUE_PATTERN.test(literal)) {
    throw new Error(
      `${field}: ${JSON.stringify(value)} cannot be passed to the controller; allowed: ${SHELL_VALUE_ALLOWED}`,
    );
  }
}

/** One `KEY='value'` line of deploy.env. */
export interface DeployEnvEntry {
  readonly key: string;
  readonly value: string;
  /** The construct prop the value comes from, for error messages. */
  readonly field: string;
}

/** deploy.env: one `KEY='value'` per line, in the given order. */
export function renderDeployEnv(entries: readonly DeployEnvEntry[]): string {
  const seen = new Set<string>();
  return entries
    .map(({ key, value, field }) => {
      if (!KEY_PATTERN.test(key))
        throw new Error(`deploy.env key ${JSON.stringify(key)} must be an upper-case shell name`);
      if (seen.has(key)) throw new Error(`deploy.env key ${key} is set twice`);
      seen.add(key);
      assertShellValue(field, value);
      return `${key}='${value}'`;
    })
    .join('\n');
}

/**
 * Replaces each `@@NAME@@` of `template` with `values[NAME]`. Every placeholder must have a value
 * and every value a placeholder, so the template and the renderer cannot drift apart silently.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const out = template.replace(PLACEHOLDER, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`userdata template placeholder @@${name}@@ has no value`);
    used.add(name);
    return v;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`userdata template has no placeholder for ${unused.join(', ')}`);
  return out;
}

/**
 * Path of a file under `lib/constructs/userdata/`, from the TypeScript sources or from the
 * compiled `dist/lib/constructs/` (tsc does not copy .sh files; the package ships `lib/`).
 */
export function userDataFilePath(file: string): string {
  const candidates = [
    path.join(__dirname, 'userdata', file),
    path.resolve(__dirname, '..', '..', '..', 'lib', 'constructs', 'userdata', file),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`cannot find the userdata template ${file} (looked in ${candidates.join(', ')})`);
  return found;
}

/** The userdata template text. */
export function readUserDataTemplate(): string {
  return fs.readFileSync(userDataFilePath(USERDATA_TEMPLATE_FILE), 'utf8');
}
