/**
 * The userdata script: the renderer's allow-list and placeholder checks, shellcheck on the
 * template and on the synthesized script, and the synthesized script run for real in a scratch
 * root (XSPOT_ROOT) against the synthesized archives, with stand-ins for `aws`, `curl` and `yum`
 * that record their arguments.
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Token } from 'aws-cdk-lib';
import {
  assertShellValue,
  readUserDataTemplate,
  renderDeployEnv,
  renderTemplate,
  USERDATA_TEMPLATE_FILE,
  userDataFilePath,
} from '../../lib/constructs/controller-fleet-userdata';
import { buildFleet, makeRuntimeDir, userDataText } from './helpers';

function shellcheck(file: string): { status: number | null; out: string } {
  const r = spawnSync('shellcheck', ['-s', 'bash', '-f', 'gcc', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`shellcheck could not run (apt-get install shellcheck): ${r.error.message}`);
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('renderer', () => {
  test("deploy.env lines are KEY='value' in the given order", () => {
    expect(
      renderDeployEnv([
        { key: 'XSPOT_DEPLOYMENT', value: 'xspot', field: 'deploymentName' },
        { key: 'XSPOT_LOG_BUCKET', value: '', field: 'logBucket' },
      ]),
    ).toBe("XSPOT_DEPLOYMENT='xspot'\nXSPOT_LOG_BUCKET=''");
  });

  test.each([
    ["it's", 'quote'],
    ['a b', 'space'],
    ['a\nb', 'newline'],
    ['$(reboot)', 'command substitution'],
    ['`id`', 'backticks'],
  ])('value %j (%s) is refused, naming the field', (value) => {
    expect(() => assertShellValue('storage.mountOptions', value)).toThrow(
      /^storage\.mountOptions: .* cannot be passed to the controller/,
    );
  });

  test('tokens pass; the literal text around them is still checked', () => {
    const bucket = Token.asString({ Ref: 'Bucket' });
    expect(() => assertShellValue('logBucket', bucket)).not.toThrow();
    expect(() => assertShellValue('url', `s3://${bucket}/key.zip`)).not.toThrow();
    expect(() => assertShellValue('url', `s3://${bucket}/it's.zip`)).toThrow(/url: /);
  });

  test.each([
    [{ A: 'x' }, 'echo @@A@@ @@B@@', /placeholder @@B@@ has no value/],
    [{ A: 'x', C: 'y' }, 'echo @@A@@', /has no placeholder for C/],
  ])('placeholders and values must match one to one', (values, template, message) => {
    expect(() => renderTemplate(template, values)).toThrow(message);
  });

  test('the deploy.env keys are unique and shell names', () => {
    expect(() =>
      renderDeployEnv([
        { key: 'A', value: '1', field: 'a' },
        { key: 'A', value: '2', field: 'a' },
      ]),
    ).toThrow('deploy.env key A is set twice');
    expect(() => renderDeployEnv([{ key: 'a-b', value: '1', field: 'a' }])).toThrow(/upper-case shell name/);
  });
});

describe('shellcheck', () => {
  test('the template is shellcheck-clean', () => {
    const r = shellcheck(userDataFilePath(USERDATA_TEMPLATE_FILE));
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  test('the synthesized userdata is shellcheck-clean', () => {
    const { template } = buildFleet();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-ud-')), 'userdata.sh');
    fs.writeFileSync(file, userDataText(template));
    const r = shellcheck(file);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  test('the template starts with a header saying what it does', () => {
    const text = readUserDataTemplate();
    expect(text.startsWith('#!/bin/bash\n# Controller userdata:')).toBe(true);
    expect(text).toContain('set -euo pipefail');
  });
});

// ---------------------------------------------------------------------------------------------
// Running the synthesized script

const AWS_STUB = `#!/bin/bash
# Stand-in for the AWS CLI: records its arguments; "s3 cp s3://BUCKET/KEY DEST" copies
# $FAKE_S3/asset.KEY; any call whose arguments match $AWS_FAIL fails.
if [ "$1" = --version ]; then echo "\${AWS_VERSION_LINE:-aws-cli/1.18.147}"; exit 0; fi
printf '%s\\n' "$*" >>"$CALLS"
args=("$@")
if [ "\${args[0]}" = --region ]; then args=("\${args[@]:2}"); fi
if [ -n "\${AWS_FAIL:-}" ] && [[ "\${args[*]}" =~ $AWS_FAIL ]]; then echo "aws: simulated failure" >&2; exit 255; fi
if [ "\${args[0]}" = s3 ] && [ "\${args[1]}" = cp ]; then
  src="\${args[3]}"; dst="\${args[4]}"
  cp "$FAKE_S3/asset.\${src##*/}" "$dst"
