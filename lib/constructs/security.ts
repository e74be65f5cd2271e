import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type RoleSuffix, roleNameOf } from '../config/iam-names';
import { acknowledgeNag, nagArn } from './nag';

/** An inbound rule the site's applications need (SSH, license, license-vendor-daemon ports). */
export interface ApplicationIngressRule {
  readonly description: string;
  readonly protocol: 'tcp' | 'udp' | 'icmp';
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrs: string[];
}

export interface XspotSecurityProps {
  readonly vpc: ec2.IVpc;
  /** Deployment name: the value of the `xspot:deployment` tag that scopes mutating EC2 actions. */
  readonly deploymentName: string;
  /** CIDR blocks whose traffic is all allowed (the VPC's blocks, as the guide requires). */
  readonly internalCidrs: string[];
  /** @default - no application ingress */
  readonly applicationIngress?: ApplicationIngressRule[];
  /**
   * Prefix for IAM role names; when unset, CloudFormation names the roles.
   * @default - generated names
   */
  readonly roleNamePrefix?: string;
  /**
   * Grant SSM Session Manager access to controllers and workers (instead of SSH keys).
   * @default true
   */
  readonly sessionManager?: boolean;
}

/** Tag key that marks every resource of a deployment; IAM conditions match on it. */
export const DEPLOYMENT_TAG = 'xspot:deployment';

/**
 * The guide's security group ("all internal traffic within your subnet" plus the application's
 * ports) and the IAM role that must be attached to every controller, with a worker role that the
 * controller may pass to the workers it launches and nothing else.
 */
export class XspotSecurity extends Construct {
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly controllerRole: iam.Role;
  public readonly workerRole: iam.Role;
  public readonly workerInstanceProfile: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: XspotSecurityProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const tag = props.deploymentName;

