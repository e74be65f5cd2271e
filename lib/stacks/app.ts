/**
 * Builds every stack of a deployment from a loaded config. bin/xspot-cdk.ts calls this; tests
 * call it with their own configs. Stacks hand constructs (not names) to each other.
 */
import { type App, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { LoadedConfig } from '../config/load';
import { DEPLOYMENT_TAG } from '../constructs/security';
import { PrereqsStack } from './prereqs-stack';

export interface XspotStacks {
  readonly prereqs: PrereqsStack;
}

export function stackIds(deploymentName: string) {
  return {
    prereqs: `${deploymentName}-prereqs`,
    workerImage: `${deploymentName}-worker-image`,
    controllers: `${deploymentName}-controllers`,
  };
}

export function buildXspotApp(app: App, loaded: Pick<LoadedConfig, 'config' | 'siteScripts'>): XspotStacks {
  const c = loaded.config;
  const ids = stackIds(c.deployment.name);
  const env = { region: c.deployment.region, ...(c.deployment.account ? { account: c.deployment.account } : {}) };

  Tags.of(app).add(DEPLOYMENT_TAG, c.deployment.name);
  for (const [k, v] of Object.entries(c.deployment.tags)) Tags.of(app).add(k, v);
  if (c.iam.permissionsBoundaryArn) {
    iam.PermissionsBoundary.of(app).apply(
      iam.ManagedPolicy.fromManagedPolicyArn(app, 'PermissionsBoundary', c.iam.permissionsBoundaryArn),
    );
  }

  const prereqs = new PrereqsStack(app, ids.prereqs, {
    env,
    config: c,
    description: `X-Spot prerequisites for ${c.deployment.name}: network, security group, IAM, shared storage, logs`,
  });
  return { prereqs };
}
