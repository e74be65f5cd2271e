/**
 * The offline instance-type catalog against two oracles that do not share its code: the EC2 API
 * model of the installed SDK (the catalog must be current with it) and moto's copy of
 * DescribeInstanceTypes (every real x86_64 type it lists passes check-config; names it does not
 * list, typed the way people mistype them, are refused with the forms that exist).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { stringify } from 'yaml';
import { formatFinding } from '../../lib/config/findings';
import { familySizes, unknownInstanceName } from '../../lib/config/instance-types';
import { checkConfigText, defaultConfigPath } from '../../lib/config/load';

const ROOT = path.resolve(__dirname, '../..');
const FILE = path.join(path.dirname(defaultConfigPath()), 'case.yaml');
const findingsOf = (cfg: object) => checkConfigText(stringify(cfg), FILE).findings;

interface MotoType {
  readonly InstanceType: string;
  readonly ProcessorInfo: { readonly SupportedArchitectures: readonly string[] };
}

/** moto's recorded DescribeInstanceTypes answer (the Python package the e2e tests run as the AWS API). */
function motoInstanceTypes(): Record<string, MotoType> {
  const dir = execFileSync('python3', ['-c', 'import moto, os; print(os.path.dirname(moto.__file__))'], {
    encoding: 'utf8',
  }).trim();
  const gz = fs.readFileSync(path.join(dir, 'ec2', 'resources', 'instance_types.json.gz'));
  return JSON.parse(zlib.gunzipSync(gz).toString('utf8'));
}

describe('the catalog is the EC2 API model of the installed SDK', () => {
  test('regenerating it from @aws-sdk/client-ec2 changes nothing', () => {
    // A stale catalog after an SDK upgrade would refuse families AWS added since.
    expect(() =>
      execFileSync('node', [path.join(ROOT, 'scripts/gen-instance-catalog.mjs'), '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
  });
});

describe("moto's DescribeInstanceTypes as the oracle", () => {
  const moto = motoInstanceTypes();
  const x86 = Object.values(moto)
    .filter((t) => t.ProcessorInfo.SupportedArchitectures.includes('x86_64'))
    .map((t) => t.InstanceType);

  test('lists hundreds of x86_64 types', () => {
    expect(x86.length).toBeGreaterThan(500);
  });

  test('every real type and its family is known', () => {
    const refused = x86.filter(
      (t) => unknownInstanceName(t, false) !== undefined || unknownInstanceName(t.split('.')[0], true) !== undefined,
    );
    expect(refused).toEqual([]);
  });

  test('a sample of real x86_64 types passes check-config as controller, builder and worker types', () => {
    // Every 40th type, so the config pipeline (not only the lookup) sees a spread of families.
    const sample = x86.filter((_, i) => i % 40 === 0);
    for (const t of sample) {
      const ids = findingsOf({
        controllers: { instanceType: t },
        workerImage: { builderInstanceTypes: [t] },
        workers: { onDemandTypes: [t], spotFleetTypes: [t.split('.')[0]] },
      }).map((f) => f.id);
      expect({ t, unknown: ids.includes('instance-type-unknown') }).toEqual({ t, unknown: false });
    }
  });

  // Typos people make, each checked first against the oracle: none of them exists.
  test.each([
    ['m5d.2xlarg', 'm5d has no size 2xlarg', 'm5d.2xlarge'],
    ['m5d.xxlarge', 'm5d has no size xxlarge', 'm5d.2xlarge'],
    ['r5.96xlarge', 'r5 has no size 96xlarge', 'r5.24xlarge'],
    ['r5.metal-48xl', 'r5 has no size metal-48xl', 'r5.metal'],
    ['m5dd.xlarge', 'm5dd is not an EC2 instance family', 'm5d'],
    ['c5.xlarge5', 'c5 has no size xlarge5', 'c5.xlarge'],
  ])('%s is refused, naming the forms that exist', (typo, message, form) => {
    expect(moto[typo]).toBeUndefined();
    const problem = unknownInstanceName(typo, false);
    expect(problem?.message).toContain(message);
    expect(problem?.allowed).toContain(form);
    // Every form the message offers exists.
    const offered = problem!.allowed.match(/[a-z][a-z0-9-]*\.[a-z0-9-]+/g) ?? [];
    expect(offered.filter((t) => !moto[t])).toEqual([]);
  });

  test.each([['r5x'], ['r5xd'], ['m5e'], ['zz9'], ['c5n4']])('the made-up family %s is refused', (family) => {
    expect(Object.keys(moto).some((t) => t.startsWith(`${family}.`))).toBe(false);
    expect(familySizes(family)).toBeUndefined();
    expect(unknownInstanceName(family, true)?.message).toEqual(
      expect.stringContaining(`${family} is not an EC2 instance family`),
    );
  });

  test('a bare family where a type is needed is refused with its sizes', () => {
    expect(unknownInstanceName('m5d', false)).toEqual({
      message: 'is a family, not an instance type',
      allowed: expect.stringContaining('m5d.xlarge'),
    });
    expect(unknownInstanceName('m5d', true)).toBeUndefined();
  });

  test('inherited object keys are not families', () => {
    expect(familySizes('constructor')).toBeUndefined();
    expect(familySizes('__proto__')).toBeUndefined();
  });
});

describe('check-config: a typo in an instance type', () => {
  test('m5d.2xlarg is an error naming the sizes, and no hint suggests a setting that hides it', () => {
    // GIVEN the guide's controller type with its last letter missing
    const findings = findingsOf({ controllers: { instanceType: 'm5d.2xlarg' } });
    // THEN one error names the field and the sizes that exist
    const e = findings.find((f) => f.id === 'instance-type-unknown');
    expect(e).toMatchObject({ severity: 'error', path: 'controllers.instanceType', value: 'm5d.2xlarg' });
    expect(formatFinding(e!)).toMatch(/m5d has no size 2xlarg \(allowed: m5d\.large, .*m5d\.2xlarge, .*m5d\.metal\)/);
    // AND no other finding points at a setting (dockerVolumeGb, maxContainers) as the way out
    const others = findings.filter((f) => f !== e && /instanceType|maxContainers|dockerVolumeGb/.test(f.path));
    expect(others.map((f) => f.id)).toEqual([]);
    for (const f of findings) expect(formatFinding(f)).not.toMatch(/dockerVolumeGb|maxContainers/);
  });

  test.each([
    ['dockerVolumeGb', { dockerVolumeGb: 500 }],
    ['maxContainers', { maxContainers: 3 }],
    ['both', { dockerVolumeGb: 500, maxContainers: 3 }],
  ])('setting %s does not make the typo pass', (_name, extra) => {
    const ids = findingsOf({ controllers: { instanceType: 'm5d.2xlarg', ...extra } })
      .filter((f) => f.severity === 'error')
      .map((f) => f.id);
    expect(ids).toContain('instance-type-unknown');
  });
});
