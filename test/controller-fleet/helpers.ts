/**
 * Shared GIVENs for the controller fleet tests: a throwaway runtime directory, a rendered config
 * bundle, a fleet in a stack with stand-in prerequisites, and a reader that turns the launch
 * template's userdata (Fn::Base64 of Fn::Join) back into the script text.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  type ControllerConfigFile,
  ControllerFleet,
  type ControllerFleetProps,
} from '../../lib/constructs/controller-fleet';
import { CDK_CONTEXT } from '../support/app';

/** A minimal controller runtime (bin/bootstrap.sh, a Makefile, a script) in a fresh temp dir. */
export function makeRuntimeDir(extra: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-fleet-runtime-'));
  const files: Record<string, string> = {
    'bin/bootstrap.sh': '#!/usr/bin/env bash\nset -euo pipefail\necho bootstrap\n',
    'bin/drain.sh': '#!/usr/bin/env bash\nset -euo pipefail\necho drain\n',
    Makefile: 'controller:\n\t@echo controller\n',
    'scripts/lib.sh': '# shellcheck shell=bash\nlog() { echo "$*"; }\n',
    ...extra,
  };
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content, { mode: rel.endsWith('.sh') && rel.startsWith('bin/') ? 0o755 : 0o644 });
  }
  return dir;
}

/** A rendered config bundle; `rpmVersion` and `workerAmi` stand for the values issue 5 names. */
export function makeConfigFiles(
  opts: { rpmVersion?: string; workerAmi?: string } = {},
): Record<string, ControllerConfigFile> {
  const rpm = opts.rpmVersion ?? 'xspot-1.3.0.1-rc_5cb0ffb0.el7';
  const ami = opts.workerAmi ?? 'ami-0aaaaaaaaaaaaaaaa';
  return {
    'env.cfg': { content: `REMOTE_DIR=/efs/deploy\nXSPOT_RPM_VERSION=${rpm}\n` },
    'config.toml': { content: `[aws]\nami = "${ami}"\n` },
    'scripts/startup.sh': { content: '#!/bin/bash\nexit 0\n', mode: 0o755 },
  };
}

export interface FleetFixture {
  readonly app: App;
  readonly stack: Stack;
  readonly fleet: ControllerFleet;
  readonly template: Template;
}

/** A fleet with stand-in prerequisites; `props` (or a function of the stack giving them) override the defaults. */
export function buildFleet(
  overrides: Partial<ControllerFleetProps> | ((stack: Stack) => Partial<ControllerFleetProps>) = {},
  runtimeDir = makeRuntimeDir(),
): FleetFixture {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-fleet-test-'));
  const app = new App({ outdir, context: CDK_CONTEXT });
  const stack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const securityGroup = new ec2.SecurityGroup(stack, 'Sg', { vpc, description: 'controllers' });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  const logBucket = new s3.Bucket(stack, 'Logs');
  const props = typeof overrides === 'function' ? overrides(stack) : overrides;
  const fleet = new ControllerFleet(stack, 'Controllers', {
    deploymentName: 'xspot',
    vpc,
    securityGroup,
    role,
    instanceType: new ec2.InstanceType('m5d.xlarge'),
    machineImageId: 'ami-0123456789abcdef0',
    minCapacity: 1,
    maxCapacity: 4,
    desiredCapacity: 2,
    runtimeAssetPath: runtimeDir,
    configFiles: makeConfigFiles(),
    storage: { type: 'efs', source: 'fs-0123456789abcdef0', mountPoint: '/efs' },
    logBucket,
    heartbeatInterval: Duration.minutes(5),
    ...props,
  });
  return { app, stack, fleet, template: Template.fromStack(stack) };
}

/** Renders a resolved CloudFormation value as text; references become `${Ref}` / `${Res.Attr}`. */
export function cfnText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('Fn::Base64' in o) return cfnText(o['Fn::Base64']);
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(cfnText).join(sep);
    }
    if ('Ref' in o) return `\${${String(o.Ref)}}`;
    if ('Fn::GetAtt' in o) return `\${${(o['Fn::GetAtt'] as string[]).join('.')}}`;
    if ('Fn::ImportValue' in o) return `\${Import}`;
    if ('Fn::Sub' in o) return String(o['Fn::Sub']);
  }
  return JSON.stringify(v);
}

/** The only launch template of the template. */
export function launchTemplateData(template: Template): Record<string, unknown> {
  const lts = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
  expect(lts).toHaveLength(1);
  return (lts[0] as { Properties: { LaunchTemplateData: Record<string, unknown> } }).Properties.LaunchTemplateData;
}

/** The launch template's userdata script, references rendered as `${...}`. */
export function userDataText(template: Template): string {
  return cfnText(launchTemplateData(template).UserData);
}
