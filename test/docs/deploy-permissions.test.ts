/**
 * The README's first-deploy runbook lists the services the CloudFormation execution role creates
 * resources in (what a site's narrower `--cloudformation-execution-policies` must cover). Every
 * resource type in the default deployment's templates (read from the stack snapshots, so no synth)
 * must belong to a service the runbook names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const runbook = README.slice(
  README.indexOf('## First deploy to a real account'),
  README.indexOf('## How the onboarding guide'),
);

/** CloudFormation service prefix -> the name the runbook uses. */
const SERVICE_NAMES: Record<string, string> = {
  AutoScaling: 'Auto Scaling',
  CloudWatch: 'CloudWatch alarms',
  EC2: 'EC2 (VPC',
  EFS: 'EFS',
  Events: 'EventBridge',
  IAM: 'IAM (roles',
  ImageBuilder: 'EC2 Image Builder',
  KMS: 'KMS',
  Lambda: 'Lambda',
  Logs: 'Logs',
  S3: 'S3',
  SNS: 'SNS',
  SSM: 'SSM parameters',
};

test('the runbook is there', () => {
  expect(runbook).toMatch(/^## First deploy to a real account/);
  expect(runbook).toContain('npx cdk bootstrap');
  expect(runbook).toContain('CREATE_COMPLETE');
});

test('every service the templates create resources in is named in the runbook', () => {
  const snap = fs.readFileSync(path.join(ROOT, 'test/gates/__snapshots__/snapshot.test.ts.snap'), 'utf8');
  const services = [...new Set([...snap.matchAll(/"Type": "AWS::([A-Za-z0-9]+)::/g)].map((m) => m[1]))].sort();
  expect(services.length).toBeGreaterThan(5);
  const unnamed = services.filter((s) => !SERVICE_NAMES[s] || !runbook.includes(SERVICE_NAMES[s]));
  expect(unnamed).toEqual([]);
});
