/**
 * The parent-image custom resource handler (assets/lambda/resolve-parent-image/index.py), run
 * with the local python3 against a stand-in EC2 client and a recording responder.
 */
import { spawnSync } from 'node:child_process';
import { assetPath } from '../../lib/constructs/worker-image-parent';
import { parentImageQuery } from '../../lib/ops/parent-image-rule';

const HANDLER_DIR = assetPath('lambda/resolve-parent-image');
const python = spawnSync('python3', ['--version']).status === 0;

/** Runs the handler with `event`; `pages` are the DescribeImages answer pages (deprecated images included). */
function run(event: Record<string, unknown>, pages: unknown[][]) {
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(HANDLER_DIR)})
import index
pages = json.loads(sys.argv[1])
calls, responses = [], []
class Ec2:
    def describe_images(self, **kw):
        calls.append(kw)
        pp = pages or [[]]
        i = int(kw.get("NextToken", "0"))
        out = {"Images": pp[i]}
        if i + 1 < len(pp):
            out["NextToken"] = str(i + 1)
        return out
def respond(event, status, physical_id, data=None, reason=None):
    responses.append({"status": status, "physicalId": physical_id, "data": data, "reason": reason})
index.handler(json.loads(sys.argv[2]), None, ec2=Ec2(), respond=respond)
print(json.dumps({"calls": calls, "responses": responses}))
`;
  const r = spawnSync('python3', ['-c', script, JSON.stringify(pages), JSON.stringify(event)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const last = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as {
    calls: Record<string, unknown>[];
    responses: { status: string; physicalId: string; data: Record<string, string> | null; reason: string | null }[];
  };
}

const create = {
  RequestType: 'Create',
  ResourceProperties: { Name: 'CentOS Linux 7 x86_64*', Owners: ['125523088429'], Architecture: 'x86_64' },
};
const img = (id: string, date: string, extra: Record<string, unknown> = {}) => ({
  ImageId: id,
  Name: `n-${id}`,
  CreationDate: date,
  ...extra,
});

(python ? describe : describe.skip)('resolve-parent-image handler', () => {
  test('picks the newest available image across pages; asks for owners and name, deprecated images included', () => {
    const out = run(create, [
      [img('ami-00000001', '2020-01-01T00:00:00.000Z'), img('ami-00000003', '2022-11-01T00:00:00.000Z')],
      [img('ami-00000002', '2021-06-01T00:00:00.000Z')],
    ]);
    expect(out.responses).toEqual([
      {
        status: 'SUCCESS',
        physicalId: 'ami-00000003',
        data: {
          ImageId: 'ami-00000003',
          ImageName: 'n-ami-00000003',
          CreationDate: '2022-11-01T00:00:00.000Z',
          Deprecated: 'false',
        },
        reason: null,
      },
    ]);
    // The same question check-config --live asks (lib/ops/parent-image-rule.ts).
    expect(out.calls[0]).toEqual({ Owners: ['125523088429'], ...parentImageQuery('CentOS Linux 7 x86_64*') });
    expect(out.calls).toHaveLength(2);
  });

  test('falls back to deprecated images only when no current one matches (end-of-life releases)', () => {
    const out = run(create, [
      [
        img('ami-0000000a', '2020-01-01T00:00:00.000Z', { DeprecationTime: '2022-01-01T00:00:00.000Z' }),
        img('ami-0000000b', '2019-01-01T00:00:00.000Z', { DeprecationTime: '2021-01-01T00:00:00.000Z' }),
      ],
    ]);
    expect(out.responses[0]).toMatchObject({
      status: 'SUCCESS',
      physicalId: 'ami-0000000a',
      data: { Deprecated: 'true' },
    });
    expect(out.calls).toHaveLength(1);
  });

  test('no match: FAILED with a reason naming the filter (CloudFormation shows it)', () => {
    const out = run(create, [[]]);
    expect(out.responses).toHaveLength(1);
    expect(out.responses[0].status).toBe('FAILED');
    expect(out.responses[0].reason).toMatch(
      /LookupError: no available x86_64 AMI named 'CentOS Linux 7 x86_64\*' owned by 125523088429/,
    );
  });

  test('delete succeeds without calling EC2 and keeps the physical id', () => {
    const out = run(
      { RequestType: 'Delete', PhysicalResourceId: 'ami-00000003', ResourceProperties: create.ResourceProperties },
      [[]],
    );
    expect(out.calls).toEqual([]);
    expect(out.responses).toEqual([{ status: 'SUCCESS', physicalId: 'ami-00000003', data: null, reason: null }]);
  });

  test('update re-resolves (a changed filter can pick another image)', () => {
    const out = run({ ...create, RequestType: 'Update', PhysicalResourceId: 'ami-00000001' }, [
      [img('ami-00000009', '2023-01-01T00:00:00.000Z')],
    ]);
    expect(out.responses[0]).toMatchObject({ status: 'SUCCESS', physicalId: 'ami-00000009' });
  });
});
