/**
 * Emulator copies of a synthesized cloud assembly, for `xspot-cdk local deploy`.
 *
 * The stacks are synthesized exactly as for AWS; this module copies the cloud assembly and edits
 * the copies of the templates where the local emulator (moto 5.2) cannot take them as they are.
 * Nothing here changes what a real deployment gets. Every edit is reported, so the local deploy
 * can print what the emulator did not create:
 *
 *   - resources of a type the emulator does not model are removed (EC2 Image Builder, Lambda-backed
 *     custom resources, bucket and topic policies, alarms, lifecycle hooks, CDK metadata), and so is
 *     every resource that references a removed one; DependsOn entries on them are removed too;
 *   - outputs whose value references a removed resource keep their key, with a value that says so;
 *   - security-group rules with IpProtocol -1 and no ports get FromPort/ToPort -1 (what EC2 itself
 *     reports for such a rule; the emulator answers 500 without them);
 *   - AWS::KMS::Key tags are written as TagKey/TagValue (the emulator reads the KMS API's names);
 *   - inline policies of an AWS::IAM::Role (its Policies property) are passed as JSON text
 *     (Fn::ToJsonString): given an object, the emulator stores a Python repr instead of JSON;
 *   - Fn::GetAtt [<EFS file system>, Arn] becomes the ARN built from Ref (the emulator has no
 *     attributes for AWS::EFS::FileSystem);
 *   - creation policies (the controllers' Auto Scaling group waits for each controller's boot
 *     signal) are removed: the emulator runs no userdata, so no signal would ever come;
 *   - the BootstrapVersion parameter and its CheckBootstrapVersion rule are removed (the emulator
 *     reports the parameter's resolved value, so every redeploy would look changed). Any other
 *     parameter with a default is passed explicitly on deploy: the emulator crashes on an update
 *     that keeps a defaulted parameter's previous value.
 *
 * The template asset of each stack is re-keyed to the hash of the edited template, so an edited
 * template is never confused with the original in the asset bucket. Pure file work: no AWS, no CDK.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Resource types verified to deploy on moto 5.2 (the local-deploy end-to-end test deploys every
 * one of them). Anything else is removed from the emulator copy and reported.
 */
export const EMULATED_TYPES: ReadonlySet<string> = new Set([
  'AWS::AutoScaling::AutoScalingGroup',
  'AWS::EC2::EIP',
  'AWS::EC2::FlowLog',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::LaunchTemplate',
  'AWS::EC2::NatGateway',
  'AWS::EC2::Route',
  'AWS::EC2::RouteTable',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::Subnet',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::VPC',
  'AWS::EC2::VPCEndpoint',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::EFS::FileSystem',
  'AWS::EFS::MountTarget',
  'AWS::Events::Rule',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::Policy',
  'AWS::IAM::Role',
  'AWS::KMS::Key',
  'AWS::Lambda::Function',
  'AWS::Logs::LogGroup',
  'AWS::S3::Bucket',
  'AWS::SNS::Topic',
  'AWS::SSM::Parameter',
]);

/** Why a resource type is not in the emulator copy. */
export function whyNotEmulated(type: string): string {
  if (type.startsWith('AWS::ImageBuilder::')) return 'EC2 Image Builder is not emulated';
  if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') {
    return 'a Lambda-backed custom resource; the emulator cannot run its handler';
  }
  if (type === 'AWS::AutoScaling::LifecycleHook') return 'lifecycle hooks are not emulated';
  if (type === 'AWS::CDK::Metadata') return 'CDK version reporting only';
  return 'not modelled by the emulator';
}

export interface DroppedResource {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** Why: the type is not emulated, or it references a dropped resource. */
  readonly reason: string;
}

export interface RewriteEdit {
  readonly stack: string;
  /** Logical id of the resource or output that was edited. */
  readonly target: string;
  readonly what: string;
}

export interface RewriteReport {
  /** The emulator copy of the assembly (pass to `cdk deploy --app`). */
  readonly dir: string;
  readonly stacks: readonly string[];
  readonly dropped: readonly DroppedResource[];
  readonly edits: readonly RewriteEdit[];
  /** Parameters with a default, per stack; deploys pass them explicitly (see localDeployArgs). */
  readonly parameterDefaults: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export interface Template {
  Resources?: Record<string, { Type: string; Properties?: JsonObject; DependsOn?: string | string[] } & JsonObject>;
  Outputs?: Record<string, { Value: Json } & JsonObject>;
  Parameters?: Record<string, { Default?: Json } & JsonObject>;
  [k: string]: Json | undefined | object;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Logical ids a template fragment points at: Ref, Fn::GetAtt, and ${Name} inside Fn::Sub. */
export function referencedIds(node: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    for (const v of node) referencedIds(v, into);
  } else if (isObject(node)) {
    const ref = node.Ref;
    if (typeof ref === 'string') into.add(ref);
    const att = node['Fn::GetAtt'];
    if (Array.isArray(att) && typeof att[0] === 'string') into.add(att[0]);
    if (typeof att === 'string') into.add(att.split('.')[0]);
    const sub = node['Fn::Sub'];
    const text = typeof sub === 'string' ? sub : Array.isArray(sub) && typeof sub[0] === 'string' ? sub[0] : undefined;
    if (text) for (const m of text.matchAll(/\$\{([^}!.]+)[^}]*\}/g)) into.add(m[1]);
    for (const v of Object.values(node)) referencedIds(v, into);
  }
  return into;
}

