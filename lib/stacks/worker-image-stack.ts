import { CfnOutput, Size, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { repositoryKey } from '../config/package-signing';
import type { XspotConfig } from '../config/resolve';
import { DEPLOYMENT_TAG } from '../constructs/security';
import { WorkerImagePipeline, WorkerParentImage } from '../constructs/worker-image';

export interface WorkerImageStackProps extends StackProps {
  /** The loaded, validated config. */
  readonly config: XspotConfig;
  /** VPC of the deployment (from the prerequisites stack). */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets the build instances may use; the first is used.
   * @default - the VPC's private subnets with egress
   */
  readonly subnets?: ec2.SubnetSelection;
  /** Security group of the controllers and workers (from the prerequisites stack). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Log bucket (from the prerequisites stack); build logs go below `image-builder/<name>/`. */
  readonly logBucket: s3.IBucket;
}

/** The parent image of the worker recipe, from `workerImage.parentImage`. */
export function parentImageFromConfig(p: XspotConfig['workerImage']['parentImage']): WorkerParentImage {
  if ('amiId' in p) return WorkerParentImage.fromAmiId(p.amiId);
  if ('ssmParameter' in p) return WorkerParentImage.fromSsmParameter(p.ssmParameter);
  return WorkerParentImage.fromNameFilter(p.name, p.owners);
}

/**
 * The guide's "X-Spot Worker AMI Preparation": the Image Builder pipeline that builds, tests and
 * publishes the X-Spot worker AMI. Composition only; the outputs are what `xspot-cdk ami` reads.
 */
export class WorkerImageStack extends Stack {
  public readonly pipeline: WorkerImagePipeline;

  constructor(scope: Construct, id: string, props: WorkerImageStackProps) {
    super(scope, id, props);
    const c = props.config;
    const name = c.deployment.name;
    Tags.of(this).add(DEPLOYMENT_TAG, name);

    this.pipeline = new WorkerImagePipeline(this, 'WorkerImage', {
      deploymentName: name,
      vpc: props.vpc,
      subnetSelection: props.subnets,
      securityGroup: props.securityGroup,
      logBucket: props.logBucket,
      versions: {
        platform: c.xspot.platformVersion,
        kernel: c.xspot.kernelVersion,
        guestKernel: c.xspot.guestKernelVersion,
        rpm: c.xspot.rpmVersion,
      },
      repositoryUrl: c.xspot.repositoryUrl,
      repositoryKey: repositoryKey(c.xspot.repositoryGpgKey),
      repositoryMetadataSigned: c.xspot.repositoryMetadataSigned,
      parentImage: parentImageFromConfig(c.workerImage.parentImage),
      builderInstanceTypes: c.workerImage.builderInstanceTypes,
      rootVolumeSize: Size.gibibytes(c.workerImage.rootVolumeGb),
      rootDeviceName: c.workerImage.rootDeviceName,
      schedule: c.workerImage.schedule,
      keepImages: c.workerImage.keepImages,
      mounts: c.workerImage.mounts,
      roleNamePrefix: c.iam.roleNamePrefix,
      permissionsBoundary: c.iam.permissionsBoundaryArn
        ? iam.ManagedPolicy.fromManagedPolicyArn(this, 'PermissionsBoundary', c.iam.permissionsBoundaryArn)
        : undefined,
    });

    new CfnOutput(this, 'ImagePipelineArn', {
      value: this.pipeline.pipelineArn,
      description: 'Image Builder pipeline of the X-Spot worker AMI (xspot-cdk ami build)',
    });
    new CfnOutput(this, 'AmiParameterName', {
      value: this.pipeline.amiParameterName,
      description: 'SSM parameter holding the id of the newest worker AMI',
    });
    // The contract puts the logs location here although the bucket is the prerequisites stack's:
    // tell cfn-lint that this output re-exporting an import (W6001) is intended.
    this.templateOptions.metadata = { 'cfn-lint': { config: { ignore_checks: ['W6001'] } } };
    new CfnOutput(this, 'BuildLogsLocation', {
      value: this.pipeline.buildLogsLocation,
      description: 'Where Image Builder writes the build logs',
    });
  }
}
