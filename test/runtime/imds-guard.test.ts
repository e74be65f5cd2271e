/**
 * The imds-guard boot step: instance metadata for root and controllers.imdsUsers only.
 *
 * The first block runs the real script with the real iptables/ip6tables inside a network
 * namespace this test creates and removes: 169.254.169.254 and fd00:ec2::254 sit on the
 * namespace's loopback with a tiny HTTP listener standing in for the metadata service, and curl
 * is run as root, as an allowed account (daemon) and as nobody. The second block checks the
 * step's wiring (saved uids, unit, boot order) with the recording stand-ins of harness.ts.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BOOT_STEPS, matching, RUNTIME_SRC, Sandbox, type SandboxOptions } from './harness';

const V4 = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';
const V6 = 'http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/';
const SECRET = 'controller-role-credentials';

function sh(cmd: string, args: readonly string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function uidOf(user: string): string {
  return sh('id', ['-u', user]).out.trim();
}

describe('in a network namespace, with the real iptables', () => {
  const ns = `xspot-imds-${process.pid}`;
  let listener: ChildProcess | undefined;
  let s: Sandbox;

  const inNs = (cmd: string, ...args: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);
  /** curl as USER (root when omitted): the body, or '' with curl's exit status when refused. */
  const fetchAs = (url: string, user?: string): { status: number | null; out: string } => {
    const curl = ['curl', '-sS', '-g', '--connect-timeout', '1', '--max-time', '2', url];
    if (user === undefined) return inNs('/usr/bin/env', ...curl);
    const uid = uidOf(user);
    return inNs('setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...curl);
  };
  const rules = () => `${inNs('iptables', '-w', '-S').out}${inNs('ip6tables', '-w', '-S').out}`;
  const guard = (opts: { args?: string[]; users?: string } = {}) => {
    if (opts.users !== undefined) {
      const f = path.join(s.release, 'conf', 'runtime.env');
      fs.writeFileSync(
        f,
        fs.readFileSync(f, 'utf8').replace(/^XSPOT_IMDS_USERS=.*$/m, `XSPOT_IMDS_USERS='${opts.users}'`),
      );
    }
    const env = s.env({ PATH: s.pathWithReal('iptables', 'ip6tables') });
    const r = spawnSync(
      'ip',
      ['netns', 'exec', ns, '/bin/bash', path.join(s.release, 'scripts', 'imds-guard.sh'), ...(opts.args ?? [])],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };

  beforeAll(async () => {
    for (const cmd of [
      ['netns', 'add', ns],
      ['-n', ns, 'link', 'set', 'lo', 'up'],
      ['-n', ns, 'addr', 'add', '169.254.169.254/32', 'dev', 'lo'],
      ['-n', ns, '-6', 'addr', 'add', 'fd00:ec2::254/128', 'dev', 'lo', 'nodad'],
    ]) {
      const r = sh('ip', cmd);
      if (r.status !== 0) throw new Error(`ip ${cmd.join(' ')}: ${r.out}`);
    }
    const server = [
      'import http.server, socket',
      'class S(http.server.ThreadingHTTPServer):',
      '    address_family = socket.AF_INET6',
      '    def server_bind(self):',
      '        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)',
      '        super().server_bind()',
      'class H(http.server.BaseHTTPRequestHandler):',
      '    def do_GET(self):',
      '        self.send_response(200); self.end_headers()',
      `        self.wfile.write(b"${SECRET}")`,
      '    def log_message(self, *a): pass',
      'S(("::", 80), H).serve_forever()',
    ].join('\n');
    listener = spawn('ip', ['netns', 'exec', ns, '/usr/bin/python3', '-c', server], { stdio: 'ignore' });
    for (let i = 0; i < 50 && fetchAs(V4).out !== SECRET; i++) await new Promise((r) => setTimeout(r, 100));
    if (fetchAs(V4).out !== SECRET) throw new Error('the stand-in metadata listener did not come up');
  }, 60_000);

  afterAll(() => {
    listener?.kill();
    sh('ip', ['netns', 'del', ns]);
    s?.cleanup();
  });

  beforeEach(() => {
    s?.cleanup();
    s = new Sandbox({ runtimeEnv: { XSPOT_IMDS_USERS: 'daemon' } });
    for (const t of ['iptables', 'ip6tables']) {
      inNs(t, '-w', '-F', 'OUTPUT');
      for (const c of ['XSPOT-IMDS', 'XSPOT-IMDS-NEW']) {
        inNs(t, '-w', '-F', c);
        inNs(t, '-w', '-X', c);
      }
    }
  });

  test('before the step every user reads the metadata (the attack this closes)', () => {
    expect(fetchAs(V4, 'nobody').out).toBe(SECRET);
    expect(fetchAs(V6, 'nobody').out).toBe(SECRET);
  });

  test('root and the configured account get an answer, nobody is refused, over IPv4 and IPv6', () => {
    const r = guard();
    expect(r).toMatchObject({ status: 0 });
    for (const url of [V4, V6]) {
      expect(fetchAs(url).out).toBe(SECRET);
      expect(fetchAs(url, 'daemon').out).toBe(SECRET);
      const denied = fetchAs(url, 'nobody');
      expect(denied.status).not.toBe(0);
      expect(denied.out).not.toContain(SECRET);
    }
    expect(s.read('/etc/xspot-cdk/imds-guard.uids')).toBe(`0\n${uidOf('daemon')}\n`);
  });

  test('a second run adds no rule and changes nothing', () => {
    expect(guard().status).toBe(0);
    const first = rules();
    expect(first.match(/-j XSPOT-IMDS$/gm)).toHaveLength(2);
    expect(guard().status).toBe(0);
    expect(rules()).toBe(first);
    expect(fetchAs(V4, 'nobody').status).not.toBe(0);
  });

  test('a rule inserted before the jump does not open it: the next run puts the jump first again', () => {
    expect(guard().status).toBe(0);
    inNs('iptables', '-w', '-I', 'OUTPUT', '1', '-d', '169.254.169.254/32', '-j', 'ACCEPT');
    expect(fetchAs(V4, 'nobody').out).toBe(SECRET);
    expect(guard().status).toBe(0);
    expect(inNs('iptables', '-w', '-S', 'OUTPUT').out.split('\n')[1]).toBe(
      '-A OUTPUT -d 169.254.169.254/32 -j XSPOT-IMDS',
    );
    expect(fetchAs(V4, 'nobody').status).not.toBe(0);
    expect(rules().match(/-j XSPOT-IMDS$/gm)).toHaveLength(2);
  });

  test('removing an account from the config closes it for that account too', () => {
    expect(guard().status).toBe(0);
    expect(fetchAs(V4, 'daemon').out).toBe(SECRET);
    expect(guard({ users: '' }).status).toBe(0);
    expect(fetchAs(V4, 'daemon').status).not.toBe(0);
    expect(fetchAs(V4).out).toBe(SECRET);
    expect(rules()).not.toContain('XSPOT-IMDS-NEW');
  });

  test('at a reboot (--rules-only, no name lookups) the saved uids are applied again', () => {
    expect(guard().status).toBe(0);
    const installed = rules();
    // a reboot: no rules, and a user database that would not resolve (the directory is not up)
    for (const t of ['iptables', 'ip6tables']) {
      inNs(t, '-w', '-F', 'OUTPUT');
      inNs(t, '-w', '-F', 'XSPOT-IMDS');
      inNs(t, '-w', '-X', 'XSPOT-IMDS');
    }
    expect(fetchAs(V4, 'nobody').out).toBe(SECRET);
    const r = guard({ args: ['--rules-only'], users: 'no-such-user' });
    expect(r).toMatchObject({ status: 0 });
    expect(rules()).toBe(installed);
    expect(fetchAs(V4, 'daemon').out).toBe(SECRET);
    expect(fetchAs(V4, 'nobody').status).not.toBe(0);
  });

  test('an account that does not exist fails the step, named, and stays denied', () => {
    const r = guard({ users: 'daemon no-such-user' });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('no such user on this host: no-such-user');
    expect(fetchAs(V4, 'nobody').status).not.toBe(0);
    expect(fetchAs(V4, 'daemon').out).toBe(SECRET);
  });
});

