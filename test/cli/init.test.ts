/**
 * `xspot-cdk init`: the file it writes passes check-config once its placeholders are filled in, has a
 * `$schema` line that resolves from where it is written and no acknowledgements; flags work without
 * a terminal; with credentials the prompts offer what the account has (SDK mocked here; against
 * moto in init.moto.test.ts); without them nothing is looked up and placeholders are written.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'yaml';
import { type Choice, type InitOptions, runInit } from '../../lib/cli/init';
import { formatFinding } from '../../lib/config/findings';
import { isPlaceholder, PLACEHOLDER_PREFIX } from '../../lib/config/init-file';
import { checkConfigText } from '../../lib/config/load';
import { UserError } from '../../lib/errors';
import type { InitClients } from '../../lib/ops/init-discovery';
import { runCli } from '../support/cli';
import { type Asked, ENTER_LATER, scripted } from '../support/prompter';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-init-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const quiet = { out: () => {}, err: () => {} };
let n = 0;
const fresh = (sub = '') => path.join(tmp, `case-${++n}`, sub, 'site.yaml');

/** Non-interactive, no AWS calls. */
const offline = (file: string, o: InitOptions = {}) =>
  runInit(file, { aws: false, ...o }, { interactive: false, io: quiet });

const check = (file: string, text = fs.readFileSync(file, 'utf8')) => checkConfigText(text, file);
const errors = (file: string, text?: string) => check(file, text).findings.filter((f) => f.severity === 'error');

/** A valid value for each placeholder, by the key it stands for. */
const FILL: Record<string, string> = {
  amiId: 'ami-0abcdef0123456789',
  vpcId: 'vpc-0abcdef0123456789',
  cidrBlocks: '10.20.0.0/16',
  id: 'subnet-0abcdef0123456789',
  cidr: '10.20.1.0/24',
  availabilityZone: 'us-east-1a',
  repositoryGpgKey: 'https://packages.example.com/xspot/RPM-GPG-KEY',
};

/** The file's text with every placeholder replaced by a valid value for its key (comments kept). */
function filled(text: string): string {
  return text.replace(/^(\s*(?:- )?)(\w+): (.*)$/gm, (line, lead: string, key: string, value: string) => {
    if (!value.includes(PLACEHOLDER_PREFIX)) return line;
    const v = FILL[key];
    if (!v) throw new Error(`no fill value for ${key}`);
    return key === 'cidrBlocks' ? `${lead}${key}: [${v}]` : `${lead}${key}: ${v}`;
  });
}

