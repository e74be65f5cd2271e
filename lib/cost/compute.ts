/**
 * From collected log state to the cost report.
 *
 * 1. resolveModel: each controller's up time (the time spans of its log files), each worker's
 *    billed interval (FinalizeWorkerMetadata -> Terminating Worker Instance) and each container's
 *    placements (started -> migrated -> stopped), all clipped to the report window. An interval
 *    whose start (or end) is not in the files read starts at the window start or the controller's
 *    first log line, whichever is later (ends at the window end or its last log line, whichever
 *    is earlier).
 * 2. pricingNeeds: the (region, instance type) pairs that need an on-demand price.
 * 3. buildReport: costs. A worker's cost is shared among the containers running on it at each
 *    moment, in proportion to their vCPUs; time with no container is the worker's idle cost.
 */
import { UserError } from '../errors';
import {
  type Collector,
  type ContainerRecord,
  type ContainerStep,
  type Warnings,
  type WorkerRecord,
  workerKey,
} from './collect';
import type {
  ContainerRow,
  ControllerRow,
  CostReport,
  DailyRow,
  FilterKind,
  InstanceTypeRow,
  JobRow,
  SegmentRow,
  WorkerRow,
} from './report';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** [start, end) in epoch ms; start is a UTC midnight, end is a UTC midnight. */
export interface CostWindow {
  readonly start: number;
  readonly end: number;
}

export interface Selection {
  readonly kind: FilterKind;
  /** The option as typed, e.g. `-c/--container`. */
  readonly flag: string;
  readonly value: string;
  readonly containers: ReadonlySet<string>;
}

interface ControllerModel {
  readonly key: string;
  readonly name: string;
  readonly region: string | undefined;
  readonly instanceType: string | undefined;
  readonly first: number;
  readonly last: number;
  /** Merged file spans clipped to the window. */
  readonly intervals: readonly [number, number][];
}

interface WorkerModel {
  readonly key: string;
  readonly rec: WorkerRecord;
  readonly controller: ControllerModel;
  readonly start: number;
  readonly end: number;
}

interface Placement {
  readonly container: ContainerRecord;
  readonly workerKey: string;
  readonly workerId: string;
  start: number;
  end: number;
}

export interface Model {
  readonly window: CostWindow;
  readonly controllers: ReadonlyMap<string, ControllerModel>;
  readonly workers: ReadonlyMap<string, WorkerModel>;
  readonly placements: readonly Placement[];
  readonly containers: ReadonlyMap<string, ContainerRecord>;
}

export interface ResolveOptions {
  /** Used for controllers whose logs carry no DefaultRegion (--region). */
  readonly fallbackRegion?: string;
  /** How to name a controller whose logs sit at the top of the logs location. */
  readonly rootName: string;
  readonly warnings: Warnings;
}

