/**
 * `xspot-cdk diff`: the template comparison comes from CDK's own differ (@aws-cdk/cloudformation-diff),
 * which knows from the CloudFormation spec which property changes replace a resource; these tests
 * check that we report what it finds, and run the CLI end to end on real synths of two configs.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { changedPaths, diffStacks, formatStackDiffs } from '../../lib/ops/diff';
import { DEFAULT_YAML } from '../support/app';
import { exampleCopyWithKey } from '../support/configs';

/** A site's copy of the example (the example's acknowledgements do not hold for it): with the signing key. */
const SITE_YAML = exampleCopyWithKey(DEFAULT_YAML);

import { runCli } from '../support/cli';

jest.setTimeout(600_000);

const vpc = (cidr: string) => ({
  Resources: { Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: cidr, EnableDnsSupport: true } } },
});

describe('diffStacks (templates)', () => {
  test('a VPC CIDR change is a replacement, per the CloudFormation spec', () => {
    const [s] = diffStacks({ net: vpc('10.0.0.0/16') }, { net: vpc('10.1.0.0/16') });
    expect(s.resources).toEqual([
      { logicalId: 'Vpc', type: 'AWS::EC2::VPC', kind: 'replaced', paths: [{ path: 'CidrBlock', replaces: true }] },
    ]);
    expect(formatStackDiffs([s])).toContain('      CidrBlock  [requires replacement]');
  });

  test('a tag change is an update in place', () => {
    const a = vpc('10.0.0.0/16');
    const b = vpc('10.0.0.0/16');
    (b.Resources.Vpc.Properties as Record<string, unknown>).Tags = [{ Key: 'team', Value: 'hpc' }];
    const [s] = diffStacks({ net: a }, { net: b });
    expect(s.resources[0].kind).toBe('changed');
    expect(s.resources[0].paths).toEqual([{ path: 'Tags', replaces: false }]);
  });

  test('stacks added and removed, resources added and removed; identical stacks left out', () => {
    const d = diffStacks(
      { a: vpc('10.0.0.0/16'), same: vpc('10.9.0.0/16') },
      { b: vpc('10.0.0.0/16'), same: vpc('10.9.0.0/16') },
    );
    expect(d.map((s) => [s.stack, s.kind, s.resources.map((r) => r.kind)])).toEqual([
      ['a', 'removed', ['removed']],
      ['b', 'added', ['added']],
    ]);
    expect(formatStackDiffs(d).at(-1)).toBe('2 stacks changed: 1 added, 1 removed, 0 replaced, 0 changed');
    expect(formatStackDiffs([])).toEqual(['no changes']);
  });

  test('IAM statements added are listed', () => {
    const role = (actions: string[]) => ({
      Resources: {
        P: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            PolicyName: 'p',
            Roles: ['r'],
            PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] },
          },
        },
      },
    });
    const [s] = diffStacks(
      { x: role(['ec2:DescribeInstances']) },
      { x: role(['ec2:DescribeInstances', 'ec2:RunInstances']) },
    );
    expect(s.iam.some((l) => l.startsWith('+') && l.includes('ec2:RunInstances'))).toBe(true);
    expect(s.iam.some((l) => l.startsWith('-'))).toBe(true);
  });

  test('changedPaths names leaves', () => {
    expect(changedPaths({ a: { b: [1, 2] }, c: 1 }, { a: { b: [1, 3] }, c: 1 }, 'P')).toEqual(['P.a.b[1]']);
  });
});

describe('xspot-cdk diff (synthesizes both configs)', () => {
  let repo: string;
  beforeAll(() => {
    // GIVEN a site repository with its config committed
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-diff-repo-'));
    fs.writeFileSync(path.join(repo, 'site.yaml'), SITE_YAML);
    const git = (...a: string[]) => execFileSync('git', ['-C', repo, ...a], { stdio: 'pipe' });
    git('init', '-q');
    git('add', 'site.yaml');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'site');
  });
  afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

  test('no change: exit 0', () => {
    const r = runCli(['diff', '--from', 'git:HEAD:site.yaml', '--to', 'site.yaml'], { cwd: repo });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('no changes');
    expect(r.code).toBe(0);
  });

  test('a new controller instance type: the launch template changes, a controller roll, exit 1', () => {
    // WHEN the working copy changes the controller instance type
    const changed = SITE_YAML.replace(/^(\s+instanceType:\s*)m5d\.xlarge/m, '$1m5.2xlarge');
    expect(changed).not.toBe(SITE_YAML);
    fs.writeFileSync(path.join(repo, 'site.yaml'), changed);
    const r = runCli(['diff', '--from', 'git:HEAD:site.yaml', '--to', 'site.yaml'], { cwd: repo });
    // THEN
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Stack xspot-controllers$/m);
    expect(r.stdout).toMatch(
      /~ AWS::EC2::LaunchTemplate \S+ \(changed\)\n(\s{6}.*\n)*\s{6}LaunchTemplateData\.InstanceType\n/,
    );
    expect(r.stdout).toMatch(/controller roll: launch template \S+ changes/);
    expect(r.stdout).not.toMatch(/^Stack xspot-prereqs/m);
  });

  test('a side that does not exist: one line, exit 2', () => {
    const r = runCli(['diff', '--from', 'git:HEAD:nope.yaml', '--to', 'site.yaml'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'error: --from: git:HEAD:nope.yaml: no file nope.yaml at git ref HEAD (git:REF:PATH, PATH from the repository root)',
    );
  });
});
