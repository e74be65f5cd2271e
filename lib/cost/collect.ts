/**
 * Turns the events of log-format.ts into per-controller, per-worker and per-container state.
 * State grows with the number of workers and containers, never with the number of log lines.
 * Events may arrive in any order across files; everything is resolved by timestamp in compute.ts.
 */
import type { ContainerEvent, ContainerState, LogEvent, WorkerEvent } from './log-format';

export interface ControllerRecord {
  /** Directory of the controller's logs relative to the logs location ('' = top level). */
  readonly key: string;
  /** [start, end] of each log file read for this controller, epoch ms. */
  readonly spans: [number, number][];
  region?: string;
  regionTs?: number;
  instanceId?: string;
  instanceType?: string;
}

export interface WorkerRecord {
  readonly controller: string;
  readonly id: string;
  instanceId?: string;
  instanceType?: string;
  spot?: boolean;
  price?: number;
  /** `FinalizeWorkerMetadata` time: billing starts. */
  ready?: number;
  /** `Terminating Worker Instance` time: billing stops. */
  terminated?: number;
}

export interface ContainerStep {
  readonly ts: number;
  readonly state: ContainerState;
  readonly workerId?: string;
  readonly fromWorkerId?: string;
}

export interface ContainerRecord {
  readonly id: string;
  readonly controller: string;
  jobId?: string;
  cpu?: number;
  readonly steps: ContainerStep[];
}

/** Warnings are one line each; the first `keep` are kept verbatim, the rest only counted. */
export class Warnings {
  readonly shown: string[] = [];
  count = 0;
  constructor(
    private readonly keep = 200,
    private readonly sink?: (line: string) => void,
    private readonly echo = 20,
  ) {}

  add(line: string): void {
    this.count++;
    if (this.shown.length < this.keep) this.shown.push(line);
    if (this.sink && this.count <= this.echo) this.sink(line);
  }
}

export function workerKey(controller: string, workerId: string): string {
  return `${controller}\u0000${workerId}`;
}

/**
 * Records are created with every field present (undefined until known), so each kind has one
 * shape: the code that folds events into them and the report built from them stay monomorphic.
 */
export class Collector {
  readonly controllers = new Map<string, ControllerRecord>();
  readonly workers = new Map<string, WorkerRecord>();
  readonly containers = new Map<string, ContainerRecord>();
  /** `workers` by controller, then worker id: found without building the combined key. */
  private readonly workersOf = new Map<string, Map<string, WorkerRecord>>();

  constructor(readonly warnings: Warnings) {}

  controller(key: string): ControllerRecord {
    let c = this.controllers.get(key);
    if (c === undefined) {
      c = { key, spans: [], region: undefined, regionTs: undefined, instanceId: undefined, instanceType: undefined };
      this.controllers.set(key, c);
    }
    return c;
  }

  /** Records the time span of a log file read for `controller`. */
  addFile(controller: string, start: number, end: number): void {
    this.controller(controller).spans.push([Math.min(start, end), Math.max(start, end)]);
  }

  worker(controller: string, workerId: string): WorkerRecord {
    let of = this.workersOf.get(controller);
    if (of === undefined) {
      of = new Map();
      this.workersOf.set(controller, of);
    }
    let w = of.get(workerId);
    if (w === undefined) {
      w = {
        controller,
        id: workerId,
        instanceId: undefined,
        instanceType: undefined,
        spot: undefined,
        price: undefined,
        ready: undefined,
        terminated: undefined,
      };
      of.set(workerId, w);
      this.workers.set(workerKey(controller, workerId), w);
    }
    return w;
  }

  add(controller: string, ev: LogEvent): void {
    switch (ev.kind) {
      case 'scheduler': {
        const c = this.controller(controller);
        // The latest configuration wins (a controller may be reconfigured).
        if (c.regionTs === undefined || ev.ts >= c.regionTs) {
          c.regionTs = ev.ts;
          if (ev.region !== undefined) c.region = ev.region;
          if (ev.controllerInstanceId !== undefined) c.instanceId = ev.controllerInstanceId;
          if (ev.controllerInstanceType !== undefined) c.instanceType = ev.controllerInstanceType;
        }
        return;
      }
      case 'worker-ready':
      case 'worker-terminate':
        this.addWorker(controller, ev);
        return;
      case 'container':
        this.addContainer(controller, ev);
        return;
    }
  }

  private addWorker(controller: string, ev: WorkerEvent): void {
    const w = this.worker(controller, ev.workerId);
    // FinalizeWorkerMetadata is authoritative for what the worker is; the termination JSON fills gaps.
    const authoritative = ev.kind === 'worker-ready';
    if (ev.instanceId !== undefined && (authoritative || w.instanceId === undefined)) w.instanceId = ev.instanceId;
    if (ev.instanceType !== undefined && (authoritative || w.instanceType === undefined)) {
      w.instanceType = ev.instanceType;
    }
    if (ev.spot !== undefined && (authoritative || w.spot === undefined)) w.spot = ev.spot;
    if (ev.price !== undefined && (authoritative || w.price === undefined)) w.price = ev.price;
    if (ev.kind === 'worker-ready') {
      if (w.ready === undefined || ev.ts < w.ready) w.ready = ev.ts;
    } else if (w.terminated === undefined || ev.ts < w.terminated) {
      w.terminated = ev.ts;
    }
  }

  private addContainer(controller: string, ev: ContainerEvent): void {
    let c = this.containers.get(ev.containerId);
    if (c === undefined) {
      c = { id: ev.containerId, controller, jobId: undefined, cpu: undefined, steps: [] };
      this.containers.set(ev.containerId, c);
    }
    if (ev.jobId !== undefined && c.jobId === undefined) c.jobId = ev.jobId;
    if (ev.cpu !== undefined && c.cpu === undefined) c.cpu = ev.cpu;
    c.steps.push({ ts: ev.ts, state: ev.state, workerId: ev.workerId, fromWorkerId: ev.fromWorkerId });
    // Referencing a worker makes it known, so a worker with no FinalizeWorkerMetadata is reported.
    if (ev.workerId !== undefined) this.worker(c.controller, ev.workerId);
    if (ev.fromWorkerId !== undefined) this.worker(c.controller, ev.fromWorkerId);
  }
}
