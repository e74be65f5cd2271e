#!/usr/bin/env node
/**
 * Benchmark of `xspot-cdk cost` on generated X-Spot log sets of several densities.
 *
 * For each density (containers per GB of logs: sparse 100, medium 1,000, dense 10,000), generates
 * COST_BENCH_MB (default 1024) MB of controller logs in the grammar of lib/cost/log-format.ts
 * (4 controllers, files rotated at 64 MB, worker/container lifecycles buried in chatter; the
 * sparser the set, the more chatter per lifecycle and the longer each container lives) into a
 * temporary directory, then measures, in the same run and on the same (page-cached) files, in
 * interleaved runs:
 *   - baseline: `grep -c FinalizeWorkerMetadata <files>`
 *   - `node dist/bin/cli.js cost -l <dir> -o json --pricing <file>` (the full CLI)
 *   - with COST_BENCH_DETAIL=1 also the cost command registered alone (same code, without the
 *     other commands' imports), with the default threads and with --threads 1
 * and prints, per density, one line with the throughput ratio cost/grep (goal: >= 1/3) and the
 * peak RSS of the cost process (goal: < 200 MB), measured on a quarter of the logs and on all of
 * them so memory growth is visible, and the lowest and highest ratio of single interleaved pairs
 * (how much other work on the machine moved it). Then `xspot-cdk --help` (CLI start-up). Each log set is
 * deleted once measured.
 *
 * Usage: npm run build && node bench/cost-bench.mjs
 * Env:   COST_BENCH_MB=64 for a quick run; COST_BENCH_RUNS (default 3, median is reported);
 *        COST_BENCH_DENSITIES: comma-separated names (sparse, medium, dense) or containers per
 *        GB (default sparse,medium,dense); COST_BENCH_DETAIL=1 for the cost-command-alone
 *        variants; COST_BENCH_STRICT=1 to exit 1 when a goal is missed.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'bin', 'cli.js');
const TOTAL_MB = Number(process.env.COST_BENCH_MB ?? 1024);
const RUNS = Math.max(1, Number(process.env.COST_BENCH_RUNS ?? 3));
const STRICT = process.env.COST_BENCH_STRICT === '1';
const DETAIL = process.env.COST_BENCH_DETAIL === '1';
/** Containers per GB of logs. */
const DENSITY_NAMES = { sparse: 100, medium: 1000, dense: 10_000 };
const DENSITIES = (process.env.COST_BENCH_DENSITIES ?? 'sparse,medium,dense').split(',').map((d) => {
  const v = d.trim();
  const perGb = DENSITY_NAMES[v] ?? (/^\d+$/.test(v) ? Number(v) : Number.NaN);
  return { name: v, perGb };
});
/** Average bytes of a chatter line, to turn a density into lines of chatter per worker lifecycle. */
const CHATTER_LINE_BYTES = 108;
/** Containers per worker: 1 to 3. */
const CONTAINERS_PER_WORKER = 2;
const CONTROLLERS = 4;
const ROTATE_BYTES = 64 * 1024 * 1024;
const GOAL_RATIO = 1 / 3;
const GOAL_RSS_MB = 200;

