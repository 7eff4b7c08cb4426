/**
 * The thread side of store-thread.ts: stores each batch of downloaded content objects and
 * answers with what became of each (bytes written, or the error's code and message).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { importArchiveObjectBuffer, type ContentImportContext } from './import.js';
import type { StoreAnswer, StoreRequest } from './store-thread.js';

const ctx = workerData as ContentImportContext;

function storeOne(r: StoreRequest): StoreAnswer {
  try {
    return { id: r.id, bytes: importArchiveObjectBuffer(ctx, r.checksum, Buffer.from(r.body)) };
  } catch (e) {
    return { id: r.id, code: (e as { code?: string }).code ?? 'EIO', message: e instanceof Error ? e.message : String(e) };
  }
}

parentPort!.on('message', (batch: StoreRequest[]) => {
  parentPort!.postMessage(batch.map(storeOne));
});
