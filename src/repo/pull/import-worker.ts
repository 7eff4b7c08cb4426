/**
 * Worker thread of import-workers.ts: verifies and stores each downloaded object it is sent
 * (import.ts's importArchiveObjectBuffer) and answers each batch with the bytes written or the
 * error of each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { importArchiveObjectBuffer } from './import.js';
import type { BufferImportContext, ImportAnswer, ImportRequest } from './import-workers.js';

const ctx = workerData as BufferImportContext;
function store(r: ImportRequest): ImportAnswer {
  try {
    const filez = Buffer.from(r.filez.buffer, r.filez.byteOffset, r.filez.byteLength);
    return { id: r.id, written: importArchiveObjectBuffer(ctx, r.checksum, filez) };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { id: r.id, code: err.code ?? 'EIO', message: err.message ?? String(e) };
  }
}

parentPort!.on('message', (batch: ImportRequest[]) => { parentPort!.postMessage(batch.map(store)); });
