import * as path from 'node:path';
import { CfnOutput, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as efs from 'aws-cdk-lib/aws-efs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { packageRoot } from '../config/load';
import type { XspotConfig } from '../config/resolve';
import { type ControllerConfigFile, ControllerFleet, type SharedStorageMount } from '../constructs/controller-fleet';

export interface ControllersStackProps extends StackProps {
  readonly config: XspotConfig;
  /** VPC from the prerequisites stack. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the controllers.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security group of the controllers and workers. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Group of the controllers only (the EFS mount targets admit NFS from it). */
  readonly controllerSecurityGroup: ec2.ISecurityGroup;
  /** The role attached to every controller. */
  readonly controllerRole: iam.IRole;
  /** Bucket the controllers sync their logs to (when `logs.s3Sync`). */
  readonly logBucket: s3.IBucket;
  /**
   * The EFS file system holding REMOTE_DIR; required when `storage.type` is `efs`.
   *
   * @default - none (storage.type nfs, lustre or ontap: `storage.existing`)
   */
  readonly fileSystem?: efs.IFileSystem;
  /** The rendered config bundle (lib/config/bundle.ts), by path relative to the release's conf/. */
  readonly configFiles: Readonly<Record<string, ControllerConfigFile>>;
  /**
   * The controller runtime directory.
   *
   * @default - assets/controller-runtime of this package
   */
  readonly runtimeAssetPath?: string;
}

/** What the controllers mount for REMOTE_DIR, from `storage:` (and the EFS file system when it is created here). */
export function sharedStorageMount(config: XspotConfig, fileSystem?: efs.IFileSystem): SharedStorageMount {
  const s = config.storage;
  if (s.type === 'efs') {
    if (!fileSystem) {
      throw new Error('storage.type is efs but the prerequisites stack passed no EFS file system (fileSystem)');
    }
    return { type: 'efs', source: fileSystem.fileSystemId, mountPoint: s.mountPoint, mountOptions: 'tls,iam,_netdev' };
  }
  const e = s.existing;
  if (!e) throw new Error(`storage.existing: must be set when storage.type is ${s.type} (dnsName, exportPath, ...)`);
  if (s.type === 'lustre') {
    if (!e.mountName) throw new Error('storage.existing.mountName: must be set when storage.type is lustre');
    return {
      type: 'lustre',
      source: `${e.dnsName}@tcp:/${e.mountName}`,
      mountPoint: s.mountPoint,
      mountOptions: e.mountOptions ?? 'relatime,flock,_netdev',
    };
  }
  return {
    type: s.type,
    source: `${e.dnsName}:${e.exportPath}`,
    mountPoint: s.mountPoint,
    mountOptions: e.mountOptions ?? '_netdev',
  };
}

/**
 * The guide's "Cluster Deployment" and "Upgrading Cluster Deployments": the controller fleet
 * (runtime and config assets, launch template, Auto Scaling group, lifecycle hooks, SNS topic,
 * alarms) and the outputs `xspot-cdk fleet` reads (docs/stack-contract.md). Composition only.
 */
export class ControllersStack extends Stack {
  public readonly fleet: ControllerFleet;

  constructor(scope: Construct, id: string, props: ControllersStackProps) {
    super(scope, id, props);
    const c = props.config;
    const ctl = c.controllers;
    const name = c.deployment.name;

    this.fleet = new ControllerFleet(this, 'Fleet', {
      deploymentName: name,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroup: props.securityGroup,
      additionalSecurityGroups: [props.controllerSecurityGroup],
      role: props.controllerRole,
      instanceType: new ec2.InstanceType(ctl.instanceType),
      machineImageId: ctl.amiId,
      rootVolumeSize: Size.gibibytes(ctl.rootVolumeGb),
      rootDeviceName: ctl.rootDeviceName,
      dockerVolumeSize:
        c.resolved.dockerDisk === 'ebs' && c.resolved.dockerDiskGb !== undefined
          ? Size.gibibytes(c.resolved.dockerDiskGb)
          : undefined,
      keyPair: ctl.keyPairName ? ec2.KeyPair.fromKeyPairName(this, 'KeyPair', ctl.keyPairName) : undefined,
      detailedMonitoring: ctl.detailedMonitoring,
      minCapacity: ctl.minCapacity,
      maxCapacity: ctl.maxCapacity,
      desiredCapacity: ctl.desiredCapacity,
      bootstrapTimeout: Duration.minutes(ctl.bootstrapTimeoutMinutes),
      waitForBootOnCreate: ctl.waitForBootOnCreate,
      ...(ctl.awsCli ? { awsCli: ctl.awsCli } : {}),
      creationTimeout:
        ctl.creationTimeoutMinutes === undefined ? undefined : Duration.minutes(ctl.creationTimeoutMinutes),
      heartbeatInterval: Duration.seconds(ctl.heartbeatSeconds),
      drainTimeout: Duration.minutes(ctl.drainTimeoutMinutes),
      runtimeAssetPath: props.runtimeAssetPath ?? path.join(packageRoot(), 'assets', 'controller-runtime'),
      configFiles: props.configFiles,
      storage: sharedStorageMount(c, props.fileSystem),
      logBucket: c.logs.s3Sync ? props.logBucket : undefined,
      logPrefix: name,
      logSyncInterval: Duration.minutes(c.logs.syncIntervalMinutes),
      upgrade: {
        canary: c.upgrade.canary,
        checkpointDelay: Duration.minutes(c.upgrade.checkpointDelayMinutes),
        minHealthyPercentage: c.upgrade.minHealthyPercentage,
        maxHealthyPercentage: c.upgrade.maxHealthyPercentage,
        instanceWarmup: Duration.seconds(c.upgrade.instanceWarmupSeconds),
        autoRollback: c.upgrade.autoRollback,
      },
      tags: c.deployment.tags,
    });

    const fleet = this.fleet;
    const out = (key: string, value: string, description: string) => new CfnOutput(this, key, { value, description });
    out('AutoScalingGroupName', fleet.autoScalingGroup.autoScalingGroupName, 'Auto Scaling group of the controllers');
    out('LaunchTemplateId', fleet.launchTemplate.launchTemplateId ?? '', 'Launch template of the controllers');
    out(
      'LaunchTemplateVersion',
      fleet.launchTemplate.latestVersionNumber,
      'Launch template version this deploy created; `xspot-cdk fleet upgrade` rolls the controllers onto it',
    );
    out(
      'RefreshPreferences',
      // Plain JSON: every value is a literal (the alarm is named), so the CLI reads it as is.
      JSON.stringify(fleet.refreshPreferences),
      'StartInstanceRefresh preferences from upgrade: (JSON)',
    );
    out(
      'RuntimeVersion',
      fleet.runtimeVersion,
      'Controller runtime version: <runtime sha256[0:12]>-<config sha256[0:12]>',
    );
    out(
      'NotificationTopicArn',
      fleet.topic.topicArn,
      'SNS topic for controller launch/terminate notifications and alarms',
    );
  }
}
