/**
 * Each rendered file parses back to the config's values: env.cfg and log_upload.env through a real
 * bash (`source`, then `declare -p`), the TOML files through a TOML parser.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import {
  renderConfigToml,
  renderDockerWrapperToml,
  renderEnvCfg,
  renderGuideFiles,
  renderLogUploadEnv,
} from '../../lib/config/render';
import { loadFromText } from '../support/app';
import { GUIDE_ENV_CFG_KEYS } from '../support/guide';

/** Sources a shell file in bash and returns the named variables (arrays as string[]). */
function sourceInBash(content: string, names: string[]): Record<string, string | string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-render-'));
  const file = path.join(dir, 'f.env');
  fs.writeFileSync(file, content);
  const script = `set -euo pipefail; source "$1"; shift; for n in "$@"; do declare -n ref="$n"; if declare -p "$n" 2>/dev/null | grep -q '^declare -a'; then printf '%s=A' "$n"; for v in "\${ref[@]}"; do printf '\\x1f%s' "$v"; done; printf '\\n'; else printf '%s=S\\x1f%s\\n' "$n" "$ref"; fi; unset -n ref; done`;
  const out = execFileSync('bash', ['-c', script, 'bash', file, ...names], { encoding: 'utf8' });
  const vars: Record<string, string | string[]> = {};
  for (const line of out.trim().split('\n')) {
    const [head, ...rest] = line.split('\x1f');
    const [name, kind] = head.split('=');
    vars[name] = kind === 'A' ? rest : rest[0];
  }
  return vars;
}

const SITE = {
  xspot: {
    remoteDir: '/nfs-apps/exostellar/',
    containerFsSize: '30G',
    autofsNeeded: true,
    ontapNeeded: true,
    ontapFolders: ['/ontap/1', '/ontap/2'],
    imageNameList: ['docker-base', 'eda-tools:2024.1'],
  },
  storage: { type: 'nfs', mountPoint: '/nfs-apps', existing: { dnsName: '10.1.2.3' } },
  workers: {
    ami: 'ami-0222b6150e1c29556',
    onDemandTypes: ['r5', 'r5n'],
    spotFleetTypes: ['r5b', 'r5d'],
    hyperthreadingDisabled: true,
    instanceTags: { Name: 'xspot-worker', CostCenter: 'hpc-42' },
  },
  containers: {
    approvedContainerImages: ['docker-base', 'eda-tools:2024.1'],
    envVarFilter: ['LD_PRELOAD', 'DISPLAY'],
    randBackoffRatio: 0.25,
    runtime: 'runc',
    logLevel: 'debug',
  },
  license: { key: 'ABCD-1234-EFGH-5678' },
  logs: { logPath: '/nfs-apps/logs/xspot' },
};

describe('env.cfg', () => {
  test('sources in bash to exactly the configured values, arrays included', () => {
    const { config } = loadFromText(SITE);
    const vars = sourceInBash(renderEnvCfg(config), [...GUIDE_ENV_CFG_KEYS]);
    expect(vars).toEqual({
      REMOTE_DIR: '/nfs-apps/exostellar',
      CONTAINER_FS_SIZE: '30G',
      IMAGE_DEPLOY_DIR: '/nfs-apps/exostellar/images',
      SCRIPT_DEPLOY_DIR: '/nfs-apps/exostellar/scripts',
      LUSTRE_NEEDED: '0',
      AUTOFS_NEEDED: '1',
      LDAPS_NEEDED: '0',
      SSSD_NEEDED: '0',
      ONTAP_NEEDED: '1',
      ONTAP_FOLDERS: ['/ontap/1', '/ontap/2'],
      IMAGE_NAME_LIST: ['docker-base', 'eda-tools:2024.1'],
      XSPOT_RPM_VERSION: config.xspot.rpmVersion,
      XSPOT_PLATFORM: 'xcontainer-4.12.0-v23.08.07+abaaf51.el7',
      XSPOT_KERNEL: 'kernel-4.19.49_xcontainer-v23.08.07+abaaf51',
      XSPOT_GUEST_KERNEL: 'xspot-guest-kernel-4.19.49-v23.08.07-abaaf5112.el7',
      CLI_WRAPPER_VERSION: 'XSpotCLIWrapper-v2.0.0-0192f37.el7',
      IS_SYSTEMD: 'yes',
    });
  });

  test('an empty ONTAP_FOLDERS is an empty bash array; lustre storage turns LUSTRE_NEEDED on', () => {
    const { config } = loadFromText({
      storage: {
        type: 'lustre',
        mountPoint: '/fsx',
        existing: { dnsName: 'fs-0123.fsx.example', mountName: 'abcd1234' },
      },
      xspot: { remoteDir: '/fsx/deploy' },
    });
    const vars = sourceInBash(renderEnvCfg(config), ['ONTAP_FOLDERS', 'LUSTRE_NEEDED']);
    expect(vars).toEqual({ ONTAP_FOLDERS: [], LUSTRE_NEEDED: '1' });
  });

  test('keeps the guide syntax: comments on their own lines, arrays as ( "a" "b" )', () => {
    const { config } = loadFromText(SITE);
    const text = renderEnvCfg(config);
    expect(text).toContain('IMAGE_NAME_LIST=( "docker-base" "eda-tools:2024.1" )');
    for (const line of text.split('\n'))
      expect(line === '' || line.startsWith('#') || /^[A-Z_]+=/.test(line)).toBe(true);
  });
});

