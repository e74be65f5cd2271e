/**
 * conf/runtime.env and the default Dockerfiles: the values the controller runtime reads that the
 * guide does not keep in env.cfg (see docs/controller-contract.md for the key list).
 */
import { schedulerSettingsFromConfig } from '../scheduler/from-config';
import { repositoryKey } from './package-signing';
import type { XspotConfig } from './resolve';

/**
 * How this controller joins and leaves the scheduler (scripts/scheduler-lib.sh): the scheduler,
 * the job slots it runs across all X-Spot queues, and what one launcher allocates.
 */
export function membershipValues(c: XspotConfig): [string, string][] {
  const s = c.scheduler;
  return [
    ['XSPOT_SCHEDULER', s.type],
    ['XSPOT_SCHED_SLOTS', String(c.resolved.slotsPerController)],
    ['XSPOT_SCHED_LAUNCHER_CPUS', String(s.controllerCpus)],
    ['XSPOT_SCHED_LAUNCHER_MEMORY_MB', String(s.controllerMemoryMb)],
    ['XSPOT_SCHED_QUEUES', s.queues.join(' ')],
  ];
}

const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * XSPOT_REPO_GPGKEY: the key's https URL, `file` (the armored key is conf/repo-gpg-key.asc) or
 * `none` (no key, and the config acknowledged unsigned-packages). No key without that
 * acknowledgement renders '', which the host check refuses as the config check does.
 */
export function runtimeGpgKey(c: XspotConfig): string {
  const key = repositoryKey(c.xspot.repositoryGpgKey);
  if (key.kind === 'url') return key.url;
  if (key.kind === 'armored') return 'file';
  return c.acknowledgedWarnings.some((a) => a.id === 'unsigned-packages') ? 'none' : '';
}

export function renderRuntimeEnv(c: XspotConfig): string {
  const lines: [string, string][] = [
    ['XSPOT_REPO_URL', c.xspot.repositoryUrl],
    ['XSPOT_REPO_GPGKEY', runtimeGpgKey(c)],
    ['XSPOT_REPO_GPGCHECK_METADATA', c.xspot.repositoryMetadataSigned ? '1' : '0'],
    ['XSPOT_DOCKER_PACKAGE', 'docker'],
    ['XSPOT_DOCKER_DISK', c.resolved.dockerDisk === 'ebs' ? 'ebs' : 'instance-store'],
    ['MAX_CONTAINERS', String(c.resolved.maxContainers)],
    ['MAX_WORKERS', String(c.resolved.maxWorkers)],
    ['XSPOT_CONTAINER_FILTER', ''],
    ...membershipValues(c),
    // Membership (scheduler-leave.sh, scheduler-join.sh) drains and resumes: no site command.
    ['XSPOT_DRAIN_COMMAND', ''],
    ['XSPOT_UNDRAIN_COMMAND', ''],
    ['XSPOT_BUILD_MISSING_IMAGES', '1'],
    ['XSPOT_IMDS_USERS', c.controllers.imdsUsers.join(' ')],
    ['XSPOT_BASE_EXCLUDES', c.containers.baseSnapshotExcludes.join(' ')],
    ['XSPOT_SCHED_INSTALL_DIR', schedulerSettingsFromConfig(c).installDir],
  ];
  return [
    '# runtime.env: rendered by xspot-cdk; values the controller runtime reads beyond env.cfg.',
    ...lines.map(([k, v]) => `${k}=${q(v)}`),
    '',
  ].join('\n');
}

/** Directory of an image's build files in the bundle: the name without its :tag. */
export function imageBuildDir(image: string): string {
  return `images/${image.replace(/:[^/]*$/, '')}/docker_build_path`;
}

export const DEFAULT_DOCKERFILE = [
  '# Default X-Spot image: the base snapshot of a validated controller, unchanged.',
  '# Name your own Dockerfile in the config (containers.dockerfiles) to customize it.',
  'ARG BASE_IMAGE',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JS template
  'FROM ${BASE_IMAGE}',
  '',
].join('\n');
