#!/usr/bin/env node
// Synth benchmark: the full app on the embedded default config vs an empty CDK app, measured
// alternately in the same run (aws-cdk-lib's own load time is the floor). Prints the median of
// each and their ratio. Goal: ratio <= 1.3, for a repeated synth (the app's compile cache warm).
// The app turns off V8's optimizing tier for WebAssembly and concurrent marking (lib/synth-startup.ts:
// aws-cdk-lib's template validation engine runs once per synth); the empty app below runs with V8's
// defaults, as a user's empty app would. So that the saving is not mistaken for a smaller app, the
// default mode also times the empty app with the same three flags and prints that ratio too.
// Usage: node bench/synth.mjs [--runs N]   (run `npm run build` first)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
const app = path.join(root, 'dist', 'bin', 'xspot-cdk.js');
if (!fs.existsSync(app)) {
  console.error('bench/synth: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const empty = `
const cdk = require('aws-cdk-lib');
const app = new cdk.App();
new cdk.Stack(app, 'Empty', { env: { region: 'us-east-1' } });
app.synth();
`;
// the flags lib/synth-startup.ts sets (keep in step)
const emptySameFlags = `require('node:v8').setFlagsFromString('--no-wasm-tier-up');
require('node:v8').setFlagsFromString('--no-wasm-dynamic-tiering');
require('node:v8').setFlagsFromString('--no-concurrent-marking');
${empty}`;

// The app keeps a V8 code cache of the modules it loads (lib/compile-cache.ts). The bench gives it
// a cache directory of its own: warmed once and reused (a repeated synth, the default case, which
// the goal applies to), and, in the default mode, a new empty one per run (the first synth after a
// build or an upgrade), reported beside it.
const warmCache = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-bench-cache-'));
const coldCaches = [];
const coldCache = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-bench-cache-'));
  coldCaches.push(dir);
  return dir;
};
process.on('exit', () => {
  for (const dir of [warmCache, ...coldCaches]) fs.rmSync(dir, { recursive: true, force: true });
});

function time(args, env) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-bench-'));
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env, CDK_OUTDIR: out },
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`synth failed: ${r.stderr.slice(-2000)}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Two modes: as `cdk synth` runs it (aws-cdk-lib's built-in CloudFormation validation on, the
// default), and with CDK_VALIDATION=false (what the app itself costs; the test suite runs cfn-lint).
for (const [label, env, sameFlags] of [
  ['validation on (default)', {}, true],
  ['CDK_VALIDATION=false', { CDK_VALIDATION: 'false' }, false],
]) {
  const full = [];
  const fullCold = [];
  const base = [];
  const baseSame = [];
  const warm = { ...env, XSPOT_COMPILE_CACHE: warmCache };
  time([app], warm); // warm the file cache and the compile cache
  time(['-e', empty], env);
  for (let i = 0; i < runs; i++) {
    base.push(time(['-e', empty], env));
    full.push(time([app], warm));
    if (sameFlags) baseSame.push(time(['-e', emptySameFlags], env));
    if (sameFlags) fullCold.push(time([app], { ...env, XSPOT_COMPILE_CACHE: coldCache() }));
  }
  const ratio = median(full) / median(base);
  console.log(
    `synth, ${label}: empty CDK app median ${median(base).toFixed(0)} ms, xspot-cdk full app (warm compile cache) median ${median(full).toFixed(0)} ms (${runs} runs each; load average ${os.loadavg()[0].toFixed(2)})`,
  );
  // The goal is the default mode's (validation on, as users synth); with validation off the empty
  // app is little more than aws-cdk-lib's core, and the ratio is reported for reference.
  const goal = sameFlags ? `goal <= 1.30: ${ratio <= 1.3 ? 'ok' : 'MISSED'}` : 'for reference, no goal';
  console.log(`synth ratio, ${label} (full / empty): ${ratio.toFixed(2)} (${goal})`);
  if (sameFlags) {
    console.log(
      `synth ratio, ${label}, first synth (empty compile cache; full / empty): ${(median(fullCold) / median(base)).toFixed(2)} (full median ${median(fullCold).toFixed(0)} ms; no goal)`,
    );
    console.log(
      `synth ratio, ${label}, empty app with the app's V8 flags (full / empty): ${(median(full) / median(baseSame)).toFixed(2)} (empty median ${median(baseSame).toFixed(0)} ms; for reference, no goal)`,
    );
  }
}
