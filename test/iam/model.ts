/**
 * Turns the synthesized templates of a deployment into concrete IAM policies: every Ref,
 * Fn::GetAtt, Fn::Join, Fn::Sub, Fn::ImportValue, Fn::Select and Fn::If is replaced by a fake but
 * well-formed id or ARN, so an IAM evaluator can run requests against the roles' effective
 * identity policies and the resources' policies exactly as CloudFormation would create them.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildApp } from '../support/app';

type Json = unknown;
type Template = {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, Output>;
  Conditions?: Record<string, Json>;
  Parameters?: Record<string, { Default?: Json }>;
};
type Resource = { Type: string; Properties?: Record<string, Json> };
type Output = { Value: Json; Export?: { Name: Json } };

export const FAKE = { partition: 'aws', urlSuffix: 'amazonaws.com', defaultAccount: '111122223333' };

export interface PolicyDoc {
  Version?: string;
  Statement: Record<string, Json>[];
}

export interface RoleModel {
  logicalId: string;
  stack: string;
  name: string;
  arn: string;
  /** Inline policies, AWS::IAM::Policy resources attached to it and customer managed policies. */
  policies: { name: string; policy: PolicyDoc }[];
  /** AWS managed policy names (the part after `policy/`). */
  awsManaged: string[];
}

export interface DeploymentModel {
  account: string;
  region: string;
  templates: Record<string, Template>;
  roles: RoleModel[];
  /** Resource policies by the resolved ARN of their resource. */
  resourcePolicies: Map<string, PolicyDoc>;
  /** Physical id (Ref) of a resource by stack and logical id. */
  ref(stack: string, logicalId: string): string;
  /** Resolves any template value of a stack. */
  resolve(stack: string, value: Json): Json;
}

