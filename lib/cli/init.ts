/**
 * `xspot-cdk init [PATH]`: starts a site's config file the way `pcluster configure` starts a
 * cluster's. It asks (on a terminal) or takes flags for the deployment name, region, new or existing
 * VPC, scheduler, controller image and instance type, fleet size and worker families. With AWS
 * credentials it offers what the account has (VPCs, subnets, AZs, images); without them it writes
 * placeholders that `check-config` reports as errors until they are filled in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import {
  type InitChoices,
  type InitNetwork,
  type InitSubnet,
  isPlaceholder,
  PLACEHOLDERS,
  renderInitConfig,
  type SchedulerType,
} from '../config/init-file';
import { ALLOW, type AllowList } from '../config/patterns';
import type { InitClients, SubnetChoice } from '../ops/init-discovery';
import { stdio } from './common';
import { UserError } from './errors';

export interface Choice<T> {
  readonly name: string;
  readonly value: T;
  readonly description?: string;
  readonly checked?: boolean;
}

/** The questions `init` asks; the terminal implementation is @inquirer/prompts. */
export interface Prompter {
  input(q: { message: string; default?: string; validate?: (v: string) => true | string }): Promise<string>;
  select<T>(q: { message: string; choices: readonly Choice<T>[]; default?: T }): Promise<T>;
  checkbox<T>(q: {
    message: string;
    choices: readonly Choice<T>[];
    validate?: (values: readonly T[]) => true | string;
  }): Promise<T[]>;
}

export interface InitOptions {
  name?: string;
  region?: string;
  profile?: string;
  vpc?: string;
  vpcCidr?: string;
  azs?: string;
  subnets?: string;
  scheduler?: string;
  controllerAmi?: string;
  controllerType?: string;
  controllers?: string;
  workerFamilies?: string;
  /** xspot.repositoryGpgKey: the https URL of the vendor's package-signing key. */
  gpgKey?: string;
  /** commander's --no-aws */
  aws?: boolean;
  yes?: boolean;
  force?: boolean;
}

export interface InitDeps {
  /** Questions on a terminal; when absent and interactive, @inquirer/prompts on stdin/stderr. */
  readonly prompter?: Prompter;
  /** Whether to ask (default: stdin and stderr are terminals and --yes was not given). */
  readonly interactive?: boolean;
  /** AWS clients (tests pass mocked or emulator-backed ones). */
  readonly clients?: InitClients;
  /** One endpoint for every AWS service (a local emulator). */
  readonly endpoint?: string;
  readonly io?: { out(line: string): void; err(line: string): void };
  /** AWS_REGION and friends (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface InitResult {
  readonly file: string;
  readonly choices: InitChoices;
  /** Config paths written as placeholders. */
  readonly placeholders: readonly string[];
}

const SCHEDULERS: readonly SchedulerType[] = ['slurm', 'gridengine', 'lsf', 'none'];
const DEFAULT_FAMILIES = ['r5', 'r5n', 'r5b', 'r5d'];
const ENTER_ID = '(enter an id)';
const LATER = '(later: write a placeholder)';
const NEW_VPC = '(new)';

// ---------------------------------------------------------------- flag values

function checked(flag: string, value: string, a: AllowList): string {
  if (!a.pattern.test(value))
    throw new UserError(`${flag}: ${JSON.stringify(value)} is not allowed; must be ${a.allowed}`);
  return value;
}

function list(flag: string, value: string, a: AllowList): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0)
    throw new UserError(`${flag}: ${JSON.stringify(value)} is empty; must be a comma-separated list of ${a.allowed}`);
  return items.map((i) => checked(flag, i, a));
}

const CIDR: AllowList = {
  pattern: /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(\d|[12]\d|3[0-2])$/,
  allowed: 'an IPv4 CIDR block such as 10.0.0.0/16',
};
const VPC: AllowList = { pattern: /^(new|vpc-[0-9a-f]{8,17})$/, allowed: `"new" or ${ALLOW.vpcId.allowed}` };
const SCHEDULER: AllowList = { pattern: /^(slurm|gridengine|lsf|none)$/, allowed: SCHEDULERS.join(', ') };
const COUNT: AllowList = { pattern: /^([1-9]|[1-4]\d|50)$/, allowed: 'a whole number of controllers from 1 to 50' };

