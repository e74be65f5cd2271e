/**
 * The CDK app's compile cache (lib/compile-cache.ts) in real node processes: a module changed to
 * a source of the same length (which V8's own check lets through) runs its new code; a cache file
 * or directory someone else could have written is not trusted; a corrupt or unwritable cache never
 * fails the process; `require`, `__dirname` and `import()` work in cached modules; and the app's
 * templates are byte-identical without the cache, with a cold one and with a warm one.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, runNode } from '../support/cli';

const COMPILE_CACHE = path.join(ROOT, 'dist', 'lib', 'compile-cache.js');

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-compile-cache-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A node process that turns the cache on (in `cacheDir`), then requires `mod` and prints what it exports. */
function run(mod: string, cacheDir: string): { code: number; stdout: string; stderr: string } {
  const script = `require(${JSON.stringify(COMPILE_CACHE)}).enableCompileCache();
const m = require(${JSON.stringify(mod)});
Promise.resolve(m.value).then((v) => console.log(JSON.stringify(v)));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, XSPOT_COMPILE_CACHE: cacheDir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout.trim(), stderr: r.stderr };
}

const cacheFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.bin'));

function writeModule(name: string, body: string): string {
  const file = path.join(tmp, 'src', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
  return file;
}

test('a module changed to a source of the same length runs its new code, not the cached one', () => {
  const cache = path.join(tmp, 'cache');
  const mod = writeModule('m.js', "exports.value = 'aaaa';\n");
  expect(run(mod, cache)).toMatchObject({ code: 0, stdout: '"aaaa"' });
  const [file] = cacheFiles(cache);
  expect(file).toBeDefined();
  const written = fs.readFileSync(path.join(cache, file));
  expect(written.includes(Buffer.from(mod))).toBe(true);

  // a warm run reads the cache and leaves it as it was
  expect(run(mod, cache)).toMatchObject({ code: 0, stdout: '"aaaa"' });
  expect(fs.readFileSync(path.join(cache, file)).equals(written)).toBe(true);

  // same length, same mtime: only the content tells them apart
  const { mtime } = fs.statSync(mod);
  fs.writeFileSync(mod, "exports.value = 'bbbb';\n");
  fs.utimesSync(mod, mtime, mtime);
  expect(run(mod, cache)).toMatchObject({ code: 0, stdout: '"bbbb"' });
  expect(run(mod, cache)).toMatchObject({ code: 0, stdout: '"bbbb"' });
});

test('a cached module gets a working require, require.resolve, __dirname and import()', () => {
  const cache = path.join(tmp, 'cache');
  writeModule('dep.js', 'exports.n = 41;\n');
  writeModule('esm.mjs', 'export const k = 1;\n');
  const mod = writeModule(
    'm.js',
    [
      "const path = require('node:path');",
      "const dep = require('./dep');",
      'exports.value = (async () => ({',
      '  n: dep.n + 1,',
      "  resolved: path.relative(__dirname, require.resolve('./dep')),",
      "  paths: Array.isArray(require.resolve.paths('x')),",
      '  main: require.main === undefined,',
      "  k: (await import('./esm.mjs')).k,",
      '}))();',
      '',
    ].join('\n'),
  );
  const expected = JSON.stringify({ n: 42, resolved: 'dep.js', paths: true, main: true, k: 1 });
  expect(run(mod, cache)).toMatchObject({ code: 0, stdout: expected }); // cold
  expect(run(mod, cache)).toMatchObject({ code: 0, stdout: expected }); // warm
});

test('a cache file writable by others, or a corrupt one, is not used and is replaced by one of our own', () => {
  const cache = path.join(tmp, 'cache');
  const mod = writeModule('m.js', 'exports.value = 1;\n');
  expect(run(mod, cache).code).toBe(0);
  const file = path.join(cache, cacheFiles(cache)[0]);

  fs.chmodSync(file, 0o666);
  const before = fs.statSync(file).ino;
  expect(run(mod, cache)).toMatchObject({ code: 0, stdout: '1' });
  const after = fs.statSync(file);
  expect(after.ino).not.toBe(before); // rewritten (a fresh file renamed over it), not read
  expect(after.mode & 0o777).toBe(0o600);

  fs.writeFileSync(file, 'xspot-cdk compile cache 1\n[["/nonexistent","x",99999999]]\ngarbage');
  fs.chmodSync(file, 0o600);
  expect(run(mod, cache)).toMatchObject({ code: 0, stdout: '1' });
  expect(fs.readFileSync(file).includes(Buffer.from(mod))).toBe(true);
});

test('a cache directory writable by others is not used; an unusable one does not fail the process', () => {
  const shared = path.join(tmp, 'shared');
  fs.mkdirSync(shared, { mode: 0o777 });
  fs.chmodSync(shared, 0o777);
  const mod = writeModule('m.js', 'exports.value = 2;\n');
  expect(run(mod, shared)).toMatchObject({ code: 0, stdout: '2' });
  expect(cacheFiles(shared)).toEqual([]);

  const notADir = path.join(tmp, 'file');
  fs.writeFileSync(notADir, '');
  expect(run(mod, notADir)).toMatchObject({ code: 0, stdout: '2', stderr: '' });
  expect(run(mod, 'off')).toMatchObject({ code: 0, stdout: '2' });
});

test('the app writes the same templates without the cache, with a cold one and with a warm one', () => {
  const cache = path.join(tmp, 'cache');
  const synth = (label: string, setting: string) => {
    const out = path.join(tmp, label);
    const r = runNode('xspot-cdk.js', [], {
      env: { CDK_OUTDIR: out, CDK_CONTEXT_JSON: '', CDK_VALIDATION: 'false', XSPOT_COMPILE_CACHE: setting },
    });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    return Object.fromEntries(
      fs
        .readdirSync(out)
        .filter((f) => f.endsWith('.template.json'))
        .map((f) => [f, fs.readFileSync(path.join(out, f), 'utf8')]),
    );
  };
  const without = synth('off', 'off');
  expect(Object.keys(without)).toHaveLength(3);
  const cold = synth('cold', cache);
  const [file] = cacheFiles(cache);
  const size = fs.statSync(path.join(cache, file)).size;
  expect(size).toBeGreaterThan(1_000_000); // aws-cdk-lib's modules are in it
  const warm = synth('warm', cache);
  expect(cold).toEqual(without);
  expect(warm).toEqual(without);
});
