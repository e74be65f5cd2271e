/** Builds `SchedulerSettings` from the typed deployment config. */

import { newVpcAzs } from '../config/az';
import { capacityOf } from '../config/instance-types';
import type { XspotConfig } from '../config/resolve';
import { newVpcPrivateSubnetCidrs } from '../config/vpc-subnets';
import { UserError } from '../errors';
import { MAX_SLOTS_PER_CONTROLLER } from './render';
import { DEFAULT_SCHEDULER_SETTINGS, type SchedulerSettings } from './types';

/** The largest worker the config offers: most vCPUs, then most memory. */
export function largestWorker(types: readonly string[]): { name: string; vcpus: number; memoryGb: number } {
  let best: { name: string; vcpus: number; memoryGb: number } | undefined;
  for (const t of types) {
    const c = capacityOf(t);
    if (!c) continue;
    const candidate = { name: t, vcpus: c.vcpus, memoryGb: Math.floor(c.memoryGiB) };
    if (
      !best ||
      candidate.vcpus > best.vcpus ||
      (candidate.vcpus === best.vcpus && candidate.memoryGb > best.memoryGb)
    ) {
      best = candidate;
    }
  }
  if (!best) {
    throw new UserError(
      `workers.onDemandTypes/spotFleetTypes: none of ${JSON.stringify(types)} has a known size; ` +
        'list at least one instance type or family such as r5 or m5.4xlarge',
    );
  }
  return best;
}

export function schedulerSettingsFromConfig(cfg: XspotConfig): SchedulerSettings {
  const s = cfg.scheduler;
  const types = [...cfg.workers.onDemandTypes, ...cfg.workers.spotFleetTypes];
  const largest = largestWorker(types);
  const memoryGb = Math.max(...types.map((t) => Math.floor(capacityOf(t)?.memoryGiB ?? 0)));
  const cpus = Math.max(...types.map((t) => capacityOf(t)?.vcpus ?? 0));
  const slots = Math.min(
    s.slotsPerController ?? cfg.resolved.slotsPerController ?? DEFAULT_SCHEDULER_SETTINGS.slotsPerController,
    MAX_SLOTS_PER_CONTROLLER,
  );
  return {
    ...DEFAULT_SCHEDULER_SETTINGS,
    type: s.type,
    queues: s.queues,
    image: s.image,
    approvedImages: cfg.containers.approvedContainerImages,
    exorunPath: s.exorunPath,
    controllerCpus: s.controllerCpus,
    controllerMemoryMb: s.controllerMemoryMb,
    defaultCpus: s.defaultCpus,
    defaultMemoryGb: s.defaultMemoryGb,
    maxCpus: cpus,
    maxMemoryGb: memoryGb,
    largestWorker: `the largest configured worker (${largest.name})`,
    slotsPerController: slots,
    scriptDir: s.scriptDir,
    maxControllers: cfg.controllers.maxCapacity,
    controllerSubnets: cfg.network.existingVpc
      ? cfg.network.existingVpc.privateSubnets.map((n) => n.cidr)
      : newVpcControllerSubnets(cfg.network.newVpc),
    ...(s.realSubmitCommand !== undefined ? { realSubmitCommand: s.realSubmitCommand } : {}),
    publishDir: `${cfg.resolved.scriptDeployDir}/latest/tools/sched-wrapper`,
  };
}

/** The private subnets a new VPC gives the controllers (the config's CIDR split as the VPC splits it). */
function newVpcControllerSubnets(newVpc: XspotConfig['network']['newVpc']): string[] {
  const az = newVpcAzs(newVpc);
  return newVpcPrivateSubnetCidrs(newVpc?.cidr ?? '10.0.0.0/16', az.kind === 'named' ? az.azs.length : az.count);
}
