/** Fine-grained assertions on the prerequisites stack (GIVEN a config, WHEN synthesized, THEN ...). */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { schedulerSettingsFromConfig } from '../../lib/scheduler/from-config';
import { buildApp } from '../support/app';
import { EXISTING_VPC_CONFIG } from '../support/configs';

const template = (config: string | object = {}) => Template.fromStack(buildApp(config).stacks.prereqs);

describe('network', () => {
  test('new VPC: the configured CIDR, public + private subnets in each AZ, one NAT by default', () => {
    const t = template({ network: { newVpc: { cidr: '10.20.0.0/16', maxAzs: 3 } } });
    t.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.20.0.0/16',
      EnableDnsHostnames: true,
      EnableDnsSupport: true,
    });
    t.resourceCountIs('AWS::EC2::Subnet', 6);
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.hasResourceProperties('AWS::EC2::Subnet', {
      AvailabilityZone: { 'Fn::Select': [2, { 'Fn::GetAZs': '' }] },
      MapPublicIpOnLaunch: false,
    });
  });

  test.each(['ap-northeast-1', 'us-west-1', 'ca-central-1', 'us-east-1'])(
    'new VPC in %s without named AZs: every subnet AZ is resolved by CloudFormation (Fn::GetAZs), none is a made-up name',
    (region) => {
      const t = template({ deployment: { region }, network: { newVpc: { maxAzs: 2 } } });
      const subnets = Object.values(t.findResources('AWS::EC2::Subnet')) as {
        Properties: { AvailabilityZone: unknown };
      }[];
      expect(subnets).toHaveLength(4);
      const azs = subnets.map((s) => JSON.stringify(s.Properties.AvailabilityZone)).sort();
      expect(new Set(azs)).toEqual(
        new Set([0, 1].map((i) => JSON.stringify({ 'Fn::Select': [i, { 'Fn::GetAZs': '' }] }))),
      );
      expect(JSON.stringify(t.toJSON())).not.toContain(`"${region}a"`);
    },
  );

  test('new VPC with named AZs: subnets in exactly those AZs (ap-northeast-1 has no 1b), one NAT per AZ when asked', () => {
    const azs = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];
    const t = template({
      deployment: { region: 'ap-northeast-1' },
      network: { newVpc: { availabilityZones: azs, natGateways: 'perAz' } },
    });
    const subnets = Object.values(t.findResources('AWS::EC2::Subnet')) as {
      Properties: { AvailabilityZone: unknown };
    }[];
    expect(subnets.map((s) => s.Properties.AvailabilityZone).sort()).toEqual([...azs, ...azs].sort());
    t.resourceCountIs('AWS::EC2::NatGateway', 3);
  });

  test.each([
    [{}, 'the default /16 over 2 AZs'],
    [{ newVpc: { cidr: '10.20.0.0/16', maxAzs: 4 } }, 'a /16 over 4 AZs'],
    [
      { newVpc: { cidr: '172.31.0.0/22', availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1d'] } },
      '3 named AZs',
    ],
    [{ newVpc: { cidr: '192.168.8.0/24', maxAzs: 2 } }, 'a /24'],
  ])('the scheduler files name the private subnets the VPC really gets (%#: %s)', (network, _what) => {
    const { stacks, loaded } = buildApp({ network });
    const subnets = Object.values(Template.fromStack(stacks.prereqs).findResources('AWS::EC2::Subnet')) as {
      Properties: { CidrBlock: string; MapPublicIpOnLaunch: boolean };
    }[];
    const privateCidrs = subnets.filter((s) => !s.Properties.MapPublicIpOnLaunch).map((s) => s.Properties.CidrBlock);
    expect(privateCidrs.length).toBeGreaterThanOrEqual(2);
    expect([...schedulerSettingsFromConfig(loaded.config).controllerSubnets].sort()).toEqual(privateCidrs.sort());
  });

  test('synth asks CloudFormation, not the account: no availability-zones context lookup is requested', () => {
    const app = buildApp({ deployment: { region: 'us-west-1', account: '123456789012' } });
    const assembly = app.app.synth();
    const missing = assembly.manifest.missing ?? [];
    expect(missing.filter((m) => m.provider === 'availability-zones')).toEqual([]);
  });

  test('new VPC: one NAT gateway per AZ when asked', () => {
    template({ network: { newVpc: { maxAzs: 3, natGateways: 'perAz' } } }).resourceCountIs('AWS::EC2::NatGateway', 3);
  });

  test('new VPC: S3 gateway endpoint on the private route tables, and flow logs', () => {
    const t = template();
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
    });
    t.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL' });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  test('existing VPC: nothing is created for or added to the VPC unless asked (no endpoint, no flow log)', () => {
    const t = template(EXISTING_VPC_CONFIG);
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.resourceCountIs('AWS::EC2::Subnet', 0);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    t.resourceCountIs('AWS::EC2::FlowLog', 0);
    t.hasOutput('PrivateSubnetIds', { Value: 'subnet-0a1b2c3d4e5f60718,subnet-0b1b2c3d4e5f60718' });
  });

  test('existing VPC with addS3Endpoint and flowLogs: the endpoint on the given route tables, a VPC flow log', () => {
    const config = structuredClone(EXISTING_VPC_CONFIG);
    Object.assign(config.network.existingVpc, { addS3Endpoint: true, flowLogs: true });
    const t = template(config);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcId: 'vpc-0a1b2c3d4e5f60718',
      RouteTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0b1b2c3d4e5f60718'],
    });
    t.hasResourceProperties('AWS::EC2::FlowLog', { ResourceId: 'vpc-0a1b2c3d4e5f60718' });
  });

  test('existing VPC: addS3Endpoint without every route table is a config error naming the subnet', () => {
    const config = structuredClone(EXISTING_VPC_CONFIG);
    const { routeTableId: _, ...second } = config.network.existingVpc.privateSubnets[1];
    Object.assign(config.network.existingVpc, {
      addS3Endpoint: true,
      privateSubnets: [config.network.existingVpc.privateSubnets[0], second],
    });
    expect(() => template(config)).toThrow(
      /network\.existingVpc\.privateSubnets\[1\]\.routeTableId: network\.existingVpc\.addS3Endpoint/,
    );
  });
});

