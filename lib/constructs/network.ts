import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { newVpcSubnetGroups } from '../config/vpc-subnets';

/** A VPC created by this app. */
export interface NewVpcOptions {
  /** IPv4 CIDR of the VPC. */
  readonly cidr: string;
  /** Availability zones to span (named explicitly so synth needs no AZ lookup). */
  readonly availabilityZones: string[];
  /** NAT gateways: 1, or one per AZ. */
  readonly natGateways: number;
}

/** An existing VPC, described by ids and CIDRs (no lookups at synth time). */
export interface ExistingVpcOptions {
  readonly vpcId: string;
  /** Primary CIDR block. */
  readonly vpcCidrBlock: string;
  readonly availabilityZones: string[];
  readonly privateSubnetIds: string[];
  /** Route tables of the private subnets (needed by `addS3Endpoint`). */
  readonly privateSubnetRouteTableIds?: string[];
  /**
   * Add an S3 gateway endpoint to the private route tables. A VPC has at most one S3 gateway
   * endpoint per route table, so this fails on a VPC that already routes S3 through one.
   * @default false - the site's VPC is not changed
   */
  readonly addS3Endpoint?: boolean;
  /**
   * Add a VPC-wide flow log.
   * @default false - the site's VPC is not changed
   */
  readonly flowLogs?: boolean;
}

export interface XspotNetworkProps {
  /** Create a VPC. Exactly one of `newVpc` and `existingVpc`. */
  readonly newVpc?: NewVpcOptions;
  /** Use an existing VPC. */
  readonly existingVpc?: ExistingVpcOptions;
  /**
   * How long VPC flow logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/**
 * The guide's network prerequisites: a VPC whose private subnets reach the EC2 API, the vendor's
 * package repository and the entitlement server through a NAT gateway; an S3 gateway endpoint so
 * log and asset traffic stays off the NAT; VPC flow logs.
 */
export class XspotNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Where controllers and workers run. */
  public readonly privateSubnets: ec2.SubnetSelection;
  /** Public addresses of the NAT gateways this construct created (none for an existing VPC). */
  public readonly natPublicIps: string[] = [];

  constructor(scope: Construct, id: string, props: XspotNetworkProps) {
    super(scope, id);
    if (!!props.newVpc === !!props.existingVpc) {
      throw new Error('XspotNetwork: set exactly one of newVpc and existingVpc');
    }
    if (props.newVpc) {
      const vpc = this.createVpc(props.newVpc);
      this.vpc = vpc;
      for (const subnet of vpc.publicSubnets) {
        const eip = subnet.node.tryFindChild('EIP');
        // Ref of an EIP is its address (GetAtt PublicIp says the same; the local emulator has only Ref).
        if (eip instanceof ec2.CfnEIP) this.natPublicIps.push(eip.ref);
      }
      this.privateSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
      vpc.addGatewayEndpoint('S3', {
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: [this.privateSubnets],
      });
      this.addFlowLog(props.flowLogRetention);
    } else {
      const e = props.existingVpc!;
      this.vpc = this.importVpc(e);
      this.privateSubnets = { subnets: this.vpc.privateSubnets };
      if (e.addS3Endpoint) {
        if (!e.privateSubnetRouteTableIds || e.privateSubnetRouteTableIds.length !== e.privateSubnetIds.length) {
          throw new Error('XspotNetwork: existingVpc.addS3Endpoint needs the route table of every private subnet');
        }
        this.addS3Endpoint();
      }
      if (e.flowLogs) this.addFlowLog(props.flowLogRetention);
    }
  }

  private createVpc(n: NewVpcOptions): ec2.Vpc {
    return new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(n.cidr),
      availabilityZones: n.availabilityZones,
      natGateways: n.natGateways,
      subnetConfiguration: newVpcSubnetGroups(n.cidr).map((g) => ({
        name: g.name,
        subnetType: g.name === 'public' ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS,
        cidrMask: g.cidrMask,
      })),
      restrictDefaultSecurityGroup: true,
    });
  }

  private importVpc(e: ExistingVpcOptions): ec2.IVpc {
    return ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: e.vpcId,
      vpcCidrBlock: e.vpcCidrBlock,
      availabilityZones: e.availabilityZones,
      privateSubnetIds: e.privateSubnetIds,
      privateSubnetRouteTableIds: e.privateSubnetRouteTableIds,
    });
  }

  /** The imported VPC's endpoint (the new VPC's is a child of the VPC, as it always was). */
  private addS3Endpoint(): void {
    new ec2.GatewayVpcEndpoint(this, 'S3', {
      vpc: this.vpc,
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [this.privateSubnets],
    });
  }

  private addFlowLog(retention?: logs.RetentionDays): void {
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: retention ?? logs.RetentionDays.THREE_MONTHS,
    });
    new ec2.FlowLog(this, 'FlowLog', {
      resourceType: ec2.FlowLogResourceType.fromVpc(this.vpc),
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
      maxAggregationInterval: ec2.FlowLogMaxAggregationInterval.TEN_MINUTES,
    });
  }
}