fi
exit 0
`;
const CURL_STUB = `#!/bin/bash
# Stand-in for curl against IMDSv2, and for the AWS CLI download ($FAKE_CLI_ZIP to the -o file).
printf 'curl %s\\n' "$*" >>"$CALLS"
out=""
prev=""
for a in "$@"; do
  if [ "$prev" = -o ]; then out="$a"; fi
  prev="$a"
done
for a in "$@"; do
  case "$a" in
    https://awscli.amazonaws.com/*) cp "$FAKE_CLI_ZIP" "$out"; exit 0 ;;
    */latest/api/token) echo TOKEN; exit 0 ;;
    */latest/meta-data/instance-id) echo i-0123456789abcdef0; exit 0 ;;
  esac
done
exit 22
`;
const YUM_STUB = `#!/bin/bash\nprintf 'yum %s\\n' "$*" >>"$CALLS"\n`;
const BOOTSTRAP = `#!/usr/bin/env bash
# Stand-in bootstrap: records that it ran, from where, with which root.
printf 'bootstrap %s %s\\n' "$(cd "$(dirname "$0")/.." && pwd)" "$XSPOT_ROOT" >>"$CALLS"
exit "\${BOOTSTRAP_EXIT:-0}"
`;

describe('the synthesized userdata, run in a scratch root', () => {
  // GIVEN a fleet whose runtime's bootstrap.sh records that it ran, synthesized with its archives
  const { app, fleet, template } = buildFleet({}, makeRuntimeDir({ 'bin/bootstrap.sh': BOOTSTRAP }));
  const assembly = app.synth().directory;
  const script = userDataText(template);
  const releaseRel = `opt/xspot-cdk/releases/${fleet.runtimeVersion}`;

  function run(
    env: Record<string, string> = {},
    prepare?: (ctx: { root: string; s3: string }) => void,
    synthesized: { script: string; assembly: string } = { script, assembly },
  ) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-ud-run-'));
    const root = path.join(work, 'root');
    const stubs = path.join(work, 'stubs');
    const s3 = path.join(work, 's3');
    const calls = path.join(work, 'calls.log');
    for (const d of [root, stubs, s3]) fs.mkdirSync(d, { recursive: true });
    for (const f of fs.readdirSync(synthesized.assembly).filter((n) => /^asset\.[0-9a-f]{64}\.zip$/.test(n))) {
      fs.copyFileSync(path.join(synthesized.assembly, f), path.join(s3, f));
    }
    fs.writeFileSync(path.join(stubs, 'aws'), AWS_STUB, { mode: 0o755 });
    fs.writeFileSync(path.join(stubs, 'curl'), CURL_STUB, { mode: 0o755 });
    fs.writeFileSync(path.join(stubs, 'yum'), YUM_STUB, { mode: 0o755 });
    fs.writeFileSync(calls, '');
    const file = path.join(work, 'userdata.sh');
    fs.writeFileSync(file, synthesized.script);
    prepare?.({ root, s3 });
    const r = spawnSync('bash', [file], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: `${stubs}:/usr/bin:/bin`,
        XSPOT_ROOT: root,
        XSPOT_IMDS_ENDPOINT: 'http://imds.invalid',
        XSPOT_RETRY_SECONDS: '0',
        FAKE_S3: s3,
        CALLS: calls,
        ...env,
      },
    });
    return {
      status: r.status,
      output: r.stdout + r.stderr,
      calls: fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean),
      root,
    };
  }

  test('happy path: writes deploy.env, verifies and unpacks both archives, hands over to bin/bootstrap.sh', () => {
    const r = run();
    expect(r.output).not.toContain('FAILED');
    expect(r.status).toBe(0);
    // deploy.env
    const env = fs.readFileSync(path.join(r.root, 'etc/xspot-cdk/deploy.env'), 'utf8');
    expect(env).toContain(`XSPOT_RELEASE_DIR='/${releaseRel}'`);
    expect(env).toContain("XSPOT_LAUNCH_HOOK='xspot-bootstrap'");
    // the release: runtime at the top, config bundle in conf/, modes kept
    const release = path.join(r.root, releaseRel);
    expect(fs.statSync(path.join(release, 'bin/bootstrap.sh')).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(path.join(release, 'conf/env.cfg'), 'utf8')).toContain('XSPOT_RPM_VERSION=');
    expect(fs.statSync(path.join(release, 'conf/scripts/startup.sh')).mode & 0o777).toBe(0o755);
    expect(fs.existsSync(`${release}.partial`)).toBe(false);
    // the calls, in order: two downloads, then the bootstrap; no lifecycle call from the userdata
    const s3 = r.calls.filter((c) => c.includes(' s3 cp '));
    expect(s3).toHaveLength(2);
    expect(r.calls.indexOf(s3[1])).toBeLessThan(r.calls.findIndex((c) => c.startsWith('bootstrap ')));
    expect(r.calls).toContain(`bootstrap ${release} ${r.root}`);
    expect(r.calls.some((c) => c.includes('complete-lifecycle-action'))).toBe(false);
    expect(fs.readFileSync(path.join(r.root, 'var/log/xspot-cdk/userdata.log'), 'utf8')).toContain('running');
  });

  test('a tampered archive fails the checksum step: tagged, counted, abandoned, never bootstrapped', () => {
    const r = run({}, ({ s3 }) => {
      const config = fs.readdirSync(s3).find((f) => f.includes(fleet.configAsset.assetHash))!;
      fs.appendFileSync(path.join(s3, config), 'tampered');
    });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('XSPOT-BOOTSTRAP-FAILED step=userdata:checksum');
    expect(r.calls).toEqual(
      expect.arrayContaining([
        '--region us-east-1 ec2 create-tags --resources i-0123456789abcdef0 --tags Key=xspot:bootstrap-failed-step,Value=userdata:checksum',
        '--region us-east-1 cloudwatch put-metric-data --namespace XspotCdk --metric-name BootstrapFailures --dimensions AutoScalingGroupName=xspot-controllers --value 1 --unit Count',
        '--region us-east-1 autoscaling complete-lifecycle-action --lifecycle-action-result ABANDON --instance-id i-0123456789abcdef0 --lifecycle-hook-name xspot-bootstrap --auto-scaling-group-name xspot-controllers',
      ]),
    );
    expect(r.calls.some((c) => c.startsWith('bootstrap '))).toBe(false);
    expect(fs.existsSync(path.join(r.root, releaseRel))).toBe(false);
  });

  test('a download that keeps failing is retried, then abandons the launch as userdata:download', () => {
    const r = run({ AWS_FAIL: '^s3 cp' });
    expect(r.status).not.toBe(0);
    expect(r.calls.filter((c) => c.includes(' s3 cp '))).toHaveLength(5);
    expect(r.calls).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Value=userdata:download'),
        expect.stringContaining('--lifecycle-action-result ABANDON'),
      ]),
    );
  });

  test('a failing bootstrap owns the lifecycle action: the userdata exits with its status and counts the failure', () => {
    const r = run({ BOOTSTRAP_EXIT: '3' });
    expect(r.status).toBe(3);
    expect(r.calls).toEqual(expect.arrayContaining([expect.stringContaining('put-metric-data')]));
    expect(r.calls.some((c) => c.includes('complete-lifecycle-action'))).toBe(false);
    expect(r.output).not.toContain('XSPOT-BOOTSTRAP-FAILED step=userdata:');
  });

  test('a release already unpacked is reused, not unpacked again', () => {
    const r = run({}, ({ root }) => {
      fs.mkdirSync(path.join(root, releaseRel, 'bin'), { recursive: true });
      fs.writeFileSync(path.join(root, releaseRel, 'bin', 'bootstrap.sh'), BOOTSTRAP, { mode: 0o755 });
    });
    expect(r.status).toBe(0);
    expect(r.output).toContain('is already unpacked');
    expect(fs.existsSync(path.join(r.root, releaseRel, 'conf'))).toBe(false);
  });

  test('without a pinned AWS CLI, a v1 aws is used with a warning naming controllers.awsCli', () => {
    const r = run({ AWS_VERSION_LINE: 'aws-cli/1.18.147 Python/2.7.5' });
    expect(r.status).toBe(0);
    expect(r.output).toContain('is not the AWS CLI v2 the guide asks for');
    expect(r.calls.some((c) => c.includes('awscli.amazonaws.com'))).toBe(false);
  });

  describe('a pinned AWS CLI v2 (controllers.awsCli)', () => {
    // GIVEN an installer zip whose aws/install records that it ran, and a fleet pinned to its SHA-256
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-awscli-'));
    fs.mkdirSync(path.join(dir, 'aws'));
    fs.writeFileSync(path.join(dir, 'aws/install'), '#!/bin/bash\nprintf "aws-install %s\\n" "$*" >>"$CALLS"\n', {
      mode: 0o755,
    });
    const zip = path.join(dir, 'awscliv2.zip');
    expect(spawnSync('zip', ['-qr', zip, 'aws'], { cwd: dir }).status).toBe(0);
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(zip)).digest('hex');
    const pinned = buildFleet(
      { awsCli: { version: '2.22.35', sha256 } },
      makeRuntimeDir({ 'bin/bootstrap.sh': BOOTSTRAP }),
    );
    const synthesized = { script: userDataText(pinned.template), assembly: pinned.app.synth().directory };

    test('is downloaded over https, checked against its SHA-256 and installed', () => {
      const r = run({ AWS_VERSION_LINE: 'aws-cli/1.18.147 Python/2.7.5', FAKE_CLI_ZIP: zip }, undefined, synthesized);
      expect(r.status).toBe(0);
      const get = r.calls.find((c) => c.includes('awscli.amazonaws.com'));
      expect(get).toContain('--proto =https');
      expect(get).toContain(
        `https://awscli.amazonaws.com/awscli-exe-linux-${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-2.22.35.zip`,
      );
      expect(r.calls).toContain('aws-install --update');
    });

    test('an installer with another SHA-256 is refused and never run', () => {
      const other = path.join(dir, 'other.zip');
      fs.copyFileSync(zip, other);
      fs.appendFileSync(other, 'x');
      const r = run({ AWS_VERSION_LINE: '', FAKE_CLI_ZIP: other }, undefined, synthesized);
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(`expected ${sha256} (controllers.awsCli.sha256); not installed`);
      expect(r.calls.some((c) => c.startsWith('aws-install'))).toBe(false);
      expect(r.calls.some((c) => c.startsWith('bootstrap '))).toBe(false);
    });

    test('an image that already has v2 downloads nothing', () => {
      const r = run({ AWS_VERSION_LINE: 'aws-cli/2.22.35 Python/3.12.6', FAKE_CLI_ZIP: zip }, undefined, synthesized);
      expect(r.status).toBe(0);
      expect(r.calls.some((c) => c.includes('awscli.amazonaws.com'))).toBe(false);
    });
  });
});
