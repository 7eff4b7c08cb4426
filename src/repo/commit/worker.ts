/**
 * Worker thread of a commit's content writers (pool.ts): writes content objects for batches
 * of source files with synchronous syscalls (cheaper per file than the async fs API) so that
 * the cores hash and copy in parallel. Protocol: the parent sends {ctx} as workerData, then
 * messages {id, items: [{path, kind, adjust}]}; the worker answers {id, checksums, written} or
 * {id, error}. Paths too long for one system call (very deep trees) go through LongPaths.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LongPaths } from '../../util/long-path.js';
import { contentWrites, type ContentWriteContext } from '../content.js';
import type { ModeAdjust } from './modifier.js';
import { storeFile } from './pool.js';

interface Item { path: string; kind: 'file' | 'symlink'; adjust?: ModeAdjust; adopt?: boolean }
interface Request { id: number; items: Item[] }

const ctx = (workerData as { ctx: ContentWriteContext }).ctx;

parentPort!.on('message', (msg: Request) => {
  void handle(msg);
});

async function handle(msg: Request): Promise<void> {
  const checksums: string[] = [];
  const paths = new LongPaths();
  const before = { ...contentWrites };
  try {
    for (const it of msg.items) {
      const r = storeFile(ctx, paths.short(it.path), it);
      checksums.push(typeof r === 'string' ? r : await r);
    }
    const written = { objects: contentWrites.objects - before.objects, bytes: contentWrites.bytes - before.bytes };
    parentPort!.postMessage({ id: msg.id, checksums, written });
  } catch (e) {
    const err = e as { code?: string; message?: string; name?: string };
    parentPort!.postMessage({ id: msg.id, error: { message: err.message ?? String(e), code: err.code, name: err.name } });
  } finally {
    paths.close();
  }
}
