/**
 * The renderer: which files come out for each scheduler, their modes, the configuration blocks
 * filled from the settings, refusal of values that must not reach a host script, the settings
 * built from the typed config, and `xspot-cdk scheduler render`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../bin/cli';
import { runSchedulerRender } from '../../lib/cli/scheduler';
import { checkConfigText, loadConfig } from '../../lib/config/load';
import { UserError } from '../../lib/errors';
import { largestWorker, schedulerBundle, schedulerSettingsFromConfig } from '../../lib/scheduler';
import {
  lsfAddrRange,
  renderSchedulerFiles,
  replaceConfigBlock,
  validateSchedulerSettings,
} from '../../lib/scheduler/render';
import { DEFAULT_SCHEDULER_SETTINGS, type SchedulerSettings } from '../../lib/scheduler/types';
import { run, tempDir } from './helpers';

const S = DEFAULT_SCHEDULER_SETTINGS;

describe('renderSchedulerFiles', () => {
  test('renders the configured scheduler only, with an install README', () => {
    const files = renderSchedulerFiles({ ...S, type: 'slurm' });
    expect(Object.keys(files).sort()).toEqual([
      'README.md',
      'slurm/README.md',
      'slurm/cli_filter.lua',
      'slurm/job_submit.lua',
      'slurm/plugstack.conf.snippet',
      'slurm/sbatch',
      'slurm/slurm.conf.snippet',
      'slurm/submit-sshd_config',
      'slurm/xspot_submit',
    ]);
    expect(files['slurm/sbatch'].mode).toBe(0o755);
    expect(files['slurm/job_submit.lua'].mode).toBe(0o644);
  });

  test("plugstack.conf.snippet includes the fragment a controller's scheduler-join writes", () => {
    const lib = fs.readFileSync(
      path.join(__dirname, '../../assets/controller-runtime/scripts/scheduler-lib.sh'),
      'utf8',
    );
    const dir = /XSPOT_SLURM_GUARD_DIR="\$\{XSPOT_SLURM_GUARD_DIR:-([^}]+)\}"/.exec(lib)?.[1];
    expect(dir).toBeDefined();
    const snippet = renderSchedulerFiles({ ...S, type: 'slurm' })['slurm/plugstack.conf.snippet'].content;
    const lines = snippet.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines).toEqual([`include ${dir}/plugstack.conf`]);
  });

  test('renders nothing for type none, everything when asked', () => {
    expect(renderSchedulerFiles({ ...S, type: 'none' })).toEqual({});
    const all = Object.keys(
      renderSchedulerFiles({ ...S, type: 'none', queues: ['xspot', 'chipspot'] }, ['slurm', 'gridengine', 'lsf']),
    );
    expect(all).toEqual(
      expect.arrayContaining([
        'gridengine/jsv_xspot',
        'gridengine/xspot_starter',
        'gridengine/qsub',
        'gridengine/xspot_submit',
        'gridengine/smp.pe',
        'gridengine/xspot.queue',
        'gridengine/chipspot.queue',
        'lsf/esub.xspot',
        'lsf/bsub',
        'lsf/esub.site-chain.example',
        'lsf/lsf.conf.snippet',
        'lsf/lsb.queues.snippet',
      ]),
    );
  });

  test('the configuration blocks carry the settings in each host language', () => {
    const settings: SchedulerSettings = {
      ...S,
      queues: ['xspot', 'chipspot'],
      image: 'rocky9',
      approvedImages: ['docker-base', 'rocky9'],
      controllerMemoryMb: 64,
      maxCpus: 48,
      realSubmitCommand: '/opt/slurm/bin/sbatch.orig',
    };
    const files = renderSchedulerFiles(settings, ['slurm', 'gridengine', 'lsf']);
    const lua = files['slurm/job_submit.lua'].content;
    expect(lua).toContain('  queues = { "xspot", "chipspot" },');
    expect(lua).toContain('  controller_memory_mb = 64,');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable in the rendered file
    expect(lua).toContain('  script_dir = "${HOME}/.xspot/jobs",');
    expect(files['slurm/sbatch'].content).toContain('    "real_submit": "/opt/slurm/bin/sbatch.orig",');
    expect(files['lsf/bsub'].content).toContain('    "scheduler": "lsf",');
    expect(files['lsf/esub.xspot'].content).toContain('    "max_cpus": 48,');
    const jsv = files['gridengine/jsv_xspot'].content;
    expect(jsv).toContain("CONF_QUEUES=('xspot' 'chipspot')");
    expect(jsv).toContain("CONF_IMAGE='rocky9'");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable in the rendered file
    expect(files['gridengine/xspot_starter'].content).toContain('CONF_SCRIPT_DIR="${HOME}/.xspot/jobs"');
    expect(files['gridengine/xspot.queue'].content).toMatch(/^slots\s+50$/m);
    // what root (or the scheduler) runs is a local root-owned copy, never a file on shared storage
    const queueConf = files['gridengine/xspot.queue'].content;
    expect(queueConf).toMatch(/^starter_method\s+\/usr\/libexec\/xspot-cdk\/scheduler\/gridengine\/xspot_starter$/m);
    expect(queueConf).toMatch(/^complex_values\s+xspot_job=TRUE$/m);
    expect(queueConf).toMatch(/^qtype\s+BATCH$/m);
    expect(files['gridengine/xspot_job.complex'].content).toMatch(/^xspot_job\s+xspot_job\s+BOOL\s+==\s+FORCED\s/m);
    const lsbQueues = files['lsf/lsb.queues.snippet'].content;
    expect(lsbQueues).toMatch(
      /^JOB_STARTER\s+=\s+\/usr\/libexec\/xspot-cdk\/scheduler\/lsf\/xspot_job_starter %USRCMD$/m,
    );
    for (const f of Object.values(files))
      expect(f.content).not.toMatch(/^(starter_method|JOB_STARTER).*SCRIPT_DEPLOY_DIR/m);
    expect(files['slurm/slurm.conf.snippet'].content).toContain('JobSubmitPlugins=lua');
    expect(files['slurm/slurm.conf.snippet'].content).toContain('PartitionName=chipspot');
    expect(files['lsf/lsf.conf.snippet'].content).toContain('LSB_SUB_COMMANDNAME=Y');
    expect(files['README.md'].content).toContain('| X-Spot queues | xspot, chipspot |');
    expect(Object.values(files).some((f) => f.content.includes('{{'))).toBe(false);
  });

  test('rendered host scripts pass their language checks (shellcheck, python3, luac)', () => {
    const dir = tempDir('xspot-render-');
    try {
      const files = renderSchedulerFiles({ ...S, queues: ['xspot', 'chipspot'] }, ['slurm', 'gridengine', 'lsf']);
      for (const [rel, f] of Object.entries(files)) {
        const target = path.join(dir, rel);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, f.content);
      }
      const sh = ['gridengine/jsv_xspot', 'gridengine/xspot_starter', 'lsf/esub.site-chain.example'].map((r) =>
        path.join(dir, r),
      );
      const shellcheck = run('shellcheck', sh);
      expect(shellcheck.stdout + shellcheck.stderr).toBe('');
      for (const py of ['slurm/sbatch', 'gridengine/qsub', 'lsf/bsub', 'lsf/esub.xspot', 'slurm/xspot_submit']) {
        const r = run('python3', ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read())', path.join(dir, py)]);
        expect({ py, err: r.stderr }).toEqual({ py, err: '' });
        expect(files[py].content.startsWith('#!/usr/bin/python3\n')).toBe(true);
      }
      // slurmctld embeds Lua 5.1: check with luac5.1 when present, else any luac
      const luac = ['luac5.1', 'luac5.4', 'luac'].find((l) => run('sh', ['-c', `command -v ${l}`]).code === 0);
      expect(luac).toBeDefined();
      for (const lua of ['slurm/job_submit.lua', 'slurm/cli_filter.lua']) {
        const r = run(luac as string, ['-p', path.join(dir, lua)]);
        expect({ lua, err: r.stderr }).toEqual({ lua, err: '' });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('replaceConfigBlock needs both markers', () => {
    expect(replaceConfigBlock('a\n# BEGIN CONFIGURATION x\nold\n# END CONFIGURATION\nb', '#', 'new', 'f')).toBe(
      'a\n# BEGIN CONFIGURATION x\nnew\n# END CONFIGURATION\nb',
    );
    expect(() => replaceConfigBlock('no block', '#', 'x', 'f')).toThrow(/no BEGIN\/END CONFIGURATION block/);
  });
});

describe('membership lines (controllers join by themselves; nothing names a host)', () => {
  test('slurm.conf: a nodeset by feature behind every X-Spot partition, room for a refresh, no placeholders', () => {
    const conf = renderSchedulerFiles(
      { ...S, queues: ['xspot', 'chipspot'], maxControllers: 5, slotsPerController: 7 },
      ['slurm'],
    )['slurm/slurm.conf.snippet'].content;
    const settings = conf.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(settings).toEqual([
      'JobSubmitPlugins=lua',
      'MaxNodeCount=10',
      'TreeWidth=65533',
      'SlurmdParameters=config_overrides',
      'Prolog=/usr/libexec/xspot-cdk/scheduler/slurm/xspot_submit',
      'Epilog=/usr/libexec/xspot-cdk/scheduler/slurm/xspot_submit',
      'Nodeset=xspot_controllers Feature=xspot',
      'PartitionName=xspot Nodes=xspot_controllers MaxTime=INFINITE State=UP OverSubscribe=NO',
      'PartitionName=chipspot Nodes=xspot_controllers MaxTime=INFINITE State=UP OverSubscribe=NO',
    ]);
    expect(conf).not.toMatch(/<|>|\{\{/);
    // the slots are the node's CPUs: what a controller declares when it joins
    expect(conf).toContain('CPUs=7 RealMemory=350 Feature=xspot');
  });

  test.each([
    ['10.0.1.0/24', '10.0.1.*'],
    ['10.0.0.0/16', '10.0.*.*'],
    ['10.0.16.0/20', '10.0.16-31.*'],
    ['10.0.1.128/25', '10.0.1.128-255'],
    ['172.31.7.9/32', '172.31.7.9'],
    ['10.0.0.0/8', '10.*.*.*'],
  ])('LSF address range of %s is %s', (cidr, range) => {
    expect(lsfAddrRange(cidr)).toBe(range);
  });

  test("lsf.cluster Parameters: the guide's three keys from the controller subnets", () => {
    const text = renderSchedulerFiles({ ...S, controllerSubnets: ['10.0.1.0/24', '10.0.16.0/20'], maxControllers: 8 }, [
      'lsf',
    ])['lsf/lsf.cluster.snippet'].content;
    const block = /Begin Parameters\n([\s\S]*?)\nEnd Parameters/.exec(text)?.[1];
    expect(block?.split('\n')).toEqual([
      'LSF_HOST_ADDR_RANGE=10.0.1.* 10.0.16-31.*',
      'FLOAT_CLIENTS_ADDR_RANGE=10.0.1.* 10.0.16-31.*',
      'FLOAT_CLIENTS=16',
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: LSF's variable in the rendered text
    expect(text).toContain('${LSF_ENVDIR}/hosts');
  });

  test('Grid Engine admin hosts: the AWS name of every usable address of each controller subnet', () => {
    const list = renderSchedulerFiles({ ...S, controllerSubnets: ['192.168.7.128/26', '10.0.0.0/16'] }, ['gridengine'])[
      'gridengine/admin-hosts.list'
    ].content;
    const names = list.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    // 64 addresses less the 4 AWS keeps at the start and the broadcast address
    expect(names).toHaveLength(59);
    expect(names[0]).toBe('ip-192-168-7-132');
    expect(names[58]).toBe('ip-192-168-7-190');
    expect(list).toContain('# 10.0.0.0/16: larger than /18, not listed');
  });

  test("Grid Engine admin hosts of the default new VPC: every address of both private subnets, none of the VPC's public ones", () => {
    const s = schedulerSettingsFromConfig(loadConfig().config);
    expect(s.controllerSubnets).toEqual(['10.0.64.0/18', '10.0.128.0/18']);
    const names = renderSchedulerFiles(s, ['gridengine'])
      ['gridengine/admin-hosts.list'].content.split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(names).toHaveLength(2 * (2 ** 14 - 5));
    expect(names[0]).toBe('ip-10-0-64-4');
    expect(names.at(-1)).toBe('ip-10-0-191-254');
    expect(names).not.toContain('ip-10-0-0-10');
    expect(new Set(names).size).toBe(names.length);
  });

  test.each([
    [
      'a subnet that is not a CIDR',
      { controllerSubnets: ['10.0.1.0'] },
      /^scheduler\.controllerSubnets\[0\]: "10\.0\.1\.0" is not allowed/,
    ],
    ['no controllers', { maxControllers: 0 }, /maxControllers/],
  ])('refuses %s', (_what, bad, message) => {
    expect(() => validateSchedulerSettings({ ...S, ...bad })).toThrow(message);
  });
});

describe('validateSchedulerSettings refuses what must not reach a host script', () => {
  test.each<[string, Partial<SchedulerSettings>, RegExp]>([
    ['a queue with a space', { queues: ['x spot'] }, /^scheduler\.queues\[0\]: "x spot" is not allowed/],
    ['no queues', { queues: [] }, /^scheduler\.queues: \[\] is not allowed/],
    [
      'an image not approved',
      { image: 'other' },
      /^scheduler\.image: "other" .*approved container images \(docker-base\)/,
    ],
    ['an image with shell characters', { approvedImages: ['a;rm'], image: 'a;rm' }, /approvedImages\[0\]/],
    ['a relative exorun', { exorunPath: 'exorun' }, /^scheduler\.exorunPath: "exorun"/],
    ['exorun with $( )', { exorunPath: '/usr/bin/$(id)' }, /exorunPath/],
    ['a real submit path with ..', { realSubmitCommand: '/usr/../bin/sbatch' }, /realSubmitCommand/],
    ['81 slots', { slotsPerController: 81 }, /^scheduler\.slotsPerController: 81 .*1-80/],
    ['0 controller cpus', { controllerCpus: 0 }, /controllerCpus: 0/],
    ['a default above the largest worker', { defaultCpus: 200 }, /defaultCpus: 200 .*at most 96/],
    ['a script dir with a variable', { scriptDir: '$USER/x' }, /scriptDir/],
    ['a PE with a space', { gridEnginePe: 'my pe' }, /gridEnginePe/],
  ])('%s', (_what, patch, message) => {
    expect(() => validateSchedulerSettings({ ...S, ...patch })).toThrow(UserError);
    expect(() => validateSchedulerSettings({ ...S, ...patch })).toThrow(message);
  });
});

describe('settings from the typed config', () => {
  test('the embedded default config: r5 family sizes, approved images, publish dir', () => {
    const { config } = loadConfig();
    const s = schedulerSettingsFromConfig(config);
    expect(s).toMatchObject({
      type: 'slurm',
      queues: ['xspot'],
      image: 'docker-base',
      approvedImages: config.containers.approvedContainerImages,
      exorunPath: '/usr/bin/exorun',
      controllerCpus: 1,
      controllerMemoryMb: 50,
      maxCpus: 96,
      maxMemoryGb: 768,
    });
    expect(s.slotsPerController).toBeLessThanOrEqual(80);
    expect(s.publishDir).toBe(`${config.resolved.scriptDeployDir}/latest/tools/sched-wrapper`);
    expect(Object.keys(schedulerBundle(config))).toContain('slurm/job_submit.lua');
  });

  test('scheduler.scriptDir reaches every hook that saves job scripts', () => {
    const text = `scheduler:\n  type: gridengine\n  scriptDir: /shared/xspot-jobs\n`;
    const { config } = checkConfigText(text, path.join(tempDir('xspot-sched-'), 'site.yaml'));
    const s = schedulerSettingsFromConfig(config!);
    expect(s.scriptDir).toBe('/shared/xspot-jobs');
    const files = renderSchedulerFiles(s, ['slurm', 'gridengine', 'lsf']);
    expect(files['slurm/job_submit.lua'].content).toContain('script_dir = "/shared/xspot-jobs"');
    expect(files['gridengine/xspot_starter'].content).toContain('/shared/xspot-jobs');
    expect(loadConfig().config.scheduler.scriptDir).toBe(DEFAULT_SCHEDULER_SETTINGS.scriptDir);
  });

  test('largestWorker picks the most vCPUs and names unknown lists', () => {
    expect(largestWorker(['m5.xlarge', 'r5.2xlarge', 'c5.large'])).toEqual({
      name: 'r5.2xlarge',
      vcpus: 8,
      memoryGb: 64,
    });
    expect(() => largestWorker(['zz9.weird'])).toThrow(/has a known size/);
  });
});

describe('xspot-cdk scheduler render', () => {
  test('writes the files of the configured scheduler and lists them', () => {
    const out = tempDir('xspot-render-cli-');
    try {
      const lines: string[] = [];
      runSchedulerRender({ out, scheduler: 'gridengine' }, (l) => lines.push(l));
      expect(lines).toContain(path.join(out, 'gridengine/jsv_xspot'));
      expect(fs.statSync(path.join(out, 'gridengine/jsv_xspot')).mode & 0o777).toBe(0o755);
      expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).toContain('gridengine/README.md');
      // SHA256SUMS lists every other file, as the real sha256sum checks it, and its own checksum is printed
      const check = spawnSync('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' });
      expect(check.status).toBe(0);
      const listed = check.stdout.trim().split('\n').sort();
      const others = lines.filter((l) => l.startsWith(out) && !l.endsWith('/SHA256SUMS'));
      expect(listed).toEqual(others.map((l) => `${path.relative(out, l)}: OK`).sort());
      const pin = spawnSync('sha256sum', [path.join(out, 'SHA256SUMS')], { encoding: 'utf8' }).stdout.split(' ')[0];
      expect(lines).toContain(
        `SHA256SUMS sha256 ${pin} (install as root: install-hooks.sh --from <dir> --sums-sha256 ${pin})`,
      );
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('is wired into the xspot-cdk program', async () => {
    const out = tempDir('xspot-render-main-');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['scheduler', 'render', '--out', out, '--scheduler', 'lsf'])).toBe(0);
      expect(fs.existsSync(path.join(out, 'lsf/esub.xspot'))).toBe(true);
    } finally {
      write.mockRestore();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('errors are one line naming the option', () => {
    expect(() => runSchedulerRender({}, () => {})).toThrow(/^--out: missing/);
    expect(() => runSchedulerRender({ out: '/tmp/x', scheduler: 'pbs' }, () => {})).toThrow(
      /^--scheduler: "pbs" is not allowed; expected slurm, gridengine, lsf or all$/,
    );
  });
});