describe('the file init writes', () => {
  test('defaults, no credentials: the controller image is a placeholder that check-config reports until filled in', async () => {
    const file = fresh();
    const r = await offline(file);
    expect(r.placeholders).toEqual(['xspot.repositoryGpgKey', 'controllers.amiId']);
    const errs = errors(file);
    expect(errs.map((e) => `${e.id} ${e.path}`)).toEqual([
      'invalid-value xspot.repositoryGpgKey',
      'invalid-value controllers.amiId',
    ]);
    expect(formatFinding(errs[1])).toMatch(/controllers\.amiId = "FILL IN: .*": must be an AMI id/);
    expect(errors(file, filled(fs.readFileSync(file, 'utf8')))).toEqual([]);
  });

  test('an existing VPC without credentials: VPC CIDRs and subnet details are placeholders, each an error naming its field', async () => {
    const file = fresh();
    const r = await offline(file, { vpc: 'vpc-0123456789abcdef0', subnets: 'subnet-0123456789abcdef0' });
    expect(r.placeholders).toEqual([
      'network.existingVpc.cidrBlocks[0]',
      'network.existingVpc.privateSubnets[0].cidr',
      'network.existingVpc.privateSubnets[0].availabilityZone',
      'xspot.repositoryGpgKey',
      'controllers.amiId',
    ]);
    expect(errors(file).map((e) => e.path)).toEqual(r.placeholders);
    const text = filled(fs.readFileSync(file, 'utf8'));
    expect(errors(file, text)).toEqual([]);
    expect(parse(text).network.existingVpc.privateSubnets[0].id).toBe('subnet-0123456789abcdef0');
  });

  test('no subnets and no VPC id known: placeholders for them too', async () => {
    const file = fresh();
    const r = await runInit(
      file,
      { aws: false },
      { interactive: true, prompter: scripted({ VPC: ENTER_LATER }), io: quiet },
    );
    expect(r.placeholders).toContain('network.existingVpc.vpcId');
    expect(r.placeholders).toContain('network.existingVpc.privateSubnets[0].id');
    expect(errors(file, filled(fs.readFileSync(file, 'utf8')))).toEqual([]);
  });

  test('a $schema line that resolves from the directory the file is written to', async () => {
    for (const file of [fresh(), fresh('deeper/still')]) {
      await offline(file);
      const line = fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('# yaml-language-server: $schema='));
      expect(line).toBeDefined();
      const ref = line!.slice('# yaml-language-server: $schema='.length);
      const schema = path.resolve(path.dirname(file), ref);
      expect(JSON.parse(fs.readFileSync(schema, 'utf8')).properties.controllers).toBeDefined();
    }
  });

  test('no acknowledgements, and every flag lands in its field', async () => {
    const file = fresh();
    const r = await offline(file, {
      name: 'chip-site',
      region: 'eu-west-1',
      vpcCidr: '10.50.0.0/16',
      azs: 'eu-west-1a,eu-west-1c',
      scheduler: 'gridengine',
      controllerAmi: 'ami-0abcdef0123456789',
      controllerType: 'm5d.2xlarge',
      controllers: '3',
      workerFamilies: 'm5, r5.4xlarge',
      gpgKey: 'https://rpm.example.com/RPM-GPG-KEY-xspot',
    });
    expect(r.placeholders).toEqual([]);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toMatch(/acknowledg/i);
    const c = check(file);
    expect(c.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(c.config!.acknowledgedWarnings).toEqual([]);
    expect(c.config!.deployment).toMatchObject({ name: 'chip-site', region: 'eu-west-1' });
    expect(c.config!.network.newVpc).toMatchObject({
      cidr: '10.50.0.0/16',
      availabilityZones: ['eu-west-1a', 'eu-west-1c'],
    });
    expect(c.config!.scheduler.type).toBe('gridengine');
    expect(c.config!.xspot.repositoryGpgKey).toBe('https://rpm.example.com/RPM-GPG-KEY-xspot');
    expect(c.config!.controllers).toMatchObject({
      amiId: 'ami-0abcdef0123456789',
      instanceType: 'm5d.2xlarge',
      desiredCapacity: 3,
      maxCapacity: 6,
    });
    expect(c.config!.workers.onDemandTypes).toEqual(['m5', 'r5.4xlarge']);
    expect(c.config!.workers.spotFleetTypes).toEqual(['m5', 'r5.4xlarge']);
  });

  test('an existing file is kept unless --force', async () => {
    const file = fresh();
    await offline(file);
    fs.writeFileSync(file, 'mine: true\n');
    await expect(offline(file)).rejects.toThrow(/exists; pass --force/);
    expect(fs.readFileSync(file, 'utf8')).toBe('mine: true\n');
    await offline(file, { force: true });
    expect(fs.readFileSync(file, 'utf8')).toMatch(/deployment:/);
  });
});

