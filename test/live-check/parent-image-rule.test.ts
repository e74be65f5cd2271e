/**
 * One parent-image rule, two implementations: `check-config --live` (lib/ops/parent-image-rule.ts)
 * and the deploy-time custom resource (assets/lambda/resolve-parent-image/index.py, run with the
 * local python3). A table of DescribeImages answers goes through both; they must choose the same
 * image and agree on whether it is deprecated. The live check is then run on the same answers
 * (mocked EC2) to show it asks the resolver's question and reports what the resolver will do.
 */
import { spawnSync } from 'node:child_process';
import { DescribeImagesCommand, type DescribeImagesCommandInput } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { resolveConfig } from '../../lib/config/resolve';
import { ConfigSchema } from '../../lib/config/schema';
import { assetPath } from '../../lib/constructs/worker-image-parent';
import { createLiveClients, destroyLiveClients, type LiveClients, runLiveChecks } from '../../lib/ops/live-check';
import { chooseParentImage, parentImageQuery, type RuleImage } from '../../lib/ops/parent-image-rule';

const NOW = '2026-06-01T00:00:00.000Z';
const img = (id: string, created: string, extra: Partial<RuleImage> = {}): RuleImage => ({
  ImageId: id,
  Name: `CentOS Linux 7 x86_64 ${id}`,
  CreationDate: `${created}T00:00:00.000Z`,
  State: 'available',
  ImageType: 'machine',
  Architecture: 'x86_64',
  ...extra,
});
const gone = (date: string) => ({ DeprecationTime: `${date}T00:00:00.000Z` });

interface Case {
  readonly name: string;
  readonly images: readonly RuleImage[];
  /** The image both must choose (undefined: none), and whether it is deprecated. */
  readonly chosen?: string;
  readonly deprecated?: boolean;
}

const CASES: Case[] = [
  {
    name: 'the newest current image',
    images: [img('ami-0000000000000001', '2020-01-01'), img('ami-0000000000000002', '2021-01-01')],
    chosen: 'ami-0000000000000002',
  },
  {
    name: 'a current image beats a newer deprecated one',
    images: [img('ami-0000000000000001', '2020-01-01'), img('ami-0000000000000002', '2022-01-01', gone('2024-01-01'))],
    chosen: 'ami-0000000000000001',
  },
  {
    name: 'every match deprecated (CentOS 7 today): the newest deprecated one',
    images: [
      img('ami-0000000000000001', '2020-01-01', gone('2023-01-01')),
      img('ami-0000000000000002', '2022-01-01', gone('2024-07-01')),
    ],
    chosen: 'ami-0000000000000002',
    deprecated: true,
  },
  {
    name: 'a DeprecationTime in the future is not deprecated yet',
    images: [img('ami-0000000000000001', '2020-01-01'), img('ami-0000000000000002', '2022-01-01', gone('2027-01-01'))],
    chosen: 'ami-0000000000000002',
  },
  {
    name: 'deprecated at exactly now counts as deprecated',
    images: [img('ami-0000000000000001', '2020-01-01'), img('ami-0000000000000002', '2022-01-01', gone('2026-06-01'))],
    chosen: 'ami-0000000000000001',
  },
  {
    name: 'a newer arm64 image is not a candidate',
    images: [
      img('ami-0000000000000001', '2020-01-01'),
      img('ami-0000000000000002', '2024-01-01', { Architecture: 'arm64' }),
    ],
    chosen: 'ami-0000000000000001',
  },
  {
    name: 'only arm64 matches: nothing',
    images: [img('ami-0000000000000002', '2024-01-01', { Architecture: 'arm64' })],
  },
  {
    name: 'pending and failed images are not candidates',
    images: [
      img('ami-0000000000000001', '2020-01-01'),
      img('ami-0000000000000002', '2024-01-01', { State: 'pending' }),
      img('ami-0000000000000003', '2024-02-01', { State: 'failed' }),
    ],
    chosen: 'ami-0000000000000001',
  },
  {
    name: 'kernel and ramdisk images are not candidates',
    images: [
      img('ami-0000000000000001', '2020-01-01'),
      img('ami-0000000000000002', '2024-01-01', { ImageType: 'kernel' }),
    ],
    chosen: 'ami-0000000000000001',
  },
  {
    name: 'a tie on CreationDate goes to the larger ImageId',
    images: [img('ami-0000000000000009', '2024-01-01'), img('ami-000000000000000a', '2024-01-01')],
    chosen: 'ami-000000000000000a',
  },
  {
    name: 'a deprecated current-architecture image beats a current arm64 one',
    images: [
      img('ami-0000000000000001', '2020-01-01', gone('2024-01-01')),
      img('ami-0000000000000002', '2024-01-01', { Architecture: 'arm64' }),
    ],
    chosen: 'ami-0000000000000001',
    deprecated: true,
  },
  { name: 'no match at all', images: [] },
];

