/**
 * conf/runtime.env and the default Dockerfiles: the values the controller runtime reads that the
 * guide does not keep in env.cfg (see docs/controller-contract.md for the key list).
 */
import type { XspotConfig } from './resolve';

/** Commands drain.sh / undrain.sh run to stop and resume job dispatch to this controller. */
export function drainCommands(c: XspotConfig): { drain: string; undrain: string } {
  switch (c.scheduler.type) {
    case 'slurm':
      return {
        drain: 'scontrol update nodename=$(hostname -s) state=drain reason=xspot-cdk-drain',
        undrain: 'scontrol update nodename=$(hostname -s) state=resume',
      };
    case 'gridengine':
      return {
        drain: c.scheduler.queues.map((q) => `qmod -d ${q}@$(hostname)`).join(' && '),
        undrain: c.scheduler.queues.map((q) => `qmod -e ${q}@$(hostname)`).join(' && '),
      };
    case 'lsf':
      return { drain: 'badmin hclose -C xspot-cdk-drain $(hostname)', undrain: 'badmin hopen $(hostname)' };
    default:
      return { drain: '', undrain: '' };
  }
}

const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

export function renderRuntimeEnv(c: XspotConfig): string {
  const { drain, undrain } = drainCommands(c);
  const lines: [string, string][] = [
    ['XSPOT_REPO_URL', c.xspot.repositoryUrl],
    ['XSPOT_REPO_GPGKEY_URL', ''],
    ['XSPOT_DOCKER_PACKAGE', 'docker'],
    ['XSPOT_DOCKER_DISK', c.resolved.dockerDisk === 'ebs' ? 'ebs' : 'instance-store'],
    ['MAX_CONTAINERS', String(c.resolved.maxContainers)],
    ['MAX_WORKERS', String(c.resolved.maxWorkers)],
    ['XSPOT_CONTAINER_FILTER', ''],
    ['XSPOT_DRAIN_COMMAND', drain],
    ['XSPOT_UNDRAIN_COMMAND', undrain],
    ['XSPOT_BUILD_MISSING_IMAGES', '1'],
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
