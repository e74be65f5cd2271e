/**
 * Docs that cannot drift: every config key the docs and README write exists in the schema; every
 * relative link and anchor resolves; every `xspot-cdk` command in a fenced console/bash block parses
 * with the CLI's own parser (the subcommand accepts those flags and arguments).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { configJsonSchema } from '../../lib/config/reference';
import { ROOT } from '../support/cli';

// the CLI's --profile check reads the operator's shared files; a documented `--profile prod` is fine here
jest.mock('../../lib/ops/aws-profile', () => ({
  lookupProfile: () => undefined,
  missingProfileMessage: () => undefined,
}));

import { buildProgram } from '../../bin/cli';

const DOCS = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

/** Text outside fenced blocks, and the fenced blocks with their language. */
function split(md: string): { prose: string; blocks: { lang: string; body: string }[] } {
  const blocks: { lang: string; body: string }[] = [];
  const prose = md.replace(/^```(\w*)[^\n]*\n([\s\S]*?)^```/gm, (_m, lang: string, body: string) => {
    blocks.push({ lang, body });
    return '';
  });
  return { prose, blocks };
}

// ---------------------------------------------------------------- config keys

type Schema = {
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
const SCHEMA = configJsonSchema() as Schema;
const TOP = new Set(Object.keys(SCHEMA.properties ?? {}));

/** The schemas a dotted path leads to ([] when it names no key). */
function resolve(s: Schema, parts: string[]): Schema[] {
  if (parts.length === 0) return [s];
  const alts = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])];
  const [head, ...rest] = parts;
  const out: Schema[] = alts.flatMap((a) => resolve(a, parts));
  if (s.items) out.push(...resolve(s.items, parts));
  if (s.properties?.[head]) out.push(...resolve(s.properties[head], rest));
  else if (typeof s.additionalProperties === 'object' && !s.properties)
    out.push(...resolve(s.additionalProperties, rest));
  return out;
}

/** `a.b.c` paths in backticks whose first part is a top-level config key. */
function dottedKeys(md: string): string[] {
  const out = new Set<string>();
  for (const m of split(md).prose.matchAll(/`([a-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)+)(?:\s*:[^`]*)?`/g)) {
    if (TOP.has(m[1].split('.')[0])) out.add(m[1]);
  }
  return [...out];
}

describe('config keys in the docs exist in the schema', () => {
  test('the resolver finds known keys and rejects unknown ones', () => {
    expect(resolve(SCHEMA, ['deployment', 'name'])).not.toHaveLength(0);
    expect(resolve(SCHEMA, ['scheduler', 'scriptDirectory'])).toHaveLength(0);
    expect(resolve(SCHEMA, ['upgrade', 'refreshOnDeploy'])).toHaveLength(0);
    expect(dottedKeys('see `scheduler.scriptDirectory` and `deployment.region: us-east-1`')).toEqual([
      'scheduler.scriptDirectory',
      'deployment.region',
    ]);
  });

  test.each(DOCS)('%s', (doc) => {
    const unknown = dottedKeys(read(doc)).filter((k) => resolve(SCHEMA, k.split('.')).length === 0);
    expect(unknown).toEqual([]);
  });
});

/** Every property name anywhere in the schema. */
function allKeys(s: Schema, out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    out.add(k);
    allKeys(v, out);
  }
  for (const a of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) allKeys(a, out);
  if (s.items) allKeys(s.items, out);
  if (typeof s.additionalProperties === 'object') allKeys(s.additionalProperties, out);
  return out;
}
const KEYS = allKeys(SCHEMA);

/** Sentences that say the config lacks a key, with each backticked name in them that the schema has. */
function falseAbsences(md: string): string[] {
  const out: string[] = [];
  for (const sentence of split(md)
    .prose.replace(/\n/g, ' ')
    .split(/(?<=\.)\s+(?=[A-Z`])/)) {
    // "has no key", "no config key for/named ...": a signing key the vendor "publishes no key" of is not one
    const absent =
      /\bhas no (config(uration)? )?key\b|\bno (config(uration)? )?key (for|named|called)\b|\bnot (yet )?(a key )?in the (config|schema)\b/i;
    if (!absent.test(sentence)) continue;
    for (const m of sentence.matchAll(/`([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)`/g)) {
      const name = m[1];
      const exists = name.includes('.') ? resolve(SCHEMA, name.split('.')).length > 0 : KEYS.has(name);
      if (exists) out.push(`${name}: "${sentence.trim().slice(0, 120)}"`);
    }
  }
  return out;
}

describe('the docs do not say a key is missing when the schema has it', () => {
  test('the finder catches the sentence that said so about rootDeviceName', () => {
    const found = falseAbsences(
      'The root device defaults to /dev/sda1. Images with another root device need `rootDeviceName`; the config has no key for it yet.\n',
    );
    expect(found).toEqual([
      'rootDeviceName: "Images with another root device need `rootDeviceName`; the config has no key for it yet."',
    ]);
    expect(falseAbsences('Not done yet: `refreshOnDeploy` (there is no config key for it).')).toEqual([]);
    expect(falseAbsences('The finder also reads `controllers.awsCli`: there is no config key for it.')).toEqual([
      'controllers.awsCli: "The finder also reads `controllers.awsCli`: there is no config key for it."',
    ]);
    // a repository that publishes no (signing) key is not a missing config key
    expect(falseAbsences('`xspot.repositoryGpgKey` unset only for a repository that publishes no key.')).toEqual([]);
  });

  test.each(DOCS)('%s', (doc) => {
    expect(falseAbsences(read(doc))).toEqual([]);
  });
});