/** An answer typed at a prompt: true, or what is wrong with it. */
const valid =
  (a: AllowList) =>
  (v: string): true | string =>
    a.pattern.test(v.trim()) || `must be ${a.allowed}`;
const validList =
  (a: AllowList, optional = false) =>
  (v: string): true | string => {
    const items = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0) return optional || 'give at least one';
    const bad = items.find((i) => !a.pattern.test(i));
    return bad === undefined || `${JSON.stringify(bad)}: must be ${a.allowed}`;
  };
const splitList = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

// ---------------------------------------------------------------- the session

/** Asks, or takes the flag, or falls back: one place for the three ways a value is decided. */
class Session {
  /** Set once a lookup failed for lack of credentials: no further calls are made. */
  private offlineReason: string | undefined;

  constructor(
    readonly opts: InitOptions,
    readonly prompter: Prompter | undefined,
    private clients: InitClients | undefined,
    private readonly io: NonNullable<InitDeps['io']>,
  ) {}

  note(line: string): void {
    this.io.err(`note: ${line}`);
  }

  get online(): boolean {
    return this.clients !== undefined && this.offlineReason === undefined;
  }

  /** Runs a lookup; on failure says why once and goes on without AWS (undefined). */
  async lookup<T>(what: string, permission: string, fn: (c: InitClients) => Promise<T>): Promise<T | undefined> {
    if (!this.clients || this.offlineReason !== undefined) return undefined;
    try {
      return await fn(this.clients);
    } catch (e) {
      const { classifyAwsError, describeAwsError } = require('../ops/aws-errors') as typeof import('../ops/aws-errors');
      const line = describeAwsError(e, {
        action: what,
        permission,
        ...(this.opts.profile ? { profile: this.opts.profile } : {}),
      });
      const kind = classifyAwsError(e);
      if (kind === 'credentials' || kind === 'expired' || kind === 'network') this.offlineReason = line;
      this.io.err(`note: ${line}; writing placeholders where the answer needed it`);
      return undefined;
    }
  }

  async text(q: { flag?: string; message: string; fallback: string; allow: AllowList }): Promise<string> {
    if (q.flag !== undefined) return q.flag;
    if (!this.prompter) return q.fallback;
    return (await this.prompter.input({ message: q.message, default: q.fallback, validate: valid(q.allow) })).trim();
  }
}

async function askNetwork(s: Session, region: string): Promise<InitNetwork> {
  const o = s.opts;
  let vpc = o.vpc;
  const vpcs =
    s.online && (vpc === undefined || vpc !== 'new')
      ? await s.lookup('listing the VPCs', 'ec2:DescribeVpcs', (c) => loadDiscovery().listVpcs(c))
      : undefined;
  if (vpc === undefined && s.prompter) {
    const choices: Choice<string>[] = [{ name: 'a new VPC (created by the prerequisites stack)', value: NEW_VPC }];
    for (const v of vpcs ?? []) {
      choices.push({
        name: `${v.id}${v.name ? ` (${v.name})` : ''} ${v.cidrBlocks.join(', ')}${v.isDefault ? ' [default VPC]' : ''}`,
        value: v.id,
      });
    }
    if (!vpcs) choices.push({ name: 'an existing VPC (enter its id)', value: ENTER_ID });
    const picked = await s.prompter.select({ message: `VPC in ${region}`, choices, default: NEW_VPC });
    vpc =
      picked === NEW_VPC
        ? 'new'
        : picked === ENTER_ID
          ? (
              await s.prompter.input({
                message: 'VPC id (empty: write a placeholder)',
                validate: (v) => v.trim() === '' || valid(ALLOW.vpcId)(v),
              })
            ).trim() || PLACEHOLDERS.vpcId
          : picked;
  }
  if (vpc === undefined || vpc === 'new') return askNewVpc(s);
  if (vpcs && !isPlaceholder(vpc) && !vpcs.some((v) => v.id === vpc)) {
    throw new UserError(
      `--vpc: ${vpc} is not a VPC of this account in ${region}; its VPCs: ${vpcs.map((v) => v.id).join(', ') || 'none'}`,
    );
  }
  return askExistingVpc(s, vpc, vpcs?.find((v) => v.id === vpc)?.cidrBlocks);
}

