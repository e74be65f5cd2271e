/**
 * The X-Spot controller fleet: a launch template and an Auto Scaling group whose instances boot
 * themselves into validated controllers from a versioned runtime (the guide's "X-Spot
 * Installation", "Validation", "Script Deployment" and "Cluster Deployment"), plus the lifecycle
 * hooks, notifications, alarms and instance-refresh settings that make rolling upgrades safe
 * (the guide's "Upgrading Cluster Deployments").
 *
 * Boot contract: docs/controller-contract.md. Upgrade behaviour and alarms: docs/controller-fleet.md.
 */

import type { RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import {
  Annotations,
  ArnFormat,
  AssetHashType,
  Aws,
  aws_autoscaling as autoscaling,
  type CfnCreationPolicy,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cw_actions,
  Duration,
  aws_ec2 as ec2,
  aws_iam as iam,
  aws_kms as kms,
  Lazy,
  RemovalPolicy,
  Size,
  SizeRoundingBehavior,
  Stack,
  type aws_s3 as s3,
  aws_s3_assets as s3_assets,
  aws_sns as sns,
  Tags,
  Token,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  type Bundle,
  type BundleEntry,
  type ControllerConfigFile,
  configEntries,
  directoryEntries,
  writeBundle,
} from './controller-fleet-bundle';
import { type ControllerRefreshOptions, refreshPreferences } from './controller-fleet-refresh';
import {
  assertShellValue,
  type DeployEnvEntry,
  readUserDataTemplate,
  renderDeployEnv,
  renderTemplate,
  USERDATA_LIMIT_BYTES,
} from './controller-fleet-userdata';
import { acknowledgeNag, nagArn } from './nag';

export type { ControllerConfigFile } from './controller-fleet-bundle';
export type { ControllerRefreshOptions } from './controller-fleet-refresh';

/** Where REMOTE_DIR's shared file system comes from (deploy.env `XSPOT_STORAGE_*`). */
export interface SharedStorageMount {
  /** File system kind; selects how the runtime mounts it. */
  readonly type: 'efs' | 'nfs' | 'lustre' | 'ontap';
  /**
   * What to mount: the EFS file system id (`fs-...`); `server:/export` for NFS and ONTAP;
   * `dns-name@tcp:/mountname` for FSx for Lustre. May be a CloudFormation reference.
   */
  readonly source: string;
  /** Absolute path the file system is mounted on; REMOTE_DIR lives below it. */
  readonly mountPoint: string;
  /**
   * Comma-separated mount options.
   *
   * @default - `tls,_netdev` for EFS, `_netdev` otherwise
   */
  readonly mountOptions?: string;
}

/** Properties of a {@link ControllerFleet}. */
export interface ControllerFleetProps {
  /** Deployment name: tags (`xspot:deployment`), resource names, deploy.env `XSPOT_DEPLOYMENT`. */
  readonly deploymentName: string;

  /** The VPC controllers run in. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets the Auto Scaling group spreads controllers across (private, behind a NAT: controllers
   * reach EC2, S3 and the X-Spot package repository).
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security group of the controllers (and the workers they launch). */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * More groups for the controllers (the controllers-only group the EFS mount targets admit).
   *
   * @default - none
   */
  readonly additionalSecurityGroups?: ec2.ISecurityGroup[];
  /**
   * The controller role (the guide's IAM role "attached to every X-Spot controller"). The fleet
   * adds a policy with what its boot contract needs: read the two release archives, complete and
   * heartbeat its own lifecycle actions, tag its own instance on failure, count bootstrap failures
   * and write logs under the log prefix.
   */
  readonly role: iam.IRole;
  /**
   * Instance profile for `role`.
   *
   * @default - one is created for `role`
   */
  readonly instanceProfile?: iam.IInstanceProfile;

  /** Controller instance type (the guide recommends m5d.xlarge: local NVMe SSD for docker). */
  readonly instanceType: ec2.InstanceType;
  /**
   * Controller image: a literal AMI id (`ami-...`). Not an SSM parameter reference or other
   * deploy-time value: instance refresh cannot roll back to a launch template whose image id is one.
   */
  readonly machineImageId: string;
  /**
   * Root device name of `machineImageId`, so the root volume settings apply to the root volume.
   *
   * @default '/dev/sda1' (CentOS 7 / RHEL 7 images; Amazon Linux 2 uses '/dev/xvda')
   */
  readonly rootDeviceName?: string;
  /**
   * Size of the encrypted gp3 root volume.
   *
   * @default Size.gibibytes(50)
   */
  readonly rootVolumeSize?: Size;
  /**
   * Size of an extra encrypted gp3 volume for docker's storage, for instance types without an
   * instance-store SSD.
   *
   * @default - no extra volume: docker uses the instance store
   */
  readonly dockerVolumeSize?: Size;
  /**
   * SSH key pair.
   *
   * @default - none (use Session Manager)
   */
  readonly keyPair?: ec2.IKeyPair;
  /**
   * One-minute CloudWatch metrics for the controllers.
   *
   * @default true
   */
  readonly detailedMonitoring?: boolean;
  /**
   * IMDSv2 PUT response hop limit. 1 keeps the instance role's credentials away from job
   * containers on docker's bridge network (one more hop): the controller role can launch and
   * terminate EC2 instances, user jobs must not. X-Spot's services run on the host and do not
   * need the extra hop; raise to 2 only for site tooling that calls AWS from bridged containers.
   *
   * @default 1
   */
  readonly httpPutResponseHopLimit?: number;

  /** Fewest controllers. */
  readonly minCapacity: number;
  /** Most controllers. */
  readonly maxCapacity: number;
  /**
   * Controllers to run. CloudFormation resets the group to this number on each update of the group.
   *
   * @default minCapacity
   */
  readonly desiredCapacity?: number;
  /**
   * Auto Scaling group name. A fixed name: the userdata (written before the group exists) and
   * the IAM policy (created before the group, so the first instances can boot) both need it.
   *
   * @default `${deploymentName}-controllers`
   */
  readonly autoScalingGroupName?: string;
  /**
   * Time after a controller is InService before EC2 health checks count. The launch lifecycle
   * hook already holds a controller out of service until its bootstrap passes, and the grace
   * period only starts after that.
   *
   * @default Duration.minutes(5)
   */
  readonly healthCheckGracePeriod?: Duration;

  /**
   * Launch lifecycle hook heartbeat timeout: how long a boot may go without a heartbeat before
   * it is abandoned. Covers boots that die silently (no userdata, a hung step before the first
   * heartbeat); the bootstrap heartbeats every `heartbeatInterval` while `post-docker` (15
   * minutes and more) runs, and reports real failures at once. At most 2 hours.
   *
   * @default Duration.minutes(45)
   */
  readonly bootstrapTimeout?: Duration;
  /**
   * When CloudFormation creates the group, wait for every desired controller to finish its boot
   * and pass `xspot check -f` (a creation policy: the bootstrap sends the SUCCESS signal after the
   * check, FAILURE naming the failed step). A broken first deploy then fails and rolls back instead
   * of reporting CREATE_COMPLETE before any controller booted. Later launches are not waited for.
   *
   * @default true
   */
  readonly waitForBootOnCreate?: boolean;
  /**
   * AWS CLI v2 release the userdata installs, pinned by the SHA-256 of its x86_64 installer, when
   * the image has no v2. Default: the image's aws, else yum's awscli.
   */
  readonly awsCli?: { readonly version: string; readonly sha256: string };
  /**
   * How long the creation waits for the controllers' signals (at most 12 hours).
   *
   * @default bootstrapTimeout + 15 minutes (the instance launch, the userdata's tool install and downloads)
   */
  readonly creationTimeout?: Duration;
  /**
   * How often the bootstrap and the drain record a lifecycle heartbeat (deploy.env
   * `XSPOT_HEARTBEAT_SECONDS`). At most half of `bootstrapTimeout`.
   *
   * @default Duration.minutes(5)
   */
  readonly heartbeatInterval?: Duration;
  /**
   * How long a terminating controller waits for running X-Spot containers before it flushes its
   * logs and lets go (deploy.env `XSPOT_DRAIN_TIMEOUT_SECONDS`; the terminate lifecycle hook's
   * heartbeat timeout, capped at the service's 2 hours; the drain heartbeats beyond that).
   *
   * @default Duration.minutes(120)
   */
  readonly drainTimeout?: Duration;

  /**
   * The controller runtime directory (assets/controller-runtime): zipped reproducibly, checked
   * by SHA-256 at boot, unpacked into `/opt/xspot-cdk/releases/<RUNTIME_VERSION>/`. Must hold
   * `bin/bootstrap.sh`.
   */
  readonly runtimeAssetPath: string;
  /**
   * The rendered config bundle (env.cfg, config.toml, dockerWrapper.toml, log_upload.env, hook
   * scripts, Dockerfiles, ...) keyed by path relative to the release's `conf/` directory.
   */
  readonly configFiles: Readonly<Record<string, ControllerConfigFile>>;

  /** The shared file system that holds REMOTE_DIR. */
  readonly storage: SharedStorageMount;
  /**
   * Bucket the controllers sync their logs to.
   *
   * @default - no S3 log sync (deploy.env `XSPOT_LOG_BUCKET=''`)
   */
  readonly logBucket?: s3.IBucket;
  /**
   * Key prefix in `logBucket`; each controller writes under `<prefix>/<instance-id>/`.
   *
   * @default deploymentName
   */
  readonly logPrefix?: string;
  /**
   * How often the controllers sync their logs (deploy.env `XSPOT_LOG_SYNC_MINUTES`).
   *
   * @default Duration.minutes(60)
   */
  readonly logSyncInterval?: Duration;

  /**
   * Instance-refresh preferences for rolling upgrades.
   *
   * @default - canary first, 60-minute checkpoint, 100-200% healthy, 20-minute warmup, auto rollback
   */
  readonly upgrade?: ControllerRefreshOptions;
  /**
   * Extra tags for every resource of the fleet (instances and volumes included).
   *
   * @default - only `xspot:deployment` and `xspot:component`
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Namespace of the fleet's own metrics (BootstrapFailures). */
export const CONTROLLER_METRIC_NAMESPACE = 'XspotCdk';
/** Where releases are unpacked on a controller. */
export const RELEASES_DIR = '/opt/xspot-cdk/releases';
/** Tag the userdata and the bootstrap set on an instance whose boot failed. */
export const BOOTSTRAP_FAILED_TAG = 'xspot:bootstrap-failed-step';

const MAX_HOOK_TIMEOUT = Duration.hours(2);
const MIN_HOOK_TIMEOUT = Duration.seconds(30);
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

/**
 * A fleet of X-Spot controllers behind an Auto Scaling group.
 *
 * Every input that changes what a controller runs (the runtime, the rendered config and so the
 * X-Spot versions and the worker AMI id, the controller image, the instance settings) changes
 * the launch template and so creates a new launch template version; nothing else does. The
 * group names that version (a number, never $Latest/$Default, which instance refresh cannot roll
 * back from). CloudFormation never replaces controllers: `xspot-cdk fleet upgrade` rolls them to
 * the new version by instance refresh with {@link refreshPreferences} (one controller first,
 * launch before terminate, automatic rollback). See docs/controller-fleet.md.
 */
export class ControllerFleet extends Construct {
  public readonly launchTemplate: ec2.LaunchTemplate;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** Encrypted topic for Auto Scaling notifications and alarm actions. */
  public readonly topic: sns.Topic;
  public readonly runtimeAsset: s3_assets.Asset;
  public readonly configAsset: s3_assets.Asset;
  /** `<runtime sha256[0:12]>-<config sha256[0:12]>`. */
  public readonly runtimeVersion: string;
  /** SHA-256 of the runtime archive, as baked into the userdata. */
  public readonly runtimeSha256: string;
  /** SHA-256 of the config archive, as baked into the userdata. */
  public readonly configSha256: string;
  public readonly autoScalingGroupName: string;
  public readonly launchHookName = 'xspot-bootstrap';
  public readonly terminateHookName = 'xspot-drain';
  /** The rendered userdata script (may hold CDK tokens). */
  public readonly userDataScript: string;
  /** The deploy.env the userdata writes (may hold CDK tokens). */
  public readonly deployEnv: string;
  /** A boot failed (userdata or bootstrap). Also watched by instance refresh: it fails and rolls back. */
  public readonly bootstrapFailuresAlarm: cloudwatch.Alarm;
  /** Fewer controllers in service than desired for longer than a boot may take. */
  public readonly capacityAlarm: cloudwatch.Alarm;
  /** An in-service controller fails its EC2 status checks. */
  public readonly unhealthyAlarm: cloudwatch.Alarm;
  /** StartInstanceRefresh `Preferences` for `xspot-cdk fleet upgrade`. */
  public readonly refreshPreferences: RefreshPreferences;

  constructor(scope: Construct, id: string, props: ControllerFleetProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // ---- validate ---------------------------------------------------------------------------
    const name = props.deploymentName;
    if (Token.isUnresolved(name) || !/^[a-z][a-z0-9-]{0,31}$/.test(name)) {
      throw new Error(
        `deploymentName: must be lowercase letters, digits and "-", starting with a letter, got ${JSON.stringify(name)}`,
      );
    }
    if (Token.isUnresolved(props.machineImageId) || !AMI_ID.test(props.machineImageId)) {
      throw new Error(
        `machineImageId: must be a literal AMI id such as ami-0123456789abcdef0, got ${JSON.stringify(props.machineImageId)}` +
          ' (instance refresh cannot roll back to a launch template whose image is an SSM parameter or a deploy-time value)',
      );
    }
    const desired = props.desiredCapacity ?? props.minCapacity;
    validateCapacity(props.minCapacity, desired, props.maxCapacity);
    const bootstrapTimeout = props.bootstrapTimeout ?? Duration.minutes(45);
    const heartbeat = props.heartbeatInterval ?? Duration.minutes(5);
    const drainTimeout = props.drainTimeout ?? Duration.minutes(120);
    const launchHookTimeout = hookTimeout('bootstrapTimeout', bootstrapTimeout);
    if (heartbeat.toSeconds() < 30 || heartbeat.toSeconds() * 2 > launchHookTimeout) {
      throw new Error(
        `heartbeatInterval: must be at least 30 seconds and at most half of bootstrapTimeout (${launchHookTimeout} s), got ${heartbeat.toSeconds()} s`,
      );
    }
    if (drainTimeout.toSeconds() < MIN_HOOK_TIMEOUT.toSeconds()) {
      throw new Error(`drainTimeout: must be at least 30 seconds, got ${drainTimeout.toSeconds()} s`);
    }
    const creationSignal = creationPolicy(props, desired, bootstrapTimeout);
    const terminateHookTimeout = Math.min(drainTimeout.toSeconds(), MAX_HOOK_TIMEOUT.toSeconds());
    if (drainTimeout.toSeconds() > MAX_HOOK_TIMEOUT.toSeconds()) {
      Annotations.of(this).addInfo(
        `The terminate lifecycle hook's heartbeat timeout is capped at 2 hours; drain.sh heartbeats every ${heartbeat.toSeconds()} s to wait the full drainTimeout (${drainTimeout.toSeconds()} s).`,
      );
    }
    if (heartbeat.toSeconds() >= terminateHookTimeout) {
      Annotations.of(this).addWarningV2(
        'xspot-cdk:controller-fleet:drain-shorter-than-heartbeat',
        `drainTimeout (${terminateHookTimeout} s) is not longer than heartbeatInterval (${heartbeat.toSeconds()} s): the terminate hook may expire before drain.sh flushes the logs.`,
      );
    }
    const asgName = props.autoScalingGroupName ?? `${name}-controllers`;
    if (Token.isUnresolved(asgName) || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(asgName)) {
      throw new Error(
        `autoScalingGroupName: must be a literal name of letters, digits and _ . -, got ${JSON.stringify(asgName)}`,
      );
    }
    this.autoScalingGroupName = asgName;
    const logPrefix = props.logPrefix ?? name;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.-]+)*$/.test(logPrefix)) {
      throw new Error(
        `logPrefix: must be an S3 key prefix of letters, digits and _ . - separated by "/", got ${JSON.stringify(logPrefix)}`,
      );
    }

    // ---- release archives (reproducible; checksums baked into the userdata) ----------------
    const runtimeFiles = directoryEntries(props.runtimeAssetPath);
    if (!runtimeFiles.some((f: BundleEntry) => f.path === 'bin/bootstrap.sh')) {
      throw new Error(
        `runtimeAssetPath: ${props.runtimeAssetPath} has no bin/bootstrap.sh (docs/controller-contract.md)`,
      );
    }
    const runtimeBundle = writeBundle(runtimeFiles);
    const configBundle = writeBundle(configEntries(props.configFiles));
    this.runtimeSha256 = runtimeBundle.sha256;
    this.configSha256 = configBundle.sha256;
    this.runtimeVersion = `${runtimeBundle.sha256.slice(0, 12)}-${configBundle.sha256.slice(0, 12)}`;
    const releaseDir = `${RELEASES_DIR}/${this.runtimeVersion}`;
    this.runtimeAsset = bundleAsset(this, 'RuntimeAsset', runtimeBundle, 'controller runtime');
    this.configAsset = bundleAsset(this, 'ConfigAsset', configBundle, 'controller config');

    // ---- boot permissions (created before the group: the first instances need them) --------
    const bootPolicy = this.bootPolicy(props, asgName);
    const logsPolicy = props.logBucket ? this.logsPolicy(props.role, props.logBucket, logPrefix) : undefined;

    // ---- userdata --------------------------------------------------------------------------
    const storage = props.storage;
    const deployEnv: DeployEnvEntry[] = [
      { key: 'XSPOT_DEPLOYMENT', value: name, field: 'deploymentName' },
      { key: 'AWS_REGION', value: stack.region, field: 'stack region' },
      { key: 'XSPOT_ASG_NAME', value: asgName, field: 'autoScalingGroupName' },
      { key: 'XSPOT_LAUNCH_HOOK', value: this.launchHookName, field: 'launch hook name' },
      { key: 'XSPOT_TERMINATE_HOOK', value: this.terminateHookName, field: 'terminate hook name' },
      { key: 'XSPOT_LOG_BUCKET', value: props.logBucket?.bucketName ?? '', field: 'logBucket' },
      { key: 'XSPOT_LOG_PREFIX', value: logPrefix, field: 'logPrefix' },
      { key: 'XSPOT_RUNTIME_VERSION', value: this.runtimeVersion, field: 'runtime version' },
      { key: 'XSPOT_RELEASE_DIR', value: releaseDir, field: 'release dir' },
      { key: 'XSPOT_STORAGE_TYPE', value: storage.type, field: 'storage.type' },
      { key: 'XSPOT_STORAGE_SOURCE', value: storage.source, field: 'storage.source' },
      { key: 'XSPOT_STORAGE_MOUNT_POINT', value: storage.mountPoint, field: 'storage.mountPoint' },
      {
        key: 'XSPOT_STORAGE_MOUNT_OPTIONS',
        value: storage.mountOptions ?? (storage.type === 'efs' ? 'tls,_netdev' : '_netdev'),
        field: 'storage.mountOptions',
      },
      { key: 'XSPOT_HEARTBEAT_SECONDS', value: String(heartbeat.toSeconds()), field: 'heartbeatInterval' },
      { key: 'XSPOT_DRAIN_TIMEOUT_SECONDS', value: String(drainTimeout.toSeconds()), field: 'drainTimeout' },
      {
        key: 'XSPOT_LOG_SYNC_MINUTES',
        value: String((props.logSyncInterval ?? Duration.minutes(60)).toMinutes()),
        field: 'logSyncInterval',
      },
      { key: 'XSPOT_BOOTSTRAP_TIMEOUT_SECONDS', value: String(launchHookTimeout), field: 'bootstrapTimeout' },
      { key: 'XSPOT_CFN_STACK', value: creationSignal ? stack.stackName : '', field: 'stack name' },
      { key: 'XSPOT_CFN_RESOURCE', value: creationSignal ? this.groupLogicalId : '', field: 'group logical id' },
    ];
    if (!['efs', 'nfs', 'lustre', 'ontap'].includes(storage.type)) {
      throw new Error(`storage.type: must be efs, nfs, lustre or ontap, got ${JSON.stringify(storage.type)}`);
    }
    if (!Token.isUnresolved(storage.mountPoint) && !/^\/[A-Za-z0-9._+@/-]*$/.test(storage.mountPoint)) {
      throw new Error(`storage.mountPoint: must be an absolute path, got ${JSON.stringify(storage.mountPoint)}`);
    }
    this.deployEnv = renderDeployEnv(deployEnv);
    const placeholders: Record<string, string> = {
      REGION: stack.region,
      ASG_NAME: asgName,
      LAUNCH_HOOK: this.launchHookName,
      METRIC_NAMESPACE: CONTROLLER_METRIC_NAMESPACE,
      RELEASE_DIR: releaseDir,
      RUNTIME_URL: this.runtimeAsset.s3ObjectUrl,
      RUNTIME_SHA256: runtimeBundle.sha256,
      CONFIG_URL: this.configAsset.s3ObjectUrl,
      CONFIG_SHA256: configBundle.sha256,
      CFN_STACK: creationSignal ? stack.stackName : '',
      CFN_RESOURCE: creationSignal ? this.groupLogicalId : '',
      AWSCLI_VERSION: props.awsCli?.version ?? '',
      AWSCLI_SHA256: props.awsCli?.sha256 ?? '',
    };
    if (props.awsCli && !/^2\.\d+\.\d+$/.test(props.awsCli.version)) {
      throw new Error(
        `awsCli.version: must be an AWS CLI v2 release such as 2.22.35, got ${JSON.stringify(props.awsCli.version)}`,
      );
    }
    if (props.awsCli && !/^[0-9a-f]{64}$/.test(props.awsCli.sha256)) {
      throw new Error(`awsCli.sha256: must be 64 lower-case hex digits, got ${JSON.stringify(props.awsCli.sha256)}`);
    }
    for (const [k, v] of Object.entries(placeholders)) assertShellValue(`userdata ${k}`, v);
    this.userDataScript = renderTemplate(readUserDataTemplate(), { ...placeholders, DEPLOY_ENV: this.deployEnv });
    // Tokens render to short markers here but to names of at most ~100 characters once deployed.
    if (Buffer.byteLength(this.userDataScript, 'utf8') > USERDATA_LIMIT_BYTES - 1024) {
      throw new Error(
        `the controller userdata is ${Buffer.byteLength(this.userDataScript)} bytes; EC2 allows ${USERDATA_LIMIT_BYTES}`,
      );
    }

    // ---- launch template -------------------------------------------------------------------
    const blockDevices: ec2.BlockDevice[] = [
      {
        deviceName: props.rootDeviceName ?? '/dev/sda1',
        volume: ec2.BlockDeviceVolume.ebs(gib('rootVolumeSize', props.rootVolumeSize ?? Size.gibibytes(50)), {
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          encrypted: true,
          deleteOnTermination: true,
        }),
      },
    ];
    if (props.dockerVolumeSize) {
      blockDevices.push({
        deviceName: '/dev/sdf',
        volume: ec2.BlockDeviceVolume.ebs(gib('dockerVolumeSize', props.dockerVolumeSize), {
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          encrypted: true,
          deleteOnTermination: true,
        }),
      });
    }
    const hopLimit = props.httpPutResponseHopLimit ?? 1;
    if (!Number.isInteger(hopLimit) || hopLimit < 1 || hopLimit > 64) {
      throw new Error(`httpPutResponseHopLimit: must be a whole number from 1 to 64, got ${hopLimit}`);
    }
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      versionDescription: `xspot-cdk controller runtime ${this.runtimeVersion}`,
      instanceType: props.instanceType,
      machineImage: new LiteralImage(props.machineImageId),
      userData: ec2.UserData.custom(this.userDataScript),
      ...(props.instanceProfile ? { instanceProfile: props.instanceProfile } : { role: props.role }),
      securityGroup: props.securityGroup,
      keyPair: props.keyPair,
      detailedMonitoring: props.detailedMonitoring ?? true,
      blockDevices,
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpEndpoint: true,
      httpPutResponseHopLimit: hopLimit,
      instanceMetadataTags: false,
    });
    for (const sg of props.additionalSecurityGroups ?? []) this.launchTemplate.addSecurityGroup(sg);

    // ---- notifications ---------------------------------------------------------------------
    this.topic = this.notificationTopic();

    // ---- Auto Scaling group ----------------------------------------------------------------
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: this.launchTemplate,
      autoScalingGroupName: asgName,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      desiredCapacity: desired,
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: props.healthCheckGracePeriod ?? Duration.minutes(5) }),
      notifications: [{ topic: this.topic, scalingEvents: autoscaling.ScalingEvents.ALL }],
      groupMetrics: [autoscaling.GroupMetrics.all()],
      // No updatePolicy: CloudFormation never replaces controllers; upgrades are instance
      // refreshes started by `xspot-cdk fleet upgrade` (docs/controller-fleet.md). Only the
      // creation waits for the boots (waitForBootOnCreate, set on the CfnAutoScalingGroup below).
    });
    Annotations.of(this.autoScalingGroup).acknowledgeWarning(
      '@aws-cdk/aws-autoscaling:desiredCapacitySet',
      'the controller count comes from the config on purpose: each deploy sets it to controllers.desiredCapacity',
    );
    const cfnGroup = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    // Hooks declared on the group itself apply to its very first instances (a separate
    // AWS::AutoScaling::LifecycleHook is created after the group and misses them).
    cfnGroup.lifecycleHookSpecificationList = [
      {
        lifecycleHookName: this.launchHookName,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        heartbeatTimeout: launchHookTimeout,
        defaultResult: 'ABANDON',
      },
      {
        lifecycleHookName: this.terminateHookName,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeout: terminateHookTimeout,
        defaultResult: 'CONTINUE',
      },
    ];
    // Every replacement (unhealthy controller, rebalancing), not only upgrades, launches the new
    // controller and waits for it to pass its bootstrap before the old one is drained.
    const upgrade = props.upgrade ?? {};
    cfnGroup.instanceMaintenancePolicy = {
      minHealthyPercentage: upgrade.minHealthyPercentage ?? 100,
      maxHealthyPercentage: upgrade.maxHealthyPercentage ?? 200,
    };
    if (creationSignal) cfnGroup.cfnOptions.creationPolicy = creationSignal;
    this.autoScalingGroup.node.addDependency(bootPolicy);
    if (logsPolicy) this.autoScalingGroup.node.addDependency(logsPolicy);

    // ---- alarms ----------------------------------------------------------------------------
    const action = new cw_actions.SnsAction(this.topic);
    const bootstrapFailuresAlarmName = `${asgName}-bootstrap-failures`;
    this.bootstrapFailuresAlarm = new cloudwatch.Alarm(this, 'BootstrapFailuresAlarm', {
      alarmName: bootstrapFailuresAlarmName,
      alarmDescription:
        'A controller failed to boot: its launch was abandoned. The failing step is in the instance tag ' +
        `${BOOTSTRAP_FAILED_TAG}, on its console (XSPOT-BOOTSTRAP-FAILED) and in /var/log/xspot-cdk/.`,
      metric: new cloudwatch.Metric({
        namespace: CONTROLLER_METRIC_NAMESPACE,
        metricName: 'BootstrapFailures',
        dimensionsMap: { AutoScalingGroupName: asgName },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const period = Duration.minutes(5);
    const window = Math.ceil((launchHookTimeout + Duration.minutes(15).toSeconds()) / period.toSeconds());
    this.capacityAlarm = new cloudwatch.Alarm(this, 'CapacityAlarm', {
      alarmName: `${asgName}-below-desired-capacity`,
      alarmDescription:
        `Fewer controllers in service than desired for ${(window * period.toSeconds()) / 60} minutes, longer than a boot may take: ` +
        'launches fail (capacity, image, permissions) or boots keep being abandoned.',
      metric: new cloudwatch.MathExpression({
        expression: 'desired - inService',
        label: 'controllers missing',
        period,
        usingMetrics: {
          desired: groupMetric(asgName, 'GroupDesiredCapacity', cloudwatch.Stats.MINIMUM, period),
          inService: groupMetric(asgName, 'GroupInServiceInstances', cloudwatch.Stats.MAXIMUM, period),
        },
      }),
      threshold: 1,
      evaluationPeriods: window,
      datapointsToAlarm: window,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const detailed = props.detailedMonitoring ?? true;
    const statusPeriod = detailed ? Duration.minutes(1) : Duration.minutes(5);
    this.unhealthyAlarm = new cloudwatch.Alarm(this, 'UnhealthyAlarm', {
      alarmName: `${asgName}-status-check-failed`,
      alarmDescription:
        'A controller fails its EC2 status checks; Auto Scaling replaces it (its terminate hook drains it first).',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/EC2',
        metricName: 'StatusCheckFailed',
        dimensionsMap: { AutoScalingGroupName: asgName },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: statusPeriod,
      }),
      threshold: 1,
      evaluationPeriods: detailed ? 3 : 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.bootstrapFailuresAlarm, this.capacityAlarm, this.unhealthyAlarm]) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }

    // ---- rolling upgrades ------------------------------------------------------------------
    // The literal name (alarmName is a reference token): the preferences stay plain JSON.
    this.refreshPreferences = refreshPreferences(desired, props.upgrade, [bootstrapFailuresAlarmName]);

    // ---- tags ------------------------------------------------------------------------------
    // The boot policy's CreateTags is conditioned on xspot:deployment, so instances must carry it.
    Tags.of(this).add('xspot:deployment', name);
    Tags.of(this).add('xspot:component', 'controller');
    for (const [k, v] of Object.entries(props.tags ?? {})) Tags.of(this).add(k, v);
    // Outrank the construct path the launch template puts in Name by default.
    for (const c of [this.launchTemplate, this.autoScalingGroup])
      Tags.of(c).add('Name', `${name}-controller`, { priority: 200 });
  }

  /** The group's logical id, for the creation signal (the userdata is written before the group exists). */
  private get groupLogicalId(): string {
    return Lazy.string({
      produce: () => (this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup).logicalId,
    });
  }

  /** The permissions the boot contract needs, attached to the controller role. */
  private bootPolicy(props: ControllerFleetProps, asgName: string): iam.Policy {
    const stack = Stack.of(this);
    const asgArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${asgName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const instanceArn = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadReleaseArchives',
        actions: ['s3:GetObject'],
        resources: [
          this.runtimeAsset.bucket.arnForObjects(this.runtimeAsset.s3ObjectKey),
          this.configAsset.bucket.arnForObjects(this.configAsset.s3ObjectKey),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'OwnLifecycleActions',
        actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        resources: [asgArn],
      }),
      new iam.PolicyStatement({
        sid: 'TagFailedBoot',
        actions: ['ec2:CreateTags'],
        resources: [instanceArn],
        conditions: {
          StringEquals: { 'aws:ResourceTag/xspot:deployment': props.deploymentName },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [BOOTSTRAP_FAILED_TAG] },
        },
      }),
      new iam.PolicyStatement({
        sid: 'CountBootstrapFailures',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': CONTROLLER_METRIC_NAMESPACE } },
      }),
    ];
    if (props.waitForBootOnCreate !== false) {
      // The creation policy's signals: this stack only (its ARN carries the stack id).
      statements.push(
        new iam.PolicyStatement({
          sid: 'SignalStackCreation',
          actions: ['cloudformation:SignalResource'],
          resources: [stack.stackId],
        }),
      );
    }
    const policy = new iam.Policy(this, 'BootPolicy', { statements, roles: [props.role] });
    acknowledgeNag(
      policy,
      'AwsSolutions-IAM5',
      'Scoped as far as the services allow: the group ARN embeds an id generated at creation (the group is named); ' +
        'instance ids are unknown until launch, so CreateTags is conditioned on the xspot:deployment tag and the one ' +
        'failed-step tag key; PutMetricData has no resource-level permissions and is conditioned on the XspotCdk ' +
        'namespace.',
      [`Resource::${nagArn(this, asgArn)}`, `Resource::${nagArn(this, instanceArn)}`, 'Resource::*'],
    );
    return policy;
  }

  /** Log sync (timer and final flush): write under the log prefix only. */
  private logsPolicy(role: iam.IRole, bucket: s3.IBucket, logPrefix: string): iam.Policy {
    const statements = [
      new iam.PolicyStatement({
        sid: 'WriteLogs',
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`${logPrefix}/*`)],
      }),
      new iam.PolicyStatement({
        sid: 'ListLogs',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${logPrefix}/*`] } },
      }),
    ];
    if (bucket.encryptionKey) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'EncryptLogs',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [bucket.encryptionKey.keyArn],
        }),
      );
    }
    const policy = new iam.Policy(this, 'LogsPolicy', { statements, roles: [role] });
    // cdk-nag names this finding after the bucket ARN as the template spells it, usually an import
    // from the prerequisites stack whose export name only exists once cross-stack references are
    // resolved (after aspects, before validation): acknowledge exactly that finding, then.
    const objects = bucket.arnForObjects(`${logPrefix}/*`);
    this.node.addValidation({
      validate: () => {
        acknowledgeNag(
          policy,
          'AwsSolutions-IAM5',
          'Each controller writes its logs under <logPrefix>/<instance-id>/ (docs/controller-contract.md, S3 log ' +
            'layout); instance ids are unknown until launch.',
          [`Resource::${nagReference(policy, objects)}`],
        );
        return [];
      },
    });
    return policy;
  }

  /** KMS-encrypted, TLS-only topic that Auto Scaling and CloudWatch alarms can publish to. */
  private notificationTopic(): sns.Topic {
    const key = new kms.Key(this, 'TopicKey', {
      description: `Encrypts the ${this.autoScalingGroupName} notification topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // Alarms of this account only (alarm names are not known to the key: they are created later).
    const alarmArns = Stack.of(this).formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // CloudWatch alarm actions: the AWS managed aws/sns key does not allow CloudWatch, hence this key.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnLike: { 'aws:SourceArn': alarmArns } },
      }),
    );
    // Auto Scaling notifications are published by the account's Auto Scaling service-linked role,
    // which may not exist yet when this key is created; like the AWS managed SNS key, allow
    // principals of this account through SNS only.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AccountPublishersThroughSns',
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:CallerAccount': Aws.ACCOUNT_ID, 'kms:ViaService': `sns.${Aws.REGION}.amazonaws.com` },
        },
      }),
    );
    const topic = new sns.Topic(this, 'Topic', {
      displayName: `X-Spot controllers ${this.autoScalingGroupName}`,
      masterKey: key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnLike: { 'aws:SourceArn': alarmArns } },
      }),
    );
    return topic;
  }
}

/** An image referenced by a literal AMI id (no SSM parameter, no lookup). */
class LiteralImage implements ec2.IMachineImage {
  constructor(private readonly imageId: string) {}
  public getImage(): ec2.MachineImageConfig {
    return { imageId: this.imageId, osType: ec2.OperatingSystemType.LINUX, userData: ec2.UserData.forLinux() };
  }
}

function bundleAsset(scope: Construct, id: string, bundle: Bundle, what: string): s3_assets.Asset {
  return new s3_assets.Asset(scope, id, {
    path: bundle.zipPath,
    // The archive's own SHA-256: the same bytes are always the same asset.
    assetHash: bundle.sha256,
    assetHashType: AssetHashType.CUSTOM,
    displayName: `${what} ${bundle.sha256.slice(0, 12)}`,
  });
}

function validateCapacity(min: number, desired: number, max: number): void {
  for (const [field, v] of [
    ['minCapacity', min],
    ['desiredCapacity', desired],
    ['maxCapacity', max],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${field}: must be a whole number of at least 0, got ${v}`);
  }
  if (max < 1) throw new Error(`maxCapacity: must be at least 1, got ${max}`);
  if (min > max) throw new Error(`minCapacity: must be at most maxCapacity (${max}), got ${min}`);
  if (desired < min || desired > max) {
    throw new Error(`desiredCapacity: must be between minCapacity (${min}) and maxCapacity (${max}), got ${desired}`);
  }
}

/**
 * The group's creation policy: CloudFormation waits for one SUCCESS signal per desired controller
 * (sent by the bootstrap after `xspot check -f`); none when waitForBootOnCreate is false or no
 * controller is desired.
 */
function creationPolicy(
  props: ControllerFleetProps,
  desired: number,
  bootstrapTimeout: Duration,
): CfnCreationPolicy | undefined {
  if (props.waitForBootOnCreate === false || desired === 0) return undefined;
  const timeout = props.creationTimeout ?? bootstrapTimeout.plus(Duration.minutes(15));
  if (timeout.toSeconds() < 60 || timeout.toSeconds() > Duration.hours(12).toSeconds()) {
    throw new Error(`creationTimeout: must be from 1 minute to 12 hours, got ${timeout.toSeconds()} s`);
  }
  return { resourceSignal: { count: desired, timeout: timeout.toIsoString() } };
}

/** A lifecycle hook heartbeat timeout in seconds (the service allows 30 s to 2 h). */
function hookTimeout(field: string, d: Duration): number {
  const s = d.toSeconds();
  if (s < MIN_HOOK_TIMEOUT.toSeconds() || s > MAX_HOOK_TIMEOUT.toSeconds()) {
    throw new Error(`${field}: must be between 30 seconds and 2 hours, got ${s} s`);
  }
  return s;
}

function gib(field: string, size: Size): number {
  const n = size.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(n) || n < 1 || n > 16384) {
    throw new Error(`${field}: must be a whole number of GiB from 1 to 16384, got ${n}`);
  }
  return n;
}

function groupMetric(asgName: string, metricName: string, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/AutoScaling',
    metricName,
    dimensionsMap: { AutoScalingGroupName: asgName },
    statistic,
    period,
  });
}

/**
 * A value as cdk-nag spells it in finding ids (its flattenCfnReference): Ref -> `<Id>`,
 * Fn::GetAtt -> `<Id.Attr>`, Fn::ImportValue -> the export name, Fn::Join joined.
 */
function nagReference(scope: Construct, value: string): string {
  const visit = (v: unknown): string => {
    if (typeof v === 'string') return v.replace(/\$\{/g, '<').replace(/\}/g, '>');
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (Array.isArray(o['Fn::Join'])) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map(visit).join(sep);
      }
      if (Array.isArray(o['Fn::GetAtt'])) {
        const [res, attr] = o['Fn::GetAtt'] as [unknown, unknown];
        return `<${visit(res)}.${visit(attr)}>`;
      }
      if (o['Fn::ImportValue'] !== undefined) return visit(o['Fn::ImportValue']);
      if (o.Ref !== undefined) return `<${visit(o.Ref)}>`;
    }
    return JSON.stringify(v);
  };
  return visit(Stack.of(scope).resolve(value));
}
