/** The reproducible release archives: same input, same bytes; modes kept; bad paths refused. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  configEntries,
  crc32,
  directoryEntries,
  isSafeRelativePath,
  sha256Hex,
  writeBundle,
  zipEntries,
} from '../../lib/constructs/controller-fleet-bundle';
import { makeConfigFiles, makeRuntimeDir } from './helpers';

function unzipTo(zip: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-unzip-'));
  const r = spawnSync('unzip', ['-q', zip, '-d', dir], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return dir;
}

describe('zip archives', () => {
  test('crc32 matches the zip reference value', () => {
    // GIVEN the standard check input  THEN the standard CRC-32 check value
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  test('the same runtime directory gives the same bytes, in another directory and another time', () => {
    // GIVEN two copies of one runtime written at different times
    const a = makeRuntimeDir();
    const b = makeRuntimeDir();
    fs.utimesSync(path.join(b, 'Makefile'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    // WHEN both are archived
    const za = zipEntries(directoryEntries(a));
    const zb = zipEntries(directoryEntries(b));
    // THEN the archives are identical
    expect(sha256Hex(za)).toBe(sha256Hex(zb));
  });

  test('unzip restores every file with its content and normalized mode', () => {
    // GIVEN a runtime with an executable bin/bootstrap.sh and a group-writable data file
    const dir = makeRuntimeDir({ 'systemd/post-docker.service': '[Unit]\n' });
    fs.chmodSync(path.join(dir, 'systemd/post-docker.service'), 0o664);
    // WHEN it is archived and unpacked with Info-ZIP unzip (what the controller runs)
    const bundle = writeBundle(directoryEntries(dir));
    const out = unzipTo(bundle.zipPath);
    // THEN the files are there, byte for byte, executables 0755 and the rest 0644
    expect(fs.readFileSync(path.join(out, 'bin/bootstrap.sh'), 'utf8')).toContain('echo bootstrap');
    expect(fs.statSync(path.join(out, 'bin/bootstrap.sh')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(out, 'systemd/post-docker.service')).mode & 0o777).toBe(0o644);
    expect(bundle.fileCount).toBe(5);
    expect(bundle.sha256).toBe(sha256Hex(fs.readFileSync(bundle.zipPath)));
    const t = spawnSync('unzip', ['-tq', bundle.zipPath], { encoding: 'utf8' });
    expect(t.status).toBe(0);
  });

  test('config files keep the mode the renderer gave them', () => {
    const out = unzipTo(writeBundle(configEntries(makeConfigFiles())).zipPath);
    expect(fs.statSync(path.join(out, 'scripts/startup.sh')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(out, 'env.cfg')).mode & 0o777).toBe(0o644);
  });

  test('a file mode is part of the archive: chmod +x changes the checksum', () => {
    const files = makeConfigFiles();
    const before = sha256Hex(zipEntries(configEntries(files)));
    const after = sha256Hex(zipEntries(configEntries({ ...files, 'env.cfg': { ...files['env.cfg'], mode: 0o755 } })));
    expect(after).not.toBe(before);
  });
});

describe('what the archives refuse', () => {
  test.each([
    ['../etc/passwd', false],
    ['/etc/passwd', false],
    ['a/./b', false],
    ['a//b', false],
    ['', false],
    ['has space.cfg', false],
    ["quote'.sh", false],
    ['env.cfg', true],
    ['images/docker-base/docker_build_path/Dockerfile', true],
    ['.shellcheckrc', true],
  ])('relative path %j is safe: %s', (p, ok) => {
    expect(isSafeRelativePath(p)).toBe(ok);
  });

  test.each([
    [{ '../x': { content: '' } }, /configFiles\["\.\.\/x"\]: must be a relative path/],
    [
      { 'x.cfg': { content: '', mode: 0o4755 } },
      /configFiles\["x\.cfg"\]\.mode: must be permission bits between 0 and 0o777, got 2541/,
    ],
    [{}, /configFiles: must hold at least one rendered file/],
  ])('config bundle %j is refused', (files, message) => {
    expect(() => configEntries(files)).toThrow(message);
  });

  test('a symbolic link in the runtime is refused, naming it', () => {
    const dir = makeRuntimeDir();
    fs.symlinkSync('/etc/passwd', path.join(dir, 'scripts', 'passwd'));
    expect(() => directoryEntries(dir)).toThrow('runtimeAssetPath: scripts/passwd is a symbolic link');
  });

  test('a missing runtime directory is named', () => {
    expect(() => directoryEntries('/nonexistent/runtime')).toThrow(
      'runtimeAssetPath: /nonexistent/runtime does not exist',
    );
  });
});
