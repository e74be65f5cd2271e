/**
 * The two zip archives a controller downloads at boot (docs/controller-contract.md): the runtime
 * directory (`assets/controller-runtime/`) and the rendered config bundle. Both are built here, at
 * synth time, byte for byte reproducibly (sorted entries, fixed timestamps, normalized modes, no
 * compression), so that their SHA-256 is known before upload and can be baked into the userdata:
 * the controller refuses an archive whose checksum differs. The same bytes always give the same
 * checksum, so an unchanged input never creates a new launch template version.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** One rendered config file, keyed by its path relative to the release's `conf/` directory. */
export interface ControllerConfigFile {
  /** File content (UTF-8). */
  readonly content: string;
  /**
   * Permission bits, e.g. `0o755` for a script.
   *
   * @default 0o644
   */
  readonly mode?: number;
}

/** One file of an archive. */
export interface BundleEntry {
  /** Relative path inside the archive, `/`-separated. */
  readonly path: string;
  /** Permission bits (0-0o777). */
  readonly mode: number;
  readonly content: Buffer;
}

/** An archive written to disk. */
export interface Bundle {
  /** Where the archive is (a content-addressed file under the OS temp directory). */
  readonly zipPath: string;
  /** SHA-256 of the archive bytes, lowercase hex. */
  readonly sha256: string;
  /** Number of files in the archive. */
  readonly fileCount: number;
}

const SEGMENT = /^[A-Za-z0-9._+@-]+$/;
const RELATIVE_PATH_ALLOWED =
  'a relative path of letters, digits and . _ + @ - separated by "/" (no "..", no leading "/")';

/** Whether `p` is a safe relative path: no absolute paths, no `.`/`..` segments, no shell-special characters. */
export function isSafeRelativePath(p: string): boolean {
  if (p.length === 0 || p.length > 255) return false;
  return p.split('/').every((s) => s !== '.' && s !== '..' && SEGMENT.test(s));
}

/** The files of a config bundle, validated and sorted. Errors name the offending key. */
export function configEntries(
  files: Readonly<Record<string, ControllerConfigFile>>,
  field = 'configFiles',
): BundleEntry[] {
  const keys = Object.keys(files).sort();
  if (keys.length === 0) {
    throw new Error(`${field}: must hold at least one rendered file (env.cfg, config.toml, ...), got none`);
  }
  return keys.map((key) => {
    if (!isSafeRelativePath(key)) {
      throw new Error(`${field}[${JSON.stringify(key)}]: must be ${RELATIVE_PATH_ALLOWED}`);
    }
    const { content, mode = 0o644 } = files[key];
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
      throw new Error(
        `${field}[${JSON.stringify(key)}].mode: must be permission bits between 0 and 0o777, got ${mode}`,
      );
    }
    return { path: key, mode, content: Buffer.from(content, 'utf8') };
  });
}

/**
 * Every regular file under `dir`, sorted by path. Modes are normalized to 0o755 (any execute bit)
 * or 0o644, so checkouts with different umasks give the same archive. Symbolic links and special
 * files are refused: the archive must not depend on what lies outside the directory.
 */
export function directoryEntries(dir: string, field = 'runtimeAssetPath'): BundleEntry[] {
  let top: fs.Stats;
  try {
    top = fs.statSync(dir);
  } catch {
    throw new Error(`${field}: ${dir} does not exist`);
  }
  if (!top.isDirectory()) throw new Error(`${field}: ${dir} is not a directory`);

  const out: BundleEntry[] = [];
  const walk = (rel: string): void => {
    const abs = rel === '' ? dir : path.join(dir, rel);
    for (const name of fs.readdirSync(abs).sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(path.join(abs, name));
      if (!isSafeRelativePath(childRel)) {
        throw new Error(
          `${field}: ${childRel} is not allowed in the runtime; file names must be ${RELATIVE_PATH_ALLOWED}`,
        );
      }
      if (st.isSymbolicLink()) {
        throw new Error(`${field}: ${childRel} is a symbolic link; the runtime must hold the file itself`);
      } else if (st.isDirectory()) {
        walk(childRel);
      } else if (st.isFile()) {
        out.push({
          path: childRel,
          mode: st.mode & 0o111 ? 0o755 : 0o644,
          content: fs.readFileSync(path.join(abs, name)),
        });
      } else {
        throw new Error(`${field}: ${childRel} is not a regular file`);
      }
    }
  };
  walk('');
  // readdir order per directory is sorted, but "a/b" vs "a.b" ordering differs from a flat sort.
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** 1980-01-01 00:00:00 in MS-DOS date/time format: the earliest a zip can say, and always the same. */
const DOS_DATE = (1 << 5) | 1;
const DOS_TIME = 0;
/** "made by" Unix, zip spec 3.0: external attributes carry the Unix mode. */
const VERSION_MADE_BY = (3 << 8) | 30;
const VERSION_NEEDED = 10;
const S_IFREG = 0o100000;

/**
 * A zip archive (method "stored") of `entries`, in the order given. Stored rather than deflated so
 * the bytes do not depend on the zlib version of whoever synthesizes.
 */
export function zipEntries(entries: readonly BundleEntry[]): Buffer {
  if (entries.length > 0xffff) throw new Error(`too many files for a zip archive: ${entries.length}`);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.path, 'utf8');
    const size = e.content.length;
    if (size > 0xfffffffe) throw new Error(`${e.path}: too large for a zip archive`);
    const crc = crc32(e.content);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // method: stored
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(size, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra length
    locals.push(local, name, e.content);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(size, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(((S_IFREG | e.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + size;
    if (offset > 0xfffffffe) throw new Error('the archive is too large for a zip without zip64');
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, cd, end]);
}

export function sha256Hex(buf: Buffer): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/**
 * Writes the archive of `entries` to a content-addressed file under the OS temp directory (so
 * repeated syntheses reuse it) and returns its path and checksum. CDK copies it into the cloud
 * assembly as a file asset.
 */
export function writeBundle(entries: readonly BundleEntry[]): Bundle {
  const bytes = zipEntries(entries);
  const sha256 = sha256Hex(bytes);
  const dir = path.join(os.tmpdir(), 'xspot-cdk-bundles');
  fs.mkdirSync(dir, { recursive: true });
  const zipPath = path.join(dir, `${sha256}.zip`);
  const existing = fs.existsSync(zipPath) ? fs.readFileSync(zipPath) : undefined;
  if (!existing || sha256Hex(existing) !== sha256) {
    // Write then rename: parallel syntheses never see a half-written archive.
    const tmp = `${zipPath}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, zipPath);
  }
  return { zipPath, sha256, fileCount: entries.length };
}
