/**
 * ControllersStack composed with the real prerequisites stack and the real renderers and runtime:
 * outputs per docs/stack-contract.md (readable by the fleet CLI), storage from config, and the
 * cdk-nag (AwsSolutions) and cfn-lint gates over the synthesized template.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as efs from 'aws-cdk-lib/aws-efs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { renderConfigBundle } from '../../lib/config/bundle';
import type { XspotConfig } from '../../lib/config/resolve';
import { parseRefreshPreferences } from '../../lib/ops/fleet-upgrade';
import { ControllersStack, sharedStorageMount } from '../../lib/stacks/controllers-stack';
import { PrereqsStack } from '../../lib/stacks/prereqs-stack';
import { CDK_CONTEXT, DEFAULT_YAML, loadFromText } from '../support/app';
import { EXISTING_VPC_CONFIG } from '../support/configs';

function build(config: string | object = DEFAULT_YAML) {
  const loaded = loadFromText(config);
  const c = loaded.config;
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-ctl-stack-')), context: CDK_CONTEXT });
  const env = { region: c.deployment.region, ...(c.deployment.account ? { account: c.deployment.account } : {}) };
  const prereqs = new PrereqsStack(app, `${c.deployment.name}-prereqs`, { env, config: c });
  const controllers = new ControllersStack(app, `${c.deployment.name}-controllers`, {
    env,
    config: c,
    vpc: prereqs.vpc,
    vpcSubnets: prereqs.privateSubnets,
    securityGroup: prereqs.securityGroup,
    controllerSecurityGroup: prereqs.controllerSecurityGroup,
    controllerRole: prereqs.controllerRole,
    logBucket: prereqs.logBucket,
    fileSystem: prereqs.fileSystem,
    configFiles: renderConfigBundle(loaded),
  });
  return { app, prereqs, controllers, config: c };
}

describe('default config', () => {
  const { controllers } = build();
  const template = Template.fromStack(controllers);
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

  test('exports every output the fleet CLI reads', () => {
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AutoScalingGroupName',
        'LaunchTemplateId',
        'LaunchTemplateVersion',
        'NotificationTopicArn',
        'RefreshPreferences',
        'RuntimeVersion',
      ].sort(),
    );
    template.hasOutput('LaunchTemplateVersion', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('LaunchTemplate'), 'LatestVersionNumber'] },
    });
    template.hasOutput('RuntimeVersion', { Value: controllers.fleet.runtimeVersion });
    template.hasOutput('AutoScalingGroupName', { Value: { Ref: Match.stringLikeRegexp('Group') } });
  });

  test('RefreshPreferences is what `xspot-cdk fleet upgrade` parses: one controller, no checkpoint needed', () => {
    const raw = outputs.RefreshPreferences.Value;
    expect(typeof raw).toBe('string');
    const { preferences, ignored } = parseRefreshPreferences(raw as string, 'xspot-controllers');
    expect(ignored).toEqual([]);
    expect(preferences).toEqual({
      MinHealthyPercentage: 100,
      MaxHealthyPercentage: 200,
      InstanceWarmup: 0,
      SkipMatching: true,
      AutoRollback: true,
      AlarmSpecification: { Alarms: ['xspot-controllers-bootstrap-failures'] },
    });
  });

  test('controllers mount the prerequisites EFS file system with TLS, from the private subnets, as the prerequisites role', () => {
    const ud = JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'));
    expect(ud).toMatch(
      /XSPOT_STORAGE_SOURCE='",\{"Fn::ImportValue":"xspot-prereqs:ExportsOutputRefSharedStorage[A-Za-z0-9]+"\}/,
    );
    expect(ud).toContain("XSPOT_STORAGE_MOUNT_OPTIONS='tls,iam,_netdev'");
    // The controllers-only group (the one the mount targets admit) besides the shared group.
    expect(ud).toMatch(
      /"SecurityGroupIds":\[\{"Fn::ImportValue":"xspot-prereqs:[^"]*ControllersAndWorkers[^"]*"\},\{"Fn::ImportValue":"xspot-prereqs:[^"]*ControllersOnly[^"]*"\}\]/,
    );
    template.hasResourceProperties('AWS::IAM::InstanceProfile', {
      Roles: [{ 'Fn::ImportValue': Match.stringLikeRegexp('^xspot-prereqs:ExportsOutputRefSecurityControllerRole') }],
    });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '1',
      MaxSize: '2',
      DesiredCapacity: '1',
      VPCZoneIdentifier: Match.arrayWith([{ 'Fn::ImportValue': Match.stringLikeRegexp('^xspot-prereqs:') }]),
    });
  });

  test('the launch template runs the configured image and type from the real runtime', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ ImageId: 'ami-0123456789abcdef0', InstanceType: 'm5d.xlarge' }),
    });
    expect(controllers.fleet.runtimeSha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('cdk-nag', () => {
  test.each([
    ['default config', DEFAULT_YAML],
    ['existing VPC + NFS storage', EXISTING_VPC_CONFIG],
  ])('AwsSolutions: no unacknowledged findings in the controllers stack (%s)', (_name, config) => {
    // GIVEN a fresh app (a synthesized app would not validate again) and, as a positive control,
    // a stack with a known finding (an SNS topic without encryption or TLS enforcement)
    const { app } = build(config);
    const control = new Stack(app, 'nag-control');
    new sns.Topic(control, 'Plain');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN it is synthesized
    let report = '';
    try {
      app.synth();
    } catch (e) {
      report = String(e);
    }
    // THEN the control is reported and nothing of the controllers stack is
    const lines = report.split('\n');
    const findings = lines
      .map((l, i) =>
        /\b(ERROR|WARNING) .*\(AwsSolutions\)/.test(l)
          ? lines
              .slice(i, i + 3)
              .map((x) => x.trim())
              .join(' @ ')
          : '',
      )
      .filter((l) => l !== '');
    expect(findings.some((f) => f.includes('AwsSolutions-SNS3') && f.includes('@ nag-control/'))).toBe(true);
    expect(findings.filter((f) => /@ [a-z0-9-]+-controllers\//.test(f))).toEqual([]);
  });
});

describe('existing VPC, NFS storage, two controllers', () => {
  const { app, controllers } = build(EXISTING_VPC_CONFIG);
  const template = Template.fromStack(controllers);

  test('NFS source and options come from storage.existing', () => {
    const ud = JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'));
    expect(ud).toContain("XSPOT_STORAGE_TYPE='nfs'");
    expect(ud).toContain("XSPOT_STORAGE_SOURCE='nfs.example.internal:/export/apps'");
    expect(ud).toContain("XSPOT_STORAGE_MOUNT_POINT='/nfs-apps'");
  });

  test('the canary checkpoint stops after one of two controllers', () => {
    const raw = (template.toJSON().Outputs as Record<string, { Value: string }>).RefreshPreferences.Value;
    expect(JSON.parse(raw)).toMatchObject({ CheckpointPercentages: [50, 100], CheckpointDelay: 3600 });
  });

  test('cfn-lint finds no errors in the controllers template', () => {
    const dir = app.synth().directory;
    const file = path.join(dir, 'site-controllers.template.json');
    expect(fs.existsSync(file)).toBe(true);
    const r = spawnSync('cfn-lint', ['--format', 'parseable', file], { encoding: 'utf8' });
    if (r.error) throw new Error(`cfn-lint could not run (is it installed? pip install cfn-lint): ${r.error.message}`);
    const errors = r.stdout.split('\n').filter((l) => /:E\d{4}:/.test(l));
    expect(errors).toEqual([]);
    expect((r.status ?? 0) & 2).toBe(0);
  }, 180_000);
});

describe('sharedStorageMount', () => {
  const base = loadFromText(DEFAULT_YAML).config;
  const withStorage = (storage: object): XspotConfig =>
    ({ ...base, storage: { ...base.storage, ...storage } }) as XspotConfig;

  test('FSx for Lustre: dns@tcp:/mountname with the Lustre defaults', () => {
    expect(
      sharedStorageMount(
        withStorage({
          type: 'lustre',
          mountPoint: '/fsx',
          existing: { dnsName: 'fs-1.fsx.example', exportPath: '/', mountName: 'abcdef' },
        }),
      ),
    ).toEqual({
      type: 'lustre',
      source: 'fs-1.fsx.example@tcp:/abcdef',
      mountPoint: '/fsx',
      mountOptions: 'relatime,flock,_netdev',
    });
  });

  test.each([
    [{ type: 'efs' }, undefined, /storage\.type is efs but the prerequisites stack passed no EFS file system/],
    [{ type: 'nfs', existing: undefined }, undefined, /storage\.existing: must be set when storage\.type is nfs/],
    [
      { type: 'lustre', existing: { dnsName: 'x', exportPath: '/' } },
      undefined,
      /storage\.existing\.mountName: must be set/,
    ],
  ])('%j is refused', (storage, fs_: efs.IFileSystem | undefined, message) => {
    expect(() => sharedStorageMount(withStorage(storage), fs_)).toThrow(message);
  });
});
