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
  /**
   * CIDR blocks of the controller and worker subnets: all their traffic is allowed (the guide's
   * "all internal traffic within your subnet"), besides traffic from the group itself.
   */
  readonly internalCidrs: string[];
  /** @default - no application ingress */
  readonly applicationIngress?: ApplicationIngressRule[];
  /**
   * Where controllers and workers may send traffic. `0.0.0.0/0` (the default) keeps egress open
   * through the NAT: X-Spot reaches the EC2 API, its package repository and entitlement server.
   * @default ['0.0.0.0/0']
   */
  readonly egressCidrs?: string[];
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
  /**
   * The worker AMI (config.toml `ami`). When unset, controllers may launch only images owned by
   * this account that carry the tags the worker image pipeline writes.
   * @default - images of this account tagged by the worker image pipeline
   */
  readonly workerImageId?: string;
  /** Instance types and families X-Spot may launch workers of (on-demand and spot). */
  readonly workerInstanceTypes: string[];
  /**
   * Public IPv4 addresses the deployment's subnets reach AWS APIs from (their NAT gateways).
   * When given, controller and worker credentials are refused from any other address unless the
   * request comes through a VPC endpoint of this VPC from the instance they were issued to.
   * @default - no source-address restriction for requests that do not use a VPC endpoint
   */
  readonly natPublicIps?: string[];
  /**
   * Tag keys X-Spot writes on workers besides `Name` and `xspot:deployment` (config.toml
   * `[aws.instance_tags]`): the only keys controllers may change on existing resources.
   * @default - none
   */
  readonly workerTagKeys?: string[];
}

/** Tag key that marks every resource of a deployment; IAM conditions match on it. */
export const DEPLOYMENT_TAG = 'xspot:deployment';

/** Tags the worker image pipeline writes on its AMIs (besides `xspot:deployment`). */
export const WORKER_IMAGE_TAG = { key: 'xspot:image', value: 'worker' } as const;

/** Tag keys the controller runtime writes on existing resources (never `xspot:deployment`). */
export const RUNTIME_TAG_KEYS = ['Name', 'xspot:bootstrap-failed-step'] as const;

/**
 * The Session Manager / Run Command agent's calls (the part of AmazonSSMManagedInstanceCore that
 * Session Manager and `xspot-cdk fleet` need, without its account-wide ssm:GetParameter(s)).
 * None of these actions has resource-level permissions.
 */
export const SESSION_MANAGER_ACTIONS = [
  'ssm:UpdateInstanceInformation',
  'ssm:ListInstanceAssociations',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:SendReply',
];

/** The Session Manager statement, shared by the controller, worker and image-build roles. */
export function sessionManagerStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: 'SessionManager', actions: SESSION_MANAGER_ACTIONS, resources: ['*'] });
}

/** `ec2:InstanceType` patterns for instance types and families (`r5` allows `r5.*`). */
export function instanceTypePatterns(typesOrFamilies: readonly string[]): string[] {
  return [...new Set(typesOrFamilies.map((t) => (t.includes('.') ? t : `${t}.*`)))].sort();
}

/** An IAM policy variable, `${key}` in the policy text. */
function iamVariable(key: string): string {
  return `\${${key}}`;
}

/**
 * Statements that make a role's EC2-issued credentials useless away from the instance they were
 * issued to: through a VPC endpoint the request must come from the instance's own VPC and private
 * address; without one (when NAT addresses are known) from this deployment's NAT addresses. Calls
 * AWS services make on the role's behalf (aws:ViaAWSService) and EFS client calls (authorized at
 * the mount target, not at an API endpoint) are exempt.
 */
export function offInstanceDenyStatements(natPublicIps?: readonly string[]): iam.PolicyStatement[] {
  const fromInstance = { Null: { 'ec2:SourceInstanceARN': 'false' }, BoolIfExists: { 'aws:ViaAWSService': 'false' } };
  const notAction = [
    'elasticfilesystem:ClientMount',
    'elasticfilesystem:ClientWrite',
    'elasticfilesystem:ClientRootAccess',
  ];
  const statements = [
    new iam.PolicyStatement({
      sid: 'DenyOtherVpc',
      effect: iam.Effect.DENY,
      notActions: notAction,
      resources: ['*'],
      conditions: {
        ...fromInstance,
        Null: { ...fromInstance.Null, 'aws:SourceVpc': 'false' },
        StringNotEquals: { 'aws:ec2InstanceSourceVPC': iamVariable('aws:SourceVpc') },
      },
    }),
    new iam.PolicyStatement({
      sid: 'DenyOtherPrivateAddress',
      effect: iam.Effect.DENY,
      notActions: notAction,
      resources: ['*'],
      conditions: {
        ...fromInstance,
        Null: { ...fromInstance.Null, 'aws:VpcSourceIp': 'false' },
        StringNotEquals: { 'aws:ec2InstanceSourcePrivateIPv4': iamVariable('aws:VpcSourceIp') },
      },
    }),
  ];
  if (natPublicIps && natPublicIps.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'DenyOutsideNat',
        effect: iam.Effect.DENY,
        notActions: notAction,
        resources: ['*'],
        conditions: {
          ...fromInstance,
          Null: { ...fromInstance.Null, 'aws:SourceVpc': 'true' },
          NotIpAddress: { 'aws:SourceIp': natPublicIps.map((ip) => (ip.includes('/') ? ip : `${ip}/32`)) },
        },
      }),
    );
  }
  return statements;
}

