#!/usr/bin/env node
/**
 * Compiles the TypeScript sources to dist/ only when they changed since the last build: the `build`
 * hook of cdk.json and `npm run deploy:local` run it before every synth, and most synths change no
 * source. The fingerprint is every .ts file under the directories tsconfig.json includes (path and
 * content) plus tsconfig.json itself; it is written to dist/.build-fingerprint after a build
 * that succeeded, with a second one of what that build left in dist/ (every .js file of those
 * directories). When a source changed, tsc runs incrementally (dist/.tsbuildinfo). When dist/ is
 * not what the last build left (another compile wrote it, say `npx tsc` while a source was edited
 * and the edit was then undone), tsc compiles everything again: dist/ is never trusted to match
 * the sources unless this script built it from them.
 *
 * Usage: node scripts/build-if-changed.js [PROJECT_ROOT]   (default: this script's project)
 * Environment: XSPOT_TSC, the compiler to run (default: node_modules/.bin/tsc of the project).
 * Exit status: 0 when dist/ is up to date, tsc's status when it failed.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

/** The top directories tsconfig.json includes ("bin/**\/*.ts" -> bin). */
function sourceDirs(root) {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  return [...new Set((tsconfig.include ?? []).map((p) => p.split('/')[0]).filter((d) => d && !d.includes('*')))];
}

function walk(dir, out, ext = '.ts') {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== '__snapshots__') walk(p, out, ext);
    } else if (e.isFile() && e.name.endsWith(ext)) out.push(p);
  }
}

/** A hash of every source's path and content, and of tsconfig.json. */
function fingerprint(root) {
  const files = [path.join(root, 'tsconfig.json')];
  for (const d of sourceDirs(root)) walk(path.join(root, d), files);
  return hashFiles(root, files);
}

/** A hash of every compiled file's path and content under dist/ (the directories of the sources). */
function outputFingerprint(root) {
  const files = [];
  for (const d of sourceDirs(root)) walk(path.join(root, 'dist', d), files, '.js');
  return hashFiles(root, files);
}

function hashFiles(root, files) {
  const h = crypto.createHash('sha256');
  for (const f of files.sort()) {
    h.update(`${path.relative(root, f)}\0`);
    h.update(fs.readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

/** The files the CDK app and the CLI run; a build is needed when one is missing. */
const OUTPUTS = ['dist/bin/xspot-cdk.js', 'dist/bin/cli.js'];

function buildIfChanged(root, tsc = process.env.XSPOT_TSC || path.join(root, 'node_modules', '.bin', 'tsc')) {
  const stampFile = path.join(root, 'dist', '.build-fingerprint');
  const now = fingerprint(root);
  const [stamp = '', builtOutputs = ''] = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').split('\n') : [];
  const outputsThere = OUTPUTS.every((o) => fs.existsSync(path.join(root, o)));
  const outputsAsBuilt = outputsThere && builtOutputs === outputFingerprint(root);
  if (stamp === now && outputsAsBuilt) return { built: false, status: 0 };
  // tsc's incremental state trusts that what it emitted is still there, unchanged: when it is not, start over
  if (!outputsAsBuilt) fs.rmSync(path.join(root, 'dist', '.tsbuildinfo'), { force: true });
  const r = spawnSync(
    tsc,
    ['-p', path.join(root, 'tsconfig.json'), '--incremental', '--tsBuildInfoFile', path.join(root, 'dist', '.tsbuildinfo')],
    { cwd: root, stdio: 'inherit' },
  );
  if (r.error) {
    process.stderr.write(`build: cannot run ${tsc}: ${r.error.message} (run npm ci first)\n`);
    return { built: true, status: 1 };
  }
  if (r.status !== 0) return { built: true, status: r.status ?? 1 };
  // the fingerprint from before the build: a source edited while tsc ran is compiled next time
  fs.writeFileSync(stampFile, `${now}\n${outputFingerprint(root)}\n`);
  return { built: true, status: 0 };
}

module.exports = { buildIfChanged, fingerprint, outputFingerprint };

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));
  process.exitCode = buildIfChanged(root).status;
}
