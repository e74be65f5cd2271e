/**
 * Submissions from inside X-Spot containers, Grid Engine, end to end: a real cell whose X-Spot
 * queue is the rendered one (prolog/epilog root@xspot_submit, the starter, the JSV), a real
 * sshd on 127.0.0.1 with the rendered submit-sshd_config standing in for the controller's. A
 * job in the X-Spot queue runs through the starter and the stand-in exorun; its script calls
 * the rendered qsub wrapper (the guide's qsub replacement), which forwards over ssh; the
 * sub-jobs must land in the cell as that user with their options, directory and stdin.
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

const GE = '/usr/lib/gridengine';
const skipReason = missingPrerequisite([
  `${GE}/sge_qmaster`,
  `${GE}/sge_execd`,
  `${GE}/qsub`,
  '/usr/sbin/sshd',
  'ssh',
  'ssh-keygen',
  'setpriv',
  'useradd',
]);
if (skipReason) console.warn(`skipping the Grid Engine submit-from-container tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

maybe('Grid Engine: a job submits sub-jobs from inside its container over ssh (real cell, real sshd)', () => {
  let work = '';
  let hostRoot = '';
  let cell = '';
  let cellEnv: Record<string, string> = {};
  let host: SubmitHost | undefined;
  let who: Attacker;
  let victim: Attacker;
  let wrapper = '';

  const adminEnv = (): NodeJS.ProcessEnv => ({ PATH: `${GE}:${process.env.PATH}`, LANG: 'C', ...cellEnv });
  const qconf = (...args: string[]) => mustRun(`${GE}/qconf`, args, { env: adminEnv() });
  const qstat = (id: string) => mustRun(`${GE}/qstat`, ['-j', id], { env: adminEnv() });
  const field = (text: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1].trim() ?? '';
  const state = () => host?.settings.submitStateDir ?? '';

  beforeAll(() => {
    who = ensureAttacker();
    victim = ensureUser('xspot-victim');
    unlock(who);
    unlock(victim);
    work = tempDir('xspot-submit-ge-');
    fs.chmodSync(work, 0o755);
    fs.mkdirSync(path.join(work, 'out'), { mode: 0o1777 });
    fs.chmodSync(path.join(work, 'out'), 0o1777);
    const exorun = installStandInExorun(work);
    hostRoot = submitRoot('xspot-submit-ge-');
    const geHost = mustRun('hostname', []).trim();
    const settings = {
      ...TEST_SETTINGS,
      type: 'gridengine' as const,
      exorunPath: exorun,
      realSubmitCommand: `${GE}/qsub`,
      gridEngineHostList: geHost,
      ...submitPaths(hostRoot, freePort()),
    };
    cell = path.join(work, 'cell');
    fs.mkdirSync(cell);
    const out = mustRun('bash', [path.join(HERE, 'gridengine-cluster.sh'), 'start', cell], { timeoutMs: 90_000 });
    cellEnv = Object.fromEntries(
      out
        .split('\n')
        .filter((l) => /^SGE_[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    host = startSubmitHost(hostRoot, settings, 'gridengine', cellEnv);
    const inst = path.join(settings.installDir, 'gridengine');
    wrapper = path.join(inst, 'qsub');
    const complexes = path.join(work, 'complexes');
    fs.writeFileSync(complexes, qconf('-sc') + fs.readFileSync(path.join(inst, 'xspot_job.complex'), 'utf8'));
    qconf('-Mc', complexes);
    qconf('-Mp', path.join(inst, 'smp.pe'));
    qconf('-Aq', path.join(inst, 'xspot.queue'));
    const global = path.join(work, 'global');
    fs.writeFileSync(
      global,
      qconf('-sconf', 'global').replace(/^jsv_url .*$/m, `jsv_url ${path.join(inst, 'jsv_xspot')}`),
    );
    qconf('-Mconf', global);
  }, 180_000);

  afterAll(() => {
    if (cell) {
      run(`${GE}/qdel`, ['-u', who.name], { env: adminEnv() });
      run(`${GE}/qdel`, ['-u', victim.name], { env: adminEnv() });
      run('bash', [path.join(HERE, 'gridengine-cluster.sh'), 'stop', cell]);
    }
    host?.stop();
    if (!process.env.XSPOT_TEST_KEEP) {
      if (work) fs.rmSync(work, { recursive: true, force: true });
      if (hostRoot) fs.rmSync(hostRoot, { recursive: true, force: true });
    }
  });

  function userEnv(u: Attacker): NodeJS.ProcessEnv {
    return {
      PATH: `${GE}:/usr/sbin:/usr/bin:/sbin:/bin`,
      LANG: 'C',
      HOME: u.home,
      USER: u.name,
      LOGNAME: u.name,
      ...cellEnv,
    };
  }

  function jobIdOf(text: string): string {
    const m = /Your job(?:-array)? (\d+)/.exec(text);
    if (!m) throw new Error(`no job id in: ${text}`);
    return m[1];
  }

  /** Submits SCRIPT as U to the X-Spot queue (through the JSV); returns the job id. */
  function submitXspot(u: Attacker, name: string, script: string, extra: string[] = []): string {
    const file = path.join(u.home, `${name}.sh`);
    fs.writeFileSync(file, script, { mode: 0o755 });
    fs.chownSync(file, u.uid, u.gid);
    const r = runAs(
      u,
      `${GE}/qsub`,
      ['-q', 'xspot', '-N', name, '-j', 'y', '-o', path.join(work, 'out', `${name}.out`), ...extra, file],
      { env: userEnv(u), cwd: u.home },
    );
    if (r.code !== 0) throw new Error(`qsub ${name} failed: ${r.stderr}`);
    return jobIdOf(r.stdout);
  }

  const gone = (id: string) => run(`${GE}/qstat`, ['-j', id], { env: adminEnv() }).code !== 0;

  test('a job inside its container submits with stdin and with a script file; the sub-jobs land in the cell', async () => {
    // GIVEN a sub-job script in a directory on shared storage, and a parent job whose script
    // runs the qsub wrapper "inside the container"
    const subdir = path.join(who.home, 'ge-sub');
    fs.mkdirSync(subdir, { recursive: true });
    fs.chownSync(subdir, who.uid, who.gid);
    const sub = path.join(subdir, 'subjob.sh');
    fs.writeFileSync(sub, '#!/bin/bash\nprintf "SUB-FILE-RAN"; printf " <%s>" "$@"; echo\n', { mode: 0o755 });
    fs.chownSync(sub, who.uid, who.gid);
    const stdinScript = '#!/bin/bash\n#$ -N from-stdin\necho SUB-STDIN-RAN\n';
    const out = path.join(work, 'out');
    const parent = submitXspot(
      who,
      'parent',
      [
        '#!/bin/bash',
        `cd ${subdir}`,
        'echo "JOBKEY<$JOB_ID>"',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell variables of the job script
        'echo "INSIDE<${STANDIN_INSIDE_EXORUN:-native}> IP<${XSPOT_CONTROLLER_IP:-}>"',
        `printf '%s' '${stdinScript}' | ${wrapper} -h -q all.q -j y -o ${out}/sub-stdin.out`,
        'echo "RC1<$?>"',
        `${wrapper} -h -q all.q -N sub-file -cwd -j y -o ${out}/sub-file.out ./subjob.sh one 'two words'`,
        'echo "RC2<$?>"',
        '',
      ].join('\n'),
      // the job environment names another user and job: the key is still the job's and its owner's
      ['-v', `USER=${victim.name},LOGNAME=${victim.name},JOB_ID=424242`],
    );
    // WHEN the parent job runs and ends
    await waitFor(`parent job ${parent} done`, () => (gone(parent) ? true : undefined), 120_000);
    const log = fs.readFileSync(path.join(out, 'parent.out'), 'utf8');
    // THEN it ran inside exorun with the controller address, and both submissions succeeded
    expect(log).toContain('INSIDE<inside> IP<127.0.0.1>');
    expect(log).toContain(`JOBKEY<${parent}>`);
    expect(log).toContain('RC1<0>');
    expect(log).toContain('RC2<0>');
    expect(log).toContain('controller_ip = 127.0.0.1');
    expect(log).toContain(`stdin(ssh): ${Buffer.byteLength(stdinScript)} bytes`);
    const [stdinJob, fileJob] = [...log.matchAll(/Your job (\d+)/g)].map((m) => m[1]);
    // the sub-job from stdin: this user, the options given, the name from its #$ line, the script byte for byte
    const a = qstat(stdinJob);
    expect(field(a, 'owner')).toBe(who.name);
    expect(field(a, 'job_name')).toBe('from-stdin');
    expect(field(a, 'hard_queue_list')).toBe('all.q');
    expect(field(a, 'script_file')).toBe('STDIN');
    expect(fs.readFileSync(path.join(cell, 'qmaster', 'job_scripts', stdinJob), 'utf8')).toBe(stdinScript);
    // the sub-job from a file, submitted in the job's directory (-cwd), with its arguments
    const b = qstat(fileJob);
    expect(field(b, 'owner')).toBe(who.name);
    expect(field(b, 'job_name')).toBe('sub-file');
    expect(field(b, 'cwd')).toBe(subdir);
    expect(field(b, 'job_args')).toBe('one,two words');
    mustRun(`${GE}/qrls`, [fileJob], { env: adminEnv() });
    await waitFor(`sub-job ${fileJob} ran`, () => (gone(fileJob) ? true : undefined), 120_000);
    expect(fs.readFileSync(path.join(out, 'sub-file.out'), 'utf8')).toBe('SUB-FILE-RAN <one> <two words>\n');
    // the epilog removed the key; none was ever minted under the name the job environment gave
    expect(fs.existsSync(path.join(state(), 'jobs', parent))).toBe(false);
    expect(fs.existsSync(path.join(state(), 'keys', who.name, `${parent}.pub`))).toBe(false);
    expect(fs.readdirSync(path.join(state(), 'keys')).includes(victim.name)).toBe(false);
  }, 300_000);

  test('a running job key: qsub is allowed, another command and an injection are not; the key dies with the job', async () => {
    const job = submitXspot(who, 'sleeper', '#!/bin/bash\nsleep 300\n');
    const key = path.join(state(), 'jobs', job, 'id_ed25519');
    await waitFor(`job ${job} has its key`, () => (fs.existsSync(key) ? true : undefined), 120_000);
    // the public key is the owner's (from qstat -j), in root-owned state
    const pub = fs.statSync(path.join(state(), 'keys', who.name, `${job}.pub`));
    expect({ uid: pub.uid, mode: pub.mode & 0o777 }).toEqual({ uid: 0, mode: 0o640 });
    const ok = sshAs(who, host as SubmitHost, key, { command: 'qsub -h -q all.q -b y /bin/true' });
    expect(ok.code).toBe(0);
    expect(field(qstat(jobIdOf(ok.stdout)), 'owner')).toBe(who.name);
    const other = sshAs(who, host as SubmitHost, key, { command: 'qconf -sq all.q' });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("xspot: 'qconf' is not allowed; this key only runs qsub [options] [script]");
    const marks = path.join(who.home, 'ge-marks');
    fs.rmSync(marks, { recursive: true, force: true });
    fs.mkdirSync(marks);
    fs.chownSync(marks, who.uid, who.gid);
    const injected = sshAs(who, host as SubmitHost, key, {
      command: `qsub -h -q all.q -b y /bin/true; touch ${marks}/x`,
    });
    expect(fs.readdirSync(marks)).toEqual([]);
    const held = /Your job (\d+)/.exec(injected.stdout);
    if (held) run(`${GE}/qdel`, [held[1]], { env: adminEnv() });
    // a copy of the key outlives the job, but not its use
    const kept = path.join(who.home, 'ge-kept-key');
    fs.copyFileSync(key, kept);
    fs.chownSync(kept, who.uid, who.gid);
    fs.chmodSync(kept, 0o600);
    mustRun(`${GE}/qdel`, [job], { env: adminEnv() });
    await waitFor('the epilog removed the key', () => (fs.existsSync(key) ? undefined : true), 60_000);
    const after = sshAs(who, host as SubmitHost, kept, { command: 'qsub -help' });
    expect(after.code).toBe(255);
    expect(after.stderr).toMatch(/Permission denied \(publickey\)/);
    fs.rmSync(kept);
  }, 240_000);
});
