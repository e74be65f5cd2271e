/** The launch template: IMDSv2, encrypted volumes, role and security group, tags, userdata order. */
import * as fs from 'node:fs';
import { Duration, Size, Token } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildFleet, launchTemplateData, makeRuntimeDir, userDataText } from './helpers';

// GIVEN a fleet with the defaults (m5d.xlarge, instance-store docker disk, log bucket, EFS)
const { template, fleet } = buildFleet();

describe('launch template', () => {
  test('requires IMDSv2 tokens with a hop limit of 1 and no instance tags in metadata', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: {
          HttpTokens: 'required',
          HttpEndpoint: 'enabled',
          HttpPutResponseHopLimit: 1,
          InstanceMetadataTags: 'disabled',
        },
      }),
    });
  });

  test('uses the literal AMI id, the instance type, detailed monitoring, the security group and an instance profile', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        ImageId: 'ami-0123456789abcdef0',
        InstanceType: 'm5d.xlarge',
        Monitoring: { Enabled: true },
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Sg'), 'GroupId'] }],
        IamInstanceProfile: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('LaunchTemplateProfile'), 'Arn'] } },
      }),
    });
    template.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [{ Ref: Match.stringLikeRegexp('^Role') }] });
  });

  test('the root volume is encrypted gp3 and there is no EBS docker volume when the type has an instance store', () => {
    expect(launchTemplateData(template).BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/sda1',
        Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 50, VolumeType: 'gp3' },
      },
    ]);
  });

  test('instances and volumes are tagged with the deployment at launch', () => {
    const specs = launchTemplateData(template).TagSpecifications as { ResourceType: string; Tags: unknown[] }[];
    expect(specs.map((s) => s.ResourceType).sort()).toEqual(['instance', 'volume']);
    for (const s of specs) {
      expect(s.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'xspot:deployment', Value: 'xspot' },
          { Key: 'xspot:component', Value: 'controller' },
          { Key: 'Name', Value: 'xspot-controller' },
        ]),
      );
    }
  });

  test('the version description names the runtime version', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      VersionDescription: `xspot-cdk controller runtime ${fleet.runtimeVersion}`,
    });
    expect(fleet.runtimeVersion).toMatch(/^[0-9a-f]{12}-[0-9a-f]{12}$/);
    expect(fleet.runtimeVersion).toBe(`${fleet.runtimeSha256.slice(0, 12)}-${fleet.configSha256.slice(0, 12)}`);
  });
});

describe('userdata', () => {
  const ud = userDataText(template);

  test('runs in order: trap, deploy.env, download, checksum, unpack, bootstrap', () => {
    const at = (marker: string) => {
      const i = ud.indexOf(marker);
      expect({ marker, found: i >= 0 }).toEqual({ marker, found: true });
      return i;
    };
    const order = [
      at('trap on_exit EXIT'),
      at('step=deploy-env'),
      at(`cat >"\${DEPLOY_ENV}.tmp"`),
      at('step=download'),
      at('s3 cp --only-show-errors "$RUNTIME_URL"'),
      at('s3 cp --only-show-errors "$CONFIG_URL"'),
      at('step=checksum'),
      at(`verify_sha256 "\${work}/runtime.zip" "$RUNTIME_SHA256"`),
      at(`verify_sha256 "\${work}/config.zip" "$CONFIG_SHA256"`),
      at('step=unpack'),
      at(`unzip -q "\${work}/runtime.zip"`),
      at('step=bootstrap'),
      at('handed_off=1'),
      at(`bash "\${RELEASE}/bin/bootstrap.sh"`),
    ];
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  test('the trap abandons the launch lifecycle action and tags the failed userdata step', () => {
    expect(ud).toContain('--lifecycle-action-result ABANDON');
    expect(ud).toContain('--lifecycle-hook-name "$LAUNCH_HOOK" --auto-scaling-group-name "$ASG_NAME"');
    expect(ud).toContain(`local failed="userdata:\${step}"`);
    expect(ud).toContain("readonly FAILED_TAG='xspot:bootstrap-failed-step'");
    expect(ud).toContain("readonly ASG_NAME='xspot-controllers'");
    expect(ud).toContain("readonly LAUNCH_HOOK='xspot-bootstrap'");
  });

  test('bakes in both archives: S3 location and SHA-256', () => {
    expect(ud).toContain(`readonly RUNTIME_SHA256='${fleet.runtimeSha256}'`);
    expect(ud).toContain(`readonly CONFIG_SHA256='${fleet.configSha256}'`);
    expect(ud).toMatch(/readonly RUNTIME_URL='s3:\/\/cdk-[a-z0-9]+-assets-123456789012-us-east-1\/[0-9a-f]{64}\.zip'/);
    expect(ud).toMatch(/readonly CONFIG_URL='s3:\/\/cdk-[a-z0-9]+-assets-123456789012-us-east-1\/[0-9a-f]{64}\.zip'/);
    expect(ud).toContain(`readonly RELEASE_DIR='/opt/xspot-cdk/releases/${fleet.runtimeVersion}'`);
  });

  test('writes deploy.env with every contract key, single-quoted', () => {
    const body = ud.slice(ud.indexOf("<<'XSPOT_DEPLOY_ENV'\n") + 21, ud.indexOf('\nXSPOT_DEPLOY_ENV\n'));
    const lines = body.split('\n');
    expect(lines.every((l) => /^[A-Z_]+='[^'\n]*'$/.test(l))).toBe(true);
    const env = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 2, -1)]));
    expect(env).toEqual({
      XSPOT_DEPLOYMENT: 'xspot',
      AWS_REGION: 'us-east-1',
      XSPOT_ASG_NAME: 'xspot-controllers',
      XSPOT_LAUNCH_HOOK: 'xspot-bootstrap',
      XSPOT_TERMINATE_HOOK: 'xspot-drain',
      XSPOT_LOG_BUCKET: expect.stringMatching(/^\$\{Logs[0-9A-F]+\}$/),
      XSPOT_LOG_PREFIX: 'xspot',
      XSPOT_RUNTIME_VERSION: fleet.runtimeVersion,
      XSPOT_RELEASE_DIR: `/opt/xspot-cdk/releases/${fleet.runtimeVersion}`,
      XSPOT_STORAGE_TYPE: 'efs',
      XSPOT_STORAGE_SOURCE: 'fs-0123456789abcdef0',
      XSPOT_STORAGE_MOUNT_POINT: '/efs',
      XSPOT_STORAGE_MOUNT_OPTIONS: 'tls,_netdev',
      XSPOT_HEARTBEAT_SECONDS: '300',
      XSPOT_DRAIN_TIMEOUT_SECONDS: '7200',
      XSPOT_LOG_SYNC_MINUTES: '60',
      XSPOT_BOOTSTRAP_TIMEOUT_SECONDS: '2700',
      XSPOT_CFN_STACK: 'Fleet',
      XSPOT_CFN_RESOURCE: expect.stringMatching(/^ControllersGroupASG[0-9A-F]{8}$/),
    });
  });

  test('fits in the EC2 userdata limit with room for resolved names', () => {
    expect(Buffer.byteLength(ud)).toBeLessThan(14 * 1024);
  });
});

