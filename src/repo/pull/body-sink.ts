/**
 * Where one download's body goes, across the attempts of a request: memory, or a file when it
 * is (or may be) large. A response that ends early keeps what it delivered, and the retry asks
 * for the rest (`Range: bytes=N-`): a server that cuts every response short (upstream's
 * trivial-httpd --force-range-requests, a flaky proxy) still gets each object through. A
 * server that answers the range with a full 200 starts the body over. The size bound holds for
 * the whole body, whatever the server declares.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';

export class BodySink {
  private chunks: Buffer[] = [];
  private fd = -1;
  private useFile: boolean | null = null;
  /** Bytes of the body held so far. */
  size = 0;

  /** `toFile`: write there unless the declared size is at most `memLimit` (then memory). */
  constructor(private readonly toFile: string | undefined, private readonly memLimit: number, private readonly maxSize: number, private readonly url: () => string) {}

  /** The `Range` header for the next attempt, when part of the body is already here. */
  rangeHeader(): string | null { return this.size > 0 ? `bytes=${this.size}-` : null; }

  /**
   * A response starts. `status` 206 with `contentRange` continues the body if it starts where
   * ours ends; anything else restarts it. `declaredTotal` is the whole body's announced size.
   */
  begin(status: number, contentLength: number | undefined, contentRange: string | undefined): void {
    let total = contentLength;
    let resumed = false;
    if (status === 206 && contentRange !== undefined) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange.trim());
      if (m && Number(m[1]) === this.size) { resumed = true; total = m[3] === '*' ? undefined : Number(m[3]); }
    }
    if (!resumed) this.reset();
    if (total !== undefined && total > this.maxSize) throw tooLarge(this.url(), this.maxSize);
    if (this.useFile === null) this.useFile = this.toFile !== undefined && !(total !== undefined && total <= this.memLimit);
    if (this.useFile) {
      fs.mkdirSync(path.dirname(this.toFile!), { recursive: true });
      this.fd = fs.openSync(this.toFile!, this.size > 0 ? 'a' : 'w', 0o644);
    }
  }

  write(c: Buffer): void {
    this.size += c.length;
    if (this.size > this.maxSize) throw tooLarge(this.url(), this.maxSize);
    if (this.fd < 0) { this.chunks.push(c); return; }
    let off = 0;
    while (off < c.length) off += fs.writeSync(this.fd, c, off, c.length - off);
  }

  /** The attempt is over (the body kept for a resume). */
  pause(): void {
    if (this.fd >= 0) { try { fs.closeSync(this.fd); } catch { /* closed */ } this.fd = -1; }
  }

  /** The whole body: in memory, or `inFile` when it went to the file. */
  finish(inFile: Buffer): Buffer {
    this.pause();
    // Copied even when it came in one read: that read's buffer may hold more (headers, the
    // next response), and a body kept as a view of it would pin all of it until stored
    return this.useFile ? inFile : Buffer.concat(this.chunks);
  }

  private reset(): void {
    this.pause();
    this.chunks = [];
    this.size = 0;
    this.useFile = null;
  }
}

export function tooLarge(url: string, maxSize: number): OstreeError {
  return new OstreeError('ECORRUPT', `URI ${url} exceeded maximum size of ${maxSize} bytes (the server sent more than this object may hold)`);
}
