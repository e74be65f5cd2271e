import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface SharedStorageProps {
  readonly vpc: ec2.IVpc;
  /** Subnets for the mount targets (the controllers' subnets). */
  readonly subnets: ec2.SubnetSelection;
  /** The controllers' own security group: the only source allowed to reach NFS. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /**
   * Roles that mount the file system with IAM authorization (as root): the file-system policy
   * grants them ClientMount, ClientWrite and ClientRootAccess through a mount target and names
   * no other principal, so anonymous NFS clients are refused.
   */
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

/** The EFS client actions a controller needs to mount REMOTE_DIR as root. */
export const EFS_CLIENT_ACTIONS = [
  'elasticfilesystem:ClientMount',
  'elasticfilesystem:ClientWrite',
  'elasticfilesystem:ClientRootAccess',
];

/**
 * REMOTE_DIR's home when the site has no NFS/FSx of its own: an encrypted EFS file system with
 * mount targets in the controller subnets behind a group of their own that admits NFS from the
 * controllers' group only, a file-system policy that grants the client actions to the client
 * roles through a mount target over TLS and names no one else (anonymous NFS is refused; clients
 * mount with `tls,iam`), and automatic backups.
 */
export class SharedStorage extends Construct {
  public readonly fileSystem: efs.FileSystem;

  constructor(scope: Construct, id: string, props: SharedStorageProps) {
    super(scope, id);
    if (props.clientRoles.length === 0) throw new Error('SharedStorage: clientRoles must name at least one role');
    const sg = new ec2.SecurityGroup(this, 'MountTargets', {
      vpc: props.vpc,
      description: 'X-Spot shared storage mount targets: NFS from the controllers only',
      allowAllOutbound: false,
    });
    sg.addIngressRule(
      props.clientSecurityGroup,
      ec2.Port.tcp(2049),
      'NFS (TLS via efs-utils) from X-Spot controllers only',
    );

    this.fileSystem = new efs.FileSystem(this, 'FileSystem', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroup: sg,
      encrypted: true,
      performanceMode: props.performanceMode ?? efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: props.throughputMode ?? efs.ThroughputMode.ELASTIC,
      enableAutomaticBackups: props.automaticBackups ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // No "any principal through a mount target" statement: the policy below names the clients.
      allowAnonymousAccess: true,
    });
    this.fileSystemPolicy(props.clientRoles);
  }

  private fileSystemPolicy(clientRoles: iam.IRole[]): void {
    this.fileSystem.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ClientsThroughMountTarget',
        principals: clientRoles.map((r) => new iam.ArnPrincipal(r.roleArn)),
        actions: EFS_CLIENT_ACTIONS,
        conditions: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
      }),
    );
    // No deny for "every other principal": EFS gives NFS clients only aws:SecureTransport,
    // aws:SourceIp, elasticfilesystem:AccessPointArn and elasticfilesystem:AccessedViaMountTarget,
    // so a deny on aws:PrincipalArn would find the key missing and refuse the controllers too.
    // Anonymous clients get nothing (no statement names them); the mount targets' group admits
    // only the controllers' group (docs/security.md, "EFS authorization").
    this.fileSystem.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyNonTls',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['*'],
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  }
}
