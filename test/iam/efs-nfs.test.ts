/**
 * The synthesized EFS file-system policy and the controllers' mount options, evaluated against
 * the written model of EFS's NFS client authorization (efs-nfs.ts): the controller role mounts,
 * writes and acts as root through a mount target; the worker and image-build roles, a host
 * without IAM, and another account's role are refused.
 */
import { facts } from './cases';
import {
  EFS_CLIENT_ACTIONS,
  EFS_NFS_CONTEXT_KEYS,
  type EfsClientAction,
  efsDecide,
  type NfsClient,
  nfsContext,
} from './efs-nfs';
import { role } from './evaluate';
import { type DeploymentModel, loadDeployment, type PolicyDoc } from './model';

const m: DeploymentModel = loadDeployment();
const f = facts(m, 'xspot');
const fsArn = f.fileSystemArn as string;
const policy = m.resourcePolicies.get(fsArn) as PolicyDoc;

/** The options the controllers mount with, as the synthesized deploy.env gives them. */
function controllerMountOptions(): string[] {
  const text = JSON.stringify(m.resolve('xspot-controllers', m.templates['xspot-controllers'].Resources));
  const found = /XSPOT_STORAGE_MOUNT_OPTIONS=\\*'([^'\\]*)\\*'/.exec(text);
  if (!found) throw new Error('no XSPOT_STORAGE_MOUNT_OPTIONS in the controllers stack');
  return found[1].split(',');
}
const options = controllerMountOptions();

const asRole = (prefix: string): NfsClient => {
  const r = role(m, prefix);
  return {
    session: `arn:aws:sts::${m.account}:assumed-role/${r.name}/i-0abc`,
    identityPolicies: r.policies.map((p) => p.policy),
    account: m.account,
  };
};
const everything: PolicyDoc = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const CLIENTS: Record<string, NfsClient> = {
  controller: asRole('SecurityControllerRole'),
  worker: asRole('SecurityWorkerRole'),
  'image build instance': asRole('WorkerImageInstanceRole'),
  'host without an IAM role': { identityPolicies: [], account: m.account },
  "another account's role allowed elasticfilesystem:* by its own account": {
    session: 'arn:aws:sts::999988887777:assumed-role/Admin/i-0ffe',
    identityPolicies: [{ Statement: [{ Effect: 'Allow', Action: 'elasticfilesystem:*', Resource: '*' }] }],
    account: '999988887777',
  },
};

const decideAll = (p: PolicyDoc | undefined, c: NfsClient, opts: readonly string[], actions = EFS_CLIENT_ACTIONS) =>
  Promise.all(actions.map((a: EfsClientAction) => efsDecide(fsArn, p, c, opts, a)));

describe('EFS NFS authorization model against the synthesized file-system policy', () => {
  test('the controllers mount with tls and iam (the options the policy needs)', () => {
    expect(options).toEqual(expect.arrayContaining(['tls', 'iam']));
    expect(nfsContext(options)).toEqual({
      'aws:SecureTransport': 'true',
      'elasticfilesystem:AccessedViaMountTarget': 'true',
    });
  });

  test('every condition of the file-system policy uses a key EFS provides to NFS clients', () => {
    const keys = policy.Statement.flatMap((st) =>
      Object.values((st.Condition ?? {}) as Record<string, Record<string, unknown>>).flatMap((c) => Object.keys(c)),
    );
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !(EFS_NFS_CONTEXT_KEYS as readonly string[]).includes(k))).toEqual([]);
  });

  test('controller: mount, write and root through a mount target are allowed', async () => {
    expect(await decideAll(policy, CLIENTS.controller, options)).toEqual(['Allowed', 'Allowed', 'Allowed']);
  });

  test.each([
    ['worker'],
    ['image build instance'],
    ['host without an IAM role'],
    ["another account's role allowed elasticfilesystem:* by its own account"],
  ])('%s: every client action is refused', async (who) => {
    const ds = await decideAll(policy, CLIENTS[who], options);
    expect(ds.filter((d) => d === 'Allowed')).toEqual([]);
  });

  test('controller mounting without iam is anonymous and refused', async () => {
    const ds = await decideAll(
      policy,
      CLIENTS.controller,
      options.filter((o) => o !== 'iam'),
    );
    expect(ds.filter((d) => d === 'Allowed')).toEqual([]);
  });

  test('controller mounting without tls is refused', async () => {
    const ds = await decideAll(
      policy,
      CLIENTS.controller,
      options.filter((o) => o !== 'tls'),
    );
    expect(ds).toEqual(['ExplicitlyDenied', 'ExplicitlyDenied', 'ExplicitlyDenied']);
  });

  test('by design: a principal of this account whose own policy allows the client actions mounts (either policy grants)', async () => {
    const admin: NfsClient = {
      session: `arn:aws:sts::${m.account}:assumed-role/Admin/curious`,
      identityPolicies: [everything],
      account: m.account,
    };
    // The file-system policy cannot refuse it with the keys EFS provides; the mount targets'
    // security group (controllers only) is the barrier, see docs/security.md.
    expect(await decideAll(policy, admin, options)).toEqual(['Allowed', 'Allowed', 'Allowed']);
  });

  describe('the model itself', () => {
    test('without a file-system policy any client through a mount target has full access', async () => {
      expect(await decideAll(undefined, CLIENTS['host without an IAM role'], ['_netdev'])).toEqual([
        'Allowed',
        'Allowed',
        'Allowed',
      ]);
    });

    test('a deny on a key EFS does not provide (aws:PrincipalArn) refuses every client, the named one too', async () => {
      const withPrincipalDeny: PolicyDoc = {
        ...policy,
        Statement: [
          ...policy.Statement,
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: [...EFS_CLIENT_ACTIONS],
            Resource: '*',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': f.controllerRoleArn } },
          },
        ],
      };
      expect(await decideAll(withPrincipalDeny, CLIENTS.controller, options)).toEqual([
        'ExplicitlyDenied',
        'ExplicitlyDenied',
        'ExplicitlyDenied',
      ]);
    });

    test('a file-system policy statement for any principal would admit a host without IAM', async () => {
      const open: PolicyDoc = {
        ...policy,
        Statement: [
          ...policy.Statement,
          {
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: [...EFS_CLIENT_ACTIONS],
            Resource: '*',
            Condition: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
          },
        ],
      };
      expect(await decideAll(open, CLIENTS['host without an IAM role'], options)).toContain('Allowed');
    });
  });
});
