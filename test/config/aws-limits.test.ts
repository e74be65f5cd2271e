/**
 * The rules for values AWS refuses once fields are combined (lib/config/aws-limits.ts), at their
 * boundaries, and the IAM role-name rule against what the app really synthesizes.
 */
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { stringify } from 'yaml';
import { IAM_ROLE_NAME_MAX, ROLE_SUFFIXES } from '../../lib/config/iam-names';
import { checkConfigText, defaultConfigPath } from '../../lib/config/load';
import { systemMountProblem } from '../../lib/config/mounts';
import { buildApp, DEFAULT_YAML } from '../support/app';

const FILE = path.join(path.dirname(defaultConfigPath()), 'case.yaml');
const idsOf = (cfg: object, id: string) =>
  checkConfigText(stringify(cfg), FILE)
    .findings.filter((f) => f.id === id)
    .map((f) => f.path);

describe('instance refresh percentages: AWS refuses min and max more than 100 apart', () => {
  test.each([
    [100, 200, false],
    [0, 100, false],
    [99, 200, true],
    [0, 101, true],
    [90, 110, false],
  ])('min %i, max %i: refused %s', (min, max, refused) => {
    const paths = idsOf({ upgrade: { minHealthyPercentage: min, maxHealthyPercentage: max } }, 'upgrade-healthy-gap');
    expect(paths).toEqual(refused ? ['upgrade.maxHealthyPercentage'] : []);
  });
});

describe('VPC and subnet sizes: /16 to /28', () => {
  const existing = (blocks: string[], subnet: string) => ({
    deployment: { region: 'eu-west-1' },
    network: {
      existingVpc: {
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        cidrBlocks: blocks,
        privateSubnets: [{ id: 'subnet-0a1b2c3d4e5f60718', cidr: subnet, availabilityZone: 'eu-west-1a' }],
      },
    },
  });
  test.each([
    ['10.0.0.0/16', '10.0.0.0/28', []],
    ['10.0.0.0/15', '10.0.0.0/24', ['network.existingVpc.cidrBlocks[0]']],
    ['10.0.0.0/16', '10.0.0.0/29', ['network.existingVpc.privateSubnets[0].cidr']],
  ])('existing VPC %s with subnet %s', (block, subnet, paths) => {
    expect(idsOf(existing([block], subnet), 'vpc-cidr-size')).toEqual(paths);
  });
  test.each([
    ['10.0.0.0/16', false],
    ['10.0.0.0/15', true],
  ])('new VPC %s refused %s', (cidr, refused) => {
    expect(idsOf({ network: { newVpc: { cidr } } }, 'vpc-cidr-size')).toEqual(refused ? ['network.newVpc.cidr'] : []);
  });
});

describe('IAM role names', () => {
  const longestSuffix = Math.max(...ROLE_SUFFIXES.map((s) => s.length));
  test.each([
    [IAM_ROLE_NAME_MAX - 24 - 1 - longestSuffix, false],
    [IAM_ROLE_NAME_MAX - 24 - longestSuffix, true],
  ])('a %i-character prefix with a 24-character deployment name: refused %s', (n, refused) => {
    const cfg = { iam: { roleNamePrefix: 'p'.repeat(n) }, deployment: { name: 'd'.repeat(24) } };
    expect(idsOf(cfg, 'iam-role-name-too-long')).toEqual(refused ? ['iam.roleNamePrefix'] : []);
  });

  test('every role the app names uses one of the suffixes the rule checks', () => {
    // GIVEN a prefix, WHEN the whole app is synthesized, THEN every named role (and instance
    // profile) is <prefix><name>-<suffix> with a suffix the validator knows: a new role with a
    // longer suffix cannot slip past the 64-character rule.
    const yaml = `${DEFAULT_YAML}\niam:\n  roleNamePrefix: site-\n`;
    const { app } = buildApp(yaml);
    const names: string[] = [];
    for (const stack of app.node.children) {
      if (!('templateOptions' in stack)) continue;
      const t = Template.fromStack(stack as never).toJSON();
      for (const r of Object.values(t.Resources ?? {}) as { Type: string; Properties?: Record<string, unknown> }[]) {
        if (r.Type === 'AWS::IAM::Role') names.push(String(r.Properties?.RoleName));
        if (r.Type === 'AWS::IAM::InstanceProfile') names.push(String(r.Properties?.InstanceProfileName));
      }
    }
    expect(names.length).toBeGreaterThanOrEqual(5);
    const allowed = new Set(ROLE_SUFFIXES.map((s) => `site-xspot-${s}`));
    const unnamed = names.filter((n) => !allowed.has(n));
    // Roles CDK creates for its own helpers (custom resources) are not named by the prefix.
    for (const n of unnamed) expect(n).toBe('undefined');
    expect(names.filter((n) => allowed.has(n)).length).toBeGreaterThanOrEqual(ROLE_SUFFIXES.length);
  });
});

describe('default job size against the largest worker', () => {
  test.each([
    [{ defaultCpus: 8, defaultMemoryGb: 64 }, []],
    [{ defaultCpus: 9 }, ['scheduler.defaultCpus']],
    [{ defaultMemoryGb: 65 }, ['scheduler.defaultMemoryGb']],
  ])('r5.2xlarge workers (8 vCPUs, 64 GiB), scheduler %j', (scheduler, paths) => {
    const cfg = { workers: { onDemandTypes: ['r5.2xlarge'], spotFleetTypes: ['r5.large'] }, scheduler };
    expect(idsOf(cfg, 'default-job-too-large')).toEqual(paths);
  });

  test('no scheduler, no default job', () => {
    const cfg = { workers: { onDemandTypes: ['r5.large'] }, scheduler: { type: 'none', defaultCpus: 64 } };
    expect(idsOf(cfg, 'default-job-too-large')).toEqual([]);
  });
});

describe('mount points', () => {
  test.each([
    ['/tmp', true],
    ['/tmp/scratch', true],
    ['/var', true],
    ['/var/lib/docker', true],
    ['/usr', true],
    ['/usr/local/apps', false],
    ['/proc/x', true],
    ['/', true],
    ['/fsx', false],
    ['/home', false],
    ['/tmpfs', false],
    ['/opt/apps', false],
  ])('%s shadows the system: %s', (mountPoint, bad) => {
    expect(systemMountProblem(mountPoint) !== undefined).toBe(bad);
  });
});