/** The resources to drop from one template: unemulated types, then whatever references them. */
function resourcesToDrop(stack: string, t: Template, emulated: ReadonlySet<string>): DroppedResource[] {
  const resources = t.Resources ?? {};
  const dropped = new Map<string, DroppedResource>();
  for (const [id, r] of Object.entries(resources)) {
    if (!emulated.has(r.Type)) dropped.set(id, { stack, logicalId: id, type: r.Type, reason: whyNotEmulated(r.Type) });
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const [id, r] of Object.entries(resources)) {
      if (dropped.has(id)) continue;
      const { DependsOn: _ignored, ...rest } = r;
      const hits = [...referencedIds(rest)].filter((x) => dropped.has(x));
      if (hits.length > 0) {
        dropped.set(id, { stack, logicalId: id, type: r.Type, reason: `references ${hits.join(', ')}` });
        changed = true;
      }
    }
  }
  return [...dropped.values()];
}

function mapJson(node: Json, f: (n: JsonObject) => Json | undefined): Json {
  if (Array.isArray(node)) return node.map((v) => mapJson(v, f));
  if (isObject(node)) {
    const replaced = f(node);
    if (replaced !== undefined) return replaced;
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, mapJson(v, f)]));
  }
  return node;
}

function efsArn(id: string): Json {
  return {
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
        { Ref: id },
      ],
    ],
  };
}

/** Adds FromPort/ToPort -1 to an all-protocols rule without ports; true when it did. */
function portAllProtocols(rule: Json): boolean {
  if (!isObject(rule)) return false;
  const proto = rule.IpProtocol;
  if ((proto === '-1' || proto === -1) && rule.FromPort === undefined && rule.ToPort === undefined) {
    rule.FromPort = -1;
    rule.ToPort = -1;
    return true;
  }
  return false;
}

/**
 * Edits one template in place for the emulator and reports what changed. Exported for tests;
 * `rewriteAssembly` applies it to every stack of an assembly.
 */
export function rewriteTemplate(
  stack: string,
  t: Template,
  emulated: ReadonlySet<string> = EMULATED_TYPES,
): { dropped: DroppedResource[]; edits: RewriteEdit[] } {
  const resources = t.Resources ?? {};
  const edits: RewriteEdit[] = [];
  const dropped = resourcesToDrop(stack, t, emulated);
  const gone = new Set(dropped.map((d) => d.logicalId));
  for (const id of gone) delete resources[id];

  for (const [id, r] of Object.entries(resources)) {
    if (r.DependsOn !== undefined) {
      const deps = (Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn]).filter((d) => !gone.has(d));
      if (deps.length > 0) r.DependsOn = deps;
      else delete r.DependsOn;
    }
    if (r.CreationPolicy !== undefined) {
      delete r.CreationPolicy;
      edits.push({
        stack,
        target: id,
        what: 'CreationPolicy removed: the emulator runs no userdata, so no controller would send its boot signal',
      });
    }
    const props = r.Properties;
    if (!props) continue;
    if (r.Type === 'AWS::EC2::SecurityGroup') {
      for (const key of ['SecurityGroupIngress', 'SecurityGroupEgress']) {
        const rules = props[key];
        if (!Array.isArray(rules)) continue;
        rules.forEach((rule, i) => {
          if (portAllProtocols(rule)) edits.push({ stack, target: id, what: `${key}[${i}]: FromPort/ToPort -1 added` });
        });
      }
    }
    if (
      (r.Type === 'AWS::EC2::SecurityGroupIngress' || r.Type === 'AWS::EC2::SecurityGroupEgress') &&
      portAllProtocols(props)
    ) {
      edits.push({ stack, target: id, what: 'FromPort/ToPort -1 added' });
    }
    if (r.Type === 'AWS::IAM::Role' && Array.isArray(props.Policies)) {
      props.Policies.forEach((policy, i) => {
        if (isObject(policy) && isObject(policy.PolicyDocument)) {
          policy.PolicyDocument = { 'Fn::ToJsonString': policy.PolicyDocument };
          edits.push({ stack, target: id, what: `Policies[${i}].PolicyDocument passed as JSON text` });
        }
      });
    }
    if (r.Type === 'AWS::KMS::Key' && Array.isArray(props.Tags)) {
      props.Tags = props.Tags.map((tag) =>
        isObject(tag) && 'Key' in tag ? { TagKey: tag.Key, TagValue: tag.Value ?? '' } : tag,
      );
      edits.push({ stack, target: id, what: 'Tags written as TagKey/TagValue' });
    }
  }

  // CDK's bootstrap version check: the emulator reports the parameter's resolved value as its value,
  // so the CDK CLI would see a changed parameter and update every stack on every redeploy; it does
  // not evaluate Rules either. The CDK CLI checks the bootstrap version itself before deploying.
  if (t.Parameters?.BootstrapVersion) {
    delete t.Parameters.BootstrapVersion;
    if (Object.keys(t.Parameters).length === 0) delete t.Parameters;
    const rules = t.Rules as Record<string, unknown> | undefined;
    if (rules?.CheckBootstrapVersion) {
      delete rules.CheckBootstrapVersion;
      if (Object.keys(rules).length === 0) delete t.Rules;
    }
    edits.push({ stack, target: 'BootstrapVersion', what: 'bootstrap version parameter and rule removed' });
  }

  const efs = new Set(
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::EFS::FileSystem')
      .map(([id]) => id),
  );
  const replaceEfsArn = (where: string) => (n: JsonObject) => {
    const att = n['Fn::GetAtt'];
    if (Array.isArray(att) && typeof att[0] === 'string' && efs.has(att[0]) && att[1] === 'Arn') {
      edits.push({ stack, target: where, what: `Fn::GetAtt ${att[0]}.Arn built from Ref` });
      return efsArn(att[0]);
    }
    return undefined;
  };
  if (efs.size > 0) {
    for (const [id, r] of Object.entries(resources)) {
      resources[id] = mapJson(r as JsonObject, replaceEfsArn(id)) as typeof r;
    }
  }

  for (const [key, out] of Object.entries(t.Outputs ?? {})) {
    const hits = [...referencedIds(out.Value)].filter((x) => gone.has(x));
    if (hits.length > 0) {
      out.Value = `not created by the local emulator (${hits.join(', ')})`;
      edits.push({ stack, target: key, what: `output value replaced: it references ${hits.join(', ')}` });
    } else if (efs.size > 0) {
      out.Value = mapJson(out.Value, replaceEfsArn(key));
    }
  }
  return { dropped, edits };
}

