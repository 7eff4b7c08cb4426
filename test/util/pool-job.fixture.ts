/** A pool job for test/util/pool.test.ts: sums numeric items, failing on `ctx.fail`. */
import { threadId } from 'node:worker_threads';

export function sumJob(ctx: { fail: string }, item: string, acc: { n: number; sum: number; threads: number[] }): void {
  if (item === ctx.fail) throw Object.assign(new Error(`item ${item} refused`), { code: 'EINVAL' });
  acc.n++;
  acc.sum += Number(item);
  if (!acc.threads.includes(threadId)) acc.threads.push(threadId);
}

export const notAFunction = 42;
