/**
 * Worker thread of hardlinkCheckout (hardlink.ts): joins the shared stack of
 * directories to fill, fills them until the whole tree is done, applies the metadata of the
 * directories it filled, and answers {ok, reachable, late, dirs}, {fallback: errno} (a hardlink
 * was refused) or {code, message}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NeedCopyFallback, TreeFiller, type CheckoutContext, type FilledDir, type WorkerReply } from './hardlink.js';
import { SharedJobs, type SharedJobsBuffers } from './shared-jobs.js';

const { ctx, buffers } = workerData as { ctx: CheckoutContext; buffers: SharedJobsBuffers };

function reply(m: WorkerReply): void { parentPort!.postMessage(m); }

try {
  const jobs = new SharedJobs(buffers);
  const filler = new TreeFiller(ctx, jobs);
  const late: FilledDir[] = [];
  if (jobs.join()) {
    filler.run(null);
    if (!jobs.aborted) filler.finalize(filler.filled, late);
  }
  reply({ ok: true, reachable: filler.reachable, late, dirs: filler.filled.length });
} catch (e) {
  if (e instanceof NeedCopyFallback) reply({ fallback: e.errno });
  else {
    const err = e as { code?: unknown; message?: unknown };
    reply({ code: typeof err.code === 'string' ? err.code : 'EIO', message: typeof err.message === 'string' ? err.message : String(e) });
  }
}
