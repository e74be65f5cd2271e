/**
 * Reads the files a config names (the config itself, hook scripts, Dockerfiles) defensively: only
 * regular files, at most a size limit, never blocking on a FIFO or reading a device such as
 * /dev/zero to exhaustion. Failures come back as a reason, for the caller's one-line message.
 */
import * as fs from 'node:fs';

/** Largest site file read (config, hook script, Dockerfile): far above any real one. */
export const SITE_FILE_LIMIT_BYTES = 1024 * 1024;

export type SiteFileRead = { readonly text: string } | { readonly problem: string; readonly code?: string };

export function readSiteFile(file: string, limit = SITE_FILE_LIMIT_BYTES): SiteFileRead {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not hang the CLI.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'not found'
        : code === 'EACCES'
          ? 'not readable (permission denied)'
          : code === 'EISDIR'
            ? 'a directory, not a file'
            : `cannot be opened (${code ?? 'error'})`;
    return { problem: why, code };
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) return { problem: 'a directory, not a file', code: 'EISDIR' };
    if (!st.isFile()) return { problem: 'not a regular file (a device, FIFO or socket)', code: 'ENOTREG' };
    if (st.size > limit) {
      return { problem: `${st.size} bytes, larger than the ${limit}-byte limit for a site file`, code: 'EFBIG' };
    }
    const buf = Buffer.alloc(Math.min(st.size, limit) + 1);
    let n = 0;
    for (;;) {
      const got = fs.readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > limit) return { problem: `larger than the ${limit}-byte limit for a site file`, code: 'EFBIG' };
      if (n === buf.length) break;
    }
    return { text: buf.subarray(0, n).toString('utf8') };
  } catch (e) {
    return { problem: `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  } finally {
    fs.closeSync(fd);
  }
}
