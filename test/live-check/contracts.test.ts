/**
 * What the live check shares with other parts of the project: the worker AMI version tags the
 * image pipeline writes (lib/ops may not import the construct, so the keys live in two places),
 * and the read-only IAM policy in docs/live-check.md, which must allow every call the checks make.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IMAGE_TAGS } from '../../lib/constructs/worker-image';
import { WORKER_AMI_VERSION_TAGS } from '../../lib/ops/live-check';

const ROOT = path.join(__dirname, '..', '..');

test('WORKER_AMI_VERSION_TAGS matches the pipeline tag keys and the config fields they record', () => {
  const byField = Object.fromEntries(WORKER_AMI_VERSION_TAGS.map((t) => [t.field, t.tag]));
  expect(byField).toEqual({
    platformVersion: IMAGE_TAGS.platform,
    kernelVersion: IMAGE_TAGS.kernel,
    guestKernelVersion: IMAGE_TAGS.guestKernel,
    rpmVersion: IMAGE_TAGS.rpm,
  });
});

test('the policy in docs/live-check.md allows every call the live checks make', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'live-check.md'), 'utf8');
  const json = /```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
  expect(json).toBeDefined();
  const policy = JSON.parse(String(json)) as { Statement: { Effect: string; Action: string[] }[] };
  const allowed = new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action));
  const dir = path.join(ROOT, 'lib', 'ops');
  const used = new Set<string>();
  for (const f of fs.readdirSync(dir).filter((n) => /^live-check.*\.ts$/.test(n))) {
    for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/aws\('([a-z0-9-]+:[A-Za-z]+)'/g))
      used.add(m[1]);
  }
  used.delete('sts:GetCallerIdentity'); // needs no permission
  expect(used.size).toBeGreaterThan(10);
  expect([...used].filter((p) => !allowed.has(p))).toEqual([]);
  expect([...allowed].filter((p) => !used.has(p))).toEqual([]);
});
