/**
 * The emulator copy of a cloud assembly (lib/ops/local-deploy-rewrite.ts): pure template edits,
 * tested on small templates without synth or an emulator.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { referencedIds, rewriteAssembly, rewriteTemplate, type Template } from '../../lib/ops/local-deploy-rewrite';

function template(): Template {
  return {
    Parameters: {
      BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' },
      Size: { Type: 'Number', Default: 3 },
    },
    Rules: { CheckBootstrapVersion: { Assertions: [] } },
    Resources: {
      Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } },
      Sg: {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: {
          GroupDescription: 'g',
          SecurityGroupIngress: [
            { IpProtocol: '-1', CidrIp: '10.0.0.0/16' },
            { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '10.0.0.0/16' },
          ],
          SecurityGroupEgress: [{ IpProtocol: '-1', CidrIp: '0.0.0.0/0' }],
        },
      },
      Ingress: { Type: 'AWS::EC2::SecurityGroupIngress', Properties: { IpProtocol: '-1', GroupId: { Ref: 'Sg' } } },
      Fs: { Type: 'AWS::EFS::FileSystem', Properties: { Encrypted: true } },
      Policy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyDocument: {
            Statement: [{ Action: 'elasticfilesystem:ClientMount', Resource: { 'Fn::GetAtt': ['Fs', 'Arn'] } }],
          },
        },
      },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: { Statement: [] },
          Policies: [{ PolicyName: 'p', PolicyDocument: { Statement: [{ Action: 'ec2:Describe*' }] } }],
        },
      },
      Key: { Type: 'AWS::KMS::Key', Properties: { Tags: [{ Key: 'xspot:deployment', Value: 'xspot' }] } },
      Pipeline: { Type: 'AWS::ImageBuilder::ImagePipeline', Properties: { Name: 'p' } },
      Resolver: { Type: 'Custom::XspotParentImage', Properties: { ServiceToken: 'arn' } },
      Param: {
        Type: 'AWS::SSM::Parameter',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub reference
        Properties: { Value: { 'Fn::Sub': '${Resolver.ImageId}' } },
        DependsOn: ['Vpc'],
      },
      Topic: { Type: 'AWS::SNS::Topic', DependsOn: ['Pipeline', 'Vpc'] },
      Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: {} },
      Group: {
        Type: 'AWS::AutoScaling::AutoScalingGroup',
        Properties: { MinSize: '1', MaxSize: '2' },
        CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT1H' } },
      },
    },
    Outputs: {
      PipelineArn: { Value: { 'Fn::GetAtt': ['Pipeline', 'Arn'] } },
      FsArn: { Value: { 'Fn::GetAtt': ['Fs', 'Arn'] } },
      VpcId: { Value: { Ref: 'Vpc' } },
    },
  };
}

describe('rewriteTemplate', () => {
  const t = template();
  const { dropped, edits } = rewriteTemplate('s', t);
  const r = t.Resources!;

  test('drops the types the emulator does not model, then what references them, each with a reason', () => {
    expect(dropped.map((d) => [d.logicalId, d.reason])).toEqual([
      ['Pipeline', 'EC2 Image Builder is not emulated'],
      ['Resolver', 'a Lambda-backed custom resource; the emulator cannot run its handler'],
      ['Alarm', 'not modelled by the emulator'],
      ['Param', 'references Resolver'],
    ]);
    expect(Object.keys(r)).toEqual(['Vpc', 'Sg', 'Ingress', 'Fs', 'Policy', 'Role', 'Key', 'Topic', 'Group']);
  });

  test('DependsOn on a dropped resource is removed, the rest kept', () => {
    expect(r.Topic.DependsOn).toEqual(['Vpc']);
  });

  test('outputs that reference a dropped resource say so; the others are kept', () => {
    expect(t.Outputs!.PipelineArn.Value).toBe('not created by the local emulator (Pipeline)');
    expect(t.Outputs!.VpcId.Value).toEqual({ Ref: 'Vpc' });
  });

  test('all-protocol rules without ports get -1 ports; rules with ports are untouched', () => {
    expect(r.Sg.Properties!.SecurityGroupIngress).toEqual([
      { IpProtocol: '-1', CidrIp: '10.0.0.0/16', FromPort: -1, ToPort: -1 },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '10.0.0.0/16' },
    ]);
    expect(r.Sg.Properties!.SecurityGroupEgress).toEqual([
      { IpProtocol: '-1', CidrIp: '0.0.0.0/0', FromPort: -1, ToPort: -1 },
    ]);
    expect(r.Ingress.Properties).toMatchObject({ FromPort: -1, ToPort: -1 });
  });

  test('the EFS ARN is built from Ref, in resources and outputs', () => {
    const arn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':elasticfilesystem:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':file-system/',
          { Ref: 'Fs' },
        ],
      ],
    };
    expect(r.Policy.Properties).toEqual({
      PolicyDocument: { Statement: [{ Action: 'elasticfilesystem:ClientMount', Resource: arn }] },
    });
    expect(t.Outputs!.FsArn.Value).toEqual(arn);
  });

  test('KMS key tags use the KMS names; role inline policies are passed as JSON text', () => {
    expect(r.Key.Properties!.Tags).toEqual([{ TagKey: 'xspot:deployment', TagValue: 'xspot' }]);
    expect(r.Role.Properties!.Policies).toEqual([
      { PolicyName: 'p', PolicyDocument: { 'Fn::ToJsonString': { Statement: [{ Action: 'ec2:Describe*' }] } } },
    ]);
  });

  test("the controllers' creation policy goes (no userdata runs, no signal would come); the group stays", () => {
    expect(r.Group).toBeDefined();
    expect(r.Group.CreationPolicy).toBeUndefined();
    expect(r.Group.Properties).toEqual({ MinSize: '1', MaxSize: '2' });
  });

  test('the bootstrap version parameter and rule go; other parameters stay', () => {
    expect(Object.keys(t.Parameters!)).toEqual(['Size']);
    expect(t.Rules).toBeUndefined();
  });

  test('every edit is reported', () => {
    expect(edits.map((e) => `${e.target}: ${e.what}`)).toEqual([
      'Sg: SecurityGroupIngress[0]: FromPort/ToPort -1 added',
      'Sg: SecurityGroupEgress[0]: FromPort/ToPort -1 added',
      'Ingress: FromPort/ToPort -1 added',
      'Role: Policies[0].PolicyDocument passed as JSON text',
      'Key: Tags written as TagKey/TagValue',
      'Group: CreationPolicy removed: the emulator runs no userdata, so no controller would send its boot signal',
      'BootstrapVersion: bootstrap version parameter and rule removed',
      'Policy: Fn::GetAtt Fs.Arn built from Ref',
      'PipelineArn: output value replaced: it references Pipeline',
      'FsArn: Fn::GetAtt Fs.Arn built from Ref',
    ]);
  });
});

test('referencedIds: Ref, Fn::GetAtt in both forms, Fn::Sub names (not pseudo parameters with a dot)', () => {
  const ids = referencedIds({
    a: { Ref: 'A' },
    b: { 'Fn::GetAtt': ['B', 'Arn'] },
    c: { 'Fn::GetAtt': 'C.Arn' },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub references
    d: { 'Fn::Sub': ['${D}-${E.Arn}-${AWS::Region}-${!Literal}', {}] },
  });
  expect([...ids].sort()).toEqual(['A', 'AWS::Region', 'B', 'C', 'D', 'E']);
});

describe('rewriteAssembly', () => {
  test('copies the assembly, rewrites the copy and re-keys the template asset to the new hash', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-rewrite-'));
    try {
      const from = path.join(dir, 'cdk.out');
      fs.mkdirSync(from);
      const text = JSON.stringify(template());
      const hash = createHash('sha256').update(text).digest('hex');
      fs.writeFileSync(path.join(from, 's.template.json'), text);
      fs.writeFileSync(
        path.join(from, 's.assets.json'),
        JSON.stringify({
          files: {
            [hash]: { source: { path: 's.template.json' }, destinations: { d: { objectKey: `${hash}.json` } } },
          },
        }),
      );
      fs.writeFileSync(
        path.join(from, 'manifest.json'),
        JSON.stringify({
          artifacts: {
            's.assets': { type: 'cdk:asset-manifest', properties: { file: 's.assets.json' } },
            s: {
              type: 'aws:cloudformation:stack',
              properties: { templateFile: 's.template.json', stackTemplateAssetObjectUrl: `s3://b/${hash}.json` },
            },
          },
        }),
      );
      const to = path.join(dir, 'emulator.out');
      const report = rewriteAssembly(from, to);

      expect(report.stacks).toEqual(['s']);
      expect(report.parameterDefaults).toEqual({ s: { Size: '3' } });
      expect(fs.readFileSync(path.join(from, 's.template.json'), 'utf8')).toBe(text);
      const rewritten = fs.readFileSync(path.join(to, 's.template.json'), 'utf8');
      const newHash = createHash('sha256').update(rewritten).digest('hex');
      expect(newHash).not.toBe(hash);
      const manifest = fs.readFileSync(path.join(to, 'manifest.json'), 'utf8');
      const assets = fs.readFileSync(path.join(to, 's.assets.json'), 'utf8');
      expect(manifest).toContain(`s3://b/${newHash}.json`);
      expect(assets).toContain(`${newHash}.json`);
      expect(manifest + assets).not.toContain(hash);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
