/**
 * scripts/build-if-changed.js (cdk.json's build hook): tsc runs when a source, tsconfig.json or an
 * output changed or is missing, and not otherwise; a failed build is retried on the next run; a
 * dist/ that another compile wrote is never run as if it matched the sources.
 * A recording stand-in plays tsc: it "compiles" each bin/ and lib/ source to dist/ by copying it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/cli';

let project: string;
let log: string;
let tsc: string;

function write(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
  fs.writeFileSync(path.join(project, rel), text);
}

/** Runs the script on the scratch project; returns its exit status and how many times tsc ran in total. */
function run(): { status: number; compiles: number } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-if-changed.js'), project], {
    env: { ...process.env, XSPOT_TSC: tsc },
    encoding: 'utf8',
  });
  const compiles = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
  return { status: r.status ?? -1, compiles };
}

beforeEach(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-build-'));
  log = path.join(project, 'tsc.log');
  tsc = path.join(project, 'fake-tsc');
  // the stand-in records its arguments, writes the outputs, and fails while FAIL exists
  fs.writeFileSync(
    tsc,
    [
      '#!/bin/sh',
      `echo "$*" >> '${log}'`,
      `[ -e '${project}/FAIL' ] && { echo 'error TS1005: ; expected' >&2; exit 2; }`,
      `cd '${project}' && for f in $(find bin lib -name '*.ts'); do mkdir -p "dist/$(dirname "$f")" && cp "$f" "dist/\${f%.ts}.js"; done`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  write('tsconfig.json', JSON.stringify({ include: ['bin/**/*.ts', 'lib/**/*.ts'] }));
  write('bin/xspot-cdk.ts', 'export const a = 1;\n');
  write('bin/cli.ts', 'export const c = 1;\n');
  write('lib/x/y.ts', 'export const y = 1;\n');
  write('assets/z.sh', 'echo not a source\n');
});
afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

test('compiles once, then only when a source changes', () => {
  expect(run()).toEqual({ status: 0, compiles: 1 });
  expect(fs.readFileSync(log, 'utf8')).toContain('--incremental --tsBuildInfoFile');
  expect(run()).toEqual({ status: 0, compiles: 1 });
  // a file outside the included directories changes nothing
  write('assets/z.sh', 'echo changed\n');
  expect(run().compiles).toBe(1);
  // an edit, a new file, a removed file, tsconfig.json: each compiles again, once
  write('lib/x/y.ts', 'export const y = 2;\n');
  expect(run().compiles).toBe(2);
  expect(run().compiles).toBe(2);
  write('lib/new.ts', 'export const n = 1;\n');
  expect(run().compiles).toBe(3);
  fs.rmSync(path.join(project, 'lib', 'new.ts'));
  expect(run().compiles).toBe(4);
  write('tsconfig.json', JSON.stringify({ include: ['bin/**/*.ts', 'lib/**/*.ts'], compilerOptions: {} }));
  expect(run().compiles).toBe(5);
  expect(run().compiles).toBe(5);
});

test("a missing output compiles again, from scratch (tsc's incremental state would think it is there)", () => {
  run();
  fs.writeFileSync(path.join(project, 'dist', '.tsbuildinfo'), '{}');
  fs.rmSync(path.join(project, 'dist', 'bin', 'xspot-cdk.js'));
  expect(run()).toEqual({ status: 0, compiles: 2 });
  expect(fs.existsSync(path.join(project, 'dist', '.tsbuildinfo'))).toBe(false);
});

const dist = (rel: string) => fs.readFileSync(path.join(project, 'dist', rel), 'utf8');

test('a dist/ another compile wrote is compiled again from scratch, even when the sources match the last build', () => {
  expect(run().compiles).toBe(1);
  // edit, compile by hand (npx tsc), undo the edit: the sources are those of the last build again,
  // but dist/ holds the edit
  write('lib/x/y.ts', 'export const y = 2;\n');
  spawnSync(tsc, ['--by-hand'], { encoding: 'utf8' });
  write('lib/x/y.ts', 'export const y = 1;\n');
  fs.writeFileSync(path.join(project, 'dist', '.tsbuildinfo'), '{}');
  expect(dist('lib/x/y.js')).toBe('export const y = 2;\n');
  expect(run()).toEqual({ status: 0, compiles: 3 }); // the hand compile, then this one
  expect(dist('lib/x/y.js')).toBe('export const y = 1;\n');
  // tsc's incremental state would have said nothing changed: it was removed
  expect(fs.existsSync(path.join(project, 'dist', '.tsbuildinfo'))).toBe(false);
  expect(run().compiles).toBe(3);
  // any compiled file edited or added counts, not only the app's entry points
  fs.appendFileSync(path.join(project, 'dist', 'lib', 'x', 'y.js'), '// edited\n');
  expect(run().compiles).toBe(4);
  write('dist/lib/extra.js', 'module.exports = {};\n');
  expect(run().compiles).toBe(5);
  expect(run().compiles).toBe(5);
});

test("a failed build exits with tsc's status and is retried on the next run", () => {
  write('FAIL', '');
  expect(run()).toEqual({ status: 2, compiles: 1 });
  expect(run()).toEqual({ status: 2, compiles: 2 });
  fs.rmSync(path.join(project, 'FAIL'));
  expect(run()).toEqual({ status: 0, compiles: 3 });
  expect(run()).toEqual({ status: 0, compiles: 3 });
});

test('cdk.json and deploy:local use it', () => {
  const cdk = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));
  expect(cdk.build).toBe('node scripts/build-if-changed.js');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(pkg.scripts['deploy:local']).toMatch(/^node scripts\/build-if-changed\.js && /);
});
