/**
 * `xspot-cdk local deploy` always stops the emulator: after a failed synth (with the one-line error
 * and the tail of the emulator's log), after Ctrl-C (exit 130, SIGTERM 143), and its options reach
 * the run. Real moto and the real CDK CLI for the first two; the CLI wiring runs with a stand-in.
 */

import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { registerLocalCommands } from '../../lib/cli/local';
import { UserError } from '../../lib/errors';
import { type LocalDeployOptions, runLocalDeploy, type StepContext } from '../../lib/ops/local-deploy';
import { EXISTING_VPC_CONFIG } from '../support/configs';
import { collectingOutput, DEFAULT_CONFIG, deploymentFor, writeConfig } from './helpers';

const MINUTES = 60_000;
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-e2e-lifecycle-'));
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

/** The endpoint the run printed ("moto answers on http://localhost:PORT ..."). */
function endpointOf(text: string): string {
  const m = /moto answers on (http:\/\/localhost:\d+)/.exec(text);
  if (!m) throw new Error(`no endpoint in:\n${text}`);
  return m[1].replace('localhost', '127.0.0.1');
}

async function stillAnswers(endpoint: string): Promise<boolean> {
  try {
    await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

describe('the emulator is stopped whatever happens', () => {
  test(
    'a failing CDK app: one-line error naming the step, the emulator log tail printed, the emulator stopped',
    async () => {
      const app = path.join(work, 'broken-app.js');
      fs.writeFileSync(app, "process.stderr.write('error: deployment.name: broken on purpose\\n'); process.exit(1);\n");
      const io = collectingOutput();
      const dir = path.join(work, 'failing');
      const err = await runLocalDeploy(
        { deployment: deploymentFor(DEFAULT_CONFIG), appEntry: app, workDir: dir },
        { io },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      const message = (err as UserError).message;
      expect(message).toMatch(/^local deploy: cdk synth failed: /);
      expect(message).not.toContain('\n');
      expect((err as UserError).exitCode).toBe(1);
      const text = io.text();
      expect(text).toContain('broken on purpose');
      expect(text).toContain(`last lines of ${path.join(dir, 'moto.log')}`);
      expect(await stillAnswers(endpointOf(text))).toBe(false);
      expect(fs.existsSync(path.join(dir, 'deploy-1', 'synth.log'))).toBe(true);
    },
    5 * MINUTES,
  );

  test(
    'Ctrl-C during the bootstrap: exit 130, the CDK CLI and the emulator stopped',
    async () => {
      const controller = new AbortController();
      const lines: string[] = [];
      const io = {
        out: (l: string) => lines.push(l),
        err: (l: string) => {
          lines.push(l);
          if (l.startsWith('[2] cdk bootstrap')) setTimeout(() => controller.abort(), 500);
        },
      };
      const started = Date.now();
      const err = await runLocalDeploy(
        {
          deployment: deploymentFor(DEFAULT_CONFIG),
          appEntry: path.join(work, 'unused.js'),
          workDir: path.join(work, 'interrupted'),
        },
        { io, signal: controller.signal },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(130);
      expect((err as UserError).message).toMatch(/^interrupted; the local emulator was stopped/);
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(await stillAnswers(endpointOf(lines.join('\n')))).toBe(false);
    },
    5 * MINUTES,
  );
});

describe('local deploy options', () => {
  function program(run: (opts: LocalDeployOptions, ctx: StepContext) => Promise<void>) {
    const signals = new EventEmitter();
    const io = collectingOutput();
    const p = new Command().exitOverride();
    registerLocalCommands(p, {
      io,
      run,
      signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
    });
    return { p, signals, io };
  }

  test('config, second config, port, keep and work dir reach the run', async () => {
    const then = writeConfig(work, 'then.yaml', (y) =>
      y.replace('xspot-1.3.0.1-rc_5cb0ffb0.el7', 'xspot-1.3.0.2-rc_5cb0ffb0.el7'),
    );
    let seen: LocalDeployOptions | undefined;
    const { p } = program(async (opts) => {
      seen = opts;
    });
    await p.parseAsync(
      ['local', 'deploy', '-c', DEFAULT_CONFIG, '--then-config', then, '--port', '4599', '--keep', '--work-dir', work],
      { from: 'user' },
    );
    expect(seen).toEqual({
      deployment: { configPath: DEFAULT_CONFIG, name: 'xspot', region: 'us-east-1' },
      update: { configPath: then, name: 'xspot', region: 'us-east-1' },
      port: 4599,
      keep: true,
      workDir: work,
      verbose: false,
    });
  });

  test('a second config for another deployment is refused before anything starts', async () => {
    const other = writeConfig(work, 'other.yaml', (y) => y.replace('name: xspot', 'name: other'));
    const run = jest.fn();
    const { p } = program(run);
    await expect(p.parseAsync(['local', 'deploy', '--then-config', other], { from: 'user' })).rejects.toThrow(
      /deployment.name\/region \(other, us-east-1\) must match the first config \(xspot, us-east-1\)/,
    );
    expect(run).not.toHaveBeenCalled();
  });

  test('a config for an existing VPC is refused: the emulator starts empty', async () => {
    const file = path.join(work, 'existing.yaml');
    fs.writeFileSync(file, stringify({ ...EXISTING_VPC_CONFIG, deployment: { name: 'site', region: 'eu-west-1' } }));
    const run = jest.fn();
    const { p } = program(run);
    await expect(p.parseAsync(['local', 'deploy', '-c', file], { from: 'user' })).rejects.toThrow(
      /network.existingVpc \(vpc-0a1b2c3d4e5f60718\) cannot be deployed locally: the emulator starts empty/,
    );
    expect(run).not.toHaveBeenCalled();
  });

  test.each([['0'], ['70000'], ['http']])('--port %s is a usage error', async (port) => {
    const { p } = program(jest.fn());
    await expect(p.parseAsync(['local', 'deploy', '--port', port], { from: 'user' })).rejects.toThrow(
      /--port must be a TCP port number/,
    );
  });

  test('SIGTERM aborts the run and exits 143; the handlers are removed afterwards', async () => {
    const { p, signals } = program(
      (_opts, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal!.addEventListener('abort', () =>
            reject(new UserError('interrupted; the local emulator was stopped', 130)),
          );
          setImmediate(() => signals.emit('SIGTERM'));
        }),
    );
    const err = await p.parseAsync(['local', 'deploy'], { from: 'user' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(143);
    expect(signals.eventNames()).toEqual([]);
  });
});
