/**
 * The content writers of a commit: batches of files go to worker threads (round robin, see
 * worker.ts) once the walk has found every file (so a tree that cannot be committed writes
 * nothing). Small commits (one batch or less, or one worker) are written in the calling
 * thread instead.
 */
import { Worker } from 'node:worker_threads';
import { OstreeError } from '../../errors.js';
import { LongPaths } from '../../util/long-path.js';
import { adoptContentSync, contentWrites, writeContentSync, type ContentWriteContext } from '../content.js';
import type { ModeAdjust } from './modifier.js';
import type { FileSlot } from './mtree.js';

/** A file found by the walk; `checksum` is filled in once its object is stored. */
export interface PendingFile extends FileSlot { name: string; path: string; kind: 'file' | 'symlink'; adjust?: ModeAdjust; adopt?: boolean }

type WorkerReply = { id: number; checksums?: string[]; written?: { objects: number; bytes: number }; error?: { message: string; code?: string; name?: string } };

/** Store one file: adopted (`--consume`, where the mode allows) or copied into an object. */
export function storeFile(ctx: ContentWriteContext, p: string, f: { kind: 'file' | 'symlink'; adjust?: ModeAdjust | undefined; adopt?: boolean | undefined }): string | Promise<string> {
  return f.adopt && f.kind === 'file' ? adoptContentSync(ctx, p, f.adjust) : writeContentSync(ctx, p, f.kind, f.adjust);
}

export class ContentWriterPool {
  static readonly BATCH = 32;
  private workers: Worker[] = [];
  private pending: Array<Promise<void>> = [];
  private inline: PendingFile[][] = [];
  private next = 0;
  private ids = 0;
  private failure: unknown = null;
  private callbacks = new Map<number, (m: WorkerReply) => void>();
  /** Content objects newly stored by this pool (the others existed already). */
  readonly written = { objects: 0, bytes: 0 };

  constructor(
    private readonly ctx: ContentWriteContext,
    private readonly nWorkers: number,
    /** Told how many more files are stored, after each batch. */
    private readonly onWritten: (n: number) => void = () => {},
  ) {}

  submit(batch: PendingFile[]): void {
    if (batch.length === 0) return;
    if (this.nWorkers <= 1 || (this.workers.length === 0 && batch.length < ContentWriterPool.BATCH)) {
      this.inline.push(batch);
      return;
    }
    if (this.workers.length === 0) this.start();
    const w = this.workers[this.next++ % this.workers.length]!;
    const id = this.ids++;
    const reply = new Promise<WorkerReply>((res) => this.callbacks.set(id, res));
    w.postMessage({ id, items: batch.map((f) => ({ path: f.path, kind: f.kind, adjust: f.adjust, adopt: f.adopt })) });
    this.pending.push(reply.then((m) => {
      if (m.error) {
        const e = m.error.name === 'OstreeError'
          ? new OstreeError((m.error.code ?? 'EIO') as never, m.error.message)
          : Object.assign(new Error(m.error.message), { code: m.error.code });
        this.failure ??= e;
        return;
      }
      m.checksums!.forEach((c, i) => { batch[i]!.checksum = c; });
      this.written.objects += m.written?.objects ?? 0;
      this.written.bytes += m.written?.bytes ?? 0;
      this.onWritten(batch.length);
    }));
  }

  /** Start the worker threads now (a large tree is coming): their start-up overlaps the walk. */
  prepare(): void {
    if (this.nWorkers > 1 && this.workers.length === 0) this.start();
  }

  private start(): void {
    const url = new URL('./worker.js', import.meta.url);
    for (let i = 0; i < this.nWorkers; i++) {
      const w = new Worker(url, { workerData: { ctx: this.ctx } });
      w.on('message', (m: WorkerReply) => { const cb = this.callbacks.get(m.id); this.callbacks.delete(m.id); cb?.(m); });
      const fail = (e: unknown): void => {
        this.failure ??= e;
        for (const [id, cb] of this.callbacks) { this.callbacks.delete(id); cb({ id, error: { message: String((e as Error)?.message ?? e), name: 'Error' } }); }
      };
      w.once('error', fail);
      w.once('exit', (code) => { if (this.callbacks.size > 0) fail(new OstreeError('EIO', `commit worker exited unexpectedly (code ${code})`)); });
      this.workers.push(w);
    }
  }

  /** Wait for every submitted batch; throws the first writer error. */
  async finish(): Promise<void> {
    const paths = new LongPaths();
    try {
      for (const b of this.inline) {
        const before = { ...contentWrites };
        for (const f of b) {
          const r = storeFile(this.ctx, paths.short(f.path), f);
          f.checksum = typeof r === 'string' ? r : await r;
        }
        this.written.objects += contentWrites.objects - before.objects;
        this.written.bytes += contentWrites.bytes - before.bytes;
        this.onWritten(b.length);
      }
      await Promise.all(this.pending);
      if (this.failure !== null) throw this.failure;
    } finally {
      paths.close();
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
