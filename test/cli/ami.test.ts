/**
 * `xspot-cdk ami ...` as the operator runs it. Image Builder has no local emulator, so the SDK
 * clients are mocked with aws-sdk-client-mock; time is a fake clock whose sleep only advances it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetImageCommand,
  type Image,
  ImagebuilderClient,
  ListImagePipelineImagesCommand,
  ListWorkflowExecutionsCommand,
  ListWorkflowStepExecutionsCommand,
  StartImagePipelineExecutionCommand,
} from '@aws-sdk/client-imagebuilder';
import { mockClient } from 'aws-sdk-client-mock';
import { Command, CommanderError } from 'commander';
import { main } from '../../bin/cli';
import { type AmiCliDeps, registerAmiCommands } from '../../lib/cli/ami';
import { reportError } from '../../lib/errors';
import { type AmiClients, type BuildView, barBuildProgress, lineBuildProgress } from '../../lib/ops/imagebuilder';
import { TEST_KEY_URL } from '../support/configs';

const T0 = new Date('2026-03-02T12:00:00.000Z');
const PIPELINE = 'arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/lab-xspot-worker';
const BUILD = 'arn:aws:imagebuilder:eu-west-1:123456789012:image/lab-xspot-worker/1.2.3/4';
const AMI = 'ami-0123456789abcdef0';

function sdkError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

/** A site config file (with the package-signing key every real config names). */
function tmpConfig(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-ami-'));
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, `${text}xspot:\n  repositoryGpgKey: ${TEST_KEY_URL}\n`);
  return file;
}
const CONFIG = tmpConfig('deployment:\n  name: lab\n  region: eu-west-1\n');

function harness() {
  const cfg = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };
  const clients: AmiClients = {
    imagebuilder: new ImagebuilderClient(cfg),
    cfn: new CloudFormationClient(cfg),
    ec2: new EC2Client(cfg),
  };
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  const views: BuildView[] = [];
  let now = T0.getTime();
  const h = {
    clients,
    ib: mockClient(clients.imagebuilder),
    cfn: mockClient(clients.cfn),
    ec2: mockClient(clients.ec2),
    out,
    err,
    sleeps,
    views,
    calls: [] as { region: string; profile?: string }[],
    deps: {} as AmiCliDeps,
  };
  h.deps = {
    clients: (o) => {
      h.calls.push(o);
      return clients;
    },
    clock: {
      now: () => new Date(now),
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    },
    io: { out: (l) => out.push(l), err: (l) => err.push(l) },
    progress: () => ({ update: (v) => views.push(v), stop: () => {} }),
  };
  h.cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'lab-worker-image',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: T0,
        Outputs: [
          { OutputKey: 'ImagePipelineArn', OutputValue: PIPELINE },
          { OutputKey: 'AmiParameterName', OutputValue: '/xspot/lab/worker-ami' },
          { OutputKey: 'BuildLogsLocation', OutputValue: 's3://lab-logs/image-builder/lab/' },
        ],
      },
    ],
  });
  return h;
}
type Harness = ReturnType<typeof harness>;

async function run(h: Harness, argv: string[]) {
  const stderr: string[] = [];
  const program = new Command('xspot-cdk')
    .exitOverride()
    .configureOutput({ writeErr: (s) => stderr.push(s), writeOut: () => {} });
  registerAmiCommands(program, h.deps);
  let code: number;
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    code = e instanceof CommanderError ? e.exitCode : reportError(e, (l) => stderr.push(l));
  } finally {
    process.exitCode = undefined;
  }
  return { code, stderr };
}

const image = (status: string, extra: Partial<Image> = {}): { image: Image } => ({
  image: { arn: BUILD, name: 'lab-xspot-worker', version: '1.2.3/4', state: { status: status as never }, ...extra },
});
const available = image('AVAILABLE', {
  outputResources: { amis: [{ region: 'eu-west-1', image: AMI, name: 'lab-xspot-worker-x' }] },
});

