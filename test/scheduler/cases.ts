/**
 * The one table of submissions and their expected rewrites that drives the Slurm, Grid Engine
 * and LSF tests. A row is written in neutral terms; each scheduler's test turns it into its own
 * options (Slurm: -p/-n/--mem, Grid Engine: -q/-pe/-l mem_free, LSF: -q/-n/-R rusage[mem]).
 * Rows marked `only` exist because the schedulers read sizes without a unit differently
 * (Slurm and LSF: MB; Grid Engine: GB, as in the guide's JSV example).
 */
import type { SchedulerKind, SchedulerSettings } from '../../lib/scheduler/types';
import { DEFAULT_SCHEDULER_SETTINGS } from '../../lib/scheduler/types';

export type Expect =
  | { readonly cpus: number; readonly gb: number; readonly image?: string }
  | { readonly reject: RegExp }
  | 'unchanged';

export interface SubmitCase {
  readonly id: string;
  /** Where the row comes from: a guide example, or the behaviour it pins down. */
  readonly note: string;
  /** Queue/partition; `other` = the site's ordinary queue. Default xspot. */
  readonly queue?: 'xspot' | 'chipspot' | 'other' | 'mixed';
  /** CPUs as the user writes them (-n / -pe smp N / -n). */
  readonly cpus?: string;
  /** Memory as the user writes it (--mem / mem_free / rusage[mem]). */
  readonly mem?: string;
  /** Slurm --mem-per-cpu. */
  readonly memPerCpu?: string;
  /** Slurm --cpus-per-task. */
  readonly cpusPerTask?: string;
  /** XSPOT_IMAGE at submit time. */
  readonly image?: string;
  /** Job script arguments. */
  readonly args?: readonly string[];
  /** Submit as an array of two tasks. */
  readonly array?: boolean;
  readonly only?: readonly SchedulerKind[];
  readonly expect: Expect;
}

/** Settings every scheduler test renders with (exorun, script dir and paths are set per test). */
export const TEST_SETTINGS: SchedulerSettings = {
  ...DEFAULT_SCHEDULER_SETTINGS,
  queues: ['xspot', 'chipspot'],
  image: 'docker-base',
  approvedImages: ['docker-base', 'rocky9'],
  maxCpus: 16,
  maxMemoryGb: 64,
  largestWorker: 'the largest configured worker (r5.4xlarge)',
};

