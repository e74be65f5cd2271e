/**
 * A deterministic, dense X-Spot log set in the grammar of lib/cost/log-format.ts, richer than the
 * benchmark's: several controllers (one written at +01:00, one with no DefaultRegion), rotated
 * files, workers shared by containers of different vCPUs, containers that migrate, outlive their
 * worker, start before the first file or never stop, jobs spanning several containers, workers
 * never terminated or terminated twice, days crossed at midnight, and a few malformed lines. Used
 * to check that the report of a dense set stays the same, byte for byte, whatever the algorithm.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DENSE_TYPES: Record<string, number> = {
  'm5.xlarge': 0.192,
  'm5.large': 0.096,
  'r5.xlarge': 0.252,
  'r5.2xlarge': 0.504,
  'r5b.xlarge': 0.298,
  'r5d.4xlarge': 1.152,
};
const WORKER_TYPES = ['r5.xlarge', 'r5.2xlarge', 'r5b.xlarge', 'r5d.4xlarge'];

/** mulberry32 */
function prng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Line {
  readonly t: number;
  readonly text: string;
}

/** `2024-03-01T10:00:00.123Z`, or at +01:00 `2024-03-01 11:00:00,123+01:00`. */
function stamp(t: number, plusOne: boolean): string {
  if (!plusOne) return new Date(t).toISOString();
  const local = new Date(t + 3_600_000).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 19)},${local.slice(20, 23)}+01:00`;
}

/**
 * Writes the logs under `dir` (one directory per controller) and `pricing.json` next to them;
 * returns the logs directory. About `workersPerController` workers and twice as many containers
 * per controller over 2024-03-01 .. 03-04.
 */
export function writeDenseLogs(dir: string, workersPerController = 60, seed = 7): string {
  const rand = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  const hex = (n: number) => {
    let s = '';
    while (s.length < n)
      s += Math.floor(rand() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return s.slice(0, n);
  };
  const logs = join(dir, 'logs');
  const controllers = [
    { id: 'i-0c1c1c1c1c1c1c1c1', type: 'm5.xlarge', region: 'us-east-1', plusOne: false },
    { id: 'i-0c2c2c2c2c2c2c2c2', type: 'm5.large', region: 'us-east-1', plusOne: true },
    { id: 'i-0c3c3c3c3c3c3c3c3', type: 'm5.xlarge', region: undefined, plusOne: false },
  ];
  let jobNo = 5000;
  controllers.forEach((ctl, ci) => {
    const lines: Line[] = [];
    const t0 = Date.parse('2024-03-01T06:00:00Z') + ci * 1_800_000;
    const span = 3 * 86_400_000;
    lines.push({
      t: t0,
      text: `INFO  [scheduler] Scheduler configurations: {"SchedulerEnabled":true,${ctl.region ? `"DefaultRegion":"${ctl.region}",` : ''}"ControllerInstanceID":"${ctl.id}","ControllerInstanceType":"${ctl.type}"}`,
    });
    for (let w = 0; w < workersPerController; w++) {
      const wid = hex(8);
      const iid = `i-0${hex(16)}`;
      const type = pick(WORKER_TYPES);
      const spot = rand() < 0.8;
      const price = spot ? (DENSE_TYPES[type] * (0.25 + rand() * 0.2)).toFixed(4) : String(DENSE_TYPES[type]);
      // Some workers started before the first line (no FinalizeWorkerMetadata read).
      const early = rand() < 0.05;
      const ready = early ? t0 - int(1, 3) * 3_600_000 : t0 + int(0, span - 4 * 3_600_000);
      const life = int(10 * 60_000, 20 * 3_600_000);
      const end = ready + life;
      if (!early) {
        lines.push({
          t: ready,
          text: `INFO  [worker] FinalizeWorkerMetadata worker=${wid} instanceId=${iid} instanceType=${type} spot=${spot} price=${price}`,
        });
      }
      const n = int(1, 4);
      const job = rand() < 0.5 ? String(jobNo++) : undefined;
      for (let k = 0; k < n; k++) {
        const cid = hex(64);
        const jid = job ?? String(jobNo++);
        const cpu = pick([1, 2, 4, 8]);
        const start = Math.max(ready, t0) + int(0, Math.floor(life / 3));
        const stop = start + int(60_000, life);
        const started = `{"ContainerID":"${cid}","State":"started","WorkerID":"${wid}","JobID":"${jid}","Cpu":${cpu},"MemoryMB":8192}`;
        if (rand() < 0.04 && !early) {
          // Started before the logs: only its stop is read.
        } else {
          lines.push({ t: start, text: `INFO  [container] ContainerStateChange: ${started}` });
        }
        let on = wid;
        let stopAt = stop;
        if (rand() < 0.2) {
          // Migrates to another worker of the same controller (a made-up id some of the time).
          const to = rand() < 0.5 ? hex(8) : wid;
          const at = start + Math.floor((stop - start) / 2);
          lines.push({
            t: at,
            text: `INFO  [container] ContainerStateChange: {"ContainerID":"${cid}","State":"migrated","FromWorkerID":"${wid}","WorkerID":"${to}","JobID":"${jid}"}`,
          });
          on = to;
          stopAt = stop + int(0, 3_600_000);
        }
        if (rand() < 0.93) {
          lines.push({
            t: stopAt,
            text: `INFO  [container] ContainerStateChange: {"ContainerID":"${cid}","State":"stopped","WorkerID":"${on}","ExitCode":0}`,
          });
        }
      }
      const term = `INFO  [worker] Terminating Worker Instance: {"WorkerID":"${wid}","InstanceID":"${iid}","InstanceType":"${type}","Spot":${spot},"Price":${price},"Reason":"idle"}`;
      if (rand() < 0.9) lines.push({ t: end, text: term });
      if (rand() < 0.03) lines.push({ t: end + 60_000, text: term });
      for (let k = 0; k < 6; k++) {
        lines.push({
          t: ready + int(0, life),
          text: `DEBUG [worker] ${wid} metadata sync: mem=${int(1000, 64000)} cpu=${int(0, 16)} Worker Instance ok`,
        });
      }
    }
    lines.push({ t: t0 + 3_600_000, text: 'WARN  [worker] Terminating Worker Instance: {not json' });
    lines.push({ t: t0 + 7_200_000, text: 'INFO  [container] ContainerStateChange: {"State":"started"}' });
    lines.push({ t: t0 + 9_000_000, text: 'INFO  [worker] FinalizeWorkerMetadata instanceType=r5.xlarge' });
    lines.push({ t: t0 + span, text: 'INFO  [main] xspot controller stopping' });
    lines.sort((a, b) => a.t - b.t);
    const cdir = join(logs, ctl.id);
    mkdirSync(cdir, { recursive: true });
    const perFile = Math.ceil(lines.length / 3);
    for (let f = 0; f < 3; f++) {
      const part = lines.slice(f * perFile, (f + 1) * perFile);
      writeFileSync(
        join(cdir, `xspot.log.${3 - f}`),
        part.map((l) => `${stamp(l.t, ctl.plusOne)} ${l.text}\n`).join(''),
      );
    }
  });
  writeFileSync(join(dir, 'pricing.json'), JSON.stringify(DENSE_TYPES));
  return logs;
}
