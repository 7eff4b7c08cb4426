/**
 * A pool of worker threads running one job over a list of string items (object checksums):
 * fsck's content hashing and pull-local's content import use it. The pool knows nothing of
 * what a job does: a job is named by the module that exports it and the export's name, so a
 * worker imports only that module (fsck workers never load the pull engine, and this file
 * imports no caller, so no import cycle runs through it).
 *
 * Protocol (pool-worker.ts is the thread side): every worker gets every pushed chunk
 * ({items}) and finally {end: true}; they claim index ranges of BATCH items with
 * compare-and-swap on a shared counter, never beyond what they have received, and answer
 * {result, failures} once the list has ended and nothing is left; with `callerJoins` the calling
 * thread claims ranges the same way from finish() on. Below POOL_MIN_ITEMS, or with one thread,
 * everything runs in this thread at finish().
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { OstreeError } from '../errors.js';

/** Where a job lives: `module` (a file URL or path of an ES module) exports `name`. */
export interface PoolJobRef { module: string; name: string }

/**
 * A job: handle one item, adding to the accumulator (plain data, so a worker's copy can be
 * sent back and merged). Throwing an error records a failure for that item.
 */
export type PoolJobFn<C = never, A = never> = (ctx: C, item: string, acc: A) => void | Promise<void>;

export interface PoolFailure { index: number; code?: string; message: string }

