/**
 * Least privilege on the AWS side, proven by IAM evaluation: the synthesized templates of the
 * default config and of an existing-VPC config, every role's effective policies and every
 * resource policy, evaluated offline against what X-Spot needs and what it must not do.
 */
import { cases } from './cases';
import { CONFIGS, decisions, passes } from './deployments';

describe.each(CONFIGS)('IAM evaluation: $label', ({ load }) => {
  const { m, f } = load();
  const table = cases(f);

  test('the table has at least 40 requests, each case with a reason', () => {
    expect(table.reduce((n, c) => n + c.requests.length, 0)).toBeGreaterThanOrEqual(40);
    for (const c of table) expect(c.why.length).toBeGreaterThan(10);
  });

  test.each(table.map((c) => [c.expect, c.name, c] as const))('%s: %s', async (_e, _n, c) => {
    const ds = await decisions(m, f, c);
    const detail = c.requests.map((r, i) => `${ds[i]}: ${r.principal} ${r.action} ${r.resource}`).join('\n');
    expect({ passes: passes(c, ds), detail }).toEqual({ passes: true, detail });
  });

  test("the NAT deny lists exactly the deployment's NAT addresses, on the controller and worker roles", () => {
    const want = f.natIps.map((ip) => (ip.includes('/') ? ip : `${ip}/32`)).sort();
    for (const prefix of ['SecurityControllerRole', 'SecurityWorkerRole']) {
      const r = m.roles.find((x) => x.logicalId.startsWith(prefix));
      const deny = r?.policies.flatMap((p) => p.policy.Statement).filter((s) => s.Sid === 'DenyOutsideNat') ?? [];
      expect(deny).toHaveLength(1);
      const cond = deny[0].Condition as { NotIpAddress: { 'aws:SourceIp': string | string[] } };
      expect([cond.NotIpAddress['aws:SourceIp']].flat().sort()).toEqual(want);
    }
  });

  test('AWS managed policies (not evaluated: not vendored) are only the ones docs/security.md names', () => {
    const attached = m.roles.flatMap((r) =>
      r.awsManaged.map((p) => `${r.logicalId.replace(/[0-9A-F]{8}$/, '')}: ${p}`),
    );
    expect(attached.sort()).toEqual(
      [
        'CustomVpcRestrictDefaultSGCustomResourceProviderRole: service-role/AWSLambdaBasicExecutionRole',
        'WorkerImageInstanceRole: EC2InstanceProfileForImageBuilder',
        'WorkerImageLifecycleRole: service-role/EC2ImageBuilderLifecycleExecutionPolicy',
      ].filter((x) => !x.startsWith('CustomVpc') || m.roles.some((r) => r.logicalId.startsWith('CustomVpc'))),
    );
  });

  test('no role carries AmazonSSMManagedInstanceCore (account-wide parameter reads)', () => {
    for (const r of m.roles) expect(r.awsManaged).not.toContain('AmazonSSMManagedInstanceCore');
  });
});
