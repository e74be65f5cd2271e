/**
 * `xspot-cdk fleet ...` as the operator runs it: options (--config, --region, --profile), exit
 * codes, and AWS errors turned into one line each (no credentials, access denied naming the
 * permission, throttling after retries, the stack not deployed yet). AWS is mocked with
 * aws-sdk-client-mock (moto does not model instance refreshes, lifecycle hooks or Run Command).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DescribeAutoScalingGroupsCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { Command, CommanderError } from 'commander';
import { type FleetCliDeps, registerFleetCommands } from '../../lib/cli/fleet';
import { reportError } from '../../lib/errors';
import { createFleetClients, MAX_ATTEMPTS } from '../../lib/ops/fleet';
import { signedYaml } from '../support/configs';
import {
  fleet,
  type Harness,
  harness,
  modelled,
  recordingProgress,
  refresh,
  refreshSteps,
  sdkError,
  stackOutputs,
} from './harness';
import { RefreshModel } from './refresh-model';

async function run(h: Harness, argv: string[], extra: Partial<FleetCliDeps> = {}) {
  const calls: { region: string; profile?: string }[] = [];
  const stderr: string[] = [];
  const program = new Command('xspot-cdk')
    .exitOverride()
    .configureOutput({ writeErr: (s) => stderr.push(s), writeOut: () => {} });
  registerFleetCommands(program, {
    clients: (o) => {
      calls.push(o);
      return h.ctx.clients;
    },
    clock: h.ctx.clock,
    io: h.ctx.io,
    interactive: false,
    progress: recordingProgress,
    ...extra,
  });
  let code: number;
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    code = err instanceof CommanderError ? err.exitCode : reportError(err, (l) => stderr.push(l));
  } finally {
    process.exitCode = undefined;
  }
  return { code, calls, stderr };
}

/** A site config file (with the package-signing key every real config names). */
function tmpConfig(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-fleet-'));
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, signedYaml(text));
  return file;
}

describe('fleet CLI options', () => {
  test('region and stack name come from the config; --region and --profile override', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 7 }]);
    refreshSteps(h, []);
    const cfg = tmpConfig('deployment:\n  name: lab\n  region: eu-west-1\n');

    const a = await run(h, ['fleet', 'status', '--config', cfg]);
    const b = await run(h, ['fleet', 'status', '-c', cfg, '--region', 'eu-central-1', '--profile', 'ops']);

    expect(a.code).toBe(0);
    expect(a.calls).toEqual([{ region: 'eu-west-1', profile: undefined }]);
    expect(b.calls).toEqual([{ region: 'eu-central-1', profile: 'ops' }]);
    expect(h.cfn.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'lab-controllers' });
  });

  test('status --json prints one JSON document', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 7 }]);
    refreshSteps(h, []);

    const r = await run(h, ['fleet', 'status', '--json']);

    expect(r.code).toBe(0);
    const doc = JSON.parse(h.out.join('\n'));
    expect(doc.controllers[0]).toMatchObject({ instanceId: 'i-0aaaaaaaaaaaaaaa1', versionState: 'current' });
  });

  test('a bad --region is a usage error', async () => {
    const h = harness();
    const r = await run(h, ['fleet', 'status', '--region', 'mars']);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual(["error: --region 'mars' is not an AWS region code such as us-east-1"]);
  });

  test('--cancel with --rollback is refused', async () => {
    const h = harness();
    const r = await run(h, ['fleet', 'upgrade', '--cancel', '--rollback']);
    expect(r.code).toBe(1);
    expect(r.stderr).toEqual(['error: --cancel and --rollback exclude each other']);
  });

  test('upgrade --rollback --wait exits 3 when the fleet is back on the previous version', async () => {
    const h = harness();
    stackOutputs(h);
    // The group once the rollback is done: its controller back on the group's version 6.
    fleet(h, '6', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 6 }]);
    h.asg.on(RollbackInstanceRefreshCommand).resolves({ InstanceRefreshId: 'ir-1' });
    refreshSteps(
      h,
      [refresh({ Status: 'RollbackInProgress' }), refresh({ Status: 'RollbackSuccessful' })],
      [refresh({})],
    );

    const r = await run(h, ['fleet', 'upgrade', '--rollback', '--wait', '--poll-seconds', '5']);

    expect(r.code).toBe(3);
    expect(h.sleeps).toEqual([5000]);
  });

  test('upgrade --wait without a terminal stops at the canary checkpoint with exit 4', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '6', [
      { id: 'i-0aaaaaaaaaaaaaaa1', version: 6 },
      { id: 'i-0bbbbbbbbbbbbbbb2', version: 6 },
    ]);
    h.asg.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'ir-1' });
    refreshSteps(h, [refresh({}), refresh({ PercentageComplete: 50, InstancesToUpdate: 1 })]);

    expect((await run(h, ['fleet', 'upgrade', '--wait'])).code).toBe(4);
  });

  test('upgrade --wait --yes goes past the checkpoint to the end: exit 0', async () => {
    const h = harness();
    stackOutputs(h);
    const model = new RefreshModel({
      now: () => h.ctx.clock.now().getTime(),
      groupVersion: 6,
      controllers: 2,
      controllerVersion: 6,
      bootMs: 600_000,
      drainMs: 300_000,
    });
    modelled(h, model);

    expect((await run(h, ['fleet', 'upgrade', '--wait', '--yes'])).code).toBe(0);
    expect(model.instances.map((i) => i.version)).toEqual([7, 7]);
  });
});

