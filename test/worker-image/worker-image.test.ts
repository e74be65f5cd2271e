import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parse } from 'yaml';
import type { RepositoryKey } from '../../lib/config/package-signing';
import {
  COMPONENT_FILES,
  contentVersion,
  readComponentDocument,
  WorkerImagePipeline,
  WorkerParentImage,
} from '../../lib/constructs/worker-image';
import { TEST_KEY_URL } from '../support/configs';
import { buildStacks, componentDocument, resourcesOf } from './fixture';

const DEFAULT = buildStacks('');
const t = DEFAULT.template;

interface Step {
  name: string;
  action: string;
  inputs?: { commands?: string[]; delaySeconds?: number };
}
interface Doc {
  name: string;
  schemaVersion: number;
  parameters: Record<string, { type: string }>[];
  phases: { name: string; steps: Step[] }[];
}
const phase = (doc: Doc, name: string) => doc.phases.find((p) => p.name === name)!;
const commands = (step: Step) => (step.inputs?.commands ?? []).join('\n');
const recipe = (tpl = t) => resourcesOf(tpl, 'AWS::ImageBuilder::ImageRecipe')[0][1];
const componentVersionOf = (tpl: typeof t, name: string) =>
  resourcesOf(tpl, 'AWS::ImageBuilder::Component').find(([, p]) => p.Name === name)![1].Version as string;

describe('component documents (assets/worker-image)', () => {
  const doc = parse(readComponentDocument(COMPONENT_FILES.worker)) as Doc;

  test('the worker document has build, validate and test phases', () => {
    expect(doc.schemaVersion).toBe(1);
    expect(doc.phases.map((p) => p.name)).toEqual(['build', 'validate', 'test']);
  });

  test('build: SELinux off, repository, exact packages, X-Spot kernel as default, then a reboot', () => {
    const build = phase(doc, 'build');
    expect(build.steps.map((s) => s.name)).toEqual([
      'DisableSelinux',
      'ConfigureRepository',
      'InstallWorkerPackages',
      'BootXspotKernel',
      'RebootIntoXspotKernel',
    ]);
    const [selinux, repo, install, boot, reboot] = build.steps;
    expect(commands(selinux)).toMatch(/setenforce 0/);
    expect(commands(selinux)).toMatch(/SELINUX=disabled.*\/etc\/selinux\/config/);
    expect(commands(repo)).toContain("repo_url='{{ RepositoryUrl }}'");
    expect(commands(repo)).toMatch(/^baseurl=\$\{repo_url\}$/m);
    expect(commands(install)).toContain(
      "packages=('{{ PlatformVersion }}' '{{ KernelVersion }}' '{{ GuestKernelVersion }}' '{{ RpmVersion }}')",
    );
    expect(commands(install)).toMatch(/rpm -q "\$p"/);
    expect(commands(boot)).toMatch(/grubby --set-default/);
    expect(reboot.action).toBe('Reboot');
  });

  test('validate: the running kernel is the X-Spot kernel', () => {
    const validate = phase(doc, 'validate');
    const kernel = validate.steps.find((s) => s.name === 'RunningXspotKernel')!;
    expect(commands(kernel)).toContain("kernel_pkg='{{ KernelVersion }}'");
    expect(commands(kernel)).toMatch(/uname -r/);
    expect(validate.steps.map((s) => s.name)).toContain('PackagesAtConfiguredVersions');
  });

  test('test: `xl info` must succeed on an instance of the new image', () => {
    const test = phase(doc, 'test');
    const xl = test.steps.find((s) => s.name === 'XlInfo')!;
    expect(xl.action).toBe('ExecuteBash');
    expect(commands(xl)).toMatch(/^xl info$/m);
    expect(commands(xl)).toMatch(/set -euo pipefail/);
  });

  test.each([COMPONENT_FILES.worker, COMPONENT_FILES.mounts])(
    '%s: every {{ parameter }} is declared and used only single-quoted',
    (file) => {
      const text = readComponentDocument(file);
      const d = parse(text) as Doc;
      const declared = d.parameters.map((p) => Object.keys(p)[0]);
      for (const p of d.parameters) expect(Object.values(p)[0].type).toBe('string');
      const refs = [...text.matchAll(/\{\{\s*([A-Za-z0-9_-]+)\s*\}\}/g)].map((m) => m[1]);
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) expect(declared).toContain(r);
      for (const line of text.split('\n').filter((l) => l.includes('{{'))) {
        expect(line).toMatch(/'\{\{ [A-Za-z0-9]+ \}\}'/);
        expect(line.replace(/'\{\{ [A-Za-z0-9]+ \}\}'/g, '')).not.toContain('{{');
      }
    },
  );

  const shellcheck = spawnSync('shellcheck', ['--version']).status === 0;
  (shellcheck ? test.each : test.skip.each)([COMPONENT_FILES.worker, COMPONENT_FILES.mounts])(
    '%s: every ExecuteBash script is shellcheck-clean',
    (file) => {
      const d = parse(readComponentDocument(file)) as Doc;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-component-'));
      for (const p of d.phases) {
        for (const s of p.steps.filter((x) => x.action === 'ExecuteBash')) {
          const script = `#!/bin/bash\n${commands(s).replace(/\{\{ ([A-Za-z0-9]+) \}\}/g, 'param-$1')}\n`;
          const f = path.join(dir, `${p.name}-${s.name}.sh`);
          fs.writeFileSync(f, script);
          const r = spawnSync('shellcheck', ['-s', 'bash', f], { encoding: 'utf8' });
          expect(`${p.name}/${s.name}: ${r.stdout}`).toBe(`${p.name}/${s.name}: `);
        }
      }
    },
  );
});

