/**
 * Values derived from the parsed config (defaults that depend on other fields). Computed once,
 * right after parsing, so every consumer sees the same numbers.
 */
import { hasLocalNvme, instanceStoreGb } from './instance-types';
import type { ParsedConfig } from './schema';

export interface ResolvedValues {
  readonly imageDeployDir: string;
  readonly scriptDeployDir: string;
  readonly networkMode: 'new' | 'existing';
  /** Every CIDR the overlay must stay clear of: the VPC's blocks (and, for an existing VPC, its subnets). */
  readonly vpcCidrs: readonly string[];
  /** GB available to docker: instance store of the type, or the EBS docker volume. undefined = unknown. */
  readonly dockerDiskGb: number | undefined;
  /** Where docker's disk comes from. */
  readonly dockerDisk: 'instance-store' | 'ebs' | 'unknown';
  readonly containerFsSizeGb: number;
  /** Containers per controller (default: the guide's 80 job slots). */
  readonly maxContainers: number;
  /** Workers per controller (default: one per container, as the guide says is typical). */
  readonly maxWorkers: number;
  readonly slotsPerController: number;
  readonly lustreNeeded: boolean;
  readonly ontapNeeded: boolean;
}

export interface XspotConfig extends ParsedConfig {
  readonly resolved: ResolvedValues;
}

/** CONTAINER_FS_SIZE in GB (M/G/T suffixes, decimal, as docker's storage options take them). */
export function sizeToGb(size: string): number {
  const n = Number(size.slice(0, -1));
  switch (size.slice(-1)) {
    case 'M':
      return n / 1000;
    case 'T':
      return n * 1000;
    default:
      return n;
  }
}

/** The EBS docker volume used when the controller type has no instance store and none is configured. */
export const DEFAULT_DOCKER_VOLUME_GB = 200;
/** The guide: a single controller should be limited to 80 job slots. */
export const MAX_JOB_SLOTS = 80;
/** Containers per controller when the config does not say: one per recommended job slot. */
export const DEFAULT_CONTAINERS = MAX_JOB_SLOTS;

export function resolveConfig(parsed: ParsedConfig): XspotConfig {
  const x = parsed.xspot;
  const c = parsed.controllers;
  const existing = parsed.network.existingVpc;
  const vpcCidrs = existing
    ? [...existing.cidrBlocks, ...existing.privateSubnets.map((s) => s.cidr)]
    : [(parsed.network.newVpc ?? { cidr: '10.0.0.0/16' }).cidr];

  let dockerDisk: ResolvedValues['dockerDisk'];
  let dockerDiskGb: number | undefined;
  if (c.dockerVolumeGb !== undefined) {
    dockerDisk = 'ebs';
    dockerDiskGb = c.dockerVolumeGb;
  } else if (hasLocalNvme(c.instanceType)) {
    dockerDiskGb = instanceStoreGb(c.instanceType);
    dockerDisk = dockerDiskGb === undefined ? 'unknown' : 'instance-store';
  } else {
    dockerDisk = 'ebs';
    dockerDiskGb = DEFAULT_DOCKER_VOLUME_GB;
  }

  const fsGb = sizeToGb(x.containerFsSize);
  // The guide's limit is the metadata equation, with 80 job slots recommended per controller;
  // the docker disk bounds expected, not maximum, usage (validate.ts warns on over-commit).
  const maxContainers = c.maxContainers ?? DEFAULT_CONTAINERS;
  const maxWorkers = c.maxWorkers ?? maxContainers;
  const slots = parsed.scheduler.slotsPerController ?? Math.min(MAX_JOB_SLOTS, maxContainers);

  return {
    ...parsed,
    resolved: {
      imageDeployDir: x.imageDeployDir ?? `${x.remoteDir}/images`,
      scriptDeployDir: x.scriptDeployDir ?? `${x.remoteDir}/scripts`,
      networkMode: existing ? 'existing' : 'new',
      vpcCidrs,
      dockerDisk,
      dockerDiskGb,
      containerFsSizeGb: fsGb,
      maxContainers,
      maxWorkers,
      slotsPerController: slots,
      lustreNeeded: x.lustreNeeded || parsed.storage.type === 'lustre',
      ontapNeeded: x.ontapNeeded || parsed.storage.type === 'ontap',
    },
  };
}
