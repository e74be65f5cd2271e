/**
 * Submissions from inside X-Spot containers, LSF. There is no free LSF build, so the job's life
 * on the controller is played the way sbatchd plays it, with stand-ins only where LSF would be:
 * the rendered queue's PRE_EXEC (`xspot_submit prolog`) as root (LSB_PRE_POST_EXEC_USER=root)
 * with LSB_JOBID set and a stand-in `bjobs` that answers the job's owner; the rendered
 * JOB_STARTER as the user with the command line esub.xspot writes (through the stand-in
 * exorun); POST_EXEC as root. The job script "inside the container" calls the rendered bsub
 * wrapper, which forwards over ssh to a real sshd on 127.0.0.1 with the rendered config; the
 * controller side runs the wrapper there, which hands the submission to a stand-in bsub.orig
 * that records who ran it, where, with which arguments and stdin.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_SETTINGS } from './cases';
import {
  type Attacker,
  ensureAttacker,
  installStandInExorun,
  missingPrerequisite,
  mustRun,
  runAs,
  tempDir,
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

const skipReason = missingPrerequisite(['/usr/sbin/sshd', 'ssh', 'ssh-keygen', 'setpriv', 'useradd']);
if (skipReason) console.warn(`skipping the LSF submit-from-container tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

const JOB = '7301';

maybe('LSF: a job submits from inside its container over ssh (real sshd, LSF stand-ins)', () => {
  let work = '';
  let hostRoot = '';
  let host: SubmitHost | undefined;
  let who: Attacker;
  let victim: Attacker;
  let lsfBin = '';
  let exorun = '';
  let inst = '';

  beforeAll(() => {
    who = ensureAttacker();
    victim = ensureUser('xspot-victim');
    unlock(who);
    unlock(victim);
    work = tempDir('xspot-submit-lsf-');
    fs.chmodSync(work, 0o755);
    for (const d of ['record', 'owner']) {
      fs.mkdirSync(path.join(work, d), { mode: 0o1777 });
      fs.chmodSync(path.join(work, d), 0o1777);
    }
    exorun = installStandInExorun(work);
    hostRoot = submitRoot('xspot-submit-lsf-');
    // LSF_BINDIR of the stand-ins: root-owned, so the root PRE_EXEC may run them
    lsfBin = path.join(hostRoot, 'lsf-bin');
    fs.mkdirSync(lsfBin, { mode: 0o755 });
    fs.writeFileSync(
      path.join(lsfBin, 'bjobs'),
      // bjobs -noheader -o user JOB: the owner LSF recorded for the job
      `#!/bin/sh\ncat ${path.join(work, 'owner')}/"$4"\n`,
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(lsfBin, 'bsub.orig'),
      [
        '#!/bin/bash',
        '# stand-in bsub: records who ran it, where, its arguments (NUL-separated) and stdin',
        `r=${path.join(work, 'record')}/$(date +%s%N)`,
        'id -un >"$r.user"; pwd >"$r.cwd"',
        'printf "%s\\0" "$@" >"$r.argv"',
        'cat >"$r.stdin"',
        'echo "Job <4242> is submitted to default queue <normal>."',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const settings = {
      ...TEST_SETTINGS,
      type: 'lsf' as const,
      exorunPath: exorun,
      realSubmitCommand: path.join(lsfBin, 'bsub.orig'),
      ...submitPaths(hostRoot, freePort()),
    };
    host = startSubmitHost(hostRoot, settings, 'lsf', { LSF_BINDIR: lsfBin, PATH: `${lsfBin}:/usr/bin:/bin` });
    inst = path.join(settings.installDir, 'lsf');
  }, 60_000);

  afterAll(() => {
    host?.stop();
    if (!process.env.XSPOT_TEST_KEEP) {
      if (work) fs.rmSync(work, { recursive: true, force: true });
      if (hostRoot) fs.rmSync(hostRoot, { recursive: true, force: true });
    }
  });

  const state = () => host?.settings.submitStateDir ?? '';
  const key = () => path.join(state(), 'jobs', JOB, 'id_ed25519');
  /** PRE_EXEC / POST_EXEC as LSF runs them: /bin/sh -c, as root, with the job's environment. */
  const hook = (mode: 'prolog' | 'epilog', env: Record<string, string>) => {
    const queues = fs.readFileSync(path.join(inst, 'lsb.queues.snippet'), 'utf8');
    const line = new RegExp(`^${mode === 'prolog' ? 'PRE_EXEC' : 'POST_EXEC'}\\s+=\\s+(.*)$`, 'm').exec(queues)?.[1];
    expect(line).toBe(`${path.join(inst, 'xspot_submit')} ${mode}`);
    return mustRun('/bin/sh', ['-c', line as string], {
      env: { PATH: '/bin:/usr/bin:/sbin:/usr/sbin', LSB_JOBID: JOB, LSB_JOBINDEX: '0', ...env },
    });
  };

  test('PRE_EXEC mints the key for the owner LSF names, the job inside its container submits, POST_EXEC removes it', () => {
    // GIVEN job 7301 of the user, whose environment names another user
    fs.writeFileSync(path.join(work, 'owner', JOB), `${who.name}\n`);
    hook('prolog', { USER: victim.name, LOGNAME: victim.name });
    expect(fs.statSync(key()).uid).toBe(who.uid);
    expect(fs.existsSync(path.join(state(), 'keys', victim.name))).toBe(false);
    // a job script that submits twice "inside the container": a script on stdin, a command
    const subdir = path.join(who.home, 'lsf-sub');
    fs.mkdirSync(subdir, { recursive: true });
    fs.chownSync(subdir, who.uid, who.gid);
    const stdinScript = '#!/bin/sh\n#BSUB -J from-stdin\necho SUB-STDIN-RAN\n';
    const script = path.join(subdir, 'parent.sh');
    fs.writeFileSync(
      script,
      [
        '#!/bin/bash',
        `cd ${subdir}`,
        `printf '%s' '${stdinScript}' | ${path.join(inst, 'bsub')} -o out.%J`,
        'echo "RC1<$?>"',
        `${path.join(inst, 'bsub')} -n 2 -o out.%J ./work.sh 'two words'`,
        'echo "RC2<$?>"',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    fs.chownSync(script, who.uid, who.gid);
    // WHEN LSF starts it: JOB_STARTER with the command line esub.xspot writes, as the user
    const r = runAs(
      who,
      path.join(inst, 'xspot_job_starter'),
      [exorun, 'run', '-c', '1', '-m', '1', '-i', 'docker-base', '--', '/bin/sh', '-c', script],
      { env: { PATH: '/usr/bin:/bin', HOME: who.home, LSB_JOBID: JOB, LSB_JOBINDEX: '0', LANG: 'C' }, cwd: who.home },
    );
    // THEN both submissions reached the real bsub on the controller, as the user, from the
    // job's directory, with the arguments and stdin given
    const out = r.stdout + r.stderr;
    expect(out).toContain('RC1<0>');
    expect(out).toContain('RC2<0>');
    expect(out).toContain('controller_ip = 127.0.0.1');
    expect(out).toMatch(/^Job <4242> is submitted to default queue <normal>\.$/m);
    const records = [...new Set(fs.readdirSync(path.join(work, 'record')).map((f) => f.split('.')[0]))].sort();
    expect(records).toHaveLength(2);
    const read = (id: string, ext: string) => fs.readFileSync(path.join(work, 'record', `${id}.${ext}`), 'utf8');
    for (const id of records) {
      expect(read(id, 'user').trim()).toBe(who.name);
      expect(read(id, 'cwd').trim()).toBe(subdir);
    }
    expect(read(records[0], 'argv').split('\0').slice(0, -1)).toEqual(['-o', 'out.%J']);
    expect(read(records[0], 'stdin')).toBe(stdinScript);
    expect(read(records[1], 'argv').split('\0').slice(0, -1)).toEqual([
      '-n',
      '2',
      '-o',
      'out.%J',
      './work.sh',
      'two words',
    ]);
    expect(read(records[1], 'stdin')).toBe('');
    // a copy of the key works while the job runs, not after POST_EXEC
    const kept = path.join(who.home, 'lsf-kept-key');
    fs.copyFileSync(key(), kept);
    fs.chownSync(kept, who.uid, who.gid);
    fs.chmodSync(kept, 0o600);
    const other = sshAs(who, host as SubmitHost, kept, { command: 'bkill 0' });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("xspot: 'bkill' is not allowed; this key only runs bsub [options] [script]");
    hook('epilog', {});
    expect(fs.existsSync(key())).toBe(false);
    const after = sshAs(who, host as SubmitHost, kept, { command: 'bsub -o x true' });
    expect(after.code).toBe(255);
    expect(after.stderr).toMatch(/Permission denied \(publickey\)/);
    fs.rmSync(kept);
  }, 120_000);
});
