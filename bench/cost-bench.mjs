#!/usr/bin/env node
/**
 * Benchmark of `xspot-cdk cost` on a generated X-Spot log set.
 *
 * Generates COST_BENCH_MB (default 1024) MB of controller logs in the grammar of
 * lib/cost/log-format.ts (4 controllers, files rotated at 64 MB, chatter with a worker/container
 * lifecycle every ~2000 lines) into a temporary directory, then measures, in the same run and on
 * the same (page-cached) files, in interleaved runs:
 *   - baseline: `grep -c FinalizeWorkerMetadata <files>`
 *   - `node dist/bin/cli.js cost -l <dir> -o json --pricing <file>` (the full CLI)
 *   - the cost command registered alone (same code, without the other commands' imports), with
 *     the default threads and with --threads 1, and `xspot-cdk --help` (CLI start-up)
 * and prints the throughput of each, the ratio to grep (goal: cost >= 1/3 of grep), and the peak
 * RSS of the full CLI (goal: < 200 MB) on a quarter of the logs and on all of them, so memory
 * growth is visible. The temporary directory is deleted at the end.
 *
 * Usage: npm run build && node bench/cost-bench.mjs
 * Env:   COST_BENCH_MB=64 for a quick run; COST_BENCH_RUNS (default 3, median is reported);
 *        COST_BENCH_CHATTER: lines of chatter per worker lifecycle (default 2000; more chatter
 *        means fewer workers and containers per GB); COST_BENCH_STRICT=1 to exit 1 when a goal
 *        is missed.
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
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'bin', 'cli.js');
const TOTAL_MB = Number(process.env.COST_BENCH_MB ?? 1024);
const RUNS = Math.max(1, Number(process.env.COST_BENCH_RUNS ?? 3));
const STRICT = process.env.COST_BENCH_STRICT === '1';
const CHATTER = Number(process.env.COST_BENCH_CHATTER ?? 2000);
const CONTROLLERS = 4;
const ROTATE_BYTES = 64 * 1024 * 1024;
const GOAL_RATIO = 1 / 3;
const GOAL_RSS_MB = 200;

if (!existsSync(CLI)) {
  console.error(`cost-bench: ${CLI} not found; run 'npm run build' first`);
  process.exit(1);
}
if (!Number.isFinite(CHATTER) || CHATTER < 4) {
  console.error(`cost-bench: COST_BENCH_CHATTER must be a number >= 4, got '${process.env.COST_BENCH_CHATTER}'`);
  process.exit(1);
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

function generate(dir) {
  const perController = Math.ceil((TOTAL_MB * 1024 * 1024) / CONTROLLERS);
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
      // One worker lifecycle with 1-3 containers, buried in ~2000 lines of chatter.
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
  return { workers, end: START + 40 * 86_400_000 };
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

const HAVE_TIME = existsSync('/usr/bin/time');

/** `node -e COST_ONLY -- cost ...`: the cost command registered on its own. */
const COST_ONLY = `
const { Command } = require('commander');
const { registerCostCommand } = require(${JSON.stringify(join(ROOT, 'dist', 'lib', 'cli', 'cost.js'))});
const { reportError } = require(${JSON.stringify(join(ROOT, 'dist', 'lib', 'cli', 'errors.js'))});
const program = new Command('xspot-cdk');
registerCostCommand(program);
program.parseAsync(process.argv.slice(1), { from: 'user' }).catch((e) => { process.exitCode = reportError(e); });
`;

