/**
 * Worker thread for the maintenance verbs (fsck content hashing, pull-local content import).
 * workerData: {job, ctx, shared, stopOnFailure}; then messages {items} (chunks appended to the
 * item list, which may arrive while work is already under way) and finally {end: true}. The
 * worker claims batches of item indices from the shared atomic counter (startPool in fsck.ts)
 * until none are left and the list has ended, then posts {result, failures}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fsckContentJob, runStreamLoop } from './fsck.js';

// Failures travel back as {code, message} only, and fsck meets one expected error per symlink
// object (open O_NOFOLLOW → ELOOP): skip the stack capture.
Error.stackTraceLimit = 0;

interface Data { job: 'fsck' | 'pull'; ctx: unknown; shared: Int32Array; stopOnFailure: boolean }
const d = workerData as Data;

let wake: (() => void) | null = null;
const feed = {
  items: [] as string[],
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
  const acc = d.job === 'fsck' ? { checked: 0 } : { written: 0, bytes: 0 };
  // pull-local (and the repo engine behind it) only for pull jobs: fsck workers start faster.
  const fn = (d.job === 'fsck' ? fsckContentJob : (await import('./pull/local.js')).pullJob) as (ctx: never, item: string, acc: never) => void | Promise<void>;
  const failures = await runStreamLoop(fn, d.ctx, feed, d.shared, acc, d.stopOnFailure);
  parentPort!.postMessage({ result: acc, failures });
  parentPort!.removeAllListeners('message');
}

main().catch((e: unknown) => {
  const err = e as { message?: string; code?: string };
  parentPort!.postMessage({ result: {}, failures: [{ index: -1, code: err.code ?? 'EIO', message: err.message ?? String(e) }] });
});
