/**
 * cdk.json sets the feature flags `cdk init` sets for the installed aws-cdk-lib (its
 * recommended-feature-flags.json), holds no key that is not a flag, and every flag kept at another
 * value is explained in the README.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FLAGS } from 'aws-cdk-lib/cx-api';
import { ROOT } from '../support/cli';

const context: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
const recommended: Record<string, unknown> = JSON.parse(
  fs.readFileSync(require.resolve('aws-cdk-lib/recommended-feature-flags.json'), 'utf8'),
);
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** Flags deliberately not at the recommended value, and the value they keep. */
const KEPT: Record<string, unknown> = { '@aws-cdk/core:defaultCrossStackReferences': 'strong' };

test('every key in the context is a feature flag of the installed aws-cdk-lib', () => {
  expect(Object.keys(context).filter((k) => !(k in FLAGS))).toEqual([]);
});

test('every flag cdk init sets is set, to its recommended value unless kept on purpose', () => {
  const missing = Object.keys(recommended).filter((k) => !(k in context));
  expect(missing).toEqual([]);
  const differing = Object.keys(recommended).filter(
    (k) => JSON.stringify(context[k]) !== JSON.stringify(recommended[k]),
  );
  expect(differing.sort()).toEqual(Object.keys(KEPT).sort());
  for (const [k, v] of Object.entries(KEPT)) expect(context[k]).toEqual(v);
});

test.each(Object.entries(KEPT))('the README explains why %s stays %s', (flag, value) => {
  const line = README.split('\n\n').find((p) => p.includes(flag));
  expect(line).toBeDefined();
  expect(line).toContain(JSON.stringify(value));
  expect(line).toMatch(/because|so that|keeps/);
});
