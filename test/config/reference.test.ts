import * as fs from 'node:fs';
import * as path from 'node:path';
import { configJsonSchema, renderConfigReference } from '../../lib/config/reference';

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
  for (const name of [
    'REMOTE_DIR',
    'CONTAINER_FS_SIZE',
    'IMAGE_DEPLOY_DIR',
    'SCRIPT_DEPLOY_DIR',
    'LUSTRE_NEEDED',
    'AUTOFS_NEEDED',
    'LDAPS_NEEDED',
    'SSSD_NEEDED',
    'ONTAP_NEEDED',
    'ONTAP_FOLDERS',
    'IMAGE_NAME_LIST',
    'XSPOT_RPM_VERSION',
    'XSPOT_PLATFORM',
    'XSPOT_KERNEL',
    'XSPOT_GUEST_KERNEL',
    'CLI_WRAPPER_VERSION',
    'IS_SYSTEMD',
    'LOG_PATH',
  ]) {
    expect(md).toContain(name);
  }
});
