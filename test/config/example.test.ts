/**
 * The example's acknowledgements belong to the example: config/default.yaml itself is quiet, a copy
 * of it shows every placeholder (at check-config and at synth), and a site's own file cannot
 * acknowledge the placeholder controller image.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatFinding } from '../../lib/config/findings';
import { checkConfigText, defaultConfigPath } from '../../lib/config/load';
import { runNode } from '../support/cli';
import { exampleCopyWithKey } from '../support/configs';

const EXAMPLE = fs.readFileSync(defaultConfigPath(), 'utf8');
const PLACEHOLDER_IDS = ['controller-ami-placeholder', 'docker-disk-overcommit', 'worker-ami-unset'];

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-example-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const unacknowledged = (file: string, text = EXAMPLE) =>
  checkConfigText(text, file)
    .findings.filter((f) => !f.acknowledged)
    .map((f) => `${f.severity} ${f.id}`)
    .sort();

/** A tree shaped like an xspot-cdk checkout (or a `git archive` of one) with the example in it. */
function tree(name: string, packageName: string): string {
  const root = path.join(tmp, name);
  fs.mkdirSync(path.join(root, 'config'), { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: packageName }));
  const file = path.join(root, 'config', 'default.yaml');
  fs.writeFileSync(file, EXAMPLE);
  return file;
}

describe("the example's acknowledgements", () => {
  test('the example names itself and is quiet where it lives (and in another checkout of the project)', () => {
    expect(EXAMPLE).toMatch(/^example: config\/default\.yaml$/m);
    expect(unacknowledged(defaultConfigPath())).toEqual([]);
    expect(unacknowledged(tree('checkout', 'xspot-cdk'))).toEqual([]);
  });

  test.each([
    ['cp config/default.yaml site.yaml', () => path.join(tmp, 'site.yaml')],
    [
      'a copy under config/ of the project, with another name',
      () => path.join(path.dirname(defaultConfigPath()), 'site.yaml'),
    ],
    ['config/default.yaml of another package', () => tree('other', 'my-infra')],
  ])('%s: every placeholder shows, with one warning saying why', (_what, where) => {
    const file = where();
    // WHEN the copy is checked
    const findings = checkConfigText(EXAMPLE, file).findings;
    // THEN none of the example's acknowledgements applies, and nothing is reported about them being unused
    expect(findings.filter((f) => f.acknowledged)).toEqual([]);
    // (and the missing package-signing key is an error: a copy has not said its repository has none)
    expect(unacknowledged(file)).toEqual(
      ['warning example-copy', 'error unsigned-packages', ...PLACEHOLDER_IDS.map((id) => `warning ${id}`)].sort(),
    );
    const note = findings.find((f) => f.id === 'example-copy')!;
    expect(formatFinding(note)).toMatch(
      /example = "config\/default\.yaml": this file is a copy of the project's example, not config\/default\.yaml itself: the example's 4 acknowledgements do not apply here.*npx xspot-cdk init/,
    );
  });

  test("a site's own file (no example line) cannot acknowledge the placeholder controller image; other acknowledgements still apply", () => {
    const own = EXAMPLE.replace(/^example: .*\n/m, '');
    const file = path.join(tmp, 'own.yaml');
    const check = checkConfigText(own, file);
    const err = check.findings.find((f) => f.id === 'example-only-acknowledgement')!;
    expect(err.severity).toBe('error');
    expect(formatFinding(err)).toMatch(
      /acknowledgedWarnings\[1\]\.id = "controller-ami-placeholder": only the project's example may acknowledge this warning.*set controllers\.amiId/,
    );
    expect(check.findings.find((f) => f.id === 'controller-ami-placeholder')?.acknowledged).toBeUndefined();
    expect(check.findings.find((f) => f.id === 'worker-ami-unset')?.acknowledged).toBe(
      'the example deployment has no worker image yet',
    );
  });

  test('an example line that is not a path under config/ is refused', () => {
    const check = checkConfigText('example: ../site.yaml\n', path.join(tmp, 'x.yaml'));
    expect(check.findings.map((f) => `${f.severity} ${f.path}`)).toEqual(['error example']);
  });

  test('synthesizing a copy prints the placeholders (cdk deploy runs the same synth)', () => {
    const file = path.join(tmp, 'synth-site.yaml');
    fs.writeFileSync(file, exampleCopyWithKey(EXAMPLE));
    const out = path.join(tmp, 'cdk.out');
    const r = runNode('xspot-cdk.js', [], { env: { XSPOT_CONFIG: file, CDK_OUTDIR: out, CDK_CONTEXT_JSON: '' } });
    expect(r.code).toBe(0);
    for (const id of ['example-copy', ...PLACEHOLDER_IDS]) expect(r.stderr).toContain(`warning [${id}]`);
    const quiet = runNode('xspot-cdk.js', [], {
      env: { CDK_OUTDIR: path.join(tmp, 'cdk.out.example'), CDK_CONTEXT_JSON: '' },
    });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/warning \[/);
  });
});