export interface PoolOptions<R> {
  job: PoolJobRef;
  /** Passed to every call of the job (structured-cloned into each worker). */
  ctx: unknown;
  items: string[];
  /** Threads (default min(4, CPUs)); <= 1 runs in this thread (with callerJoins: worker
   *  threads beside the caller, 0 runs in this thread). */
  workers?: number | undefined;
  /** The empty accumulator: plain data (each worker starts from a copy). */
  init: () => R;
  merge: (a: R, b: R) => R;
  /** Stop handing out work after the first failure. */
  stopOnFailure?: boolean;
  /**
   * The calling thread works too, from finish() on (once it has nothing else to produce),
   * beside `workers` worker threads: on two CPUs one worker and the caller, not two workers
   * and a caller that only waits.
   */
  callerJoins?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface StartedPool<R> {
  /**
   * Hand over more items (indices continue after the earlier ones). With workers they start on
   * them at once, so the caller can keep producing (fsck: walking the metadata) meanwhile.
   */
  push(items: readonly string[]): void;
  /** No more items: wait until all are done. */
  finish(): Promise<{ result: R; failures: PoolFailure[] }>;
  /** push(items) + finish() */
  run(items: readonly string[]): Promise<{ result: R; failures: PoolFailure[] }>;
  /** Stop the workers without collecting (error paths); harmless after finish(). */
  cancel(): Promise<void>;
}

const BATCH = 8;
/** Below this many items, worker start-up costs more than it saves. */
export const POOL_MIN_ITEMS = 200;

/** Import the module of `job` and return its function (the same module instance in-thread). */
export async function loadJob(job: PoolJobRef): Promise<PoolJobFn<unknown, unknown>> {
  const m = (await import(job.module)) as Record<string, unknown>;
  const fn = m[job.name];
  if (typeof fn !== 'function') throw new OstreeError('EINVAL', `pool job ${job.name} is not exported by ${job.module}`);
  return fn as PoolJobFn<unknown, unknown>;
}

/** Run `job` over `items`, in worker threads when worthwhile. Failures carry the item index. */
export async function runPool<R>(o: PoolOptions<R>): Promise<{ result: R; failures: PoolFailure[] }> {
  return startPool(o, o.items.length).run(o.items);
}

/**
 * Start the workers now (their start-up overlaps whatever the caller does next) and stream the
 * items to them with push(); finish() collects. `expected` sizes the pool.
 */
export function startPool<R>(o: Omit<PoolOptions<R>, 'items'>, expected: number): StartedPool<R> {
  const shared = new Int32Array(new SharedArrayBuffer(12)); // [next, done, abort]
  const nWorkers = Math.min(o.workers ?? Math.min(4, Math.max(1, os.availableParallelism())), Math.ceil(expected / BATCH));
  // (with callerJoins, `workers` counts the threads beside the caller: one is already parallel)
  const useWorkers = nWorkers > (o.callerJoins === true ? 0 : 1) && expected >= POOL_MIN_ITEMS;
  const stopOnFailure = o.stopOnFailure === true;
  const workers: Worker[] = [];
  const replies: Array<Promise<{ result: R; failures: PoolFailure[] }>> = [];
  const all: string[] = [];
  let timer: NodeJS.Timeout | null = null;
  if (o.onProgress) {
    timer = setInterval(() => o.onProgress!(Atomics.load(shared, 1), all.length), 200);
    timer.unref();
  }
  if (useWorkers) {
    const url = new URL('./pool-worker.js', import.meta.url);
    const workerData = { job: o.job, ctx: o.ctx, acc: o.init(), shared, stopOnFailure };
    for (let i = 0; i < nWorkers; i++) {
      const w = new Worker(url, { workerData });
      workers.push(w);
      const reply = new Promise<{ result: R; failures: PoolFailure[] }>((resolve, reject) => {
        w.once('message', (m: { result: R; failures: PoolFailure[] }) => resolve(m));
        w.once('error', reject);
        w.once('exit', (code) => reject(new OstreeError('EIO', `pool worker exited with code ${code} before answering`)));
      });
      reply.catch(() => { /* observed in finish() */ });
      replies.push(reply);
    }
  }
  const stop = async (): Promise<void> => {
    if (timer) clearInterval(timer);
    await Promise.all(workers.map((w) => w.terminate()));
  };
  const pool: StartedPool<R> = {
    push(items) {
      if (items.length === 0) return;
      for (const it of items) all.push(it);
      if (useWorkers) {
        const chunk = items.slice();
        for (const w of workers) w.postMessage({ items: chunk });
      }
    },
    async finish() {
      try {
        if (!useWorkers) {
          const acc = o.init();
          const failures = await runLoop(await loadJob(o.job), o.ctx, all, shared, acc, stopOnFailure);
          return { result: acc, failures };
        }
        for (const w of workers) w.postMessage({ end: true });
        const own: Array<{ result: R; failures: PoolFailure[] }> = [];
        if (o.callerJoins === true) {
          const acc = o.init();
          const feed: PoolFeed = { items: all, ended: true, next: () => Promise.resolve() };
          own.push({ result: acc, failures: await runStreamLoop(await loadJob(o.job), o.ctx, feed, shared, acc, stopOnFailure) });
        }
        const rs = [...own, ...await Promise.all(replies)];
        let result = o.init();
        const failures: PoolFailure[] = [];
        for (const r of rs) { result = o.merge(result, r.result); failures.push(...r.failures); }
        failures.sort((a, b) => a.index - b.index);
        return { result, failures };
      } finally {
        await stop();
      }
    },
    run(items) { pool.push(items); return pool.finish(); },
    cancel: stop,
  };
  return pool;
}

/** The loop the main thread runs when there are no workers: take BATCH items at a time. */
export async function runLoop(fn: PoolJobFn<unknown, unknown>, ctx: unknown, items: string[], shared: Int32Array,
  acc: unknown, stopOnFailure: boolean): Promise<PoolFailure[]> {
  const failures: PoolFailure[] = [];
  for (;;) {
    if (Atomics.load(shared, 2) !== 0) break;
    const start = Atomics.add(shared, 0, BATCH);
    if (start >= items.length) break;
    const end = Math.min(items.length, start + BATCH);
    await runRange(fn, ctx, items, start, end, acc, failures, shared, stopOnFailure);
  }
  return failures;
}

async function runRange(fn: PoolJobFn<unknown, unknown>, ctx: unknown, items: string[], start: number, end: number,
  acc: unknown, failures: PoolFailure[], shared: Int32Array, stopOnFailure: boolean): Promise<void> {
  for (let i = start; i < end; i++) {
    try {
      const r = fn(ctx, items[i]!, acc);
      if (r) await r;
    } catch (e) {
      const err = e as { code?: string; message?: string };
      failures.push({ index: i, code: err.code, message: err.message ?? String(e) });
      if (stopOnFailure) Atomics.store(shared, 2, 1);
    }
  }
  Atomics.add(shared, 1, end - start);
}

/** What a worker consumes: the items received so far, whether the list has ended, a wait. */
export interface PoolFeed { items: string[]; ended: boolean; next(): Promise<void> }

/**
 * A worker's loop over a growing item list: claim [next, next+BATCH) capped at the items
 * received so far; when caught up, wait for the next chunk; stop after `end`.
 */
export async function runStreamLoop(fn: PoolJobFn<unknown, unknown>, ctx: unknown, feed: PoolFeed,
  shared: Int32Array, acc: unknown, stopOnFailure: boolean): Promise<PoolFailure[]> {
  const failures: PoolFailure[] = [];
  for (;;) {
    if (Atomics.load(shared, 2) !== 0) break;
    const have = feed.items.length;
    const start = Atomics.load(shared, 0);
    if (start >= have) {
      if (feed.ended) break;
      await feed.next();
      continue;
    }
    const end = Math.min(have, start + BATCH);
    if (Atomics.compareExchange(shared, 0, start, end) !== start) continue; // another worker won
    await runRange(fn, ctx, feed.items, start, end, acc, failures, shared, stopOnFailure);
  }
  return failures;
}
