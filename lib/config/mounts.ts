/**
 * Where a shared file system may be mounted: never over a directory the operating system needs.
 * One rule for the config validator (controllers' storage.mountPoint, workers' workerImage.mounts)
 * and the worker-image construct that writes /etc/fstab.
 */

/** Directories a mount would shadow: the operating system's own (and /tmp, which systemd cleans). */
export const SYSTEM_DIRS: readonly string[] = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib64',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
];

/** Trees nothing may be mounted inside: kernel file systems, boot, configuration, binaries, temporary and state directories. */
const SYSTEM_TREES: readonly string[] = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib64',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/tmp',
  '/usr/bin',
  '/usr/lib',
  '/usr/lib64',
  '/usr/sbin',
  '/var/lib',
  '/var/log',
  '/var/run',
  '/var/tmp',
];

/** What is allowed, in words, for messages. */
export const MOUNT_POINT_ALLOWED = `a directory of its own such as /fsx or /nfs-apps: not one of ${SYSTEM_DIRS.join(' ')}, and not inside ${SYSTEM_TREES.join(' ')}`;

/** Why `mountPoint` would shadow the system, or undefined when it is fine. */
export function systemMountProblem(mountPoint: string): string | undefined {
  if (SYSTEM_DIRS.includes(mountPoint)) return `would hide the system directory ${mountPoint}`;
  const tree = SYSTEM_TREES.find((t) => mountPoint.startsWith(`${t}/`));
  return tree ? `is inside the system directory ${tree}` : undefined;
}
