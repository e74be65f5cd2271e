/**
 * The X-Spot worker AMI as an EC2 Image Builder pipeline: the guide's "X-Spot Worker AMI
 * Preparation" (scratch Nitro VM, SELinux off, `make install-xspot-worker`, reboot, `xl info`,
 * create an image, tag it with the release) as components, a recipe, infrastructure and
 * distribution configurations, a pipeline and a lifecycle policy.
 *
 * Props-driven: nothing here reads the config, context or the environment. The component
 * documents are the YAML files shipped in assets/worker-image/ (like Lambda code assets).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Duration, type ITaggable, Lazy, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { IAM_ROLE_NAME_MAX, type RoleSuffix, roleNameOf } from '../config/iam-names';
import { armoredKeyProblem, keyUrlProblem, type RepositoryKey } from '../config/package-signing';
import { ALLOW } from '../config/patterns';
import { sessionManagerStatement } from './security';
import { renderWorkerFstab, type WorkerMount } from './worker-image-mounts';
import { acknowledgeFinding, acknowledgeResourceFinding } from './worker-image-nag';
import { assetPath, ParentImageResolver, type WorkerParentImage } from './worker-image-parent';

export type { WorkerMount } from './worker-image-mounts';
export { WorkerParentImage } from './worker-image-parent';

/** The X-Spot release the worker image installs (env.cfg's XSPOT_* settings). */
export interface XspotWorkerVersions {
  /** XSPOT_PLATFORM, e.g. `xcontainer-4.12.0-v23.08.07+abaaf51.el7`. */
  readonly platform: string;
  /** XSPOT_KERNEL, e.g. `kernel-4.19.49_xcontainer-v23.08.07+abaaf51`. */
  readonly kernel: string;
  /** XSPOT_GUEST_KERNEL, e.g. `xspot-guest-kernel-4.19.49-v23.08.07-abaaf5112.el7`. */
  readonly guestKernel: string;
  /** XSPOT_RPM_VERSION, e.g. `xspot-1.3.0.1-rc_5cb0ffb0.el7`. */
  readonly rpm: string;
}

export interface WorkerImagePipelineProps {
  /** Deployment name: prefixes every resource name and the SSM parameters. */
  readonly deploymentName: string;
  /** VPC the build and test instances run in. */
  readonly vpc: ec2.IVpc;
  /**
   * Where the build and test instances run (the first selected subnet is used; it needs a route
   * to the X-Spot repository, e.g. through a NAT gateway).
   * @default - the VPC's private subnets with egress
   */
  readonly subnetSelection?: ec2.SubnetSelection;
  /** Security group of the build and test instances. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Bucket that receives the build logs. */
  readonly logBucket: s3.IBucket;
  /**
   * Key prefix of the build logs in `logBucket` (no leading or trailing slash); the build
   * instances may write below it and nowhere else.
   * @default `image-builder/<deploymentName>`
   */
  readonly logPrefix?: string;
  /** The X-Spot release to install. */
  readonly versions: XspotWorkerVersions;
  /** Base URL of the X-Spot yum repository (https only). */
  readonly repositoryUrl: string;
  /**
   * The key the X-Spot packages are checked against (`gpgcheck=1`). `{ kind: 'unsigned' }`
   * installs them unchecked: only for a repository that publishes no key (the config allows it
   * only with the acknowledged warning unsigned-packages).
   */
  readonly repositoryKey: RepositoryKey;
  /**
   * The repository metadata (repomd.xml) is signed with the same key: `repo_gpgcheck=1`.
   * @default false
   */
  readonly repositoryMetadataSigned?: boolean;
  /** The EL7-family image the worker image is built on. */
  readonly parentImage: WorkerParentImage;
  /**
   * Nitro instance types for the build and test instances (the guide: c5.xlarge or m5.xlarge;
   * Xen-based types such as t2 fail).
   * @default ['c5.xlarge', 'm5.xlarge']
   */
  readonly builderInstanceTypes?: readonly string[];
  /**
   * Root volume size of the image.
   * @default Size.gibibytes(30)
   */
  readonly rootVolumeSize?: Size;
  /**
   * Root device name of the parent image (the root volume size applies to this device).
   * @default '/dev/sda1' (CentOS 7 and most EL7 images)
   */
  readonly rootDeviceName?: string;
  /**
   * Image Builder cron expression, e.g. `cron(0 3 ? * SUN *)`; each match builds an image.
   * @default - no schedule: builds start with `xspot-cdk ami build`
   */
  readonly schedule?: string;
  /**
   * Images kept by the lifecycle policy; older ones are deleted with their snapshots.
   * @default 3
   */
  readonly keepImages?: number;
  /**
   * The lifecycle policy never deletes an AMI that launched an instance this recently (a worker
   * AMI still in use by config.toml keeps launching workers).
   * @default Duration.days(30)
   */
  readonly retainLaunchedWithin?: Duration;
  /**
   * NFS/ONTAP volumes every worker mounts at boot (the guide's customize_worker_ami.sh step).
   * @default - none
   */
  readonly mounts?: readonly WorkerMount[];
  /**
   * SSM parameter that receives the id of every new AMI.
   * @default `/xspot/<deploymentName>/worker-ami`
   */
  readonly amiParameterName?: string;
  /**
   * Prefix for the IAM role names (role `<prefix><deploymentName>-ami-build` and so on).
   * @default - CloudFormation generates the names
   */
  readonly roleNamePrefix?: string;
  /**
   * Permissions boundary for every role this construct creates.
   * @default - none
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;
  /**
   * How long the image tests may run.
   * @default Duration.minutes(120)
   */
  readonly testTimeout?: Duration;
}

