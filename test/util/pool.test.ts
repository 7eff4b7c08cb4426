import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPool, startPool, type PoolJobRef } from '../../src/util/pool.js';

const JOB: PoolJobRef = { module: new URL('./pool-job.fixture.js', import.meta.url).href, name: 'sumJob' };
type Acc = { n: number; sum: number; threads: number[] };
const init = (): Acc => ({ n: 0, sum: 0, threads: [] });
const merge = (a: Acc, b: Acc): Acc => ({ n: a.n + b.n, sum: a.sum + b.sum, threads: [...a.threads, ...b.threads] });
const items = (count: number): string[] => Array.from({ length: count }, (_, i) => String(i + 1));

for (const workers of [1, 3]) {
  test(`runPool (${workers} thread${workers > 1 ? 's' : ''}): every item once, results merged, failures by index`, async () => {
    const r = await runPool<Acc>({ job: JOB, ctx: { fail: '250' }, items: items(500), workers, init, merge });
    assert.equal(r.result.n, 499);
    assert.equal(r.result.sum, (500 * 501) / 2 - 250);
    assert.deepEqual(r.failures, [{ index: 249, code: 'EINVAL', message: 'item 250 refused' }]);
    if (workers > 1) assert.ok(r.result.threads.every((t) => t !== 0), 'ran in worker threads');
    else assert.deepEqual(r.result.threads, [0]);
  });
}

test('startPool: items streamed in chunks while the workers run; cancel stops them', async () => {
  const pool = startPool<Acc>({ job: JOB, ctx: { fail: '' }, workers: 2, init, merge }, 1000);
  for (let i = 0; i < 10; i++) pool.push(items(100).map((x) => String(Number(x) + i * 100)));
  const r = await pool.finish();
  assert.equal(r.result.n, 1000);
  assert.equal(r.result.sum, (1000 * 1001) / 2);
  const idle = startPool<Acc>({ job: JOB, ctx: { fail: '' }, workers: 2, init, merge }, 1000);
  await idle.cancel(); // must not leave threads keeping the process alive
});

test('startPool with callerJoins: one worker and the calling thread share the items, each once', async () => {
  const pool = startPool<Acc>({ job: JOB, ctx: { fail: '4321' }, workers: 1, callerJoins: true, init, merge }, 20000);
  // Handed over before finish(): the worker starts on them while the caller is still producing.
  for (let i = 0; i < 20; i++) pool.push(items(1000).map((x) => String(Number(x) + i * 1000)));
  const r = await pool.finish();
  assert.equal(r.result.n, 19999);
  assert.equal(r.result.sum, (20000 * 20001) / 2 - 4321);
  assert.deepEqual(r.failures, [{ index: 4320, code: 'EINVAL', message: 'item 4321 refused' }]);
  assert.ok(r.result.threads.includes(0), 'the calling thread took part');
  // No worker beside the caller: everything in this thread.
  const alone = await startPool<Acc>({ job: JOB, ctx: { fail: '' }, workers: 0, callerJoins: true, init, merge }, 500).run(items(500));
  assert.deepEqual(alone.result.threads, [0]);
  assert.equal(alone.result.n, 500);
});

test('a job name the module does not export as a function is an error', async () => {
  await assert.rejects(runPool<Acc>({ job: { ...JOB, name: 'notAFunction' }, ctx: {}, items: ['1'], init, merge }), /pool job notAFunction is not exported/);
});
