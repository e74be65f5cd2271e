/**
 * The CDK app as `cdk synth` runs it (dist/bin/xspot-cdk.js, a separate node process with the
 * V8 settings the app makes at start-up) writes the templates the in-process build writes, which
 * the snapshot, nag and cfn-lint gates check; V8 knows the flags it sets (it reports one it does not
 * know on stderr and goes on).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../../lib/config/load';
import { buildXspotApp } from '../../lib/stacks/app';
import { CDK_CONTEXT } from '../support/app';
import { runNode } from '../support/cli';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-synth-app-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const templates = (dir: string) =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]),
  );

test('the app process writes the templates of the in-process build; V8 took its flags', () => {
  const out = path.join(tmp, 'process');
  const r = runNode('xspot-cdk.js', [], { env: { CDK_OUTDIR: out, CDK_CONTEXT_JSON: '' } });
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/unrecognized flag/);

  const inProcess = path.join(tmp, 'in-process');
  const app = new App({ outdir: inProcess, context: CDK_CONTEXT, builtinCloudFormationValidation: false });
  buildXspotApp(app, loadConfig());
  app.synth();
  const expected = templates(inProcess);
  expect(Object.keys(expected).sort()).toEqual([
    'xspot-controllers.template.json',
    'xspot-prereqs.template.json',
    'xspot-worker-image.template.json',
  ]);
  expect(templates(out)).toEqual(expected);
});
