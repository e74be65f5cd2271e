/**
 * A policy change that widens access must fail a test: each mutation widens one statement of the
 * synthesized policies (drops a condition, sets Resource to '*', removes a deny) and the case
 * table must then fail at least one case, the one named here. One mutation goes the other way:
 * a NAT deny that misses one of the deployment's NAT addresses must break the calls through it.
 */
import { type Case, cases } from './cases';
import { CONFIGS, decisions, passes } from './deployments';
import type { PolicyDoc, RoleModel } from './model';

type Statement = Record<string, unknown>;

interface Mutation {
  readonly name: string;
  /** Role logical id prefix, or `resource:<substring of the resource ARN>`. */
  readonly target: string;
  /** The statement's Sid (`''`: the statements without one). */
  readonly sid: string;
  readonly widen: (s: Statement) => Statement | undefined;
  /** A case that must fail after the mutation. */
  readonly caseName: string;
  /** Only where the statement exists (EFS: default config). */
  readonly optional?: boolean;
}

const dropCondition = (s: Statement) => {
  const { Condition: _c, ...rest } = s;
  return rest;
};
const anyResource = (s: Statement) => ({ ...s, Resource: '*' });
const remove = () => undefined;

const MUTATIONS: Mutation[] = [
  {
    name: 'instance launch without its tag/type condition',
    target: 'SecurityControllerRole',
    sid: 'LaunchTaggedWorkers',
    widen: dropCondition,
    caseName: 'launch an instance without the deployment tag',
  },
  {
    name: 'any image',
    target: 'SecurityControllerRole',
    sid: 'LaunchWorkerImage',
    widen: (s) => dropCondition(anyResource(s)),
    caseName: 'launch a public or foreign AMI',
  },
  {
    name: 'subnets of any VPC',
    target: 'SecurityControllerRole',
    sid: 'LaunchIntoDeploymentVpc',
    widen: dropCondition,
    caseName: 'launch into a subnet of another VPC',
  },
  {
    name: 'launch resources on *',
    target: 'SecurityControllerRole',
    sid: 'LaunchVolumesAndRequests',
    widen: anyResource,
    caseName: 'launch with a key pair',
  },
  {
    name: 'any launch template',
    target: 'SecurityControllerRole',
    sid: 'LaunchFromOwnTemplates',
    widen: dropCondition,
    caseName: 'launch from a launch template of another owner',
  },
  {
    name: 'retag any key',
    target: 'SecurityControllerRole',
    sid: 'RetagOwnResources',
    widen: dropCondition,
    caseName: 'retag an instance of this deployment to another deployment',
  },
  {
    name: 'tag-on-create without the deployment value check',
    target: 'SecurityControllerRole',
    sid: 'TagOnCreate',
    widen: dropCondition,
    caseName: 'CreateTags on an existing foreign resource',
  },
  {
    name: 'manage any instance',
    target: 'SecurityControllerRole',
    sid: 'ManageOwnResources',
    widen: dropCondition,
    caseName: 'terminate an instance without the deployment tag',
  },
  {
    name: 'pass any role',
    target: 'SecurityControllerRole',
    sid: 'PassWorkerRoleOnly',
    widen: anyResource,
    caseName: 'pass another role',
  },
  {
    name: 'pass the worker role to any service',
    target: 'SecurityControllerRole',
    sid: 'PassWorkerRoleOnly',
    widen: dropCondition,
    caseName: 'pass the worker role to another service',
  },
  {
    name: 'read every parameter',
    target: 'SecurityControllerRole',
    sid: 'ReadDeploymentParameters',
    widen: anyResource,
    caseName: 'read another parameter',
  },
  {
    name: 'write logs anywhere in the bucket',
    target: 'SecurityControllerRole',
    sid: 'WriteLogs',
    widen: anyResource,
    caseName: 'write outside the log prefix',
  },
  {
    name: 'Session Manager statement gains parameter reads',
    target: 'SecurityWorkerRole',
    sid: 'SessionManager',
    widen: (s) => ({ ...s, Action: [...(s.Action as string[]), 'ssm:GetParameter'] }),
    caseName: 'read another parameter',
  },
  {
    name: 'no off-instance deny through endpoints',
    target: 'SecurityControllerRole',
    sid: 'DenyOtherVpc',
    widen: remove,
    caseName: "controller credentials used through another VPC's endpoint",
  },
  {
    name: 'no private-address deny',
    target: 'SecurityWorkerRole',
    sid: 'DenyOtherPrivateAddress',
    widen: remove,
    caseName: 'worker credentials used from another address of the VPC',
  },
  {
    name: 'no NAT-address deny',
    target: 'SecurityControllerRole',
    sid: 'DenyOutsideNat',
    widen: remove,
    caseName: 'controller credentials used from outside the deployment (internet)',
  },
  {
    name: 'NAT deny misses a NAT gateway',
    target: 'SecurityControllerRole',
    sid: 'DenyOutsideNat',
    widen: (s) => ({
      ...s,
      Condition: { ...(s.Condition as object), NotIpAddress: { 'aws:SourceIp': '192.0.2.1/32' } },
    }),
    caseName: 'controller calls out through every NAT gateway of the deployment',
  },
  {
    name: 'signal any stack',
    target: 'SecurityControllerRole',
    sid: 'SignalStackCreation',
    widen: anyResource,
    caseName: 'controller signals another stack',
  },
  {
    name: 'any CloudFormation call on its own stack',
    target: 'SecurityControllerRole',
    sid: 'SignalStackCreation',
    widen: (s) => ({ ...s, Action: 'cloudformation:*' }),
    caseName: 'controller changes or deletes its own stack',
  },
  {
    name: 'flow log role writes any log group',
    target: 'NetworkFlowLogIAMRole',
    sid: '',
    widen: anyResource,
    caseName: 'flow log role writes to another log group',
  },
  {
    name: 'CloudWatch publishes without source conditions',
    target: 'resource:FleetTopic',
    sid: 'CloudWatchAlarms',
    widen: dropCondition,
    caseName: 'CloudWatch publishes to the topic for another account',
  },
  {
    name: 'EventBridge publishes without source conditions',
    target: 'resource:BuildFailures',
    sid: 'BuildFailedRule',
    widen: dropCondition,
    caseName: 'EventBridge publishes a failed build for another rule',
  },
  {
    name: 'EFS: the client statement for any principal',
    target: 'resource:file-system',
    sid: 'ClientsThroughMountTarget',
    widen: (s) => ({ ...s, Principal: { AWS: '*' } }),
    caseName: 'anonymous NFS client mounts EFS',
    optional: true,
  },
  {
    name: 'EFS: the client statement without the mount-target condition, for any principal',
    target: 'resource:file-system',
    sid: 'ClientsThroughMountTarget',
    widen: (s) => ({ ...dropCondition(s), Principal: { AWS: '*' } }),
    caseName: 'another role of the account mounts EFS',
    optional: true,
  },
  {
    name: 'EFS: no deny for plain NFS',
    target: 'resource:file-system',
    sid: 'DenyNonTls',
    widen: remove,
    caseName: 'controller mounts EFS without TLS',
    optional: true,
  },
];

