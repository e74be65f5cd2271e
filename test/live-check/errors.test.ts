/**
 * Checks that cannot run become warnings naming the call, never a crash: access denied,
 * throttling after the SDK's retries, timeouts; no credentials ends the run with one line.
 * SDK calls are mocked (aws-sdk-client-mock), except the retry test, which serves real
 * throttling answers from a local HTTP endpoint so the SDK's own retries run.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeRegionsCommand,
  DescribeSubnetsCommand,
  type InstanceTypeInfo,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { formatFinding } from '../../lib/config/findings';
import { resolveConfig, type XspotConfig } from '../../lib/config/resolve';
import { ConfigSchema } from '../../lib/config/schema';
import {
  createLiveClients,
  destroyLiveClients,
  formatLiveSummary,
  LiveCheckAborted,
  type LiveClients,
  NOT_RUN_ID,
  runLiveChecks,
  summarizeLiveChecks,
} from '../../lib/ops/live-check';
import { newestImage } from '../../lib/ops/parent-image-rule';

const config = (input: Record<string, unknown> = {}): XspotConfig => resolveConfig(ConfigSchema.parse(input));
/** Schema defaults sized to the docker disk the mocks report (m5d.xlarge, 150 GB / 50G = 3 containers). */
const fitted = (input: Record<string, unknown> = {}): XspotConfig =>
  config({ controllers: { maxContainers: 3 }, ...input });

function sdkError(name: string, message: string, status = 400) {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

const TYPE = (name: string, extra: Partial<InstanceTypeInfo> = {}): InstanceTypeInfo => ({
  InstanceType: name as InstanceTypeInfo['InstanceType'],
  Hypervisor: 'nitro',
  ProcessorInfo: { SupportedArchitectures: ['x86_64'], Manufacturer: 'Intel' },
  SupportedUsageClasses: ['on-demand', 'spot'],
  ...extra,
});

let clients: LiveClients;
let ec2: ReturnType<typeof mockClient>;
let ec2Home: ReturnType<typeof mockClient>;
let sts: ReturnType<typeof mockClient>;

beforeEach(() => {
  clients = createLiveClients({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    maxAttempts: 1,
  });
  ec2 = mockClient(clients.ec2);
  ec2Home = mockClient(clients.ec2Home);
  sts = mockClient(clients.sts);
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/ops' });
  ec2
    .on(DescribeRegionsCommand)
    .resolves({ Regions: [{ RegionName: 'us-east-1', OptInStatus: 'opt-in-not-required' }] });
  ec2.on(DescribeAvailabilityZonesCommand).resolves({
    AvailabilityZones: [{ ZoneName: 'us-east-1b' }, { ZoneName: 'us-east-1a' }, { ZoneName: 'us-east-1c' }],
  });
  ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [] });
  ec2.on(DescribeInstanceTypesCommand).resolves({
    InstanceTypes: [
      TYPE('m5d.xlarge', { InstanceStorageInfo: { TotalSizeInGB: 150 } }),
      TYPE('c5.xlarge'),
      TYPE('m5.xlarge'),
      ...['r5', 'r5n', 'r5b', 'r5d'].map((f) => TYPE(`${f}.large`)),
    ],
  });
  ec2
    .on(DescribeInstanceTypeOfferingsCommand)
    .callsFake((input: { Filters?: { Name?: string; Values?: string[] }[] }) => {
      const types = input.Filters?.find((f) => f.Name === 'instance-type')?.Values ?? [];
      const azs = input.Filters?.find((f) => f.Name === 'location')?.Values ?? [];
      return { InstanceTypeOfferings: types.flatMap((t) => azs.map((az) => ({ InstanceType: t, Location: az }))) };
    });
  ec2.on(DescribeImagesCommand).resolves({
    Images: [
      {
        ImageId: 'ami-0c0c0c0c0c0c0c0c0',
        Name: 'CentOS Linux 7 x86_64 - 2211',
        Architecture: 'x86_64',
        State: 'available',
      },
    ],
  });
});

afterEach(() => {
  ec2.restore();
  ec2Home.restore();
  sts.restore();
  destroyLiveClients(clients);
});

