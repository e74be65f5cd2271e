/**
 * Builds every stack of a deployment from a loaded config. bin/xspot-cdk.ts calls this; tests
 * call it with their own configs. Stacks hand constructs (not names) to each other.
 */
import { type App, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { renderConfigBundle } from '../config/bundle';
import type { LoadedConfig } from '../config/load';
import { DEPLOYMENT_TAG } from '../constructs/security';
import { ControllersStack } from './controllers-stack';
import { PrereqsStack } from './prereqs-stack';
import { WorkerImageStack } from './worker-image-stack';

export interface XspotStacks {
  readonly prereqs: PrereqsStack;
  readonly workerImage: WorkerImageStack;
  readonly controllers: ControllersStack;
}

export function stackIds(deploymentName: string) {
  return {
    prereqs: `${deploymentName}-prereqs`,
    workerImage: `${deploymentName}-worker-image`,
    controllers: `${deploymentName}-controllers`,
  };
}

export function buildXspotApp(
  app: App,
  loaded: Pick<LoadedConfig, 'config' | 'siteScripts' | 'dockerfiles'>,
): XspotStacks {
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
  const workerImage = new WorkerImageStack(app, ids.workerImage, {
    env,
    config: c,
    vpc: prereqs.vpc,
    subnets: prereqs.privateSubnets,
    securityGroup: prereqs.securityGroup,
    logBucket: prereqs.logBucket,
    description: `X-Spot worker AMI pipeline for ${c.deployment.name} (EC2 Image Builder)`,
  });

  const configFiles = renderConfigBundle(loaded);
  const controllers = new ControllersStack(app, ids.controllers, {
    env,
    config: c,
    vpc: prereqs.vpc,
    vpcSubnets: prereqs.privateSubnets,
    securityGroup: prereqs.securityGroup,
    controllerSecurityGroup: prereqs.controllerSecurityGroup,
    controllerRole: prereqs.controllerRole,
    logBucket: prereqs.logBucket,
    fileSystem: prereqs.fileSystem,
    configFiles,
    description: `X-Spot controllers for ${c.deployment.name}: launch template, Auto Scaling group, lifecycle hooks`,
  });
  return { prereqs, workerImage, controllers };
}
