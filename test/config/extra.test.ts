/**
 * xspot.extra: vendor keys pass through into config.toml, dockerWrapper.toml and log_upload.env.
 * The rendered files are read back by the parsers that matter: smol-toml for the TOML files and
 * bash (`set -a; . log_upload.env`) for the env file.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { stringify } from 'yaml';
import { formatFinding } from '../../lib/config/findings';
import { checkConfigText, defaultConfigPath } from '../../lib/config/load';
import { renderConfigToml, renderDockerWrapperToml, renderLogUploadEnv } from '../../lib/config/render';
import type { XspotConfig } from '../../lib/config/resolve';
import { TEST_KEY_URL } from '../support/configs';

const FILE = path.join(path.dirname(defaultConfigPath()), 'case.yaml');
const check = (extra: object, more: object = {}) =>
  checkConfigText(stringify({ xspot: { extra, repositoryGpgKey: TEST_KEY_URL }, ...more }), FILE);
const valid = (extra: object, more: object = {}): XspotConfig => {
  const c = check(extra, more);
  expect(c.findings.filter((f) => f.severity === 'error').map(formatFinding)).toEqual([]);
  return c.config!;
};

describe('keys pass through and the rendered keys stay as they were', () => {
  test('config.toml: a new key in [aws], a new table', () => {
    const base = parseToml(renderConfigToml(valid({})));
    const c = valid({
      configToml: {
        aws: { spot_allocation_strategy: 'capacity-optimized', max_retries: 3 },
        telemetry: { enabled: false, endpoints: ['a.example', 'b.example'] },
      },
    });
    const toml = parseToml(renderConfigToml(c)) as Record<string, Record<string, unknown>>;
    expect(toml.aws).toEqual({
      ...(base.aws as object),
      spot_allocation_strategy: 'capacity-optimized',
      max_retries: 3,
    });
    expect(toml.telemetry).toEqual({ enabled: false, endpoints: ['a.example', 'b.example'] });
    expect(toml.license).toEqual(base.license);
  });

  test('dockerWrapper.toml: a new top-level key; a string with quotes and a newline stays one TOML string', () => {
    const c = valid({ dockerWrapperToml: { gpu_passthrough: true, banner: 'say "hi"\nbye' } });
    const toml = parseToml(renderDockerWrapperToml(c));
    expect(toml.gpu_passthrough).toBe(true);
    expect(toml.banner).toBe('say "hi"\nbye');
    expect(toml.rand_backoff_ration).toBe(0.5);
  });

  test('log_upload.env: lines after LOG_PATH, read back by bash as they were written', () => {
    const c = valid({ logUploadEnv: { S3_STORAGE_CLASS: 'STANDARD_IA', UPLOAD_URL: 'https://logs.example/a=b,c' } });
    const text = renderLogUploadEnv(c);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-extra-'));
    try {
      fs.writeFileSync(path.join(dir, 'log_upload.env'), text);
      const r = spawnSync(
        'bash',
        ['-c', 'set -a; . ./log_upload.env; printf "%s\\n" "$LOG_PATH" "$S3_STORAGE_CLASS" "$UPLOAD_URL"'],
        { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } },
      );
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n').slice(0, 3)).toEqual(['/var/log/xspot', 'STANDARD_IA', 'https://logs.example/a=b,c']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('no extra keys: the files are what they were', () => {
    const c = valid({});
    expect(renderLogUploadEnv(c).trimEnd().split('\n').pop()).toBe('LOG_PATH=/var/log/xspot');
  });
});

describe('what is refused', () => {
  test.each([
    [
      'config.toml aws.overlay_prefix',
      { configToml: { aws: { overlay_prefix: '10.9.0.0/24' } } },
      {},
      'xspot.extra.configToml.aws.overlay_prefix',
    ],
    [
      'config.toml aws.ami while workers.ami is unset',
      { configToml: { aws: { ami: 'ami-0123456789abcdef1' } } },
      {},
      'xspot.extra.configToml.aws.ami',
    ],
    [
      'config.toml aws.instance_tags.Name',
      { configToml: { aws: { instance_tags: { Name: 'x' } } } },
      {},
      'xspot.extra.configToml.aws.instance_tags.Name',
    ],
    ['config.toml license as a string', { configToml: { license: 'x' } }, {}, 'xspot.extra.configToml.license'],
    [
      'dockerWrapper.toml rand_backoff_ration',
      { dockerWrapperToml: { rand_backoff_ration: 0.9 } },
      {},
      'xspot.extra.dockerWrapperToml.rand_backoff_ration',
    ],
    ['log_upload.env LOG_PATH', { logUploadEnv: { LOG_PATH: '/tmp' } }, {}, 'xspot.extra.logUploadEnv.LOG_PATH'],
  ])('a key xspot-cdk renders: %s', (_name, extra, more, p) => {
    const f = check(extra, more).findings.find((x) => x.id === 'extra-overrides-rendered');
    expect(f).toMatchObject({ severity: 'error', path: p });
    expect(formatFinding(f!)).toMatch(/is rendered by xspot-cdk from a config field; extra keys may only add/);
  });

  test.each([
    ['an env value with a space and a command', { logUploadEnv: { X: 'a b; rm -rf /' } }, 'xspot.extra.logUploadEnv.X'],
    ['an env value with $', { logUploadEnv: { X: '$(id)' } }, 'xspot.extra.logUploadEnv.X'],
    ['an env value with a newline', { logUploadEnv: { X: 'a\nEVIL=1' } }, 'xspot.extra.logUploadEnv.X'],
    ['an env name that is not one', { logUploadEnv: { 'X-Y': 'a' } }, 'xspot.extra.logUploadEnv.X-Y'],
    ['a TOML key with a dot', { dockerWrapperToml: { 'a.b': 1 } }, 'xspot.extra.dockerWrapperToml["a.b"]'],
    ['a null TOML value (YAML ~)', { dockerWrapperToml: { a: null } }, 'xspot.extra.dockerWrapperToml.a'],
  ])('%s', (_name, extra, p) => {
    const errors = check(extra).findings.filter((f) => f.severity === 'error');
    expect(errors.map((f) => f.path)).toContain(p);
  });
});