describe('with every call answered', () => {
  test('the schema defaults warn only of docker disk over-commit, with the live disk size', async () => {
    const report = await runLiveChecks(config(), clients);
    expect(report.findings.map((f) => `${f.severity} ${f.id} ${f.path}`)).toEqual([
      'warning docker-disk-overcommit controllers.maxContainers',
    ]);
    expect(report.findings[0].message).toContain(
      '26.7x the instance store of m5d.xlarge (DescribeInstanceTypes) (150 GB)',
    );
  });

  test('a config within its docker disk passes, and families are looked up with wildcards', async () => {
    const report = await runLiveChecks(fitted(), clients);
    expect(report.findings.map(formatFinding)).toEqual([]);
    const filters = ec2.commandCalls(DescribeInstanceTypesCommand).flatMap((c) => c.args[0].input.Filters ?? []);
    expect(filters[0]?.Values).toEqual(expect.arrayContaining(['c5.xlarge', 'm5d.xlarge', 'r5.*', 'r5n.*']));
    // the new VPC's AZs: the first maxAzs (2) in name order
    const offering = ec2.commandCalls(DescribeInstanceTypeOfferingsCommand)[0].args[0].input;
    expect(offering.Filters?.find((f) => f.Name === 'location')?.Values).toEqual(['us-east-1a', 'us-east-1b']);
  });

  test('a controller type with no instance storage is an error when docker expects it', async () => {
    ec2.on(DescribeInstanceTypesCommand).resolves({ InstanceTypes: [TYPE('m5d.xlarge')] });
    const report = await runLiveChecks(config(), clients);
    const f = report.findings.find((x) => x.id === 'controller-no-instance-store');
    expect(f).toMatchObject({ severity: 'error', path: 'controllers.instanceType', value: 'm5d.xlarge' });
  });

  test('the vendor comes from ProcessorInfo.Manufacturer when AWS gives it', async () => {
    ec2.on(DescribeInstanceTypesCommand).resolves({
      InstanceTypes: [
        TYPE('m5d.xlarge', { InstanceStorageInfo: { TotalSizeInGB: 150 } }),
        TYPE('c5.xlarge'),
        TYPE('m5.xlarge'),
        TYPE('r5.large'),
        // a family whose name reads Intel but whose processor is AMD
        TYPE('r5n.large', { ProcessorInfo: { SupportedArchitectures: ['x86_64'], Manufacturer: 'AMD' } }),
      ],
    });
    const report = await runLiveChecks(
      config({ workers: { onDemandTypes: ['r5'], spotFleetTypes: ['r5n'] } }),
      clients,
    );
    const f = report.findings.find((x) => x.id === 'worker-cpu-vendor-mix');
    expect(f).toMatchObject({
      severity: 'warning',
      path: 'workers.spotFleetTypes',
      value: { intel: ['r5'], amd: ['r5n'] },
    });
  });

  test('newestImage picks the latest CreationDate', () => {
    const image = newestImage([
      { ImageId: 'ami-1', CreationDate: '2022-11-01T00:00:00.000Z' },
      { ImageId: 'ami-2', CreationDate: '2024-01-15T00:00:00.000Z' },
      { ImageId: 'ami-3', CreationDate: '2023-06-30T00:00:00.000Z' },
    ]);
    expect(image?.ImageId).toBe('ami-2');
  });

  test('a live warning acknowledged in the config is marked, not counted', async () => {
    ec2.on(DescribeImagesCommand).rejects(sdkError('UnauthorizedOperation', 'You are not authorized', 403));
    const report = await runLiveChecks(
      fitted({ acknowledgedWarnings: [{ id: NOT_RUN_ID, reason: 'the deploy role cannot list images' }] }),
      clients,
    );
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0].acknowledged).toBe('the deploy role cannot list images');
    const s = summarizeLiveChecks(report);
    expect(s.warnings).toBe(0);
    expect(formatLiveSummary(s)).toMatch(/^live checks: \d+ run, \d+ passed, 0 warnings, 0 errors, 1 acknowledged$/);
  });
});