describe('wiring (recording stand-ins)', () => {
  let sb: Sandbox;
  const sandbox = (opts?: SandboxOptions) => {
    sb = new Sandbox(opts);
    return sb;
  };
  afterEach(() => sb?.cleanup());

  test('installs and enables the unit that applies the rules at every boot', () => {
    const s = sandbox();
    const r = s.run('scripts/imds-guard.sh');
    expect(r.status).toBe(0);
    expect(s.read('/etc/systemd/system/xspot-imds-guard.service')).toBe(
      fs.readFileSync(path.join(RUNTIME_SRC, 'systemd', 'xspot-imds-guard.service'), 'utf8'),
    );
    expect(matching(s.calls(), 'systemctl enable')).toEqual(['systemctl enable xspot-imds-guard.service']);
    expect(s.read('/etc/xspot-cdk/imds-guard.uids')).toBe('0\n');
  });

  test('the unit runs the rules-only mode before the network and every scheduler daemon', () => {
    const unit = fs.readFileSync(path.join(RUNTIME_SRC, 'systemd', 'xspot-imds-guard.service'), 'utf8');
    const before = /^Before=(.*)$/m.exec(unit)?.[1].split(/\s+/) ?? [];
    expect(before).toEqual(
      expect.arrayContaining(['network-pre.target', 'slurmd.service', 'sgeexecd.service', 'lsfd.service']),
    );
    expect(unit).toMatch(/^Wants=network-pre.target$/m);
    expect(unit).toMatch(/^ExecStart=\/bin\/bash \/opt\/xspot-cdk\/current\/scripts\/imds-guard.sh --rules-only$/m);
    expect(unit).not.toMatch(/^After=.*(network|sssd|nss-user-lookup)/m);
  });

  test('the boot step runs before anything that can start or configure a job on the controller', () => {
    const at = BOOT_STEPS.indexOf('imds-guard');
    for (const later of ['install-config', 'deploy', 'post-docker', 'check'] as const) {
      expect(BOOT_STEPS.indexOf(later)).toBeGreaterThan(at);
    }
    // after mount-remote and controller: directory users (sssd/LDAP) resolve by then
    expect(BOOT_STEPS.indexOf('mount-remote')).toBeLessThan(at);
  });

  test('a second run calls only read-only iptables commands', () => {
    const s = sandbox({ runtimeEnv: { XSPOT_IMDS_USERS: 'daemon' } });
    expect(s.run('scripts/imds-guard.sh').status).toBe(0);
    s.clearCalls();
    expect(s.run('scripts/imds-guard.sh').status).toBe(0);
    const writes = s
      .calls()
      .filter((c) => /^ip6?tables /.test(c))
      .filter((c) => !/^ip6?tables -w -[SC] /.test(c));
    expect(writes).toEqual([]);
    expect(matching(s.calls(), 'systemctl enable', 'systemctl daemon-reload')).toEqual([]);
  });

  test.each([
    ['a capital letter', 'Daemon'],
    ['a uid', '1000'],
    ['a shell character', 'x;id'],
  ])('check-config refuses an account name with %s', (_what, user) => {
    const s = sandbox({ runtimeEnv: { XSPOT_IMDS_USERS: user } });
    const r = s.run('scripts/imds-guard.sh');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`XSPOT_IMDS_USERS='${user}' is not allowed`);
    expect(matching(s.calls(), 'iptables')).toEqual([]);
  });
});