describe('security group', () => {
  test('all traffic within the controller/worker subnets (not every VPC block), application ports only from their CIDRs, descriptions on every rule', () => {
    const t = template(EXISTING_VPC_CONFIG);
    const sgs = t.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('^X-Spot controllers and workers') },
    });
    const [sg] = Object.values(sgs) as { Properties: { SecurityGroupIngress: Record<string, unknown>[] } }[];
    expect(sg.Properties.SecurityGroupIngress).toEqual([
      { CidrIp: '172.31.0.0/20', IpProtocol: '-1', Description: 'X-Spot: all traffic within the subnet 172.31.0.0/20' },
      {
        CidrIp: '172.31.16.0/20',
        IpProtocol: '-1',
        Description: 'X-Spot: all traffic within the subnet 172.31.16.0/20',
      },
      {
        CidrIp: '198.51.100.0/24',
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        Description: 'SSH from the site bastion',
      },
      {
        CidrIp: '198.51.100.10/32',
        IpProtocol: 'tcp',
        FromPort: 27000,
        ToPort: 27009,
        Description: 'FlexLM license server and vendor daemon',
      },
    ]);
  });

  test('no ingress from 0.0.0.0/0 by default', () => {
    const t = template();
    const inline = Object.values(t.findResources('AWS::EC2::SecurityGroup')).flatMap(
      (r) =>
        (r as { Properties: { SecurityGroupIngress?: { CidrIp?: string }[] } }).Properties.SecurityGroupIngress ?? [],
    );
    const separate = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (r) => (r as { Properties: { CidrIp?: string } }).Properties,
    );
    const cidrs = [...inline, ...separate].map((r) => r.CidrIp).filter(Boolean);
    // The two private subnets of the default VPC, nothing wider.
    expect(cidrs).toEqual(['10.0.64.0/18', '10.0.128.0/18']);
  });

  test('all traffic from the group itself; egress open by default, limited when configured', () => {
    const t = template();
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: '-1',
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SecurityControllersAndWorkers'), 'GroupId'] },
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SecurityControllersAndWorkers'), 'GroupId'] },
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^X-Spot controllers and workers'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })],
    });
    const limited = template({ network: { egressCidrs: ['10.0.0.0/8'] } });
    limited.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^X-Spot controllers and workers'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '10.0.0.0/8', IpProtocol: '-1' })],
    });
  });
});

