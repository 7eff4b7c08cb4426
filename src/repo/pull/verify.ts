/**
 * Verification of what a pull receives before anything is stored: metadata objects must hash to
 * their name (detached metadata, which is not checksummed, must be a valid a{sv}); content
 * objects must hash, header plus data, to their name, with exactly the data size their header
 * declares. Compressed data is never inflated past that declared size: objects up to
 * INFLATE_IN_MEMORY_MAX are inflated in memory with that bound, larger ones are streamed
 * through the checksum, so a deflate bomb costs time, never memory.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { createHash, type Hash } from 'node:crypto';
import { OstreeError } from '../../errors.js';
import { isSymlinkMode, type ObjectType } from '../objects/common.js';
import { parseCommitMeta } from '../objects/commitmeta.js';
import { serializeFileHeader } from '../objects/file-header.js';
import { sha256hex } from '../objects/checksum.js';
import { INFLATE_IN_MEMORY_MAX } from './limits.js';
import { readSourceObject, type SourceObject } from './source.js';

export function corrupted(expected: string, actual: string): OstreeError {
  return new OstreeError('ECORRUPT', `Corrupted file object; checksum expected='${expected}' actual='${actual}'`);
}

function inflatesPast(checksum: string, declared: number): OstreeError {
  return new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: compressed data inflates past the ${declared} bytes its header declares`);
}

function badDeflate(checksum: string, e: unknown): OstreeError {
  return new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: bad compressed data: ${(e as Error).message}`);
}

function sizeMismatch(checksum: string, declared: number, actual: number): OstreeError {
  return new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: archive header says ${declared} bytes, data has ${actual}`);
}

/** A fetched metadata object: its sha256 is its name (detached metadata: a valid a{sv}). */
export function verifyMetadata(data: Buffer, checksum: string, type: ObjectType, source: string): void {
  if (type === 'commitmeta') {
    parseCommitMeta(data, `detached metadata ${checksum}.commitmeta from ${source}`);
    return;
  }
  const actual = sha256hex(data);
  if (actual !== checksum) throw new OstreeError('ECORRUPT', `Corrupted ${type} object ${checksum}.${type} from ${source}; checksum expected='${checksum}' actual='${actual}'`);
}

/** Whether a content object is small enough, declared and compressed, to be handled in memory. */
export function fitsInMemory(o: SourceObject): boolean {
  return o.size <= INFLATE_IN_MEMORY_MAX && o.fileSize - o.dataOffset <= INFLATE_IN_MEMORY_MAX;
}

/** Inflate raw deflate data that must come to exactly `declared` (<= INFLATE_IN_MEMORY_MAX) bytes. */
export function inflateBounded(raw: Buffer, declared: number, checksum: string): Buffer {
  if (declared > INFLATE_IN_MEMORY_MAX) throw new OstreeError('EINVAL', `internal: ${checksum}.file (${declared} bytes) is too large to inflate in memory`);
  let data: Buffer;
  try {
    data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, declared) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw inflatesPast(checksum, declared);
    throw badDeflate(checksum, e);
  }
  if (data.length !== declared) throw sizeMismatch(checksum, declared, data.length);
  return data;
}

/** The whole (uncompressed) data of a small source object (see fitsInMemory). */
export function readSmallData(o: SourceObject, checksum: string): Buffer {
  if (isSymlinkMode(o.header.mode)) return Buffer.alloc(0);
  const raw = fs.readFileSync(o.path);
  if (!o.compressed) return raw;
  return inflateBounded(raw.subarray(o.dataOffset), o.size, checksum);
}

/**
 * A source object's uncompressed data in chunks, ending with an error as soon as it exceeds the
 * size its header declares (or, at the end, when it falls short of it).
 */
export async function* dataChunks(o: SourceObject, checksum: string): AsyncGenerator<Buffer> {
  if (isSymlinkMode(o.header.mode)) return;
  const raw = fs.createReadStream(o.path, { start: o.dataOffset, highWaterMark: 1024 * 1024 });
  let total = 0;
  try {
    if (!o.compressed) {
      for await (const c of raw) { total += (c as Buffer).length; yield c as Buffer; }
    } else {
      // 256 KiB output chunks: with zlib's default 16 KiB, the per-chunk cost dominates (about 4x slower)
      const inflate = zlib.createInflateRaw({ chunkSize: 256 * 1024 });
      raw.on('error', (e) => inflate.destroy(e));
      raw.pipe(inflate);
      try {
        for await (const c of inflate) {
          total += (c as Buffer).length;
          if (total > o.size) throw inflatesPast(checksum, o.size);
          yield c as Buffer;
        }
      } catch (e) {
        if (e instanceof OstreeError) throw e;
        throw badDeflate(checksum, e);
      } finally { inflate.destroy(); }
    }
  } finally { raw.destroy(); }
  if (total !== o.size) throw sizeMismatch(checksum, o.size, total);
}

/** The hash of a content object's canonical header, ready for its data. */
export function headerHash(o: Pick<SourceObject, 'header'>): Hash {
  return createHash('sha256').update(serializeFileHeader(o.header));
}

/**
 * Verify a downloaded `.filez` (staged under `stageRoot/objects/`) against its name: the
 * canonical header plus the inflated data must hash to `checksum`, and the data must have the
 * size the header claims. Returns the uncompressed size, or null when the object is valid but
 * has bytes after its content (then it is rewritten rather than linked as is).
 */
export async function verifyArchiveObject(stageRoot: string, checksum: string): Promise<number | null> {
  const o = readSourceObject(stageRoot, 'archive', checksum);
  const hash = headerHash(o);
  if (isSymlinkMode(o.header.mode)) {
    if (o.fileSize !== o.dataOffset) return null;
  } else if (fitsInMemory(o)) {
    hash.update(readSmallData(o, checksum));
  } else {
    for await (const c of dataChunks(o, checksum)) hash.update(c);
  }
  const actual = hash.digest('hex');
  if (actual !== checksum) throw corrupted(checksum, actual);
  return o.size;
}
