/**
 * Worker thread of a commit's content writers (pool.ts): writes content objects with
 * synchronous syscalls (cheaper per file than the async fs API) so that the cores hash and
 * copy in parallel. Protocol: the parent sends {ctx} as workerData, then one WriterRun
 * ({paths, flags, adjusts, shared}) per run; the worker claims batches of items from the shared counter as the parent thread
 * does, answers {batch} for each batch it stored, then {done} (or {error}).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ContentWriteContext } from '../content.js';
import { claimLoop, type WriterReply, type WriterRun } from './pool.js';

const ctx = (workerData as { ctx: ContentWriteContext }).ctx;

function reply(m: WriterReply): void { parentPort!.postMessage(m); }

parentPort!.on('message', (run: WriterRun) => {
  claimLoop(ctx, run, (from, checksums, objects, bytes) => reply({ batch: { from, checksums, objects, bytes } })).then(
    () => reply({ done: true }),
    (e: unknown) => {
      const err = e as { code?: string; message?: string; name?: string };
      reply({ error: { message: err.message ?? String(e), ...(err.code !== undefined ? { code: err.code } : {}), ...(err.name !== undefined ? { name: err.name } : {}) } });
    },
  );
});
