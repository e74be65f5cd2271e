/**
 * The V8 heap setting `xspot-cdk cost` runs with.
 *
 * A cost run lives a second or two and keeps most of what it allocates (a record per worker,
 * container and job, then a row for each). V8's young generation starts at 1 MiB per semi-space
 * and, when many objects survive a scavenge, grows to 16 MiB (Node 20 on 64-bit); every later
 * scavenge then copies up to that much live data, out of the CPU caches, before promoting it
 * anyway. Keeping the semi-space at its initial size makes each scavenge a cache-sized copy and
 * promotes survivors sooner: on the dense benchmark set (bench/cost-bench.mjs) the same run takes
 * about 10% less CPU. `--max-semi-space-size` would say the same but only takes effect when the
 * heap is created (a `node` flag); the growth factor is read each time the young generation would
 * grow, so it can be set from inside the process, before the work starts.
 * Set by the command (lib/cli/cost.ts), not by runCost: a process that embeds the cost code keeps
 * its own heap settings. `test/cost/heap.test.ts` checks that it still takes effect on the running Node.
 */
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
