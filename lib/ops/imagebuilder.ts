/**
 * The worker image pipeline as the operator CLI sees it (`xspot-cdk ami ...`): the
 * `<deployment>-worker-image` stack outputs, starting a build, following it to AVAILABLE or
 * FAILED, and listing the images with the X-Spot release each was built from. SDK only; no CDK
 * imports. Every AWS call goes through `callAws`, which turns an SDK error into one line.
 */
import { randomUUID } from 'node:crypto';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetImageCommand,
  type Image,
  ImagebuilderClient,
  type ImageSummary,
  ListImagePipelineImagesCommand,
  ListWorkflowExecutionsCommand,
  ListWorkflowStepExecutionsCommand,
  StartImagePipelineExecutionCommand,
} from '@aws-sdk/client-imagebuilder';
import { Presets, SingleBar } from 'cli-progress';
import { UserError } from '../errors';
import { type ClientOptions, type Clock, callAws, isTransient, type Output, sdkClientConfig } from './fleet';
import { clockTime, duration, table } from './fleet-format';
import { DEPLOY_HINT, readStack, readStackCall } from './stacks';

// ---------------------------------------------------------------------------------------------
// clients and context

export interface AmiClients {
  readonly imagebuilder: ImagebuilderClient;
  readonly cfn: CloudFormationClient;
  readonly ec2: EC2Client;
}

/** SDK v3 clients with adaptive retry, so throttling is absorbed before it becomes an error. */
export function createAmiClients(opts: ClientOptions): AmiClients {
  const config = sdkClientConfig(opts);
  return {
    imagebuilder: new ImagebuilderClient(config),
    cfn: new CloudFormationClient(config),
    ec2: new EC2Client(config),
  };
}

export interface AmiContext {
  /** deployment.name from the config; the stack is `<deployment>-worker-image`. */
  readonly deployment: string;
  readonly region: string;
  readonly clients: AmiClients;
  readonly clock: Clock;
  readonly io: Output;
}

// ---------------------------------------------------------------------------------------------
// the worker image stack

/** Output keys of the worker image stack (docs/stack-contract.md). */
export const WORKER_IMAGE_OUTPUT = {
  pipelineArn: 'ImagePipelineArn',
  amiParameterName: 'AmiParameterName',
  buildLogsLocation: 'BuildLogsLocation',
} as const;

export function workerImageStackName(deployment: string): string {
  return `${deployment}-worker-image`;
}

export interface WorkerImageStack {
  readonly stackName: string;
  readonly pipelineArn: string;
  readonly amiParameterName?: string;
  /** `s3://bucket/prefix/` */
  readonly buildLogsLocation?: string;
}

