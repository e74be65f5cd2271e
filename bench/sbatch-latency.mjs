#!/usr/bin/env node
/**
 * sbatch latency with the X-Spot hooks vs plain sbatch, on one running single-node Slurm cluster
 * (test/scheduler/slurm-cluster.sh; needs root and the Debian slurm/munge packages).
 *
 * Phases, interleaved in rounds so drift hits all alike:
 *   plain   sbatch to the X-Spot partition, no JobSubmitPlugins
 *   server  the same, with job_submit.lua enabled (scontrol reconfigure toggles it)
 *   client  the sbatch wrapper + cli_filter.lua (JobSubmitPlugins off)
 * Jobs are submitted held (-H) and cancelled after each phase. Prints the median latency of
 * each phase and the ratios server/plain (goal <= 1.10) and client/plain.
 *
 * Usage: npm run build && node bench/sbatch-latency.mjs
 * Env: SBATCH_BENCH_ROUNDS (default 5), SBATCH_BENCH_JOBS (per phase and round, default 40),
 *      SBATCH_BENCH_STRICT=1 to exit 1 when the server-side goal is missed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.dirname(here);
const require = createRequire(import.meta.url);
const ROUNDS = Number(process.env.SBATCH_BENCH_ROUNDS ?? 5);
const JOBS = Number(process.env.SBATCH_BENCH_JOBS ?? 40);
const GOAL = 1.1;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

const renderJs = path.join(repo, 'dist/lib/scheduler/render.js');
if (!fs.existsSync(renderJs)) {
  console.error('sbatch-latency: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
if (process.getuid() !== 0) {
  console.error('sbatch-latency: needs root (the test cluster runs SlurmUser=root)');
  process.exit(1);
}
const { renderSchedulerFiles, writeRenderedFiles } = require(renderJs);
const { DEFAULT_SCHEDULER_SETTINGS } = require(path.join(repo, 'dist/lib/scheduler/types.js'));

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-sbatch-bench-'));
const cluster = path.join(root, 'cluster');
const client = path.join(root, 'client');
fs.mkdirSync(cluster);
fs.mkdirSync(client);
const sbatch = run('sh', ['-c', 'command -v sbatch']).trim();
writeRenderedFiles(
  path.join(root, 'render'),
  renderSchedulerFiles(
    {
      ...DEFAULT_SCHEDULER_SETTINGS,
      exorunPath: '/usr/bin/exorun',
      scriptDir: path.join(root, 'jobs'),
      realSubmitCommand: sbatch,
    },
    ['slurm'],
  ),
);
fs.copyFileSync(path.join(root, 'render/slurm/job_submit.lua'), path.join(cluster, 'job_submit.lua'));
fs.copyFileSync(path.join(root, 'render/slurm/cli_filter.lua'), path.join(client, 'cli_filter.lua'));
const script = path.join(root, 'job.sh');
fs.writeFileSync(
  script,
  [
    '#!/bin/bash',
    '#SBATCH -J bench',
    '#SBATCH -o /dev/null',
    ...Array.from({ length: 30 }, (_, i) => `echo step ${i}`),
    '',
  ].join('\n'),
);

const host = run('hostname', ['-s']).trim();
const conf = path.join(cluster, 'slurm.conf');
let stopped = false;
function stop() {
  if (stopped) return;
  stopped = true;
  spawnSync('bash', [path.join(repo, 'test/scheduler/slurm-cluster.sh'), 'stop', cluster]);
  fs.rmSync(root, { recursive: true, force: true });
}
process.on('exit', stop);
process.on('SIGINT', () => process.exit(130));

run('bash', [
  path.join(repo, 'test/scheduler/slurm-cluster.sh'),
  'start',
  cluster,
  `PartitionName=xspot Nodes=${host} State=UP`,
]);
const baseConf = fs.readFileSync(conf, 'utf8');
fs.writeFileSync(path.join(client, 'slurm.conf'), `${baseConf}CliFilterPlugins=lua\n`);

const envFor = (c) => ({ ...process.env, SLURM_CONF: c, HOME: root });
function hook(on) {
  fs.writeFileSync(conf, on ? `${baseConf}JobSubmitPlugins=lua\n` : baseConf);
  run('scontrol', ['reconfigure'], { env: envFor(conf) });
}

const phases = {
  plain: { hook: false, cmd: sbatch, conf },
  server: { hook: true, cmd: sbatch, conf },
  client: { hook: false, cmd: path.join(root, 'render/slurm/sbatch'), conf: path.join(client, 'slurm.conf') },
};
const samples = { plain: [], server: [], client: [] };

function submitOnce(p) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(p.cmd, ['-H', '-p', 'xspot', '-n', '2', '--mem=3G', script, 'a', 'b c'], {
    encoding: 'utf8',
    env: envFor(p.conf),
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 || !/Submitted batch job/.test(r.stdout)) throw new Error(`submission failed: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? ['plain', 'server', 'client'] : ['client', 'server', 'plain'];
  for (const name of order) {
    const p = phases[name];
    hook(p.hook);
    submitOnce(p); // warm-up, not counted
    for (let i = 0; i < JOBS; i++) samples[name].push(submitOnce(p));
    spawnSync('scancel', ['-u', 'root'], { env: envFor(conf) });
  }
}

const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const serverRatio = m.server / m.plain;
const clientRatio = m.client / m.plain;
console.log(`sbatch latency, median of ${ROUNDS * JOBS} submissions per phase (held jobs, one node):`);
console.log(`  plain sbatch                      ${m.plain.toFixed(2)} ms`);
console.log(`  server side (job_submit.lua)      ${m.server.toFixed(2)} ms`);
console.log(`  client side (wrapper+cli_filter)  ${m.client.toFixed(2)} ms`);
console.log(
  `ratio server/plain: ${serverRatio.toFixed(3)} (goal <= ${GOAL.toFixed(2)}) ${serverRatio <= GOAL ? 'ok' : 'MISSED'}`,
);
console.log(`ratio client/plain: ${clientRatio.toFixed(3)} (reported; no goal: it adds a Python start-up)`);
stop();
if (process.env.SBATCH_BENCH_STRICT === '1' && serverRatio > GOAL) process.exit(1);
