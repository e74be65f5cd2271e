/**
 * What makes a new launch template version (CloudFormation adds one whenever LaunchTemplateData
 * changes on the same resource): the runtime, the rendered config (X-Spot versions, worker AMI),
 * the controller image. What does not: the same inputs again, or a group-only change.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControllerFleetProps } from '../../lib/constructs/controller-fleet';
import { buildFleet, makeConfigFiles, makeRuntimeDir } from './helpers';

interface Synth {
  readonly logicalId: string;
  readonly data: unknown;
  readonly description: unknown;
  readonly runtimeVersion: string;
  readonly runtimeSha256: string;
  readonly configSha256: string;
}

function synth(props: Partial<ControllerFleetProps> = {}, runtimeDir = makeRuntimeDir()): Synth {
  const { template, fleet } = buildFleet(props, runtimeDir);
  const [[logicalId, lt]] = Object.entries(template.findResources('AWS::EC2::LaunchTemplate'));
  return {
    logicalId,
    data: lt.Properties.LaunchTemplateData,
    description: lt.Properties.VersionDescription,
    runtimeVersion: fleet.runtimeVersion,
    runtimeSha256: fleet.runtimeSha256,
    configSha256: fleet.configSha256,
  };
}

// GIVEN the baseline fleet
const base = synth();

test('the same inputs (a fresh copy of the same runtime) give the same launch template: no new version', () => {
  const again = synth();
  expect(again.data).toEqual(base.data);
  expect(again.description).toEqual(base.description);
  expect(again.runtimeVersion).toBe(base.runtimeVersion);
});

test('a group-only change (capacity) leaves the launch template alone', () => {
  const bigger = synth({ maxCapacity: 10, desiredCapacity: 3 });
  expect(bigger.data).toEqual(base.data);
});

test.each([
  [
    'a new X-Spot version in env.cfg',
    { configFiles: makeConfigFiles({ rpmVersion: 'xspot-1.4.0.0-rc_deadbeef.el7' }) },
  ],
  ['a new worker AMI id in config.toml', { configFiles: makeConfigFiles({ workerAmi: 'ami-0bbbbbbbbbbbbbbbb' }) }],
])('%s changes the config archive, the userdata and so the launch template version', (_what, props) => {
  // WHEN the rendered config changes
  const changed = synth(props);
  // THEN the config checksum and the userdata change, the runtime checksum does not, and the
  // launch template is updated in place (same logical id): CloudFormation adds a version
  expect(changed.configSha256).not.toBe(base.configSha256);
  expect(changed.runtimeSha256).toBe(base.runtimeSha256);
  expect(changed.logicalId).toBe(base.logicalId);
  expect(changed.data).not.toEqual(base.data);
  expect(changed.runtimeVersion.slice(0, 12)).toBe(base.runtimeVersion.slice(0, 12));
  expect(changed.runtimeVersion.slice(13)).not.toBe(base.runtimeVersion.slice(13));
});

test.each([
  [
    'an edited runtime script',
    (dir: string) => fs.appendFileSync(path.join(dir, 'bin', 'bootstrap.sh'), 'echo more\n'),
  ],
  ['a new runtime file', (dir: string) => fs.writeFileSync(path.join(dir, 'scripts', 'new-step.sh'), 'true\n')],
  ['a script made executable', (dir: string) => fs.chmodSync(path.join(dir, 'scripts', 'lib.sh'), 0o755)],
])('%s changes the runtime archive, the userdata and so the launch template version', (_what, edit) => {
  const dir = makeRuntimeDir();
  edit(dir);
  const changed = synth({}, dir);
  expect(changed.runtimeSha256).not.toBe(base.runtimeSha256);
  expect(changed.configSha256).toBe(base.configSha256);
  expect(changed.logicalId).toBe(base.logicalId);
  expect(changed.data).not.toEqual(base.data);
  expect(changed.description).not.toEqual(base.description);
});

test('a new controller image changes the launch template version', () => {
  const changed = synth({ machineImageId: 'ami-0fedcba9876543210' });
  expect(changed.logicalId).toBe(base.logicalId);
  expect((changed.data as { ImageId: string }).ImageId).toBe('ami-0fedcba9876543210');
});