function mutateDoc(doc: PolicyDoc, sid: string, widen: Mutation['widen']): { doc: PolicyDoc; hit: boolean } {
  let hit = false;
  const Statement: Statement[] = [];
  for (const s of doc.Statement) {
    if ((s.Sid ?? '') !== sid) {
      Statement.push(s);
      continue;
    }
    hit = true;
    const w = widen(s);
    if (w) Statement.push(w);
  }
  return { doc: { ...doc, Statement }, hit };
}

describe.each(CONFIGS)('a widening policy change fails the table: $label', ({ load }) => {
  const { m, f } = load();
  const table = cases(f);

  test.each(MUTATIONS.map((x) => [x.name, x] as const))('%s', async (_n, mu) => {
    let hit = false;
    let roles: RoleModel[] = m.roles;
    let resourcePolicies = m.resourcePolicies;
    if (mu.target.startsWith('resource:')) {
      const part = mu.target.slice('resource:'.length);
      resourcePolicies = new Map(
        [...m.resourcePolicies].map(([arn, doc]) => {
          if (!arn.includes(part)) return [arn, doc];
          const r = mutateDoc(doc, mu.sid, mu.widen);
          hit ||= r.hit;
          return [arn, r.doc];
        }),
      );
    } else {
      roles = m.roles.map((r) => {
        if (!r.logicalId.startsWith(mu.target)) return r;
        return {
          ...r,
          policies: r.policies.map((p) => {
            const x = mutateDoc(p.policy, mu.sid, mu.widen);
            hit ||= x.hit;
            return { ...p, policy: x.doc };
          }),
        };
      });
    }
    if (mu.optional && !hit) return;
    expect({ mutation: mu.name, statementFound: hit }).toEqual({ mutation: mu.name, statementFound: true });
    const c = table.find((x) => x.name === mu.caseName) as Case;
    expect(c).toBeDefined();
    // The case passes on the real policies and fails on the widened ones.
    expect(passes(c, await decisions(m, f, c))).toBe(true);
    expect(passes(c, await decisions(m, f, c, { roles, resourcePolicies }))).toBe(false);
  });
});
