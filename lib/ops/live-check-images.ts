/**
 * Live image checks: the parent image of the worker AMI (by id, SSM parameter, or name and
 * owners: the newest match) exists, is x86_64 and is not Amazon Linux 2023; an explicit worker AMI
 * exists and carries the X-Spot version tags of this release; the controller AMI exists.
 */
import { DescribeImagesCommand, type Image } from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { Finding } from '../config/findings';
import type { XspotConfig } from '../config/resolve';
import {
  AL2023,
  aws,
  isNotFound,
  type LiveCheckDef,
  type LiveContext,
  liveError,
  liveWarning,
  plural,
} from './live-check-context';
import { chooseParentImage, parentImageQuery } from './parent-image-rule';

/**
 * Tags the worker-image pipeline puts on every AMI it builds (IMAGE_TAGS in
 * lib/constructs/worker-image.ts, which lib/ops may not import; a test keeps the two equal):
 * tag key -> the xspot field whose value it records. A worker AMI whose tags disagree with the
 * config is the wrong AMI for this release.
 */
export const WORKER_AMI_VERSION_TAGS = [
  { tag: 'xspot:rpm-version', field: 'rpmVersion', envName: 'XSPOT_RPM_VERSION' },
  { tag: 'xspot:platform-version', field: 'platformVersion', envName: 'XSPOT_PLATFORM' },
  { tag: 'xspot:kernel-version', field: 'kernelVersion', envName: 'XSPOT_KERNEL' },
  { tag: 'xspot:guest-kernel-version', field: 'guestKernelVersion', envName: 'XSPOT_GUEST_KERNEL' },
] as const;

/** The controller AMI of the example config; the offline checks already warn about it. */
const PLACEHOLDER_AMI = 'ami-0123456789abcdef0';

/** DescribeImages for one id; undefined when it does not exist. */
function describeImage(ctx: LiveContext, imageId: string): Promise<Image | undefined> {
  return ctx.memo(`image:${imageId}`, async () => {
    try {
      const res = await aws('ec2:DescribeImages', () =>
        ctx.clients.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] })),
      );
      return res.Images?.find((i) => i.ImageId === imageId);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  });
}

/** Architecture, state and "not AL2023" rules every image the config names must pass. */
function imageBasics(image: Image, path: string, value: unknown, what: string): Finding[] {
  const out: Finding[] = [];
  const id = String(image.ImageId);
  if (image.Architecture && image.Architecture !== 'x86_64') {
    out.push(
      liveError(
        'arch-not-x86-64',
        path,
        value,
        `${what} ${id} is ${image.Architecture} (DescribeImages); X-Spot supports 64-bit x86 (x86_64) only`,
        'an x86_64 image',
      ),
    );
  }
  const text = `${image.Name ?? ''} ${image.Description ?? ''}`;
  if (AL2023.test(text)) {
    out.push(
      liveError(
        'amazon-linux-2023',
        path,
        value,
        `${what} ${id} (${image.Name}) is Amazon Linux 2023, which X-Spot does not support`,
        'a CentOS 7 / EL7-family image',
      ),
    );
  }
  if (image.State && image.State !== 'available') {
    out.push(
      liveError(
        'image-not-available',
        path,
        value,
        `${what} ${id} is ${image.State}, not available`,
        'an available image',
      ),
    );
  }
  return out;
}