// ---------------------------------------------------------------- links and anchors

/** GitHub's heading anchor. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of split(md).prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of md.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

/** Relative link targets: Markdown links in docs, and `x.md#y` mentions in config comments. */
function links(file: string): string[] {
  const text = read(file);
  if (file.endsWith('.md')) {
    return [...split(text).prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
      .map((m) => m[1])
      .filter((l) => !/^[a-z]+:/i.test(l));
  }
  return [...text.matchAll(/(?:^|[\s(])((?:\.\.?\/)*[\w./-]+\.md(?:#[\w-]+)?)/gm)].map((m) => m[1]);
}

const LINKING = [
  ...DOCS,
  ...fs
    .readdirSync(path.join(ROOT, 'config'))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `config/${f}`),
];

describe('a $schema line in a config file resolves from where the file is', () => {
  test.each(LINKING.filter((f) => f.startsWith('config/')))('%s', (file) => {
    for (const m of read(file).matchAll(/\$schema=(\S+)/g)) {
      expect(fs.existsSync(path.join(ROOT, path.dirname(file), m[1]))).toBe(true);
    }
  });
});

describe('relative links and anchors resolve', () => {
  test('slug follows GitHub', () => {
    expect(slug('`xspot-cdk fleet` reference')).toBe('xspot-cdk-fleet-reference');
    expect(slug('4. Review and deploy')).toBe('4-review-and-deploy');
  });

  test.each(LINKING)('%s', (file) => {
    const broken: string[] = [];
    for (const link of links(file)) {
      const [target, anchor] = link.split('#');
      // in config comments, a bare name is relative to the repository root (the way they are read)
      const base = file.endsWith('.md') || target.startsWith('.') ? path.dirname(file) : '.';
      const abs = target === '' ? path.join(ROOT, file) : path.join(ROOT, base, target);
      if (!fs.existsSync(abs)) {
        broken.push(`${link}: no file ${path.relative(ROOT, abs)}`);
        continue;
      }
      if (anchor && abs.endsWith('.md') && !anchors(fs.readFileSync(abs, 'utf8')).has(anchor)) {
        broken.push(`${link}: no heading #${anchor} in ${path.relative(ROOT, abs)}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

// ---------------------------------------------------------------- commands

/** Shell words of one command line (quotes, no expansion). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** Every `xspot-cdk ...` invocation in console ($-prompted lines) and bash/sh blocks. */
function commands(md: string): string[][] {
  const out: string[][] = [];
  for (const { lang, body } of split(md).blocks) {
    if (!['console', 'bash', 'sh', 'shell'].includes(lang)) continue;
    for (const raw of body.split('\n')) {
      let line = raw;
      if (lang === 'console') {
        if (!line.startsWith('$ ')) continue;
        line = line.slice(2);
      }
      line = line.replace(/\s+#.*$/, '').replace(/^#.*$/, '');
      for (const seg of line.split(/&&|\|\||[;|]/)) {
        const w = words(seg.trim());
        while (w.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(w[0])) w.shift();
        if (w[0] === 'npx' && w[1] === 'xspot-cdk') out.push(w.slice(2));
        else if (w[0] === 'xspot-cdk') out.push(w.slice(1));
      }
    }
  }
  return out;
}

/** Parses `args` with the CLI's own parser, running no action; returns commander's error, if any. */
function parseOnly(args: string[]): string | undefined {
  const program = buildProgram(args[0]);
  let error = '';
  const quiet = (c: Command) => {
    c.configureOutput({ writeOut: () => {}, writeErr: (s) => (error += s) });
    if (c.commands.length === 0) c.action(() => {});
    for (const sub of c.commands) quiet(sub);
  };
  quiet(program);
  try {
    program.parse(args, { from: 'user' });
    return undefined;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return undefined;
    return error.trim() || String(e);
  }
}

describe('commands in the docs parse with the CLI', () => {
  test('the parser refuses what the CLI refuses', () => {
    expect(parseOnly(['scheduler', 'render', '-o', 'out', '--nope'])).toMatch(/unknown option '--nope'/);
    expect(parseOnly(['scheduler', 'render', '--nope'])).toMatch(/required option '-o, --out/);
    expect(parseOnly(['render', '-c', 'x.yaml'])).toMatch(/required option/);
    expect(parseOnly(['fleet', 'status', '-c', 'site.yaml', '--region', 'eu-west-1'])).toBeUndefined();
    expect(commands('```console\n$ npx xspot-cdk fleet status -c a.yaml # x\nout\n```\n')).toEqual([
      ['fleet', 'status', '-c', 'a.yaml'],
    ]);
  });

  test.each(DOCS)('%s', (doc) => {
    const bad = commands(read(doc))
      .map((args) => [args.join(' '), parseOnly(args)] as const)
      .filter(([, err]) => err !== undefined)
      .map(([cmd, err]) => `xspot-cdk ${cmd}: ${err}`);
    expect(bad).toEqual([]);
  });
});