describe('components and recipe in the template', () => {
  test('the component is the shipped document, unchanged, for Linux', () => {
    t.hasResourceProperties('AWS::ImageBuilder::Component', {
      Name: 'xspot-xspot-worker',
      Platform: 'Linux',
      Data: readComponentDocument(COMPONENT_FILES.worker),
      Version: Match.stringLikeRegexp('^1\\.\\d+\\.\\d+$'),
    });
    const d = componentDocument(t, 'xspot-xspot-worker') as unknown as Doc;
    expect(d.phases.map((p) => p.name)).toEqual(['build', 'validate', 'test']);
  });

  test('the recipe passes the configured versions and repository as component parameters', () => {
    const { template } = buildStacks(`
xspot:
  repositoryUrl: https://rpm.example.org/el7/
  platformVersion: xcontainer-9.9.9-test.el7
  kernelVersion: kernel-9.9.9_xcontainer-test
  guestKernelVersion: xspot-guest-kernel-9.9.9-test.el7
  rpmVersion: xspot-9.9.9-test.el7
`);
    template.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', {
      Components: [
        {
          ComponentArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('WorkerComponent'), 'Arn'] },
          Parameters: [
            { Name: 'RepositoryUrl', Value: ['https://rpm.example.org/el7/'] },
            { Name: 'PackageSigning', Value: ['url'] },
            { Name: 'GpgKeyUrl', Value: [TEST_KEY_URL] },
            { Name: 'GpgKeyBase64', Value: [''] },
            { Name: 'RepoGpgcheck', Value: ['0'] },
            { Name: 'PlatformVersion', Value: ['xcontainer-9.9.9-test.el7'] },
            { Name: 'KernelVersion', Value: ['kernel-9.9.9_xcontainer-test'] },
            { Name: 'GuestKernelVersion', Value: ['xspot-guest-kernel-9.9.9-test.el7'] },
            { Name: 'RpmVersion', Value: ['xspot-9.9.9-test.el7'] },
          ],
        },
      ],
    });
    // Values travel as parameters: the document itself never contains them.
    const data = resourcesOf(template, 'AWS::ImageBuilder::Component')[0][1].Data as string;
    expect(data).not.toContain('9.9.9');
  });

  test('root volume: encrypted gp3 of the configured size; Session Manager stays on the image', () => {
    const { template } = buildStacks('workerImage:\n  rootVolumeGb: 64\n');
    template.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', {
      BlockDeviceMappings: [
        {
          DeviceName: '/dev/sda1',
          Ebs: { VolumeSize: 64, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
        },
      ],
      AdditionalInstanceConfiguration: { SystemsManagerAgent: { UninstallAfterBuild: false } },
    });
  });
});

/**
 * The ConfigureRepository step run by a real bash with the parameter values the synthesized recipe
 * passes, /etc redirected to a scratch directory and recording stand-ins for yum and rpm.
 */
