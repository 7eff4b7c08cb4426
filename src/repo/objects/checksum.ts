/**
 * Object checksums: SHA-256, written as 64 lowercase hex characters, stored inside objects as
 * 32 raw bytes.
 */
import { createRequire } from 'node:module';
import { OstreeError } from '../../errors.js';

const HEX64 = /^[0-9a-f]{64}$/;
export function isChecksum(s: string): boolean { return HEX64.test(s); }

export function validateChecksum(s: string, what = 'checksum'): string {
  if (!HEX64.test(s)) throw new OstreeError('EINVAL', `invalid ${what} '${s}': expected 64 lowercase hex characters`);
  return s;
}

export function checksumToBytes(s: string): Buffer {
  validateChecksum(s);
  return Buffer.from(s, 'hex');
}

/** The 32 raw bytes of a checksum field as hex; ECORRUPT naming the object and field otherwise. */
export function bytesToChecksum(b: Buffer, objName: string, field: string): string {
  if (b.length !== 32) throw new OstreeError('ECORRUPT', `${objName}: ${field} is ${b.length} bytes, expected a 32-byte checksum`);
  return b.toString('hex');
}

// node:crypto through require, on first use: its ESM import evaluates every export (~3 ms), which
// `admin status` (it parses commits, never hashes) should not pay.
let cryptoModule: typeof import('node:crypto') | null = null;
function nodeCrypto(): typeof import('node:crypto') {
  return (cryptoModule ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'));
}

/** A new SHA-256 hash (node:crypto loaded on first use). */
export function newSha256(): import('node:crypto').Hash {
  return nodeCrypto().createHash('sha256');
}

export function sha256hex(...parts: Buffer[]): string {
  const c = nodeCrypto();
  if (parts.length === 1 && typeof c.hash === 'function') return c.hash('sha256', parts[0]!, 'hex');
  const h = c.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** What the content writers feed: node:crypto's Hash, or a GatheringSha256. */
export interface Sha256 {
  update(data: Uint8Array): Sha256;
  digest(encoding: 'hex'): string;
}

const GATHER_MAX = 64 * 1024;
let gatherScratch: Buffer | null = null;

/**
 * A SHA-256 for the many small inputs of a commit (a header and a small file): the bytes are
 * gathered in a reused buffer and hashed by one call at digest(), which costs a fraction of a
 * Hash object (~1 µs against ~6 µs per file); past 64 KiB it hands over to a Hash. The buffer
 * is reused by the thread's next one (one opened while another is open gets a new buffer).
 */
export class GatheringSha256 implements Sha256 {
  private buf: Buffer;
  private len = 0;
  private hash: Sha256 | null = null;

  constructor() {
    this.buf = gatherScratch ?? Buffer.allocUnsafe(GATHER_MAX);
    gatherScratch = null;
  }

  update(data: Uint8Array): this {
    if (this.hash !== null) { this.hash.update(data); return this; }
    if (this.len + data.length <= this.buf.length) {
      this.buf.set(data, this.len);
      this.len += data.length;
      return this;
    }
    this.hash = newSha256().update(this.buf.subarray(0, this.len)).update(data);
    this.release();
    return this;
  }

  digest(encoding: 'hex'): string {
    if (this.hash !== null) return this.hash.digest(encoding);
    const c = nodeCrypto();
    const out = typeof c.hash === 'function' ? c.hash('sha256', this.buf.subarray(0, this.len), encoding) : newSha256().update(this.buf.subarray(0, this.len)).digest(encoding);
    this.release();
    return out;
  }

  /** Give the buffer to the thread's next GatheringSha256 (this one is done with it). */
  private release(): void {
    gatherScratch = this.buf;
  }
}
