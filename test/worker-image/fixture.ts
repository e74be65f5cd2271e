/** Builds a WorkerImageStack from config text, with the objects the prerequisites stack hands it. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Tags } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { parse } from 'yaml';
import { checkConfigText, defaultConfigPath } from '../../lib/config/load';
import type { XspotConfig } from '../../lib/config/resolve';
import { WorkerImageStack } from '../../lib/stacks/worker-image-stack';
import { signedYaml } from '../support/configs';

export const ENV = { account: '123456789012', region: 'us-east-1' };

/** Parses YAML config text (merged over nothing: what is not set takes the defaults; `signed` unless it names its key). */
export function configFrom(yaml: string): XspotConfig {
  const check = checkConfigText(signedYaml(yaml), path.join(path.dirname(defaultConfigPath()), 'test.yaml'));
  const errors = check.findings.filter((f) => f.severity === 'error');
  if (!check.config || errors.length > 0) {
    throw new Error(`config has errors:\n${errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  }
  return check.config;
}

export interface Built {
  readonly app: App;
  readonly stack: WorkerImageStack;
  readonly template: Template;
}

/** A prerequisites-like stack (VPC, security group, log bucket) and the worker image stack. */
export function buildStacks(yaml = '', withTemplate = true): Built {
  const config = configFrom(yaml);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-worker-image-'));
  const app = new App({ outdir });
  // As lib/stacks/app.ts does: site tags on every resource, applied from outside the stacks.
  for (const [k, v] of Object.entries(config.deployment.tags)) Tags.of(app).add(k, v);
  const prereqs = new Stack(app, `${config.deployment.name}-prereqs`, { env: ENV });
  const vpc = new ec2.Vpc(prereqs, 'Vpc', {
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    natGateways: 1,
    restrictDefaultSecurityGroup: false,
  });
  const securityGroup = new ec2.SecurityGroup(prereqs, 'Sg', { vpc, description: 'test' });
  const logBucket = new s3.Bucket(prereqs, 'Logs', { enforceSSL: true });
  const stack = new WorkerImageStack(app, `${config.deployment.name}-worker-image`, {
    env: ENV,
    config,
    vpc,
    securityGroup,
    logBucket,
  });
  return { app, stack, template: withTemplate ? Template.fromStack(stack) : (undefined as unknown as Template) };
}

/** Resources of one type, as [logicalId, properties] pairs. */
export function resourcesOf(template: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.findResources(type)).map(([id, r]) => [
    id,
    (r as { Properties: Record<string, unknown> }).Properties,
  ]);
}

/** The component document of the component with this name, parsed. */
export function componentDocument(template: Template, name: string): Record<string, unknown> {
  const found = resourcesOf(template, 'AWS::ImageBuilder::Component').find(([, p]) => p.Name === name);
  if (!found) throw new Error(`no component named ${name}`);
  return parse(found[1].Data as string);
}