describe('package signing: the repository the worker image installs from', () => {
  const KEY = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'keys', 'test-signing-key.asc'), 'utf8');

  function configureRepository(yaml: string) {
    const { template } = buildStacks(yaml);
    const params = Object.fromEntries(
      (recipe(template).Components as { Parameters: { Name: string; Value: string[] }[] }[])[0].Parameters.map((p) => [
        p.Name,
        p.Value[0],
      ]),
    );
    const step = phase(parse(readComponentDocument(COMPONENT_FILES.worker)) as Doc, 'build').steps.find(
      (x) => x.name === 'ConfigureRepository',
    )!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-repo-step-'));
    try {
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      for (const cmd of ['yum', 'rpm']) {
        fs.writeFileSync(path.join(bin, cmd), `#!/bin/bash\necho "${cmd} $*" >> "${dir}/calls"\n`, { mode: 0o755 });
      }
      fs.mkdirSync(path.join(dir, 'etc', 'yum.repos.d'), { recursive: true });
      const script = commands(step)
        .replace(/'\{\{ ([A-Za-z0-9]+) \}\}'/g, (_m, name: string) => `'${params[name]}'`)
        .replace(/\/etc\//g, `${dir}/etc/`);
      const r = spawnSync('bash', ['-c', script], {
        encoding: 'utf8',
        env: { PATH: `${bin}:${process.env.PATH}` },
      });
      const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : '');
      return {
        status: r.status,
        stderr: r.stderr,
        repo: read('etc/yum.repos.d/xspot.repo'),
        key: read('etc/pki/rpm-gpg/RPM-GPG-KEY-xspot-cdk'),
        calls: read('calls').replaceAll(dir, ''),
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('a key URL: gpgcheck=1 against it, over https', () => {
    const r = configureRepository('');
    expect(r.status).toBe(0);
    expect(r.repo).toMatch(/^baseurl=https:\/\/rpm\.exostellar\.io\/$/m);
    expect(r.repo).toMatch(/^gpgcheck=1$/m);
    expect(r.repo).toMatch(/^repo_gpgcheck=0$/m);
    expect(r.repo).toContain(`\ngpgkey=${TEST_KEY_URL}\n`);
    expect(r.repo).toMatch(/^sslverify=1$/m);
    expect(r.calls).toContain('yum -y --disablerepo=* --enablerepo=xspot makecache');
  });

  test('the armored key: installed as a file, imported, and gpgcheck=1 against it; metadata checked when signed', () => {
    const yaml = `xspot:\n  repositoryMetadataSigned: true\n  repositoryGpgKey: |\n${KEY.replace(/^(?=.)/gm, '    ')}`;
    const r = configureRepository(yaml);
    expect(r.status).toBe(0);
    expect(r.key).toBe(KEY);
    expect(r.calls).toContain('rpm --import /etc/pki/rpm-gpg/RPM-GPG-KEY-xspot-cdk');
    expect(r.repo).toMatch(/^gpgcheck=1$/m);
    expect(r.repo).toMatch(/^repo_gpgcheck=1$/m);
    expect(r.repo).toMatch(/^gpgkey=file:\/\/.*\/etc\/pki\/rpm-gpg\/RPM-GPG-KEY-xspot-cdk$/m);
  });

  test('no key: gpgcheck=0 only with unsigned-packages acknowledged, and the build log says so', () => {
    const r = configureRepository(
      'acknowledgedWarnings:\n  - id: unsigned-packages\n    reason: the mirror publishes no key\n',
    );
    expect(r.status).toBe(0);
    expect(r.repo).toMatch(/^gpgcheck=0$/m);
    expect(r.repo).not.toContain('gpgkey=');
    expect(r.stderr).toContain('WARNING: the X-Spot repository has no signing key (unsigned-packages acknowledged)');
  });

  /** The construct on its own, as a library user would create it. */
  function pipeline(repositoryUrl: string, repositoryKey: RepositoryKey) {
    const stack = new Stack(new App(), 'Direct', { env: { account: '123456789012', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, restrictDefaultSecurityGroup: false });
    return new WorkerImagePipeline(stack, 'WorkerImage', {
      deploymentName: 'xspot',
      vpc,
      securityGroup: new ec2.SecurityGroup(stack, 'Sg', { vpc }),
      logBucket: new s3.Bucket(stack, 'Logs'),
      versions: { platform: 'xcontainer-1', kernel: 'kernel-1', guestKernel: 'guest-1', rpm: 'xspot-1' },
      repositoryUrl,
      repositoryKey,
      parentImage: WorkerParentImage.fromAmiId('ami-0123456789abcdef0'),
    });
  }

  test.each<[string, string, RepositoryKey, RegExp]>([
    [
      'an http:// repository',
      'http://rpm.example.org/',
      { kind: 'url', url: TEST_KEY_URL },
      /^xspot\.repositoryUrl: .*https:\/\//,
    ],
    [
      'an http:// key URL',
      'https://rpm.example.org/',
      { kind: 'url', url: 'http://rpm.example.org/KEY' },
      /^xspot\.repositoryGpgKey: .*http:\/\/ URL/,
    ],
    [
      'a damaged armored key',
      'https://rpm.example.org/',
      { kind: 'armored', text: KEY.replace(/^=.{4}$/m, '=AAAA') },
      /^xspot\.repositoryGpgKey: .*checksum/,
    ],
  ])('the construct itself refuses %s, naming the field', (_what, url, key, message) => {
    expect(() => pipeline(url, key)).toThrow(message);
  });
});

describe('recipe parent image', () => {
  test('default: the CentOS 7 name filter, resolved at deploy time into an SSM parameter the recipe names', () => {
    t.hasResourceProperties('Custom::XspotParentImage', {
      Name: 'CentOS Linux 7 x86_64*',
      Owners: ['125523088429'],
      Architecture: 'x86_64',
    });
    t.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/xspot/xspot/worker-parent-ami',
      DataType: 'aws:ec2:image',
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ParentImageResolved'), 'ImageId'] },
    });
    const [, r] = resourcesOf(t, 'AWS::ImageBuilder::ImageRecipe')[0];
    expect(r.ParentImage).toBe('ssm:/xspot/xspot/worker-parent-ami');
    const recipes = t.findResources('AWS::ImageBuilder::ImageRecipe');
    expect(Object.values(recipes)[0].DependsOn).toEqual([expect.stringMatching(/ParentImageParameter/)]);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: Match.stringLikeRegexp('^python3'),
    });
    // The resolver may describe images and write its log, nothing else.
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      Policies: [
        {
          PolicyName: 'ResolveParentImage',
          PolicyDocument: Match.objectLike({
            Statement: [
              { Sid: 'DescribeImages', Action: 'ec2:DescribeImages', Effect: 'Allow', Resource: '*' },
              Match.objectLike({ Sid: 'WriteOwnLog', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] }),
            ],
          }),
        },
      ],
    });
  });

  test('an AMI id is used as is, with no resolver', () => {
    const { template } = buildStacks('workerImage:\n  parentImage: { amiId: ami-0abcdef1234567890 }\n');
    template.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', { ParentImage: 'ami-0abcdef1234567890' });
    template.resourceCountIs('Custom::XspotParentImage', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  test('an SSM parameter is named with the ssm: prefix Image Builder reads at build time', () => {
    const { template } = buildStacks('workerImage:\n  parentImage: { ssmParameter: /site/images/el7-base }\n');
    template.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', { ParentImage: 'ssm:/site/images/el7-base' });
    template.resourceCountIs('Custom::XspotParentImage', 0);
    template.resourceCountIs('AWS::SSM::Parameter', 0);
  });

  test('a custom name/owner filter reaches the resolver', () => {
    const { template } = buildStacks(`
workerImage:
  parentImage: { name: 'Rocky-8-EC2-Base*', owners: ['792107900819', self] }
`);
    template.hasResourceProperties('Custom::XspotParentImage', {
      Name: 'Rocky-8-EC2-Base*',
      Owners: ['792107900819', 'self'],
    });
  });
});

describe('infrastructure configuration', () => {
  test('Nitro builder types from the config, private subnet, the security group, IMDSv2, logs to the bucket', () => {
    t.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', {
      InstanceTypes: ['c5.xlarge', 'm5.xlarge'],
      InstanceMetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      SubnetId: { 'Fn::ImportValue': Match.stringLikeRegexp('PrivateSubnet1') },
      SecurityGroupIds: [{ 'Fn::ImportValue': Match.stringLikeRegexp('Sg') }],
      Logging: {
        S3Logs: {
          S3BucketName: { 'Fn::ImportValue': Match.stringLikeRegexp('Logs') },
          S3KeyPrefix: 'image-builder/xspot',
        },
      },
      TerminateInstanceOnFailure: true,
    });
    const { template } = buildStacks('workerImage:\n  builderInstanceTypes: [m6i.xlarge]\n');
    template.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', { InstanceTypes: ['m6i.xlarge'] });
  });

  test('the instance role: the Image Builder policy, the SSM agent statement (no AmazonSSMManagedInstanceCore), and s3:PutObject below the log prefix only', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })],
      }),
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/EC2InstanceProfileForImageBuilder']] },
      ],
      Policies: [Match.objectLike({ PolicyName: 'SsmAgent' })],
    });
    const policies = resourcesOf(t, 'AWS::IAM::Policy');
    expect(policies).toHaveLength(1);
    expect(policies[0][1].PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'WriteBuildLogs',
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: {
            'Fn::Join': ['', [{ 'Fn::ImportValue': expect.stringMatching(/Logs.*Arn/) }, '/image-builder/xspot/*']],
          },
        },
      ],
    });
  });

  test('role names use iam.roleNamePrefix; a name over 64 characters is refused (by check-config, before synth)', () => {
    const { template } = buildStacks('iam:\n  roleNamePrefix: site-\n');
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'site-xspot-ami-build' });
    template.hasResourceProperties('AWS::IAM::InstanceProfile', { InstanceProfileName: 'site-xspot-ami-build' });
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'site-xspot-ami-lifecycle' });
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'site-xspot-ami-parent' });
    expect(() =>
      buildStacks(`iam:\n  roleNamePrefix: ${'p'.repeat(32)}\ndeployment:\n  name: ${'d'.repeat(24)}\n`),
    ).toThrow(/iam\.roleNamePrefix: .*the role name "p{32}d{24}-ami-lifecycle" is 70 characters; IAM allows 64/);
  });
});

