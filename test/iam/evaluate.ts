/** Runs requests against a deployment's policies with an offline IAM evaluator. */
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate';
import type { DeploymentModel, PolicyDoc, RoleModel } from './model';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Request {
  /** A role of the deployment (by logical id prefix), `anonymous`, or `service:<name>` (an AWS service principal). */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** Request context; merged over the principal's defaults (`undefined` removes a default). */
  readonly context?: Record<string, string | string[] | undefined>;
}

/** The role whose logical id starts with `prefix` (one per stack set). */
export function role(m: DeploymentModel, prefix: string): RoleModel {
  const r = m.roles.filter((x) => x.logicalId.startsWith(prefix));
  if (r.length !== 1) throw new Error(`role ${prefix}: ${r.length} matches`);
  return r[0];
}

/** The resource policy that governs `resource` (S3 objects: their bucket's). */
export function resourcePolicyFor(m: DeploymentModel, resource: string): PolicyDoc | undefined {
  if (m.resourcePolicies.has(resource)) return m.resourcePolicies.get(resource);
  const bucket = /^(arn:aws:s3:::[^/]+)\//.exec(resource);
  return bucket ? m.resourcePolicies.get(bucket[1]) : undefined;
}

export interface Environment {
  readonly vpcId: string;
  readonly natIp: string;
  readonly instanceArn: string;
  readonly privateIp: string;
}

/** Context every call from a deployment's instance carries (credentials issued to that instance). */
export function instanceContext(m: DeploymentModel, env: Environment, r: RoleModel): Record<string, string> {
  return {
    'aws:SecureTransport': 'true',
    'aws:ViaAWSService': 'false',
    'aws:PrincipalArn': r.arn,
    'aws:PrincipalAccount': m.account,
    'aws:SourceIp': env.natIp,
    'ec2:SourceInstanceARN': env.instanceArn,
    'aws:ec2InstanceSourceVPC': env.vpcId,
    'aws:ec2InstanceSourcePrivateIPv4': env.privateIp,
  };
}

export async function decide(
  m: DeploymentModel,
  env: Environment,
  req: Request,
  overrides: { roles?: RoleModel[]; resourcePolicies?: Map<string, PolicyDoc> } = {},
): Promise<Decision> {
  const roles = overrides.roles ?? m.roles;
  const policies = overrides.resourcePolicies ?? m.resourcePolicies;
  const resourcePolicy = resourcePolicyFor({ ...m, resourcePolicies: policies }, req.resource);
  let principal: string | typeof anonymousPrincipal;
  let identityPolicies: { name: string; policy: PolicyDoc }[] = [];
  let base: Record<string, string> = { 'aws:SecureTransport': 'true' };
  if (req.principal === 'anonymous') {
    principal = anonymousPrincipal;
  } else if (req.principal.startsWith('service:')) {
    principal = `${req.principal.slice('service:'.length)}.amazonaws.com`;
  } else {
    const byId = roles.filter((x) => x.logicalId.startsWith(req.principal));
    if (byId.length !== 1) throw new Error(`principal ${req.principal}: ${byId.length} roles`);
    const r = byId[0];
    principal = `arn:aws:sts::${m.account}:assumed-role/${r.name}/i-0abc`;
    identityPolicies = r.policies.map((p) => ({ name: p.name, policy: p.policy }));
    base = instanceContext(m, env, r);
  }
  const context: Record<string, string | string[]> = { ...base };
  for (const [k, v] of Object.entries(req.context ?? {})) {
    if (v === undefined) delete context[k];
    else context[k] = v;
  }
  const result = await runSimulation(
    {
      request: {
        principal,
        action: req.action,
        resource: { resource: req.resource, accountId: m.account },
        contextVariables: context,
      },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(`${req.action} on ${req.resource}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
}
