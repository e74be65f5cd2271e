/**
 * CLI conventions every command shares: -c/--config, --region and --profile spelled the same way,
 * required options said so in help, and errors for a missing profile or a missing emulator that say
 * what is wrong and where it was looked for.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../lib/errors';
import { describeAwsError } from '../../lib/ops/aws-errors';
import { lookupProfile, missingProfileMessage, profilesIn } from '../../lib/ops/aws-profile';
import { startMoto } from '../../lib/ops/local-deploy-moto';
import { ROOT, runCli } from '../support/cli';

const CONFIG_OPTION = /^\s+-c, --config <path>\s+config file/m;
const REGION_OPTION = /^\s+--region <region>\s+AWS region/m;
const PROFILE_OPTION = /^\s+--profile <profile>\s+AWS profile/m;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-conv-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('options', () => {
  // GIVEN every command that reads the deployment config
  test.each([
    ['check-config'],
    ['render'],
    ['scheduler', 'render'],
    ['fleet', 'status'],
    ['fleet', 'upgrade'],
    ['fleet', 'check'],
    ['ami', 'build'],
    ['ami', 'list'],
    ['ami', 'latest'],
    ['local', 'deploy'],
  ])('%s %s takes -c/--config the same way', (...cmd) => {
    const r = runCli([...cmd.filter(Boolean), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(CONFIG_OPTION);
  });

  test.each([['check-config'], ['fleet', 'status'], ['ami', 'list']])(
    '%s %s takes --region and --profile the same way',
    (...cmd) => {
      const r = runCli([...cmd.filter(Boolean), '--help']);
      expect(r.stdout).toMatch(REGION_OPTION);
      expect(r.stdout).toMatch(PROFILE_OPTION);
    },
  );

  test('render and scheduler render say --out is required, and accept -o', () => {
    for (const cmd of [['render'], ['scheduler', 'render']]) {
      const help = runCli([...cmd, '--help']).stdout;
      expect(help).toMatch(/-o, --out <dir>.*required/s);
      const missing = runCli([...cmd, '-c', 'config/default.yaml']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("required option '-o, --out <dir>' not specified");
    }
    const out = path.join(tmp, 'sched');
    const r = runCli(['scheduler', 'render', '-c', 'config/default.yaml', '-o', out, '--scheduler', 'slurm']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).length).toBeGreaterThan(0);
  });

  test("cost keeps the guide's -c (container) and takes --config in long form only", () => {
    const help = runCli(['cost', '--help']).stdout;
    expect(help).toMatch(/-c, --container <id>/);
    expect(help).toMatch(/^\s+--config <path>\s+deployment config, long form only/m);
  });
});

describe('a profile that does not exist', () => {
  const files = () => {
    const config = path.join(tmp, 'aws-config');
    fs.writeFileSync(config, '[default]\nregion = us-east-1\n[profile dev]\nregion = eu-west-1\n');
    const credentials = path.join(tmp, 'aws-credentials');
    fs.writeFileSync(credentials, '[ci]\naws_access_key_id = x\naws_secret_access_key = y\n');
    return {
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  };

  test('profilesIn reads both file dialects', () => {
    expect(profilesIn('[default]\n[profile a]\n[sso-session s]\n', 'config')).toEqual(['default', 'a']);
    expect(profilesIn('[default]\n[b]\n', 'credentials')).toEqual(['default', 'b']);
  });

  test('--profile names the profile and the files it was looked up in, before any AWS call', () => {
    const env = files();
    const r = runCli(['ami', 'list', '--profile', 'nosuch'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `error: --profile: AWS profile 'nosuch' (from --profile) was not found in ${env.AWS_CONFIG_FILE} and ${env.AWS_SHARED_CREDENTIALS_FILE}; profiles there: ci, default, dev`,
    );
  });

  test('a profile that exists passes the check', () => {
    const env = files();
    expect(missingProfileMessage(lookupProfile('dev', env))).toBeUndefined();
    expect(missingProfileMessage(lookupProfile('ci', env))).toBeUndefined();
  });

  test('AWS_PROFILE that does not exist is named when the SDK finds no credentials', () => {
    const env = { ...files(), AWS_PROFILE: 'gone' };
    const r = runCli(['fleet', 'status', '-c', 'config/default.yaml'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`AWS profile 'gone' (from AWS_PROFILE) was not found in ${env.AWS_CONFIG_FILE}`);
    expect(r.stderr).not.toContain('no AWS credentials found');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('without any profile the generic advice stays', () => {
    const prev = process.env.AWS_PROFILE;
    delete process.env.AWS_PROFILE;
    try {
      expect(describeAwsError({ name: 'CredentialsProviderError', message: 'x' }, { action: 'a' })).toContain(
        'no AWS credentials found',
      );
    } finally {
      if (prev !== undefined) process.env.AWS_PROFILE = prev;
    }
  });
});

describe('moto missing', () => {
  test('the error quotes the cause from its log and gives the install command', async () => {
    // GIVEN a real python3 that cannot see its site-packages (so moto is not importable)
    const python = path.join(tmp, 'python-without-site');
    fs.writeFileSync(python, '#!/bin/sh\nexec python3 -S "$@"\n', { mode: 0o755 });
    const logFile = path.join(tmp, 'moto.log');
    // WHEN the emulator is started
    const err = await startMoto({ logFile, python }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // THEN one line says why and how to fix it
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/did not start: it exited with status 1; its log says: .*No module named 'moto/);
    expect(msg).toContain(`install it with: ${python} -m pip install 'moto[server]'`);
    expect(msg).not.toContain('\n');
  });
});

test('lib/cli holds no error types of its own', () => {
  expect(fs.readFileSync(path.join(ROOT, 'lib/cli/errors.ts'), 'utf8')).not.toMatch(/class /);
});
