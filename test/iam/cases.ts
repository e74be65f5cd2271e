/**
 * The requests X-Spot needs (allowed) and the ones it must not make (denied), with the reason each
 * matters. Each case is one or more requests: IAM authorizes RunInstances once per resource of the
 * launch (instance, image, subnet, security group, network interface, volume), so a launch is a
 * list of requests that must all be allowed.
 */
import type { Environment, Request } from './evaluate';
import type { DeploymentModel } from './model';

export interface Case {
  readonly name: string;
  readonly why: string;
  readonly expect: 'allow' | 'deny';
  readonly requests: Request[];
}

export interface Facts {
  readonly env: Environment;
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly vpcArn: string;
  readonly workerAmi?: string;
  readonly logBucketArn: string;
  readonly logPrefix: string;
  readonly fileSystemArn?: string;
  readonly controllerTopicArn: string;
  readonly buildTopicArn: string;
  readonly buildRuleArn: string;
  readonly workerRoleArn: string;
  readonly controllerRoleArn: string;
  readonly parameterPrefix: string;
  /** The controllers stack's ARN (its id), which the creation signal names. */
  readonly controllerStackId: string;
  /** The prerequisites stack's ARN: another stack of the same deployment. */
  readonly prereqsStackId: string;
  /** Public addresses of the NAT gateways the private subnets go out through. */
  readonly natIps: string[];
  /** The VPC flow log's log group, when the deployment creates one. */
  readonly flowLogGroup?: string;
}

const output = (m: DeploymentModel, stack: string, key: string): string => {
  const o = m.templates[stack].Outputs?.[key];
  if (!o) throw new Error(`${stack}: no output ${key}`);
  return String(m.resolve(stack, o.Value));
};

/**
 * The public address of every NAT gateway the template creates, read from the gateways'
 * AllocationId (not from the construct that collects them for the deny statement).
 */
function natGatewayAddresses(m: DeploymentModel, stack: string): string[] {
  const t = m.templates[stack];
  return Object.values(t.Resources)
    .filter((r) => r.Type === 'AWS::EC2::NatGateway')
    .map((r) => {
      const alloc = (r.Properties?.AllocationId ?? {}) as { 'Fn::GetAtt'?: [string, string] };
      const eip = alloc['Fn::GetAtt']?.[0];
      if (!eip || t.Resources[eip]?.Type !== 'AWS::EC2::EIP') throw new Error(`${stack}: NAT gateway without an EIP`);
      return m.ref(stack, eip);
    });
}

export function facts(m: DeploymentModel, name: string, workerAmi?: string, siteNatIps?: string[]): Facts {
  const prereqs = `${name}-prereqs`;
  const t = m.templates[prereqs];
  const natIps = siteNatIps ?? natGatewayAddresses(m, prereqs);
  if (natIps.length === 0) throw new Error(`${prereqs}: no NAT address to call from`);
  const vpcId = output(m, prereqs, 'VpcId');
  const find = (stack: string, type: string, idPart: string) => {
    const ids = Object.keys(m.templates[stack].Resources).filter(
      (id) => m.templates[stack].Resources[id].Type === type && id.includes(idPart),
    );
    if (ids.length !== 1) throw new Error(`${stack}: ${ids.length} ${type} matching ${idPart}`);
    return ids[0];
  };
  const wi = `${name}-worker-image`;
  const ctl = `${name}-controllers`;
  const fsId = Object.keys(t.Resources).find((id) => t.Resources[id].Type === 'AWS::EFS::FileSystem');
  const flowLogId = Object.keys(t.Resources).find(
    (id) => t.Resources[id].Type === 'AWS::Logs::LogGroup' && id.includes('FlowLogs'),
  );
  return {
    env: {
      vpcId,
      natIp: natIps[0],
      instanceArn: `arn:aws:ec2:${m.region}:${m.account}:instance/i-0abc`,
      privateIp: '10.0.1.10',
    },
    name,
    account: m.account,
    region: m.region,
    vpcArn: `arn:aws:ec2:${m.region}:${m.account}:vpc/${vpcId}`,
    workerAmi,
    logBucketArn: `arn:aws:s3:::${output(m, prereqs, 'LogBucketName')}`,
    logPrefix: name,
    fileSystemArn: fsId
      ? `arn:aws:elasticfilesystem:${m.region}:${m.account}:file-system/${m.ref(prereqs, fsId)}`
      : undefined,
    controllerTopicArn: output(m, ctl, 'NotificationTopicArn'),
    buildTopicArn: m.ref(wi, find(wi, 'AWS::SNS::Topic', 'BuildFailures')),
    buildRuleArn: `arn:aws:events:${m.region}:${m.account}:rule/${m.ref(wi, find(wi, 'AWS::Events::Rule', 'BuildFailed'))}`,
    workerRoleArn: output(m, prereqs, 'WorkerRoleArn'),
    controllerRoleArn: output(m, prereqs, 'ControllerRoleArn'),
    parameterPrefix: `arn:aws:ssm:${m.region}:${m.account}:parameter/xspot/${name}`,
    controllerStackId: m.ref(ctl, 'AWS::StackId'),
    prereqsStackId: m.ref(prereqs, 'AWS::StackId'),
    natIps,
    flowLogGroup: flowLogId ? m.ref(prereqs, flowLogId) : undefined,
  };
}

