/**
 * What the scheduler hooks need to know, independent of the config schema. The renderer
 * takes this interface; `schedulerSettingsFromConfig` builds it from the typed config.
 */

/** A scheduler the hooks exist for. */
export type SchedulerKind = 'slurm' | 'gridengine' | 'lsf';

export const SCHEDULER_KINDS: readonly SchedulerKind[] = ['slurm', 'gridengine', 'lsf'];

export interface SchedulerSettings {
  /** The site's scheduler; 'none' renders nothing. */
  readonly type: SchedulerKind | 'none';
  /** Queue/partition names whose jobs go through exorun (e.g. ['xspot', 'chipspot']). */
  readonly queues: readonly string[];
  /** Image used when a job asks for none (DOCKER_IMAGE). Must be in `approvedImages`. */
  readonly image: string;
  /** Images a job may ask for with XSPOT_IMAGE at submit time. */
  readonly approvedImages: readonly string[];
  /** Absolute path of exorun on the controllers. */
  readonly exorunPath: string;
  /** CPUs the scheduler reserves on the controller for one job's launcher. */
  readonly controllerCpus: number;
  /** Memory (MB) the scheduler reserves on the controller for one job's launcher. */
  readonly controllerMemoryMb: number;
  /** CPUs given to exorun when the job asks for none. */
  readonly defaultCpus: number;
  /** Memory (GB) given to exorun when the job asks for none. */
  readonly defaultMemoryGb: number;
  /** The most CPUs any configured worker type offers; larger requests are rejected. */
  readonly maxCpus: number;
  /** The most memory (GB) any configured worker type offers; larger requests are rejected. */
  readonly maxMemoryGb: number;
  /** How the largest worker is named in rejection messages, e.g. 'r5.24xlarge'. */
  readonly largestWorker: string;
  /** Job slots per controller in the Grid Engine queue / LSF host (at most 80). */
  readonly slotsPerController: number;
  /** The most controllers the fleet runs at once (controllers.maxCapacity): Slurm MaxNodeCount. */
  readonly maxControllers: number;
  /** The controllers' subnets (CIDRs): the LSF dynamic-host address ranges. */
  readonly controllerSubnets: readonly string[];
  /** Path of the original sbatch/qsub/bsub the wrappers call; per-scheduler default when unset. */
  readonly realSubmitCommand?: string;
  /**
   * Directory (on storage shared by controllers and workers) where a job's original script is
   * saved for exorun at run time. May start with $HOME.
   */
  readonly scriptDir: string;
  /** Grid Engine: the parallel environment used for CPU requests on the X-Spot queue. */
  readonly gridEnginePe: string;
  /** Grid Engine: the X-Spot queue's host list (a host group of the controllers). */
  readonly gridEngineHostList: string;
  /** Where the rendered files are published on the controllers (for the install README). */
  readonly publishDir: string;
  /**
   * Local, root-owned directory on every host where the hooks are installed from the release
   * (`<installDir>/<scheduler>/<file>`). The rendered scheduler config (`starter_method`,
   * `jsv_url`, `JOB_STARTER`, the `sbatch`/`bsub` links) points here, never at shared storage.
   */
  readonly installDir: string;
  /**
   * Submissions from inside X-Spot containers (docs/security.md): the port of the controllers'
   * submission sshd, which accepts only the per-job keys the controller's per-job hook mints.
   */
  readonly submitPort: number;
  /** Local, root-owned state of the per-job submit keys (tmpfs: gone after a reboot). */
  readonly submitStateDir: string;
  /** The address containers reach the controller at; '' = the controller's first address. */
  readonly submitAddress: string;
  /** Public half of the submission sshd's host key (the containers pin it). */
  readonly submitHostKey: string;
  /** Root-owned NAME=VALUE file of the scheduler client variables the forwarded submit command gets. */
  readonly submitEnvFile: string;
}

/** One rendered file: its text and Unix mode. */
export interface RenderedFile {
  readonly content: string;
  readonly mode: number;
}

/** Rendered files by path relative to the output directory (e.g. 'slurm/job_submit.lua'). */
export type RenderedFiles = Record<string, RenderedFile>;

/** The defaults the config schema uses, for callers that build settings by hand (tests, docs). */
export const DEFAULT_SCHEDULER_SETTINGS: SchedulerSettings = {
  type: 'slurm',
  queues: ['xspot'],
  image: 'docker-base',
  approvedImages: ['docker-base'],
  exorunPath: '/usr/bin/exorun',
  controllerCpus: 1,
  controllerMemoryMb: 50,
  defaultCpus: 1,
  defaultMemoryGb: 1,
  maxCpus: 96,
  maxMemoryGb: 768,
  largestWorker: 'r5.24xlarge',
  slotsPerController: 50,
  maxControllers: 2,
  controllerSubnets: ['10.0.0.0/24'],
  scriptDir: '$HOME/.xspot/jobs',
  gridEnginePe: 'smp',
  gridEngineHostList: '@xspot',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the guide's shell variable, shown as is
  publishDir: '${SCRIPT_DEPLOY_DIR}/latest/tools/sched-wrapper',
  installDir: '/usr/libexec/xspot-cdk/scheduler',
  submitPort: 2222,
  submitStateDir: '/run/xspot-cdk/submit',
  submitAddress: '',
  submitHostKey: '/etc/xspot-cdk/submit-sshd/ssh_host_ed25519_key.pub',
  submitEnvFile: '/etc/xspot-cdk/submit.env',
};