describe('distribution', () => {
  test('AMI named and tagged with the X-Spot release; id published to the deployment SSM parameter', () => {
    t.hasResourceProperties('AWS::ImageBuilder::DistributionConfiguration', {
      Distributions: [
        {
          Region: 'us-east-1',
          AmiDistributionConfiguration: {
            Name: 'xspot-xspot-worker-xcontainer-4.12.0-v23.08.07_abaaf51.el7-{{ imagebuilder:buildDate }}',
            Description: Match.stringLikeRegexp('kernel-4.19.49_xcontainer'),
            AmiTags: {
              Name: 'xspot-xspot-worker',
              'xspot:deployment': 'xspot',
              'xspot:image': 'worker',
              'xspot:platform-version': 'xcontainer-4.12.0-v23.08.07+abaaf51.el7',
              'xspot:kernel-version': 'kernel-4.19.49_xcontainer-v23.08.07+abaaf51',
              'xspot:guest-kernel-version': 'xspot-guest-kernel-4.19.49-v23.08.07-abaaf5112.el7',
              'xspot:rpm-version': 'xspot-1.3.0.1-rc_5cb0ffb0.el7',
            },
          },
          SsmParameterConfigurations: [{ ParameterName: '/xspot/xspot/worker-ami', DataType: 'aws:ec2:image' }],
        },
      ],
    });
  });

  test('the parameter is per deployment', () => {
    const { template } = buildStacks('deployment:\n  name: prod\n');
    template.hasResourceProperties('AWS::ImageBuilder::DistributionConfiguration', {
      Distributions: [
        Match.objectLike({
          SsmParameterConfigurations: [{ ParameterName: '/xspot/prod/worker-ami', DataType: 'aws:ec2:image' }],
        }),
      ],
    });
  });
});

