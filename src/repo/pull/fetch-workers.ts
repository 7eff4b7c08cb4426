/**
 * Content objects of a large HTTP pull, fetched and stored by worker threads, each with its
 * own keep-alive connections: requests, inflating, hashing and writing are most of a pull's
 * work, and on one event loop they run one after another, while upstream spreads them over
 * threads. The event loop keeps the walk of the commit's metadata and hands checksums out in
 * batches (one message per batch and per answer: a message costs more than storing a small
 * object), at most PER_WORKER outstanding per worker so that a slow worker gets less. Small
 * pulls never start workers (ContentFetcher.fetch decides).
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { OstreeError } from '../../errors.js';
import { fetchContentObject, type ContentFetchContext } from './content-fetch.js';
import type { SharedSpace, SpaceBudget } from './space.js';
import type { FetcherOptions, HttpFetcher } from './transport.js';

/** What a fetch worker is started with (fetch-worker.ts). */
export interface FetchWorkerData { bases: string[]; fetcher: FetcherOptions; content: ContentFetchContext; space: SharedSpace }
/** One answer: the bytes written (-1: already there) or the error, and the bytes received. */
export interface FetchAnswer { checksum: string; written?: number; code?: string; message?: string; received: number }

/** Content objects a pull must have before workers are started: below it they cost more than they save. */
export const WORKERS_MIN_OBJECTS = 512;
/** Objects handed to one worker and not yet answered. */
const PER_WORKER = 64;

interface Waiter { resolve(n: number): void; reject(e: unknown): void }

class FetchWorker {
  readonly worker: Worker;
  outstanding = 0;
  batch: string[] = [];
  constructor(data: FetchWorkerData, onAnswers: (a: FetchAnswer[], w: FetchWorker) => void, onFail: (e: unknown) => void) {
    this.worker = new Worker(new URL('./fetch-worker.js', import.meta.url), { workerData: data });
    this.worker.on('message', (a: FetchAnswer[]) => onAnswers(a, this));
    this.worker.on('error', onFail);
    this.worker.on('exit', (code) => { if (code !== 0) onFail(new OstreeError('EIO', `fetch worker exited with code ${code}`)); });
  }
}

/** Fetches content objects on the event loop, or on workers once the pull is large enough. */
export class ContentFetcher {
  private workers: FetchWorker[] | null = null;
  private readonly waiting = new Map<string, Waiter>();
  private readonly queue: string[] = [];
  private flushQueued = false;
  private failed: unknown = null;
  /** Bytes received by the workers (the event loop's own are the fetcher's). */
  receivedByWorkers = 0;

  constructor(private readonly fetcher: HttpFetcher, private readonly content: ContentFetchContext, private readonly space: SpaceBudget,
    private readonly threads = Math.max(2, Math.min(4, os.availableParallelism()))) {}

  /** How many fetch() calls are worth having in flight: enough to keep every connection (and, with workers, every worker) busy. */
  get slots(): number { return this.workers === null ? this.fetcher.concurrency * 4 : this.workers.length * PER_WORKER + this.fetcher.concurrency; }

  /** Start the workers when `expected` objects are still to come and there are enough of them. */
  consider(expected: number): void {
    if (this.workers !== null || expected < WORKERS_MIN_OBJECTS || this.threads < 1) return;
    const perWorker = Math.max(2, Math.ceil(this.fetcher.concurrency / this.threads) + 1);
    const data: FetchWorkerData = { bases: this.fetcher.baseUrls(), fetcher: { ...this.fetcher.options, concurrency: perWorker }, content: this.content, space: this.space.shared() };
    this.workers = [];
    for (let i = 0; i < this.threads; i++) this.workers.push(new FetchWorker(data, (a, w) => this.answered(a, w), (e) => this.fail(e)));
  }

  /** Fetch and store `checksum`: the bytes written, -1 when it was already there. */
  fetch(checksum: string): Promise<number> {
    if (this.workers === null) return fetchContentObject(this.fetcher, this.content, this.space, checksum);
    if (this.failed !== null) return Promise.reject(this.failed);
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(checksum, { resolve, reject });
      this.queue.push(checksum);
      this.schedule();
    });
  }

  private schedule(): void {
    if (!this.flushQueued) { this.flushQueued = true; setImmediate(() => this.flush()); }
  }

  /** Hand queued checksums to the workers with room, one message each. */
  private flush(): void {
    this.flushQueued = false;
    for (const w of this.workers ?? []) {
      // refilled when half empty, so that messages stay few and large
      if (w.outstanding > PER_WORKER / 2) continue;
      while (w.outstanding < PER_WORKER && this.queue.length > 0) { w.batch.push(this.queue.pop()!); w.outstanding++; }
      if (w.batch.length > 0) { w.worker.postMessage(w.batch); w.batch = []; }
    }
  }

  private answered(answers: FetchAnswer[], w: FetchWorker): void {
    w.outstanding -= answers.length;
    for (const a of answers) {
      this.receivedByWorkers += a.received;
      const p = this.waiting.get(a.checksum);
      if (!p) continue;
      this.waiting.delete(a.checksum);
      if (a.written !== undefined) p.resolve(a.written);
      else p.reject(new OstreeError((a.code ?? 'EIO') as never, a.message ?? 'fetch failed in a worker'));
    }
    if (this.queue.length > 0) this.schedule();
  }

  private fail(e: unknown): void {
    if (this.failed === null) this.failed = e;
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = null;
    if (ws) await Promise.all(ws.map((w) => w.worker.terminate()));
  }
}
