/**
 * LSF membership with stand-ins (there is no free LSF build; stand-in-lsf.sh keeps the host's
 * state and records every call): the runtime's scheduler-join.sh starts the daemons and waits
 * until bhosts lists the host, scheduler-leave.sh closes it with `badmin hclose`, waits for its
 * running jobs and leaves removal to LSF, scheduler-state.sh reports each state; and the
 * rendered lsf.cluster, lsb.queues, lsb.resources and lsf.shared lines that make dynamic hosts
 * and the per-controller limit work.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSchedulerFiles } from '../../lib/scheduler/render';
import { DEFAULT_SCHEDULER_SETTINGS } from '../../lib/scheduler/types';
import { HERE, type RunResult, run, tempDir } from './helpers';

const RUNTIME = path.resolve(HERE, '../../assets/controller-runtime/scripts');
const HOST = 'ip-10-0-1-23';

describe('LSF: a controller joins and leaves as a dynamic host (stand-ins)', () => {
  let dir = '';
  const calls = (): string[] => fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n');
  const script = (name: string, args: string[] = []): RunResult =>
    run('bash', [path.join(RUNTIME, name), ...args], {
      env: {
        PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin`,
        LANG: 'C',
        LSF_STANDIN_DIR: dir,
        XSPOT_ROOT: path.join(dir, 'root'),
        XSPOT_POLL_SECONDS: '0',
        XSPOT_SCHEDULER: 'lsf',
        XSPOT_SCHED_NODE_NAME: HOST,
        XSPOT_SCHED_START: 'direct',
        XSPOT_SCHED_JOIN_SECONDS: '3',
      },
    });

  beforeEach(() => {
    dir = tempDir('xspot-lsf-membership-');
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.mkdirSync(path.join(dir, 'root'));
    fs.writeFileSync(path.join(dir, 'calls'), '');
    for (const c of ['lsf_daemons', 'badmin', 'bhosts', 'bjobs']) {
      fs.symlinkSync(path.join(HERE, 'stand-in-lsf.sh'), path.join(dir, 'bin', c));
    }
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('join starts the daemons and waits for bhosts to list the host; a closed host is reopened', () => {
    expect(script('scheduler-state.sh').stdout.trim()).toBe(
      `XSPOT-SCHEDULER scheduler=lsf node=${HOST} state=missing jobs=0`,
    );
    const r = script('scheduler-join.sh');
    expect(r.code).toBe(0);
    expect(calls()).toContain('lsf_daemons start');
    expect(calls()).not.toContain(`badmin hopen ${HOST}`);
    expect(r.stdout).toContain(`LSF host ${HOST} is registered`);
    // a host closed by an earlier leave (fleet drain) is opened by the next join
    fs.writeFileSync(path.join(dir, 'closed'), '');
    expect(script('scheduler-join.sh').code).toBe(0);
    expect(calls()).toContain(`badmin hopen ${HOST}`);
    expect(script('scheduler-state.sh').stdout).toContain('state=registered');
  });

  test('join fails (the launch is abandoned) when the host never appears in bhosts', () => {
    // daemons that never reach the master: replace the link (not the stand-in it points to)
    fs.unlinkSync(path.join(dir, 'bin', 'lsf_daemons'));
    fs.writeFileSync(path.join(dir, 'bin', 'lsf_daemons'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const r = script('scheduler-join.sh');
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toContain(`LSF host ${HOST} did not join within 3s (bhosts does not list it)`);
  });

  test('leave closes with badmin hclose, waits for running jobs, then leaves removal to LSF', () => {
    expect(script('scheduler-join.sh').code).toBe(0);
    fs.writeFileSync(path.join(dir, 'jobs'), '2');
    const r = script('scheduler-leave.sh', ['--timeout', '30']);
    expect(r.code).toBe(0);
    const c = calls();
    const close = c.indexOf(`badmin hclose -C xspot-cdk: controller leaving ${HOST}`);
    expect(close).toBeGreaterThan(-1);
    expect(c.slice(close + 1).filter((l) => l.startsWith('bjobs'))).toHaveLength(3);
    expect(r.stdout).toMatch(/1 job\(s\) run on ip-10-0-1-23[\s\S]*no job runs on ip-10-0-1-23/);
    expect(script('scheduler-state.sh').stdout).toContain('state=draining jobs=0');
  });

  test('jobs outliving the timeout: the host stays closed and the leave says so (exit 2)', () => {
    expect(script('scheduler-join.sh').code).toBe(0);
    fs.writeFileSync(path.join(dir, 'jobs'), '100000');
    const r = script('scheduler-leave.sh', ['--timeout', '1']);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('stays closed but registered');
  });
});

describe('LSF rendered lines for dynamic hosts and the per-controller limit', () => {
  const files = renderSchedulerFiles(
    { ...DEFAULT_SCHEDULER_SETTINGS, type: 'lsf', queues: ['xspot', 'chipspot'], slotsPerController: 40 },
    ['lsf'],
  );

  test('the queues select the controllers by resource, never by a host name or placeholder', () => {
    const q = files['lsf/lsb.queues.snippet'].content;
    expect(q.match(/^RES_REQ\s+= select\[xspot\]$/gm)).toHaveLength(2);
    expect(q).not.toMatch(/^HOSTS/m);
    for (const f of Object.values(files)) expect(f.content).not.toMatch(/<x-spot|\{\{/);
  });

  test('one slot limit per host over every X-Spot queue together', () => {
    const limit = /Begin Limit\n([\s\S]*?)\nEnd Limit/.exec(files['lsf/lsb.resources.snippet'].content)?.[1];
    expect(limit?.split('\n').map((l) => l.replace(/\s+/g, ' '))).toEqual([
      'NAME = xspot_per_controller',
      'QUEUES = xspot chipspot',
      'PER_HOST = all',
      'SLOTS = 40',
    ]);
    expect(files['lsf/lsf.shared.snippet'].content).toMatch(/^xspot\s+Boolean\s+\(\)\s+\(\)\s+\(/m);
    expect(files['lsf/lsf.shared.snippet'].content).toContain('LSF_LOCAL_RESOURCES="[resource xspot]"');
  });
});