async function askNewVpc(s: Session): Promise<InitNetwork> {
  const cidr = await s.text({
    flag: s.opts.vpcCidr,
    message: 'CIDR block of the new VPC',
    fallback: '10.0.0.0/16',
    allow: CIDR,
  });
  if (s.opts.azs !== undefined) return { kind: 'new', cidr, availabilityZones: splitList(s.opts.azs) };
  if (!s.prompter) return { kind: 'new', cidr };
  const azs = await s.lookup('listing the availability zones', 'ec2:DescribeAvailabilityZones', (c) =>
    loadDiscovery().listAzs(c),
  );
  if (azs && azs.length > 0) {
    const picked = await s.prompter.checkbox({
      message: 'Availability zones for the new VPC (controllers and workers spread over them)',
      choices: azs.map((az, i) => ({ name: az, value: az, checked: i < 2 })),
      validate: (v) => v.length > 0 || 'pick at least one',
    });
    return { kind: 'new', cidr, availabilityZones: picked };
  }
  const typed = await s.prompter.input({
    message: 'Availability zones, comma-separated (empty: the first two the region offers at deploy time)',
    validate: validList(ALLOW.az, true),
  });
  return typed.trim() ? { kind: 'new', cidr, availabilityZones: splitList(typed) } : { kind: 'new', cidr };
}

function subnetLabel(sub: SubnetChoice): string {
  const route = {
    nat: 'private, behind a NAT gateway',
    public: 'public (internet gateway): not for controllers',
    none: 'no default route: no way out to the X-Spot repositories',
    other: 'default route not to a NAT gateway',
  }[sub.route];
  return `${sub.id}${sub.name ? ` (${sub.name})` : ''} ${sub.availabilityZone} ${sub.cidr}: ${route}`;
}

async function askExistingVpc(s: Session, vpcId: string, knownCidrs?: readonly string[]): Promise<InitNetwork> {
  const real = !isPlaceholder(vpcId);
  const subnets = real
    ? await s.lookup(`listing the subnets of ${vpcId}`, 'ec2:DescribeSubnets, ec2:DescribeRouteTables', (c) =>
        loadDiscovery().listSubnets(c, vpcId),
      )
    : undefined;
  const cidrBlocks = knownCidrs?.length ? [...knownCidrs] : [PLACEHOLDERS.vpcCidr];
  let ids: string[] | undefined = s.opts.subnets !== undefined ? splitList(s.opts.subnets) : undefined;
  if (ids === undefined && subnets && subnets.length > 0) {
    const nat = subnets.filter((x) => x.route === 'nat').map((x) => x.id);
    ids = s.prompter
      ? await s.prompter.checkbox({
          message: `Private subnets of ${vpcId} for controllers and workers`,
          choices: subnets.map((x) => ({ name: subnetLabel(x), value: x.id, checked: x.route === 'nat' })),
          validate: (v) => v.length > 0 || 'pick at least one',
        })
      : nat;
    if (!s.prompter && nat.length > 0) s.note(`using the subnets of ${vpcId} behind a NAT gateway: ${nat.join(', ')}`);
  }
  if (ids === undefined && s.prompter && !subnets) {
    const typed = await s.prompter.input({
      message: 'Private subnet ids, comma-separated (empty: write a placeholder)',
      validate: validList(ALLOW.subnetId, true),
    });
    ids = splitList(typed);
  }
  const privateSubnets: InitSubnet[] = (ids ?? []).map((id) => {
    const found = subnets?.find((x) => x.id === id);
    if (subnets && !found) {
      throw new UserError(
        `--subnets: ${id} is not a subnet of ${vpcId} in this region; its subnets: ${subnets.map((x) => x.id).join(', ') || 'none'}`,
      );
    }
    return found
      ? {
          id,
          cidr: found.cidr,
          availabilityZone: found.availabilityZone,
          ...(found.routeTableId ? { routeTableId: found.routeTableId } : {}),
        }
      : { id, cidr: PLACEHOLDERS.subnetCidr, availabilityZone: PLACEHOLDERS.subnetAz };
  });
  if (privateSubnets.length === 0) {
    privateSubnets.push({
      id: PLACEHOLDERS.subnetId,
      cidr: PLACEHOLDERS.subnetCidr,
      availabilityZone: PLACEHOLDERS.subnetAz,
    });
  }
  return { kind: 'existing', vpcId, cidrBlocks, privateSubnets };
}

