import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, runNode } from '../support/cli';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-cli-'));
const write = (dir: string, name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
/** The package-signing key lines every real config has (appended: earlier line numbers stay). */
const KEY_LINES = 'xspot:\n  repositoryGpgKey: https://packages.example.com/xspot/RPM-GPG-KEY\n';
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);

describe('check-config', () => {
  test('the embedded default passes: exit 0 and a summary line', () => {
    const r = runCli(['check-config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/default\.yaml: 0 errors, 0 warnings, 4 acknowledged/);
  });

  test('every problem is printed (not only the first), exit 1', () => {
    const f = write(
      tmp(),
      'bad.yaml',
      `deployment:\n  region: us-gov-west-1\nworkers:\n  overlayPrefix: 10.0.1.0/24\n${KEY_LINES}`,
    );
    const r = runCli(['check-config', '--config', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`error [govcloud-region] ${f}:2:11: deployment.region = "us-gov-west-1"`);
    expect(r.stdout).toContain(`error [overlay-overlaps-vpc] ${f}:4:18: workers.overlayPrefix = "10.0.1.0/24"`);
    expect(r.stdout).toMatch(/: 2 errors, /);
    noStack(r.stdout + r.stderr);
  });

  test('malformed YAML: one line with file:line:col, exit 1, no stack trace', () => {
    const f = write(tmp(), 'broken.yaml', 'deployment:\n  name: xspot\n    region: [us-east-1\n');
    const r = runCli(['check-config', '-c', f]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:9: invalid YAML: `));
  });

  test('a missing file: one line naming it, exit 1', () => {
    const r = runCli(['check-config', '-c', '/nonexistent/site.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: config file not found: /nonexistent/site.yaml');
  });

  test('an unknown key: file:line, the key, and the keys allowed there', () => {
    const f = write(tmp(), 'typo.yaml', 'controllers:\n  instanceType: m5d.xlarge\n  desiredCapcity: 2\n');
    const r = runCli(['check-config', '-c', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `error \\[unknown-key\\] ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:3: controllers.desiredCapcity = 2: unknown key \\(allowed: instanceType, amiId, minCapacity, maxCapacity, desiredCapacity,`,
      ),
    );
  });

  test('XSPOT_CONFIG selects the file when --config is not given', () => {
    const f = write(tmp(), 'env.yaml', 'deployment:\n  region: us-gov-east-1\n');
    const r = runCli(['check-config'], { env: { XSPOT_CONFIG: f } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('govcloud-region');
  });

  test('an unknown flag is refused by name, exit 1', () => {
    const r = runCli(['check-config', '--confg', 'x.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown option '--confg'/);
  });
});

describe('render', () => {
  test("writes the site's own hook scripts, executable", () => {
    const dir = tmp();
    write(dir, 'my-startup.sh', '#!/bin/bash\nuseradd -m alice\n');
    const cfg = write(
      dir,
      'site.yaml',
      'xspot:\n  repositoryGpgKey: https://packages.example.com/xspot/RPM-GPG-KEY\ncontainers:\n  scripts:\n    startup: my-startup.sh\n',
    );
    const out = path.join(dir, 'out');
    expect(runCli(['render', '--out', out, '-c', cfg]).code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'scripts/startup.sh'), 'utf8')).toBe('#!/bin/bash\nuseradd -m alice\n');
    expect(fs.statSync(path.join(out, 'scripts/startup.sh')).mode & 0o111).not.toBe(0);
    expect(fs.existsSync(path.join(out, 'scripts/job_startup_user.sh'))).toBe(false);
  });

  test('writes the guide files; a second run with a change shows a diff of just that change', () => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    const first = runCli(['render', '--out', out]);
    expect(first.code).toBe(0);
    for (const f of ['env.cfg', 'config.toml', 'dockerWrapper.toml', 'log_upload.env']) {
      expect(fs.existsSync(path.join(out, f))).toBe(true);
    }
    // no site hook named: the X-Spot packages' startup.sh is left alone, none is written
    expect(fs.existsSync(path.join(out, 'scripts/startup.sh'))).toBe(false);

    // unsigned, as the embedded default is, so that the only difference is the container size
    const cfg = write(
      dir,
      'site.yaml',
      'xspot:\n  containerFsSize: 40G\nacknowledgedWarnings:\n  - id: unsigned-packages\n    reason: as the example\n',
    );
    const preview = runCli(['render', '--out', out, '-c', cfg, '--dry-run']);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('-CONTAINER_FS_SIZE=50G\n+CONTAINER_FS_SIZE=40G');
    expect(preview.stdout).toMatch(/would write 1 file to .*, \d+ unchanged/);
    expect(fs.readFileSync(path.join(out, 'env.cfg'), 'utf8')).toContain('CONTAINER_FS_SIZE=50G');

    const second = runCli(['render', '--out', out, '-c', cfg]);
    expect(second.code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'env.cfg'), 'utf8')).toContain('CONTAINER_FS_SIZE=40G');
  });

  test('an invalid config writes nothing', () => {
    const dir = tmp();
    const cfg = write(dir, 'bad.yaml', `containers:\n  randBackoffRatio: 2\n${KEY_LINES}`);
    const r = runCli(['render', '--out', path.join(dir, 'out'), '-c', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 config error \(run xspot-cdk check-config for details\)/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });
});

describe('schema', () => {
  test('exports a JSON Schema with the guide names in descriptions', () => {
    const r = runCli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.properties.xspot.properties.remoteDir.description).toMatch(/REMOTE_DIR/);
    expect(schema.properties.workers.properties.overlayPrefix.default).toBe('192.168.137.0/24');
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('cdk synth runs the same validation', () => {
  test('a bad config stops synth with the check-config lines, exit 1, before any template is written', () => {
    const dir = tmp();
    const cfg = write(dir, 'bad.yaml', 'workers:\n  overlayPrefix: 10.0.0.0/24\n');
    const r = runNode('xspot-cdk.js', [], { env: { XSPOT_CONFIG: cfg, CDK_OUTDIR: path.join(dir, 'cdk.out') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error [overlay-overlaps-vpc] ${cfg}:2:18: workers.overlayPrefix = "10.0.0.0/24"`);
    const written = fs.existsSync(path.join(dir, 'cdk.out')) ? fs.readdirSync(path.join(dir, 'cdk.out')) : [];
    expect(written.filter((f) => f.endsWith('.template.json'))).toEqual([]);
    noStack(r.stderr);
  });
});
