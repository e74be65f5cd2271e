/**
 * Renders the scheduler hooks (Slurm job_submit/cli_filter + sbatch wrapper, Grid Engine JSV +
 * starter, LSF esub + bsub wrapper), their scheduler config snippets and an install README
 * from `SchedulerSettings`. Host scripts carry a `BEGIN CONFIGURATION` block that is replaced
 * here; they never template anything themselves.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ALLOW } from '../config/patterns';
import { UserError } from '../errors';
import { type RenderedFiles, SCHEDULER_KINDS, type SchedulerKind, type SchedulerSettings } from './types';

const QUEUE = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;
const ABS_PATH = /^\/(?!.*\/\.\.?(\/|$))[A-Za-z0-9._+@-]+(\/[A-Za-z0-9._+@-]+)*$/;
const SCRIPT_DIR = ALLOW.userDir.pattern;
const PUBLISH_DIR = /^(\$\{?[A-Z_]+\}?|\/[A-Za-z0-9._+@-]+)(\/[A-Za-z0-9._+@-]+)*$/;
const PE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const HOST_LIST = /^@?[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/;
const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const WORKER_NAME = /^[A-Za-z0-9 ._()-]{1,80}$/;
const ADDRESS = /^[0-9A-Fa-f.:]{2,45}$/;

/** The account sshd runs the submission AuthorizedKeysCommand as (no shell, no home). */
export const SUBMIT_AKC_USER = 'xspot-akc';

/** The guide: a single controller should be limited to 80 job slots. */
export const MAX_SLOTS_PER_CONTROLLER = 80;