describe('pipeline', () => {
  test('manual by default, image tests on', () => {
    t.hasResourceProperties('AWS::ImageBuilder::ImagePipeline', {
      Name: 'xspot-xspot-worker',
      Status: 'ENABLED',
      ImageTestsConfiguration: { ImageTestsEnabled: true, TimeoutMinutes: 120 },
      Schedule: Match.absent(),
    });
  });

  test('a configured schedule builds on every cron match', () => {
    const { template } = buildStacks("workerImage:\n  schedule: 'cron(0 3 ? * SUN *)'\n");
    template.hasResourceProperties('AWS::ImageBuilder::ImagePipeline', {
      Schedule: { ScheduleExpression: 'cron(0 3 ? * SUN *)', PipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' },
    });
  });

  test('rate() is refused: Image Builder schedules take cron expressions only', () => {
    expect(() => buildStacks("workerImage:\n  schedule: 'rate(7 days)'\n")).toThrow(
      /workerImage.schedule: "rate\(7 days\)" is not allowed; expected an Image Builder cron expression/,
    );
  });
});

describe('lifecycle policy', () => {
  test('keeps the newest N images of this recipe (all versions), deprecates all but the newest', () => {
    const { template } = buildStacks('workerImage:\n  keepImages: 5\n');
    template.hasResourceProperties('AWS::ImageBuilder::LifecyclePolicy', {
      ResourceType: 'AMI_IMAGE',
      Status: 'ENABLED',
      ResourceSelection: { Recipes: [{ Name: 'xspot-xspot-worker', SemanticVersion: 'x.x.x' }] },
      PolicyDetails: [
        { Action: { Type: 'DEPRECATE', IncludeResources: { Amis: true } }, Filter: { Type: 'COUNT', Value: 1 } },
        {
          Action: { Type: 'DELETE', IncludeResources: { Amis: true, Snapshots: true } },
          Filter: { Type: 'COUNT', Value: 5 },
          ExclusionRules: { Amis: { LastLaunched: { Unit: 'DAYS', Value: 30 }, TagMap: { 'xspot:retain': 'true' } } },
        },
      ],
      ExecutionRole: { 'Fn::GetAtt': [Match.stringLikeRegexp('LifecycleRole'), 'Arn'] },
    });
  });

  test('keepImages 1: only the delete rule', () => {
    const { template } = buildStacks('workerImage:\n  keepImages: 1\n');
    template.hasResourceProperties('AWS::ImageBuilder::LifecyclePolicy', {
      PolicyDetails: [
        Match.objectLike({ Action: Match.objectLike({ Type: 'DELETE' }), Filter: { Type: 'COUNT', Value: 1 } }),
      ],
    });
  });
});

describe('failure notification', () => {
  test('an encrypted, TLS-only SNS topic receives failed builds of this pipeline', () => {
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    t.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('NotificationKey'), 'Arn'] },
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      }),
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.imagebuilder'],
        'detail-type': ['EC2 Image Builder Image State Change'],
        detail: { state: { status: ['FAILED'] } },
        resources: [{ prefix: Match.anyValue() }],
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('BuildFailures') } })],
    });
    // EventBridge may use the key to publish.
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      }),
    });
  });
});

