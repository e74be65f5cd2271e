/**
 * LSF has no free build: esub.xspot is tested against the documented file contract
 * (LSB_SUB_PARM_FILE in, LSB_SUB_MODIFY_FILE out, LSB_SUB_ABORT_VALUE to reject), and the rewritten
 * command line is then run with sh the way LSF runs it, through the stand-in exorun. The bsub
 * wrapper is tested with a stand-in bsub that records its arguments and stdin.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LSF_ATTACKS, type LsfAttack } from './attacks';
import { casesFor, exorunArgs, type SubmitCase, TEST_SETTINGS } from './cases';
import { argLines, exorunLine, installStandInExorun, jobScript, renderTo, run, tempDir } from './helpers';

const ABORT = 97;
let root = '';
let exorun = '';
let render = '';

beforeAll(() => {
  root = tempDir('xspot-lsf-');
  for (const d of ['work', 'record', 'home', 'jobs']) fs.mkdirSync(path.join(root, d));
  exorun = installStandInExorun(root);
  const bsub = path.join(root, 'bin', 'bsub.orig');
  fs.writeFileSync(
    bsub,
    [
      '#!/bin/bash',
      '# stand-in bsub: records its arguments (NUL-separated) and stdin',
      'printf "%s\\0" "$@" >"$BSUB_RECORD.argv"',
      'cat >"$BSUB_RECORD.stdin"',
      'echo "Job <42> is submitted to default queue."',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  render = path.join(root, 'render');
  renderTo(
    render,
    {
      ...TEST_SETTINGS,
      type: 'lsf',
      exorunPath: exorun,
      scriptDir: path.join(root, 'jobs'),
      realSubmitCommand: bsub,
      publishDir: render,
    },
    ['lsf'],
  );
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const shq = (s: string) => (/^[A-Za-z0-9_./=:,+@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
/** Always single-quoted, as esub.xspot and the bsub wrapper quote the user's command line. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs a job's command line the way LSF does on an X-Spot queue: sh -c '<JOB_STARTER> <command line>'. */
function runJob(commandLine: string, cwd?: string, env: NodeJS.ProcessEnv = process.env) {
  return run('sh', ['-c', `${path.join(render, 'lsf/xspot_job_starter')} ${commandLine}`], { cwd, env });
}
const quoted = (s: string) => `"${s.replace(/(["\\$`])/g, '\\$1')}"`;

function queueOf(c: SubmitCase): string {
  switch (c.queue ?? 'xspot') {
    case 'other':
      return 'normal';
    case 'mixed':
      return 'xspot normal';
    default:
      return c.queue ?? 'xspot';
  }
}

/** Reads NAME=VALUE lines the way esub.xspot writes them. */
function readModify(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    let v = line.slice(i + 1);
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    out[line.slice(0, i)] = v;
  }
  return out;
}

interface EsubRun {
  readonly code: number;
  readonly stderr: string;
  readonly modify: Record<string, string>;
  readonly modifyFile: string;
}