/** Where the sources of the host scripts live (works from the TypeScript sources and from dist/). */
export function schedulerAssetsDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'assets', 'scheduler');
    if (fs.existsSync(path.join(candidate, 'slurm', 'job_submit.lua'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find assets/scheduler next to the xspot-cdk package');
    dir = up;
  }
}

function fail(field: string, value: unknown, allowed: string): never {
  throw new UserError(`scheduler.${field}: ${JSON.stringify(value)} is not allowed; expected ${allowed}`);
}

function checkInt(field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(field, value, max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number ${min}-${max}`);
  }
}

/** Throws a UserError naming the first field that cannot be rendered safely. */
export function validateSchedulerSettings(s: SchedulerSettings): void {
  if (s.queues.length === 0) fail('queues', s.queues, 'at least one queue/partition name');
  s.queues.forEach((q, i) => {
    if (!QUEUE.test(q)) fail(`queues[${i}]`, q, 'a name of letters, digits and _ . - starting with a letter');
  });
  if (s.approvedImages.length === 0) fail('approvedImages', s.approvedImages, 'at least one image');
  s.approvedImages.forEach((img, i) => {
    if (!IMAGE.test(img)) fail(`approvedImages[${i}]`, img, 'an image name of letters, digits and . _ / : @ -');
  });
  if (!s.approvedImages.includes(s.image)) {
    fail('image', s.image, `one of the approved container images (${s.approvedImages.join(', ')})`);
  }
  if (!ABS_PATH.test(s.exorunPath)) fail('exorunPath', s.exorunPath, 'an absolute path such as /usr/bin/exorun');
  if (s.realSubmitCommand !== undefined && !ABS_PATH.test(s.realSubmitCommand)) {
    fail('realSubmitCommand', s.realSubmitCommand, 'an absolute path such as /opt/slurm/bin/sbatch.orig');
  }
  checkInt('controllerCpus', s.controllerCpus, 1, 64);
  checkInt('controllerMemoryMb', s.controllerMemoryMb, 1, 65536);
  checkInt('defaultCpus', s.defaultCpus, 1);
  checkInt('defaultMemoryGb', s.defaultMemoryGb, 1);
  checkInt('maxCpus', s.maxCpus, 1);
  checkInt('maxMemoryGb', s.maxMemoryGb, 1);
  if (s.defaultCpus > s.maxCpus) {
    fail('defaultCpus', s.defaultCpus, `at most ${s.maxCpus} (the CPUs of ${s.largestWorker})`);
  }
  if (s.defaultMemoryGb > s.maxMemoryGb) {
    fail('defaultMemoryGb', s.defaultMemoryGb, `at most ${s.maxMemoryGb} (the memory of ${s.largestWorker})`);
  }
  checkInt('slotsPerController', s.slotsPerController, 1, MAX_SLOTS_PER_CONTROLLER);
  checkInt('maxControllers', s.maxControllers, 1, 1000);
  s.controllerSubnets.forEach((c, i) => {
    if (!CIDR.test(c)) fail(`controllerSubnets[${i}]`, c, 'an IPv4 CIDR such as 10.0.1.0/24');
  });
  if (!WORKER_NAME.test(s.largestWorker)) fail('largestWorker', s.largestWorker, 'a short instance type name');
  if (!SCRIPT_DIR.test(s.scriptDir)) fail('scriptDir', s.scriptDir, ALLOW.userDir.allowed);
  if (!PE.test(s.gridEnginePe)) fail('gridEnginePe', s.gridEnginePe, 'a parallel environment name');
  if (!HOST_LIST.test(s.gridEngineHostList)) fail('gridEngineHostList', s.gridEngineHostList, 'a host or @hostgroup');
  if (!PUBLISH_DIR.test(s.publishDir)) fail('publishDir', s.publishDir, 'an absolute path');
  if (!ABS_PATH.test(s.installDir))
    fail('installDir', s.installDir, 'a local absolute path such as /usr/libexec/xspot-cdk/scheduler');
  checkInt('submitPort', s.submitPort, 1, 65535);
  for (const [field, value] of [
    ['submitStateDir', s.submitStateDir],
    ['submitHostKey', s.submitHostKey],
    ['submitEnvFile', s.submitEnvFile],
  ] as const) {
    if (!ABS_PATH.test(value)) fail(field, value, 'a local absolute path');
  }
  if (s.submitAddress !== '' && !ADDRESS.test(s.submitAddress)) {
    fail('submitAddress', s.submitAddress, "an IP address, or '' for the controller's first address");
  }
}

// ---- config blocks -------------------------------------------------------------------------

type Value = string | number | readonly string[];

function quoteDouble(s: string): string {
  if ([...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
    throw new Error(`control character in rendered value ${JSON.stringify(s)}`);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function quoteShell(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function luaValue(v: Value): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return quoteDouble(v);
  return `{ ${v.map(quoteDouble).join(', ')} }`;
}

function pyValue(v: Value): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return quoteDouble(v);
  return `[${v.map(quoteDouble).join(', ')}]`;
}

function shValue(v: Value): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return quoteShell(v);
  return `(${v.map(quoteShell).join(' ')})`;
}

/** Replaces the lines between `<c> BEGIN CONFIGURATION` and `<c> END CONFIGURATION`. */
export function replaceConfigBlock(source: string, comment: string, body: string, file: string): string {
  const lines = source.split('\n');
  const begin = lines.findIndex((l) => l.startsWith(`${comment} BEGIN CONFIGURATION`));
  const end = lines.findIndex((l) => l.startsWith(`${comment} END CONFIGURATION`));
  if (begin < 0 || end < begin) throw new Error(`${file}: no BEGIN/END CONFIGURATION block`);
  return [...lines.slice(0, begin + 1), body, ...lines.slice(end)].join('\n');
}

/** ${HOME}-style text of the script directory, for bash double quotes. */
function scriptDirForShell(dir: string): string {
  return dir.startsWith('$HOME') ? `\${HOME}${dir.slice('$HOME'.length)}` : dir;
}

const REAL_SUBMIT_DEFAULT: Record<SchedulerKind, string> = {
  slurm: '/usr/bin/sbatch.orig',
  gridengine: '/usr/bin/qsub.orig',
  lsf: '/usr/bin/bsub.orig',
};

/** The installed per-job submit helper (prolog, epilog, authorized keys, forward, launcher). */
export function submitHelper(s: SchedulerSettings, kind: SchedulerKind): string {
  return `${s.installDir}/${kind}/xspot_submit`;
}

/** Where the submission sshd's config is installed (the runtime's submit-sshd step copies it there). */
export const SUBMIT_SSHD_CONFIG = '/etc/xspot-cdk/submit-sshd/sshd_config';

/**
 * sshd_config of the controllers' submission sshd (its own instance and port, beside the site's
 * sshd): public keys from the AuthorizedKeysCommand only (the per-job keys, each restricted to
 * the forward), nothing else authenticates, nothing is forwarded, no TTY. SetEnv keeps bash
 * (SHLVL) and zsh (ZDOTDIR) from reading the user's startup files before the forced command.
 * OpenSSH 7.8 or later (SetEnv).
 */
export function submitSshdConfig(s: SchedulerSettings, kind: SchedulerKind): string {
  const hostKey = s.submitHostKey.replace(/\.pub$/, '');
  return [
    '# sshd for job submissions from inside X-Spot containers (rendered by xspot-cdk scheduler render).',
    '# Only the per-job keys the controller mints pass, each forced to run the submit forward.',
    `Port ${s.submitPort}`,
    `HostKey ${hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile none`,
    `AuthorizedKeysCommand ${submitHelper(s, kind)} authorized-keys %u`,
    `AuthorizedKeysCommandUser ${SUBMIT_AKC_USER}`,
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'HostbasedAuthentication no',
    'GSSAPIAuthentication no',
    'PermitRootLogin no',
    'PermitEmptyPasswords no',
    'PermitUserEnvironment no',
    'PermitTTY no',
    'PermitTunnel no',
    'DisableForwarding yes',
    'AllowTcpForwarding no',
    'AllowStreamLocalForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'GatewayPorts no',
    'PermitUserRC no',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'StrictModes yes',
    'MaxAuthTries 2',
    'MaxSessions 1',
    'LoginGraceTime 30',
    'MaxStartups 20:50:100',
    'AcceptEnv XSPOT_SUBMIT_CWD',
    'SetEnv SHLVL=1 ZDOTDIR=/nonexistent/xspot-submit BASH_ENV= ENV=',
    '',
  ].join('\n');
}

function hookValues(s: SchedulerSettings, kind: SchedulerKind): [string, Value][] {
  return [
    ['scheduler', kind],
    ['queues', s.queues],
    ['image', s.image],
    ['approved_images', s.approvedImages],
    ['exorun', s.exorunPath],
    ['controller_cpus', s.controllerCpus],
    ['controller_memory_mb', s.controllerMemoryMb],
    ['default_cpus', s.defaultCpus],
    ['default_memory_gb', s.defaultMemoryGb],
    ['max_cpus', s.maxCpus],
    ['max_memory_gb', s.maxMemoryGb],
    ['largest_worker', s.largestWorker],
    ['script_dir', scriptDirForShell(s.scriptDir)],
    ['real_submit', s.realSubmitCommand ?? REAL_SUBMIT_DEFAULT[kind]],
    ['pe_name', s.gridEnginePe],
    ['install_dir', s.installDir],
    ['submit_helper', submitHelper(s, kind)],
    ['submit_state_dir', s.submitStateDir],
    ['submit_port', s.submitPort],
    ['submit_address', s.submitAddress],
    ['submit_host_key', s.submitHostKey],
    ['submit_akc_user', SUBMIT_AKC_USER],
    ['submit_env_file', s.submitEnvFile],
  ];
}

function luaBlock(values: [string, Value][]): string {
  return ['local CONFIG = {', ...values.map(([k, v]) => `  ${k} = ${luaValue(v)},`), '}'].join('\n');
}

function pyBlock(values: [string, Value][]): string {
  return ['CONFIG = {', ...values.map(([k, v]) => `    ${quoteDouble(k)}: ${pyValue(v)},`), '}'].join('\n');
}

function shBlock(values: [string, Value][]): string {
  // script_dir may start with ${HOME}: double quotes expand it at run time (the value is allow-listed).
  return values
    .map(([k, v]) => `CONF_${k.toUpperCase()}=${k === 'script_dir' ? `"${String(v)}"` : shValue(v)}`)
    .join('\n');
}

function readAsset(rel: string): string {
  return fs.readFileSync(path.join(schedulerAssetsDir(), rel), 'utf8');
}

const KEY_PATTERN = { lua: /^\s+(\w+) = /, py: /^\s+"(\w+)": /, sh: /^CONF_(\w+)=/ } as const;

/** The settings a host script's own configuration block declares (it names what it uses). */
function declaredKeys(source: string, comment: string, lang: 'lua' | 'py' | 'sh', file: string): string[] {
  const lines = source.split('\n');
  const begin = lines.findIndex((l) => l.startsWith(`${comment} BEGIN CONFIGURATION`));
  const end = lines.findIndex((l) => l.startsWith(`${comment} END CONFIGURATION`));
  if (begin < 0 || end < begin) throw new Error(`${file}: no BEGIN/END CONFIGURATION block`);
  return lines
    .slice(begin + 1, end)
    .map((l) => KEY_PATTERN[lang].exec(l)?.[1])
    .filter((k): k is string => k !== undefined)
    .map((k) => k.toLowerCase());
}

function hook(s: SchedulerSettings, kind: SchedulerKind, asset: string, lang: 'lua' | 'py' | 'sh'): string {
  const source = readAsset(asset);
  const comment = lang === 'lua' ? '--' : '#';
  const all = new Map(hookValues(s, kind));
  const values = declaredKeys(source, comment, lang, asset).map((k): [string, Value] => {
    const v = all.get(k);
    if (v === undefined) throw new Error(`${asset}: configuration key ${k} is not rendered`);
    return [k, v];
  });
  const block = lang === 'lua' ? luaBlock(values) : lang === 'py' ? pyBlock(values) : shBlock(values);
  return replaceConfigBlock(source, comment, block, asset);
}

/** Fills {{NAME}} placeholders of a text template from assets/scheduler/install/. */
function fillTemplate(rel: string, vars: Record<string, string>): string {
  return readAsset(rel).replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`${rel}: unknown placeholder {{${name}}}`);
    return v;
  });
}

function templateVars(s: SchedulerSettings): Record<string, string> {
  return {
    QUEUES: s.queues.join(', '),
    FIRST_QUEUE: s.queues[0],
    IMAGE: s.image,
    APPROVED_IMAGES: s.approvedImages.join(', '),
    EXORUN: s.exorunPath,
    CONTROLLER_CPUS: String(s.controllerCpus),
    CONTROLLER_MEMORY_MB: String(s.controllerMemoryMb),
    DEFAULT_CPUS: String(s.defaultCpus),
    DEFAULT_MEMORY_GB: String(s.defaultMemoryGb),
    MAX_CPUS: String(s.maxCpus),
    MAX_MEMORY_GB: String(s.maxMemoryGb),
    LARGEST_WORKER: s.largestWorker,
    SLOTS: String(s.slotsPerController),
    SCRIPT_DIR: s.scriptDir,
    PUBLISH_DIR: s.publishDir,
    INSTALL_DIR: s.installDir,
    PE: s.gridEnginePe,
    HOST_LIST: s.gridEngineHostList,
    SLURM_REAL: s.realSubmitCommand ?? REAL_SUBMIT_DEFAULT.slurm,
    GE_REAL: s.realSubmitCommand ?? REAL_SUBMIT_DEFAULT.gridengine,
    LSF_REAL: s.realSubmitCommand ?? REAL_SUBMIT_DEFAULT.lsf,
  };
}

/** Slurm feature of the controllers' dynamic nodes; the X-Spot nodeset selects it. */
export const SLURM_FEATURE = 'xspot';
/** Nodeset of the controllers that every X-Spot partition uses. */
export const SLURM_NODESET = 'xspot_controllers';

/** Controllers that can exist at once: the fleet's maximum, twice over for an instance refresh. */
export function slurmDynamicNodes(s: SchedulerSettings): number {
  return 2 * s.maxControllers;
}

/** The plugstack.conf fragment each controller's scheduler-join writes (scheduler-lib.sh, XSPOT_SLURM_GUARD_DIR). */
const SLURM_STEP_GUARD_FRAGMENT = '/usr/libexec/xspot-cdk/slurm/plugstack.conf';

function slurmPlugstackSnippet(): string {
  return [
    '# X-Spot line for plugstack.conf (rendered by xspot-cdk scheduler render): add it to the',
    '# plugstack.conf slurmd reads (PlugStackConfig, default beside slurm.conf), on every node or',
    '# in the shared file. On an X-Spot controller it loads the step guard that the controller',
    '# builds at boot: slurmstepd then refuses every job step but the batch and extern steps, so',
    '# `srun --jobid=<X-Spot job>` cannot run commands natively there. Other nodes have no such',
    '# file and Slurm skips the include. A controller whose plugstack.conf lacks it does not join.',
    `include ${SLURM_STEP_GUARD_FRAGMENT}`,
    '',
  ].join('\n');
}

function slurmConfSnippet(s: SchedulerSettings): string {
  const partitions = s.queues.map(
    (q) => `PartitionName=${q} Nodes=${SLURM_NODESET} MaxTime=INFINITE State=UP OverSubscribe=NO`,
  );
  const n = slurmDynamicNodes(s);
  return [
    '# X-Spot lines for slurm.conf (rendered by xspot-cdk scheduler render). Slurm 22.05 or later.',
    '# Server side (recommended): slurmctld rewrites X-Spot jobs with job_submit.lua (next to slurm.conf).',
    'JobSubmitPlugins=lua',
    '# Client side (sites that cannot change slurmctld): cli_filter.lua next to slurm.conf on every',
    '# submit host, plus the sbatch wrapper in place of sbatch. Uncomment to use:',
    '#CliFilterPlugins=lua',
    '#',
    '# Controllers join by themselves as dynamic nodes (slurmd -Z, at boot, before they go InService)',
    `# with CPUs=${s.slotsPerController * s.controllerCpus} RealMemory=${s.slotsPerController * s.controllerMemoryMb} Feature=${SLURM_FEATURE}, and leave with`,
    '# scontrol delete when they terminate. Their CPUs are job slots: each launcher allocates',
    `# ${s.controllerCpus} CPU and ${s.controllerMemoryMb} MB (job_submit.lua), so with select/cons_tres a controller runs at most`,
    `# ${s.slotsPerController} X-Spot jobs at once across all X-Spot partitions.`,
    "# MaxNodeCount counts static and dynamic nodes: this value leaves room for the fleet's",
    `# ${s.maxControllers} controllers twice over (an instance refresh); if slurm.conf already sets it, add ${n} to it.`,
    `MaxNodeCount=${n}`,
    "# Dynamic nodes are not in the tree: slurmctld talks to each directly (Slurm's advice).",
    'TreeWidth=65533',
    '# A controller declares more CPUs (slots) than it has cores.',
    'SlurmdParameters=config_overrides',
    '# Submissions from inside X-Spot containers: root mints a key for each job on its controller and',
    '# deletes it when the job ends (docs/security.md). If slurm.conf already names a Prolog or Epilog,',
    '# keep yours and run this one too (Slurm 21.08+ takes a glob such as /etc/slurm/prolog.d/*).',
    `Prolog=${submitHelper(s, 'slurm')}`,
    `Epilog=${submitHelper(s, 'slurm')}`,
    `Nodeset=${SLURM_NODESET} Feature=${SLURM_FEATURE}`,
    "# One partition per X-Spot queue, all on the controllers' nodeset.",
    ...partitions,
    '',
  ].join('\n');
}

function geQueue(s: SchedulerSettings, queue: string): string {
  return fillTemplate('gridengine/queue.template', { ...templateVars(s), QUEUE: queue });
}

/**
 * Largest controller subnet whose addresses are listed as Grid Engine admin hosts: a /18 (16,379
 * names), the size a new VPC's /16 gives each private subnet over two or three AZs.
 */
export const GE_ADMIN_HOSTS_MIN_PREFIX = 18;

/**
 * The names AWS gives the usable addresses of each controller subnet (ip-10-0-1-23), for
 * `qconf -ah`: Grid Engine's admin host list takes names, not ranges. AWS reserves the first
 * four addresses and the last one of a subnet.
 */
export function geAdminHosts(s: SchedulerSettings): string {
  const lines = [
    '# Grid Engine admin hosts for the X-Spot controllers (rendered by xspot-cdk scheduler render).',
    '# Controllers join and leave the X-Spot host group themselves (qconf from the controller), so',
    '# every address they can get must be an admin host: xargs -n 200 qconf -ah < admin-hosts.list',
    '# Security: root on a host with one of these addresses is a Grid Engine manager (docs/scheduler.md).',
  ];
  for (const cidr of s.controllerSubnets) {
    const [addr, bits] = cidr.split('/');
    const prefix = Number(bits);
    if (prefix < GE_ADMIN_HOSTS_MIN_PREFIX) {
      lines.push(`# ${cidr}: larger than /${GE_ADMIN_HOSTS_MIN_PREFIX}, not listed; give controllers smaller subnets`);
      continue;
    }
    const size = 2 ** (32 - prefix);
    const ip = addr.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const base = ip - (ip % size);
    for (let i = 4; i < size - 1; i++) {
      const n = base + i;
      lines.push(`ip-${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('-')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Boolean resource that the controllers, as LSF dynamic hosts, carry (LSF_LOCAL_RESOURCES). */
export const LSF_RESOURCE = 'xspot';

/** lsb.resources: one per-host slot limit over every X-Spot queue together. */
function lsfResources(s: SchedulerSettings): string {
  return [
    '# X-Spot limit for lsb.resources (rendered by xspot-cdk scheduler render): a controller runs at most',
    `# ${s.slotsPerController} X-Spot jobs across all X-Spot queues together (HJOB_LIMIT counts per queue).`,
    'Begin Limit',
    'NAME     = xspot_per_controller',
    `QUEUES   = ${s.queues.join(' ')}`,
    'PER_HOST = all',
    `SLOTS    = ${s.slotsPerController}`,
    'End Limit',
    '',
  ].join('\n');
}

/** lsf.shared Resource line, and the controllers' lsf.conf line that gives them the resource. */
function lsfShared(): string {
  return [
    '# X-Spot resource for the Resource section of lsf.shared (rendered by xspot-cdk scheduler render):',
    `${LSF_RESOURCE}   Boolean   ()   ()   (X-Spot controller, an LSF dynamic host)`,
    '# and in lsf.conf on the controllers (their image), so that each joins with the resource:',
    `# LSF_LOCAL_RESOURCES="[resource ${LSF_RESOURCE}]"`,
    '',
  ].join('\n');
}

function lsfQueues(s: SchedulerSettings): string {
  const blocks = s.queues.map((q) =>
    [
      'Begin Queue',
      `QUEUE_NAME   = ${q}`,
      '# the controllers: dynamic hosts with the xspot resource (LSF_LOCAL_RESOURCES)',
      `RES_REQ      = select[${LSF_RESOURCE}]`,
      `HJOB_LIMIT   = ${s.slotsPerController}`,
      `DESCRIPTION  = X-Spot: jobs run through exorun (launcher: ${s.controllerCpus} CPU, ${s.controllerMemoryMb} MB)`,
      `JOB_STARTER  = ${s.installDir}/lsf/xspot_job_starter %USRCMD`,
      '# the per-job submit key (submissions from inside containers); run as root with',
      '# LSB_PRE_POST_EXEC_USER=root in lsf.sudoers',
      `PRE_EXEC     = ${submitHelper(s, 'lsf')} prolog`,
      `POST_EXEC    = ${submitHelper(s, 'lsf')} epilog`,
      'End Queue',
    ].join('\n'),
  );
  return ['# X-Spot queues for lsb.queues (rendered by xspot-cdk scheduler render).', ...blocks, ''].join('\n');
}

/** An IPv4 CIDR as an LSF address range (each octet a number, a range a-b or *). */
export function lsfAddrRange(cidr: string): string {
  const [addr, bits] = cidr.split('/');
  const octets = addr.split('.').map(Number);
  let left = Number(bits);
  return octets
    .map((o) => {
      const take = Math.max(0, Math.min(8, left));
      left -= take;
      if (take === 8) return String(o);
      if (take === 0) return '*';
      const size = 2 ** (8 - take);
      const low = o & ~(size - 1) & 0xff;
      return `${low}-${low + size - 1}`;
    })
    .join('.');
}

function lsfCluster(s: SchedulerSettings): string {
  const ranges = s.controllerSubnets.map(lsfAddrRange).join(' ');
  const floats = Math.max(10, slurmDynamicNodes(s));
  return [
    '# X-Spot lines for lsf.cluster.<cluster> (rendered by xspot-cdk scheduler render).',
    '# Controllers are LSF dynamic hosts: their daemons start at boot and the host joins from the',
    `# controller subnets (${s.controllerSubnets.join(', ')}); on terminate the host is closed (badmin hclose).`,
    "# FLOAT_CLIENTS: the fleet's controllers twice over (an instance refresh); raise it if the",
    '# license allows and other floating clients need it.',
    'Begin Parameters',
    `LSF_HOST_ADDR_RANGE=${ranges}`,
    `FLOAT_CLIENTS_ADDR_RANGE=${ranges}`,
    `FLOAT_CLIENTS=${floats}`,
    'End Parameters',
    '#',
    '# Host names: if the site runs its own DNS, list every address of the controller subnets in',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: LSF's variable, shown as is
    '# ${LSF_ENVDIR}/hosts as AWS names them (ip-10-0-1-23 for 10.0.1.23), but do not list the',
    '# existing cluster nodes there under such generic names (duplicate addresses confuse LSF).',
    '# Restart all LSF daemons after changing this section (lsadmin reconfig; badmin mbdrestart).',
    '',
  ].join('\n');
}

function lsfConf(): string {
  return [
    '# X-Spot lines for lsf.conf (rendered by xspot-cdk scheduler render).',
    '# Run esub.xspot (copied to LSF_SERVERDIR) for every job; to chain it after a site esub,',
    '# see esub.site-chain.example and list the site method here instead.',
    'LSB_ESUB_METHOD=xspot',
    '# esub.xspot needs the job command line (LSB_SUB_COMMAND_LINE) in the parameter file.',
    'LSB_SUB_COMMANDNAME=Y',
    '',
  ].join('\n');
}

/** The submissions-from-containers pieces every scheduler gets: the helper and its sshd config. */
function putSubmit(
  s: SchedulerSettings,
  kind: SchedulerKind,
  put: (rel: string, content: string, mode?: number) => void,
) {
  put('xspot_submit', hook(s, kind, 'common/xspot_submit', 'py'), 0o755);
  put('submit-sshd_config', submitSshdConfig(s, kind));
}

function renderKind(s: SchedulerSettings, kind: SchedulerKind): RenderedFiles {
  const vars = templateVars(s);
  const files: RenderedFiles = {};
  const put = (rel: string, content: string, mode = 0o644) => {
    files[`${kind}/${rel}`] = { content, mode };
  };
  switch (kind) {
    case 'slurm':
      put('job_submit.lua', hook(s, kind, 'slurm/job_submit.lua', 'lua'));
      put('cli_filter.lua', hook(s, kind, 'slurm/cli_filter.lua', 'lua'));
      put('sbatch', hook(s, kind, 'common/sub_wrapper.py', 'py'), 0o755);
      putSubmit(s, kind, put);
      put('slurm.conf.snippet', slurmConfSnippet(s));
      put('plugstack.conf.snippet', slurmPlugstackSnippet());
      put('README.md', fillTemplate('install/README-slurm.md', vars));
      break;
    case 'gridengine':
      put('jsv_xspot', hook(s, kind, 'gridengine/jsv_xspot', 'sh'), 0o755);
      put('qsub', hook(s, kind, 'common/sub_wrapper.py', 'py'), 0o755);
      putSubmit(s, kind, put);
      put('xspot_starter', hook(s, kind, 'gridengine/xspot_starter', 'sh'), 0o755);
      put(`${s.gridEnginePe}.pe`, fillTemplate('gridengine/pe.template', vars));
      put('xspot_job.complex', readAsset('gridengine/xspot_job.complex'));
      for (const q of s.queues) put(`${q}.queue`, geQueue(s, q));
      put('admin-hosts.list', geAdminHosts(s));
      put('README.md', fillTemplate('install/README-gridengine.md', vars));
      break;
    case 'lsf':
      put('esub.xspot', hook(s, kind, 'lsf/esub.xspot', 'py'), 0o755);
      put('bsub', hook(s, kind, 'common/sub_wrapper.py', 'py'), 0o755);
      putSubmit(s, kind, put);
      put('xspot_job_starter', hook(s, kind, 'lsf/xspot_job_starter', 'sh'), 0o755);
      put('esub.site-chain.example', readAsset('lsf/esub.site-chain.example'), 0o755);
      put('lsf.conf.snippet', lsfConf());
      put('lsb.queues.snippet', lsfQueues(s));
      put('lsf.cluster.snippet', lsfCluster(s));
      put('lsb.resources.snippet', lsfResources(s));
      put('lsf.shared.snippet', lsfShared());
      put('README.md', fillTemplate('install/README-lsf.md', vars));
      break;
  }
  return files;
}

/**
 * Every file for the given schedulers (default: the configured one; none for type 'none'),
 * keyed by path relative to the output directory, plus a top-level README.md.
 */
export function renderSchedulerFiles(s: SchedulerSettings, kinds?: readonly SchedulerKind[]): RenderedFiles {
  validateSchedulerSettings(s);
  const chosen = kinds ?? (s.type === 'none' ? [] : [s.type]);
  const files: RenderedFiles = {};
  for (const kind of chosen) Object.assign(files, renderKind(s, kind));
  if (chosen.length > 0) {
    const list = SCHEDULER_KINDS.filter((k) => chosen.includes(k))
      .map((k) => `- [${k}/README.md](${k}/README.md)`)
      .join('\n');
    files['README.md'] = {
      content: fillTemplate('install/README.md', { ...templateVars(s), SCHEDULERS: list }),
      mode: 0o644,
    };
  }
  return files;
}

/** The name of the checksum list `withChecksums` adds (sha256sum format). */
export const SUMS_FILE = 'SHA256SUMS';

/**
 * The files plus SHA256SUMS: `<sha256>  <path>` per file, sorted by path, as `sha256sum -c`
 * reads it. The controller runtime's install-hooks step installs only files that match it.
 */
export function withChecksums(files: RenderedFiles): RenderedFiles {
  const paths = Object.keys(files)
    .filter((p) => p !== SUMS_FILE)
    .sort();
  if (paths.length === 0) return { ...files };
  const sums = paths.map((p) => `${createHash('sha256').update(files[p].content).digest('hex')}  ${p}\n`).join('');
  return { ...files, [SUMS_FILE]: { content: sums, mode: 0o644 } };
}

/** Writes rendered files under `outDir` (creating directories) and returns the paths written. */
export function writeRenderedFiles(outDir: string, files: RenderedFiles): string[] {
  const written: string[] = [];
  for (const [rel, file] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    const target = path.join(outDir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.content, { mode: file.mode });
    fs.chmodSync(target, file.mode);
    written.push(target);
  }
  return written;
}