async function askControllerAmi(s: Session): Promise<string> {
  if (s.opts.controllerAmi !== undefined) return s.opts.controllerAmi;
  if (!s.prompter) return PLACEHOLDERS.controllerAmi;
  const images = await s.lookup('listing your images', 'ec2:DescribeImages', (c) => loadDiscovery().listOwnImages(c));
  let picked = ENTER_ID;
  if (images && images.length > 0) {
    picked = await s.prompter.select({
      message: 'Controller image (your validated EL7-family compute-node image)',
      choices: [
        ...images.map((i) => ({
          name: `${i.id} ${i.name}${i.created ? ` (${i.created.slice(0, 10)})` : ''}`,
          value: i.id,
        })),
        { name: 'another image: enter its id', value: ENTER_ID },
        { name: 'decide later: write a placeholder', value: LATER },
      ],
    });
  }
  if (picked === LATER) return PLACEHOLDERS.controllerAmi;
  if (picked !== ENTER_ID) return picked;
  const typed = await s.prompter.input({
    message: 'Controller image id (empty: write a placeholder)',
    validate: (v) => v.trim() === '' || valid(ALLOW.amiId)(v),
  });
  return typed.trim() || PLACEHOLDERS.controllerAmi;
}

function loadDiscovery(): typeof import('../ops/init-discovery') {
  return require('../ops/init-discovery') as typeof import('../ops/init-discovery');
}

/** Every flag value checked before anything is asked or looked up. */
function checkFlags(o: InitOptions): void {
  if (o.name !== undefined) checked('--name', o.name, ALLOW.deploymentName);
  if (o.region !== undefined) checked('--region', o.region, ALLOW.region);
  if (o.vpc !== undefined) checked('--vpc', o.vpc, VPC);
  if (o.vpcCidr !== undefined) checked('--vpc-cidr', o.vpcCidr, CIDR);
  if (o.azs !== undefined) list('--azs', o.azs, ALLOW.az);
  if (o.subnets !== undefined) list('--subnets', o.subnets, ALLOW.subnetId);
  if (o.scheduler !== undefined) checked('--scheduler', o.scheduler, SCHEDULER);
  if (o.controllerAmi !== undefined) checked('--controller-ami', o.controllerAmi, ALLOW.amiId);
  if (o.controllerType !== undefined) checked('--controller-type', o.controllerType, ALLOW.instanceType);
  if (o.controllers !== undefined) checked('--controllers', o.controllers, COUNT);
  if (o.workerFamilies !== undefined) list('--worker-families', o.workerFamilies, ALLOW.instanceTypeOrFamily);
  if (o.gpgKey !== undefined) checked('--gpg-key', o.gpgKey, ALLOW.httpsUrl);
  if (o.subnets !== undefined && (o.vpc === undefined || o.vpc === 'new')) {
    throw new UserError('--subnets: needs --vpc vpc-... (the existing VPC they belong to)');
  }
  if ((o.vpcCidr !== undefined || o.azs !== undefined) && o.vpc !== undefined && o.vpc !== 'new') {
    throw new UserError(
      `--${o.vpcCidr !== undefined ? 'vpc-cidr' : 'azs'}: only for a new VPC (--vpc new), not --vpc ${o.vpc}`,
    );
  }
}