describe('config.toml', () => {
  test('parses back to the configured worker settings, tags and license', () => {
    const { config } = loadFromText({ ...SITE, deployment: { name: 'site' } });
    expect(parseToml(renderConfigToml(config))).toEqual({
      aws: {
        ami: 'ami-0222b6150e1c29556',
        region: 'us-east-1',
        overlay_prefix: '192.168.137.0/24',
        on_demand_types: ['r5', 'r5n'],
        spot_fleet_types: ['r5b', 'r5d'],
        hyperthreading_disabled: true,
        instance_tags: { Name: 'xspot-worker', CostCenter: 'hpc-42', 'xspot:deployment': 'site' },
      },
      license: { key: 'ABCD-1234-EFGH-5678' },
    });
  });

  test('without a worker AMI the key is left out and a comment says how to get one', () => {
    const { config } = loadFromText({});
    const text = renderConfigToml(config);
    expect((parseToml(text).aws as Record<string, unknown>).ami).toBeUndefined();
    expect(text).toMatch(/# ami is not set yet: build the worker image/);
  });
});

describe('dockerWrapper.toml', () => {
  test('parses back to the exorun settings, with hook paths under /etc/xspot/scripts', () => {
    const { config } = loadFromText(SITE);
    expect(parseToml(renderDockerWrapperToml(config))).toEqual({
      container_image: 'docker-base',
      approved_container_images: ['docker-base', 'eda-tools:2024.1'],
      log_level: 'debug',
      env_var_filter: ['LD_PRELOAD', 'DISPLAY'],
      container_start_timeout: 30,
      rand_backoff_ration: 0.25,
      container_startup: '/etc/xspot/scripts/startup.sh',
      job_startup_user: '/etc/xspot/scripts/job_startup_user.sh',
      job_startup_root: '/etc/xspot/scripts/job_startup_root.sh',
      job_cleanup_user: '/etc/xspot/scripts/job_cleanup_user.sh',
      job_cleanup_root: '/etc/xspot/scripts/job_cleanup_root.sh',
      runtime: 'runc',
    });
  });
});

describe('log_upload.env and hook scripts', () => {
  test('LOG_PATH sources back in bash', () => {
    const { config } = loadFromText(SITE);
    expect(sourceInBash(renderLogUploadEnv(config), ['LOG_PATH'])).toEqual({ LOG_PATH: '/nfs-apps/logs/xspot' });
  });

  test('site hook scripts named in the config are shipped verbatim and executable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-hooks-'));
    fs.writeFileSync(path.join(dir, 'my-startup.sh'), '#!/bin/bash\nsystemctl start sssd\n');
    const yaml = `containers:\n  scripts:\n    startup: my-startup.sh\n`;
    const loaded = loadFromText(yaml, path.join(dir, 'site.yaml'));
    const files = renderGuideFiles(loaded.config, loaded.siteScripts);
    expect(files['scripts/startup.sh']).toEqual({ content: '#!/bin/bash\nsystemctl start sssd\n', mode: 0o755 });
    // a hook the config does not name stays the X-Spot packages' own: nothing in the bundle
    expect(Object.keys(files).filter((f) => f.startsWith('scripts/'))).toEqual(['scripts/startup.sh']);
  });

  test('with no site hooks the bundle carries none, and dockerWrapper.toml still names the installed ones', () => {
    const loaded = loadFromText('');
    const files = renderGuideFiles(loaded.config, loaded.siteScripts);
    expect(Object.keys(files).filter((f) => f.startsWith('scripts/'))).toEqual([]);
    expect(files['dockerWrapper.toml'].content).toContain('container_startup = "/etc/xspot/scripts/startup.sh"');
  });
});
