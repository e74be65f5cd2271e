/**
 * The cost report: what `xspot-cdk cost -o json` writes, and what the HTML and XLSX renderers read.
 * Money is USD, rounded to 6 decimals; times are ISO-8601 UTC; hours are rounded to 4 decimals.
 *
 * "real" is what was paid: the spot price logged for spot workers, the on-demand price (less the
 * discount) for on-demand workers and for controllers. "onDemand" is what the same worker hours
 * would have cost on on-demand instances (less the discount); controllers add nothing to it, since
 * without X-Spot there would be no controller. savings = onDemand - real.
 */

export type OutputFormat = 'json' | 'html' | 'xlsx';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'html', 'xlsx'];

export type FilterKind = 'container' | 'containerLife' | 'job';

export interface CostFigures {
  readonly realCost: number;
  readonly onDemandCost: number;
  readonly savings: number;
}

export interface ReportSummary extends CostFigures {
  /** savings / onDemandCost * 100, or 0 when there is no on-demand cost. */
  readonly savingsPercent: number;
  readonly controllerCost: number;
  readonly controllerHours: number;
  readonly workerCost: number;
  readonly workerOnDemandCost: number;
  readonly workerHours: number;
  readonly spotWorkerHours: number;
  readonly onDemandWorkerHours: number;
  /** Worker cost while no container ran on the worker (booting, idle, draining). */
  readonly idleWorkerCost: number;
  readonly containerCost: number;
  readonly controllers: number;
  readonly workers: number;
  readonly spotWorkers: number;
  readonly onDemandWorkers: number;
  readonly containers: number;
  readonly jobs: number;
}

export interface DailyRow extends CostFigures {
  /** UTC day, YYYY-MM-DD. */
  readonly date: string;
}

export interface InstanceTypeRow extends CostFigures {
  /** null when the logs never said. */
  readonly instanceType: string | null;
  readonly workers: number;
  readonly hours: number;
}

export interface ControllerRow extends CostFigures {
  /** Directory of its logs relative to the logs location (S3: the instance id). */
  readonly id: string;
  readonly name: string;
  readonly region: string | null;
  readonly instanceType: string | null;
  readonly start: string;
  readonly end: string;
  readonly hours: number;
  /** On-demand USD/hour after the discount. */
  readonly rate: number;
  /** The controller instance itself. */
  readonly controllerCost: number;
  readonly workers: number;
  readonly workerCost: number;
  readonly workerOnDemandCost: number;
}

export interface WorkerRow extends CostFigures {
  readonly id: string;
  readonly controller: string;
  readonly instanceId: string | null;
  readonly instanceType: string | null;
  readonly spot: boolean;
  /** USD/hour paid: the logged spot price, or the on-demand rate after the discount. */
  readonly rate: number;
  /** On-demand USD/hour after the discount. */
  readonly onDemandRate: number;
  readonly start: string;
  readonly end: string;
  readonly hours: number;
  readonly containers: number;
  readonly idleCost: number;
}

export interface SegmentRow extends CostFigures {
  readonly containerId: string;
  readonly workerId: string;
  readonly instanceType: string | null;
  readonly spot: boolean;
  readonly start: string;
  readonly end: string;
  readonly hours: number;
}

export interface ContainerRow extends CostFigures {
  readonly id: string;
  readonly controller: string;
  readonly jobId: string | null;
  readonly cpu: number;
  readonly start: string;
  readonly end: string;
  readonly hours: number;
  readonly workers: readonly string[];
  readonly migrations: number;
  /** Its time on each worker, with -c/-f/-j only (a full report can hold many thousands of containers). */
  readonly segments?: readonly SegmentRow[];
}

export interface JobRow extends CostFigures {
  readonly id: string;
  readonly containers: readonly string[];
  readonly start: string;
  readonly end: string;
  readonly hours: number;
}

export interface CostReport {
  readonly tool: 'xspot-cdk cost';
  readonly formatVersion: 1;
  readonly generatedAt: string;
  readonly logs: string;
  readonly window: {
    readonly start: string;
    readonly end: string;
    readonly firstDay: string;
    readonly lastDay: string;
  };
  readonly discountPercent: number;
  readonly currency: 'USD';
  readonly filter: null | {
    readonly kind: FilterKind;
    readonly flag: string;
    readonly value: string;
    readonly containers: readonly string[];
  };
  readonly summary: ReportSummary;
  readonly daily: readonly DailyRow[];
  readonly byInstanceType: readonly InstanceTypeRow[];
  readonly controllers: readonly ControllerRow[];
  readonly workers: readonly WorkerRow[];
  readonly containers: readonly ContainerRow[];
  readonly jobs: readonly JobRow[];
  /** With -f or -j: every placement of the selected containers, in time order. */
  readonly lifetime: readonly SegmentRow[] | null;
  readonly files: {
    readonly found: number;
    readonly read: number;
    readonly outsideWindow: number;
    readonly invalid: number;
  };
  readonly warnings: { readonly count: number; readonly shown: readonly string[] };
}