const CONTROLLER = 'SecurityControllerRole';
const WORKER = 'SecurityWorkerRole';
const IMAGE_BUILD = 'WorkerImageInstanceRole';
const FLOW_LOG = 'NetworkFlowLogIAMRole';
/** A role the VPC Flow Logs service assumes: no instance issued its credentials. */
const NOT_FROM_INSTANCE = {
  'ec2:SourceInstanceARN': undefined,
  'aws:ec2InstanceSourceVPC': undefined,
  'aws:ec2InstanceSourcePrivateIPv4': undefined,
  'aws:SourceIp': undefined,
  'aws:ViaAWSService': 'true',
};

export function cases(f: Facts): Case[] {
  const ec2 = (resource: string) => `arn:aws:ec2:${f.region}:${f.account}:${resource}`;
  const tag = 'xspot:deployment';
  const ami = f.workerAmi ?? 'ami-0feedfacecafe0001';
  const imageContext = f.workerAmi
    ? { 'ec2:Owner': f.account }
    : { 'ec2:Owner': f.account, [`ec2:ResourceTag/${tag}`]: f.name, 'ec2:ResourceTag/xspot:image': 'worker' };
  const inVpc = { 'ec2:Vpc': f.vpcArn };
  const tagged = { [`aws:ResourceTag/${tag}`]: f.name };
  const otherVpc = { 'ec2:Vpc': ec2('vpc/vpc-0ther0000000000000') };
  const launchPart = (
    resource: string,
    context: Record<string, string | string[] | undefined>,
    action = 'ec2:RunInstances',
  ): Request => ({
    principal: CONTROLLER,
    action,
    resource,
    context,
  });
  const instance = (ctx: Record<string, string | string[] | undefined> = {}, action = 'ec2:RunInstances') =>
    launchPart(
      ec2('instance/*'),
      {
        [`aws:RequestTag/${tag}`]: f.name,
        'aws:TagKeys': [tag, 'Name'],
        'ec2:InstanceType': 'r5.2xlarge',
        ...ctx,
      },
      action,
    );
  const image = (id = ami, ctx: Record<string, string | undefined> = imageContext) =>
    launchPart(`arn:aws:ec2:${f.region}::image/${id}`, ctx);
  const launch = (action = 'ec2:RunInstances'): Request[] => [
    instance({}, action),
    { ...image(), action },
    launchPart(ec2('subnet/subnet-0123'), inVpc, action),
    launchPart(ec2('security-group/sg-0123'), inVpc, action),
    launchPart(ec2('network-interface/*'), { ...inVpc, 'ec2:Subnet': ec2('subnet/subnet-0123') }, action),
    launchPart(ec2('volume/*'), {}, action),
  ];
  const logObject = (key: string) => `${f.logBucketArn}/${key}`;
  const out: Case[] = [
    // --- what X-Spot needs ----------------------------------------------------------------
    {
      name: 'launch an on-demand worker: worker AMI, deployment subnet/SG, instance tagged',
      why: "the guide's core operation: X-Spot launches workers from config.toml (ami, instance_tags)",
      expect: 'allow',
      requests: launch(),
    },
    {
      name: 'launch that tags only the instance (volumes and ENIs untagged)',
      why: 'the guide only shows [aws.instance_tags]; requiring tags on volumes/ENIs would break launches',
      expect: 'allow',
      requests: launch().map((r) =>
        r.resource.includes(':volume/') || r.resource.includes(':network-interface/')
          ? { ...r, context: { ...r.context, 'aws:TagKeys': undefined } }
          : r,
      ),
    },
    {
      name: 'launch a spot worker through CreateFleet',
      why: 'X-Spot launches spot workers (spot_fleet_types); EC2 Fleet authorizes instance, image, subnet, volume, fleet and its launch template (no security group or ENI resource)',
      expect: 'allow',
      requests: [
        ...launch('ec2:CreateFleet').filter((r) => !/:(security-group|network-interface)\//.test(r.resource)),
        launchPart(ec2('fleet/*'), {}, 'ec2:CreateFleet'),
        launchPart(ec2('launch-template/lt-0own'), tagged, 'ec2:CreateFleet'),
      ],
    },
    {
      name: 'launch a spot worker through RunInstances with a spot market option',
      why: 'a spot RunInstances also authorizes a spot-instances-request resource',
      expect: 'allow',
      requests: [...launch(), launchPart(ec2('spot-instances-request/*'), {})],
    },
    {
      name: 'tag the instance at launch',
      why: "tag-on-create: CreateTags is authorized for RunInstances' TagSpecifications",
      expect: 'allow',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:CreateTags',
          resource: ec2('instance/*'),
          context: {
            'ec2:CreateAction': 'RunInstances',
            [`aws:RequestTag/${tag}`]: f.name,
            'aws:TagKeys': [tag, 'Name'],
          },
        },
      ],
    },
    {
      name: 'pass the worker role to EC2',
      why: "workers get their instance profile from the controller's launch",
      expect: 'allow',
      requests: [
        {
          principal: CONTROLLER,
          action: 'iam:PassRole',
          resource: f.workerRoleArn,
          context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        },
      ],
    },
    {
      name: 'describe instance types',
      why: 'the guide names ec2:DescribeInstanceTypes among the required actions',
      expect: 'allow',
      requests: [{ principal: CONTROLLER, action: 'ec2:DescribeInstanceTypes', resource: '*' }],
    },
    {
      name: 'terminate a worker of this deployment',
      why: 'X-Spot terminates idle workers and migrates containers away',
      expect: 'allow',
      requests: [
        { principal: CONTROLLER, action: 'ec2:TerminateInstances', resource: ec2('instance/i-0w1'), context: tagged },
      ],
    },
    {
      name: 'stop and start a worker of this deployment',
      why: 'migration stops and starts workers',
      expect: 'allow',
      requests: ['ec2:StopInstances', 'ec2:StartInstances'].map((action) => ({
        principal: CONTROLLER,
        action,
        resource: ec2('instance/i-0w1'),
        context: tagged,
      })),
    },
    {
      name: 'tag a failed boot step on its own instance',
      why: 'the boot contract marks the failed step (xspot:bootstrap-failed-step) on the controller',
      expect: 'allow',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:CreateTags',
          resource: ec2('instance/i-0abc'),
          context: { ...tagged, 'aws:TagKeys': ['xspot:bootstrap-failed-step'] },
        },
      ],
    },
    {
      name: 'read a deployment parameter',
      why: 'controllers read /xspot/<name>/* (worker AMI id and settings)',
      expect: 'allow',
      requests: [{ principal: CONTROLLER, action: 'ssm:GetParameter', resource: `${f.parameterPrefix}/worker-ami` }],
    },
    {
      name: 'write a log object under the deployment prefix',
      why: 'log sync writes <prefix>/<day>/<instance-id>/..., <prefix>/undated/<instance-id>/... and <prefix>/xspot-cdk/<instance-id>/...',
      expect: 'allow',
      requests: ['2024-03-01/i-0abc/xspot.log', 'undated/i-0abc/notes.txt', 'xspot-cdk/i-0abc/log-sync.log'].map(
        (key) => ({ principal: CONTROLLER, action: 's3:PutObject', resource: logObject(`${f.logPrefix}/${key}`) }),
      ),
    },
    {
      name: 'Session Manager channel from a controller',
      why: 'operators reach controllers through Session Manager instead of SSH keys',
      expect: 'allow',
      requests: ['ssmmessages:CreateControlChannel', 'ssm:UpdateInstanceInformation'].map((action) => ({
        principal: CONTROLLER,
        action,
        resource: action.startsWith('ssm:') ? ec2('instance/i-0abc') : '*',
      })),
    },
    {
      name: 'Session Manager channel from a worker',
      why: "the guide's validation step logs in to a worker with ssh or Session Manager",
      expect: 'allow',
      requests: [{ principal: WORKER, action: 'ssmmessages:OpenDataChannel', resource: '*' }],
    },
    {
      name: 'call through a VPC endpoint of its own VPC from its own address',
      why: "the off-instance deny must not refuse requests through the deployment's own endpoints (S3 gateway endpoint)",
      expect: 'allow',
      requests: [
        {
          principal: CONTROLLER,
          action: 's3:PutObject',
          resource: logObject(`${f.logPrefix}/2024-03-01/i-0abc/a.log`),
          context: { 'aws:SourceIp': undefined, 'aws:SourceVpc': f.env.vpcId, 'aws:VpcSourceIp': f.env.privateIp },
        },
      ],
    },
    {
      name: "CloudWatch alarm publishes to the controllers' topic",
      why: 'bootstrap-failure alarms notify through the topic',
      expect: 'allow',
      requests: [
        {
          principal: 'service:cloudwatch',
          action: 'sns:Publish',
          resource: f.controllerTopicArn,
          context: {
            'aws:SourceAccount': f.account,
            'aws:SourceArn': `arn:aws:cloudwatch:${f.region}:${f.account}:alarm:x`,
          },
        },
      ],
    },
    {
      name: 'EventBridge rule publishes a failed build',
      why: 'the image pipeline notifies failed builds',
      expect: 'allow',
      requests: [
        {
          principal: 'service:events',
          action: 'sns:Publish',
          resource: f.buildTopicArn,
          context: { 'aws:SourceAccount': f.account, 'aws:SourceArn': f.buildRuleArn },
        },
      ],
    },
    {
      name: 'image build instance writes its build logs',
      why: 'Image Builder writes logs below image-builder/<name>/',
      expect: 'allow',
      requests: [
        { principal: IMAGE_BUILD, action: 's3:PutObject', resource: logObject(`image-builder/${f.name}/build/x.log`) },
      ],
    },
    {
      name: "controller signals its own stack's creation",
      why: 'the creation policy waits for each controller to signal SUCCESS (or FAILURE) after xspot check -f',
      expect: 'allow',
      requests: [{ principal: CONTROLLER, action: 'cloudformation:SignalResource', resource: f.controllerStackId }],
    },
    {
      name: 'controller calls out through every NAT gateway of the deployment',
      why: 'without an endpoint, API calls leave through whichever NAT serves the subnet; the NAT deny must list them all',
      expect: 'allow',
      requests: f.natIps.map((ip) => ({
        principal: CONTROLLER,
        action: 'ssm:GetParameter',
        resource: `${f.parameterPrefix}/worker-ami`,
        context: { 'aws:SourceIp': ip },
      })),
    },
    {
      name: 'worker calls out through every NAT gateway of the deployment',
      why: 'Session Manager from a worker reaches ssmmessages through the NAT',
      expect: 'allow',
      requests: f.natIps.map((ip) => ({
        principal: WORKER,
        action: 'ssmmessages:OpenDataChannel',
        resource: '*',
        context: { 'aws:SourceIp': ip },
      })),
    },
    // --- what must be denied -------------------------------------------------------------------
    {
      name: 'controller signals another stack',
      why: "a controller's credentials must not complete (or fail) another stack's creation, nor this stack name's next creation",
      expect: 'deny',
      requests: [
        f.prereqsStackId,
        `arn:aws:cloudformation:${f.region}:${f.account}:stack/prod-db/0f0f0f0f-1111-2222-3333-444455556666`,
        f.controllerStackId.replace(/\/[0-9a-f-]+$/, '/0f0f0f0f-1111-2222-3333-444455556666'),
      ].map((resource) => ({ principal: CONTROLLER, action: 'cloudformation:SignalResource', resource })),
    },
    {
      name: 'controller changes or deletes its own stack',
      why: 'signalling is the only CloudFormation call the boot needs',
      expect: 'deny',
      requests: ['cloudformation:UpdateStack', 'cloudformation:DeleteStack', 'cloudformation:CancelUpdateStack'].map(
        (action) => ({ principal: CONTROLLER, action, resource: f.controllerStackId }),
      ),
    },
    {
      name: "worker signals the controllers' stack",
      why: 'a compromised worker must not report a controller boot as passed',
      expect: 'deny',
      requests: [{ principal: WORKER, action: 'cloudformation:SignalResource', resource: f.controllerStackId }],
    },
    {
      name: 'launch a public or foreign AMI',
      why: 'a stolen controller credential must not boot arbitrary images with arbitrary userdata',
      expect: 'deny',
      requests: [image('ami-0ba5eba11deadbeef', { 'ec2:Owner': '137112412989' })],
    },
    {
      name: 'launch an account-owned AMI without the worker-image tags',
      why: 'other images of the account (admin images, other deployments) are not workers',
      expect: 'deny',
      requests: [image('ami-0a11a11a11a11a11a', { 'ec2:Owner': f.account, [`ec2:ResourceTag/${tag}`]: 'other' })],
    },
    {
      name: 'launch into a subnet of another VPC',
      why: "workers belong in the deployment's VPC only",
      expect: 'deny',
      requests: [launchPart(ec2('subnet/subnet-0ther'), otherVpc)],
    },
    {
      name: 'launch with a security group of another VPC',
      why: "attaching foreign groups would open other networks' rules",
      expect: 'deny',
      requests: [launchPart(ec2('security-group/sg-0ther'), otherVpc)],
    },
    {
      name: 'launch with a network interface in another VPC',
      why: 'an ENI is a path into another network',
      expect: 'deny',
      requests: [launchPart(ec2('network-interface/*'), otherVpc)],
    },
    {
      name: 'launch an instance without the deployment tag',
      why: "untagged instances would escape the deployment's management scope",
      expect: 'deny',
      requests: [instance({ [`aws:RequestTag/${tag}`]: undefined, 'aws:TagKeys': ['Name'] })],
    },
    {
      name: 'launch an instance tagged for another deployment',
      why: "a controller must not create resources another deployment's controllers would manage",
      expect: 'deny',
      requests: [instance({ [`aws:RequestTag/${tag}`]: 'other' })],
    },
    {
      name: 'launch an instance type outside the configured families',
      why: 'cost: p4d/x2 instances are not workers',
      expect: 'deny',
      requests: [instance({ 'ec2:InstanceType': 'p4d.24xlarge' })],
    },
    {
      name: 'launch with a key pair',
      why: 'no key pair is configured; a key pair would open SSH with a key the attacker holds',
      expect: 'deny',
      requests: [launchPart(ec2('key-pair/attacker'), {})],
    },
    {
      name: 'launch from a launch template of another owner',
      why: 'a foreign template carries foreign userdata and images',
      expect: 'deny',
      requests: [launchPart(ec2('launch-template/lt-0ther'), { [`aws:ResourceTag/${tag}`]: 'other' })],
    },
    {
      name: 'terminate an instance without the deployment tag',
      why: "the account's other workloads are out of reach",
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:TerminateInstances',
          resource: ec2('instance/i-0ther'),
          context: { [`aws:ResourceTag/${tag}`]: 'other' },
        },
      ],
    },
    {
      name: 'modify an instance without the deployment tag',
      why: 'ModifyInstanceAttribute can swap userdata or roles of other instances',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:ModifyInstanceAttribute',
          resource: ec2('instance/i-0ther'),
          context: {},
        },
      ],
    },
    {
      name: 'retag an instance of this deployment to another deployment',
      why: 'changing xspot:deployment would move resources between scopes',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:CreateTags',
          resource: ec2('instance/i-0w1'),
          context: { ...tagged, 'aws:TagKeys': [tag], [`aws:RequestTag/${tag}`]: 'other' },
        },
      ],
    },
    {
      name: 'remove the deployment tag from an instance',
      why: 'untagging would take a resource out of every tag-scoped statement',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:DeleteTags',
          resource: ec2('instance/i-0w1'),
          context: { ...tagged, 'aws:TagKeys': [tag] },
        },
      ],
    },
    {
      name: 'add an arbitrary tag key to a deployment instance',
      why: 'other tags may drive other policies (ABAC) in the account',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:CreateTags',
          resource: ec2('instance/i-0w1'),
          context: { ...tagged, 'aws:TagKeys': ['team'] },
        },
      ],
    },
    {
      name: "tag-on-create with another deployment's tag",
      why: 'tag-on-create must not mint resources of another deployment',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:CreateTags',
          resource: ec2('volume/*'),
          context: { 'ec2:CreateAction': 'RunInstances', [`aws:RequestTag/${tag}`]: 'other', 'aws:TagKeys': [tag] },
        },
      ],
    },
    {
      name: 'CreateTags on an existing foreign resource',
      why: "tags outside a launch only on this deployment's resources",
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:CreateTags',
          resource: ec2('instance/i-0ther'),
          context: { 'aws:TagKeys': ['Name'] },
        },
      ],
    },
    {
      name: 'read another parameter',
      why: 'SecureStrings of other applications (AmazonSSMManagedInstanceCore allowed every parameter)',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ssm:GetParameter',
          resource: `arn:aws:ssm:${f.region}:${f.account}:parameter/prod/db-password`,
        },
        {
          principal: WORKER,
          action: 'ssm:GetParameter',
          resource: `arn:aws:ssm:${f.region}:${f.account}:parameter/prod/db-password`,
        },
        {
          principal: IMAGE_BUILD,
          action: 'ssm:GetParameters',
          resource: `arn:aws:ssm:${f.region}:${f.account}:parameter/prod/db-password`,
        },
      ],
    },
    {
      name: "read another deployment's parameters",
      why: 'deployments share nothing',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ssm:GetParameter',
          resource: `arn:aws:ssm:${f.region}:${f.account}:parameter/xspot/other/worker-ami`,
        },
      ],
    },
    {
      name: 'pass another role',
      why: 'passing an admin role to an instance is privilege escalation',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'iam:PassRole',
          resource: `arn:aws:iam::${f.account}:role/Admin`,
          context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        },
        {
          principal: CONTROLLER,
          action: 'iam:PassRole',
          resource: f.controllerRoleArn,
          context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        },
      ],
    },
    {
      name: 'pass the worker role to another service',
      why: 'the worker role is for EC2 instances only',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'iam:PassRole',
          resource: f.workerRoleArn,
          context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
        },
      ],
    },
    {
      name: 'write outside the log prefix',
      why: "other deployments' and the access logs must stay intact",
      expect: 'deny',
      requests: [
        { principal: CONTROLLER, action: 's3:PutObject', resource: logObject('other/2024-03-01/i-0abc/x.log') },
        {
          principal: CONTROLLER,
          action: 's3:DeleteObject',
          resource: logObject(`${f.logPrefix}/2024-03-01/i-0abc/x.log`),
        },
        {
          principal: IMAGE_BUILD,
          action: 's3:PutObject',
          resource: logObject(`${f.logPrefix}/2024-03-01/i-0abc/x.log`),
        },
      ],
    },
    {
      name: 'worker launches or terminates instances',
      why: 'a compromised worker (user code runs there) must not control the fleet',
      expect: 'deny',
      requests: [
        {
          principal: WORKER,
          action: 'ec2:RunInstances',
          resource: ec2('instance/*'),
          context: { [`aws:RequestTag/${tag}`]: f.name },
        },
        { principal: WORKER, action: 'ec2:TerminateInstances', resource: ec2('instance/i-0w1'), context: tagged },
        {
          principal: WORKER,
          action: 'iam:PassRole',
          resource: f.workerRoleArn,
          context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
        },
      ],
    },
    {
      name: 'controller credentials used from outside the deployment (internet)',
      why: 'credentials stolen through the metadata service must stop working off the instance',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ec2:DescribeInstances',
          resource: '*',
          context: { 'aws:SourceIp': '192.0.2.66' },
        },
      ],
    },
    {
      name: "controller credentials used through another VPC's endpoint",
      why: 'a copied credential used from another VPC (even from the same private address) is refused',
      expect: 'deny',
      requests: [
        {
          principal: CONTROLLER,
          action: 'ssm:GetParameter',
          resource: `${f.parameterPrefix}/worker-ami`,
          context: {
            'aws:SourceIp': undefined,
            'aws:SourceVpc': 'vpc-0ther0000000000000',
            'aws:VpcSourceIp': f.env.privateIp,
          },
        },
      ],
    },
    {
      name: 'worker credentials used from another address of the VPC',
      why: 'a worker credential replayed from another instance in the VPC is refused',
      expect: 'deny',
      requests: [
        {
          principal: WORKER,
          action: 'ssmmessages:OpenDataChannel',
          resource: '*',
          context: { 'aws:SourceIp': undefined, 'aws:SourceVpc': f.env.vpcId, 'aws:VpcSourceIp': '10.0.99.99' },
        },
      ],
    },
    {
      name: 'CloudWatch publishes to the topic for another account',
      why: "confused deputy: another account's alarm must not use this topic",
      expect: 'deny',
      requests: [
        {
          principal: 'service:cloudwatch',
          action: 'sns:Publish',
          resource: f.controllerTopicArn,
          context: {
            'aws:SourceAccount': '999988887777',
            'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:999988887777:alarm:x',
          },
        },
      ],
    },
    {
      name: 'EventBridge publishes a failed build for another rule',
      why: "confused deputy: only this deployment's rule publishes",
      expect: 'deny',
      requests: [
        {
          principal: 'service:events',
          action: 'sns:Publish',
          resource: f.buildTopicArn,
          context: {
            'aws:SourceAccount': '999988887777',
            'aws:SourceArn': `arn:aws:events:${f.region}:999988887777:rule/x`,
          },
        },
      ],
    },
  ];
  if (f.flowLogGroup) {
    const group = `arn:aws:logs:${f.region}:${f.account}:log-group:${f.flowLogGroup}`;
    out.push(
      {
        name: 'flow log service delivers to its log group',
        why: 'VPC flow logs write through their own role (a secure-by-default prerequisite)',
        expect: 'allow',
        requests: ['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({
          principal: FLOW_LOG,
          action,
          resource: `${group}:log-stream:eni-0abc-all`,
          context: NOT_FROM_INSTANCE,
        })),
      },
      {
        name: 'flow log role writes to another log group',
        why: "the flow log role must not forge or flood the account's other logs",
        expect: 'deny',
        requests: [
          {
            principal: FLOW_LOG,
            action: 'logs:PutLogEvents',
            resource: `arn:aws:logs:${f.region}:${f.account}:log-group:/aws/cloudtrail:log-stream:x`,
            context: NOT_FROM_INSTANCE,
          },
          { principal: FLOW_LOG, action: 'logs:DeleteLogGroup', resource: `${group}:*`, context: NOT_FROM_INSTANCE },
        ],
      },
    );
  }
  if (f.fileSystemArn) {
    const fsArn = f.fileSystemArn;
    const mount = { 'elasticfilesystem:AccessedViaMountTarget': 'true' };
    out.push(
      {
        name: 'controller mounts EFS with IAM through a mount target (read, write, root)',
        why: 'mount-remote.sh mounts REMOTE_DIR with tls,iam as root',
        expect: 'allow',
        requests: [
          'elasticfilesystem:ClientMount',
          'elasticfilesystem:ClientWrite',
          'elasticfilesystem:ClientRootAccess',
        ].map((action) => ({
          principal: CONTROLLER,
          action,
          resource: fsArn,
          context: mount,
        })),
      },
      {
        name: 'anonymous NFS client mounts EFS',
        why: 'a mount without iam is anonymous and must be refused (no "any principal" statement)',
        expect: 'deny',
        requests: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'].map((action) => ({
          principal: 'anonymous',
          action,
          resource: fsArn,
          context: mount,
        })),
      },
      {
        name: 'worker mounts EFS',
        why: 'workers get REMOTE_DIR content through X-Spot, not by mounting as root',
        expect: 'deny',
        requests: [
          { principal: WORKER, action: 'elasticfilesystem:ClientRootAccess', resource: fsArn, context: mount },
        ],
      },
      {
        name: 'another role of the account mounts EFS',
        why: 'the file-system policy names the controller role only; a role without EFS rights of its own gets nothing',
        expect: 'deny',
        requests: [
          { principal: FLOW_LOG, action: 'elasticfilesystem:ClientMount', resource: fsArn, context: mount },
          { principal: IMAGE_BUILD, action: 'elasticfilesystem:ClientWrite', resource: fsArn, context: mount },
        ],
      },
      {
        name: 'controller mounts EFS without TLS',
        why: 'encryption in transit is mandatory',
        expect: 'deny',
        requests: [
          {
            principal: CONTROLLER,
            action: 'elasticfilesystem:ClientMount',
            resource: fsArn,
            context: { ...mount, 'aws:SecureTransport': 'false' },
          },
        ],
      },
      {
        name: 'image build instance mounts EFS',
        why: "build instances share the controllers' network group but not their file system",
        expect: 'deny',
        requests: [
          { principal: IMAGE_BUILD, action: 'elasticfilesystem:ClientMount', resource: fsArn, context: mount },
        ],
      },
    );
  }
  return out;
}