const python = spawnSync('python3', ['--version']).status === 0;

/** `choose` of the deploy-time resolver, applied to every case in one python3 run. */
function pythonChoices(): { chosen: string | null; deprecated: boolean }[] {
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(assetPath('lambda/resolve-parent-image'))})
import index
cases = json.loads(sys.stdin.read())
out = []
for c in cases:
    image, deprecated = index.choose(c, "x86_64", ${JSON.stringify(NOW)})
    out.append({"chosen": image["ImageId"] if image else None, "deprecated": deprecated})
print(json.dumps(out))
`;
  const r = spawnSync('python3', ['-c', script], {
    input: JSON.stringify(CASES.map((c) => c.images)),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe('the live check and the deploy-time resolver choose the same parent image', () => {
  const fromPython = python ? pythonChoices() : [];

  test.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const expected = { chosen: c.chosen ?? null, deprecated: c.deprecated ?? false };
    const ts = chooseParentImage(c.images, 'x86_64', new Date(NOW));
    expect({ chosen: ts.image?.ImageId ?? null, deprecated: ts.deprecated }).toEqual(expected);
    expect(python).toBe(true);
    expect(fromPython[i]).toEqual(expected);
  });
});

describe('check-config --live on the same answers', () => {
  let clients: LiveClients;
  let ec2: ReturnType<typeof mockClient>;
  const asked: DescribeImagesCommandInput[] = [];
  const parentImage = { name: 'CentOS Linux 7 x86_64*', owners: ['125523088429'] };
  const config = resolveConfig(ConfigSchema.parse({ controllers: { maxContainers: 3 }, workerImage: { parentImage } }));

  beforeEach(() => {
    clients = createLiveClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    ec2 = mockClient(clients.ec2);
    mockClient(clients.sts).on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    asked.length = 0;
  });
  afterEach(() => destroyLiveClients(clients));

  async function parentFindings(images: readonly RuleImage[]) {
    ec2.on(DescribeImagesCommand).callsFake((input: DescribeImagesCommandInput) => {
      if (input.Owners) asked.push(input);
      return { Images: images };
    });
    const report = await runLiveChecks(config, clients);
    return report.findings.filter((f) => f.path.startsWith('workerImage.parentImage'));
  }

  test("asks the resolver's question", async () => {
    await parentFindings(CASES[0].images);
    expect(asked).toEqual([{ Owners: parentImage.owners, ...parentImageQuery(parentImage.name) }]);
  });

  test('every match deprecated: a warning naming the image the deploy will use', async () => {
    const c = CASES.find((x) => x.deprecated && x.chosen === 'ami-0000000000000002')!;
    const found = await parentFindings(c.images);
    expect(found.map((f) => [f.severity, f.id])).toEqual([['warning', 'parent-image-deprecated']]);
    expect(found[0].message).toContain(`the deploy uses the newest deprecated one, ${c.chosen}`);
  });

  test('a current match: no finding', async () => {
    expect(await parentFindings(CASES[1].images)).toEqual([]);
  });

  test('only arm64 matches: an error that says so', async () => {
    const found = await parentFindings(CASES.find((x) => x.name.startsWith('only arm64'))!.images);
    expect(found.map((f) => [f.severity, f.id])).toEqual([['error', 'arch-not-x86-64']]);
    expect(found[0].message).toMatch(/only arm64 images match/);
  });

  test('no match: parent-image-not-found', async () => {
    const found = await parentFindings([]);
    expect(found.map((f) => f.id)).toEqual(['parent-image-not-found']);
  });
});
