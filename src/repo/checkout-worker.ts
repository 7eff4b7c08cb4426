/**
 * Worker thread of hardlinkCheckout (hardlink-checkout.ts): waits for the main thread's `go`
 * (the directories above its jobs exist), claims subtree jobs from the shared counter until
 * none are left, and answers {ok}, {fallback: errno} (a hardlink was refused) or {code, message}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NeedCopyFallback, SubtreeWriter, runClaimedJobs, type SubtreeContext, type SubtreeJob } from './hardlink-checkout.js';

const d = workerData as { ctx: SubtreeContext; jobs: SubtreeJob[]; shared: Int32Array };

try {
  Atomics.wait(d.shared, 2, 0);
  runClaimedJobs(new SubtreeWriter(d.ctx), d.jobs, d.shared);
  parentPort!.postMessage({ ok: true });
} catch (e) {
  if (e instanceof NeedCopyFallback) parentPort!.postMessage({ fallback: e.errno });
  else {
    const err = e as { code?: unknown; message?: unknown };
    parentPort!.postMessage({ code: typeof err.code === 'string' ? err.code : 'EIO', message: typeof err.message === 'string' ? err.message : String(e) });
  }
}