/**
 * The guide's security group ("all internal traffic within your subnet" plus the application's
 * ports) and the IAM role that must be attached to every controller, with a worker role that the
 * controller may pass to the workers it launches and nothing else. Controllers also carry a
 * group of their own: the only source the shared file system's mount targets admit.
 */
export class XspotSecurity extends Construct {
  public readonly securityGroup: ec2.SecurityGroup;
  /** Attached to controllers only (no rules of its own); mount targets admit NFS from it. */
  public readonly controllerSecurityGroup: ec2.SecurityGroup;
  public readonly controllerRole: iam.Role;
  public readonly workerRole: iam.Role;
  public readonly workerInstanceProfile: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: XspotSecurityProps) {
    super(scope, id);
    this.securityGroup = this.sharedGroup(props);
    this.controllerSecurityGroup = new ec2.SecurityGroup(this, 'ControllersOnly', {
      vpc: props.vpc,
      description: `X-Spot controllers only (${props.deploymentName}): source of NFS to the shared file system`,
      allowAllOutbound: true,
    });
    const roles = this.roles(props);
    this.workerRole = roles.worker;
    this.controllerRole = roles.controller;
    this.workerInstanceProfile = new iam.InstanceProfile(this, 'WorkerInstanceProfile', {
      role: this.workerRole,
      instanceProfileName: this.roleName(props, 'worker'),
    });
    const policy = this.controllerPolicy(props);
    policy.attachToRole(this.controllerRole);
  }

  private roleName(props: XspotSecurityProps, suffix: RoleSuffix): string | undefined {
    return roleNameOf(props.roleNamePrefix, props.deploymentName, suffix);
  }

  /** All traffic from the group itself and the deployment's subnets; application ports; egress. */
  private sharedGroup(props: XspotSecurityProps): ec2.SecurityGroup {
    const egress = props.egressCidrs ?? ['0.0.0.0/0'];
    const openEgress = egress.includes('0.0.0.0/0');
    const sg = new ec2.SecurityGroup(this, 'ControllersAndWorkers', {
      vpc: props.vpc,
      description: `X-Spot controllers and workers (${props.deploymentName}): all traffic within the group and its subnets, site application ports`,
      allowAllOutbound: openEgress,
    });
    const allTraffic = ec2.Port.allTraffic();
    sg.addIngressRule(sg, allTraffic, 'X-Spot: all traffic between controllers and workers');
    for (const cidr of props.internalCidrs) {
      sg.addIngressRule(ec2.Peer.ipv4(cidr), allTraffic, `X-Spot: all traffic within the subnet ${cidr}`);
    }
    for (const rule of props.applicationIngress ?? []) {
      const port =
        rule.protocol === 'icmp'
          ? ec2.Port.allIcmp()
          : rule.protocol === 'udp'
            ? ec2.Port.udpRange(rule.fromPort, rule.toPort)
            : ec2.Port.tcpRange(rule.fromPort, rule.toPort);
      for (const cidr of rule.cidrs) sg.addIngressRule(ec2.Peer.ipv4(cidr), port, rule.description);
    }
    if (!openEgress) {
      sg.addEgressRule(sg, allTraffic, 'X-Spot: all traffic between controllers and workers');
      for (const cidr of egress) sg.addEgressRule(ec2.Peer.ipv4(cidr), allTraffic, `X-Spot: egress to ${cidr}`);
    }
    return sg;
  }

  /** Controller and worker roles: Session Manager and the off-instance deny, nothing else yet. */
  private roles(props: XspotSecurityProps): { controller: iam.Role; worker: iam.Role } {
    const tag = props.deploymentName;
    const baseline = (name: string) => {
      const statements = offInstanceDenyStatements(props.natPublicIps);
      if (props.sessionManager ?? true) statements.unshift(sessionManagerStatement());
      return { [name]: new iam.PolicyDocument({ statements }) };
    };
    const worker = new iam.Role(this, 'WorkerRole', {
      roleName: this.roleName(props, 'worker'),
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `X-Spot workers (${tag})`,
      inlinePolicies: baseline('Baseline'),
    });
    const controller = new iam.Role(this, 'ControllerRole', {
      roleName: this.roleName(props, 'controller'),
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `X-Spot controllers (${tag}): launches, migrates and terminates workers`,
      inlinePolicies: baseline('Baseline'),
    });
    for (const role of [worker, controller]) {
      acknowledgeNag(
        role,
        'AwsSolutions-IAM5',
        'Session Manager and Run Command agent actions (ssm:UpdateInstanceInformation, ssm:ListInstanceAssociations, ssmmessages:*Channel, ec2messages:*Message/GetEndpoint/SendReply) have no resource-level permissions; no parameter or document reads',
        ['Resource::*'],
      );
    }
    return { controller, worker };
  }

  /** What the controllers do to workers: launch, tag, manage, pass the worker role, read parameters. */
  private controllerPolicy(props: XspotSecurityProps): iam.Policy {
    const stack = Stack.of(this);
    const tag = props.deploymentName;
    const wildcardArns = new Set<string>();
    const arn = (resource: string, name = '*', account?: string) => {
      const a = stack.formatArn({
        service: 'ec2',
        resource,
        resourceName: name,
        ...(account === undefined ? {} : { account }),
      });
      if (name.includes('*')) wildcardArns.add(a);
      return a;
    };
    const vpcArn = arn('vpc', props.vpc.vpcId);
    const inVpc = { ArnEquals: { 'ec2:Vpc': vpcArn } };
    const resourceTagged = { StringEquals: { [`aws:ResourceTag/${DEPLOYMENT_TAG}`]: tag } };
    const launchActions = ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:RequestSpotInstances'];
    const parameterArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `xspot/${tag}/*` });
    wildcardArns.add(parameterArn);
    const runtimeTagKeys = [
      ...new Set([...RUNTIME_TAG_KEYS, ...(props.workerTagKeys ?? [])].filter((k) => k !== DEPLOYMENT_TAG)),
    ].sort();
    const imageStatement = props.workerImageId
      ? new iam.PolicyStatement({
          sid: 'LaunchWorkerImage',
          actions: launchActions,
          resources: [arn('image', props.workerImageId, '')],
        })
      : new iam.PolicyStatement({
          sid: 'LaunchWorkerImage',
          actions: launchActions,
          resources: [arn('image', '*', '')],
          conditions: {
            StringEquals: {
              'ec2:Owner': stack.account,
              [`ec2:ResourceTag/${DEPLOYMENT_TAG}`]: tag,
              [`ec2:ResourceTag/${WORKER_IMAGE_TAG.key}`]: WORKER_IMAGE_TAG.value,
            },
          },
        });
    const statements = [
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
        actions: launchActions,
        resources: [arn('instance')],
        conditions: {
          StringEquals: { [`aws:RequestTag/${DEPLOYMENT_TAG}`]: tag },
          StringLike: { 'ec2:InstanceType': instanceTypePatterns(props.workerInstanceTypes) },
        },
      }),
      imageStatement,
      new iam.PolicyStatement({
        sid: 'LaunchIntoDeploymentVpc',
        actions: [...launchActions, 'ec2:CreateNetworkInterface'],
        resources: [arn('subnet'), arn('security-group'), arn('network-interface')],
        conditions: inVpc,
      }),
      new iam.PolicyStatement({
        sid: 'LaunchVolumesAndRequests',
        actions: launchActions,
        resources: [arn('volume'), arn('spot-instances-request'), arn('fleet')],
      }),
      new iam.PolicyStatement({
        sid: 'LaunchFromOwnTemplates',
        actions: launchActions,
        resources: [arn('launch-template')],
        conditions: resourceTagged,
      }),
      new iam.PolicyStatement({
        sid: 'CreateTaggedTemplates',
        actions: ['ec2:CreateLaunchTemplate'],
        resources: [arn('launch-template')],
        conditions: { StringEquals: { [`aws:RequestTag/${DEPLOYMENT_TAG}`]: tag } },
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
          StringEqualsIfExists: { [`aws:RequestTag/${DEPLOYMENT_TAG}`]: tag },
        },
      }),
      new iam.PolicyStatement({
        sid: 'RetagOwnResources',
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: [arn('instance'), arn('launch-template'), arn('network-interface'), arn('volume')],
        conditions: {
          ...resourceTagged,
          'ForAllValues:StringEquals': { 'aws:TagKeys': runtimeTagKeys },
        },
      }),
      new iam.PolicyStatement({
        sid: 'ManageOwnResources',
        actions: [
          'ec2:AssignPrivateIpAddresses',
          'ec2:AttachNetworkInterface',
          'ec2:CancelSpotInstanceRequests',
          'ec2:CreateLaunchTemplateVersion',
          'ec2:DeleteFleets',
          'ec2:DeleteLaunchTemplate',
          'ec2:DeleteNetworkInterface',
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
    ];
    const policy = new iam.Policy(this, 'ControllerPolicy', { statements });
    acknowledgeNag(
      policy,
      'AwsSolutions-IAM5',
      'EC2 Describe*/pricing:GetProducts/CreateServiceLinkedRole have no resource-level permissions (the last is limited to the spot and ec2fleet service names); ' +
        `launches: instances only with the ${DEPLOYMENT_TAG} request tag and a configured worker instance type, the worker image only, ` +
        "subnets/security groups/network interfaces only in this deployment's VPC, launch templates only with the deployment tag; " +
        'volumes, spot requests and fleets of a launch are bounded by the instance conditions; ' +
        'tag on create only for those launches, later tag changes only of the runtime tag keys on resources of this deployment; ' +
        `instance management only on resources tagged ${DEPLOYMENT_TAG}; parameter reads only below /xspot/<deployment>/`,
      ['Resource::*', ...[...wildcardArns].map((a) => `Resource::${nagArn(this, a)}`)],
    );
    return policy;
  }
}
