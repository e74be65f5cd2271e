/**
 * shellcheck over every shell script under assets/ (every engineer's: controller runtime, worker
 * image, scheduler hooks) and the runtime test stand-ins. Fails on any finding. shellcheck comes
 * from scripts/install-test-deps.sh.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, REPO } from './harness';

/** Shell scripts under dir: *.sh, *.bash, or an executable-style sh/bash shebang. */
function shellScripts(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    if (/\.(sh|bash)$/.test(entry.name)) {
      out.push(full);
      continue;
    }
    const head = fs.readFileSync(full).subarray(0, 64).toString('utf8');
    if (/^#!\s*(\/usr\/bin\/env\s+(-S\s+)?)?(\/bin\/|\/usr\/bin\/)?(ba)?sh\b/.test(head)) out.push(full);
  }
  return out.sort();
}

const shellcheck = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });

describe('shellcheck', () => {
  test('is installed (bash scripts/install-test-deps.sh)', () => {
    expect(shellcheck.error).toBeUndefined();
    expect(shellcheck.status).toBe(0);
  });

  const scripts = [...shellScripts(path.join(REPO, 'assets')), ...shellScripts(FIXTURES)];

  test('finds the controller runtime scripts', () => {
    const rel = scripts.map((s) => path.relative(REPO, s));
    expect(rel).toContain('assets/controller-runtime/bin/bootstrap.sh');
    expect(rel).toContain('assets/controller-runtime/scripts/lib.sh');
    expect(rel).toContain('test/fixtures/runtime/stubs/stub.sh');
  });

  test('reports nothing on any shell script under assets/', () => {
    // -x follows `source`, -P SCRIPTDIR resolves sourced paths next to each script; two
    // shellcheck processes at a time (the scripts sharing lib.sh make this CPU-bound)
    const r = spawnSync('xargs', ['-0', '-P', '2', '-n', '4', 'shellcheck', '-x', '-P', 'SCRIPTDIR', '--format=gcc'], {
      cwd: REPO,
      input: scripts.join('\0'),
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(r.error).toBeUndefined();
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  }, 300_000);
});