describe('AWS errors: one line each', () => {
  const line = async (h: Harness, argv = ['fleet', 'status']) => {
    const r = await run(h, argv);
    expect(r.code).toBe(1);
    expect(r.stderr).toHaveLength(1);
    return r.stderr[0];
  };

  test('stack not deployed yet', async () => {
    const h = harness();
    h.cfn
      .on(DescribeStacksCommand)
      .rejects(sdkError('ValidationError', 'Stack with id xspot-controllers does not exist'));
    expect(await line(h)).toBe(
      "error: stack xspot-controllers is not deployed in us-east-1 yet; run 'npx cdk deploy --all' (with the same config) first",
    );
  });

  test('stack whose first deploy failed', async () => {
    const h = harness();
    stackOutputs(h, {}, 'ROLLBACK_COMPLETE');
    expect(await line(h)).toMatch(
      /^error: stack xspot-controllers in us-east-1 is ROLLBACK_COMPLETE: its first deploy failed/,
    );
  });

  test('no credentials', async () => {
    const h = harness();
    h.cfn
      .on(DescribeStacksCommand)
      .rejects(sdkError('CredentialsProviderError', 'Could not load credentials from any providers'));
    expect(await line(h)).toBe(
      "error: reading stack xspot-controllers: no AWS credentials found (set AWS_PROFILE or pass --profile, or configure credentials with 'aws configure')",
    );
  });

  test('access denied names the permission', async () => {
    const h = harness();
    stackOutputs(h);
    refreshSteps(h, []);
    h.asg
      .on(DescribeAutoScalingGroupsCommand)
      .rejects(sdkError('AccessDenied', 'User: arn:aws:iam::123456789012:user/ops is not authorized'));
    expect(await line(h)).toBe(
      'error: reading Auto Scaling group xspot-controllers-Asg-1ABCDEF in us-east-1: access denied; the caller needs autoscaling:DescribeAutoScalingGroups (User: arn:aws:iam::123456789012:user/ops is not authorized)',
    );
  });

  test('throttling that outlasts the SDK retries', async () => {
    const h = harness();
    stackOutputs(h);
    fleet(h, '7', [{ id: 'i-0aaaaaaaaaaaaaaa1', version: 6 }]);
    refreshSteps(h, []);
    h.asg.on(UpdateAutoScalingGroupCommand).rejects(sdkError('Throttling', 'Rate exceeded'));
    expect(await line(h, ['fleet', 'upgrade'])).toBe(
      'error: pointing group xspot-controllers-Asg-1ABCDEF at launch template version 6 in us-east-1: AWS is throttling requests even after retries; wait a minute and try again (Rate exceeded)',
    );
  });

  test('clients retry adaptively (client-side rate limiting) and use the profile', async () => {
    const c = createFleetClients({ region: 'us-west-2', profile: 'ops' });
    for (const client of [c.asg, c.ec2, c.cfn, c.ssm]) {
      expect(await client.config.maxAttempts()).toBe(MAX_ATTEMPTS);
      expect(client.config.retryMode).toBe('adaptive');
      expect(((await client.config.retryStrategy()) as { mode?: string }).mode).toBe('adaptive');
      expect(await client.config.region()).toBe('us-west-2');
      expect(client.config.profile).toBe('ops');
    }
    expect(MAX_ATTEMPTS).toBeGreaterThan(3);
  });
});