/** Runs a command; returns wall seconds, peak RSS in MB (when /usr/bin/time is there), stdout. */
function measure(cmd, args) {
  const argv = HAVE_TIME ? ['/usr/bin/time', ['-v', cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const res = spawnSync(argv[0], argv[1], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (res.status !== 0 && !(cmd === 'grep' && res.status === 1)) {
    throw new Error(`${cmd} exited ${res.status}: ${res.stderr.split('\n').slice(-25).join('\n')}`);
  }
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr ?? '');
  return { seconds, rssMb: m ? Number(m[1]) / 1024 : undefined, stdout: res.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => bytes / (1024 * 1024);

const work = mkdtempSync(join(tmpdir(), 'xspot-cost-bench-'));
const cleanup = () => rmSync(work, { recursive: true, force: true });
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  const logs = join(work, 'logs');
  const out = join(work, 'out');
  mkdirSync(logs);
  mkdirSync(out);
  const pricingFile = join(work, 'us-east-1.json');
  writeFileSync(pricingFile, JSON.stringify({ 'm5.xlarge': 0.192, ...TYPES }));

  const g0 = Date.now();
  const { workers } = generate(logs);
  const files = listFiles(logs);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  console.log(
    `generated ${mb(bytes).toFixed(0)} MB in ${files.length} files, ${CONTROLLERS} controllers, ${workers} workers, ~${CHATTER} lines of chatter per worker (${((Date.now() - g0) / 1000).toFixed(1)} s)`,
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
  const cli = (args) => [process.execPath, [CLI, ...args]];
  // The cost command alone: the same code, without loading the other commands' modules.
  const costOnly = (args) => [process.execPath, ['-e', COST_ONLY, '--', ...args]];

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
    alone: () => measure(...costOnly(costArgs(logs))),
    alone1: () => measure(...costOnly(costArgs(logs, ['--threads', '1']))),
    startup: () => measure(...cli(['--help'])),
  };
  const runs = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [k, run] of Object.entries(variants)) runs[k].push(run());
  const quarterDir = join(logs, readdirSync(logs).sort()[0]);
  const quarterBytes = listFiles(quarterDir).reduce((s, f) => s + statSync(f).size, 0);
  const quarter = measure(...cli(costArgs(quarterDir)));

  const secs = (k) => median(runs[k].map((r) => r.seconds));
  const rss = (k) => Math.max(...runs[k].map((r) => r.rssMb ?? 0));
  const ok = (b) => (b ? 'ok' : 'MISSED');
  const grepS = secs('grep');
  const line = (label, k) => {
    const s = secs(k);
    const memory = HAVE_TIME ? `, peak RSS ${rss(k).toFixed(0)} MB` : '';
    console.log(
      `${label.padEnd(44)} ${s.toFixed(3)} s  ${String((mb(bytes) / s).toFixed(0)).padStart(5)} MB/s  ratio ${(grepS / s).toFixed(2)}${memory}`,
    );
  };
  console.log(`median of ${RUNS} interleaved runs over ${mb(bytes).toFixed(0)} MB (${availableParallelism()} CPUs):`);
  line('grep -c FinalizeWorkerMetadata (baseline)', 'grep');
  line('xspot-cdk cost -o json', 'cli');
  line('  cost command alone (default threads)', 'alone');
  line('  cost command alone, --threads 1', 'alone1');
  console.log(
    `${'  xspot-cdk --help (CLI start-up alone)'.padEnd(44)} ${secs('startup').toFixed(3)} s${HAVE_TIME ? `, peak RSS ${rss('startup').toFixed(0)} MB` : ''}`,
  );
  const ratio = grepS / secs('cli');
  console.log(
    `throughput ratio xspot-cdk cost / grep: ${ratio.toFixed(2)} (goal >= ${GOAL_RATIO.toFixed(2)}) ${ok(ratio >= GOAL_RATIO)}`,
  );
  if (HAVE_TIME) {
    console.log(
      `peak RSS of xspot-cdk cost: ${(quarter.rssMb ?? 0).toFixed(0)} MB on ${mb(quarterBytes).toFixed(0)} MB of logs, ${rss('cli').toFixed(0)} MB on ${mb(bytes).toFixed(0)} MB (goal < ${GOAL_RSS_MB} MB) ${ok(rss('cli') < GOAL_RSS_MB)}`,
    );
  } else {
    console.log('peak RSS: /usr/bin/time not found, not measured');
  }
  console.log(
    `report: ${report.summary.workers} workers, ${report.summary.containers} containers; real cost $${report.summary.realCost.toFixed(2)}, on-demand $${report.summary.onDemandCost.toFixed(2)}, savings ${report.summary.savingsPercent}%`,
  );
  if (STRICT && (ratio < GOAL_RATIO || (HAVE_TIME && rss('cli') >= GOAL_RSS_MB))) process.exitCode = 1;
} finally {
  cleanup();
}
