/**
 * The submit-sshd boot step: the controller's submission sshd (docs/security.md, "Submissions
 * from inside containers"), with the recording stand-ins of harness.ts. The sshd itself, with
 * the same rendered config, runs for real in test/scheduler/submit-*.test.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { matching, Sandbox } from './harness';

const INSTALLED = '/usr/libexec/xspot-cdk/scheduler/slurm/submit-sshd_config';
const CONF = '/etc/xspot-cdk/submit-sshd/sshd_config';
const UNIT = 'xspot-submit-sshd.service';
const FIXTURE = path.join(
  __dirname,
  '..',
  'fixtures',
  'runtime',
  'conf',
  'sched-wrapper',
  'slurm',
  'submit-sshd_config',
);

let s: Sandbox | undefined;
afterEach(() => s?.cleanup());

function slurm(): Sandbox {
  s = new Sandbox({ runtimeEnv: { XSPOT_SCHEDULER: 'slurm' } });
  expect(s.run('scripts/install-hooks.sh').status).toBe(0);
  s.clearCalls();
  return s;
}

test('no scheduler: no sshd, no account, no unit', () => {
  s = new Sandbox();
  const r = s.run('scripts/submit-sshd.sh');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('no scheduler configured: no submission sshd');
  expect(matching(s.calls(), 'sshd', 'ssh-keygen', 'useradd', 'systemctl')).toEqual([]);
  expect(s.exists(CONF)).toBe(false);
});

test('a scheduler: host key, the rendered config checked by sshd -t, submit.env, the unit enabled and started', () => {
  const sb = slurm();
  // GIVEN the hooks installed from the release (the rendered config among them)
  expect(sb.read(INSTALLED)).toBe(fs.readFileSync(FIXTURE, 'utf8'));
  // WHEN the step runs
  const r = sb.run('scripts/submit-sshd.sh');
  // THEN
  expect(r.status).toBe(0);
  expect(sb.read(CONF)).toBe(fs.readFileSync(FIXTURE, 'utf8'));
  expect(fs.statSync(sb.path(CONF)).mode & 0o777).toBe(0o644);
  expect(matching(sb.calls(), 'ssh-keygen')).toEqual([
    expect.stringMatching(
      /^ssh-keygen -q -t ed25519 -N {2}-C xspot-submit@\S+ -f \S+\/etc\/xspot-cdk\/submit-sshd\/ssh_host_ed25519_key$/,
    ),
  ]);
  const order = [`sshd -t -f ${CONF}`, `systemctl enable ${UNIT}`, `systemctl start ${UNIT}`];
  expect(matching(sb.calls(), 'sshd -t', 'systemctl enable', 'systemctl start')).toEqual(order);
  expect(sb.read(`/etc/systemd/system/${UNIT}`)).toMatch(
    /^ExecStart=\/usr\/sbin\/sshd -D -e -f \/etc\/xspot-cdk\/submit-sshd\/sshd_config$/m,
  );
  expect(sb.read('/etc/xspot-cdk/submit.env')).toMatch(/^# scheduler variables/);
  expect(fs.statSync(sb.path('/etc/xspot-cdk/submit.env')).mode & 0o777).toBe(0o644);
  // the config it runs: only the per-job keys, forced to the forward, nothing forwarded
  const conf = sb.read(CONF);
  expect(conf).toMatch(/^AuthorizedKeysFile none$/m);
  expect(conf).toMatch(
    /^AuthorizedKeysCommand \/usr\/libexec\/xspot-cdk\/scheduler\/slurm\/xspot_submit authorized-keys %u$/m,
  );
  expect(conf).toMatch(/^AuthorizedKeysCommandUser xspot-akc$/m);
  expect(conf).toMatch(/^DisableForwarding yes$/m);
  expect(conf).toMatch(/^PermitTTY no$/m);
});

test('a second run changes nothing; a site submit.env is kept', () => {
  const sb = slurm();
  sb.write('/etc/xspot-cdk/submit.env', 'SLURM_CONF=/opt/slurm/etc/slurm.conf\n');
  sb.write('/etc/xspot-cdk/submit-sshd/ssh_host_ed25519_key', 'kept\n', 0o600);
  expect(sb.run('scripts/submit-sshd.sh').status).toBe(0);
  sb.clearCalls();
  expect(sb.run('scripts/submit-sshd.sh').status).toBe(0);
  expect(matching(sb.calls(), 'ssh-keygen', 'systemctl restart', 'systemctl start')).toEqual([]);
  expect(sb.read('/etc/xspot-cdk/submit.env')).toBe('SLURM_CONF=/opt/slurm/etc/slurm.conf\n');
  expect(sb.read('/etc/xspot-cdk/submit-sshd/ssh_host_ed25519_key')).toBe('kept\n');
});

test('sshd -t refusing the config fails the step, naming the OpenSSH version it needs', () => {
  const sb = slurm();
  const r = sb.run('scripts/submit-sshd.sh', [], { STUB_FAIL: 'sshd -t' });
  expect(r.status).not.toBe(0);
  expect(r.output).toContain(
    'sshd -t rejects /etc/xspot-cdk/submit-sshd/sshd_config (the submission sshd needs OpenSSH 7.8 or later)',
  );
  expect(matching(sb.calls(), 'systemctl start')).toEqual([]);
});