function mergeClipped(spans: readonly [number, number][], win: CostWindow): [number, number][] {
  const sorted = spans
    .map(([a, b]): [number, number] => [Math.max(a, win.start), Math.min(b, win.end)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** The steps by time (stable); as they are when already in order, as they nearly always are. */
function inTimeOrder(steps: readonly ContainerStep[]): readonly ContainerStep[] {
  for (let i = 1; i < steps.length; i++) {
    if (steps[i].ts < steps[i - 1].ts) return [...steps].sort((a, b) => a.ts - b.ts);
  }
  return steps;
}

/** Adds `c`'s placements (clipped to the window) to `out`, in time order. */
function placeContainer(
  c: ContainerRecord,
  controller: ControllerModel,
  win: CostWindow,
  out: Placement[],
  warnings: Warnings,
): void {
  const place = (workerId: string, start: number, end: number) => {
    const s = Math.max(start, win.start);
    const e = Math.min(end, win.end);
    if (e > s) out.push({ container: c, workerKey: workerKey(c.controller, workerId), workerId, start: s, end: e });
  };
  const steps = inTimeOrder(c.steps);
  let openWorker: string | undefined;
  let openStart = 0;
  for (let k = 0; k < steps.length; k++) {
    const step = steps[k];
    if (openWorker !== undefined) place(openWorker, openStart, step.ts);
    else if (step.state !== 'started') {
      // Ran before the first event we read: since the window start or the controller's first line.
      const was = step.state === 'migrated' ? step.fromWorkerId : step.workerId;
      if (was !== undefined) place(was, Math.max(win.start, controller.first), step.ts);
    }
    openWorker = step.state !== 'stopped' ? step.workerId : undefined;
    openStart = step.ts;
    if (step.state !== 'stopped' && step.workerId === undefined) {
      warnings.add(`no WorkerID for container ${c.id} ${step.state} at ${new Date(step.ts).toISOString()}`);
    }
  }
  if (openWorker !== undefined) place(openWorker, openStart, Math.min(win.end, controller.last));
}

export function resolveModel(col: Collector, win: CostWindow, opts: ResolveOptions): Model {
  const controllers = new Map<string, ControllerModel>();
  for (const c of col.controllers.values()) {
    if (c.spans.length === 0) continue;
    controllers.set(c.key, {
      key: c.key,
      name: c.instanceId ?? (c.key || opts.rootName),
      region: c.region ?? opts.fallbackRegion,
      instanceType: c.instanceType,
      first: c.spans.reduce((m, s) => Math.min(m, s[0]), Number.POSITIVE_INFINITY),
      last: c.spans.reduce((m, s) => Math.max(m, s[1]), Number.NEGATIVE_INFINITY),
      intervals: mergeClipped(c.spans, win),
    });
  }
  const defaultStart = (c: ControllerModel) => Math.max(win.start, c.first);
  const defaultEnd = (c: ControllerModel) => Math.min(win.end, c.last);

  const workers = new Map<string, WorkerModel>();
  for (const [key, w] of col.workers) {
    const controller = controllers.get(w.controller);
    if (controller === undefined) continue;
    const start = Math.max(w.ready ?? defaultStart(controller), win.start);
    const end = Math.min(w.terminated ?? defaultEnd(controller), win.end);
    if (w.ready !== undefined && w.terminated !== undefined && w.terminated < w.ready) {
      opts.warnings.add(
        `worker ${w.id} (controller ${controller.name}) terminated before FinalizeWorkerMetadata; skipped`,
      );
      continue;
    }
    if (end > start) workers.set(key, { key, rec: w, controller, start, end });
  }

  const placements: Placement[] = [];
  for (const c of col.containers.values()) {
    const controller = controllers.get(c.controller);
    if (controller !== undefined) placeContainer(c, controller, win, placements, opts.warnings);
  }
  return { window: win, controllers, workers, placements, containers: col.containers };
}

/** One on-demand price the report needs. `region` undefined means the logs did not say. */
export interface PriceNeed {
  readonly region: string | undefined;
  readonly instanceType: string;
  /** For messages: e.g. `controller i-0abc` or `worker 4465ce68`. */
  readonly who: string;
}

export function pricingNeeds(model: Model): PriceNeed[] {
  const needs: PriceNeed[] = [];
  for (const c of model.controllers.values()) {
    if (c.instanceType !== undefined && c.intervals.length > 0) {
      needs.push({ region: c.region, instanceType: c.instanceType, who: `controller ${c.name}` });
    }
  }
  for (const w of model.workers.values()) {
    if (w.rec.instanceType !== undefined) {
      needs.push({ region: w.controller.region, instanceType: w.rec.instanceType, who: `worker ${w.rec.id}` });
    }
  }
  return needs;
}

/** Picks the containers -c/-f (unique id prefix) or -j (job id) select. */
export function selectContainers(model: Model, kind: FilterKind, flag: string, value: string): Selection {
  const ids = [...model.containers.keys()];
  if (kind === 'job') {
    const hit = ids.filter((id) => model.containers.get(id)?.jobId === value);
    if (hit.length === 0) {
      const jobs = new Set(ids.map((id) => model.containers.get(id)?.jobId).filter((j) => j !== undefined));
      throw new UserError(
        `The Job ID entered was not found. ${flag} '${value}' matches none of the ${jobs.size} job ids in the logs`,
      );
    }
    return { kind, flag, value, containers: new Set(hit) };
  }
  const exact = ids.filter((id) => id === value);
  const hit = exact.length > 0 ? exact : ids.filter((id) => id.startsWith(value));
  if (hit.length === 0) {
    throw new UserError(
      `The Container ID entered was not found. ${flag} '${value}' matches none of the ${ids.length} container ids in the logs`,
    );
  }
  if (hit.length > 1) {
    const shown = hit.slice(0, 5).join(', ');
    throw new UserError(
      `The Container ID entered is not unique. ${flag} '${value}' is the start of ${hit.length} container ids (${shown}${hit.length > 5 ? ', ...' : ''}); give more characters`,
    );
  }
  return { kind, flag, value, containers: new Set(hit) };
}

export interface BuildOptions {
  readonly logs: string;
  readonly discountPercent: number;
  /** List on-demand USD/hour; every pair from pricingNeeds must be known. */
  readonly price: (region: string | undefined, instanceType: string) => number;
  readonly selection?: Selection;
  readonly warnings: Warnings;
  readonly files: CostReport['files'];
  readonly now: Date;
}

const money = (v: number) => Math.round(v * 1e6) / 1e6;
const hours = (ms: number) => Math.round((ms / HOUR_MS) * 1e4) / 1e4;
/**
 * An ISO-8601 UTC time. The native `toISOString` on purpose: a report builds tens of thousands of
 * these in a process that lives a few seconds, where a hand-written formatter runs mostly before
 * the JIT has optimised it (twice as slow as the native call) and leaves a tree of string pieces
 * per time that the garbage collector then copies; the native call makes one flat string.
 */
export function iso(t: number): string {
  return new Date(t).toISOString();
}
const day = (t: number) => iso(t).slice(0, 10);

class Acc {
  real = 0;
  od = 0;
  add(real: number, od: number): void {
    this.real += real;
    this.od += od;
  }
  figures() {
    return { realCost: money(this.real), onDemandCost: money(this.od), savings: money(this.od - this.real) };
  }
}

/** Per-UTC-day totals over the window. */
class Daily {
  private readonly days: Acc[];
  constructor(private readonly win: CostWindow) {
    this.days = Array.from({ length: Math.max(1, Math.ceil((win.end - win.start) / DAY_MS)) }, () => new Acc());
  }
  /** Spreads [t0, t1) at the given USD/hour rates over the days it touches. */
  spread(t0: number, t1: number, realRate: number, odRate: number): void {
    for (let t = t0; t < t1; ) {
      const i = Math.floor((t - this.win.start) / DAY_MS);
      const dayEnd = Math.min(t1, this.win.start + (i + 1) * DAY_MS);
      const h = (dayEnd - t) / HOUR_MS;
      this.days[i]?.add(realRate * h, odRate * h);
      t = dayEnd;
    }
  }
  rows(): DailyRow[] {
    return this.days.map((a, i) => ({ date: day(this.win.start + i * DAY_MS), ...a.figures() }));
  }
}

interface WorkerCost {
  readonly model: WorkerModel;
  readonly type: string | undefined;
  readonly spot: boolean;
  readonly rate: number;
  readonly odRate: number;
  readonly total: Acc;
  readonly allocated: Acc;
  /** Its placements, clipped to its billed time. */
  readonly placements: PlacementCost[];
  /** Distinct containers that ran on it. */
  containers: number;
}

/** A placement clipped to its worker's billed time, with the share of the worker's cost it bore. */
interface PlacementCost {
  readonly container: ContainerRecord;
  readonly worker: WorkerCost;
  readonly workerId: string;
  readonly start: number;
  readonly end: number;
  real: number;
  od: number;
}

/** A job's totals, summed over its containers as they are costed. */
interface JobTotal {
  readonly containers: string[];
  real: number;
  od: number;
  ms: number;
  start: number;
  end: number;
  /** iso(start) and iso(end): the texts of the container rows they came from, not made again. */
  startText: string;
  endText: string;
}

/**
 * `keys` sorted (as strings, by UTF-16 code units: the order of `<`), each mapped through `get`.
 * The native sort without a comparator: a report sorts tens of thousands of ids once, in code the
 * JIT has not compiled yet, where a comparator function costs about six times as much.
 */
function sortedBy<K extends string, V>(keys: K[], get: (key: K) => V): V[] {
  keys.sort();
  return keys.map(get);
}
const byStartThenContainer = (a: PlacementCost, b: PlacementCost) =>
  a.start - b.start || (a.container.id < b.container.id ? -1 : 1);

function startsInOrder(list: readonly PlacementCost[]): boolean {
  for (let k = 1; k < list.length; k++) if (list[k].start < list[k - 1].start) return false;
  return true;
}

function endsInOrder(list: readonly PlacementCost[]): boolean {
  for (let k = 1; k < list.length; k++) if (list[k].end < list[k - 1].end) return false;
  return true;
}

/**
 * shareWorker for a worker that hosted one placement (common: many workers run one container): the placement
 * bears the whole cost of its time on the worker, without the sweep's sorts and lists.
 */
function shareAlone(
  wc: WorkerCost,
  pc: PlacementCost,
  spread: ((pc: PlacementCost, t0: number, t1: number, share: number) => void) | undefined,
): void {
  wc.containers = 1;
  const h = (pc.end - pc.start) / HOUR_MS;
  wc.allocated.add(wc.rate * h, wc.odRate * h);
  pc.real += wc.rate * h;
  pc.od += wc.odRate * h;
  spread?.(pc, pc.start, pc.end, 1);
}

/**
 * Shares a worker's cost among its placements: sweeps their starts and ends in time order (an
 * end before a start at the same time); each stretch with containers on the worker is split by
 * the containers' vCPUs, in the order they arrived. `spread` (with a selection) puts a chosen
 * container's share on its days. Sets the worker's allocated cost and distinct container count.
 */
function shareWorker(
  wc: WorkerCost,
  spread: ((pc: PlacementCost, t0: number, t1: number, share: number) => void) | undefined,
): void {
  const byStart = wc.placements;
  if (byStart.length === 1) {
    shareAlone(wc, byStart[0], spread);
    return;
  }
  // Sorted only when out of order (the sort is stable: in order, it would change nothing).
  if (!startsInOrder(byStart)) byStart.sort((a, b) => a.start - b.start);
  const byEnd = [...byStart];
  if (!endsInOrder(byEnd)) byEnd.sort((a, b) => a.end - b.end);
  const distinct: ContainerRecord[] = [];
  for (const pc of byStart) if (!distinct.includes(pc.container)) distinct.push(pc.container);
  wc.containers = distinct.length;
  const active: PlacementCost[] = [];
  let cpu = 0;
  let prev = byStart[0].start;
  for (let i = 0, j = 0; j < byEnd.length; ) {
    const opening = i < byStart.length && byStart[i].start < byEnd[j].end;
    const t = opening ? byStart[i].start : byEnd[j].end;
    if (t > prev && active.length > 0) {
      const h = (t - prev) / HOUR_MS;
      wc.allocated.add(wc.rate * h, wc.odRate * h);
      for (let k = 0; k < active.length; k++) {
        const pc = active[k];
        const share = (pc.container.cpu ?? 1) / cpu;
        pc.real += wc.rate * h * share;
        pc.od += wc.odRate * h * share;
        spread?.(pc, prev, t, share);
      }
    }
    prev = t;
    if (opening) {
      const pc = byStart[i++];
      active.push(pc);
      cpu += pc.container.cpu ?? 1;
    } else {
      const pc = byEnd[j++];
      active.splice(active.indexOf(pc), 1);
      cpu -= pc.container.cpu ?? 1;
    }
  }
}

export function buildReport(model: Model, opts: BuildOptions): CostReport {
  const win = model.window;
  const factor = (100 - opts.discountPercent) / 100;
  const sel = opts.selection;
  const chosen = (containerId: string) => sel === undefined || sel.containers.has(containerId);
  const daily = new Daily(win);

  // Controllers: on-demand rate for their up time; they add nothing to the on-demand equivalent.
  const controllerCost = new Map<string, { rate: number; cost: number; ms: number }>();
  for (const c of model.controllers.values()) {
    const ms = c.intervals.reduce((s, [a, b]) => s + (b - a), 0);
    let rate = 0;
    if (c.instanceType === undefined) {
      if (ms > 0) opts.warnings.add(`no instance type for: controller ${c.name}`);
    } else if (ms > 0) {
      rate = opts.price(c.region, c.instanceType) * factor;
    }
    controllerCost.set(c.key, { rate, cost: (rate * ms) / HOUR_MS, ms });
    if (sel === undefined) for (const [a, b] of c.intervals) daily.spread(a, b, rate, 0);
  }

  // Workers: the price paid (spot) or the discounted on-demand rate; on-demand equivalent at the latter.
  const workers = new Map<string, WorkerCost>();
  for (const w of model.workers.values()) {
    const r = w.rec;
    const type = r.instanceType;
    const spot = r.spot === true;
    let odRate = 0;
    let rate = 0;
    if (type === undefined) {
      opts.warnings.add(`no instance type for: ${r.id} (controller ${w.controller.name})`);
    } else {
      odRate = opts.price(w.controller.region, type) * factor;
      rate = odRate;
      if (spot) {
        if (r.price === undefined) opts.warnings.add(`no spot price for: ${r.id}; costed at the on-demand rate`);
        else rate = r.price;
      }
    }
    const h = (w.end - w.start) / HOUR_MS;
    const total = new Acc();
    total.add(rate * h, odRate * h);
    workers.set(w.key, {
      model: w,
      type,
      spot,
      rate,
      odRate,
      total,
      allocated: new Acc(),
      placements: [],
      containers: 0,
    });
    if (sel === undefined) daily.spread(w.start, w.end, rate, odRate);
  }

  // Containers: share each worker among the containers on it, by vCPUs, moment by moment.
  // Each container's placements, in time order: the order resolveModel makes them in.
  const segmentsByContainer = new Map<ContainerRecord, PlacementCost[]>();
  for (const p of model.placements) {
    const wc = workers.get(p.workerKey);
    if (wc === undefined) continue;
    const start = Math.max(p.start, wc.model.start);
    const end = Math.min(p.end, wc.model.end);
    if (end <= start) continue;
    const pc: PlacementCost = { container: p.container, worker: wc, workerId: p.workerId, start, end, real: 0, od: 0 };
    wc.placements.push(pc);
    const list = segmentsByContainer.get(p.container);
    if (list === undefined) segmentsByContainer.set(p.container, [pc]);
    else list.push(pc);
  }
  const spreadChosen =
    sel === undefined
      ? undefined
      : (pc: PlacementCost, t0: number, t1: number, share: number) => {
          if (sel.containers.has(pc.container.id))
            daily.spread(t0, t1, pc.worker.rate * share, pc.worker.odRate * share);
        };
  for (const wc of workers.values()) if (wc.placements.length > 0) shareWorker(wc, spreadChosen);
  for (const [rec, list] of segmentsByContainer) {
    if (!chosen(rec.id)) segmentsByContainer.delete(rec);
    else if (!startsInOrder(list)) list.sort(byStartThenContainer);
  }

  const segmentRow = (pc: PlacementCost): SegmentRow => ({
    containerId: pc.container.id,
    workerId: pc.workerId,
    instanceType: pc.worker.type ?? null,
    spot: pc.worker.spot,
    start: iso(pc.start),
    end: iso(pc.end),
    hours: hours(pc.end - pc.start),
    realCost: money(pc.real),
    onDemandCost: money(pc.od),
    savings: money(pc.od - pc.real),
  });

  const controllerNames = new Map<string, string>();
  for (const c of model.controllers.values()) controllerNames.set(c.key, c.name);

  // Container rows (only chosen ones, by id) and, in the same pass, their jobs' and the summary's totals.
  const containerRows: ContainerRow[] = [];
  const jobs = new Map<string, JobTotal>();
  const sumContainers = new Acc();
  const ids: string[] = [];
  for (const id of model.containers.keys()) if (chosen(id)) ids.push(id);
  const records = sortedBy(ids, (id) => model.containers.get(id)!);
  const none: PlacementCost[] = [];
  for (const rec of records) {
    const segs = segmentsByContainer.get(rec) ?? none;
    if (segs.length === 0 && sel === undefined) continue;
    let real = 0;
    let od = 0;
    let ms = 0;
    let start = win.start;
    let end = win.start;
    const workerIds: string[] = [];
    let moves = 0;
    for (let k = 0; k < segs.length; k++) {
      const s = segs[k];
      real += s.real;
      od += s.od;
      ms += s.end - s.start;
      if (k === 0 || s.start < start) start = s.start;
      if (k === 0 || s.end > end) end = s.end;
      if (k > 0 && segs[k - 1].workerId !== s.workerId) moves++;
      if (!workerIds.includes(s.workerId)) workerIds.push(s.workerId);
    }
    sumContainers.add(real, od);
    const startText = iso(start);
    const endText = iso(end);
    if (rec.jobId !== undefined) {
      const job = jobs.get(rec.jobId);
      if (job === undefined) {
        jobs.set(rec.jobId, { containers: [rec.id], real, od, ms, start, end, startText, endText });
      } else {
        job.containers.push(rec.id);
        job.real += real;
        job.od += od;
        job.ms += ms;
        if (start < job.start) {
          job.start = start;
          job.startText = startText;
        }
        if (end > job.end) {
          job.end = end;
          job.endText = endText;
        }
      }
    }
    containerRows.push({
      id: rec.id,
      controller: controllerNames.get(rec.controller) ?? rec.controller,
      jobId: rec.jobId ?? null,
      cpu: rec.cpu ?? 1,
      start: startText,
      end: endText,
      hours: hours(ms),
      workers: workerIds,
      migrations: moves,
      // Per-worker detail only with a selection: a full report can hold many thousands of containers.
      segments: sel === undefined ? undefined : segs.map(segmentRow),
      realCost: money(real),
      onDemandCost: money(od),
      savings: money(od - real),
    });
  }
  const jobRows = sortedBy([...jobs.keys()], (id): JobRow => {
    const j = jobs.get(id)!;
    return {
      id,
      containers: j.containers,
      start: j.startText,
      end: j.endText,
      hours: hours(j.ms),
      realCost: money(j.real),
      onDemandCost: money(j.od),
      savings: money(j.od - j.real),
    };
  });

  // Worker rows: all of them, or with a selection those that hosted a chosen container.
  let hosting: Set<WorkerCost> | undefined;
  if (sel !== undefined) {
    hosting = new Set<WorkerCost>();
    for (const list of segmentsByContainer.values()) for (const pc of list) hosting.add(pc.worker);
  }
  const workerCosts: WorkerCost[] = [];
  for (const wc of workers.values()) if (hosting === undefined || hosting.has(wc)) workerCosts.push(wc);
  workerCosts.sort((a, b) => a.model.start - b.model.start || (a.model.rec.id < b.model.rec.id ? -1 : 1));
  const workerRows: WorkerRow[] = workerCosts.map((wc) => ({
    id: wc.model.rec.id,
    controller: wc.model.controller.name,
    instanceId: wc.model.rec.instanceId ?? null,
    instanceType: wc.type ?? null,
    spot: wc.spot,
    rate: money(wc.rate),
    onDemandRate: money(wc.odRate),
    start: iso(wc.model.start),
    end: iso(wc.model.end),
    hours: hours(wc.model.end - wc.model.start),
    containers: wc.containers,
    idleCost: money(wc.total.real - wc.allocated.real),
    realCost: money(wc.total.real),
    onDemandCost: money(wc.total.od),
    savings: money(wc.total.od - wc.total.real),
  }));

  // Controller rows: the controller plus its workers (summed in one pass over the workers).
  const relevantControllers = new Set<string>();
  if (sel !== undefined) {
    for (const id of sel.containers) {
      const rec = model.containers.get(id);
      if (rec !== undefined) relevantControllers.add(rec.controller);
    }
  }
  const perController = new Map<string, { workers: number; acc: Acc }>();
  for (const wc of workers.values()) {
    const key = wc.model.controller.key;
    let v = perController.get(key);
    if (v === undefined) {
      v = { workers: 0, acc: new Acc() };
      perController.set(key, v);
    }
    v.workers++;
    v.acc.add(wc.total.real, wc.total.od);
  }
  const controllerRows: ControllerRow[] = [...model.controllers.values()]
    .filter((c) => (sel === undefined ? c.intervals.length > 0 : relevantControllers.has(c.key)))
    .sort((a, b) => a.first - b.first || (a.name < b.name ? -1 : 1))
    .map((c) => {
      const cc = controllerCost.get(c.key)!;
      const ws = perController.get(c.key) ?? { workers: 0, acc: new Acc() };
      const wAcc = ws.acc;
      const all = new Acc();
      all.add(cc.cost + wAcc.real, wAcc.od);
      return {
        id: c.key,
        name: c.name,
        region: c.region ?? null,
        instanceType: c.instanceType ?? null,
        start: iso(c.intervals[0]?.[0] ?? Math.max(win.start, c.first)),
        end: iso(c.intervals[c.intervals.length - 1]?.[1] ?? Math.max(win.start, c.first)),
        hours: hours(cc.ms),
        rate: money(cc.rate),
        controllerCost: money(cc.cost),
        workers: ws.workers,
        workerCost: money(wAcc.real),
        workerOnDemandCost: money(wAcc.od),
        ...all.figures(),
      };
    });

  // By instance type: workers, or with a selection the chosen containers' placements.
  const types = new Map<string | null, { acc: Acc; workers: Set<string>; ms: number }>();
  const typeRow = (t: string | null) => {
    let v = types.get(t);
    if (v === undefined) {
      v = { acc: new Acc(), workers: new Set(), ms: 0 };
      types.set(t, v);
    }
    return v;
  };
  if (sel === undefined) {
    for (const wc of workers.values()) {
      const v = typeRow(wc.type ?? null);
      v.acc.add(wc.total.real, wc.total.od);
      v.workers.add(wc.model.key);
      v.ms += wc.model.end - wc.model.start;
    }
  } else {
    for (const list of segmentsByContainer.values()) {
      for (const pc of list) {
        const wc = pc.worker;
        const v = typeRow(wc.type ?? null);
        v.acc.add(pc.real, pc.od);
        v.workers.add(wc.model.key);
        v.ms += pc.end - pc.start;
      }
    }
  }
  const byInstanceType: InstanceTypeRow[] = [...types]
    .map(([instanceType, v]) => ({ instanceType, workers: v.workers.size, hours: hours(v.ms), ...v.acc.figures() }))
    .sort((a, b) => b.savings - a.savings || String(a.instanceType).localeCompare(String(b.instanceType)));

  // Summary.
  const total = new Acc();
  const wTotal = new Acc();
  const alloc = new Acc();
  let spotMs = 0;
  let odMs = 0;
  let ctrlCost = 0;
  let ctrlMs = 0;
  for (const wc of workers.values()) {
    wTotal.add(wc.total.real, wc.total.od);
    alloc.add(wc.allocated.real, wc.allocated.od);
  }
  for (const cc of controllerCost.values()) {
    ctrlCost += cc.cost;
    ctrlMs += cc.ms;
  }
  let workerMs = 0;
  if (sel === undefined) {
    total.add(ctrlCost + wTotal.real, wTotal.od);
    for (const wc of workers.values()) {
      const ms = wc.model.end - wc.model.start;
      workerMs += ms;
      if (wc.spot) spotMs += ms;
      else odMs += ms;
    }
  } else {
    // With a selection the figures are the chosen containers' share of the workers they ran on.
    total.add(sumContainers.real, sumContainers.od);
    for (const list of segmentsByContainer.values()) {
      for (const pc of list) {
        const ms = pc.end - pc.start;
        workerMs += ms;
        if (pc.worker.spot) spotMs += ms;
        else odMs += ms;
      }
    }
  }
  const figures = total.figures();
  const shownWorkers = sel === undefined ? [...workers.values()] : workerCosts;
  const lifetime =
    sel !== undefined && sel.kind !== 'container'
      ? [...segmentsByContainer.values()].flat().sort(byStartThenContainer).map(segmentRow)
      : null;

  return {
    tool: 'xspot-cdk cost',
    formatVersion: 1,
    generatedAt: opts.now.toISOString(),
    logs: opts.logs,
    window: {
      start: iso(win.start),
      end: iso(win.end),
      firstDay: day(win.start),
      lastDay: day(win.end - 1),
    },
    discountPercent: opts.discountPercent,
    currency: 'USD',
    filter:
      sel === undefined
        ? null
        : { kind: sel.kind, flag: sel.flag, value: sel.value, containers: [...sel.containers].sort() },
    summary: {
      ...figures,
      savingsPercent: total.od > 0 ? Math.round(((total.od - total.real) / total.od) * 1e4) / 100 : 0,
      controllerCost: money(sel === undefined ? ctrlCost : 0),
      controllerHours: hours(sel === undefined ? ctrlMs : 0),
      workerCost: money(sel === undefined ? wTotal.real : sumContainers.real),
      workerOnDemandCost: money(sel === undefined ? wTotal.od : sumContainers.od),
      workerHours: hours(workerMs),
      spotWorkerHours: hours(spotMs),
      onDemandWorkerHours: hours(odMs),
      idleWorkerCost: money(sel === undefined ? wTotal.real - alloc.real : 0),
      containerCost: money(sumContainers.real),
      controllers: controllerRows.length,
      workers: shownWorkers.length,
      spotWorkers: shownWorkers.filter((wc) => wc.spot).length,
      onDemandWorkers: shownWorkers.filter((wc) => !wc.spot).length,
      containers: containerRows.length,
      jobs: jobRows.length,
    },
    daily: daily.rows(),
    byInstanceType,
    controllers: controllerRows,
    workers: workerRows,
    containers: containerRows,
    jobs: jobRows,
    lifetime,
    files: opts.files,
    warnings: { count: opts.warnings.count, shown: [...opts.warnings.shown] },
  };
}
