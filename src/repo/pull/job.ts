/**
 * The pull-local job run by the worker pool, one content object per item: import it into the
 * destination (import.ts) and count it. Kept apart from pull-local itself so a worker thread
 * loads only the import code, not the repository engine.
 */
import { importContentObject, type ContentImportContext } from './import.js';

/** Per-thread totals, merged by the pool. */
export interface PullJobTotals { written: number; bytes: number }

/** Worker/in-process job body for one content object of a pull. */
export async function pullJob(ctx: ContentImportContext, checksum: string, acc: PullJobTotals): Promise<void> {
  const r = importContentObject(ctx, checksum);
  const n = typeof r === 'number' ? r : await r;
  if (n >= 0) { acc.written++; acc.bytes += n; }
}
