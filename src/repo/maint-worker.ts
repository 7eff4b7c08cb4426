/**
 * Worker thread for the maintenance verbs (fsck content hashing, pull-local content import).
 * workerData: {job, ctx, shared, stopOnFailure}; then one message {items}. The worker takes
 * batches of item indices from the shared atomic counter until none are left, then posts
 * {result, failures}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fsckContentJob, runLoop } from './fsck.js';
import { pullJob } from './pull-local.js';

interface Data { job: 'fsck' | 'pull'; ctx: unknown; shared: Int32Array; stopOnFailure: boolean }
const d = workerData as Data;

async function main(items: string[]): Promise<void> {
  const acc = d.job === 'fsck' ? { checked: 0 } : { written: 0, bytes: 0 };
  const fn = (d.job === 'fsck' ? fsckContentJob : pullJob) as (ctx: never, item: string, acc: never) => void | Promise<void>;
  const failures = await runLoop(fn, d.ctx, items, d.shared, acc, d.stopOnFailure);
  parentPort!.postMessage({ result: acc, failures });
}

parentPort!.once('message', (m: { items: string[] }) => {
  main(m.items).catch((e: unknown) => {
    const err = e as { message?: string; code?: string };
    parentPort!.postMessage({ result: {}, failures: [{ index: -1, code: err.code ?? 'EIO', message: err.message ?? String(e) }] });
  });
});
