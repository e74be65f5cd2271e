/**
 * The README's first day, as a new user runs it: `xspot-cdk init` (no credentials, flags only),
 * `check-config`, `xspot-cdk diff` of a change, and the local deploy of the file init wrote, against
 * real moto and the real CDK CLI. No surprise: each step succeeds with what the one before left.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runDiff } from '../../lib/ops/diff';
import { runLocalDeploy } from '../../lib/ops/local-deploy';
import { runCli } from '../support/cli';
import { collectingOutput, requireFreshBuild } from './helpers';

const MINUTES = 60_000;
let site: string;

beforeAll(() => {
  site = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-first-day-'));
});
afterAll(() => fs.rmSync(site, { recursive: true, force: true }));

test(
  'init, check-config, diff, local deploy',
  async () => {
    const appEntry = requireFreshBuild();
    // GIVEN a new site directory and no AWS credentials
    const env = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_REGION: '' };
    // WHEN init writes the config from flags, with the controller image the site already has
    const init = runCli(
      [
        'init',
        'site.yaml',
        '--yes',
        '--no-aws',
        '--name',
        'first-day',
        '--controller-ami',
        'ami-0abcdef0123456789',
        '--gpg-key',
        'https://packages.example.com/xspot/RPM-GPG-KEY',
      ],
      { cwd: site, env },
    );
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('next: npx xspot-cdk check-config -c site.yaml');
    const file = path.join(site, 'site.yaml');

    // THEN check-config passes (warnings only: no worker image yet, the guide's 80 slots on the disk)
    const check = runCli(['check-config', '-c', 'site.yaml'], { cwd: site, env });
    expect(check.stdout).toMatch(/site\.yaml: 0 errors, \d+ warnings?\n/);
    expect(check.code).toBe(0);

    // AND a change shows offline as a controller roll
    const before = path.join(site, 'site-before.yaml');
    fs.copyFileSync(file, before);
    const edited = fs.readFileSync(file, 'utf8').replace(/^(\s+instanceType:\s*)m5d\.xlarge$/m, '$1m5d.2xlarge');
    expect(edited).not.toBe(fs.readFileSync(before, 'utf8'));
    fs.writeFileSync(file, edited);
    const diff = await runDiff(before, file);
    expect(diff.changed).toBe(true);
    expect(diff.lines.join('\n')).toMatch(/^Stack first-day-controllers$/m);
    expect(diff.lines.join('\n')).toMatch(/LaunchTemplateData\.InstanceType/);

    // AND the file deploys to the local emulator as it is
    const io = collectingOutput();
    await runLocalDeploy(
      { deployment: { configPath: file, name: 'first-day', region: 'us-east-1' }, appEntry },
      { io },
    );
    for (const stack of ['first-day-prereqs', 'first-day-worker-image', 'first-day-controllers']) {
      expect(io.text()).toMatch(new RegExp(`^\\s+${stack}\\s+CREATE_COMPLETE`, 'm'));
    }
  },
  20 * MINUTES,
);