describe('IAM', () => {
  const statements = (t: Template) => {
    const policies = t.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('ControllerPolicy') },
    });
    const [p] = Object.values(policies) as { Properties: { PolicyDocument: { Statement: { Sid: string }[] } } }[];
    return Object.fromEntries(p.Properties.PolicyDocument.Statement.map((s) => [s.Sid, s])) as Record<
      string,
      Record<string, unknown>
    >;
  };

  test('the controller may describe instance types (added to the guide policy 2023-08-11) and other EC2 state', () => {
    const s = statements(template());
    expect(s.Describe.Action).toEqual(
      expect.arrayContaining(['ec2:DescribeInstanceTypes', 'ec2:DescribeInstances', 'ec2:DescribeSpotPriceHistory']),
    );
    expect(s.Describe.Resource).toBe('*');
  });

  test('launches need the deployment tag on the instance and a worker instance type; changes need it on the resource', () => {
    const s = statements(template({ deployment: { name: 'prod' } }));
    expect(s.LaunchTaggedWorkers.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/xspot:deployment': 'prod' },
      StringLike: { 'ec2:InstanceType': ['r5.*', 'r5b.*', 'r5d.*', 'r5n.*'] },
    });
    expect(s.ManageOwnResources.Action).toEqual(expect.arrayContaining(['ec2:TerminateInstances']));
    expect(s.ManageOwnResources.Action).not.toContain('ec2:CreateTags');
    expect(s.ManageOwnResources.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/xspot:deployment': 'prod' } });
    expect(s.RetagOwnResources.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/xspot:deployment': 'prod' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['Name', 'xspot:bootstrap-failed-step'] },
    });
    expect(s.TagOnCreate.Condition).toEqual({
      StringEquals: { 'ec2:CreateAction': expect.arrayContaining(['RunInstances', 'CreateFleet']) },
      StringEqualsIfExists: { 'aws:RequestTag/xspot:deployment': 'prod' },
    });
  });

  test('iam:PassRole is scoped to the worker role, passed to EC2 only', () => {
    const t = template();
    const s = statements(t);
    const workerRoleId = Object.keys(
      t.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('^X-Spot workers') } }),
    )[0];
    expect(s.PassWorkerRoleOnly).toMatchObject({
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [workerRoleId, 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
  });

  test('SSM parameters readable under this deployment only', () => {
    const s = statements(template({ deployment: { name: 'prod' } }));
    expect(JSON.stringify(s.ReadDeploymentParameters.Resource)).toContain(':parameter/xspot/prod/*');
  });

  test('Session Manager by default (its own statement, no managed policy); role name prefix and permissions boundary from config', () => {
    const t = template(EXISTING_VPC_CONFIG);
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'hpc-site-controller',
      PermissionsBoundary: 'arn:aws:iam::123456789012:policy/hpc-boundary',
      ManagedPolicyArns: Match.absent(),
      Policies: [
        {
          PolicyName: 'Baseline',
          PolicyDocument: Match.objectLike({
            Statement: Match.arrayWith([
              Match.objectLike({ Sid: 'SessionManager', Action: Match.arrayWith(['ssmmessages:OpenDataChannel']) }),
            ]),
          }),
        },
      ],
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'hpc-site-worker',
      PermissionsBoundary: 'arn:aws:iam::123456789012:policy/hpc-boundary',
    });
    t.hasResourceProperties('AWS::IAM::InstanceProfile', { InstanceProfileName: 'hpc-site-worker' });
  });

  test('without Session Manager the roles carry no Session Manager statement', () => {
    const t = template({ iam: { sessionManager: false } });
    const roles = Object.values(t.findResources('AWS::IAM::Role'));
    expect(JSON.stringify(roles)).not.toContain('ssmmessages');
    t.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('^X-Spot controllers'),
      ManagedPolicyArns: Match.absent(),
    });
  });
});

describe('shared storage', () => {
  test('EFS by default: encrypted, backups on, retained, NFS only from the controllers-only security group', () => {
    const t = template();
    t.hasResourceProperties('AWS::EFS::FileSystem', {
      Encrypted: true,
      BackupPolicy: { Status: 'ENABLED' },
      ThroughputMode: 'elastic',
    });
    t.hasResource('AWS::EFS::FileSystem', { DeletionPolicy: 'Retain' });
    t.resourceCountIs('AWS::EFS::MountTarget', 2);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 2049,
      ToPort: 2049,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SecurityControllersOnly'), 'GroupId'] },
    });
  });

  test('the file-system policy names the controller role and no "any principal" allow', () => {
    const t = template();
    const [fs] = Object.values(t.findResources('AWS::EFS::FileSystem')) as {
      Properties: { FileSystemPolicy: { Statement: Record<string, unknown>[] } };
    }[];
    const allows = fs.Properties.FileSystemPolicy.Statement.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    const principal = (allows[0].Principal as { AWS: { 'Fn::GetAtt': [string, string] } }).AWS['Fn::GetAtt'];
    expect(principal[0]).toMatch(/^SecurityControllerRole/);
    expect(principal[1]).toBe('Arn');
  });

  test('the file-system policy refuses non-TLS clients', () => {
    const t = template();
    const [fs] = Object.values(t.findResources('AWS::EFS::FileSystem')) as {
      Properties: { FileSystemPolicy: { Statement: Record<string, unknown>[] } };
    }[];
    expect(fs.Properties.FileSystemPolicy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    );
  });

  test('existing NFS: no file system is created', () => {
    const t = template(EXISTING_VPC_CONFIG);
    t.resourceCountIs('AWS::EFS::FileSystem', 0);
    expect(Object.keys(t.toJSON().Outputs)).not.toContain('FileSystemId');
  });
});

describe('log bucket', () => {
  test('encrypted, versioned, public access blocked, access-logged, lifecycle from config', () => {
    const t = template({ logs: { transitionToInfrequentAccessDays: 45, expireDays: 400 } });
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'log-bucket/' }),
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            ExpirationInDays: 400,
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 45 }],
            Status: 'Enabled',
          }),
        ],
      },
    });
  });

  test('the bucket policy denies requests that are not TLS', () => {
    template().hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

test('outputs an operator needs', () => {
  const outputs = Object.keys(template().toJSON().Outputs);
  expect(outputs).toEqual(
    expect.arrayContaining([
      'VpcId',
      'PrivateSubnetIds',
      'SecurityGroupId',
      'ControllerRoleArn',
      'WorkerRoleArn',
      'FileSystemId',
      'FileSystemDnsName',
      'LogBucketName',
    ]),
  );
});
