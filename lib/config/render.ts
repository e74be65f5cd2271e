/**
 * Renders the typed config into the exact files the onboarding guide describes. Host scripts
 * read these files; they never template. Every value here was allow-listed by the schema, so
 * nothing needs shell quoting beyond what the guide's own syntax uses.
 */
import { stringify as tomlStringify } from 'smol-toml';
import { mergeExtra } from './extra';
import type { SiteScripts } from './load';
import type { XspotConfig } from './resolve';

const HEADER = (file: string) =>
  [
    `# ${file}: rendered by xspot-cdk from the deployment config. Do not edit on a host:`,
    '# change the config and redeploy (hosts are replaced from it).',
  ].join('\n');

const flag = (b: boolean) => (b ? '1' : '0');
const bashArray = (items: readonly string[]) => `(${items.map((i) => ` "${i}"`).join('')}${items.length ? ' ' : ''})`;

/** env.cfg, in the guide's syntax: comments on their own lines, KEY=value, arrays as ( "a" "b" ). */
export function renderEnvCfg(c: XspotConfig): string {
  const x = c.xspot;
  return [
    HEADER('env.cfg'),
    '#COMMENTS allowed on their own lines or after declarations',
    '#TRAILING slashes in dir_names are not allowed and will be stripped',
    '',
    '#REMOTE_DIR         shared storage mounted remotely, will house production assets',
    `REMOTE_DIR=${x.remoteDir}`,
    '',
    '#CONTAINER_FS_SIZE  max size the container will consume on disk',
    `CONTAINER_FS_SIZE=${x.containerFsSize}`,
    '',
    '#IMAGE_DEPLOY_DIR   where production images will reside',
    `IMAGE_DEPLOY_DIR=${c.resolved.imageDeployDir}`,
    '',
    '#SCRIPT_DEPLOY_DIR  where production tools will reside',
    `SCRIPT_DEPLOY_DIR=${c.resolved.scriptDeployDir}`,
    '',
    `LUSTRE_NEEDED=${flag(c.resolved.lustreNeeded)}`,
    `AUTOFS_NEEDED=${flag(x.autofsNeeded)}`,
    `LDAPS_NEEDED=${flag(x.ldapsNeeded)}`,
    `SSSD_NEEDED=${flag(x.sssdNeeded)}`,
    '',
    `ONTAP_NEEDED=${flag(c.resolved.ontapNeeded)}`,
    '#NetApp ONTAP folders required in the container',
    `ONTAP_FOLDERS=${bashArray(x.ontapFolders)}`,
    '',
    '#list of image names, space separated',
    `IMAGE_NAME_LIST=${bashArray(x.imageNameList)}`,
    '',
    '#XSPOT VERSIONING',
    `XSPOT_RPM_VERSION=${x.rpmVersion}`,
    '',
    `XSPOT_PLATFORM=${x.platformVersion}`,
    `XSPOT_KERNEL=${x.kernelVersion}`,
    `XSPOT_GUEST_KERNEL=${x.guestKernelVersion}`,
    '',
    `CLI_WRAPPER_VERSION=${x.cliWrapperVersion}`,
    '',
    '#IS_SYSTEMD=no is the only way to get non-systemd.template assets',
    `IS_SYSTEMD=${x.isSystemd ? 'yes' : 'no'}`,
    '',
  ].join('\n');
}

/**
 * The keys xspot-cdk writes into config.toml. `aws.ami` is written once workers.ami is set, so a
 * placeholder stands in for it here: xspot.extra may never set it.
 */
export function configTomlData(c: XspotConfig, forCollisions = false): Record<string, Record<string, unknown>> {
  const w = c.workers;
  const ami = w.ami ?? (forCollisions ? 'ami' : undefined);
  const aws: Record<string, unknown> = {
    ...(ami ? { ami } : {}),
    region: c.deployment.region,
    overlay_prefix: w.overlayPrefix,
    on_demand_types: w.onDemandTypes,
    spot_fleet_types: w.spotFleetTypes,
    hyperthreading_disabled: w.hyperthreadingDisabled,
    instance_tags: { ...w.instanceTags, 'xspot:deployment': c.deployment.name },
  };
  return { aws, license: { key: c.license.key } };
}

/** config.toml: the X-Spot controller's view of AWS (worker AMI, overlay, instance types, tags, license), plus xspot.extra.configToml. */
export function renderConfigToml(c: XspotConfig): string {
  const data = mergeExtra(configTomlData(c) as never, c.xspot.extra.configToml, 'config.toml');
  const body = tomlStringify(data);
  const note = c.workers.ami
    ? ''
    : '# ami is not set yet: build the worker image (xspot-cdk ami build --wait) and set workers.ami\n';
  return `${HEADER('config.toml')}\n${note}\n${body}\n`;
}

