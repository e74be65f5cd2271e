/**
 * Every config under config/examples/: check-config passes with nothing left unacknowledged, the
 * whole app synthesizes, cdk-nag (AwsSolutions) reports nothing unacknowledged and cfn-lint finds no
 * errors in the same cloud assembly (one synth per example), and the templates show what the example
 * is for. config/default.yaml is gated by nag.test.ts, cfn-lint.test.ts and snapshot.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { checkConfigFile, packageRoot } from '../../lib/config/load';
import type { XspotStacks } from '../../lib/stacks/app';
import { buildApp } from '../support/app';

const DIR = path.join(packageRoot(), 'config', 'examples');
const EXAMPLES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** What each example is for, seen in its templates. */
const SHOWS: Record<string, (t: Record<keyof XspotStacks, Template>) => void> = {
  'existing-vpc.yaml': (t) => {
    // The site's VPC is used as it is: no VPC, subnet, endpoint or flow log is created in it.
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::VPCEndpoint', 'AWS::EC2::FlowLog']) {
      t.prereqs.resourceCountIs(type, 0);
    }
    t.prereqs.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'hpc-site-controller',
      PermissionsBoundary: 'arn:aws:iam::123456789012:policy/hpc-boundary',
    });
    t.controllers.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      VPCZoneIdentifier: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b1b2c3d4e5f60718'],
    });
  },
  'gridengine.yaml': (t) => {
    // The named AZs of ap-northeast-1 (it has no "b"), never derived from the region.
    const azs = Object.values(t.prereqs.findResources('AWS::EC2::Subnet')).map(
      (r) => (r as { Properties: { AvailabilityZone: string } }).Properties.AvailabilityZone,
    );
    expect([...new Set(azs)].sort()).toEqual(['ap-northeast-1a', 'ap-northeast-1c']);
  },
  'multi-az.yaml': (t) => {
    t.prereqs.resourceCountIs('AWS::EC2::NatGateway', 3);
    // logs.athena: the log table and the cost workgroup (nag and cfn-lint see them here).
    t.prereqs.resourceCountIs('AWS::Glue::Table', 1);
    t.prereqs.resourceCountIs('AWS::Athena::WorkGroup', 1);
    const azs = Object.values(t.prereqs.findResources('AWS::EC2::Subnet')).map(
      (r) => (r as { Properties: { AvailabilityZone: string } }).Properties.AvailabilityZone,
    );
    expect([...new Set(azs)].sort()).toEqual(['us-west-2a', 'us-west-2b', 'us-west-2c']);
    t.controllers.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '3',
      DesiredCapacity: '3',
      MaxSize: '6',
    });
  },
};

test('the examples the project promises are there', () => {
  expect(EXAMPLES).toEqual(expect.arrayContaining(['existing-vpc.yaml', 'gridengine.yaml', 'multi-az.yaml']));
  expect(Object.keys(SHOWS).sort()).toEqual(EXAMPLES);
});

describe.each(EXAMPLES)('config/examples/%s', (name) => {
  const file = path.join(DIR, name);

  test('check-config: no errors, no unacknowledged warnings', () => {
    const check = checkConfigFile(file);
    const open = check.findings.filter((f) => f.severity === 'error' || !f.acknowledged);
    expect(open.map((f) => `${f.id} ${f.path}`)).toEqual([]);
  });

  test('synthesizes; cdk-nag and cfn-lint find nothing; the templates show what it is for', () => {
    const { app, stacks } = buildApp(fs.readFileSync(file, 'utf8'), {}, file);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let dir: string;
    try {
      dir = app.synth().directory;
    } catch (e) {
      const lines = String(e).split('\n');
      const nag = lines.flatMap((l, i) =>
        /^\s*(ERROR|WARNING)\b/.test(l) ? [`${l.trim()} @ ${(lines[i + 1] ?? '').trim()}`] : [],
      );
      expect(nag.length > 0 ? nag : [String(e)]).toEqual([]);
      return;
    }
    const templates = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => path.join(dir, f));
    expect(templates).toHaveLength(3);
    const r = spawnSync('cfn-lint', ['--format', 'parseable', ...templates], { encoding: 'utf8' });
    if (r.error) throw new Error(`cfn-lint could not run (is it installed? pip install cfn-lint): ${r.error.message}`);
    expect(r.stdout.split('\n').filter((l) => /:E\d{4}:/.test(l))).toEqual([]);
    expect((r.status ?? 0) & 2).toBe(0);
    SHOWS[name]({
      prereqs: Template.fromStack(stacks.prereqs),
      workerImage: Template.fromStack(stacks.workerImage),
      controllers: Template.fromStack(stacks.controllers),
    });
  }, 300_000);
});