function runEsub(
  id: string,
  parm: Record<string, string | number>,
  extraEnv: Record<string, string> = {},
  esub?: string,
): EsubRun {
  const dir = path.join(root, 'work', id);
  fs.mkdirSync(dir, { recursive: true });
  const parmFile = path.join(dir, 'parm');
  const modifyFile = path.join(dir, 'modify');
  fs.writeFileSync(
    parmFile,
    Object.entries(parm)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? v : quoted(v)}\n`)
      .join(''),
  );
  const r = run(esub ?? path.join(render, 'lsf/esub.xspot'), [], {
    env: {
      PATH: process.env.PATH,
      HOME: path.join(root, 'home'),
      LSB_SUB_PARM_FILE: parmFile,
      LSB_SUB_MODIFY_FILE: modifyFile,
      LSB_SUB_ABORT_VALUE: String(ABORT),
      LSF_SERVERDIR: path.join(render, 'lsf'),
      ...extraEnv,
    },
    cwd: dir,
  });
  return { code: r.code, stderr: r.stderr, modify: readModify(modifyFile), modifyFile };
}

function parmFor(c: SubmitCase, command: string): Record<string, string | number> {
  const p: Record<string, string | number> = {
    LSB_SUB_QUEUE: queueOf(c),
    LSB_SUB_OUT_FILE: '%J.out',
    LSB_SUB_COMMAND_LINE: command,
  };
  if (c.cpus) {
    p.LSB_SUB_NUM_PROCESSORS = Number(c.cpus);
    p.LSB_SUB_MAX_NUM_PROCESSORS = Number(c.cpus);
  }
  if (c.mem) p.LSB_SUB_RES_REQ = `rusage[mem=${c.mem}] span[hosts=1]`;
  return p;
}

describe('esub.xspot against the LSB_SUB_PARM_FILE / LSB_SUB_MODIFY_FILE contract', () => {
  test.each(casesFor('lsf').map((c) => [c.id, c] as const))('%s', (_id, c) => {
    // GIVEN a job whose command is a script with arguments
    const dir = path.join(root, 'work', `esub-${c.id}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'job.sh'), jobScript(`lsf-${c.id}`), { mode: 0o755 });
    const command = ['./job.sh', ...(c.args ?? [])].map(shq).join(' ');
    // WHEN LSF runs the esub
    const r = runEsub(`esub-${c.id}`, parmFor(c, command), c.image ? { XSPOT_IMAGE: c.image } : {});
    const e = c.expect;
    if (typeof e === 'object' && 'reject' in e) {
      // THEN it rejects with LSB_SUB_ABORT_VALUE and says what to fix, changing nothing
      expect(r.code).toBe(ABORT);
      expect(r.stderr).toMatch(e.reject);
      expect(r.modify).toEqual({});
      return;
    }
    expect(r.code).toBe(0);
    if (e === 'unchanged') {
      expect(fs.existsSync(r.modifyFile)).toBe(false);
      return;
    }
    // THEN the controller gets the launcher's share and the command goes through exorun
    expect(r.modify.LSB_SUB_NUM_PROCESSORS).toBe('1');
    expect(r.modify.LSB_SUB_MAX_NUM_PROCESSORS).toBe('1');
    expect(r.modify.LSB_SUB_MEM_USAGE).toBe('50');
    expect(r.modify.LSB_SUB_RES_REQ).toBe(c.mem ? 'rusage[mem=50] span[hosts=1]' : 'rusage[mem=50]');
    expect(r.modify.LSB_SUB_OUT_FILE).toBeUndefined();
    expect(r.modify.LSB_SUB_JOB_DESCRIPTION).toContain(`xspot: exorun -c ${e.cpus} -m ${e.gb}`);
    const prefix = `${exorun} ${exorunArgs(e).join(' ')} `;
    expect(r.modify.LSB_SUB_COMMAND_LINE.startsWith(prefix)).toBe(true);
    // AND running that command line the way LSF does (through the queue's JOB_STARTER) keeps the arguments
    const ran = runJob(r.modify.LSB_SUB_COMMAND_LINE, dir);
    expect(ran.code).toBe(0);
    expect(exorunLine(ran.stdout)?.slice(0, 8)).toEqual(exorunArgs(e));
    expect(argLines(ran.stdout)).toEqual(c.args ?? []);
  });

  test('a cpu range (-n 2,4) is refused with the fix', () => {
    const r = runEsub('range', {
      LSB_SUB_QUEUE: 'xspot',
      LSB_SUB_NUM_PROCESSORS: 2,
      LSB_SUB_MAX_NUM_PROCESSORS: 4,
      LSB_SUB_COMMAND_LINE: 'sleep 60',
    });
    expect(r.code).toBe(ABORT);
    expect(r.stderr).toMatch(/is a range; ask for a fixed number of CPUs such as -n 4/);
  });

  test('the guide esub test: -n 2 rusage[mem=2.5GB] sleep 60', () => {
    const r = runEsub('guide-esub-sleep', {
      LSB_SUB_QUEUE: 'xspot',
      LSB_SUB_NUM_PROCESSORS: 2,
      LSB_SUB_MAX_NUM_PROCESSORS: 2,
      LSB_SUB_NUM_TASKS: 2,
      LSB_SUB_MAX_NUM_TASKS: 2,
      LSB_SUB_RES_REQ: 'rusage[mem=2.5GB]',
      LSB_SUB_COMMAND_LINE: 'sleep 60',
    });
    expect(r.code).toBe(0);
    expect(r.modify).toMatchObject({
      LSB_SUB_COMMAND_LINE: `${exorun} run -c 2 -m 3 -i docker-base -- /bin/sh -c 'sleep 60'`,
      LSB_SUB_NUM_TASKS: '1',
      LSB_SUB_MAX_NUM_TASKS: '1',
      LSB_SUB_RES_REQ: 'rusage[mem=50]',
    });
  });

  test('shell syntax in the command line is kept by running it with /bin/sh -c', () => {
    const r = runEsub('shell', {
      LSB_SUB_QUEUE: 'xspot',
      LSB_SUB_COMMAND_LINE: `echo "JOB-START $((1+1))"; echo 'ARG<x y>'`,
    });
    expect(r.code).toBe(0);
    const ran = runJob(r.modify.LSB_SUB_COMMAND_LINE);
    expect(ran.stdout).toContain('JOB-START 2');
    expect(argLines(ran.stdout)).toEqual(['x y']);
  });

  test('without LSB_SUB_COMMANDNAME=Y the job is refused, not let through', () => {
    const r = runEsub('no-command', { LSB_SUB_QUEUE: 'xspot' });
    expect(r.code).toBe(ABORT);
    expect(r.stderr).toMatch(/LSB_SUB_COMMANDNAME=Y/);
  });

  test('a command that already starts with exorun is wrapped like any other (never passed through)', () => {
    const line = `${exorun} run -c 4 -m 8 -i docker-base -- x`;
    const r = runEsub('already', { LSB_SUB_QUEUE: 'xspot', LSB_SUB_COMMAND_LINE: line });
    expect(r.code).toBe(0);
    expect(r.modify.LSB_SUB_COMMAND_LINE).toBe(`${exorun} run -c 1 -m 1 -i docker-base -- /bin/sh -c ${sq(line)}`);
  });

  test('a broken esub.xspot rejects the job instead of letting it through', () => {
    const good = fs.readFileSync(path.join(render, 'lsf/esub.xspot'), 'utf8');
    expect(good).toMatch(/"max_cpus": 16,/);
    const broken = path.join(root, 'esub.broken');
    fs.writeFileSync(broken, good.replace('"max_cpus": 16,', '"max_cpus": None,'), { mode: 0o755 });
    const r = runEsub('broken', { LSB_SUB_QUEUE: 'xspot', LSB_SUB_COMMAND_LINE: 'sleep 1' }, {}, broken);
    expect(r.code).toBe(ABORT);
    expect(r.stderr).toMatch(/esub.xspot failed \(TypeError/);
  });

  test('chained after a site esub: the site changes are kept and a rejection propagates', () => {
    // GIVEN the example site esub, with a site change where its placeholder is
    const example = fs.readFileSync(path.join(render, 'lsf/esub.site-chain.example'), 'utf8');
    const site = path.join(root, 'esub.site');
    const marker = "# ... the site's own checks and changes go here";
    expect(example).toContain(marker);
    fs.writeFileSync(
      site,
      example.replace(marker, `echo 'LSB_SUB_PROJECT_NAME="site"' >>"\${LSB_SUB_MODIFY_FILE}"\n${marker}`),
      {
        mode: 0o755,
      },
    );
    const ok = runEsub(
      'chain',
      { LSB_SUB_QUEUE: 'xspot', LSB_SUB_NUM_PROCESSORS: 3, LSB_SUB_COMMAND_LINE: 'sleep 1' },
      {},
      site,
    );
    expect(ok.code).toBe(0);
    expect(ok.modify.LSB_SUB_PROJECT_NAME).toBe('site');
    expect(ok.modify.LSB_SUB_COMMAND_LINE).toBe(`${exorun} run -c 3 -m 1 -i docker-base -- /bin/sh -c 'sleep 1'`);
    const bad = runEsub(
      'chain-bad',
      { LSB_SUB_QUEUE: 'xspot', LSB_SUB_NUM_PROCESSORS: 99, LSB_SUB_COMMAND_LINE: 'x' },
      {},
      site,
    );
    expect(bad.code).toBe(ABORT);
    expect(bad.stderr).toMatch(/offers 16/);
  });

  test('a site esub that moved the job to the X-Spot queue is seen by esub.xspot', () => {
    const dir = path.join(root, 'work', 'moved');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'modify'), 'LSB_SUB_QUEUE="xspot"\n');
    const r = runEsub('moved', { LSB_SUB_QUEUE: 'normal', LSB_SUB_NUM_PROCESSORS: 2, LSB_SUB_COMMAND_LINE: 'sleep 1' });
    expect(r.modify.LSB_SUB_QUEUE).toBe('xspot');
    expect(r.modify.LSB_SUB_COMMAND_LINE).toBe(`${exorun} run -c 2 -m 1 -i docker-base -- /bin/sh -c 'sleep 1'`);
  });
});

