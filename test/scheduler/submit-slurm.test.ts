/**
 * Submissions from inside X-Spot containers, Slurm, end to end: a real slurmctld/slurmd whose
 * Prolog/Epilog is the rendered xspot_submit, a real sshd on 127.0.0.1 with the rendered
 * submit-sshd_config standing in for the controller's, and jobs of two unprivileged users. A job
 * in the X-Spot partition runs through the launcher (job_submit.lua) and the stand-in exorun;
 * its script, "inside the container", calls the sbatch wrapper, which sees controller_ip and
 * forwards the submission over ssh; the sub-jobs must land in Slurm as that user with their
 * options and stdin. Then the attack table: what a hostile user can do with ssh and the keys.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_SETTINGS } from './cases';
import {
  type Attacker,
  ensureAttacker,
  HERE,
  installStandInExorun,
  missingPrerequisite,
  mustRun,
  run,
  runAs,
  tempDir,
  waitFor,
} from './helpers';
import {
  ensureUser,
  freePort,
  type SubmitHost,
  sshAs,
  startSubmitHost,
  submitPaths,
  submitRoot,
  unlock,
} from './submit-sshd';

const skipReason = missingPrerequisite([
  'munged',
  'slurmctld',
  'slurmd',
  'sbatch',
  'scontrol',
  '/usr/sbin/sshd',
  'ssh',
  'ssh-keygen',
  'setpriv',
  'useradd',
]);
if (skipReason) console.warn(`skipping the Slurm submit-from-container tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

const GUIDE = path.join(__dirname, '..', 'fixtures', 'guide');
/** The wrapper's own diagnostics lines in a guide sample output (the rest is the scheduler's). */
const DIAG = /^(controller_ip = |NO stdin|stdin\(|\*\*\* BEGIN |\*\*\* {2}END {2})/;

/** The diagnostics lines of OUTPUT, with the lines between the ssh_stdin markers and the address left out. */
function diagnostics(output: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const line of output.split('\n')) {
    if (inside && !line.startsWith('***  END  ')) continue;
    if (DIAG.test(line)) out.push(line.replace(/^controller_ip = (?!None$).*/, 'controller_ip = <address>'));
    inside = line.startsWith('*** BEGIN ');
  }
  return out;
}

