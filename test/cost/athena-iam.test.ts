/**
 * The cost --athena policy (logs.athena) is least privilege, proven by IAM evaluation: its document
 * as CloudFormation creates it (test/iam/model.ts resolves the template), together with the log
 * bucket's own policy, evaluated offline for what the command needs and for what it must not do.
 */
import { type Decision, decide, type Request } from '../iam/evaluate';
import { type DeploymentModel, loadDeployment, type PolicyDoc, type RoleModel } from '../iam/model';

const ENV = { vpcId: 'vpc-0operator', natIp: '198.51.100.7', instanceArn: 'n/a', privateIp: '10.0.0.9' };

let m: DeploymentModel;
let operator: RoleModel;
let bucket: string;

beforeAll(() => {
  m = loadDeployment({ deployment: { name: 'site-a', region: 'us-west-2' }, logs: { athena: true } });
  const stack = Object.keys(m.templates).find((s) => s.endsWith('prereqs'))!;
  const resources = m.templates[stack].Resources;
  const [policyId] = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::IAM::ManagedPolicy');
  const [bucketId] = Object.keys(resources).filter(
    (id) => resources[id].Type === 'AWS::S3::Bucket' && id.startsWith('LogsBucket'),
  );
  bucket = m.ref(stack, bucketId);
  const doc = m.resolve(stack, resources[policyId].Properties?.PolicyDocument) as PolicyDoc;
  operator = {
    logicalId: 'CostOperator',
    stack: 'operator',
    name: 'cost-operator',
    arn: `arn:aws:iam::${m.account}:role/cost-operator`,
    policies: [{ name: 'CostQueryPolicy', policy: doc }],
    awsManaged: [],
  };
});

/** `{bucket}`, `{region}` and `{account}` in a resource are the deployment's. */
const fill = (resource: string) =>
  resource.replace('{bucket}', bucket).replace('{region}', m.region).replace('{account}', m.account);
const run = (req: Omit<Request, 'principal'>): Promise<Decision> =>
  decide(m, ENV, { principal: 'CostOperator', ...req, resource: fill(req.resource) }, { roles: [operator] });

describe('allowed: what cost --athena and Athena on its behalf do', () => {
  test.each([
    ['athena:StartQueryExecution', 'arn:aws:athena:{region}:{account}:workgroup/site-a-cost'],
    ['athena:GetQueryExecution', 'arn:aws:athena:{region}:{account}:workgroup/site-a-cost'],
    ['athena:GetQueryResults', 'arn:aws:athena:{region}:{account}:workgroup/site-a-cost'],
    ['athena:StopQueryExecution', 'arn:aws:athena:{region}:{account}:workgroup/site-a-cost'],
    ['glue:GetDatabase', 'arn:aws:glue:{region}:{account}:database/xspot_site_a_logs'],
    ['glue:GetTable', 'arn:aws:glue:{region}:{account}:table/xspot_site_a_logs/controller_logs'],
    ['glue:GetTable', 'arn:aws:glue:{region}:{account}:catalog'],
    ['s3:GetObject', 'arn:aws:s3:::{bucket}/site-a/2024-03-01/i-0abc/xspot.log.1'],
    ['s3:PutObject', 'arn:aws:s3:::{bucket}/athena-results/q-1.csv'],
    ['s3:GetObject', 'arn:aws:s3:::{bucket}/athena-results/q-1.csv'],
    ['s3:GetBucketLocation', 'arn:aws:s3:::{bucket}'],
  ])('%s on %s', async (action, resource) => {
    expect(await run({ action, resource })).toBe('Allowed');
  });

  test.each(['site-a/', 'site-a/2024-03-01/', 'athena-results/'])('s3:ListBucket with prefix %s', async (prefix) => {
    expect(
      await run({ action: 's3:ListBucket', resource: 'arn:aws:s3:::{bucket}', context: { 's3:prefix': prefix } }),
    ).toBe('Allowed');
  });
});

describe('denied: other workgroups, tables, prefixes and writes', () => {
  test.each([
    ['athena:StartQueryExecution', 'arn:aws:athena:{region}:{account}:workgroup/primary', 'ImplicitlyDenied'],
    ['athena:StartQueryExecution', 'arn:aws:athena:{region}:{account}:workgroup/other-cost', 'ImplicitlyDenied'],
    ['athena:UpdateWorkGroup', 'arn:aws:athena:{region}:{account}:workgroup/site-a-cost', 'ImplicitlyDenied'],
    ['glue:GetTable', 'arn:aws:glue:{region}:{account}:table/xspot_site_a_logs/other', 'ImplicitlyDenied'],
    ['glue:GetTable', 'arn:aws:glue:{region}:{account}:table/hr/salaries', 'ImplicitlyDenied'],
    ['glue:DeleteTable', 'arn:aws:glue:{region}:{account}:table/xspot_site_a_logs/controller_logs', 'ImplicitlyDenied'],
    ['glue:UpdateTable', 'arn:aws:glue:{region}:{account}:table/xspot_site_a_logs/controller_logs', 'ImplicitlyDenied'],
    ['s3:GetObject', 'arn:aws:s3:::{bucket}/site-b/2024-03-01/i-0abc/xspot.log', 'ImplicitlyDenied'],
    ['s3:GetObject', 'arn:aws:s3:::{bucket}/image-builder/build.log', 'ImplicitlyDenied'],
    ['s3:PutObject', 'arn:aws:s3:::{bucket}/site-a/2024-03-01/i-0abc/xspot.log', 'ImplicitlyDenied'],
    ['s3:DeleteObject', 'arn:aws:s3:::{bucket}/athena-results/q-1.csv', 'ImplicitlyDenied'],
    ['s3:DeleteObject', 'arn:aws:s3:::{bucket}/site-a/2024-03-01/i-0abc/xspot.log', 'ImplicitlyDenied'],
    ['s3:GetObject', 'arn:aws:s3:::another-bucket/site-a/x.log', 'ImplicitlyDenied'],
  ])('%s on %s: %s', async (action, resource, expected) => {
    expect(await run({ action, resource })).toBe(expected);
  });

  test.each(['', 'site-b/', 'athena-results-old/', 'site-ab/'])('s3:ListBucket with prefix %p', async (prefix) => {
    expect(
      await run({ action: 's3:ListBucket', resource: 'arn:aws:s3:::{bucket}', context: { 's3:prefix': prefix } }),
    ).toBe('ImplicitlyDenied');
  });

  test('reading the logs without TLS is denied by the bucket policy, whatever the identity policy says', async () => {
    const decision = await run({
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::{bucket}/site-a/2024-03-01/i-0abc/xspot.log.1',
      context: { 'aws:SecureTransport': 'false' },
    });
    expect(decision).toBe('ExplicitlyDenied');
  });
});
