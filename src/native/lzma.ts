/**
 * xz (LZMA2) compression through the system's liblzma (liblzma.so.5), with koffi: the
 * compression of static delta parts ('x'). Node has no xz codec; liblzma is the library
 * upstream links, on every machine that has ostree, so this needs no npm package.
 *
 * Only liblzma's one-shot buffer calls are used (no lzma_stream struct to marshal):
 * - compress: lzma_easy_buffer_encode at preset 8 with a CRC64 check, as upstream's compressor;
 * - decompress: the uncompressed size is read from the stream's own index (footer → index →
 *   records), refused above the caller's bound before anything is allocated, and then
 *   lzma_stream_buffer_decode fills exactly that buffer (liblzma checks the index against the
 *   data, so a lying index is an error, not an overflow). The decoder's memory is capped at
 *   100 MiB, as upstream's.
 */
import { createRequire } from 'node:module';
import type * as KoffiNS from 'koffi';
import { OstreeError } from '../errors.js';

type NativeFn = (...args: any[]) => any;
interface Lzma { encode: NativeFn; decode: NativeFn; bound: NativeFn }

let lzmaCache: Lzma | null = null;

function lzma(): Lzma {
  if (lzmaCache !== null) return lzmaCache;
  const koffi = createRequire(import.meta.url)('koffi') as typeof KoffiNS;
  let lib: KoffiNS.LibraryHandle;
  try { lib = koffi.load('liblzma.so.5'); } catch (e) {
    throw new OstreeError('EIO', `cannot load liblzma.so.5 (xz) for static deltas: ${(e as Error).message}; install liblzma5`);
  }
  lzmaCache = {
    encode: lib.func('int lzma_easy_buffer_encode(uint32_t preset, int check, void *allocator, const uint8_t *in, size_t in_size, void *out, void *out_pos, size_t out_size)'),
    decode: lib.func('int lzma_stream_buffer_decode(void *memlimit, uint32_t flags, void *allocator, const uint8_t *in, void *in_pos, size_t in_size, void *out, void *out_pos, size_t out_size)'),
    bound: lib.func('size_t lzma_stream_buffer_bound(size_t uncompressed_size)'),
  };
  return lzmaCache;
}

const LZMA_OK = 0;
const LZMA_STREAM_END = 1;
const LZMA_CHECK_CRC64 = 4;
const PRESET = 8;
const DECODER_MEMLIMIT = 100n * 1024n * 1024n;

function sizeCell(v = 0): Buffer { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; }
function cellValue(b: Buffer): number { return Number(b.readBigUInt64LE(0)); }

/** `data` as one xz stream. */
export function xzCompress(data: Buffer): Buffer {
  const l = lzma();
  const cap = Number(l.bound(data.length));
  const out = Buffer.alloc(cap);
  const pos = sizeCell();
  const rc = l.encode(PRESET, LZMA_CHECK_CRC64, null, data, data.length, out, pos, cap);
  if (rc !== LZMA_OK) throw new OstreeError('EIO', `xz compression failed (liblzma error ${rc})`);
  return out.subarray(0, cellValue(pos));
}

function badXz(what: string, why: string): OstreeError {
  return new OstreeError('ECORRUPT', `${what}: invalid xz data (${why})`);
}

/** A multibyte integer of the xz format at `pos` (at most 9 bytes). */
function readXzVli(b: Buffer, pos: number, what: string): [number, number] {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (pos + i >= b.length) throw badXz(what, 'truncated index');
    const byte = b[pos + i]!;
    v += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return [v, pos + i + 1];
  }
  throw badXz(what, 'index integer too long');
}

/** The uncompressed size an xz stream's index declares (sum of its blocks' records). */
export function xzDeclaredSize(data: Buffer, what: string): number {
  if (data.length < 32 || data.subarray(0, 6).toString('latin1') !== '\xfd7zXZ\0') throw badXz(what, 'no xz stream header');
  const footer = data.length - 12;
  if (data.subarray(data.length - 2).toString('latin1') !== 'YZ') throw badXz(what, 'no xz stream footer (truncated?)');
  const indexSize = (data.readUInt32LE(footer + 4) + 1) * 4;
  const index = footer - indexSize;
  if (index < 12 || data[index] !== 0) throw badXz(what, 'bad index position');
  let [records, pos] = readXzVli(data, index + 1, what);
  let total = 0;
  for (; records > 0; records--) {
    let unpadded: number; let size: number;
    [unpadded, pos] = readXzVli(data, pos, what);
    [size, pos] = readXzVli(data, pos, what);
    if (unpadded === 0 || pos > footer) throw badXz(what, 'bad index record');
    total += size;
  }
  return total;
}

/** Decompress one xz stream whose declared size is at most `maxSize` (else an error). */
export function xzDecompress(data: Buffer, maxSize: number, what: string): Buffer {
  const size = xzDeclaredSize(data, what);
  if (size > maxSize) throw new OstreeError('ECORRUPT', `${what}: declares ${size} uncompressed bytes, more than the ${maxSize} allowed`);
  const l = lzma();
  const out = Buffer.alloc(Math.max(size, 1));
  const memlimit = Buffer.alloc(8); memlimit.writeBigUInt64LE(DECODER_MEMLIMIT);
  const inPos = sizeCell(); const outPos = sizeCell();
  const rc = l.decode(memlimit, 0, null, data, inPos, data.length, out, outPos, size);
  if (rc !== LZMA_OK && rc !== LZMA_STREAM_END) throw badXz(what, `liblzma error ${rc}`);
  if (cellValue(inPos) !== data.length) throw badXz(what, 'trailing data after the stream');
  if (cellValue(outPos) !== size) throw badXz(what, 'size differs from its index');
  return out.subarray(0, size);
}
