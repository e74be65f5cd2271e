/**
 * cfn-lint over every synthesized template of the default config: zero errors. Warnings are printed
 * for review but do not fail (cfn-lint exit-code bit 2 = error). The examples under config/examples/
 * (an existing VPC with NFS storage, Grid Engine, three AZs) are linted in examples.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildApp, DEFAULT_YAML } from '../support/app';

test.each([['default config', DEFAULT_YAML]])(
  'cfn-lint finds no errors in any template (%s)',
  (_name, config) => {
    const { app } = buildApp(config);
    const dir = app.synth().directory;
    const templates = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => path.join(dir, f));
    expect(templates.length).toBeGreaterThanOrEqual(1);
    const r = spawnSync('cfn-lint', ['--format', 'parseable', ...templates], { encoding: 'utf8' });
    if (r.error) throw new Error(`cfn-lint could not run (is it installed? pip install cfn-lint): ${r.error.message}`);
    const errors = r.stdout.split('\n').filter((l) => /:E\d{4}:/.test(l));
    expect(errors).toEqual([]);
    expect((r.status ?? 0) & 2).toBe(0);
  },
  180_000,
);
