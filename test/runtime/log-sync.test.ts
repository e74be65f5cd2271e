/**
 * Log sync to S3 (the guide's "S3 Sync" appendix): scripts/log-sync.sh and its systemd timer.
 */
import { matching, Sandbox, type SandboxOptions } from './harness';

const IID = 'i-0123456789abcdef0';
const BUCKET = 'xspot-logs-123456789012';

let sb: Sandbox;
const sandbox = (opts?: SandboxOptions) => {
  sb = new Sandbox(opts);
  return sb;
};
afterEach(() => sb?.cleanup());

/**
 * The effective OnUnitActiveSec of the installed timer, as systemd reads it: unit file, then
 * drop-ins; an empty assignment resets the list; the shortest remaining value fires first, and
 * the runtime leaves exactly one.
 */
function onUnitActiveSec(s: Sandbox): string[] {
  const texts = [s.read('/etc/systemd/system/xspot-log-sync.timer')];
  if (s.exists('/etc/systemd/system/xspot-log-sync.timer.d/period.conf')) {
    texts.push(s.read('/etc/systemd/system/xspot-log-sync.timer.d/period.conf'));
  }
  let values: string[] = [];
  for (const t of texts) {
    for (const m of t.matchAll(/^OnUnitActiveSec=(.*)$/gm)) values = m[1] === '' ? [] : [...values, m[1]];
  }
  return values;
}

describe('scripts/log-sync.sh', () => {
  test('syncs LOG_PATH to s3://bucket/prefix/<instance-id>/ without --delete', () => {
    const s = sandbox();
    s.write('/var/log/xspot/xspot.log', 'x\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    const syncs = matching(s.calls(), 'aws s3 sync');
    expect(syncs).toEqual([
      `aws s3 sync ${s.path('/var/log/xspot')} s3://${BUCKET}/xspot/${IID}/ --region us-east-1 --only-show-errors`,
      `aws s3 sync ${s.path('/var/log/xspot-cdk')} s3://${BUCKET}/xspot/xspot-cdk/${IID}/ --region us-east-1 --only-show-errors`,
    ]);
    expect(syncs.join('\n')).not.toContain('--delete');
  });

  test('reads LOG_PATH from the installed log_upload.env', () => {
    const s = sandbox({ deployEnv: { XSPOT_LOG_PREFIX: 'site/xspot' } });
    s.write('/etc/xspot/config/log_upload.env', '# rendered\nLOG_PATH=/data/xspot-logs/\n');
    s.write('/data/xspot-logs/a.log', 'x\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    expect(matching(s.calls(), 'aws s3 sync')[0]).toBe(
      `aws s3 sync ${s.path('/data/xspot-logs')} s3://${BUCKET}/site/xspot/${IID}/ --region us-east-1 --only-show-errors`,
    );
  });

  test('an empty prefix writes at the bucket root', () => {
    const s = sandbox({ deployEnv: { XSPOT_LOG_PREFIX: '' } });
    s.write('/var/log/xspot/xspot.log', 'x\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    expect(matching(s.calls(), 'aws s3 sync')[0]).toContain(` s3://${BUCKET}/${IID}/ `);
  });

  test('does nothing without a bucket', () => {
    const s = sandbox({ deployEnv: { XSPOT_LOG_BUCKET: '' } });
    const r = s.run('scripts/log-sync.sh');
    expect(r.status).toBe(0);
    expect(matching(s.calls(), 'aws')).toEqual([]);
    expect(r.output).toContain('S3 log sync is off');
  });

  test('fails when the sync fails', () => {
    const s = sandbox();
    const r = s.run('scripts/log-sync.sh', [], { STUB_FAIL: 'aws s3 sync' });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('aws s3 sync failed');
  });
});

describe('xspot-log-sync.timer (boot step log-sync)', () => {
  test.each([
    ['60', '60min'],
    ['15', '15min'],
  ])('XSPOT_LOG_SYNC_MINUTES=%s gives OnUnitActiveSec=%s', (minutes, expected) => {
    const s = sandbox({ deployEnv: { XSPOT_LOG_SYNC_MINUTES: minutes } });
    expect(s.run('scripts/install-log-sync.sh').status).toBe(0);
    expect(onUnitActiveSec(s)).toEqual([expected]);
    expect(s.read('/etc/systemd/system/xspot-log-sync.service')).toContain(
      'ExecStart=/bin/bash /opt/xspot-cdk/current/scripts/log-sync.sh',
    );
    expect(matching(s.calls(), 'systemctl enable', 'systemctl start')).toEqual([
      'systemctl enable xspot-log-sync.timer',
      'systemctl start xspot-log-sync.timer',
    ]);
  });

  test('a changed period restarts the running timer; an unchanged one does nothing', () => {
    const s = sandbox();
    expect(s.run('scripts/install-log-sync.sh').status).toBe(0);
    s.clearCalls();
    expect(s.run('scripts/install-log-sync.sh').status).toBe(0);
    expect(matching(s.calls(), 'systemctl daemon-reload', 'systemctl restart', 'systemctl enable')).toEqual([]);

    s.write('/etc/xspot-cdk/deploy.env', `${s.read('/etc/xspot-cdk/deploy.env')}XSPOT_LOG_SYNC_MINUTES='30'\n`);
    s.clearCalls();
    expect(s.run('scripts/install-log-sync.sh').status).toBe(0);
    expect(onUnitActiveSec(s)).toEqual(['30min']);
    expect(matching(s.calls(), 'systemctl daemon-reload', 'systemctl restart')).toEqual([
      'systemctl daemon-reload',
      'systemctl restart xspot-log-sync.timer',
    ]);
  });

  test('without a bucket the timer is switched off', () => {
    const s = sandbox();
    expect(s.run('scripts/install-log-sync.sh').status).toBe(0);
    s.write('/etc/xspot-cdk/deploy.env', `${s.read('/etc/xspot-cdk/deploy.env')}XSPOT_LOG_BUCKET=''\n`);
    expect(s.run('scripts/install-log-sync.sh').status).toBe(0);
    expect(matching(s.calls(), 'systemctl disable')).toEqual(['systemctl disable --now xspot-log-sync.timer']);
  });
});
