import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface SharedStorageProps {
  readonly vpc: ec2.IVpc;
  /** Subnets for the mount targets (the controllers' subnets). */
  readonly subnets: ec2.SubnetSelection;
  /** The controllers' security group: the only source allowed to reach NFS. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** Roles that mount the file system (as root). */
  readonly clientRoles: iam.IRole[];
  /** @default efs.ThroughputMode.ELASTIC */
  readonly throughputMode?: efs.ThroughputMode;
  /** @default efs.PerformanceMode.GENERAL_PURPOSE */
  readonly performanceMode?: efs.PerformanceMode;
  /** AWS Backup automatic backups. @default true */
  readonly automaticBackups?: boolean;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * REMOTE_DIR's home when the site has no NFS/FSx of its own: an encrypted EFS file system with
 * mount targets in the controller subnets, NFS open only to the controller security group, a
 * file-system policy that refuses non-TLS and anonymous access, and automatic backups.
 */
export class SharedStorage extends Construct {
  public readonly fileSystem: efs.FileSystem;

  constructor(scope: Construct, id: string, props: SharedStorageProps) {
    super(scope, id);
    const sg = new ec2.SecurityGroup(this, 'MountTargets', {
      vpc: props.vpc,
      description: 'X-Spot shared storage mount targets: NFS from the controllers only',
      allowAllOutbound: false,
    });
    sg.addIngressRule(props.clientSecurityGroup, ec2.Port.tcp(2049), 'NFS (TLS via efs-utils) from X-Spot controllers');

    this.fileSystem = new efs.FileSystem(this, 'FileSystem', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroup: sg,
      encrypted: true,
      performanceMode: props.performanceMode ?? efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: props.throughputMode ?? efs.ThroughputMode.ELASTIC,
      enableAutomaticBackups: props.automaticBackups ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      allowAnonymousAccess: false,
    });
    this.fileSystem.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyNonTls',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['*'],
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    for (const role of props.clientRoles) {
      this.fileSystem.grant(
        role,
        'elasticfilesystem:ClientMount',
        'elasticfilesystem:ClientWrite',
        'elasticfilesystem:ClientRootAccess',
      );
    }
  }
}