/** Reads the stack outputs; a missing or broken stack becomes one line saying what to run. */
export async function resolveWorkerImageStack(ctx: AmiContext): Promise<WorkerImageStack> {
  const stackName = workerImageStackName(ctx.deployment);
  const { status, outputs } = await callAws(readStackCall(ctx, stackName), () => readStack(ctx, stackName));
  const pipelineArn = outputs.get(WORKER_IMAGE_OUTPUT.pipelineArn);
  if (!pipelineArn) {
    throw new UserError(
      status.endsWith('IN_PROGRESS')
        ? `stack ${stackName} in ${ctx.region} is ${status}; wait for the deploy to finish`
        : `stack ${stackName} in ${ctx.region} (${status}) has no output ${WORKER_IMAGE_OUTPUT.pipelineArn}; ${DEPLOY_HINT}`,
    );
  }
  return {
    stackName,
    pipelineArn,
    amiParameterName: outputs.get(WORKER_IMAGE_OUTPUT.amiParameterName) || undefined,
    buildLogsLocation: outputs.get(WORKER_IMAGE_OUTPUT.buildLogsLocation) || undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// builds

/** Image Builder statuses in the order a build passes them. */
export const BUILD_STAGES = [
  'PENDING',
  'CREATING',
  'BUILDING',
  'TESTING',
  'DISTRIBUTING',
  'INTEGRATING',
  'AVAILABLE',
] as const;
/** Statuses after which nothing changes any more. */
export const FINAL_STATUSES = new Set(['AVAILABLE', 'FAILED', 'CANCELLED', 'DEPRECATED', 'DISABLED', 'DELETED']);

/** Starts the pipeline; returns the ARN of the image build version it creates. */
export async function startBuild(ctx: AmiContext, stack: WorkerImageStack): Promise<string> {
  const res = await callAws(
    {
      action: 'starting the worker image pipeline',
      permission: 'imagebuilder:StartImagePipelineExecution',
      region: ctx.region,
    },
    () =>
      ctx.clients.imagebuilder.send(
        new StartImagePipelineExecutionCommand({ imagePipelineArn: stack.pipelineArn, clientToken: randomUUID() }),
      ),
  );
  if (!res.imageBuildVersionArn)
    throw new UserError(`Image Builder started ${stack.pipelineArn} but returned no image ARN`);
  return res.imageBuildVersionArn;
}

export async function getImage(ctx: AmiContext, imageArn: string): Promise<Image> {
  const res = await callAws(
    { action: `reading image ${imageArn}`, permission: 'imagebuilder:GetImage', region: ctx.region },
    () => ctx.clients.imagebuilder.send(new GetImageCommand({ imageBuildVersionArn: imageArn })),
  );
  if (!res.image) throw new UserError(`Image Builder has no image ${imageArn}`);
  return res.image;
}

/** What the progress display shows on every poll. */
export interface BuildView {
  readonly status: string;
  readonly elapsedMs: number;
  readonly reason?: string;
}

export interface BuildProgress {
  update(view: BuildView): void;
  stop(): void;
}

export interface WaitOptions {
  readonly pollSeconds: number;
  /** Give up following after this long (the build goes on). */
  readonly timeoutSeconds: number;
  readonly progress: BuildProgress;
}

/** Transient errors tolerated in a row while following a build. */
const MAX_TRANSIENT = 5;

/** Polls the image until it reaches a final status; returns it. */
export async function waitForImage(ctx: AmiContext, imageArn: string, opts: WaitOptions): Promise<Image> {
  const start = ctx.clock.now().getTime();
  let transient = 0;
  for (;;) {
    let image: Image | undefined;
    try {
      image = await getImage(ctx, imageArn);
      transient = 0;
    } catch (err) {
      if (!isTransient(err) || ++transient > MAX_TRANSIENT) throw err;
    }
    const elapsedMs = ctx.clock.now().getTime() - start;
    if (image) {
      const status = image.state?.status ?? 'UNKNOWN';
      opts.progress.update({ status, elapsedMs, reason: image.state?.reason });
      if (FINAL_STATUSES.has(status)) return image;
    }
    if (elapsedMs >= opts.timeoutSeconds * 1000) {
      throw new UserError(
        `stopped following after ${duration(elapsedMs)}; the build goes on in AWS (${imageArn}); see 'xspot-cdk ami list'`,
      );
    }
    await ctx.clock.sleep(opts.pollSeconds * 1000);
  }
}

/** The AMI an image distributed to `region`. */
export function amiIdOf(image: Pick<Image, 'outputResources'>, region: string): string | undefined {
  const amis = image.outputResources?.amis ?? [];
  return (amis.find((a) => a.region === region) ?? amis[0])?.image;
}

/**
 * Why a build failed and where to look: Image Builder's reason, the failed workflow step (best
 * effort), the S3 build logs and the CloudWatch log group.
 */
export async function failureDetails(ctx: AmiContext, image: Image, stack: WorkerImageStack): Promise<string[]> {
  const lines = [`reason: ${image.state?.reason ?? 'Image Builder gave no reason'}`];
  try {
    const executions = await ctx.clients.imagebuilder.send(
      new ListWorkflowExecutionsCommand({ imageBuildVersionArn: image.arn }),
    );
    for (const wf of executions.workflowExecutions ?? []) {
      if (wf.status !== 'FAILED' || !wf.workflowExecutionId) continue;
      const steps = await ctx.clients.imagebuilder.send(
        new ListWorkflowStepExecutionsCommand({ workflowExecutionId: wf.workflowExecutionId }),
      );
      for (const s of steps.steps ?? []) {
        if (s.status === 'FAILED')
          lines.push(
            `failed step: ${wf.type ?? 'workflow'} ${s.name ?? s.stepExecutionId}: ${s.message ?? ''}`.trimEnd(),
          );
      }
    }
  } catch {
    // The reason above is what matters; step details are a bonus.
  }
  const s3 = image.infrastructureConfiguration?.logging?.s3Logs;
  const logs = s3?.s3BucketName
    ? `s3://${s3.s3BucketName}/${s3.s3KeyPrefix ? `${s3.s3KeyPrefix}/` : ''}`
    : stack.buildLogsLocation;
  if (logs) lines.push(`build logs: ${logs} (this build: ${buildPath(image.arn)})`);
  lines.push(`log group: ${image.loggingConfiguration?.logGroupName ?? `/aws/imagebuilder/${image.name ?? ''}`}`);
  return lines;
}

/** `name/version/build` of an image build version ARN. */
function buildPath(arn: string | undefined): string {
  return arn?.split(':image/')[1] ?? arn ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------
// listing

/** One image of the pipeline, with the X-Spot release read from its AMI's tags. */
export interface WorkerImageRow {
  readonly arn: string;
  readonly status: string;
  readonly created?: string;
  readonly amiId?: string;
  readonly reason?: string;
  readonly platform?: string;
  readonly kernel?: string;
  readonly guestKernel?: string;
  readonly rpm?: string;
}

/** AMI tag keys written by the pipeline's distribution (lib/constructs/worker-image.ts). */
export const RELEASE_TAGS = {
  platform: 'xspot:platform-version',
  kernel: 'xspot:kernel-version',
  guestKernel: 'xspot:guest-kernel-version',
  rpm: 'xspot:rpm-version',
} as const;

/** Every image the pipeline built, newest first. */
export async function listWorkerImages(ctx: AmiContext, stack: WorkerImageStack): Promise<WorkerImageRow[]> {
  const summaries: ImageSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await callAws(
      { action: 'listing the worker images', permission: 'imagebuilder:ListImagePipelineImages', region: ctx.region },
      () =>
        ctx.clients.imagebuilder.send(
          new ListImagePipelineImagesCommand({ imagePipelineArn: stack.pipelineArn, nextToken }),
        ),
    );
    summaries.push(...(page.imageSummaryList ?? []));
    nextToken = page.nextToken;
  } while (nextToken);

  const rows = summaries.map((s) => ({
    arn: s.arn ?? '',
    status: s.state?.status ?? 'UNKNOWN',
    created: s.dateCreated,
    amiId: amiIdOf(s, ctx.region),
    reason: s.state?.reason,
  }));
  const tags = await amiTags(
    ctx,
    rows.flatMap((r) => (r.amiId ? [r.amiId] : [])),
  );
  return rows
    .map((r) => {
      const t = (r.amiId && tags.get(r.amiId)) || {};
      return {
        ...r,
        platform: t[RELEASE_TAGS.platform],
        kernel: t[RELEASE_TAGS.kernel],
        guestKernel: t[RELEASE_TAGS.guestKernel],
        rpm: t[RELEASE_TAGS.rpm],
      };
    })
    .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
}

/** Tags of the given AMIs (deleted ones are simply absent; deprecated ones included). */
async function amiTags(ctx: AmiContext, ids: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const res = await callAws(
      { action: 'reading the worker AMIs', permission: 'ec2:DescribeImages', region: ctx.region },
      () =>
        ctx.clients.ec2.send(
          new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: chunk }], IncludeDeprecated: true }),
        ),
    );
    for (const img of res.Images ?? []) {
      if (img.ImageId)
        out.set(img.ImageId, Object.fromEntries((img.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])));
    }
  }
  return out;
}