describe('the bsub wrapper (the guide proof of concept) with a recording stand-in bsub', () => {
  function bsub(id: string, args: string[], opts: { input?: string; image?: string } = {}) {
    const record = path.join(root, 'record', id);
    const r = run(path.join(render, 'lsf/bsub'), args, {
      env: {
        PATH: process.env.PATH,
        HOME: path.join(root, 'home'),
        BSUB_RECORD: record,
        ...(opts.image ? { XSPOT_IMAGE: opts.image } : {}),
      },
      input: opts.input ?? '',
    });
    const argvFile = `${record}.argv`;
    const argv = fs.existsSync(argvFile) ? fs.readFileSync(argvFile, 'utf8').split('\0').slice(0, -1) : undefined;
    const stdin = fs.existsSync(`${record}.stdin`) ? fs.readFileSync(`${record}.stdin`, 'utf8') : undefined;
    return { ...r, argv, stdin };
  }

  test.each(casesFor('lsf').map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const opts = ['-q', queueOf(c)];
    if (c.cpus) opts.push('-n', c.cpus);
    if (c.mem) opts.push('-R', `rusage[mem=${c.mem}]`, '-R', 'span[hosts=1]');
    if (c.array) opts.push('-J', 'arr[1-2]');
    opts.push('-o', '%J.out');
    const command = ['lsf-job.sh', ...(c.args ?? [])];
    const r = bsub(c.id, [...opts, ...command], { image: c.image });
    const e = c.expect;
    if (typeof e === 'object' && 'reject' in e) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(e.reject);
      expect(r.argv).toBeUndefined();
      return;
    }
    expect(r.code).toBe(0);
    if (e === 'unchanged') {
      expect(r.argv).toEqual([...opts, ...command]);
      return;
    }
    const rewritten = opts.flatMap((o, i, all) => {
      if (i > 0 && all[i - 1] === '-n') return ['1'];
      if (o.startsWith('rusage[')) return ['rusage[mem=50]'];
      return [o];
    });
    if (!c.cpus) rewritten.push('-n', '1');
    if (!c.mem) rewritten.push('-R', 'rusage[mem=50]');
    expect(r.argv).toEqual([...rewritten, exorun, ...exorunArgs(e), '/bin/sh', '-c', sq(command.join(' '))]);
  });

  test('the guide bsub example 2, exactly', () => {
    const r = bsub('guide-2', [
      '-q',
      'xspot',
      '-n',
      '5',
      '-R',
      'rusage[mem=2.5G]',
      '-R',
      'span[hosts=1]',
      'lsf-job.sh',
    ]);
    expect(r.argv).toEqual([
      '-q',
      'xspot',
      '-n',
      '1',
      '-R',
      'rusage[mem=50]',
      '-R',
      'span[hosts=1]',
      exorun,
      'run',
      '-c',
      '5',
      '-m',
      '3',
      '-i',
      'docker-base',
      '--',
      '/bin/sh',
      '-c',
      "'lsf-job.sh'",
    ]);
  });

  test('a script on stdin: #BSUB lines are applied and the script is saved for exorun', () => {
    const script = '#!/bin/bash\n#BSUB -q xspot\n#BSUB -n 4\n#BSUB -R "rusage[mem=2049]"\necho "JOB-START stdin"\n';
    const r = bsub('stdin', ['-o', 'out.%J'], { input: script });
    expect(r.code).toBe(0);
    const argv = r.argv ?? [];
    expect(argv.slice(0, 7)).toEqual(['-q', 'xspot', '-n', '1', '-R', 'rusage[mem=50]', '-o']);
    expect(argv.slice(8, 17)).toEqual([exorun, 'run', '-c', '4', '-m', '3', '-i', 'docker-base', '--']);
    expect(argv.slice(17, 19)).toEqual(['/bin/sh', '-c']);
    const saved = /\/[^' ]*\/lsf-[^' ]*\.sh/.exec(argv[19])?.[0] ?? '';
    expect(saved.startsWith(path.join(root, 'jobs', 'lsf-'))).toBe(true);
    expect(fs.readFileSync(saved, 'utf8')).toBe(script);
  });

  test('a script on stdin for another queue reaches bsub byte for byte', () => {
    const script = '#!/bin/bash\n#BSUB -q normal\necho hi\n';
    const r = bsub('stdin-other', ['-n', '2'], { input: script });
    expect(r.argv).toEqual(['-n', '2']);
    expect(r.stdin).toBe(script);
  });
});