if (!existsSync(CLI)) {
  console.error(`cost-bench: ${CLI} not found; run 'npm run build' first`);
  process.exit(1);
}
for (const d of DENSITIES) {
  if (!Number.isFinite(d.perGb) || d.perGb <= 0) {
    console.error(
      `cost-bench: COST_BENCH_DENSITIES: '${d.name}' is neither sparse, medium, dense nor a positive number of containers per GB`,
    );
    process.exit(1);
  }
}
if (!Number.isFinite(TOTAL_MB) || TOTAL_MB <= 0) {
  console.error(`cost-bench: COST_BENCH_MB must be a positive number, got '${process.env.COST_BENCH_MB}'`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Log generation (deterministic)
// ---------------------------------------------------------------------------------------------

// mulberry32: small, fast, and good enough to make ids unique.
let seed = 42;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const hex = (n) => {
  let s = '';
  while (s.length < n)
    s += Math.floor(rand() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, n);
};

const TYPES = {
  'r5.xlarge': 0.252,
  'r5.2xlarge': 0.504,
  'r5.4xlarge': 1.008,
  'r5b.xlarge': 0.298,
  'r5n.2xlarge': 0.596,
  'r5d.4xlarge': 1.152,
};
const TYPE_NAMES = Object.keys(TYPES);
const START = Date.parse('2024-03-01T00:00:00Z');

/**
 * Writes TOTAL_MB of logs for `perGb` containers per GB; returns the number of workers and the
 * lines of chatter per worker lifecycle used (at least one lifecycle per controller).
 */
function generate(dir, perGb) {
  const perController = Math.ceil((TOTAL_MB * 1024 * 1024) / CONTROLLERS);
  const lifecycles = Math.max(1, (perGb * TOTAL_MB) / 1024 / CONTAINERS_PER_WORKER / CONTROLLERS);
  const CHATTER = Math.max(4, Math.round(perController / lifecycles / CHATTER_LINE_BYTES));
  let workers = 0;
  for (let c = 0; c < CONTROLLERS; c++) {
    const instance = `i-0${hex(16)}`;
    const cdir = join(dir, instance);
    mkdirSync(cdir);
    let t = START + c * 60_000;
    let written = 0;
    let fileNo = 0;
    let fd = -1;
    let fileBytes = 0;
    let buf = '';
    const flush = () => {
      if (buf.length > 0) {
        writeSync(fd, buf);
        buf = '';
      }
    };
    const open = () => {
      if (fd >= 0) {
        flush();
        closeSync(fd);
      }
      fileNo++;
      fd = openSync(join(cdir, `xspot.log.${String(fileNo).padStart(3, '0')}`), 'w');
      fileBytes = 0;
    };
    const line = (text) => {
      t += int(20, 260);
      const l = `${new Date(t).toISOString()} ${text}\n`;
      buf += l;
      fileBytes += l.length;
      written += l.length;
      if (buf.length > 1 << 20) flush();
      if (fileBytes >= ROTATE_BYTES) open();
    };
    open();
    line('INFO  [main] xspot controller starting, version 2.4.1');
    line(
      `INFO  [scheduler] Scheduler configurations: {"SchedulerEnabled":true,"OnDemandTypes":["r5","r5n","r5b","r5d"],"SpotFleetTypes":["r5","r5n","r5b","r5d"],"DefaultAMI":"ami-0222b6150e1c29556","BootingTimeout":5,"DefaultContainerCpu":4,"DefaultContainerMem":4096,"PausedWorkerTypes":["r5.24xlarge"],"DefaultRegion":"us-east-1","ControllerInstanceID":"${instance}","ControllerInstanceType":"m5.xlarge"}`,
    );
    while (written < perController) {
      // One worker lifecycle with 1-3 containers, buried in CHATTER lines of chatter.
      const wid = hex(8);
      const iid = `i-0${hex(16)}`;
      const type = pick(TYPE_NAMES);
      const spot = rand() < 0.85;
      const price = spot ? (TYPES[type] * (0.25 + rand() * 0.2)).toFixed(4) : String(TYPES[type]);
      const containers = Array.from({ length: int(1, 3) }, () => hex(64));
      line(`INFO  [worker] Launching Worker Instance: type=${type} spot=${spot}`);
      line(
        `INFO  [worker] FinalizeWorkerMetadata worker=${wid} instanceId=${iid} instanceType=${type} spot=${spot} price=${price}`,
      );
      workers++;
      containers.forEach((cid, i) => {
        line(
          `INFO  [container] ContainerStateChange: {"ContainerID":"${cid}","State":"started","WorkerID":"${wid}","JobID":"${100000 + workers * 3 + i}","Cpu":${pick([2, 4, 8])},"MemoryMB":8192}`,
        );
      });
      const chatter = int(Math.round(CHATTER * 0.75), Math.round(CHATTER * 1.25));
      for (let k = 0; k < chatter; k++) {
        const cid = pick(containers);
        switch (int(0, 7)) {
          case 0:
            line(
              `INFO  [scheduler] heartbeat ok: workers=${int(1, 80)} containers=${int(1, 160)} pending=${int(0, 9)}`,
            );
            break;
          case 1:
            line(
              `DEBUG [worker] ${wid} metadata sync: mem=${int(1000, 64000)} cpu=${int(0, 16)} ip=172.31.${int(0, 255)}.${int(0, 255)}`,
            );
            break;
          case 2:
            line(`INFO  [api] GET /v1/sandboxes/${cid.slice(0, 12)} 200 ${(rand() * 5).toFixed(2)}ms`);
            break;
          case 3:
            line(
              `DEBUG [balloon] container ${cid.slice(0, 8)} mem target ${int(4096, 16384)} current ${int(4000, 16384)}`,
            );
            break;
          case 4:
            line(`DEBUG [net] overlay 10.10.${int(0, 255)}.${int(0, 255)} -> worker ${wid} rtt ${int(80, 900)}us`);
            break;
          case 5:
            line(
              `INFO  [worker] Worker ${wid} status Ready instance ${iid} type ${type} remaining mem ${int(0, 64000)} cpu ${int(0, 16)}`,
            );
            break;
          case 6:
            line(
              `DEBUG [container] container ${cid} state running on worker ${wid} cpu ${int(0, 100)}% rss ${int(100, 9000)}MB`,
            );
            break;
          default:
            line(
              `WARN  [spot] price check ${type} ${price} in us-east-1${pick(['a', 'b', 'c'])} interruption rate ${int(0, 20)}%`,
            );
        }
        if (k === Math.floor(chatter / 2) && spot && rand() < 0.2) {
          // A spot interruption: the first container migrates to a fresh worker (logged, not costed separately here).
          line(`WARN  [worker] spot interruption notice for ${iid}`);
        }
      }
      for (const cid of containers) {
        line(
          `INFO  [container] ContainerStateChange: {"ContainerID":"${cid}","State":"stopped","WorkerID":"${wid}","ExitCode":0}`,
        );
      }
      line(
        `INFO  [worker] Terminating Worker Instance: {"WorkerID":"${wid}","InstanceID":"${iid}","InstanceType":"${type}","Spot":${spot},"Price":${price},"Reason":"idle"}`,
      );
    }
    line('INFO  [main] xspot controller stopping');
    flush();
    closeSync(fd);
  }
  return { workers, chatter: CHATTER };
}

function listFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

/** `node -e COST_ONLY -- cost ...`: the cost command registered on its own. */
const COST_ONLY = `
const { Command } = require('commander');
const { registerCostCommand } = require(${JSON.stringify(join(ROOT, 'dist', 'lib', 'cli', 'cost.js'))});
const { reportError } = require(${JSON.stringify(join(ROOT, 'dist', 'lib', 'cli', 'errors.js'))});
const program = new Command('xspot-cdk');
registerCostCommand(program);
program.parseAsync(process.argv.slice(1), { from: 'user' }).catch((e) => { process.exitCode = reportError(e); });
`;

/** Preloaded into every node child: prints the process's peak RSS (all threads) when it exits. */
const RSS_HOOK = `process.on('exit', () => process.stderr.write('\\ncost-bench peak RSS kB ' + process.resourceUsage().maxRSS + '\\n'));\n`;

/** Runs a command; returns wall seconds, peak RSS in MB (node children only) and stdout. */
function measure(cmd, args) {
  const t0 = process.hrtime.bigint();
  const res = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (res.status !== 0 && !(cmd === 'grep' && res.status === 1)) {
    throw new Error(`${cmd} exited ${res.status}: ${String(res.stderr).split('\n').slice(-25).join('\n')}`);
  }
  const m = /cost-bench peak RSS kB (\d+)/.exec(res.stderr ?? '');
  return { seconds, rssMb: m ? Number(m[1]) / 1024 : undefined, stdout: res.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => bytes / (1024 * 1024);
const ok = (b) => (b ? 'ok' : 'MISSED');

const work = mkdtempSync(join(tmpdir(), 'xspot-cost-bench-'));
const cleanup = () => rmSync(work, { recursive: true, force: true });
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

/** Generates one density's logs, measures grep and the cost command on them, deletes them. */
function benchDensity({ name, perGb }, pricingFile, hook) {
  const logs = join(work, `logs-${name}`);
  const out = join(work, 'out');
  mkdirSync(logs);
  mkdirSync(out, { recursive: true });
  const g0 = Date.now();
  const { workers, chatter } = generate(logs, perGb);
  const files = listFiles(logs);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  console.log(
    `${name}: generated ${mb(bytes).toFixed(0)} MB in ${files.length} files, ${CONTROLLERS} controllers, ${workers} workers, ~${chatter} lines of chatter per worker (${((Date.now() - g0) / 1000).toFixed(1)} s)`,
  );

  const grepArgs = ['-c', 'FinalizeWorkerMetadata', ...files];
  const costArgs = (dir, extra = []) => [
    'cost',
    '-l',
    dir,
    '-s',
    '2024-03-01',
    '-e',
    '2024-04-30',
    '-o',
    'json',
    '--pricing',
    pricingFile,
    '--out-dir',
    out,
    ...extra,
  ];
  // The full CLI, as operators run it.
  const cli = (args) => [process.execPath, ['-r', hook, CLI, ...args]];
  // The cost command alone: the same code, without loading the other commands' modules.
  const costOnly = (args) => [process.execPath, ['-r', hook, '-e', COST_ONLY, '--', ...args]];

  // Warm the page cache for both, and check they agree on the number of workers.
  const grepCount = measure('grep', grepArgs)
    .stdout.trim()
    .split('\n')
    .reduce((s, l) => s + Number(l.split(':').pop()), 0);
  measure(...cli(costArgs(logs)));
  const jsonFile = readdirSync(out).find((f) => f.endsWith('.json'));
  const report = JSON.parse(readFileSync(join(out, jsonFile), 'utf8'));
  if (report.summary.workers !== grepCount || grepCount !== workers) {
    throw new Error(`worker counts disagree: generated ${workers}, grep ${grepCount}, cost ${report.summary.workers}`);
  }

  // Interleaved runs, so load from elsewhere hits every variant alike.
  const variants = {
    grep: () => measure('grep', grepArgs),
    cli: () => measure(...cli(costArgs(logs))),
  };
  if (DETAIL) {
    variants.alone = () => measure(...costOnly(costArgs(logs)));
    variants.alone1 = () => measure(...costOnly(costArgs(logs, ['--threads', '1'])));
  }
  const runs = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [k, run] of Object.entries(variants)) runs[k].push(run());
  const quarterDir = join(logs, readdirSync(logs).sort()[0]);
  const quarterBytes = listFiles(quarterDir).reduce((s, f) => s + statSync(f).size, 0);
  const quarter = measure(...cli(costArgs(quarterDir)));
  rmSync(logs, { recursive: true, force: true });

  const secs = (k) => median(runs[k].map((r) => r.seconds));
  const rss = (k) => Math.max(...runs[k].map((r) => r.rssMb ?? 0));
  const grepS = secs('grep');
  const line = (label, k) => {
    const s = secs(k);
    const memory = k === 'grep' ? '' : `, peak RSS ${rss(k).toFixed(0)} MB`;
    console.log(
      `  ${label.padEnd(42)} ${s.toFixed(3)} s  ${String((mb(bytes) / s).toFixed(0)).padStart(5)} MB/s  ratio ${(grepS / s).toFixed(2)}${memory}`,
    );
  };
  line('grep -c FinalizeWorkerMetadata (baseline)', 'grep');
  line('xspot-cdk cost -o json', 'cli');
  if (DETAIL) {
    line('  cost command alone (default threads)', 'alone');
    line('  cost command alone, --threads 1', 'alone1');
  }
  console.log(
    `  report: ${report.summary.workers} workers, ${report.summary.containers} containers; real cost $${report.summary.realCost.toFixed(2)}, on-demand $${report.summary.onDemandCost.toFixed(2)}, savings ${report.summary.savingsPercent}%`,
  );
  return {
    name,
    perGb,
    mb: mb(bytes),
    containers: report.summary.containers,
    ratio: grepS / secs('cli'),
    // Each interleaved pair's own ratio: how far other work on the machine moved it.
    pairRatios: runs.grep.map((g, i) => g.seconds / runs.cli[i].seconds),
    rssMb: rss('cli'),
    quarterRssMb: quarter.rssMb ?? 0,
    quarterMb: mb(quarterBytes),
  };
}

try {
  const pricingFile = join(work, 'us-east-1.json');
  writeFileSync(pricingFile, JSON.stringify({ 'm5.xlarge': 0.192, ...TYPES }));
  const hook = join(work, 'rss-hook.cjs');
  writeFileSync(hook, RSS_HOOK);
  console.log(
    `${TOTAL_MB} MB per density, median of ${RUNS} interleaved runs, ${availableParallelism()} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const results = DENSITIES.map((d) => benchDensity(d, pricingFile, hook));
  const startup = [];
  for (let i = 0; i < RUNS; i++) startup.push(measure(process.execPath, ['-r', hook, CLI, '--help']));
  console.log(
    `xspot-cdk --help (CLI start-up alone): ${median(startup.map((r) => r.seconds)).toFixed(3)} s, peak RSS ${Math.max(...startup.map((r) => r.rssMb ?? 0)).toFixed(0)} MB`,
  );
  let missed = false;
  for (const r of results) {
    const good = r.ratio >= GOAL_RATIO && r.rssMb < GOAL_RSS_MB;
    missed ||= !good;
    console.log(
      `density ${r.name} (${r.perGb} containers/GB; ${r.mb.toFixed(0)} MB, ${r.containers} containers): ratio cost/grep ${r.ratio.toFixed(2)} (goal >= ${GOAL_RATIO.toFixed(2)}) ${ok(r.ratio >= GOAL_RATIO)}; peak RSS ${r.rssMb.toFixed(0)} MB (goal < ${GOAL_RSS_MB} MB) ${ok(r.rssMb < GOAL_RSS_MB)}, ${r.quarterRssMb.toFixed(0)} MB on ${r.quarterMb.toFixed(0)} MB; ratio per run ${Math.min(...r.pairRatios).toFixed(2)}-${Math.max(...r.pairRatios).toFixed(2)}`,
    );
  }
  if (STRICT && missed) process.exitCode = 1;
} finally {
  cleanup();
}