describe('bad flags: one line naming the flag, the value and what is allowed', () => {
  test.each<[string, InitOptions, RegExp]>([
    ['a name with capitals', { name: 'MySite' }, /^--name: "MySite" is not allowed; must be lowercase letters/],
    ['a region typo', { region: 'us-east1' }, /^--region: "us-east1" .*region code/],
    ['a VPC that is neither new nor an id', { vpc: 'default' }, /^--vpc: "default" .*"new" or a VPC id/],
    ['a CIDR without prefix', { vpcCidr: '10.0.0.0' }, /^--vpc-cidr: "10.0.0.0" .*CIDR/],
    ['a bad AZ in the list', { azs: 'us-east-1a,east' }, /^--azs: "east" .*availability zone/],
    ['subnets for a new VPC', { subnets: 'subnet-0123456789abcdef0' }, /^--subnets: needs --vpc vpc-/],
    ['AZs with an existing VPC', { vpc: 'vpc-0123456789abcdef0', azs: 'us-east-1a' }, /^--azs: only for a new VPC/],
    ['an unknown scheduler', { scheduler: 'pbs' }, /^--scheduler: "pbs" .*slurm, gridengine, lsf, none/],
    ['an AMI name for an id', { controllerAmi: 'centos7' }, /^--controller-ami: "centos7" .*AMI id/],
    ['zero controllers', { controllers: '0' }, /^--controllers: "0" .*1 to 50/],
    ['a family with a space', { workerFamilies: 'r5, m 5' }, /^--worker-families: "m 5"/],
  ])('%s', async (_what, o, message) => {
    const file = fresh();
    const p = offline(file, o);
    await expect(p).rejects.toThrow(UserError);
    await expect(offline(fresh(), o)).rejects.toThrow(message);
    expect(fs.existsSync(file)).toBe(false);
  });

  test('through the CLI: exit 1, the one line, no stack trace, and help lists the flags', () => {
    const r = runCli(['init', path.join(tmp, 'cli.yaml'), '--no-aws', '--yes', '--scheduler', 'pbs']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/--scheduler: "pbs" is not allowed; must be slurm, gridengine, lsf, none$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const ok = runCli(['init', path.join(tmp, 'cli.yaml'), '--no-aws', '--yes', '--name', 'cli-site']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(
      'fill in before deploying (check-config reports each as an error until then): xspot.repositoryGpgKey, controllers.amiId',
    );
    expect(ok.stdout).toContain(`next: npx xspot-cdk check-config -c `);
    const help = runCli(['init', '--help']).stdout;
    for (const flag of [
      '--name',
      '--region',
      '--profile',
      '--vpc',
      '--subnets',
      '--scheduler',
      '--controller-ami',
      '--controller-type',
      '--controllers',
      '--worker-families',
      '--no-aws',
      '--yes',
      '--force',
    ]) {
      expect(help).toContain(flag);
    }
  });
});

// ---------------------------------------------------------------- prompts with (mocked) AWS

function mockedAws() {
  const clients: InitClients = {
    ec2: new EC2Client({ region: 'eu-west-1' }),
    sts: new STSClient({ region: 'eu-west-1' }),
  };
  const ec2 = mockClient(clients.ec2);
  const sts = mockClient(clients.sts);
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/ops' });
  ec2.on(DescribeVpcsCommand).resolves({
    Vpcs: [
      { VpcId: 'vpc-0def000000000001', CidrBlock: '172.31.0.0/16', IsDefault: true, State: 'available' },
      {
        VpcId: 'vpc-0abc000000000001',
        CidrBlock: '10.8.0.0/16',
        CidrBlockAssociationSet: [
          { CidrBlock: '10.8.0.0/16', CidrBlockState: { State: 'associated' } },
          { CidrBlock: '100.64.0.0/16', CidrBlockState: { State: 'associated' } },
        ],
        Tags: [{ Key: 'Name', Value: 'hpc' }],
        State: 'available',
      },
    ],
  });
  ec2.on(DescribeSubnetsCommand).resolves({
    Subnets: [
      {
        SubnetId: 'subnet-0a0b000000000001',
        VpcId: 'vpc-0abc000000000001',
        CidrBlock: '10.8.0.0/24',
        AvailabilityZone: 'eu-west-1a',
      },
      {
        SubnetId: 'subnet-0aaa00000000000a1',
        VpcId: 'vpc-0abc000000000001',
        CidrBlock: '10.8.1.0/24',
        AvailabilityZone: 'eu-west-1a',
      },
      {
        SubnetId: 'subnet-0bbb00000000000b1',
        VpcId: 'vpc-0abc000000000001',
        CidrBlock: '100.64.2.0/24',
        AvailabilityZone: 'eu-west-1b',
      },
      {
        SubnetId: 'subnet-0ccc00000000000b2',
        VpcId: 'vpc-0abc000000000001',
        CidrBlock: '10.8.3.0/24',
        AvailabilityZone: 'eu-west-1b',
      },
    ],
  });
  ec2.on(DescribeRouteTablesCommand).resolves({
    RouteTables: [
      {
        RouteTableId: 'rtb-0a00000000000001',
        Associations: [{ Main: true }],
        Routes: [{ DestinationCidrBlock: '10.8.0.0/16', GatewayId: 'local' }],
      },
      {
        RouteTableId: 'rtb-0b00000000000001',
        Associations: [{ SubnetId: 'subnet-0a0b000000000001' }],
        Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0123456789abcdef0', State: 'active' }],
      },
      {
        RouteTableId: 'rtb-0c00000000000001',
        Associations: [{ SubnetId: 'subnet-0aaa00000000000a1' }, { SubnetId: 'subnet-0bbb00000000000b1' }],
        Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0123456789abcdef0', State: 'active' }],
      },
    ],
  });
  ec2.on(DescribeAvailabilityZonesCommand).resolves({
    AvailabilityZones: [{ ZoneName: 'eu-west-1c' }, { ZoneName: 'eu-west-1a' }, { ZoneName: 'eu-west-1b' }],
  });
  ec2.on(DescribeImagesCommand).resolves({
    Images: [
      { ImageId: 'ami-0a1d000000000001', Name: 'compute-node-el7-2024', CreationDate: '2024-01-01T00:00:00Z' },
      { ImageId: 'ami-0e1e000000000001', Name: 'compute-node-el7-2025', CreationDate: '2025-06-01T00:00:00Z' },
    ],
  });
  return { clients, ec2, sts };
}

describe('with credentials, the prompts offer what the account has', () => {
  test('an existing VPC: its VPCs, its subnets with NAT ones pre-checked, its images; the file passes check-config as written', async () => {
    const { clients, ec2 } = mockedAws();
    const asked: Asked[] = [];
    const file = fresh();
    const r = await runInit(
      file,
      { gpgKey: 'https://rpm.example.com/RPM-GPG-KEY-xspot' },
      {
        interactive: true,
        clients,
        io: quiet,
        prompter: scripted(
          {
            'Deployment name': 'hpc',
            'AWS region': 'eu-west-1',
            VPC: 'vpc-0abc000000000001',
            Scheduler: 'lsf',
            'Controller image': (cs: readonly Choice<string>[]) => cs[0].value,
          },
          asked,
        ),
      },
    );
    const vpcQ = asked.find((a) => a.message.startsWith('VPC'))!;
    expect(vpcQ.choices!.map((c) => c.value)).toEqual(['(new)', 'vpc-0abc000000000001', 'vpc-0def000000000001']);
    expect(vpcQ.choices![1].name).toContain('(hpc) 10.8.0.0/16, 100.64.0.0/16');
    const subnetQ = asked.find((a) => a.message.startsWith('Private subnets'))!;
    expect(subnetQ.choices!.map((c) => [c.value, c.checked])).toEqual([
      ['subnet-0aaa00000000000a1', true],
      ['subnet-0bbb00000000000b1', true],
      ['subnet-0ccc00000000000b2', false],
      ['subnet-0a0b000000000001', false],
    ]);
    expect(subnetQ.choices![3].name).toMatch(/public \(internet gateway\): not for controllers/);
    const imageQ = asked.find((a) => a.message.startsWith('Controller image'))!;
    expect(imageQ.choices!.map((c) => c.value).slice(0, 2)).toEqual(['ami-0e1e000000000001', 'ami-0a1d000000000001']);
    expect(ec2.commandCalls(DescribeSubnetsCommand)[0].args[0].input).toEqual({
      Filters: [{ Name: 'vpc-id', Values: ['vpc-0abc000000000001'] }],
    });
    expect(ec2.commandCalls(DescribeImagesCommand)[0].args[0].input.Owners).toEqual(['self']);

    expect(r.placeholders).toEqual([]);
    const c = check(file);
    expect(c.findings.filter((f) => f.severity === 'error').map(formatFinding)).toEqual([]);
    expect(c.config!.network.existingVpc).toMatchObject({
      vpcId: 'vpc-0abc000000000001',
      cidrBlocks: ['10.8.0.0/16', '100.64.0.0/16'],
      privateSubnets: [
        {
          id: 'subnet-0aaa00000000000a1',
          cidr: '10.8.1.0/24',
          availabilityZone: 'eu-west-1a',
          routeTableId: 'rtb-0c00000000000001',
        },
        {
          id: 'subnet-0bbb00000000000b1',
          cidr: '100.64.2.0/24',
          availabilityZone: 'eu-west-1b',
          routeTableId: 'rtb-0c00000000000001',
        },
      ],
    });
    expect(c.config!.controllers.amiId).toBe('ami-0e1e000000000001');
    expect(c.config!.scheduler.type).toBe('lsf');
  });

  test("a new VPC: the region's AZs, the first two pre-checked", async () => {
    const { clients } = mockedAws();
    const asked: Asked[] = [];
    const file = fresh();
    await runInit(
      file,
      { region: 'eu-west-1' },
      {
        interactive: true,
        clients,
        io: quiet,
        prompter: scripted(
          {
            'Availability zones': ['eu-west-1b', 'eu-west-1c'],
            'Controller image': (cs: readonly Choice<string>[]) => cs.find((x) => /placeholder/.test(x.name))!.value,
          },
          asked,
        ),
      },
    );
    const azQ = asked.find((a) => a.message.startsWith('Availability zones'))!;
    expect(azQ.choices!.map((c) => [c.value, c.checked])).toEqual([
      ['eu-west-1a', true],
      ['eu-west-1b', true],
      ['eu-west-1c', false],
    ]);
    const c = check(file);
    expect(c.findings.filter((f) => f.severity === 'error').map((f) => f.path)).toEqual([
      'xspot.repositoryGpgKey',
      'controllers.amiId',
    ]);
    expect(parse(fs.readFileSync(file, 'utf8')).network.newVpc.availabilityZones).toEqual(['eu-west-1b', 'eu-west-1c']);
  });

  test('non-interactive with an existing VPC: the subnets behind a NAT gateway, and a --subnets id not in the VPC refused', async () => {
    const { clients } = mockedAws();
    const file = fresh();
    const r = await runInit(file, { vpc: 'vpc-0abc000000000001' }, { interactive: false, clients, io: quiet });
    expect(r.choices.network).toMatchObject({
      privateSubnets: [{ id: 'subnet-0aaa00000000000a1' }, { id: 'subnet-0bbb00000000000b1' }],
    });
    expect(r.placeholders).toEqual(['xspot.repositoryGpgKey', 'controllers.amiId']);
    await expect(
      runInit(
        fresh(),
        { vpc: 'vpc-0abc000000000001', subnets: 'subnet-0ffffffffffffffff' },
        { interactive: false, clients, io: quiet },
      ),
    ).rejects.toThrow(
      /--subnets: subnet-0ffffffffffffffff is not a subnet of vpc-0abc000000000001 .*subnet-0aaa00000000000a1/,
    );
    await expect(
      runInit(
        fresh(),
        { region: 'eu-west-1', vpc: 'vpc-0fffffffffffffff1' },
        { interactive: false, clients, io: quiet },
      ),
    ).rejects.toThrow(
      /^--vpc: vpc-0fffffffffffffff1 is not a VPC of this account in eu-west-1; its VPCs: vpc-0abc000000000001, vpc-0def000000000001$/,
    );
  });

  test('no credentials: one note, no further calls, placeholders', async () => {
    const { clients, ec2, sts } = mockedAws();
    sts
      .on(GetCallerIdentityCommand)
      .rejects(
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      );
    const notes: string[] = [];
    const file = fresh();
    const asked: Asked[] = [];
    const r = await runInit(
      file,
      {},
      {
        interactive: true,
        clients,
        io: { out: () => {}, err: (l) => notes.push(l) },
        prompter: scripted({ VPC: ENTER_LATER }, asked),
      },
    );
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/no AWS credentials found .*writing placeholders/);
    expect(ec2.calls()).toHaveLength(0);
    expect(asked.find((a) => a.message.startsWith('VPC'))!.choices!.map((c) => c.value)).toEqual([
      '(new)',
      '(enter an id)',
    ]);
    expect(r.placeholders).toEqual(expect.arrayContaining(['network.existingVpc.vpcId', 'controllers.amiId']));
    const written = parse(fs.readFileSync(file, 'utf8'));
    expect(isPlaceholder(written.network.existingVpc.vpcId)).toBe(true);
  });
});