maybe('Slurm: a job submits sub-jobs from inside its container over ssh (real slurmd, real sshd)', () => {
  let work = '';
  let hostRoot = '';
  let cluster = '';
  let host: SubmitHost | undefined;
  let who: Attacker;
  let victim: Attacker;
  let wrapper = '';
  let helper = '';
  const conf = () => path.join(cluster, 'slurm.conf');
  const env = () => ({ ...process.env, SLURM_CONF: conf() });

  beforeAll(() => {
    who = ensureAttacker();
    victim = ensureUser('xspot-victim');
    unlock(who);
    unlock(victim);
    work = tempDir('xspot-submit-slurm-');
    fs.chmodSync(work, 0o755);
    fs.mkdirSync(path.join(work, 'out'), { mode: 0o1777 });
    fs.chmodSync(path.join(work, 'out'), 0o1777);
    const exorun = installStandInExorun(work);
    hostRoot = submitRoot('xspot-submit-slurm-');
    const settings = {
      ...TEST_SETTINGS,
      type: 'slurm' as const,
      exorunPath: exorun,
      realSubmitCommand: mustRun('sh', ['-c', 'command -v sbatch']).trim(),
      ...submitPaths(hostRoot, freePort()),
    };
    const slurmHost = mustRun('hostname', ['-s']).trim();
    cluster = path.join(work, 'cluster');
    fs.mkdirSync(cluster);
    host = startSubmitHost(hostRoot, settings, 'slurm', { SLURM_CONF: path.join(cluster, 'slurm.conf') });
    wrapper = path.join(settings.installDir, 'slurm', 'sbatch');
    helper = path.join(settings.installDir, 'slurm', 'xspot_submit');
    fs.copyFileSync(path.join(settings.installDir, 'slurm', 'job_submit.lua'), path.join(cluster, 'job_submit.lua'));
    mustRun(
      'bash',
      [
        path.join(HERE, 'slurm-cluster.sh'),
        'start',
        cluster,
        'JobSubmitPlugins=lua',
        `PartitionName=xspot Nodes=${slurmHost} MaxTime=INFINITE State=UP`,
        `Prolog=${helper}`,
        `Epilog=${helper}`,
      ],
      { timeoutMs: 90_000 },
    );
  }, 180_000);

  afterAll(() => {
    if (cluster) {
      run('scancel', ['--full', '-u', who.name], { env: env() });
      run('scancel', ['--full', '-u', victim.name], { env: env() });
      run('bash', [path.join(HERE, 'slurm-cluster.sh'), 'stop', cluster]);
    }
    host?.stop();
    if (!process.env.XSPOT_TEST_KEEP) {
      if (work) fs.rmSync(work, { recursive: true, force: true });
      if (hostRoot) fs.rmSync(hostRoot, { recursive: true, force: true });
    }
  });

  function userEnv(u: Attacker): NodeJS.ProcessEnv {
    return { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', HOME: u.home, USER: u.name, SLURM_CONF: conf() };
  }

  function jobIdOf(text: string): string {
    const m = /Submitted batch job (\d+)/.exec(text);
    if (!m) throw new Error(`no job id in: ${text}`);
    return m[1];
  }

  /** Submits SCRIPT as U to the X-Spot partition (through job_submit.lua); returns the job id. */
  function submitXspot(u: Attacker, name: string, script: string): string {
    const file = path.join(u.home, `${name}.sh`);
    fs.writeFileSync(file, script, { mode: 0o755 });
    fs.chownSync(file, u.uid, u.gid);
    const r = runAs(u, 'sbatch', ['-p', 'xspot', '-J', name, '-o', path.join(work, 'out', `${name}-%j.out`), file], {
      env: userEnv(u),
      cwd: u.home,
    });
    if (r.code !== 0) throw new Error(`sbatch ${name} failed: ${r.stderr}`);
    return jobIdOf(r.stdout);
  }

  const show = (id: string) => mustRun('scontrol', ['show', 'job', '-o', id], { env: env() });
  const state = (id: string) => /JobState=(\S+)/.exec(show(id))?.[1];
  const keyOf = (id: string) => path.join(host?.settings.submitStateDir ?? '', 'jobs', id, 'id_ed25519');

  async function waitRunning(id: string): Promise<void> {
    await waitFor(`job ${id} running with its submit key`, () =>
      state(id) === 'RUNNING' && fs.existsSync(keyOf(id)) ? true : undefined,
    );
  }

  test('a job inside its container submits with stdin and with a script file; the sub-jobs land in Slurm', async () => {
    // GIVEN a sub-job script on storage the controller sees, and a parent job whose script runs
    // the sbatch wrapper "inside the container" (the stand-in exorun runs it with the launcher's env)
    const stdinScript = '#!/bin/bash\n#SBATCH --comment=from-stdin\necho SUB-STDIN-RAN\n';
    const sub = path.join(who.home, 'subjob.sh');
    fs.writeFileSync(sub, '#!/bin/bash\nprintf "SUB-FILE-RAN"; printf " <%s>" "$@"; echo\n', { mode: 0o755 });
    fs.chownSync(sub, who.uid, who.gid);
    const out = path.join(work, 'out');
    const parent = submitXspot(
      who,
      'parent',
      [
        '#!/bin/bash',
        `cd ${who.home}`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell variables of the job script
        'echo "INSIDE<${STANDIN_INSIDE_EXORUN:-native}> IP<${XSPOT_CONTROLLER_IP:-}>"',
        `printf '%s' '${stdinScript}' | ${wrapper} -H -p debug -J sub-stdin --mem=1536M -o ${out}/sub-%j.out`,
        'echo "RC1<$?>"',
        `${wrapper} -H -p debug -J sub-file -o ${out}/subf-%j.out ./subjob.sh one 'two words'`,
        'echo "RC2<$?>"',
        '',
      ].join('\n'),
    );
    // WHEN the parent job runs and ends
    await waitFor(
      `parent job ${parent} done`,
      () => (/COMPLETED|FAILED/.test(state(parent) ?? '') ? true : undefined),
      90_000,
    );
    const log = fs.readFileSync(path.join(out, `parent-${parent}.out`), 'utf8');
    // THEN it ran inside exorun with the controller address, and both submissions succeeded
    expect(log).toContain('INSIDE<inside> IP<127.0.0.1>');
    expect(log).toContain('RC1<0>');
    expect(log).toContain('RC2<0>');
    const [stdinJob, fileJob] = [...log.matchAll(/Submitted batch job (\d+)/g)].map((m) => m[1]);
    // the sub-job from stdin: this user, the options given, the script byte for byte
    const a = show(stdinJob);
    expect(a).toMatch(new RegExp(`UserId=${who.name}\\(${who.uid}\\)`));
    expect(a).toMatch(/ JobName=sub-stdin /);
    expect(a).toMatch(/ Partition=debug /);
    expect(a).toMatch(/ Reason=JobHeldUser /);
    expect(a).toMatch(/ MinMemoryNode=1.50G /);
    expect(a).toMatch(/ Comment=from-stdin /);
    expect(mustRun('scontrol', ['write', 'batch_script', stdinJob, '-'], { env: env() })).toBe(stdinScript);
    // the sub-job from a file: the script and its arguments, from the submit directory
    const b = show(fileJob);
    expect(b).toMatch(new RegExp(`UserId=${who.name}\\(${who.uid}\\)`));
    expect(b).toMatch(/ JobName=sub-file /);
    expect(b).toContain(` WorkDir=${who.home} `);
    expect(b).toContain(' Command=./subjob.sh one two words ');
    expect(mustRun('scontrol', ['write', 'batch_script', fileJob, '-'], { env: env() })).toBe(
      fs.readFileSync(sub, 'utf8'),
    );
    // released, it runs with its two arguments as given
    mustRun('scontrol', ['release', fileJob], { env: env() });
    const subOut = path.join(out, `subf-${fileJob}.out`);
    await waitFor(`sub-job ${fileJob} ran`, () =>
      fs.existsSync(subOut) && fs.readFileSync(subOut, 'utf8').includes('\n') ? true : undefined,
    );
    expect(fs.readFileSync(subOut, 'utf8')).toBe('SUB-FILE-RAN <one> <two words>\n');
    // and the diagnostics are the guide's (its ssh sample), stdin forwarded for the first
    const guide = diagnostics(fs.readFileSync(path.join(GUIDE, 'sub_wrapper-output-lsf-ssh'), 'utf8'));
    const first = log.slice(0, log.indexOf('RC1<'));
    const second = log.slice(log.indexOf('RC1<'));
    expect(diagnostics(second)).toEqual(guide);
    const forwarded = `stdin(ssh): ${Buffer.byteLength(stdinScript)} bytes`;
    expect(diagnostics(first)).toEqual(guide.map((l) => (l === 'NO stdin(ssh)' ? forwarded : l)));
    expect(first).toContain(`sbatch -H -p debug -J sub-stdin --mem=1536M -o ${out}/sub-%j.out`);
    expect(first.split('\n')).toContain(forwarded);
    // the parent's key is gone with the job (Epilog)
    await waitFor('the Epilog removed the key', () => (fs.existsSync(keyOf(parent)) ? undefined : true));
    expect(fs.existsSync(path.join(host?.settings.submitStateDir ?? '', 'keys', who.name, `${parent}.pub`))).toBe(
      false,
    );
  }, 180_000);

  describe('attack table (a hostile user with ssh and the keys)', () => {
    let mine = '';
    let theirs = '';
    let marks = '';
    let myKey = '';
    const sleeper = '#!/bin/bash\nsleep 300\n';

    beforeAll(async () => {
      marks = path.join(who.home, 'marks');
      fs.rmSync(marks, { recursive: true, force: true });
      fs.mkdirSync(marks);
      fs.chownSync(marks, who.uid, who.gid);
      mine = submitXspot(who, 'mine', sleeper);
      theirs = submitXspot(victim, 'theirs', sleeper);
      await waitRunning(mine);
      await waitRunning(theirs);
      myKey = keyOf(mine);
      // a ~/.bashrc that would run natively on the controller if sshd's shell read it
      fs.writeFileSync(path.join(who.home, '.bashrc'), `touch ${marks}/bashrc\n`);
    }, 120_000);

    const noMarks = () => fs.readdirSync(marks);
    const benign = `sbatch -H -p debug -J benign --wrap=true -o ${path.join(work, 'out', 'benign-%j.out')}`;

    test('benign: the own running job key submits as the user; the shell read no startup file', () => {
      const r = sshAs(who, host as SubmitHost, myKey, { command: benign });
      expect({ code: r.code, err: r.stderr.replace(/controller_ip.*\n|NO stdin.*\n|stdin.*\n/g, '') }).toEqual({
        code: 0,
        err: '',
      });
      expect(show(jobIdOf(r.stdout))).toMatch(new RegExp(`UserId=${who.name}\\(`));
      expect(noMarks()).toEqual([]);
    });

    test("another user's key is out of reach (0600 in a 0700 directory of that user)", () => {
      const r = runAs(who, 'cat', [keyOf(theirs)]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Permission denied/);
    });

    test("a leaked key of another user's job does not log in as oneself; the own key does not log in as them", () => {
      const leaked = path.join(who.home, 'leaked');
      fs.copyFileSync(keyOf(theirs), leaked);
      fs.chownSync(leaked, who.uid, who.gid);
      fs.chmodSync(leaked, 0o600);
      const asSelf = sshAs(who, host as SubmitHost, leaked, { command: benign });
      expect(asSelf.code).toBe(255);
      expect(asSelf.stderr).toMatch(/Permission denied \(publickey\)/);
      const asThem = sshAs(who, host as SubmitHost, myKey, { login: victim.name, command: benign });
      expect(asThem.code).toBe(255);
      expect(asThem.stderr).toMatch(/Permission denied \(publickey\)/);
      fs.rmSync(leaked);
    });

    test.each([
      ['a command after ;', `sbatch; touch MARKS/semicolon`],
      ['command substitution', `sbatch $(touch MARKS/subst)`],
      ['backquotes', 'sbatch `touch MARKS/backquote`'],
      ['&&', `sbatch && touch MARKS/and`],
      ['a pipe', `sbatch | touch MARKS/pipe`],
      ['a newline', `sbatch\ntouch MARKS/newline`],
      ['another binary', `touch MARKS/binary`],
      ['a shell', `/bin/sh -c 'touch MARKS/shell'`],
      ['the real sbatch by path', `/usr/bin/sbatch --wrap='touch MARKS/real'`],
      ['scontrol', 'scontrol show config'],
    ])('SSH_ORIGINAL_COMMAND with %s runs nothing', (_name, command) => {
      const r = sshAs(who, host as SubmitHost, myKey, { command: command.replaceAll('MARKS', marks) });
      expect(r.code).not.toBe(0);
      expect(noMarks()).toEqual([]);
    });

    test('another binary is refused by name', () => {
      const r = sshAs(who, host as SubmitHost, myKey, { command: 'scontrol show config' });
      expect(r.stderr).toContain("xspot: 'scontrol' is not allowed; this key only runs sbatch [options] [script]");
      expect(r.stdout).not.toMatch(/SlurmctldHost/);
    });

    test('a shell is refused: no command runs the forward, which refuses; a TTY is refused by sshd', () => {
      const shell = sshAs(who, host as SubmitHost, myKey, { extra: ['-T'], input: `touch ${marks}/shell\nexit\n` });
      expect(shell.code).toBe(1);
      expect(shell.stderr).toContain('xspot: this key only submits jobs (sbatch ...) from X-Spot job');
      const tty = sshAs(who, host as SubmitHost, myKey, { extra: ['-tt'], input: `touch ${marks}/tty\nexit\n` });
      expect(tty.code).not.toBe(0);
      expect(tty.stderr).toMatch(/PTY allocation request failed/);
      expect(noMarks()).toEqual([]);
    });

    test('the sftp subsystem is refused', () => {
      const r = sshAs(who, host as SubmitHost, myKey, { extra: ['-s'], command: 'sftp' });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/subsystem request failed/);
    });

    test('port forwarding is refused (stdio forward to slurmctld, remote forward)', () => {
      const port = /SlurmctldPort=(\d+)/.exec(fs.readFileSync(conf(), 'utf8'))?.[1];
      const w = sshAs(who, host as SubmitHost, myKey, { extra: ['-W', `127.0.0.1:${port}`] });
      expect(w.code).toBe(255);
      expect(w.stderr).toMatch(/stdio forwarding failed/);
      const rf = sshAs(who, host as SubmitHost, myKey, {
        extra: ['-N', '-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:22'],
      });
      expect(rf.code).toBe(255);
      expect(rf.stderr).toMatch(/remote port forwarding failed/);
    });

    test('environment sent by the client (BASH_ENV, LD_PRELOAD) is not taken', () => {
      const evil = path.join(who.home, 'evil.sh');
      fs.writeFileSync(evil, `touch ${marks}/bash_env\n`);
      fs.chownSync(evil, who.uid, who.gid);
      const r = sshAs(who, host as SubmitHost, myKey, {
        command: benign,
        extra: ['-o', 'SendEnv=BASH_ENV', '-o', 'SendEnv=LD_PRELOAD'],
        env: { BASH_ENV: evil, LD_PRELOAD: path.join(who.home, 'nothing.so') },
      });
      expect(r.code).toBe(0);
      expect(noMarks()).toEqual([]);
    });

    test('a key after its job ended is refused', async () => {
      const kept = path.join(who.home, 'kept-key');
      fs.copyFileSync(myKey, kept);
      fs.chownSync(kept, who.uid, who.gid);
      fs.chmodSync(kept, 0o600);
      expect(sshAs(who, host as SubmitHost, kept, { command: benign }).code).toBe(0);
      mustRun('scancel', [mine], { env: env() });
      await waitFor('the Epilog removed the key', () => (fs.existsSync(myKey) ? undefined : true));
      const r = sshAs(who, host as SubmitHost, kept, { command: benign });
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
      fs.rmSync(kept);
    }, 60_000);

    test('state on the controller: public keys root-owned for the sshd account only; the private key the user’s', () => {
      const dir = host?.settings.submitStateDir ?? '';
      const pub = fs.statSync(path.join(dir, 'keys', victim.name, `${theirs}.pub`));
      expect({ uid: pub.uid, mode: pub.mode & 0o777 }).toEqual({ uid: 0, mode: 0o640 });
      const keys = fs.statSync(path.join(dir, 'keys'));
      expect({ uid: keys.uid, mode: keys.mode & 0o777 }).toEqual({ uid: 0, mode: 0o750 });
      const key = fs.statSync(keyOf(theirs));
      expect({ uid: key.uid, mode: key.mode & 0o777 }).toEqual({ uid: victim.uid, mode: 0o600 });
      const jobDir = fs.statSync(path.dirname(keyOf(theirs)));
      expect({ uid: jobDir.uid, mode: jobDir.mode & 0o777 }).toEqual({ uid: victim.uid, mode: 0o700 });
      expect(runAs(who, 'ls', [path.join(dir, 'keys')]).code).not.toBe(0);
    });
  });
});