/** Where the site hook scripts land on controllers; dockerWrapper.toml points at them. */
export const HOOK_SCRIPT_DIR = '/etc/xspot/scripts';
export const HOOK_SCRIPT_FILES = {
  startup: 'startup.sh',
  jobStartupUser: 'job_startup_user.sh',
  jobStartupRoot: 'job_startup_root.sh',
  jobCleanupUser: 'job_cleanup_user.sh',
  jobCleanupRoot: 'job_cleanup_root.sh',
} as const satisfies Record<keyof SiteScripts, string>;

/** The keys xspot-cdk writes into dockerWrapper.toml. */
export function dockerWrapperTomlData(c: XspotConfig): Record<string, unknown> {
  const ct = c.containers;
  return {
    container_image: ct.containerImage,
    approved_container_images: ct.approvedContainerImages,
    log_level: ct.logLevel,
    env_var_filter: ct.envVarFilter,
    container_start_timeout: ct.containerStartTimeoutMinutes,
    // The guide's spelling (exorun reads this key).
    rand_backoff_ration: ct.randBackoffRatio,
    container_startup: `${HOOK_SCRIPT_DIR}/${HOOK_SCRIPT_FILES.startup}`,
    job_startup_user: `${HOOK_SCRIPT_DIR}/${HOOK_SCRIPT_FILES.jobStartupUser}`,
    job_startup_root: `${HOOK_SCRIPT_DIR}/${HOOK_SCRIPT_FILES.jobStartupRoot}`,
    job_cleanup_user: `${HOOK_SCRIPT_DIR}/${HOOK_SCRIPT_FILES.jobCleanupUser}`,
    job_cleanup_root: `${HOOK_SCRIPT_DIR}/${HOOK_SCRIPT_FILES.jobCleanupRoot}`,
    runtime: ct.runtime,
  };
}

/** dockerWrapper.toml: exorun, the CLI wrapper, plus xspot.extra.dockerWrapperToml. */
export function renderDockerWrapperToml(c: XspotConfig): string {
  const body = tomlStringify(
    mergeExtra(dockerWrapperTomlData(c) as never, c.xspot.extra.dockerWrapperToml, 'dockerWrapper.toml'),
  );
  return `${HEADER('dockerWrapper.toml')}\n# Reload on a controller with: exorun config\n\n${body}\n`;
}

/** The keys xspot-cdk writes into log_upload.env. */
export const LOG_UPLOAD_ENV_KEYS: readonly string[] = ['LOG_PATH'];

/** log_upload.env: where X-Spot writes its logs, plus xspot.extra.logUploadEnv (allow-listed values). */
export function renderLogUploadEnv(c: XspotConfig): string {
  const extra = Object.entries(c.xspot.extra.logUploadEnv);
  const clash = extra.find(([k]) => LOG_UPLOAD_ENV_KEYS.includes(k));
  if (clash) throw new Error(`xspot.extra: log_upload.env key ${clash[0]} is rendered by xspot-cdk`);
  const lines = extra.map(([k, v]) => `${k}=${v}\n`).join('');
  return `${HEADER('log_upload.env')}\nLOG_PATH=${c.logs.logPath}\n${lines}`;
}

export interface RenderedFile {
  readonly content: string;
  /** Octal file mode; 0o644 unless executable. */
  readonly mode: number;
}

/** The four files of the guide's "X-Spot Integration" step plus the hook scripts the site names, by path in the bundle. */
export function renderGuideFiles(c: XspotConfig, scripts: SiteScripts): Record<string, RenderedFile> {
  const files: Record<string, RenderedFile> = {
    'env.cfg': { content: renderEnvCfg(c), mode: 0o644 },
    'config.toml': { content: renderConfigToml(c), mode: 0o644 },
    'dockerWrapper.toml': { content: renderDockerWrapperToml(c), mode: 0o644 },
    'log_upload.env': { content: renderLogUploadEnv(c), mode: 0o644 },
  };
  for (const [key, name] of Object.entries(HOOK_SCRIPT_FILES) as [keyof SiteScripts, string][]) {
    const content = scripts[key];
    // only the site's own hooks: the others are the X-Spot packages' (never replaced by a default)
    if (content !== undefined) files[`scripts/${name}`] = { content, mode: 0o755 };
  }
  return files;
}
