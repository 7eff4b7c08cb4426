/**
 * The fetch queue of an HTTP pull: asynchronous jobs (one per object to fetch, scan or import)
 * run as they are discovered, the first failure stops new ones, and the pull waits until all
 * are done; and the counters behind the progress callback, reported at most every 100 ms.
 * The number of requests in flight is bounded by the transport, not here.
 */
import type { PullProgress } from './options.js';
import type { HttpFetcher } from './transport.js';

/** Runs async jobs, remembers the first failure, and resolves when all are done. */
export class TaskGroup {
  private pending = 0;
  error: unknown = null;
  private resolveIdle: (() => void) | null = null;

  spawn(fn: () => Promise<void>): void {
    if (this.error !== null) return;
    this.pending++;
    fn().catch((e) => { if (this.error === null) this.error = e; }).finally(() => {
      this.pending--;
      if (this.pending === 0 && this.resolveIdle) { const r = this.resolveIdle; this.resolveIdle = null; r(); }
    });
  }

  async wait(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((r) => { this.resolveIdle = r; });
    if (this.error !== null) throw this.error;
  }
}

/** What has been requested and fetched so far, and the throttled progress report. */
export class PullStats {
  metaFetched = 0;
  contentFetched = 0;
  metaRequested = 0;
  contentRequested = 0;
  outstandingMeta = 0;
  outstandingContent = 0;
  /** Objects taken from a --localcache-repo instead of fetched. */
  metaLocal = 0;
  contentLocal = 0;
  /** Uncompressed bytes of content written. */
  contentBytes = 0;
  readonly start = Date.now();
  private lastReport = 0;
  private readonly fetchers: Set<HttpFetcher>;

  constructor(fetchers: HttpFetcher[], private readonly progress: ((p: PullProgress) => void) | undefined) {
    this.fetchers = new Set(fetchers);
  }

  bytesTransferred(): number {
    let n = 0;
    for (const f of this.fetchers) n += f.bytesTransferred;
    return n;
  }

  report(done = false): void {
    if (!this.progress) return;
    const now = Date.now();
    if (!done && now - this.lastReport < 100) return;
    this.lastReport = now;
    this.progress({
      scanning: this.outstandingMeta > 0, outstandingFetches: this.outstandingMeta + this.outstandingContent,
      metadataFetched: this.metaFetched, contentFetched: this.contentFetched,
      fetched: this.metaFetched + this.contentFetched, requested: this.metaRequested + this.contentRequested,
      bytesTransferred: this.bytesTransferred(), elapsedMs: now - this.start, done,
    });
  }
}