interface AssemblyManifest {
  artifacts?: Record<
    string,
    {
      type: string;
      properties?: { templateFile?: string; stackTemplateAssetObjectUrl?: string; file?: string };
      dependencies?: string[];
      displayName?: string;
    }
  >;
  [k: string]: unknown;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Copies the cloud assembly `from` to `to` (replacing `to`) and rewrites every stack template in
 * the copy for the emulator. Returns what was dropped and edited.
 */
export function rewriteAssembly(
  from: string,
  to: string,
  emulated: ReadonlySet<string> = EMULATED_TYPES,
): RewriteReport {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
  const manifestPath = path.join(to, 'manifest.json');
  let manifestText = fs.readFileSync(manifestPath, 'utf8');
  const manifest = JSON.parse(manifestText) as AssemblyManifest;
  const stacks: string[] = [];
  const dropped: DroppedResource[] = [];
  const edits: RewriteEdit[] = [];
  const parameterDefaults: Record<string, Record<string, string>> = {};

  for (const [name, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const templateFile = artifact.properties?.templateFile;
    if (artifact.type !== 'aws:cloudformation:stack' || !templateFile) continue;
    stacks.push(name);
    const file = path.join(to, templateFile);
    const before = fs.readFileSync(file, 'utf8');
    const template = JSON.parse(before) as Template;
    const result = rewriteTemplate(name, template, emulated);
    dropped.push(...result.dropped);
    edits.push(...result.edits);
    const defaults: Record<string, string> = {};
    for (const [p, spec] of Object.entries(template.Parameters ?? {})) {
      if (spec.Default !== undefined && spec.Default !== null) defaults[p] = String(spec.Default);
    }
    parameterDefaults[name] = defaults;
    const after = JSON.stringify(template, null, 1);
    fs.writeFileSync(file, after);

    // The template is published as a file asset keyed by the hash of its text: re-key it.
    const oldHash = sha256(before);
    const newHash = sha256(after);
    if (oldHash !== newHash) {
      manifestText = manifestText.split(oldHash).join(newHash);
      for (const a of Object.values(manifest.artifacts ?? {})) {
        const assetsFile = a.type === 'cdk:asset-manifest' ? a.properties?.file : undefined;
        if (!assetsFile) continue;
        const p = path.join(to, assetsFile);
        const text = fs.readFileSync(p, 'utf8');
        if (text.includes(oldHash)) fs.writeFileSync(p, text.split(oldHash).join(newHash));
      }
    }
  }
  fs.writeFileSync(manifestPath, manifestText);
  return { dir: to, stacks, dropped, edits, parameterDefaults };
}