describe('options', () => {
  test('an instance type without instance store gets an encrypted gp3 docker volume; key pair, hop limit, no log bucket', () => {
    // GIVEN an m5.xlarge with a 300 GiB docker volume, a key pair, hop limit 2 and no log sync
    const { template: t } = buildFleet((stack) => ({
      instanceType: new ec2.InstanceType('m5.xlarge'),
      dockerVolumeSize: Size.gibibytes(300),
      rootVolumeSize: Size.gibibytes(80),
      rootDeviceName: '/dev/xvda',
      httpPutResponseHopLimit: 2,
      logBucket: undefined,
      detailedMonitoring: false,
      keyPair: ec2.KeyPair.fromKeyPairName(stack, 'Kp', 'ops-key'),
    }));
    // THEN
    const data = launchTemplateData(t);
    expect(data.BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/xvda',
        Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 80, VolumeType: 'gp3' },
      },
      {
        DeviceName: '/dev/sdf',
        Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 300, VolumeType: 'gp3' },
      },
    ]);
    expect(data).toMatchObject({
      KeyName: 'ops-key',
      MetadataOptions: { HttpPutResponseHopLimit: 2 },
      Monitoring: { Enabled: false },
    });
    expect(userDataText(t)).toContain("XSPOT_LOG_BUCKET=''");
  });

  test('a given instance profile is used as is (none is created)', () => {
    const { template: t } = buildFleet((stack) => ({
      instanceProfile: iam.InstanceProfile.fromInstanceProfileName(stack, 'Profile', 'site-controller'),
    }));
    t.resourceCountIs('AWS::IAM::InstanceProfile', 0);
    expect(JSON.stringify(launchTemplateData(t).IamInstanceProfile)).toContain('instance-profile/site-controller');
  });

  test.each([
    [{ machineImageId: 'resolve:ssm:/aws/service/ami' }, /machineImageId: must be a literal AMI id/],
    [{ machineImageId: Token.asString({ Ref: 'AmiParam' }) }, /machineImageId: must be a literal AMI id/],
    [{ minCapacity: 3, maxCapacity: 2, desiredCapacity: 2 }, /minCapacity: must be at most maxCapacity \(2\), got 3/],
    [{ desiredCapacity: 9 }, /desiredCapacity: must be between minCapacity \(1\) and maxCapacity \(4\), got 9/],
    [{ bootstrapTimeout: Duration.hours(3) }, /bootstrapTimeout: must be between 30 seconds and 2 hours/],
    [
      { heartbeatInterval: Duration.minutes(30) },
      /heartbeatInterval: must be at least 30 seconds and at most half of bootstrapTimeout \(2700 s\), got 1800 s/,
    ],
    [
      { storage: { type: 'efs' as const, source: "fs-1'; reboot", mountPoint: '/efs' } },
      /storage\.source: .* cannot be passed to the controller/,
    ],
    [{ logPrefix: '../x' }, /logPrefix: must be an S3 key prefix/],
    [{ httpPutResponseHopLimit: 0 }, /httpPutResponseHopLimit: must be a whole number from 1 to 64, got 0/],
    [{ rootVolumeSize: Size.mebibytes(1500) }, /rootVolumeSize: must be a whole number of GiB/],
    [{ runtimeAssetPath: `${makeRuntimeDir()}-missing` }, /runtimeAssetPath: .* does not exist/],
  ])('%j is refused with a message naming the prop', (props, message) => {
    expect(() => buildFleet(props)).toThrow(message);
  });

  test('a runtime without bin/bootstrap.sh is refused', () => {
    const dir = makeRuntimeDir();
    fs.rmSync(`${dir}/bin/bootstrap.sh`);
    expect(() => buildFleet({}, dir)).toThrow(/runtimeAssetPath: .* has no bin\/bootstrap\.sh/);
  });
});
