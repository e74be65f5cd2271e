/**
 * A V8 code cache for the CommonJS modules the CDK app loads (about 600 files, 11 MB of JavaScript,
 * nearly all aws-cdk-lib's), so that a repeated synth does not parse and compile them again.
 *
 * Node 22.1 and later have this built in (`module.enableCompileCache()`), and it is used when present.
 * Node 20 has no such switch, and the maintained library for it (v8-compile-cache) replaces the
 * module wrapper in a way that breaks `import()` inside the modules it compiles; so on Node 20 this file
 * compiles each module as Node's own loader does when `Module.wrap` is patched (a `vm.Script` of
 * the wrapped source), but hands V8 the code cache of the
 * previous run and, when an entry was missing or stale, writes the cache anew as the process exits.
 *
 * Correctness: an entry is used only for the same file path with the same content (SHA-1 of the
 * source; V8 itself checks only its length, and npm gives every installed file the same mtime), and
 * V8 rejects data from another V8 version or other V8 flags; a rejected or missing entry is compiled
 * from source. Safety: the cache is bytecode the process runs, so it is read only from a directory
 * and file owned by the current user and writable by nobody else. Any failure to read or write the
 * cache is ignored: the module is compiled from source and synth goes on.
 *
 * Location: node_modules/.cache/xspot-cdk in the package, else <tmpdir>/xspot-cdk-<uid>; one file
 * per package location, Node version and architecture. XSPOT_COMPILE_CACHE=off turns it off;
 * XSPOT_COMPILE_CACHE=<dir> puts it in <dir>.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { packageRoot } from './package-root';

/** The loader internals a compile hook needs (Node's own `makeRequireFunction` uses the same). */
interface LoaderInternals {
  _compile(this: Module, content: string, filename: string, ...rest: unknown[]): unknown;
}
interface ModuleStatics {
  wrap(content: string): string;
  _resolveFilename(request: string, parent: Module, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: Module): string[] | null;
  _extensions: NodeJS.RequireExtensions;
  _cache: NodeJS.Dict<NodeModule>;
}

const MAGIC = 'xspot-cdk compile cache 1\n';
/** A dynamic import() (or something that may be one: `import` then a comment), not a method named import. */
const MAY_IMPORT = /(?<![.$\w])import\s*(\(|\/[*/])/;

/** One module's cache entry: its source hash and its V8 code cache. */
interface Entry {
  readonly hash: string;
  readonly data: Buffer;
}

/** The cache file: a header line, a JSON index of `[path, sha256, length]`, then the data, in index order. */
export class CompileCacheFile {
  /** Entries read from the file, by path. */
  private readonly loaded = new Map<string, Entry>();
  /** Cache data made in this run for modules whose entry was missing or rejected, by path. */
  private readonly fresh = new Map<string, Entry>();
  private readonly replaced = new Set<string>();

  constructor(readonly file: string) {
    this.load();
  }

  /** The cached data for this path and source hash, if any. */
  lookup(filename: string, hash: string): Buffer | undefined {
    const e = this.loaded.get(filename);
    return e && e.hash === hash ? e.data : undefined;
  }

  /** Remember the cache data of a module compiled from source, to write at exit. */
  stale(filename: string, hash: string, data: Buffer): void {
    this.fresh.set(filename, { hash, data });
    this.replaced.add(filename);
  }

  get dirty(): boolean {
    return this.fresh.size > 0;
  }

  /** Write the cache if this run compiled anything from source; entries of files still present are kept. */
  save(): void {
    if (!this.dirty) return;
    const index: [string, string, number][] = [];
    const blobs: Buffer[] = [];
    for (const [file, { hash, data }] of this.fresh) {
      index.push([file, hash, data.length]);
      blobs.push(data);
    }
    for (const [file, e] of this.loaded) {
      if (this.replaced.has(file) || !fs.existsSync(file)) continue;
      index.push([file, e.hash, e.data.length]);
      blobs.push(e.data);
    }
    const head = Buffer.from(`${MAGIC}${JSON.stringify(index)}\n`, 'utf8');
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, Buffer.concat([head, ...blobs]), { mode: 0o600, flag: 'wx' });
      fs.renameSync(tmp, this.file);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  private load(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
      return; // no cache yet
    }
    try {
      if (!ownedByMe(fs.fstatSync(fd))) return;
      const buf = fs.readFileSync(fd);
      if (buf.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) return;
      const nl = buf.indexOf(10, MAGIC.length);
      if (nl < 0) return;
      const index = JSON.parse(buf.subarray(MAGIC.length, nl).toString('utf8')) as [string, string, number][];
      let offset = nl + 1;
      for (const [file, hash, length] of index) {
        if (offset + length > buf.length) return;
        this.loaded.set(file, { hash, data: buf.subarray(offset, offset + length) });
        offset += length;
      }
    } catch {
      this.loaded.clear(); // unreadable or corrupt: compile from source, rewrite at exit
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Owned by the current user and writable by no one else (POSIX; elsewhere, trusted as the OS allows). */
function ownedByMe(st: fs.Stats): boolean {
  if (typeof process.getuid !== 'function') return true;
  return st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/** The cache directory, created 0700 if missing, or undefined when off or not trustworthy. */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env.XSPOT_COMPILE_CACHE;
  if (setting !== undefined && ['off', '0', 'false'].includes(setting.toLowerCase())) return undefined;
  const candidates = setting
    ? [path.resolve(setting)]
    : [
        path.join(packageRoot(), 'node_modules', '.cache', 'xspot-cdk'),
        path.join(os.tmpdir(), `xspot-cdk-${process.getuid?.() ?? os.userInfo().username}`),
      ];
  for (const dir of candidates) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const st = fs.lstatSync(dir);
      if (st.isDirectory() && ownedByMe(st)) {
        fs.accessSync(dir, fs.constants.W_OK);
        return dir;
      }
    } catch {
      // not writable here: try the next place
    }
  }
  return undefined;
}

/** The cache file for this package location, Node version and architecture. */
export function cacheFileName(dir: string): string {
  const key = crypto
    .createHash('sha256')
    .update(`${packageRoot()}\0${process.version}\0${process.arch}`)
    .digest('hex')
    .slice(0, 16);
  return path.join(dir, `synth-${key}.bin`);
}

/** The `require` Node gives a CommonJS module (as Node's own makeRequireFunction builds it). */
function makeRequire(mod: Module, statics: ModuleStatics): NodeJS.Require {
  const require = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: { paths?: string[] }) =>
    statics._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => statics._resolveLookupPaths(request, mod);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = statics._extensions;
  require.cache = statics._cache;
  return require;
}