describe('ami build', () => {
  test('--wait follows the build through its stages and prints the AMI id', async () => {
    const h = harness();
    h.ib.on(StartImagePipelineExecutionCommand).resolves({ imageBuildVersionArn: BUILD });
    h.ib
      .on(GetImageCommand)
      .resolvesOnce(image('PENDING'))
      .resolvesOnce(image('BUILDING'))
      .resolvesOnce(image('BUILDING'))
      .resolvesOnce(image('TESTING'))
      .resolvesOnce(image('DISTRIBUTING'))
      .resolves(available);

    const r = await run(h, ['ami', 'build', '--wait', '--config', CONFIG, '--poll-seconds', '60']);

    expect(r.code).toBe(0);
    expect(h.out).toEqual([AMI]);
    expect(h.calls).toEqual([{ region: 'eu-west-1', profile: undefined }]);
    expect(h.cfn.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'lab-worker-image' });
    expect(h.ib.commandCalls(StartImagePipelineExecutionCommand)[0].args[0].input).toEqual({
      imagePipelineArn: PIPELINE,
      clientToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(h.views.map((v) => [v.status, v.elapsedMs / 1000])).toEqual([
      ['PENDING', 0],
      ['BUILDING', 60],
      ['BUILDING', 120],
      ['TESTING', 180],
      ['DISTRIBUTING', 240],
      ['AVAILABLE', 300],
    ]);
    expect(h.sleeps).toEqual([60000, 60000, 60000, 60000, 60000]);
    expect(h.err).toContain(`started ${BUILD}`);
    expect(h.err).toContain('worker image available after 5m');
    expect(h.err.join('\n')).toMatch(new RegExp(`set workers.ami in ${CONFIG.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(h.err.join('\n')).toMatch(/npx cdk diff.*npx cdk deploy --all.*xspot-cdk fleet upgrade/);
  });

  test('without --wait: starts the build and prints its ARN', async () => {
    const h = harness();
    h.ib.on(StartImagePipelineExecutionCommand).resolves({ imageBuildVersionArn: BUILD });
    const r = await run(h, ['ami', 'build', '-c', CONFIG]);
    expect(r.code).toBe(0);
    expect(h.out).toEqual([BUILD]);
    expect(h.ib.commandCalls(GetImageCommand)).toHaveLength(0);
  });

  test("a failed build prints Image Builder's reason, the failed step and where the logs are; exit 1", async () => {
    const h = harness();
    h.ib.on(StartImagePipelineExecutionCommand).resolves({ imageBuildVersionArn: BUILD });
    h.ib
      .on(GetImageCommand)
      .resolvesOnce(image('BUILDING'))
      .resolves(
        image('FAILED', {
          state: { status: 'FAILED', reason: 'Execution failed: step InstallWorkerPackages exited 1' },
          infrastructureConfiguration: {
            logging: { s3Logs: { s3BucketName: 'lab-logs', s3KeyPrefix: 'image-builder/lab' } },
          },
        }),
      );
    h.ib.on(ListWorkflowExecutionsCommand).resolves({
      workflowExecutions: [{ workflowExecutionId: 'wf-1', type: 'BUILD', status: 'FAILED' }],
    });
    h.ib.on(ListWorkflowStepExecutionsCommand).resolves({
      steps: [
        { name: 'LaunchBuildInstance', status: 'COMPLETED' },
        { name: 'ApplyBuildComponents', status: 'FAILED', message: 'xspot-worker: InstallWorkerPackages failed' },
      ],
    });

    const r = await run(h, ['ami', 'build', '--wait', '--config', CONFIG, '--poll-seconds', '30']);

    expect(r.code).toBe(1);
    expect(h.out).toEqual([]);
    expect(h.err).toEqual(
      expect.arrayContaining([
        `worker image build FAILED after 30s: ${BUILD}`,
        '  reason: Execution failed: step InstallWorkerPackages exited 1',
        '  failed step: BUILD ApplyBuildComponents: xspot-worker: InstallWorkerPackages failed',
        '  build logs: s3://lab-logs/image-builder/lab/ (this build: lab-xspot-worker/1.2.3/4)',
        '  log group: /aws/imagebuilder/lab-xspot-worker',
      ]),
    );
  });

  test('a cancelled build is a failure too', async () => {
    const h = harness();
    h.ib.on(StartImagePipelineExecutionCommand).resolves({ imageBuildVersionArn: BUILD });
    h.ib
      .on(GetImageCommand)
      .resolves(image('CANCELLED', { state: { status: 'CANCELLED', reason: 'cancelled by user' } }));
    h.ib.on(ListWorkflowExecutionsCommand).rejects(sdkError('AccessDeniedException', 'no'));
    const r = await run(h, ['ami', 'build', '--wait', '--config', CONFIG]);
    expect(r.code).toBe(1);
    expect(h.err).toContain('  reason: cancelled by user');
    expect(h.err).toContain('  build logs: s3://lab-logs/image-builder/lab/ (this build: lab-xspot-worker/1.2.3/4)');
  });

  test('throttling while following is retried; the build is still followed to the end', async () => {
    const h = harness();
    h.ib.on(StartImagePipelineExecutionCommand).resolves({ imageBuildVersionArn: BUILD });
    h.ib
      .on(GetImageCommand)
      .resolvesOnce(image('BUILDING'))
      .rejectsOnce(sdkError('ThrottlingException', 'Rate exceeded'))
      .resolves(available);
    const r = await run(h, ['ami', 'build', '--wait', '--config', CONFIG]);
    expect(r.code).toBe(0);
    expect(h.out).toEqual([AMI]);
  });

  test('--timeout stops following, says the build goes on, exit 1', async () => {
    const h = harness();
    h.ib.on(StartImagePipelineExecutionCommand).resolves({ imageBuildVersionArn: BUILD });
    h.ib.on(GetImageCommand).resolves(image('BUILDING'));
    const r = await run(h, ['ami', 'build', '--wait', '--config', CONFIG, '--timeout', '2', '--poll-seconds', '30']);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([
      `error: stopped following after 2m; the build goes on in AWS (${BUILD}); see 'xspot-cdk ami list'`,
    ]);
  });
});

describe('AWS errors become one line each', () => {
  test('access denied names the permission', async () => {
    const h = harness();
    h.ib
      .on(StartImagePipelineExecutionCommand)
      .rejects(
        sdkError(
          'AccessDeniedException',
          'User: arn:aws:iam::123456789012:user/ops is not authorized\nto perform this',
        ),
      );
    const r = await run(h, ['ami', 'build', '--config', CONFIG]);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([
      'error: starting the worker image pipeline in eu-west-1: access denied; the caller needs imagebuilder:StartImagePipelineExecution (User: arn:aws:iam::123456789012:user/ops is not authorized)',
    ]);
  });

  test('missing credentials says how to provide them', async () => {
    const h = harness();
    h.cfn
      .on(DescribeStacksCommand)
      .rejects(sdkError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const r = await run(h, ['ami', 'list', '--config', CONFIG]);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([
      "error: reading stack lab-worker-image: no AWS credentials found (set AWS_PROFILE or pass --profile, or configure credentials with 'aws configure')",
    ]);
  });

  test("throttling after the SDK's retries", async () => {
    const h = harness();
    h.ib.on(ListImagePipelineImagesCommand).rejects(sdkError('ThrottlingException', 'Rate exceeded'));
    const r = await run(h, ['ami', 'latest', '--config', CONFIG]);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([
      'error: listing the worker images in eu-west-1: AWS is throttling requests even after retries; wait a minute and try again (Rate exceeded)',
    ]);
  });

  test('the stack not deployed yet', async () => {
    const h = harness();
    h.cfn
      .on(DescribeStacksCommand)
      .rejects(sdkError('ValidationError', 'Stack with id lab-worker-image does not exist'));
    const r = await run(h, ['ami', 'build', '--config', CONFIG]);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([
      "error: stack lab-worker-image is not deployed in eu-west-1 yet; run 'npx cdk deploy --all' (with the same config) first",
    ]);
  });

  test('a bad --region is refused before any call', async () => {
    const h = harness();
    const r = await run(h, ['ami', 'list', '--config', CONFIG, '--region', 'moon-1']);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toMatch(/^error: --region 'moon-1' is not an AWS region code/);
    expect(h.calls).toEqual([]);
  });
});

describe('ami list / ami latest', () => {
  function images(h: Harness) {
    h.ib
      .on(ListImagePipelineImagesCommand)
      .resolvesOnce({
        imageSummaryList: [
          {
            arn: `${BUILD.replace(/\/4$/, '/1')}`,
            state: { status: 'AVAILABLE' },
            dateCreated: '2026-01-10T08:00:00.000Z',
            outputResources: { amis: [{ region: 'eu-west-1', image: 'ami-0aaaaaaaaaaaaaaa1' }] },
          },
          {
            arn: `${BUILD.replace(/\/4$/, '/3')}`,
            state: { status: 'FAILED', reason: 'boom' },
            dateCreated: '2026-02-20T08:00:00.000Z',
          },
        ],
        nextToken: 'p2',
      })
      .resolvesOnce({
        imageSummaryList: [
          {
            arn: `${BUILD.replace(/\/4$/, '/2')}`,
            state: { status: 'AVAILABLE' },
            dateCreated: '2026-02-01T08:00:00.000Z',
            outputResources: { amis: [{ region: 'eu-west-1', image: 'ami-0bbbbbbbbbbbbbbb2' }] },
          },
        ],
      });
    h.ec2.on(DescribeImagesCommand).resolves({
      Images: [
        {
          ImageId: 'ami-0bbbbbbbbbbbbbbb2',
          Tags: [
            { Key: 'xspot:platform-version', Value: 'xcontainer-4.12.0-v23.08.07+abaaf51.el7' },
            { Key: 'xspot:kernel-version', Value: 'kernel-4.19.49_xcontainer-v23.08.07+abaaf51' },
            { Key: 'xspot:guest-kernel-version', Value: 'xspot-guest-kernel-4.19.49-v23.08.07-abaaf5112.el7' },
            { Key: 'xspot:rpm-version', Value: 'xspot-1.3.0.1-rc_5cb0ffb0.el7' },
          ],
        },
      ],
    });
  }

  test('list: newest first, with the X-Spot versions from the AMI tags; * marks workers.ami', async () => {
    const h = harness();
    images(h);
    const cfg = tmpConfig('deployment:\n  name: lab\n  region: eu-west-1\nworkers:\n  ami: ami-0aaaaaaaaaaaaaaa1\n');
    const r = await run(h, ['ami', 'list', '--config', cfg]);
    expect(r.code).toBe(0);
    expect(h.out[0]).toMatch(
      /^CREATED\s+STATUS\s+AMI\s+XSPOT_PLATFORM\s+XSPOT_KERNEL\s+XSPOT_GUEST_KERNEL\s+XSPOT_RPM_VERSION$/,
    );
    expect(h.out.slice(1).map((l) => l.split(/\s{2,}/))).toEqual([
      ['2026-02-20 08:00 UTC', 'FAILED', '-', '-', '-', '-', '-'],
      [
        '2026-02-01 08:00 UTC',
        'AVAILABLE',
        'ami-0bbbbbbbbbbbbbbb2',
        'xcontainer-4.12.0-v23.08.07+abaaf51.el7',
        'kernel-4.19.49_xcontainer-v23.08.07+abaaf51',
        'xspot-guest-kernel-4.19.49-v23.08.07-abaaf5112.el7',
        'xspot-1.3.0.1-rc_5cb0ffb0.el7',
      ],
      ['2026-01-10 08:00 UTC', 'AVAILABLE', 'ami-0aaaaaaaaaaaaaaa1 *', '-', '-', '-', '-'],
    ]);
    // Deleted AMIs must not fail the call: a filter, not ImageIds; deprecated ones included.
    expect(h.ec2.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({
      Filters: [{ Name: 'image-id', Values: ['ami-0aaaaaaaaaaaaaaa1', 'ami-0bbbbbbbbbbbbbbb2'] }],
      IncludeDeprecated: true,
    });
  });

  test('list --json', async () => {
    const h = harness();
    images(h);
    const r = await run(h, ['ami', 'list', '--config', CONFIG, '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(h.out.join('\n'));
    expect(rows.map((x: { amiId?: string; status: string }) => [x.status, x.amiId])).toEqual([
      ['FAILED', undefined],
      ['AVAILABLE', 'ami-0bbbbbbbbbbbbbbb2'],
      ['AVAILABLE', 'ami-0aaaaaaaaaaaaaaa1'],
    ]);
  });

  test('latest: the newest available AMI and the exact workers.ami line', async () => {
    const h = harness();
    images(h);
    const r = await run(h, ['ami', 'latest', '--config', CONFIG, '--profile', 'ops']);
    expect(r.code).toBe(0);
    expect(h.out).toEqual(['ami-0bbbbbbbbbbbbbbb2', 'workers.ami: ami-0bbbbbbbbbbbbbbb2']);
    expect(h.err[0]).toBe('built 2026-02-01 08:00 UTC with xcontainer-4.12.0-v23.08.07+abaaf51.el7');
    expect(h.calls).toEqual([{ region: 'eu-west-1', profile: 'ops' }]);
  });

  test('latest: the config already uses it', async () => {
    const h = harness();
    images(h);
    const cfg = tmpConfig('deployment:\n  name: lab\n  region: eu-west-1\nworkers:\n  ami: ami-0bbbbbbbbbbbbbbb2\n');
    const r = await run(h, ['ami', 'latest', '--config', cfg]);
    expect(r.code).toBe(0);
    expect(h.err).toContain(`${cfg} already uses ami-0bbbbbbbbbbbbbbb2 (workers.ami)`);
  });

  test('latest with no available image: exit 1 and what to run', async () => {
    const h = harness();
    h.ib.on(ListImagePipelineImagesCommand).resolves({ imageSummaryList: [] });
    const r = await run(h, ['ami', 'latest', '--config', CONFIG, '--region', 'eu-central-1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual([
      "error: no available worker image in eu-central-1 yet; run 'xspot-cdk ami build --wait'",
    ]);
    expect(h.calls).toEqual([{ region: 'eu-central-1', profile: undefined }]);
  });
});

describe('progress display', () => {
  test('plain lines: one per status change, and a heartbeat while a stage lasts', () => {
    const lines: string[] = [];
    let now = T0.getTime();
    const p = lineBuildProgress(
      (l) => lines.push(l),
      () => new Date(now),
      10,
    );
    for (const [status, min] of [
      ['PENDING', 0],
      ['BUILDING', 1],
      ['BUILDING', 5],
      ['BUILDING', 12],
      ['TESTING', 13],
    ] as const) {
      now = T0.getTime() + min * 60_000;
      p.update({ status, elapsedMs: min * 60_000 });
    }
    expect(lines).toEqual([
      '[12:00 UTC] PENDING after 0s',
      '[12:01 UTC] BUILDING after 1m',
      '[12:12 UTC] still BUILDING after 12m',
      '[12:13 UTC] TESTING after 13m',
    ]);
  });

  test('on a terminal: a bar with the stage, status and elapsed time', () => {
    const stream = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    const chunks: string[] = [];
    stream.on('data', (d) => chunks.push(String(d)));
    const p = barBuildProgress(stream);
    p.update({ status: 'BUILDING', elapsedMs: 4 * 60_000 });
    p.update({ status: 'TESTING', elapsedMs: 25 * 60_000 });
    p.stop();
    const text = chunks.join('');
    expect(text).toMatch(/3\/6 TESTING \| 25m/);
  });
});

describe('through the xspot-cdk entry point', () => {
  test('ami is registered; an AWS error is one line on stderr and exit 1; success is exit 0', async () => {
    const cfn = mockClient(CloudFormationClient);
    const ib = mockClient(ImagebuilderClient);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      cfn.on(DescribeStacksCommand).resolves({
        Stacks: [
          {
            StackName: 'lab-worker-image',
            StackStatus: 'CREATE_COMPLETE',
            CreationTime: T0,
            Outputs: [{ OutputKey: 'ImagePipelineArn', OutputValue: PIPELINE }],
          },
        ],
      });
      ib.on(StartImagePipelineExecutionCommand).rejectsOnce(sdkError('AccessDeniedException', 'not authorized'));
      process.exitCode = undefined;
      expect(await main(['ami', 'build', '--config', CONFIG])).toBe(1);
      expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual([
        'error: starting the worker image pipeline in eu-west-1: access denied; the caller needs imagebuilder:StartImagePipelineExecution (not authorized)\n',
      ]);

      ib.on(StartImagePipelineExecutionCommand).resolves({ imageBuildVersionArn: BUILD });
      process.exitCode = undefined;
      expect(await main(['ami', 'build', '--config', CONFIG])).toBe(0);
      expect(stdout.mock.calls.map((c) => String(c[0]))).toEqual([`${BUILD}\n`]);
    } finally {
      process.exitCode = undefined;
      stderr.mockRestore();
      stdout.mockRestore();
      cfn.restore();
      ib.restore();
    }
  });
});
