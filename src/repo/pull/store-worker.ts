/**
 * The thread side of store-thread.ts: stores each batch of downloaded content objects and
 * answers with what became of each (bytes written, or the error's code and message).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { importArchiveObjectBuffer, type ContentImportContext } from './import.js';
import type { StoreAnswer, StoreRequest } from './store-thread.js';
import { YoungGarbage } from '../../util/young-gc.js';

const ctx = workerData as ContentImportContext;
/** The bodies and their inflated copies die here: scavenged every few MB (young-gc.ts). */
const garbage = new YoungGarbage(4 << 20);

function storeOne(r: StoreRequest): StoreAnswer {
  try {
    return { id: r.id, bytes: importArchiveObjectBuffer(ctx, r.checksum, Buffer.from(r.body)) };
  } catch (e) {
    return { id: r.id, code: (e as { code?: string }).code ?? 'EIO', message: e instanceof Error ? e.message : String(e) };
  }
}

parentPort!.on('message', (batch: StoreRequest[]) => {
  parentPort!.postMessage(batch.map(storeOne));
  for (const r of batch) garbage.add(r.body.byteLength);
});
