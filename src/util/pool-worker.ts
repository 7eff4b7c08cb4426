/**
 * The thread side of the worker pool (pool.ts): workerData {job, ctx, acc, shared,
 * stopOnFailure}; then messages {items} (chunks appended to the item list, which may arrive
 * while work is already under way) and finally {end: true}. The job's module is imported here
 * by name, so this file depends on no caller.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadJob, runStreamLoop, type PoolFeed, type PoolJobRef } from './pool.js';

// Failures travel back as {code, message} only, and jobs may meet expected errors per item
// (fsck: open O_NOFOLLOW on a symlink object gives ELOOP): skip the stack capture.
Error.stackTraceLimit = 0;

interface Data { job: PoolJobRef; ctx: unknown; acc: unknown; shared: Int32Array; stopOnFailure: boolean }
const d = workerData as Data;

let wake: (() => void) | null = null;
const feed: PoolFeed = {
  items: [],
  ended: false,
  next(): Promise<void> { return new Promise<void>((resolve) => { wake = resolve; }); },
};

parentPort!.on('message', (m: { items?: string[]; end?: boolean }) => {
  if (m.items) for (const it of m.items) feed.items.push(it);
  if (m.end) feed.ended = true;
  const w = wake;
  wake = null;
  w?.();
});

async function main(): Promise<void> {
  const fn = await loadJob(d.job);
  const failures = await runStreamLoop(fn, d.ctx, feed, d.shared, d.acc, d.stopOnFailure);
  parentPort!.postMessage({ result: d.acc, failures });
  parentPort!.removeAllListeners('message');
}

main().catch((e: unknown) => {
  const err = e as { message?: string; code?: string };
  parentPort!.postMessage({ result: d.acc, failures: [{ index: -1, code: err.code ?? 'EIO', message: err.message ?? String(e) }] });
});
