/**
 * `xspot-cdk diff --from OLD --to NEW`: synthesizes the app for two configs, offline, and compares
 * the templates stack by stack with CDK's own template differ (@aws-cdk/cloudformation-diff, the
 * library behind `cdk diff`). Each side is a config file, or `git:REF:PATH` (the tree at REF, so site
 * scripts the config names come from REF too). The app runs as a child process (`CDK_OUTDIR`), as the
 * CDK CLI runs it: nothing here imports aws-cdk-lib, and no AWS account or network is used.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diffTemplate, type TemplateDiff } from '@aws-cdk/cloudformation-diff';
import { packageRoot } from '../config/load';
import { UserError } from '../errors';

/** Exit code for an error (0 and 1 mean "no change" and "changes", as diff(1)). */
export const DIFF_ERROR_EXIT = 2;

/** A config to synthesize: the file to load, and the temporary tree to remove afterwards. */
export interface DiffSide {
  readonly label: string;
  readonly configPath: string;
  readonly cleanup?: string;
}

/** A template by stack name. */
export type Templates = Record<string, Record<string, unknown>>;

/** `git:REF:PATH` -> the tree at REF extracted to a temporary directory; a plain path as it is. */
export function resolveSide(spec: string, flag: string, cwd = process.cwd()): DiffSide {
  const m = /^git:([^:]+):(.+)$/.exec(spec);
  if (!m) {
    if (!fs.existsSync(spec)) throw new UserError(`${flag}: ${spec}: no such file`, DIFF_ERROR_EXIT);
    return { label: spec, configPath: path.resolve(spec) };
  }
  const [, ref, file] = m;
  let top: string;
  try {
    top = execFileSync('git', ['-C', cwd, 'rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: 'pipe' }).trim();
    execFileSync('git', ['-C', top, 'cat-file', '-e', `${ref}:${file}`], { stdio: 'pipe' });
  } catch {
    throw new UserError(
      `${flag}: ${spec}: no file ${file} at git ref ${ref} (git:REF:PATH, PATH from the repository root)`,
      DIFF_ERROR_EXIT,
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-diff-git-'));
  const tar = execFileSync('git', ['-C', top, 'archive', '--format=tar', ref], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  return { label: spec, configPath: path.join(dir, file), cleanup: dir };
}

/** Runs the app on `configPath` into `outdir` and returns its templates by stack name. */
export async function synthTemplates(configPath: string, outdir: string, label: string): Promise<Templates> {
  const app = path.join(packageRoot(), 'dist', 'bin', 'xspot-cdk.js');
  const stderr: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [app], {
      env: { ...process.env, CDK_OUTDIR: outdir, XSPOT_CONFIG: configPath, CDK_CONTEXT_JSON: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) {
    const lines = Buffer.concat(stderr).toString('utf8').trim().split('\n');
    const errors = lines.filter((l) => /error/i.test(l));
    throw new UserError(
      `${label}: synth failed: ${(errors.length > 0 ? errors : lines.slice(-3)).join('; ')}`,
      DIFF_ERROR_EXIT,
    );
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  const templates: Templates = {};
  for (const [id, a] of Object.entries(manifest.artifacts ?? {})) {
    if (a.type !== 'aws:cloudformation:stack' || !a.properties?.templateFile) continue;
    templates[a.properties.stackName ?? id] = JSON.parse(
      fs.readFileSync(path.join(outdir, a.properties.templateFile), 'utf8'),
    );
  }
  return templates;
}

/** One resource that changes. */
export interface ResourceChange {
  readonly logicalId: string;
  readonly type: string;
  readonly kind: 'added' | 'removed' | 'replaced' | 'changed';
  /** Property paths that differ (dotted, `[i]` for list items), with whether each forces replacement. */
  readonly paths: readonly { readonly path: string; readonly replaces: boolean }[];
}

/** What changes in one stack. */
export interface StackDiff {
  readonly stack: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly resources: readonly ResourceChange[];
  /** Launch templates that change: each means a controller roll (instance refresh) when deployed. */
  readonly rolls: readonly string[];
  /** IAM statement and managed-policy changes, one line each ("+ Allow ..." / "- Allow ..."). */
  readonly iam: readonly string[];
  /** Outputs, parameters and other template sections that change. */
  readonly other: readonly string[];
}

const REPLACING = new Set(['WILL_REPLACE', 'MAY_REPLACE']);

/** The leaf paths at which `a` and `b` differ, below `prefix`. */
export function changedPaths(a: unknown, b: unknown, prefix: string, out: string[] = [], depth = 0): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return out;
  const isObj = (v: unknown) => typeof v === 'object' && v !== null;
  if (depth > 8 || !isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b)) {
    out.push(prefix);
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) changedPaths(a[i], b[i], `${prefix}[${i}]`, out, depth + 1);
    return out;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort()) {
    changedPaths(ao[k], bo[k], prefix ? `${prefix}.${k}` : k, out, depth + 1);
  }
  return out;
}

function resourceChanges(diff: TemplateDiff): ResourceChange[] {
  const out: ResourceChange[] = [];
  diff.resources.forEachDifference((logicalId, d) => {
    if (!d.isDifferent) return;
    const type = d.newResourceType ?? d.oldResourceType ?? 'unknown';
    if (d.isAddition) return void out.push({ logicalId, type, kind: 'added', paths: [] });
    if (d.isRemoval) return void out.push({ logicalId, type, kind: 'removed', paths: [] });
    const paths: { path: string; replaces: boolean }[] = [];
    for (const [prop, p] of Object.entries(d.propertyUpdates)) {
      const replaces = REPLACING.has(p.changeImpact ?? '');
      for (const leaf of changedPaths(p.oldValue, p.newValue, prop)) paths.push({ path: leaf, replaces });
    }
    for (const [key, o] of Object.entries(d.otherChanges)) {
      for (const leaf of changedPaths(o.oldValue, o.newValue, key)) paths.push({ path: leaf, replaces: false });
    }
    const replaced = REPLACING.has(d.changeImpact) || d.resourceTypeChanged;
    out.push({ logicalId, type, kind: replaced ? 'replaced' : 'changed', paths });
  });
  return out;
}

function iamLines(diff: TemplateDiff): string[] {
  const lines: string[] = [];
  const table = (rows: string[][]) => {
    const [header, ...body] = rows;
    for (const row of body) {
      const cells = row.slice(1).map((c, i) => `${header[i + 1]}: ${c.replace(/\s*\n\s*/g, ' ')}`);
      lines.push(`${row[0].trim() || '~'} ${cells.filter((c) => !/: $/.test(c)).join('; ')}`);
    }
  };
  if (diff.iamChanges.hasChanges) {
    table(diff.iamChanges.summarizeStatements());
    table(diff.iamChanges.summarizeManagedPolicies());
  }
  return lines;
}

function otherLines(diff: TemplateDiff): string[] {
  const lines: string[] = [];
  for (const [section, coll] of [
    ['Output', diff.outputs],
    ['Parameter', diff.parameters],
    ['Condition', diff.conditions],
    ['Mapping', diff.mappings],
  ] as const) {
    coll.forEachDifference((id, d) => {
      if (d.isDifferent) lines.push(`${d.isAddition ? '+' : d.isRemoval ? '-' : '~'} ${section} ${id}`);
    });
  }
  return lines;
}

/** Compares two sets of templates, stack by stack; stacks without changes are left out. */
export function diffStacks(from: Templates, to: Templates): StackDiff[] {
  const out: StackDiff[] = [];
  for (const stack of [...new Set([...Object.keys(from), ...Object.keys(to)])].sort()) {
    const diff = diffTemplate(from[stack] ?? {}, to[stack] ?? {});
    if (diff.isEmpty) continue;
    const resources = resourceChanges(diff);
    out.push({
      stack,
      kind: !(stack in from) ? 'added' : !(stack in to) ? 'removed' : 'changed',
      resources,
      rolls: resources
        .filter((r) => r.type === 'AWS::EC2::LaunchTemplate' && (r.kind === 'changed' || r.kind === 'replaced'))
        .map((r) => r.logicalId),
      iam: iamLines(diff),
      other: otherLines(diff),
    });
  }
  return out;
}

const MARK = { added: '+', removed: '-', replaced: '!', changed: '~' } as const;

/** The report, one change a line, and the summary line last. */
export function formatStackDiffs(diffs: readonly StackDiff[]): string[] {
  const lines: string[] = [];
  const count = { added: 0, removed: 0, replaced: 0, changed: 0 };
  for (const s of diffs) {
    lines.push(`Stack ${s.stack}${s.kind === 'changed' ? '' : ` (${s.kind})`}`);
    for (const r of s.resources) {
      count[r.kind]++;
      lines.push(`  ${MARK[r.kind]} ${r.type} ${r.logicalId} (${r.kind === 'replaced' ? 'REPLACED' : r.kind})`);
      for (const p of r.paths) lines.push(`      ${p.path}${p.replaces ? '  [requires replacement]' : ''}`);
    }
    for (const lt of s.rolls) {
      lines.push(
        `  controller roll: launch template ${lt} changes; running controllers keep the old version until 'xspot-cdk fleet upgrade' replaces them`,
      );
    }
    if (s.iam.length > 0) {
      lines.push('  IAM changes:');
      for (const l of s.iam) lines.push(`    ${l}`);
    }
    for (const l of s.other) lines.push(`  ${l}`);
  }
  const stacks = diffs.length;
  lines.push(
    stacks === 0
      ? 'no changes'
      : `${stacks} stack${stacks === 1 ? '' : 's'} changed: ${count.added} added, ${count.removed} removed, ${count.replaced} replaced, ${count.changed} changed`,
  );
  return lines;
}

/** Resolves, synthesizes (both at once) and compares; returns the report lines and whether anything changes. */
export async function runDiff(fromSpec: string, toSpec: string): Promise<{ lines: string[]; changed: boolean }> {
  const sides = [resolveSide(fromSpec, '--from'), resolveSide(toSpec, '--to')];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-diff-'));
  try {
    const [from, to] = await Promise.all(
      sides.map((s, i) => synthTemplates(s.configPath, path.join(work, String(i)), s.label)),
    );
    const diffs = diffStacks(from, to);
    return { lines: formatStackDiffs(diffs), changed: diffs.length > 0 };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    for (const s of sides) if (s.cleanup) fs.rmSync(s.cleanup, { recursive: true, force: true });
  }
}
