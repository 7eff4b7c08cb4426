/**
 * Content objects downloaded by an HTTP pull, verified and stored by worker threads: inflating,
 * hashing and writing a 20k-object commit is most of a pull's CPU, and on the event loop it
 * delays the next requests. Requests (checksum and `.filez` bytes, whose memory is moved to the
 * worker, not copied) and answers (the bytes written, or the error's code and message) travel
 * in batches: all the objects that arrived in one turn of the event loop go in one message,
 * as a message costs far more than the copy of a small object would. Workers start
 * only once a pull has enough objects to repay their start-up (see ImportRunner.maybeStart).
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { OstreeError } from '../../errors.js';
import type { RepoMode } from '../modes/mode.js';
import { importArchiveObjectBuffer } from './import.js';

/** What a worker needs to store an object: the destination and its checks. */
export interface BufferImportContext { destPath: string; destMode: RepoMode; bareUserOnlyFiles: boolean }

/** A request to a worker and its answer (import-worker.ts is the other side). */
export interface ImportRequest { id: number; checksum: string; filez: Uint8Array }
export interface ImportAnswer { id: number; written?: number; code?: string; message?: string }

/** Below this many content objects in a pull, the event loop stores them itself. */
export const WORKERS_MIN_OBJECTS = 256;

interface Pending { resolve(n: number): void; reject(e: unknown): void }

class WorkerSet {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: unknown = null;
  private readonly batches: ImportRequest[][] = [];
  private flushQueued = false;

  constructor(ctx: BufferImportContext, n: number) {
    const url = new URL('./import-worker.js', import.meta.url);
    for (let i = 0; i < n; i++) {
      // a small young generation: a worker's garbage is mostly buffers, freed by each scavenge
      const w = new Worker(url, { workerData: ctx, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      w.unref();
      w.on('message', (a: ImportAnswer[]) => this.answer(i, a));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => { if (code !== 0) this.fail(new OstreeError('EIO', `import worker exited with code ${code}`)); });
      this.workers.push(w);
      this.load.push(0);
      this.batches.push([]);
    }
  }

  run(checksum: string, filez: Buffer): Promise<number> {
    if (this.failed !== null) return Promise.reject(this.failed);
    let best = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i]! < this.load[best]!) best = i;
    const id = this.nextId++;
    this.load[best]!++;
    // its own memory (a download's buffer may share a pool with others), moved to the worker
    const own = new Uint8Array(filez.length);
    own.set(filez);
    this.batches[best]!.push({ id, checksum, filez: own });
    if (!this.flushQueued) { this.flushQueued = true; setImmediate(() => this.flush()); }
    return new Promise<number>((resolve, reject) => { this.pending.set(id, { resolve, reject }); });
  }

  private flush(): void {
    this.flushQueued = false;
    this.batches.forEach((batch, i) => {
      if (batch.length === 0) return;
      this.batches[i] = [];
      this.workers[i]!.postMessage(batch, batch.map((r) => r.filez.buffer as ArrayBuffer));
    });
  }

  private answer(worker: number, answers: ImportAnswer[]): void {
    for (const a of answers) {
      this.load[worker]!--;
      const p = this.pending.get(a.id);
      if (!p) continue;
      this.pending.delete(a.id);
      if (a.written !== undefined) p.resolve(a.written);
      else p.reject(new OstreeError((a.code ?? 'EIO') as never, a.message ?? 'import failed in a worker'));
    }
  }

  private fail(e: unknown): void {
    if (this.failed === null) this.failed = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Stores downloaded objects: in this thread until the pull has shown it has many objects, then
 * on min(4, CPUs) workers (at least 2, so the event loop has company even on one core).
 */
export class ImportRunner {
  private set: WorkerSet | null = null;
  private seen = 0;

  constructor(private readonly ctx: BufferImportContext, private readonly threads = Math.max(2, Math.min(4, os.availableParallelism()))) {}

  /** Verify and store `filez` as object `checksum`: bytes written, -1 when already there. */
  run(checksum: string, filez: Buffer): number | Promise<number> {
    if (this.set === null && ++this.seen >= WORKERS_MIN_OBJECTS && this.threads > 0) this.set = new WorkerSet(this.ctx, this.threads);
    if (this.set === null) return importArchiveObjectBuffer(this.ctx, checksum, filez);
    return this.set.run(checksum, filez);
  }

  async close(): Promise<void> {
    const s = this.set;
    this.set = null;
    if (s) await s.close();
  }
}