describe('checks that cannot run', () => {
  test('access denied: one warning naming the permission, the checks sharing that call are skipped', async () => {
    ec2
      .on(DescribeInstanceTypesCommand)
      .rejects(sdkError('UnauthorizedOperation', 'You are not authorized to perform this operation.\nEncoded...', 403));
    const report = await runLiveChecks(config(), clients);
    const notRun = report.findings.filter((f) => f.id === NOT_RUN_ID);
    expect(notRun).toHaveLength(1);
    expect(notRun[0].severity).toBe('warning');
    expect(notRun[0].message).toContain('access denied; the caller needs ec2:DescribeInstanceTypes');
    expect(notRun[0].allowed).toContain('ec2:DescribeInstanceTypes');
    expect(formatFinding(notRun[0])).not.toContain('\n');
    const skipped = report.outcomes.filter((o) => o.status === 'skipped').map((o) => o.name);
    expect(skipped.length).toBeGreaterThan(0);
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const s = summarizeLiveChecks(report);
    expect(s.run).toBe(report.outcomes.length - skipped.length);
    expect(s).toMatchObject({ warnings: 1, errors: 0 });
    // the parent-image check does not depend on instance types and still ran
    expect(report.outcomes.find((o) => o.name === 'parent-image')?.status).toBe('passed');
  });

  test('throttling: a warning that names the call', async () => {
    ec2.on(DescribeImagesCommand).rejects(sdkError('RequestLimitExceeded', 'Request limit exceeded.', 503));
    const report = await runLiveChecks(config(), clients);
    const f = report.findings.find((x) => x.id === NOT_RUN_ID);
    expect(f?.path).toBe('workerImage.parentImage');
    expect(f?.message).toMatch(/\(ec2:DescribeImages\).*throttling/);
  });

  test('a call that never answers: a warning when the check deadline passes', async () => {
    ec2.on(DescribeImagesCommand).callsFake(() => new Promise(() => undefined));
    const report = await runLiveChecks(config(), clients, { checkTimeoutMs: 300 });
    const f = report.findings.find((x) => x.id === NOT_RUN_ID);
    expect(f?.path).toBe('workerImage.parentImage');
    expect(f?.message).toContain('no answer within');
  });

  test('an unexpected error inside a check is a warning too', async () => {
    ec2.on(DescribeImagesCommand).callsFake(() => {
      throw new TypeError('boom');
    });
    const report = await runLiveChecks(fitted(), clients);
    expect(report.findings.map((f) => f.id)).toEqual([NOT_RUN_ID]);
    expect(report.findings[0].message).toContain('boom');
  });

  test('the region refuses (not enabled): the home region says so, an error and nothing else', async () => {
    ec2
      .on(DescribeRegionsCommand)
      .rejects(sdkError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401));
    sts
      .on(GetCallerIdentityCommand)
      .rejects(sdkError('InvalidClientTokenId', 'The security token included in the request is invalid'));
    ec2Home
      .on(DescribeRegionsCommand)
      .resolves({ Regions: [{ RegionName: 'me-south-1', OptInStatus: 'not-opted-in' }] });
    const report = await runLiveChecks(config({ deployment: { region: 'me-south-1' } }), clients);
    expect(report.findings.map((f) => `${f.severity} ${f.id} ${f.path}`)).toEqual([
      'error region-not-enabled deployment.region',
    ]);
  });

  test('DescribeRegions refused in an enabled region: a warning, the other checks still run', async () => {
    ec2.on(DescribeRegionsCommand).rejects(sdkError('UnauthorizedOperation', 'denied', 403));
    ec2Home
      .on(DescribeRegionsCommand)
      .resolves({ Regions: [{ RegionName: 'us-east-1', OptInStatus: 'opt-in-not-required' }] });
    const report = await runLiveChecks(fitted(), clients);
    expect(report.findings.map((f) => `${f.severity} ${f.id} ${f.path}`)).toEqual([
      `warning ${NOT_RUN_ID} deployment.region`,
    ]);
    expect(report.findings[0].message).toContain('ec2:DescribeRegions');
    expect(report.outcomes.length).toBeGreaterThan(5);
  });

  test.each([
    ['CredentialsProviderError', 'Could not load credentials from any providers', /no AWS credentials found/],
    ['ExpiredToken', 'The security token included in the request is expired', /invalid or expired/],
  ])('%s ends the run with one line', async (name, message, expected) => {
    sts.on(GetCallerIdentityCommand).rejects(sdkError(name, message));
    ec2.on(DescribeRegionsCommand).rejects(sdkError(name, message));
    ec2Home.on(DescribeRegionsCommand).rejects(sdkError(name, message));
    const run = runLiveChecks(config(), clients);
    await expect(run).rejects.toBeInstanceOf(LiveCheckAborted);
    await expect(run).rejects.toThrow(expected);
    await run.catch((e: Error) => expect(e.message).not.toContain('\n'));
  });
});

describe('throttling after the SDK retries (real SDK, local endpoint)', () => {
  const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
  let server: http.Server;
  let endpoint: string;
  const calls: Record<string, number> = {};

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const action = new URLSearchParams(body).get('Action') ?? '';
        calls[action] = (calls[action] ?? 0) + 1;
        res.setHeader('content-type', 'text/xml');
        if (action === 'GetCallerIdentity') {
          res.end(
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
              '<Arn>arn:aws:iam::123456789012:user/ops</Arn><UserId>AIDA</UserId><Account>123456789012</Account>' +
              '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
          );
        } else if (action === 'DescribeRegions') {
          res.end(
            `<DescribeRegionsResponse xmlns="${EC2_NS}"><requestId>1</requestId><regionInfo><item>` +
              '<regionName>us-east-1</regionName><optInStatus>opt-in-not-required</optInStatus>' +
              '</item></regionInfo></DescribeRegionsResponse>',
          );
        } else {
          res.statusCode = 503;
          res.end(
            '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>' +
              '</Error></Errors><RequestID>2</RequestID></Response>',
          );
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('every EC2 check becomes a warning after 3 attempts each; no crash, no error', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    const real = createLiveClients({ region: 'us-east-1', endpoint, maxAttempts: 3 });
    try {
      const report = await runLiveChecks(config(), real);
      expect(report.identity?.account).toBe('123456789012');
      expect(report.findings.every((f) => f.id === NOT_RUN_ID && f.severity === 'warning')).toBe(true);
      const messages = report.findings.map((f) => f.message).join('\n');
      expect(messages).toContain('(ec2:DescribeInstanceTypes)');
      expect(messages).toContain('(ec2:DescribeImages)');
      expect(messages).toMatch(/throttling requests even after retries/);
      expect(calls.DescribeInstanceTypes).toBe(3);
      expect(calls.DescribeImages).toBe(3);
    } finally {
      destroyLiveClients(real);
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  }, 30_000);
});