describe('immutable versions', () => {
  const versionsOf = (yaml: string) => {
    const { template } = buildStacks(yaml);
    return {
      component: componentVersionOf(template, 'xspot-xspot-worker'),
      recipe: recipe(template).Version as string,
    };
  };
  const base = { component: componentVersionOf(t, 'xspot-xspot-worker'), recipe: recipe().Version as string };

  test('nothing changed: the same versions (a redeploy replaces nothing)', () => {
    expect(versionsOf('')).toEqual(base);
  });

  test.each([
    ['xspot.platformVersion', 'xspot:\n  platformVersion: xcontainer-4.12.1-v23.09.01+0123456.el7\n'],
    ['xspot.kernelVersion', 'xspot:\n  kernelVersion: kernel-4.19.50_xcontainer-v23.09.01+0123456\n'],
    ['xspot.guestKernelVersion', 'xspot:\n  guestKernelVersion: xspot-guest-kernel-4.19.50-v23.09.01-0123456.el7\n'],
    ['xspot.rpmVersion', 'xspot:\n  rpmVersion: xspot-1.3.0.2-rc_0123456.el7\n'],
    ['xspot.repositoryUrl', 'xspot:\n  repositoryUrl: https://rpm.example.org/\n'],
    ['xspot.repositoryGpgKey', 'xspot:\n  repositoryGpgKey: https://rpm.example.org/OTHER-KEY\n'],
    ['xspot.repositoryMetadataSigned', 'xspot:\n  repositoryMetadataSigned: true\n'],
    ['deployment.tags', 'deployment:\n  tags: { team: hpc }\n'],
  ])('%s changed: new component and recipe versions', (_field, yaml) => {
    const v = versionsOf(yaml);
    expect(v.component).not.toBe(base.component);
    expect(v.recipe).not.toBe(base.recipe);
  });

  test('recipe-only changes (root volume, parent image) change the recipe version, not the component', () => {
    for (const yaml of [
      'workerImage:\n  rootVolumeGb: 40\n',
      'workerImage:\n  parentImage: { amiId: ami-0abcdef1234567890 }\n',
    ]) {
      const v = versionsOf(yaml);
      expect(v.component).toBe(base.component);
      expect(v.recipe).not.toBe(base.recipe);
    }
  });

  test('an edited document gets a new version; versions are valid Image Builder semantic versions', () => {
    const doc = readComponentDocument(COMPONENT_FILES.worker);
    expect(contentVersion({ doc })).toBe(contentVersion({ doc }));
    expect(contentVersion({ doc: `${doc}# edited\n` })).not.toBe(contentVersion({ doc }));
    expect(contentVersion({ a: 1, b: 2 })).toBe(contentVersion({ b: 2, a: 1 }));
    for (const v of [base.component, base.recipe, contentVersion('x')]) {
      const nodes = v.split('.').map(Number);
      expect(nodes).toHaveLength(3);
      for (const n of nodes) expect(n).toBeLessThanOrEqual(2 ** 30 - 1);
    }
  });
});