const parentImageCheck: LiveCheckDef = {
  name: 'parent-image',
  title: 'looking up the worker AMI parent image',
  path: () => 'workerImage.parentImage',
  run: async (ctx) => {
    const p = ctx.config.workerImage.parentImage;
    const what = 'the parent image';
    if ('amiId' in p) {
      const path = 'workerImage.parentImage.amiId';
      const image = await describeImage(ctx, p.amiId);
      if (!image) {
        return [
          liveError(
            'parent-image-not-found',
            path,
            p.amiId,
            `no such image in ${ctx.region}, or it is not shared with this account`,
            'an AMI id visible to the account in the deployment region',
          ),
        ];
      }
      return imageBasics(image, path, p.amiId, what);
    }
    if ('ssmParameter' in p) {
      const path = 'workerImage.parentImage.ssmParameter';
      let amiId: string | undefined;
      try {
        const res = await aws('ssm:GetParameter', () =>
          ctx.clients.ssm.send(new GetParameterCommand({ Name: p.ssmParameter })),
        );
        amiId = res.Parameter?.Value;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (amiId === undefined) {
        return [
          liveError(
            'parent-image-not-found',
            path,
            p.ssmParameter,
            `no such SSM parameter in ${ctx.region}`,
            'an SSM parameter whose value is an AMI id',
          ),
        ];
      }
      if (!/^ami-[0-9a-f]{8,17}$/.test(amiId)) {
        return [
          liveError(
            'parent-image-not-found',
            path,
            p.ssmParameter,
            `holds ${JSON.stringify(amiId.slice(0, 80))}, not an AMI id`,
            'an SSM parameter whose value is an AMI id',
          ),
        ];
      }
      const image = await describeImage(ctx, amiId);
      if (!image) {
        return [
          liveError(
            'parent-image-not-found',
            path,
            p.ssmParameter,
            `points at ${amiId}, which does not exist in ${ctx.region}`,
            'an SSM parameter whose value is an existing AMI id',
          ),
        ];
      }
      return imageBasics(image, path, p.ssmParameter, what);
    }
    const path = 'workerImage.parentImage.name';
    const choice = chooseParentImage(await describeByName(ctx, p.name, p.owners), 'x86_64', new Date());
    if (!choice.image) {
      const other = choice.otherArchitectures;
      return [
        liveError(
          other.length > 0 ? 'arch-not-x86-64' : 'parent-image-not-found',
          path,
          p.name,
          `no available x86_64 image named ${JSON.stringify(p.name)} owned by ${p.owners.join(', ')} in ${ctx.region}` +
            (other.length > 0
              ? ` (only ${other.join(', ')} images match); X-Spot supports 64-bit x86 (x86_64) only`
              : ''),
          'a name pattern and owners that match an available x86_64 image',
        ),
      ];
    }
    const out = imageBasics(choice.image, path, p.name, `${what} (newest match)`);
    if (choice.deprecated) {
      out.push(
        liveWarning(
          'parent-image-deprecated',
          path,
          p.name,
          `every match is deprecated; the deploy uses the newest deprecated one, ${choice.image.ImageId} (${choice.image.Name}, deprecated ${choice.image.DeprecationTime})`,
          'a current image ({ amiId } or a name that matches one); acknowledge this warning for an end-of-life release such as CentOS 7, whose images its publisher deprecated',
        ),
      );
    }
    return out;
  },
};

/** Every image of `owners` named like `name`, deprecated ones included: the resolver's query. */
function describeByName(ctx: LiveContext, name: string, owners: readonly string[]): Promise<Image[]> {
  return ctx.memo(`images-by-name:${name}:${owners.join(',')}`, async () => {
    const images: Image[] = [];
    let token: string | undefined;
    do {
      const res = await aws('ec2:DescribeImages', () =>
        ctx.clients.ec2.send(
          new DescribeImagesCommand({ Owners: [...owners], ...parentImageQuery(name), NextToken: token }),
        ),
      );
      images.push(...(res.Images ?? []));
      token = res.NextToken;
    } while (token);
    return images;
  });
}

const workerAmiCheck: LiveCheckDef = {
  name: 'worker-ami',
  title: 'looking up the worker AMI',
  path: () => 'workers.ami',
  applies: (c: XspotConfig) => c.workers.ami !== undefined,
  run: async (ctx) => {
    const c = ctx.config;
    const amiId = String(c.workers.ami);
    const image = await describeImage(ctx, amiId);
    if (!image) {
      return [
        liveError(
          'worker-ami-not-found',
          'workers.ami',
          amiId,
          `no such image in ${ctx.region}, or it is not shared with this account`,
          'the AMI id `xspot-cdk ami build` printed for this release',
        ),
      ];
    }
    const out = imageBasics(image, 'workers.ami', amiId, 'the worker AMI');
    const tags = new Map((image.Tags ?? []).map((t) => [String(t.Key), String(t.Value ?? '')]));
    const missing: string[] = [];
    for (const { tag, field, envName } of WORKER_AMI_VERSION_TAGS) {
      const want = c.xspot[field];
      const got = tags.get(tag);
      if (got === undefined) {
        missing.push(tag);
      } else if (got !== want) {
        out.push(
          liveError(
            'worker-ami-version-mismatch',
            'workers.ami',
            amiId,
            `was built for ${envName} ${got} (tag ${tag}), but xspot.${field} is ${want}: the wrong worker AMI for this release`,
            `a worker AMI built for ${want} (xspot-cdk ami build), or xspot.${field}: ${got}`,
          ),
        );
      }
    }
    if (missing.length > 0) {
      const shared = image.OwnerId && ctx.account && image.OwnerId !== ctx.account;
      out.push(
        liveWarning(
          'worker-ami-untagged',
          'workers.ami',
          amiId,
          `has no ${missing.join(', ')} ${missing.length === 1 ? 'tag' : 'tags'}, so its X-Spot versions cannot be compared with the config${shared ? ` (it belongs to account ${image.OwnerId}; tags of a shared AMI are not visible to other accounts)` : ''}`,
          `an AMI tagged with the X-Spot versions (${plural(WORKER_AMI_VERSION_TAGS.length, 'tag')}: ${WORKER_AMI_VERSION_TAGS.map((t) => t.tag).join(', ')})`,
        ),
      );
    }
    return out;
  },
};

const controllerAmiCheck: LiveCheckDef = {
  name: 'controller-ami',
  title: 'looking up the controller AMI',
  path: () => 'controllers.amiId',
  applies: (c: XspotConfig) => c.controllers.amiId !== PLACEHOLDER_AMI,
  run: async (ctx) => {
    const amiId = ctx.config.controllers.amiId;
    const image = await describeImage(ctx, amiId);
    if (!image) {
      return [
        liveError(
          'controller-ami-not-found',
          'controllers.amiId',
          amiId,
          `no such image in ${ctx.region}, or it is not shared with this account`,
          'the AMI id of your validated EL7-family compute-node image in the deployment region',
        ),
      ];
    }
    return imageBasics(image, 'controllers.amiId', amiId, 'the controller AMI');
  },
};

export const IMAGE_CHECKS: readonly LiveCheckDef[] = [parentImageCheck, workerAmiCheck, controllerAmiCheck];
