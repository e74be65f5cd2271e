/**
 * The worker storage mounts (the guide's `customize_worker_ami.sh` step for ONTAP/NFS not
 * mounted by autofs) rendered as /etc/fstab lines. Pure functions: the image component receives
 * the lines base64-encoded and writes them; the host script does no templating.
 */
import { MOUNT_POINT_ALLOWED, systemMountProblem } from '../config/mounts';

/** One NFS or ONTAP volume every worker mounts at boot. */
export interface WorkerMount {
  /** `nfs` or `ontap` (ONTAP volumes are mounted over NFS). */
  readonly type: 'nfs' | 'ontap';
  /** Server DNS name or IPv4 address (ONTAP_SERVER_IP in the guide). */
  readonly server: string;
  /** Exported path or ONTAP junction path, e.g. /volume1. */
  readonly export: string;
  /** Where workers mount it, e.g. /fsx. */
  readonly mountPoint: string;
  /**
   * Mount options; `_netdev` and `nofail` are always added so a worker whose storage is
   * unreachable still boots (and X-Spot can report it) instead of hanging in emergency mode.
   * @default defaults
   */
  readonly options?: string;
}

// The same character sets as lib/config/patterns.ts (hostname, absolutePath, mountOptions):
// checked again here because these values end up in /etc/fstab and a shell's `read`.
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const PATH = /^\/(?!.*\/\.\.?(\/|$))[A-Za-z0-9._+@-]+(\/[A-Za-z0-9._+@-]+)*$|^\/$/;
const OPTIONS = /^[A-Za-z0-9_=.,:-]{1,256}$/;

/** Checks the mounts; throws naming the field, the value and what is allowed. */
export function validateWorkerMounts(mounts: readonly WorkerMount[]): void {
  const seen = new Set<string>();
  mounts.forEach((m, i) => {
    const field = (k: string) => `workerImage.mounts[${i}].${k}`;
    const bad = (k: string, v: unknown, allowed: string) =>
      new Error(`${field(k)}: ${JSON.stringify(v)} is not allowed; expected ${allowed}`);
    if (m.type !== 'nfs' && m.type !== 'ontap') throw bad('type', m.type, '"nfs" or "ontap"');
    if (!HOST.test(m.server)) throw bad('server', m.server, 'a DNS name or IPv4 address');
    if (!PATH.test(m.export)) throw bad('export', m.export, 'an absolute path of letters, digits and . _ + @ -');
    if (!PATH.test(m.mountPoint) || systemMountProblem(m.mountPoint) !== undefined) {
      throw bad(
        'mountPoint',
        m.mountPoint,
        `an absolute path of letters, digits and . _ + @ -: ${MOUNT_POINT_ALLOWED}`,
      );
    }
    if (m.options !== undefined && !OPTIONS.test(m.options)) {
      throw bad('options', m.options, 'comma-separated mount options of letters, digits and _ = . : -');
    }
    if (seen.has(m.mountPoint)) throw bad('mountPoint', m.mountPoint, 'a mount point not used by another entry');
    seen.add(m.mountPoint);
  });
}

/** The mount options with `_netdev` and `nofail` added when missing. */
export function fstabOptions(options: string | undefined): string {
  const list = (options ?? 'defaults').split(',').filter((o) => o.length > 0);
  for (const required of ['_netdev', 'nofail']) if (!list.includes(required)) list.push(required);
  return list.join(',');
}

/** The /etc/fstab lines (one per mount, each preceded by a comment), newline-terminated. */
export function renderWorkerFstab(mounts: readonly WorkerMount[]): string {
  validateWorkerMounts(mounts);
  return mounts
    .map(
      (m) =>
        `# ${m.type} volume for X-Spot workers\n${m.server}:${m.export} ${m.mountPoint} nfs ${fstabOptions(m.options)} 0 0\n`,
    )
    .join('');
}
