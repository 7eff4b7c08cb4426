/** YoungGarbage: a scavenge really runs after each step of garbage bytes, and not before. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { YoungGarbage } from '../../src/util/young-gc.js';

async function minorGcsDuring(fn: () => void): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) n++;
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
  obs.disconnect();
  return n;
}

test('a scavenge after every step of garbage, none below it', async () => {
  // (V8 may scavenge on its own meanwhile: the counts are compared, not expected to be exact)
  const g = new YoungGarbage(1 << 20);
  const below = await minorGcsDuring(() => { for (let i = 0; i < 20; i++) g.add(1000); });
  assert.ok(below <= 2, `below the step: no collection of ours (saw ${below})`);
  const steps = await minorGcsDuring(() => { for (let i = 0; i < 20; i++) g.add(1 << 20); });
  assert.ok(steps >= 20, `one scavenge per step (saw ${steps})`);
});
