import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { newVpcAzs } from '../config/az';
import type { XspotConfig } from '../config/resolve';
import { LogBucket } from '../constructs/log-bucket';
import { LogQueries } from '../constructs/log-queries';
import { XspotNetwork } from '../constructs/network';
import { XspotSecurity } from '../constructs/security';
import { SharedStorage } from '../constructs/shared-storage';

export interface PrereqsStackProps extends StackProps {
  readonly config: XspotConfig;
}

/**
 * The AZs of the deployment: those the config names, or `count` entries of CloudFormation's
 * Fn::GetAZs for the stack's region, resolved at deploy time. Never a name made from the region.
 */
function stackAzs(config: XspotConfig): string[] {
  const n = config.network;
  if (n.existingVpc) return [...new Set(n.existingVpc.privateSubnets.map((s) => s.availabilityZone))];
  const azs = newVpcAzs(n.newVpc);
  if (azs.kind === 'named') return [...azs.azs];
  return Array.from({ length: azs.count }, (_, i) => Fn.select(i, Fn.getAzs()));
}

/** Picks the CloudWatch Logs retention that is at least `days`. */
function retentionAtLeast(days: number): logs.RetentionDays {
  const all = Object.values(logs.RetentionDays).filter((v): v is logs.RetentionDays => typeof v === 'number' && v > 0);
  return all.sort((a, b) => a - b).find((d) => d >= days) ?? logs.RetentionDays.TEN_YEARS;
}

/**
 * The guide's "Prerequisites" and "Onboarding Assets": network, security group, IAM roles,
 * shared storage for REMOTE_DIR, and the log bucket. Composition only.
 */
export class PrereqsStack extends Stack {
  public readonly vpc: ec2.IVpc;
  public readonly privateSubnets: ec2.SubnetSelection;
  public readonly securityGroup: ec2.ISecurityGroup;
  /** Attached to controllers only: the source the EFS mount targets admit. */
  public readonly controllerSecurityGroup: ec2.ISecurityGroup;
  public readonly controllerRole: iam.IRole;
  public readonly workerRole: iam.IRole;
  public readonly workerInstanceProfile: iam.IInstanceProfile;
  public readonly fileSystem?: efs.IFileSystem;
  public readonly logBucket: s3.IBucket;
  private readonly deploymentAzs: string[];