/** Compile CommonJS modules through `store` from now on (Node 20's loader has no other hook). */
export function installCompileHook(store: CompileCacheFile): void {
  const proto = Module.prototype as unknown as LoaderInternals;
  const statics = Module as unknown as ModuleStatics;
  const original = proto._compile;
  proto._compile = function compileCached(this: Module, content: string, filename: string, ...rest: unknown[]) {
    // Left to Node: a format other than CommonJS, sources V8 cannot take inside the wrapper, and
    // modules that may call import() (Node 20 loses a vm.Script's import() handler when the script
    // comes from cached data; the few such modules on the synth path are compiled as usual).
    const format = rest[0];
    if (
      (format !== undefined && format !== 'commonjs') ||
      content.startsWith('#!') ||
      content.startsWith('\uFEFF') ||
      (content.includes('import') && MAY_IMPORT.test(content))
    ) {
      return original.call(this, content, filename, ...rest);
    }
    const hash = crypto.createHash('sha1').update(content).digest('base64');
    const cachedData = store.lookup(filename, hash);
    const script = new vm.Script(statics.wrap(content), { filename, cachedData });
    // Made right after compiling, before the module runs: it then holds the code V8 compiles eagerly
    // (the module's body), not every function the run happened to call. On Node 20 the larger cache
    // a finished run yields took longer to load than the source took to compile (measured).
    if (cachedData === undefined || script.cachedDataRejected) store.stale(filename, hash, script.createCachedData());
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const require = makeRequire(this, statics);
    return wrapper.call(this.exports, this.exports, require, this, filename, path.dirname(filename));
  };
}

/**
 * Turn the compile cache on for the rest of this process: Node's own where it has one, else the
 * hook above. Call before the modules to cache are required, and after any V8 flags are set
 * (V8 keys its cache by them). Never throws.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  try {
    const dir = cacheDirectory(env);
    if (dir === undefined) return;
    const builtin = (Module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
    if (typeof builtin === 'function') {
      builtin(dir);
      return;
    }
    // A debugger or a loader hook expects Node's own compile path.
    if (process.execArgv.some((a) => /^--(inspect|debug|experimental-loader|loader|import)/.test(a))) return;
    const store = new CompileCacheFile(cacheFileName(dir));
    installCompileHook(store);
    process.once('exit', () => {
      try {
        store.save();
      } catch {
        // a cache that cannot be written only costs the next run its compile time
      }
    });
  } catch {
    // no cache: every module compiles from source, as without this file
  }
}
