import * as fs from 'node:fs';
import * as path from 'node:path';
import { configJsonSchema, renderConfigReference } from '../../lib/config/reference';
import { GUIDE_ENV_CFG_KEYS } from '../support/guide';

const ROOT = path.join(__dirname, '..', '..');

test('docs/config-reference.md is current (regenerate with npm run docs:config)', () => {
  expect(fs.readFileSync(path.join(ROOT, 'docs', 'config-reference.md'), 'utf8')).toBe(renderConfigReference());
});

test('config/xspot-config.schema.json is current (regenerate with npm run docs:config)', () => {
  expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'xspot-config.schema.json'), 'utf8'))).toEqual(
    configJsonSchema(),
  );
});

test('the reference documents every env.cfg setting of the guide by its own name', () => {
  const md = renderConfigReference();
  for (const name of [...GUIDE_ENV_CFG_KEYS, 'LOG_PATH']) {
    expect(md).toContain(name);
  }
});
