/**
 * The content writers of a commit. Once the walk has found every file (so a tree that cannot
 * be committed writes nothing), the calling thread and `writers - 1` worker threads (worker.ts)
 * store them together: each claims the next BATCH files from a shared counter until none are
 * left, so the threads stay busy whatever the files' sizes, and the calling thread never sits
 * idle waiting. The worker threads are started early (prepare(), during the walk) so their
 * start-up overlaps it; a worker not up yet when the walk ends simply claims less. Small
 * commits are written in the calling thread alone.
 */
import { Worker } from 'node:worker_threads';
import { OstreeError } from '../../errors.js';
import { LongPaths } from '../../util/long-path.js';
import { adoptContentSync, contentWrites, writeContentSync, type ContentWriteContext } from '../content.js';
import type { ModeAdjust } from './modifier.js';
import type { FileSlot } from './mtree.js';

/** A file found by the walk; `checksum` is filled in once its object is stored. */
export interface PendingFile extends FileSlot { name: string; path: string; kind: 'file' | 'symlink'; adjust?: ModeAdjust; adopt?: boolean }

/**
 * One run of the writers: every file as parallel lists (cheaper to copy to a thread than one
 * object per file): its path, its flags (SYMLINK, ADOPT), the statoverride adjustments by
 * index; and the shared [next index, stop flag].
 */
export interface WriterRun { paths: string[]; flags: Uint8Array; adjusts: Map<number, ModeAdjust>; shared: Int32Array }
export const SYMLINK = 1;
export const ADOPT = 2;

/** A worker's answers: one per batch it stored, then `done` (or an error, which ends it). */
export type WriterReply =
  | { batch: { from: number; checksums: string[]; objects: number; bytes: number } }
  | { done: true }
  | { error: { message: string; code?: string; name?: string } };

/** Index of the shared counters. */
export const NEXT = 0;
export const STOP = 1;
export const BATCH = 32;

/** Store file `i` of the run: adopted (`--consume`, where the mode allows) or copied into an object. */
function storeFile(ctx: ContentWriteContext, run: WriterRun, i: number, p: string): string | Promise<string> {
  const flags = run.flags[i]!;
  const adjust = run.adjusts.size > 0 ? run.adjusts.get(i) : undefined;
  if ((flags & SYMLINK) !== 0) return writeContentSync(ctx, p, 'symlink', adjust);
  return (flags & ADOPT) !== 0 ? adoptContentSync(ctx, p, adjust) : writeContentSync(ctx, p, 'file', adjust);
}

/**
 * Claim batches of `items` from `shared` and store them until none are left or another thread
 * failed; `onBatch` gets each batch's checksums and the objects and bytes newly written.
 */
export async function claimLoop(ctx: ContentWriteContext, run: WriterRun,
  onBatch: (from: number, checksums: string[], objects: number, bytes: number) => void): Promise<void> {
  const { shared, paths: items } = run;
  const paths = new LongPaths();
  try {
    for (;;) {
      if (Atomics.load(shared, STOP) !== 0) return;
      const from = Atomics.add(shared, NEXT, BATCH);
      if (from >= items.length) return;
      const end = Math.min(items.length, from + BATCH);
      const objects = contentWrites.objects;
      const bytes = contentWrites.bytes;
      const checksums: string[] = [];
      for (let i = from; i < end; i++) {
        const r = storeFile(ctx, run, i, paths.short(items[i]!));
        checksums.push(typeof r === 'string' ? r : await r);
      }
      onBatch(from, checksums, contentWrites.objects - objects, contentWrites.bytes - bytes);
    }
  } catch (e) {
    Atomics.store(shared, STOP, 1);
    throw e;
  } finally {
    paths.close();
  }
}

/** A worker's error as it crossed the thread boundary, made an error again. */
function revive(e: { message: string; code?: string; name?: string }): Error {
  return e.name === 'OstreeError'
    ? new OstreeError((e.code ?? 'EIO') as never, e.message)
    : Object.assign(new Error(e.message), { code: e.code });
}

export class ContentWriterPool {
  static readonly BATCH = BATCH;
  /** Below this many files, starting a worker costs more than it saves: it takes ~50 ms to
   *  start (~60 ms of CPU), in which this thread stores ~1000 small files on its own. */
  static readonly MIN_FILES_FOR_WORKERS = 1024;
  private workers: Worker[] = [];
  /** Content objects newly stored by this pool (the others existed already). */
  readonly written = { objects: 0, bytes: 0 };

  constructor(
    private readonly ctx: ContentWriteContext,
    /** Writing threads, this one included (<= 1: this thread alone). */
    private readonly writers: number,
    /** Told how many more files are stored, after each batch. */
    private readonly onWritten: (n: number) => void = () => {},
  ) {}

  /** Start the worker threads now (a large tree is coming): their start-up overlaps the walk. */
  prepare(): void {
    if (this.writers <= 1 || this.workers.length > 0) return;
    const url = new URL('./worker.js', import.meta.url);
    for (let i = 1; i < this.writers; i++) this.workers.push(new Worker(url, { workerData: { ctx: this.ctx } }));
  }

  /** Store every file of `files` (filling in their checksums); throws the first writer error. */
  async run(files: PendingFile[]): Promise<void> {
    if (files.length === 0) return;
    if (this.workers.length === 0 && files.length >= ContentWriterPool.MIN_FILES_FOR_WORKERS) this.prepare();
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const run: WriterRun = { paths: new Array<string>(files.length), flags: new Uint8Array(files.length), adjusts: new Map(), shared };
    files.forEach((f, i) => {
      run.paths[i] = f.path;
      run.flags[i] = (f.kind === 'symlink' ? SYMLINK : 0) | (f.adopt ? ADOPT : 0);
      if (f.adjust) run.adjusts.set(i, f.adjust);
    });
    const record = (from: number, checksums: string[], objects: number, bytes: number): void => {
      for (let i = 0; i < checksums.length; i++) files[from + i]!.checksum = checksums[i]!;
      this.written.objects += objects;
      this.written.bytes += bytes;
      this.onWritten(checksums.length);
    };
    const replies = this.workers.map((w) => this.follow(w, record, shared));
    for (const w of this.workers) w.postMessage(run);
    let failure: unknown = null;
    try {
      await claimLoop(this.ctx, run, record);
    } catch (e) {
      failure = e;
    }
    const outcomes = await Promise.allSettled(replies);
    if (failure !== null) throw failure;
    for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
  }

  /** Collect the answers of worker `w` for one run; settles when it is done (or failed). */
  private follow(w: Worker, record: (from: number, checksums: string[], objects: number, bytes: number) => void, shared: Int32Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (e: unknown): void => { Atomics.store(shared, STOP, 1); cleanup(); reject(e); };
      const onMessage = (m: WriterReply): void => {
        if ('batch' in m) record(m.batch.from, m.batch.checksums, m.batch.objects, m.batch.bytes);
        else if ('done' in m) { cleanup(); resolve(); } else fail(revive(m.error));
      };
      const onExit = (code: number): void => fail(new OstreeError('EIO', `commit worker exited unexpectedly (code ${code})`));
      const cleanup = (): void => { w.off('message', onMessage); w.off('error', fail); w.off('exit', onExit); };
      w.on('message', onMessage);
      w.once('error', fail);
      w.once('exit', onExit);
    });
  }

  async abort(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