/** Config paths whose value is a placeholder. */
function placeholderPaths(value: unknown, at = ''): string[] {
  if (isPlaceholder(value)) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => placeholderPaths(v, `${at}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => placeholderPaths(v, at ? `${at}.${k}` : k));
  }
  return [];
}

/** Asks or takes every answer, writes the file, and says what is left to fill in. */
export async function runInit(target: string | undefined, o: InitOptions, deps: InitDeps = {}): Promise<InitResult> {
  const io = deps.io ?? stdio;
  const env = deps.env ?? process.env;
  checkFlags(o);
  const file = path.resolve(target ?? 'site.yaml');
  if (fs.existsSync(file)) {
    if (fs.statSync(file).isDirectory())
      throw new UserError(
        `PATH: ${file} is a directory; give the config file's path, e.g. ${path.join(target ?? '.', 'site.yaml')}`,
      );
    if (!o.force) throw new UserError(`PATH: ${file} exists; pass --force to overwrite it`);
  }
  const interactive = !o.yes && (deps.interactive ?? (process.stdin.isTTY === true && process.stderr.isTTY === true));
  const prompter = interactive ? (deps.prompter ?? (await terminalPrompter())) : undefined;

  const s0 = new Session(o, prompter, undefined, io);
  const name = await s0.text({
    flag: o.name,
    message: 'Deployment name (prefixes stacks, resources and tags)',
    fallback: 'xspot',
    allow: ALLOW.deploymentName,
  });
  const region = await s0.text({
    flag: o.region,
    message: 'AWS region',
    fallback: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    allow: ALLOW.region,
  });

  let clients = deps.clients;
  let own = false;
  if (!clients && o.aws !== false) {
    clients = loadDiscovery().createInitClients({
      region,
      ...(o.profile ? { profile: o.profile } : {}),
      ...(deps.endpoint ? { endpoint: deps.endpoint } : {}),
    });
    own = true;
  }
  const s = new Session(o, prompter, o.aws === false ? undefined : clients, io);
  try {
    const account = await s.lookup('checking the AWS credentials', 'sts:GetCallerIdentity', (c) =>
      loadDiscovery().callerAccount(c),
    );
    if (account) io.err(`AWS account ${account}, region ${region}: offering what it has`);
    const network = await askNetwork(s, region);
    const scheduler =
      (o.scheduler as SchedulerType | undefined) ??
      (prompter
        ? await prompter.select({
            message: 'Scheduler',
            choices: [
              { name: 'Slurm', value: 'slurm' as SchedulerType },
              { name: 'Grid Engine', value: 'gridengine' as SchedulerType },
              { name: 'LSF', value: 'lsf' as SchedulerType },
              { name: 'none (no scheduler integration)', value: 'none' as SchedulerType },
            ],
            default: 'slurm',
          })
        : 'slurm');
    const controllerAmi = await askControllerAmi(s);
    const controllerType = await s.text({
      flag: o.controllerType,
      message: 'Controller instance type (local NVMe recommended)',
      fallback: 'm5d.xlarge',
      allow: ALLOW.instanceType,
    });
    const controllers = Number(
      await s.text({ flag: o.controllers, message: 'Controllers (desired count)', fallback: '1', allow: COUNT }),
    );
    const families =
      o.workerFamilies !== undefined
        ? splitList(o.workerFamilies)
        : prompter
          ? splitList(
              await prompter.input({
                message: 'Worker instance families or types, comma-separated',
                default: DEFAULT_FAMILIES.join(','),
                validate: validList(ALLOW.instanceTypeOrFamily),
              }),
            )
          : DEFAULT_FAMILIES;
    const choices: InitChoices = {
      name,
      region,
      network,
      scheduler,
      controllerAmi,
      controllerType,
      controllers,
      workerFamilies: families,
      repositoryGpgKey: o.gpgKey ?? PLACEHOLDERS.repositoryGpgKey,
    };
    const text = renderInitConfig(choices, file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: 0o644 });
    const placeholders = placeholderPaths(parseYaml(text));
    return { file, choices, placeholders };
  } finally {
    if (own && clients) loadDiscovery().destroyInitClients(clients);
  }
}

