/**
 * The config file `xspot-cdk init` writes: a site's choices as YAML, with a `$schema` line that
 * resolves from where the file is written, a comment per section, and no acknowledgements. A
 * value the tool could not look up is written as a placeholder, a string the schema refuses, so
 * `check-config` reports it as an error (naming the field and what is allowed) until it is filled in.
 */
import * as path from 'node:path';
import { Document, isScalar, isSeq, visit } from 'yaml';
import { packageRoot } from './load';

/** Every placeholder starts with this; the rest says what to put there. */
export const PLACEHOLDER_PREFIX = 'FILL IN: ';

export function placeholder(what: string): string {
  return `${PLACEHOLDER_PREFIX}${what}`;
}

export function isPlaceholder(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PLACEHOLDER_PREFIX);
}

/** What a placeholder asks for, per field (the text after the prefix). */
export const PLACEHOLDERS = {
  controllerAmi: placeholder('the AMI id of your validated EL7-family controller image (ami-...)'),
  vpcId: placeholder('the id of the existing VPC (vpc-...)'),
  vpcCidr: placeholder('every CIDR block of the VPC, one entry each (e.g. 10.0.0.0/16)'),
  subnetId: placeholder('a private subnet behind a NAT gateway (subnet-...)'),
  subnetCidr: placeholder("the subnet's CIDR block (e.g. 10.0.1.0/24)"),
  subnetAz: placeholder("the subnet's availability zone (e.g. us-east-1a)"),
  repositoryGpgKey: placeholder(
    "the vendor's package-signing key: an https:// URL of it, or the armored key as a | block",
  ),
} as const;

export interface InitSubnet {
  readonly id: string;
  readonly cidr: string;
  readonly availabilityZone: string;
  /** The route table the subnet uses (its own, or the VPC's main table). */
  readonly routeTableId?: string;
}

export type InitNetwork =
  | {
      readonly kind: 'new';
      readonly cidr: string;
      /** Explicit AZs; when unset the file says `maxAzs: 2` (the first two the region returns at deploy time). */
      readonly availabilityZones?: readonly string[];
    }
  | {
      readonly kind: 'existing';
      readonly vpcId: string;
      readonly cidrBlocks: readonly string[];
      readonly privateSubnets: readonly InitSubnet[];
    };

export type SchedulerType = 'slurm' | 'gridengine' | 'lsf' | 'none';

/** Everything `init` asks for. A placeholder string stands where a value is not known. */
export interface InitChoices {
  readonly name: string;
  readonly region: string;
  readonly network: InitNetwork;
  readonly scheduler: SchedulerType;
  readonly controllerAmi: string;
  readonly controllerType: string;
  /** Controllers running normally (desired capacity). */
  readonly controllers: number;
  /** Instance families or types X-Spot may launch workers on, on demand and spot. */
  readonly workerFamilies: readonly string[];
  /** xspot.repositoryGpgKey: the vendor's package-signing key (URL), or a placeholder. */
  readonly repositoryGpgKey: string;
}

/** The JSON Schema the package ships, as a path relative to the directory `file` is written to. */
export function schemaReference(file: string): string {
  const schema = path.join(packageRoot(), 'config', 'xspot-config.schema.json');
  const rel = path
    .relative(path.dirname(path.resolve(file)), schema)
    .split(path.sep)
    .join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function networkSection(n: InitNetwork): object {
  if (n.kind === 'new') {
    const azs = n.availabilityZones?.length ? { availabilityZones: [...n.availabilityZones] } : { maxAzs: 2 };
    return { newVpc: { cidr: n.cidr, ...azs, natGateways: 'one' } };
  }
  return {
    existingVpc: {
      vpcId: n.vpcId,
      cidrBlocks: [...n.cidrBlocks],
      privateSubnets: n.privateSubnets.map((s) => ({
        id: s.id,
        cidr: s.cidr,
        availabilityZone: s.availabilityZone,
        ...(s.routeTableId ? { routeTableId: s.routeTableId } : {}),
      })),
    },
  };
}

/** One section: its comment lines, then the YAML of `{ key: value }`. */
function section(comment: readonly string[], key: string, value: object): string {
  const doc = new Document({ [key]: value });
  // lists of plain values on one line, as config/default.yaml writes them
  visit(doc, {
    Seq(_k, seq) {
      if (isSeq(seq) && seq.items.every((i) => isScalar(i))) seq.flow = true;
    },
  });
  return `${comment.map((l) => `# ${l}`).join('\n')}\n${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}`;
}

/** The file's text. `file` is where it will be written (for the `$schema` line and the commands shown). */
export function renderInitConfig(c: InitChoices, file: string): string {
  const shown = path.relative(process.cwd(), path.resolve(file)) || file;
  const header = [
    `# X-Spot deployment "${c.name}", written by \`xspot-cdk init\`.`,
    `# Check it with \`npx xspot-cdk check-config -c ${shown}\`: every "${PLACEHOLDER_PREFIX.trim()}" value is an error until`,
    "# you replace it. Keys not written here take the onboarding guide's defaults; each key, its type and",
    "# default are in xspot-cdk's docs/config-reference.md.",
    `# yaml-language-server: $schema=${schemaReference(file)}`,
    '',
  ].join('\n');
  const max = Math.max(2, c.controllers * 2);
  return [
    header,
    section(['Stacks, resources and tags are named after deployment.name.'], 'deployment', {
      name: c.name,
      region: c.region,
    }),
    section(
      c.network.kind === 'new'
        ? ['A new VPC: private subnets behind one NAT gateway, public subnets for the NAT.']
        : ['An existing VPC: controllers and workers run in its private subnets (behind a NAT gateway).'],
      'network',
      networkSection(c.network),
    ),
    section(
      [
        'The X-Spot packages are installed with gpgcheck=1 against the key your vendor signs them with',
        "(a repository that publishes no key: see xspot-cdk's docs/security.md, unsigned-packages).",
      ],
      'xspot',
      { repositoryGpgKey: c.repositoryGpgKey },
    ),
    section(
      [
        'The EL7-family image controllers boot, and their size. Controllers launch and live-migrate workers;',
        'desiredCapacity controllers run normally, and up to maxCapacity during an upgrade or a scale-out.',
      ],
      'controllers',
      {
        amiId: c.controllerAmi,
        instanceType: c.controllerType,
        minCapacity: Math.min(1, c.controllers),
        desiredCapacity: c.controllers,
        maxCapacity: max,
      },
    ),
    section(
      [
        'Instance families (or types) X-Spot launches workers on. Set workers.ami once the worker image is',
        'built: `npx xspot-cdk ami build --wait`, then `npx xspot-cdk ami latest` prints the line.',
      ],
      'workers',
      { onDemandTypes: [...c.workerFamilies], spotFleetTypes: [...c.workerFamilies] },
    ),
    section(
      ['The scheduler whose hooks `xspot-cdk scheduler render` writes (none: no scheduler integration).'],
      'scheduler',
      { type: c.scheduler },
    ),
  ].join('\n');
}