/** Tag keys on the image resources and AMIs. */
export const IMAGE_TAGS = {
  deployment: 'xspot:deployment',
  image: 'xspot:image',
  platform: 'xspot:platform-version',
  kernel: 'xspot:kernel-version',
  guestKernel: 'xspot:guest-kernel-version',
  rpm: 'xspot:rpm-version',
  /** Set to `true` on an AMI to keep it from the lifecycle policy. */
  retain: 'xspot:retain',
} as const;

/** The component documents shipped with the package. */
export const COMPONENT_FILES = {
  worker: 'worker-image/xspot-worker.yaml',
  mounts: 'worker-image/xspot-worker-mounts.yaml',
} as const;

/** Reads a shipped component document. */
export function readComponentDocument(file: string): string {
  return fs.readFileSync(assetPath(file), 'utf8');
}

/** JSON with object keys sorted, so equal content always hashes equally. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * An Image Builder semantic version (`1.<a>.<b>`, each node below 2^30) derived from a hash of
 * `content`: components and recipes are immutable, so whatever changes them must change the
 * version, and equal content must keep it (a redeploy without changes replaces nothing).
 */
export function contentVersion(content: unknown): string {
  const h = createHash('sha256').update(stableJson(content)).digest('hex');
  const node = (hex: string) => Number.parseInt(hex, 16) & 0x3fffffff;
  return `1.${node(h.slice(0, 8))}.${node(h.slice(8, 16))}`;
}