describe('LSF attack table: esub, bsub wrapper and JOB_STARTER give no native execution', () => {
  const marks = () => path.join(root, 'marks');
  const mark = (a: LsfAttack) => path.join(marks(), a.id);
  const payload = (a: LsfAttack) => `echo "\${STANDIN_INSIDE_EXORUN:-native}" >>'${mark(a)}'`;
  const fill = (a: LsfAttack, s: string) => s.replaceAll('@EXORUN@', exorun).replaceAll('PAYLOAD', payload(a));
  const seen = (a: LsfAttack) =>
    fs.existsSync(mark(a)) ? fs.readFileSync(mark(a), 'utf8').split('\n').filter(Boolean) : [];
  const jobEnv = (log: string): NodeJS.ProcessEnv => ({ PATH: '/usr/bin:/bin', LANG: 'C', STANDIN_LOG: log });

  /** The command line LSF would run for the row, or the refusal. */
  function commandLine(a: LsfAttack): { refused?: { code: number; stderr: string }; line?: string } {
    if (a.via === 'starter') return { line: fill(a, a.command ?? '') };
    if (a.via === 'bsub') {
      const record = path.join(root, 'record', `atk-${a.id}`);
      const r = run(path.join(render, 'lsf/bsub'), ['-q', a.queue ?? 'xspot', fill(a, a.command ?? '')], {
        env: { PATH: process.env.PATH, HOME: path.join(root, 'home'), BSUB_RECORD: record, ...(a.env ?? {}) },
      });
      if (r.code !== 0) return { refused: r };
      const argv = fs.readFileSync(`${record}.argv`, 'utf8').split('\0').slice(0, -1);
      const at = argv.indexOf(exorun);
      // bsub joins the command words with spaces into the line LSF runs
      return { line: argv.slice(at).join(' ') };
    }
    const parm: Record<string, string | number> = { LSB_SUB_QUEUE: a.queue ?? 'xspot' };
    if (a.command !== undefined) parm.LSB_SUB_COMMAND_LINE = fill(a, a.command);
    if (a.cpus) {
      parm.LSB_SUB_NUM_PROCESSORS = a.cpus;
      parm.LSB_SUB_MAX_NUM_PROCESSORS = a.cpus;
    }
    if (a.mem) parm.LSB_SUB_RES_REQ = `rusage[mem=${a.mem}]`;
    const r = runEsub(`atk-${a.id}`, parm, { ...(a.env ?? {}) });
    if (r.code !== 0) return { refused: r };
    return { line: r.modify.LSB_SUB_COMMAND_LINE ?? (parm.LSB_SUB_COMMAND_LINE as string) };
  }

  test.each(LSF_ATTACKS.map((a) => [a.id, a] as const))('%s', (_id, a) => {
    fs.mkdirSync(marks(), { recursive: true });
    const log = path.join(root, 'record', `atk-${a.id}.exorun`);
    const { refused, line } = commandLine(a);
    if (a.safe === 'untouched') {
      // THEN the esub leaves it alone, and LSF runs it as usual (no X-Spot JOB_STARTER on that queue)
      expect(refused).toBeUndefined();
      expect(line).toBe(fill(a, a.command ?? ''));
      return;
    }
    let ran: { code: number; stderr: string } | undefined;
    if (!refused && line !== undefined) ran = runJob(line, root, jobEnv(log));
    if (typeof a.safe === 'object') {
      // THEN refused: by the esub or wrapper at submission, or by the JOB_STARTER before the command runs
      const r = refused ?? ran;
      expect({ id: a.id, refused: r !== undefined && r.code !== 0 }).toEqual({ id: a.id, refused: true });
      expect(r?.stderr).toMatch(a.safe.rejected);
      expect({ id: a.id, marks: seen(a) }).toEqual({ id: a.id, marks: [] });
      return;
    }
    if (a.safe === 'never-native') {
      expect({ id: a.id, native: seen(a).includes('native') }).toEqual({ id: a.id, native: false });
      return;
    }
    // THEN the whole command ran inside exorun, and exorun was called within the limits
    expect({ id: a.id, code: ran?.code, marks: [...new Set(seen(a))] }).toEqual({
      id: a.id,
      code: 0,
      marks: ['inside'],
    });
    const firstLine = fs.readFileSync(log, 'utf8').split('\n')[0];
    const first = exorunLine(firstLine.slice(firstLine.indexOf(' ') + 1)) ?? [];
    expect(first.slice(0, 7).filter((_, i) => i % 2 === 1)).toEqual(['-c', '-m', '-i']);
    expect(Number(first[2])).toBeLessThanOrEqual(TEST_SETTINGS.maxCpus);
    expect(Number(first[4])).toBeLessThanOrEqual(TEST_SETTINGS.maxMemoryGb);
    expect(TEST_SETTINGS.approvedImages).toContain(first[6]);
    expect(first.slice(7, 10)).toEqual(['--', '/bin/sh', '-c']);
  });
});
