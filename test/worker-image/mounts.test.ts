import { fstabOptions, renderWorkerFstab, type WorkerMount } from '../../lib/constructs/worker-image-mounts';

const ontap: WorkerMount = { type: 'ontap', server: '10.0.5.10', export: '/volume1', mountPoint: '/fsx' };

describe('renderWorkerFstab', () => {
  test('one fstab line per mount, NFS, with _netdev and nofail so a worker still boots without its storage', () => {
    expect(renderWorkerFstab([ontap])).toBe(
      '# ontap volume for X-Spot workers\n10.0.5.10:/volume1 /fsx nfs defaults,_netdev,nofail 0 0\n',
    );
  });

  test('no mounts: nothing', () => {
    expect(renderWorkerFstab([])).toBe('');
  });

  test.each([
    [undefined, 'defaults,_netdev,nofail'],
    ['nfsvers=4.1,hard', 'nfsvers=4.1,hard,_netdev,nofail'],
    ['nofail,_netdev,ro', 'nofail,_netdev,ro'],
  ])('options %p become %p', (given, expected) => {
    expect(fstabOptions(given)).toBe(expected);
  });

  test.each<[string, Partial<WorkerMount>, RegExp]>([
    [
      'server with a space',
      { server: 'nfs server' },
      /workerImage.mounts\[0\].server: "nfs server" is not allowed; expected a DNS name/,
    ],
    ['server with shell syntax', { server: 'a;reboot' }, /mounts\[0\].server/],
    [
      'relative export',
      { export: 'volume1' },
      /mounts\[0\].export: "volume1" is not allowed; expected an absolute path/,
    ],
    ['export with ..', { export: '/a/../b' }, /mounts\[0\].export/],
    ['mount point over the OS', { mountPoint: '/usr' }, /mounts\[0\].mountPoint: "\/usr" is not allowed/],
    ['mount point with a space', { mountPoint: '/my data' }, /mounts\[0\].mountPoint/],
    [
      'options with a space',
      { options: 'rw, hard' },
      /mounts\[0\].options: "rw, hard" is not allowed; expected comma-separated mount options/,
    ],
    ['unknown type', { type: 'cifs' as 'nfs' }, /mounts\[0\].type: "cifs" is not allowed; expected "nfs" or "ontap"/],
  ])('refuses %s, naming the field, the value and what is allowed', (_name, change, message) => {
    expect(() => renderWorkerFstab([{ ...ontap, ...change }])).toThrow(message);
  });

  test('refuses the same mount point twice', () => {
    expect(() => renderWorkerFstab([ontap, { ...ontap, server: '10.0.5.11' }])).toThrow(
      /workerImage.mounts\[1\].mountPoint: "\/fsx" is not allowed; expected a mount point not used by another entry/,
    );
  });
});