  constructor(scope: Construct, id: string, props: PrereqsStackProps) {
    super(scope, id, props);
    const c = props.config;
    const n = c.network;
    this.deploymentAzs = stackAzs(c);
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W3010',
      reason: 'Literal AZs are the ones the site named in network (checked against the region offline and live)',
    });

    const network = new XspotNetwork(this, 'Network', {
      newVpc: n.existingVpc
        ? undefined
        : (() => {
            const v = n.newVpc ?? { cidr: '10.0.0.0/16', natGateways: 'one' as const };
            return {
              cidr: v.cidr,
              availabilityZones: this.deploymentAzs,
              natGateways: v.natGateways === 'perAz' ? this.deploymentAzs.length : 1,
            };
          })(),
      existingVpc: n.existingVpc
        ? {
            vpcId: n.existingVpc.vpcId,
            vpcCidrBlock: n.existingVpc.cidrBlocks[0],
            availabilityZones: n.existingVpc.privateSubnets.map((s) => s.availabilityZone),
            privateSubnetIds: n.existingVpc.privateSubnets.map((s) => s.id),
            privateSubnetRouteTableIds: n.existingVpc.privateSubnets.every((s) => s.routeTableId)
              ? n.existingVpc.privateSubnets.map((s) => s.routeTableId!)
              : undefined,
            addS3Endpoint: n.existingVpc.addS3Endpoint,
            flowLogs: n.existingVpc.flowLogs,
          }
        : undefined,
      flowLogRetention: retentionAtLeast(n.flowLogRetentionDays),
    });
    this.vpc = network.vpc;
    this.privateSubnets = network.privateSubnets;

    const workers = c.workers;
    const security = new XspotSecurity(this, 'Security', {
      vpc: this.vpc,
      deploymentName: c.deployment.name,
      internalCidrs: n.existingVpc
        ? n.existingVpc.privateSubnets.map((s) => s.cidr)
        : this.vpc.selectSubnets(this.privateSubnets).subnets.map((s) => s.ipv4CidrBlock),
      applicationIngress: n.applicationIngress.map((r) => ({
        description: r.description,
        protocol: r.protocol,
        fromPort: r.fromPort,
        toPort: r.toPort ?? r.fromPort,
        cidrs: r.cidrs,
      })),
      egressCidrs: n.egressCidrs,
      roleNamePrefix: c.iam.roleNamePrefix,
      sessionManager: c.iam.sessionManager,
      workerImageId: workers.ami,
      workerInstanceTypes: [...workers.onDemandTypes, ...workers.spotFleetTypes],
      workerTagKeys: Object.keys(workers.instanceTags),
      natPublicIps: n.existingVpc ? n.existingVpc.natPublicIps : network.natPublicIps,
    });
    this.securityGroup = security.securityGroup;
    this.controllerSecurityGroup = security.controllerSecurityGroup;
    this.controllerRole = security.controllerRole;
    this.workerRole = security.workerRole;
    this.workerInstanceProfile = security.workerInstanceProfile;

    if (c.storage.type === 'efs') {
      const storage = new SharedStorage(this, 'SharedStorage', {
        vpc: this.vpc,
        subnets: this.privateSubnets,
        clientSecurityGroup: this.controllerSecurityGroup,
        clientRoles: [this.controllerRole],
        throughputMode:
          c.storage.efs.throughputMode === 'elastic' ? efs.ThroughputMode.ELASTIC : efs.ThroughputMode.BURSTING,
        performanceMode:
          c.storage.efs.performanceMode === 'maxIO' ? efs.PerformanceMode.MAX_IO : efs.PerformanceMode.GENERAL_PURPOSE,
        automaticBackups: c.storage.efs.backups,
        removalPolicy: c.storage.efs.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      });
      this.fileSystem = storage.fileSystem;
    }

    const logBucket = new LogBucket(this, 'Logs', {
      transitionToInfrequentAccessAfter: Duration.days(c.logs.transitionToInfrequentAccessDays),
      expireAfter: Duration.days(c.logs.expireDays),
    });
    this.logBucket = logBucket.bucket;
    if (c.logs.athena && c.logs.s3Sync) this.addLogQueries(logBucket.bucket, c.deployment.name);

    const out = (key: string, value: string, description: string) => new CfnOutput(this, key, { value, description });
    out('VpcId', this.vpc.vpcId, 'VPC of the controllers and workers');
    out(
      'PrivateSubnetIds',
      this.vpc.selectSubnets(this.privateSubnets).subnetIds.join(','),
      'Subnets of the controllers and workers',
    );
    out('SecurityGroupId', this.securityGroup.securityGroupId, 'Security group of the controllers and workers');
    out(
      'ControllerSecurityGroupId',
      this.controllerSecurityGroup.securityGroupId,
      'Security group of the controllers only (admitted by the EFS mount targets)',
    );
    out('ControllerRoleArn', this.controllerRole.roleArn, 'IAM role attached to every controller');
    out('WorkerRoleArn', this.workerRole.roleArn, 'IAM role of the workers (passed by the controllers)');
    out('WorkerInstanceProfileName', this.workerInstanceProfile.instanceProfileName, 'Instance profile of the workers');
    if (this.fileSystem) {
      out('FileSystemId', this.fileSystem.fileSystemId, 'EFS file system holding REMOTE_DIR');
      out('FileSystemDnsName', `${this.fileSystem.fileSystemId}.efs.${this.region}.${this.urlSuffix}`, 'EFS DNS name');
    }
    out('LogBucketName', this.logBucket.bucketName, 'Bucket for controller and image-build logs');
  }

  /**
   * `logs.athena`: the log table, the cost workgroup and the policy to query them (LogQueries),
   * and their names as outputs for `xspot-cdk cost --athena`.
   */
  private addLogQueries(bucket: s3.Bucket, deploymentName: string): void {
    const q = new LogQueries(this, 'LogQueries', { bucket, deploymentName });
    const out = (key: string, value: string, description: string) => new CfnOutput(this, key, { value, description });
    out('LogDatabaseName', q.names.database, 'Glue database of the controller logs (cost --athena)');
    out('LogTableName', q.names.table, 'Glue table of the controller logs, partitioned by deployment');
    out('CostWorkGroupName', q.names.workgroup, 'Athena workgroup for cost --athena');
    out('CostQueryPolicyArn', q.queryPolicy.managedPolicyArn, 'Managed policy to attach to whoever runs cost --athena');
  }

  /**
   * The deployment's AZs instead of CDK's context lookup (which would call AWS at synth time, or
   * fall back to dummy names): the config's names, or Fn::GetAZs entries resolved at deploy time.
   */
  public override get availabilityZones(): string[] {
    return this.deploymentAzs;
  }
}
