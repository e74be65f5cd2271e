/**
 * Log sync to S3 (the guide's "S3 Sync" appendix): scripts/log-sync.sh and its systemd timer.
 * The `aws` stand-in lists what each `aws s3 sync` would upload (following symlinks, as the real
 * one does); log-sync.moto.test.ts runs the real AWS CLI against moto.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseTimestamp } from '../../lib/cost/log-format';
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

/** What the syncs of the last runs would have uploaded: "<s3 uri> <- <file read, relative to the root>". */
function uploads(s: Sandbox): string[] {
  const list = path.join(s.state, 's3-sync');
  if (!fs.existsSync(list)) return [];
  const text = fs.readFileSync(list, 'utf8');
  fs.rmSync(list);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(` <- ${fs.realpathSync(s.root)}`, ' <- '));
}

/** The uploads of LOG_PATH's files (not the runtime's own logs). */
const xspotUploads = (s: Sandbox) => uploads(s).filter((u) => !u.includes('/xspot-cdk/'));

describe('scripts/log-sync.sh', () => {
  test('syncs each file of LOG_PATH to s3://bucket/prefix/<day>/<instance-id>/, the runtime logs to prefix/xspot-cdk/<instance-id>/, without --delete', () => {
    const s = sandbox();
    s.write('/var/log/xspot/xspot.log', '2024-03-01T10:00:00Z INFO x\n');
    s.write('/var/log/xspot-cdk/bootstrap.log', '2024-03-01T09:00:00Z bootstrap: x\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    const syncs = matching(s.calls(), 'aws s3 sync');
    expect(syncs).toEqual([
      expect.stringMatching(
        new RegExp(
          `^aws s3 sync /\\S+/xspot-log-sync\\.\\w+/2024-03-01/${IID} s3://${BUCKET}/xspot/2024-03-01/${IID}/ --follow-symlinks --region us-east-1 --only-show-errors$`,
        ),
      ),
      `aws s3 sync ${s.path('/var/log/xspot-cdk')} s3://${BUCKET}/xspot/xspot-cdk/${IID}/ --region us-east-1 --only-show-errors`,
    ]);
    expect(syncs.join('\n')).not.toContain('--delete');
    expect(uploads(s)).toEqual([
      `s3://${BUCKET}/xspot/2024-03-01/${IID}/xspot.log <- /var/log/xspot/xspot.log`,
      `s3://${BUCKET}/xspot/xspot-cdk/${IID}/bootstrap.log <- /var/log/xspot-cdk/bootstrap.log`,
      `s3://${BUCKET}/xspot/xspot-cdk/${IID}/log-sync.log <- /var/log/xspot-cdk/log-sync.log`,
    ]);
  });

  test('reads LOG_PATH from the installed log_upload.env', () => {
    const s = sandbox({ deployEnv: { XSPOT_LOG_PREFIX: 'site/xspot' } });
    s.write('/etc/xspot/config/log_upload.env', '# rendered\nLOG_PATH=/data/xspot-logs/\n');
    s.write('/data/xspot-logs/a.log', '2024-03-01T10:00:00Z INFO x\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    expect(xspotUploads(s)).toEqual([`s3://${BUCKET}/site/xspot/2024-03-01/${IID}/a.log <- /data/xspot-logs/a.log`]);
  });

  test('an empty prefix writes at the bucket root', () => {
    const s = sandbox({ deployEnv: { XSPOT_LOG_PREFIX: '' } });
    s.write('/var/log/xspot/xspot.log', '2024-03-01T10:00:00Z INFO x\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    expect(xspotUploads(s)).toEqual([`s3://${BUCKET}/2024-03-01/${IID}/xspot.log <- /var/log/xspot/xspot.log`]);
  });

  test('the day is that of the first timestamped complete line among the first 5, in UTC; none: undated/; empty files and an unfinished first line wait; subfolders kept', () => {
    const s = sandbox();
    s.write(
      '/var/log/xspot/xspot.log',
      '2024-03-01T23:30:00-05:00 INFO late evening in New York\n2024-03-02T05:00:00Z x\n',
    );
    s.write('/var/log/xspot/sub/xspot.log.1', 'X-Spot 2.1 starting\n\n2024-02-28 10:00:00 INFO up\n');
    s.write('/var/log/xspot/late.log', 'a\nb\nc\nd\ne\n2024-03-01T00:00:00Z INFO sixth line\n');
    s.write('/var/log/xspot/notes.txt', 'no timestamps\n');
    s.write('/var/log/xspot/partial.log', '2024-03-01T00:00:00Z INFO no newline yet');
    s.write('/var/log/xspot/unterminated.txt', 'no newline, no timestamp');
    s.write('/var/log/xspot/empty.log', '');
    const r = s.run('scripts/log-sync.sh');
    expect(r.status).toBe(0);
    expect(r.output).toContain('not yet: /var/log/xspot/partial.log (its first line is still being written)');
    expect(xspotUploads(s)).toEqual([
      `s3://${BUCKET}/xspot/2024-02-28/${IID}/sub/xspot.log.1 <- /var/log/xspot/sub/xspot.log.1`,
      `s3://${BUCKET}/xspot/2024-03-02/${IID}/xspot.log <- /var/log/xspot/xspot.log`,
      `s3://${BUCKET}/xspot/undated/${IID}/late.log <- /var/log/xspot/late.log`,
      `s3://${BUCKET}/xspot/undated/${IID}/notes.txt <- /var/log/xspot/notes.txt`,
      `s3://${BUCKET}/xspot/undated/${IID}/unterminated.txt <- /var/log/xspot/unterminated.txt`,
    ]);
    fs.appendFileSync(s.path('/var/log/xspot/partial.log'), '\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    expect(xspotUploads(s)).toContain(
      `s3://${BUCKET}/xspot/2024-03-01/${IID}/partial.log <- /var/log/xspot/partial.log`,
    );
  });

  test("the day follows the cost tool's timestamp grammar (parseTimestamp), line for line", () => {
    const stamps = [
      '2024-03-01T00:00:00Z',
      '2024-03-01 00:00:00',
      '2024/03/01T23:59:59+00:01',
      '2024-03/01T00:00:00',
      '[2024-03-01 10:00:00,5]',
      'time="2024-03-01T20:00:00.123456789-05:30"',
      '2024-03-01T00:00:00.1-0430',
      '2024-03-01T00:00:00+0530x',
      '2024-03-01T00:00:00+05:3',
      '2024-03-01T03:00:00.123+05:xx',
      '2024-03-01T00:00:00.',
      '2024-03-01T00:00:00,Z',
      '2024-03-01T00:00:00-',
      '2024-02-29T23:59:60Z',
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-12-31T23:59:59.999-01:00',
      '2024-13-01T00:00:00Z',
      '2024-01-00T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:60:00Z',
      '2024-01-01T23:00:00+24:00',
      '2024-01-01T00:10:00+23:59',
      '1999-12-31T23:59:59Z',
      '2100-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '1970-01-01T00:30:00+01:00',
      ' 2024-01-01T00:00:00Z',
      '2024-01-01X00:00:00Z',
      '2024-07-31 12:34:56,789 +0200',
      '2024-07-31T22:34:56.789-0200',
    ];
    const s = sandbox();
    stamps.forEach((t, i) => {
      s.write(`/var/log/xspot/t${String(i).padStart(2, '0')}.log`, `${t} INFO line\n`);
    });
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    const got = xspotUploads(s).map((u) => u.replace(/ <- .*/, ''));
    const want = stamps.map((t, i) => {
      const ts = parseTimestamp(`${t} INFO line`);
      const day = ts === undefined ? 'undated' : new Date(ts).toISOString().slice(0, 10);
      return `s3://${BUCKET}/xspot/${day}/${IID}/t${String(i).padStart(2, '0')}.log`;
    });
    expect(got.sort()).toEqual(want.sort());
    // Not vacuous: days on both sides of midnight, and undated ones.
    expect(new Set(got.map((u) => u.split('/')[4])).size).toBeGreaterThan(8);
    expect(got.filter((u) => u.includes('/undated/')).length).toBeGreaterThan(8);
  });

  test('symlinks: one to a file under LOG_PATH is read through its target; one leading outside LOG_PATH is skipped with a log line', () => {
    const s = sandbox();
    s.write('/var/log/xspot/xspot.log', '2024-03-01T10:00:00Z INFO x\n');
    s.write('/var/log/xspot/old/xspot.log.1', '2024-02-01T10:00:00Z INFO old\n');
    s.write('/etc/secret', '2024-03-01T10:00:00Z root only\n');
    s.write('/var/log/other/dir/a.log', '2024-03-01T10:00:00Z INFO other\n');
    fs.symlinkSync(s.path('/var/log/xspot/old/xspot.log.1'), s.path('/var/log/xspot/previous.log'));
    fs.symlinkSync(s.path('/etc/secret'), s.path('/var/log/xspot/secret.log'));
    fs.symlinkSync('../other/dir', s.path('/var/log/xspot/elsewhere'));
    fs.symlinkSync('../xspot/../xspot-cdk/log-sync.log', s.path('/var/log/xspot/runtime.log'));
    fs.symlinkSync('missing', s.path('/var/log/xspot/dangling.log'));
    const r = s.run('scripts/log-sync.sh');
    expect(r.status).toBe(0);
    expect(xspotUploads(s)).toEqual([
      `s3://${BUCKET}/xspot/2024-02-01/${IID}/old/xspot.log.1 <- /var/log/xspot/old/xspot.log.1`,
      `s3://${BUCKET}/xspot/2024-03-01/${IID}/xspot.log <- /var/log/xspot/xspot.log`,
    ]);
    for (const name of ['secret.log', 'elsewhere', 'runtime.log', 'dangling.log']) {
      expect(r.output).toMatch(
        new RegExp(`skipping /var/log/xspot/${name}: a symlink to \\S*, not a file under /var/log/xspot`),
      );
    }
  });

  test('a rotated file keeps the key of its first line; the file that starts anew gets its own; the old keys stay', () => {
    const s = sandbox();
    const log = '/var/log/xspot/xspot.log';
    s.write(log, '2024-03-01T10:00:00Z INFO first\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    expect(xspotUploads(s)).toEqual([`s3://${BUCKET}/xspot/2024-03-01/${IID}/xspot.log <- ${log}`]);
    // Rotated by rename, the same day: the old content (grown) goes to its first key.
    fs.renameSync(s.path(log), s.path(`${log}.1`));
    fs.appendFileSync(s.path(`${log}.1`), '2024-03-01T11:00:00Z INFO more\n');
    s.write(log, '2024-03-01T12:00:00Z INFO second\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    const second = xspotUploads(s);
    expect(second).toEqual([
      `s3://${BUCKET}/xspot/2024-03-01/${IID}/xspot.log <- ${log}.1`,
      expect.stringMatching(new RegExp(`^s3://${BUCKET}/xspot/2024-03-01/${IID}/xspot\\.log\\.[0-9a-f]{8} <- ${log}$`)),
    ]);
    // copytruncate the next day: the copy keeps the second file's key; the new start is filed under its day.
    fs.copyFileSync(s.path(log), s.path(`${log}.2`));
    s.write(log, '2024-03-02T00:00:05Z INFO third\n');
    expect(s.run('scripts/log-sync.sh').status).toBe(0);
    expect(xspotUploads(s)).toEqual([
      `s3://${BUCKET}/xspot/2024-03-01/${IID}/xspot.log <- ${log}.1`,
      second[1].replace(/ <- .*/, ` <- ${log}.2`),
      `s3://${BUCKET}/xspot/2024-03-02/${IID}/xspot.log <- ${log}`,
    ]);
    const keys = s.path('/var/lib/xspot-cdk/log-sync.keys');
    expect(fs.statSync(keys).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(keys, 'utf8').trim().split('\n')).toHaveLength(3);
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
