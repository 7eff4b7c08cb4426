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
  const h = newSha256();
  for (const p of parts) h.update(p);
  return h.digest('hex');
}