export const CASES: readonly SubmitCase[] = [
  // --- the guide's examples ---
  {
    id: 'guide-sbatch',
    note: 'guide, SLURM and sbatch: --ntasks=2 --mem=3G',
    cpus: '2',
    mem: '3G',
    expect: { cpus: 2, gb: 3 },
  },
  {
    id: 'guide-qsub-1',
    note: 'guide, qsub example 1: mem_free=1024M -> 1 CPU, 1 GB',
    mem: '1024M',
    expect: { cpus: 1, gb: 1 },
  },
  { id: 'guide-qsub-2', note: 'guide, qsub example 2: 2.5G rounds up to 3', mem: '2.5G', expect: { cpus: 1, gb: 3 } },
  {
    id: 'guide-qsub-3',
    note: 'guide, qsub example 3: -pe 2, 2.5G -> 3',
    cpus: '2',
    mem: '2.5G',
    expect: { cpus: 2, gb: 3 },
  },
  {
    id: 'guide-jsv',
    note: 'guide, AGE JSV test: mem_free=2.5 (no unit = GB) -> -m 3',
    mem: '2.5',
    only: ['gridengine'],
    expect: { cpus: 1, gb: 3 },
  },
  { id: 'guide-bsub-1', note: 'guide, bsub example 1: -n 2, default 1 GB', cpus: '2', expect: { cpus: 2, gb: 1 } },
  {
    id: 'guide-bsub-2',
    note: 'guide, bsub example 2: -n 5, 2.5G -> 3',
    cpus: '5',
    mem: '2.5G',
    expect: { cpus: 5, gb: 3 },
  },
  {
    id: 'guide-bsub-3',
    note: 'guide, bsub example 3: -n 5, 2049 (no unit = MB) -> 3',
    cpus: '5',
    mem: '2049',
    only: ['slurm', 'lsf'],
    expect: { cpus: 5, gb: 3 },
  },
  {
    id: 'guide-esub',
    note: 'guide, LSF esub test: -n 2 rusage[mem=2.5GB] -> -c 2 -m 3',
    cpus: '2',
    mem: '2.5GB',
    only: ['lsf'],
    expect: { cpus: 2, gb: 3 },
  },
  // --- rounding, defaults, sources of the request ---
  { id: 'mem-2049M', note: '2049M rounds up to 3 GB', mem: '2049M', expect: { cpus: 1, gb: 3 } },
  { id: 'defaults', note: 'nothing asked: config defaults (1 CPU, 1 GB)', expect: { cpus: 1, gb: 1 } },
  {
    id: 'chipspot',
    note: 'the second configured X-Spot queue',
    queue: 'chipspot',
    cpus: '3',
    expect: { cpus: 3, gb: 1 },
  },
  {
    id: 'mem-per-cpu',
    note: '--mem-per-cpu is per CPU: 2 x 1500M = 3000M -> 3 GB',
    cpus: '2',
    memPerCpu: '1500M',
    only: ['slurm'],
    expect: { cpus: 2, gb: 3 },
  },
  {
    id: 'cpus-per-task',
    note: '--ntasks x --cpus-per-task',
    cpus: '2',
    cpusPerTask: '3',
    mem: '4G',
    only: ['slurm'],
    expect: { cpus: 6, gb: 4 },
  },
  {
    id: 'image',
    note: 'another approved image via XSPOT_IMAGE',
    image: 'rocky9',
    expect: { cpus: 1, gb: 1, image: 'rocky9' },
  },
  {
    id: 'script-args',
    note: 'script arguments keep their quoting',
    cpus: '2',
    mem: '2G',
    args: ['plain', "it's", 'two words', 'a"b', '$HOME', ''],
    expect: { cpus: 2, gb: 2 },
  },
  {
    id: 'array',
    note: 'array jobs: every task goes through exorun',
    array: true,
    cpus: '2',
    expect: { cpus: 2, gb: 1 },
  },
  { id: 'max-ok', note: 'exactly the largest worker is fine', cpus: '16', mem: '64G', expect: { cpus: 16, gb: 64 } },
  // --- jobs that are not for X-Spot ---
  { id: 'other-queue', note: 'another queue: unchanged', queue: 'other', cpus: '2', mem: '3G', expect: 'unchanged' },
  // --- bad requests ---
  {
    id: 'bad-mem',
    note: 'memory that is not a size',
    mem: 'lots',
    expect: { reject: /not a memory (size|value)|Invalid --mem/ },
  },
  { id: 'zero-mem', note: 'zero memory', mem: '0', expect: { reject: /no memory|--mem=0/ } },
  { id: 'zero-cpus', note: 'zero CPUs', cpus: '0', expect: { reject: /CPU|tasks|range|-n/i } },
  {
    id: 'too-many-cpus',
    note: 'more CPUs than the largest worker',
    cpus: '17',
    expect: { reject: /offers 16; ask for at most/ },
  },
  { id: 'too-much-mem', note: 'more memory than the largest worker', mem: '65G', expect: { reject: /offers 64 GB/ } },
  {
    id: 'unapproved-image',
    note: 'an image that is not approved',
    image: 'evil',
    expect: { reject: /not an approved image/ },
  },
  {
    id: 'mixed-queues',
    note: 'X-Spot and another queue together',
    queue: 'mixed',
    expect: { reject: /mixes X-Spot and other/ },
  },
];

/** The rows that apply to a scheduler. */
export function casesFor(kind: SchedulerKind): SubmitCase[] {
  return CASES.filter((c) => !c.only || c.only.includes(kind));
}

/** exorun arguments a rewritten row must produce. */
export function exorunArgs(e: { cpus: number; gb: number; image?: string }): string[] {
  return ['run', '-c', String(e.cpus), '-m', String(e.gb), '-i', e.image ?? TEST_SETTINGS.image, '--'];
}
