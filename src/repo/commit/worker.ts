/**
 * Worker thread for `commitTree`: writes content objects for batches of source files with
 * synchronous syscalls (cheaper per file than the async fs API) so that the two cores hash
 * and copy in parallel. Protocol: the parent sends {ctx} as workerData, then messages
 * {id, items: [{path, mode, uid, gid}]}; the worker answers {id, checksums} or {id, error}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { writeContentSync, type ContentWriteContext, type SourceStat } from '../content.js';

interface Item extends SourceStat { path: string }
interface Request { id: number; items: Item[] }

const ctx = (workerData as { ctx: ContentWriteContext }).ctx;

parentPort!.on('message', (msg: Request) => {
  void handle(msg);
});

async function handle(msg: Request): Promise<void> {
  const checksums: string[] = [];
  try {
    for (const it of msg.items) {
      const r = writeContentSync(ctx, it.path, it);
      checksums.push(typeof r === 'string' ? r : await r);
    }
    parentPort!.postMessage({ id: msg.id, checksums });
  } catch (e) {
    const err = e as { code?: string; message?: string; name?: string };
    parentPort!.postMessage({ id: msg.id, error: { message: err.message ?? String(e), code: err.code, name: err.name } });
  }
}