const hex = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** AWS managed policies we keep, vendored with their source (test/iam/fixtures/README.md). */
export function awsManagedPolicy(name: string): PolicyDoc | undefined {
  const file = path.join(__dirname, 'fixtures', `${name.replace(/\//g, '_')}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')).policy as PolicyDoc) : undefined;
}

export function loadDeployment(config?: string | object): DeploymentModel {
  const { app, loaded } = buildApp(config);
  const assembly = app.synth();
  const c = loaded.config;
  const account = c.deployment.account ?? FAKE.defaultAccount;
  const region = c.deployment.region;
  const templates: Record<string, Template> = {};
  for (const s of assembly.stacks) templates[s.stackName] = s.template as Template;

  const exports = new Map<string, { stack: string; value: Json }>();
  const refCache = new Map<string, string>();

  const pseudo: Record<string, string> = {
    'AWS::AccountId': account,
    'AWS::Region': region,
    'AWS::Partition': FAKE.partition,
    'AWS::URLSuffix': FAKE.urlSuffix,
    'AWS::NoValue': '',
  };

  /** A stack's ARN as CloudFormation makes it: the name and a per-creation UUID. */
  const stackId = (stack: string): string => {
    const h = hex(`stack-id/${stack}`, 32);
    const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    return `arn:aws:cloudformation:${region}:${account}:stack/${stack}/${uuid}`;
  };

  const physicalName = (stack: string, id: string, r: Resource): string => {
    const short = hex(`${stack}/${id}`, 17);
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::IAM::Role':
      case 'AWS::IAM::InstanceProfile':
        return typeof p.RoleName === 'string'
          ? p.RoleName
          : typeof p.InstanceProfileName === 'string'
            ? p.InstanceProfileName
            : `${stack}-${id}`.slice(0, 64);
      case 'AWS::EC2::VPC':
        return `vpc-${short}`;
      case 'AWS::EC2::Subnet':
        return `subnet-${short}`;
      case 'AWS::EC2::SecurityGroup':
        return `sg-${short}`;
      case 'AWS::EC2::EIP':
        return `203.0.113.${(parseInt(hex(id, 2), 16) % 250) + 1}`;
      case 'AWS::EFS::FileSystem':
        return `fs-${short}`;
      case 'AWS::S3::Bucket':
        return typeof p.BucketName === 'string' ? p.BucketName : `${stack}-${id}`.toLowerCase().slice(0, 63);
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${account}:${stack}-${id}`;
      case 'AWS::KMS::Key':
        return `${hex(id, 8)}-1111-2222-3333-${hex(id, 12)}`;
      case 'AWS::EC2::LaunchTemplate':
        return `lt-${short}`;
      default:
        return `${stack}-${id}`;
    }
  };

  const ref = (stack: string, id: string): string => {
    if (pseudo[id] !== undefined) return pseudo[id];
    if (id === 'AWS::StackName') return stack;
    if (id === 'AWS::StackId') return stackId(stack);
    const key = `${stack}/${id}`;
    const hit = refCache.get(key);
    if (hit) return hit;
    const t = templates[stack];
    const r = t.Resources[id];
    let v: string;
    if (r) v = physicalName(stack, id, r);
    else if (t.Parameters?.[id]) v = String(resolve(stack, t.Parameters[id].Default ?? `param-${id}`));
    else throw new Error(`${stack}: Ref to unknown ${id}`);
    refCache.set(key, v);
    return v;
  };

  const getAtt = (stack: string, id: string, attr: string): string => {
    const r = templates[stack].Resources[id];
    if (!r) throw new Error(`${stack}: GetAtt of unknown ${id}`);
    const name = ref(stack, id);
    const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
    switch (`${r.Type}.${attr}`) {
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${account}:role/${name}`;
      case 'AWS::IAM::InstanceProfile.Arn':
        return `arn:aws:iam::${account}:instance-profile/${name}`;
      case 'AWS::EC2::SecurityGroup.GroupId':
        return name;
      case 'AWS::EC2::EIP.PublicIp':
      case 'AWS::EC2::EIP.AllocationId':
        return name;
      case 'AWS::EFS::FileSystem.Arn':
        return arn('elasticfilesystem', `file-system/${name}`);
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${name}`;
      case 'AWS::KMS::Key.Arn':
        return arn('kms', `key/${name}`);
      case 'AWS::SNS::Topic.TopicArn':
        return name;
      case 'AWS::Logs::LogGroup.Arn':
        return arn('logs', `log-group:${name}:*`);
      case 'AWS::Events::Rule.Arn':
        return arn('events', `rule/${name}`);
      case 'AWS::EC2::VPC.CidrBlock':
        return '10.0.0.0/16';
      case 'AWS::EC2::LaunchTemplate.LatestVersionNumber':
      case 'AWS::EC2::LaunchTemplate.DefaultVersionNumber':
        return '1';
      default:
        if (attr === 'Arn') return arn(r.Type.split('::')[1].toLowerCase(), name);
        return `${name}.${attr}`;
    }
  };

  const condition = (stack: string, name: string): boolean => {
    const c0 = templates[stack].Conditions?.[name];
    if (c0 === undefined) throw new Error(`${stack}: unknown condition ${name}`);
    return evalCondition(stack, c0);
  };
  const evalCondition = (stack: string, c0: Json): boolean => {
    const o = c0 as Record<string, Json[]>;
    if ('Fn::Equals' in o) {
      const [a, b] = o['Fn::Equals'].map((x) => JSON.stringify(resolve(stack, x)));
      return a === b;
    }
    if ('Fn::Not' in o) return !evalCondition(stack, o['Fn::Not'][0]);
    if ('Fn::And' in o) return o['Fn::And'].every((x) => evalCondition(stack, x));
    if ('Fn::Or' in o) return o['Fn::Or'].some((x) => evalCondition(stack, x));
    if ('Condition' in o) return condition(stack, o.Condition as unknown as string);
    throw new Error(`${stack}: unsupported condition ${JSON.stringify(c0)}`);
  };

  const importValue = (name: string): Json => {
    const e = exports.get(name);
    if (!e) throw new Error(`Fn::ImportValue of unknown export ${name}`);
    return resolve(e.stack, e.value);
  };

  const resolve = (stack: string, v: Json): Json => {
    if (Array.isArray(v)) return v.map((x) => resolve(stack, x));
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys;
      const a = o[k] as Json[];
      switch (k) {
        case 'Ref':
          return ref(stack, o.Ref as string);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(a) ? (a as string[]) : String(a).split('.');
          return getAtt(stack, id, attr);
        }
        case 'Fn::Join':
          return (resolve(stack, a[1]) as Json[]).map(String).join(a[0] as string);
        case 'Fn::Select':
          return (resolve(stack, a[1]) as Json[])[Number(resolve(stack, a[0]))];
        case 'Fn::Split':
          return String(resolve(stack, a[1])).split(a[0] as string);
        case 'Fn::GetAZs':
          return [`${region}a`, `${region}b`, `${region}c`];
        case 'Fn::ImportValue':
          return importValue(String(resolve(stack, a)));
        case 'Fn::If':
          return resolve(stack, condition(stack, a[0] as string) ? a[1] : a[2]);
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(a)
            ? [a[0] as string, (a[1] ?? {}) as Record<string, Json>]
            : [String(a), {}];
          return text.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
            if (vars[name] !== undefined) return String(resolve(stack, vars[name]));
            if (name.includes('.')) {
              const [id, attr] = name.split('.');
              return getAtt(stack, id, attr);
            }
            return ref(stack, name);
          });
        }
      }
    }
    return Object.fromEntries(keys.map((k) => [k, resolve(stack, o[k])]));
  };

  for (const [stack, t] of Object.entries(templates)) {
    for (const out of Object.values(t.Outputs ?? {})) {
      if (out.Export) exports.set(String(resolve(stack, out.Export.Name)), { stack, value: out.Value });
    }
  }

  const roles: RoleModel[] = [];
  const resourcePolicies = new Map<string, PolicyDoc>();
  const addResourcePolicy = (arn: string, doc: PolicyDoc) => {
    const prev = resourcePolicies.get(arn);
    resourcePolicies.set(arn, prev ? { Version: '2012-10-17', Statement: [...prev.Statement, ...doc.Statement] } : doc);
  };
  for (const [stack, t] of Object.entries(templates)) {
    for (const [id, r] of Object.entries(t.Resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      const p = (r.Properties ?? {}) as Record<string, Json>;
      const name = ref(stack, id);
      const policies = (
        (resolve(stack, p.Policies ?? []) as { PolicyName: string; PolicyDocument: PolicyDoc }[]) ?? []
      ).map((x) => ({ name: x.PolicyName, policy: x.PolicyDocument }));
      const awsManaged: string[] = [];
      for (const m of (resolve(stack, p.ManagedPolicyArns ?? []) as string[]) ?? []) {
        const match = /^arn:aws:iam::aws:policy\/(.+)$/.exec(m);
        if (!match) throw new Error(`${stack}/${id}: customer managed policy ${m} is not modelled`);
        awsManaged.push(match[1]);
        const doc = awsManagedPolicy(match[1]);
        if (doc) policies.push({ name: `aws-managed/${match[1]}`, policy: doc });
      }
      roles.push({ logicalId: id, stack, name, arn: `arn:aws:iam::${account}:role/${name}`, policies, awsManaged });
    }
  }
  for (const [stack, t] of Object.entries(templates)) {
    for (const [, r] of Object.entries(t.Resources)) {
      const p = (r.Properties ?? {}) as Record<string, Json>;
      if (r.Type === 'AWS::IAM::Policy') {
        const doc = resolve(stack, p.PolicyDocument) as PolicyDoc;
        for (const roleName of (resolve(stack, p.Roles ?? []) as string[]) ?? []) {
          const role = roles.find((x) => x.name === roleName);
          if (!role) throw new Error(`${stack}: policy ${String(p.PolicyName)} attached to unknown role ${roleName}`);
          role.policies.push({ name: String(resolve(stack, p.PolicyName)), policy: doc });
        }
      } else if (r.Type === 'AWS::EFS::FileSystem' && p.FileSystemPolicy) {
        const id = Object.entries(t.Resources).find(([, x]) => x === r)?.[0] as string;
        addResourcePolicy(getAtt(stack, id, 'Arn'), resolve(stack, p.FileSystemPolicy) as PolicyDoc);
      } else if (r.Type === 'AWS::KMS::Key') {
        const id = Object.entries(t.Resources).find(([, x]) => x === r)?.[0] as string;
        addResourcePolicy(getAtt(stack, id, 'Arn'), resolve(stack, p.KeyPolicy) as PolicyDoc);
      } else if (r.Type === 'AWS::SNS::TopicPolicy') {
        for (const topic of resolve(stack, p.Topics) as string[]) {
          addResourcePolicy(topic, resolve(stack, p.PolicyDocument) as PolicyDoc);
        }
      } else if (r.Type === 'AWS::SNS::TopicInlinePolicy') {
        addResourcePolicy(String(resolve(stack, p.TopicArn)), resolve(stack, p.PolicyDocument) as PolicyDoc);
      } else if (r.Type === 'AWS::S3::BucketPolicy') {
        addResourcePolicy(
          `arn:aws:s3:::${String(resolve(stack, p.Bucket))}`,
          resolve(stack, p.PolicyDocument) as PolicyDoc,
        );
      }
    }
  }
  return { account, region, templates, roles, resourcePolicies, ref, resolve };
}