/** @inquirer/prompts on the terminal (questions on stderr, so stdout stays the command's output). */
export async function terminalPrompter(
  io: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream } = {},
): Promise<Prompter> {
  const p = await import('@inquirer/prompts');
  const ctx = { input: io.input ?? process.stdin, output: io.output ?? process.stderr };
  return {
    input: (q) =>
      p.input(
        {
          message: q.message,
          ...(q.default !== undefined ? { default: q.default } : {}),
          ...(q.validate ? { validate: q.validate } : {}),
        },
        ctx,
      ),
    select: (q) =>
      p.select(
        {
          message: q.message,
          choices: q.choices.map((c) => ({ ...c })),
          ...(q.default !== undefined ? { default: q.default } : {}),
        },
        ctx,
      ),
    checkbox: (q) => {
      const validate = q.validate;
      return p.checkbox(
        {
          message: q.message,
          choices: q.choices.map((c) => ({ ...c })),
          ...(validate
            ? { validate: (picked: readonly { value: unknown }[]) => validate(picked.map((c) => c.value) as never) }
            : {}),
        },
        ctx,
      ) as never;
    },
  };
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .argument('[path]', 'the config file to write', 'site.yaml')
    .description(
      'write a new site config: asks on a terminal, or takes the flags (--yes: ask nothing); with AWS credentials it offers your VPCs, subnets, AZs and images, without them it writes placeholders that check-config reports until filled in',
    )
    .option('--name <name>', 'deployment name (default: xspot)')
    .option('--region <region>', 'AWS region (default: $AWS_REGION, then us-east-1)')
    .option('--profile <profile>', 'AWS profile from the shared config/credentials files')
    .option('--vpc <new|vpc-id>', 'create a new VPC, or use this existing one (default: new)')
    .option('--vpc-cidr <cidr>', 'CIDR block of a new VPC (default: 10.0.0.0/16)')
    .option('--azs <list>', 'availability zones of a new VPC, comma-separated (default: the first two at deploy time)')
    .option(
      '--subnets <list>',
      'private subnets of the existing VPC, comma-separated (default with credentials: those behind a NAT gateway)',
    )
    .option('--scheduler <type>', 'slurm, gridengine, lsf or none (default: slurm)')
    .option('--controller-ami <ami-id>', 'the controller image (default: a placeholder to fill in)')
    .option('--controller-type <type>', 'controller instance type (default: m5d.xlarge)')
    .option('--controllers <n>', 'controllers running normally, 1-50 (default: 1)')
    .option('--worker-families <list>', 'worker instance families or types, comma-separated (default: r5,r5n,r5b,r5d)')
    .option(
      '--gpg-key <url>',
      "https URL of the vendor's package-signing key (default: a placeholder to fill in; an armored key goes in the file)",
    )
    .option('--no-aws', 'make no AWS calls, even with credentials (placeholders for what needs a lookup)')
    .option('-y, --yes', 'ask nothing: flags, then defaults and placeholders')
    .option('--force', 'overwrite PATH if it exists')
    .action(async (target: string, opts: InitOptions) => {
      const r = await runInit(target, opts);
      const shown = path.relative(process.cwd(), r.file) || r.file;
      stdio.out(`wrote ${shown}`);
      if (r.placeholders.length > 0) {
        stdio.out(
          `fill in before deploying (check-config reports each as an error until then): ${r.placeholders.join(', ')}`,
        );
      }
      stdio.out(`next: npx xspot-cdk check-config -c ${shown}`);
    });
}