/** An AMI name fragment: AMI names allow letters, digits, ()[] ./-'@_ only. */
function amiNameFragment(s: string, max: number): string {
  return s.replace(/[^A-Za-z0-9()[\] ./'@_-]/g, '_').slice(0, max);
}

const IMAGE_BUILDER_CRON = /^cron\([0-9*?/,\-A-Z#L ]+\)$/;

interface ComponentSpec {
  readonly document: string;
  readonly parameters: Record<string, string>;
}

/**
 * The X-Spot worker image pipeline. A build runs the components on a Nitro instance in a
 * private subnet, reboots into the X-Spot kernel, validates, then launches a test instance from
 * the new image and runs `xl info` on it. The AMI is named and tagged with the X-Spot release
 * and its id is written to an SSM parameter. Failed builds notify an encrypted SNS topic.
 */
export class WorkerImagePipeline extends Construct {
  /** The pipeline; start it with `xspot-cdk ami build`. */
  public readonly pipeline: imagebuilder.CfnImagePipeline;
  /** ARN of the pipeline. */
  public readonly pipelineArn: string;
  /** The image recipe. */
  public readonly recipe: imagebuilder.CfnImageRecipe;
  /** The X-Spot worker component. */
  public readonly workerComponent: imagebuilder.CfnComponent;
  /** The storage mounts component, when mounts are configured. */
  public readonly mountsComponent?: imagebuilder.CfnComponent;
  /** SSM parameter that receives the id of every new AMI. */
  public readonly amiParameterName: string;
  /** `s3://bucket/prefix/` of the build logs. */
  public readonly buildLogsLocation: string;
  /** Notified when a build fails. Subscribe operators to it. */
  public readonly failureTopic: sns.Topic;
  /** Role of the build and test instances. */
  public readonly instanceRole: iam.Role;
  /** The parent image as the recipe names it: an AMI id or `ssm:<parameter>`. */
  public readonly parentImage: string;

  constructor(scope: Construct, id: string, props: WorkerImagePipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const name = props.deploymentName;
    validateProps(props);

    const baseName = `${name}-xspot-worker`;
    const roleName = (suffix: RoleSuffix): string | undefined => {
      const n = roleNameOf(props.roleNamePrefix, name, suffix);
      if (n !== undefined && n.length > IAM_ROLE_NAME_MAX) {
        throw new Error(
          `iam.roleNamePrefix: role name ${JSON.stringify(n)} is ${n.length} characters; IAM allows ${IAM_ROLE_NAME_MAX} (shorten iam.roleNamePrefix or deployment.name)`,
        );
      }
      return n;
    };
    if (props.permissionsBoundary) iam.PermissionsBoundary.of(this).apply(props.permissionsBoundary);

    const v = props.versions;
    const releaseTags: Record<string, string> = {
      [IMAGE_TAGS.platform]: v.platform,
      [IMAGE_TAGS.kernel]: v.kernel,
      [IMAGE_TAGS.guestKernel]: v.guestKernel,
      [IMAGE_TAGS.rpm]: v.rpm,
    };
    const imageSelectionTags = { [IMAGE_TAGS.deployment]: name, [IMAGE_TAGS.image]: 'worker' };

    // --- components ----------------------------------------------------------------------
    const components: { component: imagebuilder.CfnComponent; spec: ComponentSpec }[] = [];
    const addComponent = (cid: string, componentName: string, description: string, spec: ComponentSpec) => {
      const component = new imagebuilder.CfnComponent(this, cid, {
        name: componentName,
        platform: 'Linux',
        description,
        changeDescription: `X-Spot ${v.platform}`,
        data: spec.document,
        version: Lazy.string({ produce: () => componentVersion(component, spec) }),
      });
      components.push({ component, spec });
      return component;
    };
    this.workerComponent = addComponent(
      'WorkerComponent',
      baseName,
      'X-Spot worker platform, kernel and guest kernel',
      {
        document: readComponentDocument(COMPONENT_FILES.worker),
        parameters: {
          RepositoryUrl: props.repositoryUrl,
          ...signingParameters(props.repositoryKey),
          RepoGpgcheck: props.repositoryMetadataSigned ? '1' : '0',
          PlatformVersion: v.platform,
          KernelVersion: v.kernel,
          GuestKernelVersion: v.guestKernel,
          RpmVersion: v.rpm,
        },
      },
    );
    const mounts = props.mounts ?? [];
    if (mounts.length > 0) {
      this.mountsComponent = addComponent(
        'MountsComponent',
        `${baseName}-mounts`,
        'X-Spot worker NFS/ONTAP mounts in /etc/fstab',
        {
          document: readComponentDocument(COMPONENT_FILES.mounts),
          parameters: { FstabEntriesBase64: Buffer.from(renderWorkerFstab(mounts), 'utf8').toString('base64') },
        },
      );
    }

    // --- parent image ----------------------------------------------------------------------
    const src = props.parentImage.source;
    let parentDependency: Construct | undefined;
    if (src.kind === 'ami') {
      this.parentImage = src.amiId;
    } else if (src.kind === 'ssm') {
      this.parentImage = `ssm:${src.parameterName}`;
    } else {
      const parameterName = `/xspot/${name}/worker-parent-ami`;
      const resolver = new ParentImageResolver(this, 'ParentImage', {
        name: src.name,
        owners: src.owners,
        parameterName,
        roleName: roleName('ami-parent'),
      });
      parentDependency = resolver.parameter;
      this.parentImage = `ssm:${parameterName}`;
    }

    // --- recipe ------------------------------------------------------------------------------
    const rootVolumeGb = (props.rootVolumeSize ?? Size.gibibytes(30)).toGibibytes();
    const blockDeviceMappings = [
      {
        deviceName: props.rootDeviceName ?? '/dev/sda1',
        ebs: { volumeSize: rootVolumeGb, volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
      },
    ];
    // Session Manager stays on the image: the guide's validation logs in to workers with it.
    const additionalInstanceConfiguration = { systemsManagerAgent: { uninstallAfterBuild: false } };
    const recipeContent = () => ({
      parentImage: this.parentImage,
      components: components.map(({ component, spec }) => ({
        name: component.name,
        version: componentVersion(component, spec),
        parameters: spec.parameters,
      })),
      blockDeviceMappings,
      additionalInstanceConfiguration,
      tags: this.recipe.tags.renderTags(),
    });
    this.recipe = new imagebuilder.CfnImageRecipe(this, 'Recipe', {
      name: baseName,
      description: `X-Spot worker ${v.platform}`,
      version: Lazy.string({ produce: () => contentVersion(recipeContent()) }),
      parentImage: this.parentImage,
      components: components.map(({ component, spec }) => ({
        componentArn: component.attrArn,
        parameters: Object.entries(spec.parameters).map(([k, value]) => ({ name: k, value: [value] })),
      })),
      blockDeviceMappings,
      additionalInstanceConfiguration,
    });
    if (parentDependency) this.recipe.node.addDependency(parentDependency);

    // --- infrastructure ------------------------------------------------------------------------
    const logPrefix = props.logPrefix ?? `image-builder/${name}`;
    this.buildLogsLocation = `s3://${props.logBucket.bucketName}/${logPrefix}/`;
    this.instanceRole = new iam.Role(this, 'InstanceRole', {
      roleName: roleName('ami-build'),
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `X-Spot worker image build and test instances (${name})`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('EC2InstanceProfileForImageBuilder')],
      // Image Builder drives the build through the SSM agent (Run Command): the agent's calls only,
      // not AmazonSSMManagedInstanceCore's account-wide ssm:GetParameter(s).
      inlinePolicies: { SsmAgent: new iam.PolicyDocument({ statements: [sessionManagerStatement()] }) },
    });
    // Build logs: s3:PutObject below the deployment's prefix, nothing else.
    const buildLogsArn = props.logBucket.arnForObjects(`${logPrefix}/*`);
    const logsPolicy = new iam.Policy(this, 'BuildLogsPolicy', {
      roles: [this.instanceRole],
      statements: [
        new iam.PolicyStatement({ sid: 'WriteBuildLogs', actions: ['s3:PutObject'], resources: [buildLogsArn] }),
      ],
    });
    props.logBucket.encryptionKey?.grantEncrypt(this.instanceRole);
    acknowledgeResourceFinding(
      logsPolicy,
      'AwsSolutions-IAM5',
      `s3:PutObject below <log bucket>/${logPrefix}/ only; Image Builder chooses the object names under the prefix`,
      buildLogsArn,
    );
    acknowledgeFinding(
      this.instanceRole,
      'AwsSolutions-IAM4',
      'the AWS policy Image Builder documents for build instances (AWSTOE: imagebuilder:GetComponent, component download from ec2imagebuilder* buckets, its /aws/imagebuilder log groups)',
      ['Policy::arn:<AWS::Partition>:iam::aws:policy/EC2InstanceProfileForImageBuilder'],
    );
    acknowledgeFinding(
      this.instanceRole,
      'AwsSolutions-IAM5',
      'SSM agent actions (ssm:UpdateInstanceInformation, ssm:ListInstanceAssociations, ssmmessages:*Channel, ec2messages:*) have no resource-level permissions; Image Builder runs the build through Run Command',
      ['Resource::*'],
    );
    const instanceProfile = new iam.InstanceProfile(this, 'InstanceProfile', {
      role: this.instanceRole,
      instanceProfileName: roleName('ami-build'),
    });

    const subnets = props.vpc.selectSubnets(
      props.subnetSelection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    );
    if (subnets.subnetIds.length === 0)
      throw new Error('subnetSelection: selects no subnet of the VPC; the build needs a private subnet with egress');
    const infrastructure = new imagebuilder.CfnInfrastructureConfiguration(this, 'Infrastructure', {
      name: baseName,
      description: `X-Spot worker image builds (${name}): Nitro instances in a private subnet`,
      instanceTypes: [...(props.builderInstanceTypes ?? ['c5.xlarge', 'm5.xlarge'])],
      instanceProfileName: instanceProfile.instanceProfileName,
      subnetId: subnets.subnetIds[0],
      securityGroupIds: [props.securityGroup.securityGroupId],
      instanceMetadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 },
      logging: { s3Logs: { s3BucketName: props.logBucket.bucketName, s3KeyPrefix: logPrefix } },
      terminateInstanceOnFailure: true,
      resourceTags: { [IMAGE_TAGS.deployment]: name, Name: `${baseName}-build` },
    });
    infrastructure.node.addDependency(this.instanceRole, logsPolicy);

    // --- distribution ----------------------------------------------------------------------------
    this.amiParameterName = props.amiParameterName ?? `/xspot/${name}/worker-ami`;
    const distribution = new imagebuilder.CfnDistributionConfiguration(this, 'Distribution', {
      name: baseName,
      description: `X-Spot worker AMIs (${name}), id published to ${this.amiParameterName}`,
      distributions: [
        {
          region: stack.region,
          amiDistributionConfiguration: {
            Name: `${baseName}-${amiNameFragment(v.platform, 48)}-{{ imagebuilder:buildDate }}`,
            Description: `X-Spot worker (${name}): ${v.platform}, ${v.kernel}, ${v.guestKernel}, ${v.rpm}`.slice(
              0,
              1000,
            ),
            AmiTags: { Name: baseName, ...imageSelectionTags, ...releaseTags },
          },
          ssmParameterConfigurations: [{ parameterName: this.amiParameterName, dataType: 'aws:ec2:image' }],
        },
      ],
    });

    // --- pipeline ---------------------------------------------------------------------------------
    this.pipeline = new imagebuilder.CfnImagePipeline(this, 'Pipeline', {
      name: baseName,
      description: `Builds the X-Spot worker AMI (${name}); ${props.schedule ? `schedule ${props.schedule}` : 'manual: xspot-cdk ami build'}`,
      imageRecipeArn: this.recipe.attrArn,
      infrastructureConfigurationArn: infrastructure.attrArn,
      distributionConfigurationArn: distribution.attrArn,
      imageTestsConfiguration: {
        imageTestsEnabled: true,
        timeoutMinutes: (props.testTimeout ?? Duration.minutes(120)).toMinutes(),
      },
      enhancedImageMetadataEnabled: true,
      status: 'ENABLED',
      schedule: props.schedule
        ? { scheduleExpression: props.schedule, pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' }
        : undefined,
    });
    this.pipelineArn = this.pipeline.attrArn;

    // --- lifecycle ----------------------------------------------------------------------------------
    const keep = props.keepImages ?? 3;
    const lifecycleRole = new iam.Role(this, 'LifecycleRole', {
      roleName: roleName('ami-lifecycle'),
      assumedBy: new iam.ServicePrincipal('imagebuilder.amazonaws.com'),
      description: `Image Builder lifecycle policy for the X-Spot worker AMIs (${name})`,
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/EC2ImageBuilderLifecycleExecutionPolicy'),
      ],
    });
    acknowledgeFinding(
      lifecycleRole,
      'AwsSolutions-IAM4',
      'the AWS policy Image Builder documents for lifecycle execution; it only acts on resources Image Builder created',
      ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/EC2ImageBuilderLifecycleExecutionPolicy'],
    );
    const keepRule = {
      action: { type: 'DELETE', includeResources: { amis: true, snapshots: true } },
      filter: { type: 'COUNT', value: keep },
      exclusionRules: {
        amis: {
          lastLaunched: {
            unit: 'DAYS',
            value: Math.max(1, Math.ceil((props.retainLaunchedWithin ?? Duration.days(30)).toDays())),
          },
          tagMap: { [IMAGE_TAGS.retain]: 'true' },
        },
      },
    };
    // All but the newest image are deprecated (hidden from searches, still launchable by id);
    // beyond the newest `keep`, images are deleted.
    const deprecateRule = {
      action: { type: 'DEPRECATE', includeResources: { amis: true } },
      filter: { type: 'COUNT', value: 1 },
    };
    new imagebuilder.CfnLifecyclePolicy(this, 'Lifecycle', {
      name: baseName,
      description: `Keeps the newest ${keep} X-Spot worker image(s) of ${name}; older ones are deprecated, then deleted`,
      executionRole: lifecycleRole.roleArn,
      resourceType: 'AMI_IMAGE',
      status: 'ENABLED',
      policyDetails: keep > 1 ? [deprecateRule, keepRule] : [keepRule],
      // Every version of this deployment's recipe (versions are content hashes, so `x.x.x`).
      resourceSelection: { recipes: [{ name: baseName, semanticVersion: 'x.x.x' }] },
    });

    // --- failure notification ---------------------------------------------------------------------
    const key = new kms.Key(this, 'NotificationKey', {
      description: `Encrypts the X-Spot worker image build notifications (${name})`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.failureTopic = new sns.Topic(this, 'BuildFailures', {
      displayName: `X-Spot worker image build failures (${name})`,
      masterKey: key,
      enforceSSL: true,
    });
    const imageArnPrefix = stack.formatArn({
      service: 'imagebuilder',
      resource: 'image',
      resourceName: `${baseName}/`,
    });
    const rule = new events.Rule(this, 'BuildFailed', {
      description: `X-Spot worker image build failed (${name})`,
      eventPattern: {
        source: ['aws.imagebuilder'],
        detailType: ['EC2 Image Builder Image State Change'],
        resources: events.Match.prefix(imageArnPrefix),
        detail: { state: { status: ['FAILED'] } },
      },
    });
    const topic = this.failureTopic;
    const message = events.RuleTargetInput.fromText(
      `X-Spot worker image build failed: ${events.EventField.fromPath('$.resources[0]')}: ${events.EventField.fromPath('$.detail.state.reason')}. Logs: ${this.buildLogsLocation}; run xspot-cdk ami list`,
    );
    // The topic as a target without the stock grant (which names EventBridge with no condition):
    // EventBridge may publish for this rule only, and use the key for this account only.
    rule.addTarget({ bind: () => ({ arn: topic.topicArn, input: message, targetResource: topic }) });
    const events_ = new iam.ServicePrincipal('events.amazonaws.com');
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BuildFailedRule',
        principals: [events_],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          ArnEquals: { 'aws:SourceArn': rule.ruleArn },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgePublishes',
        principals: [events_],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
}

/** The version of a component: its document, the values it is given and its tags. */
function componentVersion(component: imagebuilder.CfnComponent, spec: ComponentSpec): string {
  return contentVersion({
    document: spec.document,
    parameters: spec.parameters,
    tags: (component as ITaggable).tags.renderTags(),
  });
}

/** The worker component's package-signing parameters (assets/worker-image/xspot-worker.yaml). */
function signingParameters(key: RepositoryKey): Record<string, string> {
  switch (key.kind) {
    case 'url':
      return { PackageSigning: 'url', GpgKeyUrl: key.url, GpgKeyBase64: '' };
    case 'armored':
      return { PackageSigning: 'file', GpgKeyUrl: '', GpgKeyBase64: Buffer.from(key.text, 'utf8').toString('base64') };
    default:
      return { PackageSigning: 'none', GpgKeyUrl: '', GpgKeyBase64: '' };
  }
}

function validateProps(p: WorkerImagePipelineProps): void {
  const bad = (field: string, value: unknown, allowed: string) =>
    new Error(`${field}: ${JSON.stringify(value)} is not allowed; expected ${allowed}`);
  if (!ALLOW.deploymentName.pattern.test(p.deploymentName))
    throw bad('deploymentName', p.deploymentName, ALLOW.deploymentName.allowed);
  if (!ALLOW.httpsUrl.pattern.test(p.repositoryUrl))
    throw bad('xspot.repositoryUrl', p.repositoryUrl, ALLOW.httpsUrl.allowed);
  const key = p.repositoryKey;
  const keyProblem =
    key.kind === 'url' ? keyUrlProblem(key.url) : key.kind === 'armored' ? armoredKeyProblem(key.text) : undefined;
  if (keyProblem) throw bad('xspot.repositoryGpgKey', key.kind === 'url' ? key.url : '(armored key)', keyProblem);
  if (key.kind === 'unsigned' && p.repositoryMetadataSigned)
    throw bad('xspot.repositoryMetadataSigned', true, 'false when there is no key to check the metadata with');
  const versions: [string, string][] = [
    ['xspot.platformVersion', p.versions.platform],
    ['xspot.kernelVersion', p.versions.kernel],
    ['xspot.guestKernelVersion', p.versions.guestKernel],
    ['xspot.rpmVersion', p.versions.rpm],
  ];
  for (const [field, value] of versions) {
    if (!ALLOW.packageVersion.pattern.test(value)) throw bad(field, value, ALLOW.packageVersion.allowed);
  }
  const types = p.builderInstanceTypes ?? ['c5.xlarge'];
  if (types.length === 0) throw bad('workerImage.builderInstanceTypes', types, 'at least one Nitro instance type');
  types.forEach((t, i) => {
    if (!ALLOW.instanceType.pattern.test(t))
      throw bad(`workerImage.builderInstanceTypes[${i}]`, t, ALLOW.instanceType.allowed);
  });
  if (p.schedule !== undefined && !IMAGE_BUILDER_CRON.test(p.schedule)) {
    throw bad(
      'workerImage.schedule',
      p.schedule,
      'an Image Builder cron expression such as cron(0 3 ? * SUN *) (Image Builder takes no rate())',
    );
  }
  const keep = p.keepImages ?? 3;
  if (!Number.isInteger(keep) || keep < 1 || keep > 100)
    throw bad('workerImage.keepImages', keep, 'a whole number from 1 to 100');
  if (p.amiParameterName !== undefined && !ALLOW.ssmParameter.pattern.test(p.amiParameterName)) {
    throw bad('amiParameterName', p.amiParameterName, ALLOW.ssmParameter.allowed);
  }
  if (p.logPrefix !== undefined && !/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/.test(p.logPrefix)) {
    throw bad('logPrefix', p.logPrefix, 'an S3 key prefix without leading or trailing slash');
  }
  if (p.rootDeviceName !== undefined && !/^\/dev\/[a-z0-9]+$/.test(p.rootDeviceName)) {
    throw bad('rootDeviceName', p.rootDeviceName, 'a device name such as /dev/sda1 or /dev/xvda');
  }
}
