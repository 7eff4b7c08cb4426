/**
 * Storing downloaded content objects in a second thread, so a large pull uses both cores: the
 * event loop keeps the connections busy (requests, responses, headers) while the thread
 * verifies, inflates and writes what has arrived. Bodies are handed over in batches (one
 * message per batch, not per object: a message costs more than a small object's write) and
 * transferred, not copied. Small pulls never start it (a thread's start-up would cost more
 * than it saves); the session decides (session.ts).
 *
 * store-worker.ts is the thread side.
 */
import { Worker } from 'node:worker_threads';
import { OstreeError, type ErrorCode } from '../../errors.js';
import type { ContentImportContext } from './import.js';
import { YoungGarbage } from '../../util/young-gc.js';

/** One object handed to the thread: its archive-form bytes, transferred. */
export interface StoreRequest { id: number; checksum: string; body: ArrayBuffer }
/** What became of it: the bytes written (-1: it was there already), or the error. */
export type StoreAnswer = { id: number; bytes: number } | { id: number; code: string; message: string };

/** Objects per message at most; a batch also goes out at the end of each event-loop turn. */
const BATCH_MAX = 32;

interface Waiter { resolve: (bytes: number) => void; reject: (e: Error) => void }

export class StoreThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiter>();
  private batch: StoreRequest[] = [];
  private flushQueued = false;
  private broken: Error | null = null;
  /** What the network read for the bodies handed over is garbage once they are: scavenged every few MB. */
  private readonly garbage = new YoungGarbage(4 << 20);

  constructor(ctx: ContentImportContext) {
    this.worker = new Worker(new URL('./store-worker.js', import.meta.url), { workerData: ctx });
    this.worker.on('message', (answers: StoreAnswer[]) => { for (const a of answers) this.settle(a); });
    this.worker.on('error', (e) => this.breakDown(new OstreeError('EIO', `The thread storing downloaded objects failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => this.breakDown(new OstreeError('EIO', `The thread storing downloaded objects exited (code ${code}) with objects unstored`)));
  }

  /** Store `body` (a `.filez` as downloaded) as `checksum`; resolves like importArchiveObjectBuffer. */
  store(checksum: string, body: Buffer): Promise<number> {
    if (this.broken !== null) return Promise.reject(this.broken);
    const id = this.nextId++;
    const done = new Promise<number>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.batch.push({ id, checksum, body: ownArrayBuffer(body) });
    this.garbage.add(body.length);
    if (this.batch.length >= BATCH_MAX) this.flush();
    else if (!this.flushQueued) { this.flushQueued = true; setImmediate(() => this.flush()); }
    return done;
  }

  /** Stop the thread (after the pull waited for every object, or on failure). */
  async close(): Promise<void> {
    this.broken ??= new OstreeError('EIO', 'The store thread is closed');
    await this.worker.terminate();
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.worker.postMessage(batch, batch.map((r) => r.body));
  }

  private settle(a: StoreAnswer): void {
    const w = this.waiting.get(a.id);
    if (w === undefined) return;
    this.waiting.delete(a.id);
    if ('bytes' in a) w.resolve(a.bytes);
    else w.reject(new OstreeError(a.code as ErrorCode, a.message));
  }

  private breakDown(e: Error): void {
    this.broken ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}

/**
 * An ArrayBuffer holding exactly `b`, to transfer: its own when it has one (a body of more than
 * a few KB), else a copy (a small buffer shares Node's allocation pool, which must not move).
 */
function ownArrayBuffer(b: Buffer): ArrayBuffer {
  const ab = b.buffer;
  if (ab instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === ab.byteLength) return ab;
  return ab.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