    this.securityGroup = new ec2.SecurityGroup(this, 'ControllersAndWorkers', {
      vpc: props.vpc,
      description: `X-Spot controllers and workers (${tag}): all traffic within the VPC, site application ports`,
      allowAllOutbound: true,
    });
    const allTraffic = ec2.Port.allTraffic();
    for (const cidr of props.internalCidrs) {
      this.securityGroup.addIngressRule(
        ec2.Peer.ipv4(cidr),
        allTraffic,
        `X-Spot: all traffic within the VPC (${cidr})`,
      );
    }
    for (const rule of props.applicationIngress ?? []) {
      const port =
        rule.protocol === 'icmp'
          ? ec2.Port.allIcmp()
          : rule.protocol === 'udp'
            ? ec2.Port.udpRange(rule.fromPort, rule.toPort)
            : ec2.Port.tcpRange(rule.fromPort, rule.toPort);
      for (const cidr of rule.cidrs) {
        this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), port, rule.description);
      }
    }

    const roleName = (suffix: RoleSuffix) => roleNameOf(props.roleNamePrefix, tag, suffix);
    const ssm = props.sessionManager ?? true;
    const ssmPolicy = iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore');

    this.workerRole = new iam.Role(this, 'WorkerRole', {
      roleName: roleName('worker'),
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `X-Spot workers (${tag})`,
      managedPolicies: ssm ? [ssmPolicy] : [],
    });
    this.workerInstanceProfile = new iam.InstanceProfile(this, 'WorkerInstanceProfile', {
      role: this.workerRole,
      instanceProfileName: roleName('worker'),
    });

    this.controllerRole = new iam.Role(this, 'ControllerRole', {
      roleName: roleName('controller'),
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `X-Spot controllers (${tag}): launches, migrates and terminates workers`,
      managedPolicies: ssm ? [ssmPolicy] : [],
    });

    const wildcardArns = new Set<string>();
    const arn = (resource: string, account?: string) => {
      const a = stack.formatArn({
        service: 'ec2',
        resource,
        resourceName: '*',
        ...(account === undefined ? {} : { account }),
      });
      wildcardArns.add(a);
      return a;
    };
    const requestTagged = { StringEquals: { [`aws:RequestTag/${DEPLOYMENT_TAG}`]: tag } };
    const resourceTagged = { StringEquals: { [`aws:ResourceTag/${DEPLOYMENT_TAG}`]: tag } };
    const parameterArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `xspot/${tag}/*` });
    wildcardArns.add(parameterArn);
    const policy = new iam.Policy(this, 'ControllerPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'Describe',
          actions: [
            'ec2:DescribeAvailabilityZones',
            'ec2:DescribeFleetInstances',
            'ec2:DescribeFleets',
            'ec2:DescribeImages',
            'ec2:DescribeInstanceStatus',
            'ec2:DescribeInstanceTypeOfferings',
            'ec2:DescribeInstanceTypes',
            'ec2:DescribeInstances',
            'ec2:DescribeLaunchTemplateVersions',
            'ec2:DescribeLaunchTemplates',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeSpotFleetInstances',
            'ec2:DescribeSpotFleetRequests',
            'ec2:DescribeSpotInstanceRequests',
            'ec2:DescribeSpotPriceHistory',
            'ec2:DescribeSubnets',
            'ec2:DescribeTags',
            'ec2:DescribeVolumes',
            'pricing:GetProducts',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'LaunchTaggedWorkers',
          actions: [
            'ec2:RunInstances',
            'ec2:CreateFleet',
            'ec2:RequestSpotInstances',
            'ec2:CreateLaunchTemplate',
            'ec2:CreateNetworkInterface',
          ],
          resources: [arn('instance'), arn('volume'), arn('network-interface'), arn('launch-template')],
          conditions: requestTagged,
        }),
        new iam.PolicyStatement({
          sid: 'LaunchUsingSharedResources',
          actions: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:RequestSpotInstances', 'ec2:CreateNetworkInterface'],
          resources: [
            arn('image', ''),
            arn('image'),
            arn('subnet'),
            arn('security-group'),
            arn('key-pair'),
            arn('launch-template'),
            arn('fleet'),
            arn('spot-instances-request'),
            arn('placement-group'),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'TagOnCreate',
          actions: ['ec2:CreateTags'],
          resources: ['*'],
          conditions: {
            StringEquals: {
              'ec2:CreateAction': [
                'RunInstances',
                'CreateFleet',
                'RequestSpotInstances',
                'CreateLaunchTemplate',
                'CreateNetworkInterface',
              ],
            },
          },
        }),
        new iam.PolicyStatement({
          sid: 'ManageOwnResources',
          actions: [
            'ec2:AssignPrivateIpAddresses',
            'ec2:AttachNetworkInterface',
            'ec2:CancelSpotInstanceRequests',
            'ec2:CreateLaunchTemplateVersion',
            'ec2:CreateTags',
            'ec2:DeleteFleets',
            'ec2:DeleteLaunchTemplate',
            'ec2:DeleteNetworkInterface',
            'ec2:DeleteTags',
            'ec2:DetachNetworkInterface',
            'ec2:ModifyFleet',
            'ec2:ModifyInstanceAttribute',
            'ec2:ModifyLaunchTemplate',
            'ec2:ModifyNetworkInterfaceAttribute',
            'ec2:RebootInstances',
            'ec2:StartInstances',
            'ec2:StopInstances',
            'ec2:TerminateInstances',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
          conditions: resourceTagged,
        }),
        new iam.PolicyStatement({
          sid: 'PassWorkerRoleOnly',
          actions: ['iam:PassRole'],
          resources: [this.workerRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        }),
        new iam.PolicyStatement({
          sid: 'SpotServiceLinkedRoles',
          actions: ['iam:CreateServiceLinkedRole'],
          resources: ['*'],
          conditions: { StringEquals: { 'iam:AWSServiceName': ['spot.amazonaws.com', 'ec2fleet.amazonaws.com'] } },
        }),
        new iam.PolicyStatement({
          sid: 'ReadDeploymentParameters',
          actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
          resources: [parameterArn],
        }),
      ],
    });
    policy.attachToRole(this.controllerRole);

    acknowledgeNag(
      policy,
      'AwsSolutions-IAM5',
      "EC2 Describe*/pricing calls have no resource-level permissions; launches are limited by the xspot:deployment request tag, changes by the resource tag, CreateTags by ec2:CreateAction, SSM reads to this deployment's parameter path",
      ['Resource::*', ...[...wildcardArns].map((a) => `Resource::${nagArn(this, a)}`)],
    );
    if (ssm) {
      for (const role of [this.controllerRole, this.workerRole]) {
        acknowledgeNag(
          role,
          'AwsSolutions-IAM4',
          'AmazonSSMManagedInstanceCore is the AWS-maintained policy for Session Manager access (used instead of SSH keys)',
          ['Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore'],
        );
      }
    }
  }
}
