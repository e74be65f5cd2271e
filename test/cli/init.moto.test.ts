/**
 * `xspot-cdk init` against moto in server mode: the prompts offer the VPCs, subnets and images the
 * emulated account has, and the file written from them passes check-config and the live checks of
 * the network (`check-config --live`) against the same account.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runInit } from '../../lib/cli/init';
import { formatFinding } from '../../lib/config/findings';
import { checkConfigFile } from '../../lib/config/load';
import { createLiveClients, destroyLiveClients, runLiveChecks } from '../../lib/ops/live-check';
import { fakeAwsEnv, type MotoServer, startMoto } from '../live-check/moto-server';
import { AMI, buildWorld, type Clients, IMAGES, REGION, setupClients, type World } from '../live-check/world';
import { type Asked, scripted } from '../support/prompter';

let moto: MotoServer | undefined;
let restoreEnv: (() => void) | undefined;
let clients: Clients;
let world: World;
let tmp: string;

beforeAll(async () => {
  restoreEnv = fakeAwsEnv();
  moto = await startMoto(IMAGES);
  clients = setupClients(moto.endpoint);
  world = await buildWorld(clients);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-init-moto-'));
}, 60_000);

afterAll(async () => {
  if (clients) for (const c of Object.values(clients)) c.destroy();
  await moto?.stop();
  restoreEnv?.();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const quiet = { out: () => {}, err: () => {} };

test('the prompts offer the account; the file passes check-config and the live network checks', async () => {
  const asked: Asked[] = [];
  const file = path.join(tmp, 'site.yaml');
  await runInit(
    file,
    { region: REGION, name: 'moto-site', gpgKey: 'https://packages.example.com/xspot/RPM-GPG-KEY' },
    {
      interactive: true,
      endpoint: moto!.endpoint,
      io: quiet,
      prompter: scripted(
        {
          VPC: world.vpcId,
          'Private subnets': [world.privateA.id, world.privateB.id],
          'Controller image': AMI.controller,
        },
        asked,
      ),
    },
  );

  // GIVEN the VPCs moto has: both of the world's are offered, with their CIDR blocks
  const vpcQ = asked.find((a) => a.message.startsWith('VPC'))!;
  expect(vpcQ.choices!.map((c) => c.value)).toEqual(expect.arrayContaining([world.vpcId, world.otherVpcId]));
  expect(vpcQ.choices!.find((c) => c.value === world.vpcId)!.name).toContain('10.0.0.0/16, 10.1.0.0/16');
  // THEN the subnets behind the NAT gateway are pre-selected, the public and route-less ones are not
  const subnetQ = asked.find((a) => a.message.startsWith('Private subnets'))!;
  const checkedIds = subnetQ.choices!.filter((c) => c.checked).map((c) => c.value);
  expect(checkedIds.sort()).toEqual([world.privateA.id, world.privateB.id, world.privateE.id].sort());
  expect(subnetQ.choices!.map((c) => c.value)).toEqual(
    expect.arrayContaining([world.publicSubnet.id, world.noRoute.id]),
  );
  expect(subnetQ.choices!.map((c) => c.value)).not.toContain(world.foreign.id);
  // and the account's own images, not the public ones
  const imageQ = asked.find((a) => a.message.startsWith('Controller image'))!;
  expect(imageQ.choices!.map((c) => c.value)).toContain(AMI.controller);
  expect(imageQ.choices!.map((c) => c.value)).not.toContain(AMI.centos7);

  // WHEN the file is checked offline and live
  const check = checkConfigFile(file);
  expect(check.findings.filter((f) => f.severity === 'error').map(formatFinding)).toEqual([]);
  expect(check.config!.network.existingVpc).toMatchObject({
    vpcId: world.vpcId,
    cidrBlocks: ['10.0.0.0/16', '10.1.0.0/16'],
    privateSubnets: [
      { id: world.privateA.id, cidr: world.privateA.cidr, routeTableId: world.privateA.routeTableId },
      { id: world.privateB.id, cidr: world.privateB.cidr, routeTableId: world.privateB.routeTableId },
    ],
  });
  const live = createLiveClients({ region: REGION, endpoint: moto!.endpoint });
  try {
    const report = await runLiveChecks(check.config!, live);
    const network = ['vpc', 'vpc-dns', 'subnets', 'subnet-routes'];
    const ran = report.outcomes.filter((o) => network.includes(o.name));
    // THEN every network check ran and passed, and the controller image is the one picked
    expect(ran.map((o) => `${o.name}: ${o.status}`).sort()).toEqual(network.map((n) => `${n}: passed`).sort());
    expect(report.findings.filter((f) => f.path === 'controllers.amiId' && f.severity === 'error')).toEqual([]);
  } finally {
    destroyLiveClients(live);
  }
});

test('non-interactive with --vpc: the subnets behind a NAT gateway, the VPC CIDRs from AWS', async () => {
  const file = path.join(tmp, 'flags.yaml');
  const r = await runInit(
    file,
    { region: REGION, vpc: world.vpcId },
    { interactive: false, endpoint: moto!.endpoint, io: quiet },
  );
  expect(r.placeholders).toEqual(['xspot.repositoryGpgKey', 'controllers.amiId']);
  expect(r.choices.network).toMatchObject({ kind: 'existing', cidrBlocks: ['10.0.0.0/16', '10.1.0.0/16'] });
  const ids = r.choices.network.kind === 'existing' ? r.choices.network.privateSubnets.map((s) => s.id) : [];
  expect(ids.sort()).toEqual([world.privateA.id, world.privateB.id, world.privateE.id].sort());
});