/** The newest image that is AVAILABLE and has an AMI. */
export function latestAvailable(rows: readonly WorkerImageRow[]): WorkerImageRow | undefined {
  return rows.find((r) => r.status === 'AVAILABLE' && r.amiId);
}

/** `2024-05-01 12:00 UTC` */
export function shortDate(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 10)} ${clockTime(d)}`;
}

export function renderImageList(rows: readonly WorkerImageRow[], inUse?: string): string[] {
  if (rows.length === 0) return ["no worker images yet; run 'xspot-cdk ami build --wait'"];
  return table(
    ['CREATED', 'STATUS', 'AMI', 'XSPOT_PLATFORM', 'XSPOT_KERNEL', 'XSPOT_GUEST_KERNEL', 'XSPOT_RPM_VERSION'],
    rows.map((r) => [
      shortDate(r.created),
      r.status,
      r.amiId ? `${r.amiId}${r.amiId === inUse ? ' *' : ''}` : '-',
      r.platform ?? '-',
      r.kernel ?? '-',
      r.guestKernel ?? '-',
      r.rpm ?? '-',
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// progress display

function stageOf(status: string): number {
  const i = (BUILD_STAGES as readonly string[]).indexOf(status);
  return Math.max(i, 0);
}

/**
 * One line per status change (`[12:05 UTC] BUILDING after 4m`), and a "still ..." line every
 * `heartbeatMinutes` so CI logs show the build is alive.
 */
export function lineBuildProgress(
  write: (line: string) => void,
  now: () => Date,
  heartbeatMinutes = 10,
): BuildProgress {
  let last = '';
  let lastLine = 0;
  return {
    update(v) {
      const heartbeat = v.elapsedMs - lastLine >= heartbeatMinutes * 60_000;
      if (v.status === last && !heartbeat) return;
      const prefix = `[${clockTime(now())}]`;
      write(
        v.status === last
          ? `${prefix} still ${v.status} after ${duration(v.elapsedMs)}`
          : `${prefix} ${v.status} after ${duration(v.elapsedMs)}`,
      );
      last = v.status;
      lastLine = v.elapsedMs;
    },
    stop() {},
  };
}

/** A progress bar on a terminal: stage out of the build's stages, status and elapsed time. */
export function barBuildProgress(stream: NodeJS.WritableStream): BuildProgress {
  const bar = new SingleBar(
    {
      format: ' {bar} {stage}/{stages} {status} | {elapsed}',
      stream: stream as NodeJS.WritableStream & { isTTY?: boolean },
      hideCursor: true,
      barsize: 30,
      clearOnComplete: false,
      stopOnComplete: false,
    },
    Presets.shades_classic,
  );
  const stages = BUILD_STAGES.length - 1;
  let started = false;
  return {
    update(v) {
      const payload = { stage: stageOf(v.status), stages, status: v.status, elapsed: duration(v.elapsedMs) };
      if (!started) {
        bar.start(stages, payload.stage, payload);
        started = true;
      } else bar.update(payload.stage, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
