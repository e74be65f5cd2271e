/**
 * Live checks of the existing resources the config names: the shared file system
 * (storage.existing.fileSystemId: EFS or FSx), the SSH key pair and the permissions boundary policy.
 */
import { DescribeKeyPairsCommand } from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand as DescribeEfsCommand, type FileSystemDescription } from '@aws-sdk/client-efs';
import {
  DescribeFileSystemsCommand as DescribeFsxCommand,
  type FileSystem as FsxFileSystem,
} from '@aws-sdk/client-fsx';
import { GetPolicyCommand } from '@aws-sdk/client-iam';
import type { Finding } from '../config/findings';
import type { XspotConfig } from '../config/resolve';
import { aws, isNotFound, type LiveCheckDef, type LiveContext, liveError, liveWarning } from './live-check-context';

type Found<T> = { kind: 'found'; fs: T } | { kind: 'absent' } | { kind: 'failed'; error: unknown };

async function lookup<T>(fn: () => Promise<T | undefined>): Promise<Found<T>> {
  try {
    const fs = await fn();
    return fs === undefined ? { kind: 'absent' } : { kind: 'found', fs };
  } catch (e) {
    return isNotFound(e) ? { kind: 'absent' } : { kind: 'failed', error: e };
  }
}

function efs(ctx: LiveContext, id: string) {
  return lookup<FileSystemDescription>(async () => {
    const res = await aws('elasticfilesystem:DescribeFileSystems', () =>
      ctx.clients.efs.send(new DescribeEfsCommand({ FileSystemId: id })),
    );
    return res.FileSystems?.find((f) => f.FileSystemId === id);
  });
}

function fsx(ctx: LiveContext, id: string) {
  return lookup<FsxFileSystem>(async () => {
    const res = await aws('fsx:DescribeFileSystems', () =>
      ctx.clients.fsx.send(new DescribeFsxCommand({ FileSystemIds: [id] })),
    );
    return res.FileSystems?.find((f) => f.FileSystemId === id);
  });
}

/** FSx file system types each storage.type can mount. */
const FSX_TYPES: Record<string, readonly string[]> = {
  lustre: ['LUSTRE'],
  ontap: ['ONTAP'],
  nfs: ['ONTAP', 'OPENZFS'],
};

function checkFsx(ctx: LiveContext, f: FsxFileSystem): Finding[] {
  const s = ctx.config.storage;
  const id = String(f.FileSystemId);
  const out: Finding[] = [];
  const allowedTypes = FSX_TYPES[s.type] ?? [];
  if (f.FileSystemType && !allowedTypes.includes(f.FileSystemType)) {
    out.push(
      liveError(
        'file-system-type-mismatch',
        'storage.type',
        s.type,
        `${id} is an FSx for ${f.FileSystemType} file system, which storage.type ${s.type} cannot mount`,
        f.FileSystemType === 'LUSTRE' ? 'lustre' : f.FileSystemType === 'ONTAP' ? 'ontap or nfs' : 'nfs',
      ),
    );
  }
  const mountName = f.LustreConfiguration?.MountName;
  if (s.type === 'lustre' && mountName && s.existing?.mountName && mountName !== s.existing.mountName) {
    out.push(
      liveError(
        'lustre-mount-name-mismatch',
        'storage.existing.mountName',
        s.existing.mountName,
        `the mount name of ${id} is ${mountName}`,
        mountName,
      ),
    );
  }
  if (f.Lifecycle && f.Lifecycle !== 'AVAILABLE') {
    out.push(
      liveWarning(
        'file-system-not-available',
        'storage.existing.fileSystemId',
        id,
        `${id} is ${f.Lifecycle}, not AVAILABLE`,
        'an available file system',
      ),
    );
  }
  return out;
}

const fileSystemCheck: LiveCheckDef = {
  name: 'file-system',
  title: 'looking up the existing file system',
  path: () => 'storage.existing.fileSystemId',
  applies: (c: XspotConfig) => c.storage.type !== 'efs' && c.storage.existing?.fileSystemId !== undefined,
  run: async (ctx) => {
    const s = ctx.config.storage;
    const id = String(s.existing?.fileSystemId);
    const tries: Found<unknown>[] = [];
    if (s.type === 'nfs') {
      const e = await efs(ctx, id);
      if (e.kind === 'found') {
        const state = e.fs.LifeCycleState;
        return state && state !== 'available'
          ? [
              liveWarning(
                'file-system-not-available',
                'storage.existing.fileSystemId',
                id,
                `the EFS file system ${id} is ${state}, not available`,
                'an available file system',
              ),
            ]
          : [];
      }
      tries.push(e);
    }
    const f = await fsx(ctx, id);
    if (f.kind === 'found') return checkFsx(ctx, f.fs);
    tries.push(f);
    const failed = tries.find((t): t is { kind: 'failed'; error: unknown } => t.kind === 'failed');
    if (failed) throw failed.error; // cannot tell whether it exists: a warning naming the refused call
    return [
      liveError(
        'file-system-not-found',
        'storage.existing.fileSystemId',
        id,
        `no ${s.type === 'nfs' ? 'EFS or FSx' : 'FSx'} file system with this id in ${ctx.region}`,
        'the id of an existing file system in the deployment region',
      ),
    ];
  },
};

const keyPairCheck: LiveCheckDef = {
  name: 'key-pair',
  title: 'looking up the key pair',
  path: () => 'controllers.keyPairName',
  applies: (c: XspotConfig) => c.controllers.keyPairName !== undefined,
  run: async (ctx) => {
    const name = String(ctx.config.controllers.keyPairName);
    const res = await aws('ec2:DescribeKeyPairs', () =>
      ctx.clients.ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: [name] }] })),
    );
    if ((res.KeyPairs ?? []).some((k) => k.KeyName === name)) return [];
    return [
      liveError(
        'key-pair-not-found',
        'controllers.keyPairName',
        name,
        `no such EC2 key pair in ${ctx.region}`,
        'the name of a key pair in the deployment region, or leave it unset and use Session Manager',
      ),
    ];
  },
};

const boundaryCheck: LiveCheckDef = {
  name: 'permissions-boundary',
  title: 'looking up the permissions boundary policy',
  path: () => 'iam.permissionsBoundaryArn',
  applies: (c: XspotConfig) => c.iam.permissionsBoundaryArn !== undefined,
  run: async (ctx) => {
    const arn = String(ctx.config.iam.permissionsBoundaryArn);
    try {
      await aws('iam:GetPolicy', () => ctx.clients.iam.send(new GetPolicyCommand({ PolicyArn: arn })));
      return [];
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return [
      liveError(
        'permissions-boundary-not-found',
        'iam.permissionsBoundaryArn',
        arn,
        'no such managed policy',
        'the ARN of an existing managed policy in the deployment account',
      ),
    ];
  },
};

export const RESOURCE_CHECKS: readonly LiveCheckDef[] = [fileSystemCheck, keyPairCheck, boundaryCheck];