describe('worker mounts (customize_worker_ami.sh)', () => {
  test('no mounts configured: no mounts component', () => {
    expect(resourcesOf(t, 'AWS::ImageBuilder::Component')).toHaveLength(1);
  });

  test('ONTAP/NFS mounts become a second component whose parameter is the fstab block', () => {
    const { template } = buildStacks(`
workerImage:
  mounts:
    - { type: ontap, server: 10.0.5.10, export: /volume1, mountPoint: /fsx }
    - { type: nfs, server: nfs.example.internal, export: /export/home, mountPoint: /home2, options: 'nfsvers=4.1,hard' }
`);
    const mounts = componentDocument(template, 'xspot-xspot-worker-mounts') as unknown as Doc;
    expect(mounts.phases.map((p) => p.name)).toEqual(['build', 'validate', 'test']);
    const r = recipe(template) as { Components: { Parameters: { Name: string; Value: string[] }[] }[] };
    expect(r.Components).toHaveLength(2);
    const param = r.Components[1].Parameters[0];
    expect(param.Name).toBe('FstabEntriesBase64');
    expect(Buffer.from(param.Value[0], 'base64').toString('utf8')).toBe(
      '# ontap volume for X-Spot workers\n10.0.5.10:/volume1 /fsx nfs defaults,_netdev,nofail 0 0\n' +
        '# nfs volume for X-Spot workers\nnfs.example.internal:/export/home /home2 nfs nfsvers=4.1,hard,_netdev,nofail 0 0\n',
    );
  });
});

describe('outputs (docs/stack-contract.md)', () => {
  test('ImagePipelineArn, AmiParameterName, BuildLogsLocation', () => {
    t.hasOutput('ImagePipelineArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('Pipeline'), 'Arn'] } });
    t.hasOutput('AmiParameterName', { Value: '/xspot/xspot/worker-ami' });
    t.hasOutput('BuildLogsLocation', {
      Value: {
        'Fn::Join': ['', ['s3://', { 'Fn::ImportValue': Match.stringLikeRegexp('Logs') }, '/image-builder/xspot/']],
      },
    });
  });

  test('every resource carries the deployment tag', () => {
    for (const type of [
      'AWS::ImageBuilder::ImagePipeline',
      'AWS::ImageBuilder::Component',
      'AWS::ImageBuilder::ImageRecipe',
    ]) {
      t.hasResourceProperties(type, { Tags: Match.objectLike({ 'xspot:deployment': 'xspot' }) });
    }
  });
});

describe('policy gates', () => {
  test.each([
    ['default (name filter)', ''],
    [
      'AMI id, mounts, schedule, role prefix',
      `
iam: { roleNamePrefix: site- }
workerImage:
  parentImage: { amiId: ami-0abcdef1234567890 }
  schedule: 'cron(0 3 ? * SUN *)'
  mounts: [{ type: nfs, server: 10.0.5.10, export: /volume1, mountPoint: /fsx }]
`,
    ],
  ])('cdk-nag AwsSolutions: no unacknowledged findings (%s)', (_name, yaml) => {
    const { app, stack } = buildStacks(yaml, false);
    app.synth();
    const result = new AwsSolutionsChecks(app).validateScope(stack);
    expect(
      result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(' ')}`),
    ).toEqual([]);
  });

  const cfnLint = spawnSync('cfn-lint', ['--version']).status === 0;
  (cfnLint ? test : test.skip)('cfn-lint: the synthesized template is clean', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-cfn-lint-')), 'worker-image.json');
    fs.writeFileSync(file, JSON.stringify(t.toJSON(), null, 1));
    const r = spawnSync('cfn-lint', ['--', file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
