/**
 * `archive` mode (`archive-z2`): a content object is a `.filez` file, the archive header
 * (uncompressed size, uid, gid, mode, rdev, symlink target, xattrs) followed by the data as a
 * raw deflate stream. Objects are never hardlinked into a checkout.
 *
 * Inflating is bounded: never more than the size the header declares (a deflate stream that
 * inflates further is corrupt, refused as soon as it passes the declared size), in memory
 * never more than INFLATE_IN_MEMORY_MAX whatever the header says, and streamed in small chunks
 * otherwise. A `.filez` that inflates to gigabytes of zeros costs no memory and little time.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { OstreeError } from '../../errors.js';
import { isSymlinkMode } from '../objects/common.js';
import { parseArchiveHeader, serializeArchiveHeader, type FileHeader } from '../objects/file-header.js';
import { contentObjName, emptyStream, openObjectFile, readExactly, type ModeBackend, type RegularWrite, type StoredContent } from './backend.js';
import { modeTraits } from './mode.js';

// node:zlib through require, on first use: most commands that load the repository never touch
// an archive object, and its ESM import costs a few milliseconds of start-up.
let zlibModule: typeof import('node:zlib') | null = null;
function zlib(): typeof import('node:zlib') {
  return (zlibModule ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib'));
}

/** Files up to this size are compressed in one call when committed; larger ones stream. */
const DEFLATE_INLINE_MAX = 4 * 1024 * 1024;
/** Largest object inflated into memory at once (larger ones must be streamed). */
export const INFLATE_IN_MEMORY_MAX = 64 * 1024 * 1024;
/** Largest archive header accepted (its xattrs included). */
const MAX_HEADER = 16 * 1024 * 1024;

export const archive: ModeBackend = {
  traits: modeTraits('archive'),

  storeRegular(w: RegularWrite): void | Promise<void> {
    const size = fs.fstatSync(w.fdIn).size;
    if (size > DEFLATE_INLINE_MAX) return storeStreaming(w, size);
    const data = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) { const n = fs.readSync(w.fdIn, data, got, size - got, null); if (n === 0) break; got += n; }
    if (got !== size || fs.readSync(w.fdIn, w.buf, 0, 1, null) !== 0) throw new OstreeError('EIO', `file '${w.src}' changed size while being committed`);
    w.hash.update(data);
    const hdr = serializeArchiveHeader(w.header, BigInt(size));
    const z = zlib().deflateRawSync(data);
    const fd = fs.openSync(w.tmp, 'wx', 0o644);
    try {
      fs.writeSync(fd, hdr);
      fs.writeSync(fd, z);
      fs.fchmodSync(fd, 0o644);
    } finally {
      fs.closeSync(fd);
    }
  },

  storeSymlink(tmp: string, _target: string, header: FileHeader): void {
    fs.writeFileSync(tmp, serializeArchiveHeader(header, 0n), { flag: 'wx', mode: 0o644 });
  },

  readHeader(p: string, objName: string): StoredContent {
    const { fd, st } = openObjectFile(p, objName);
    try {
      if (st.size < 8) throw new OstreeError('ECORRUPT', `${objName}: truncated archive object (${st.size} bytes)`);
      const len = readExactly(fd, 8, 0, objName).readUInt32BE(0);
      if (len > MAX_HEADER || 8 + len > st.size) throw new OstreeError('ECORRUPT', `${objName}: invalid archive header length ${len}`);
      const { header, size, headerLength } = parseArchiveHeader(readExactly(fd, 8 + len, 0, objName), objName);
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new OstreeError('ECORRUPT', `${objName}: archive header declares an impossible size ${size}`);
      return { header, size: isSymlinkMode(header.mode) ? 0 : Number(size), objectPath: p, dataOffset: headerLength, compressed: true, mode: 'archive' };
    } finally {
      fs.closeSync(fd);
    }
  },

  readData(c: StoredContent): Buffer {
    if (isSymlinkMode(c.header.mode)) return Buffer.alloc(0);
    const objName = contentObjName(c.objectPath);
    const { fd, st } = openObjectFile(c.objectPath, objName);
    let body: Buffer;
    try {
      // A sane deflate stream is barely larger than its output; anything else is not read whole.
      if (c.size > INFLATE_IN_MEMORY_MAX || st.size - c.dataOffset > 2 * INFLATE_IN_MEMORY_MAX) throw tooLargeForMemory(objName, c.size);
      body = readExactly(fd, st.size - c.dataOffset, c.dataOffset, objName);
    } finally {
      fs.closeSync(fd);
    }
    return inflateBounded(body, c.size, objName);
  },

  openData(c: StoredContent): Readable {
    if (isSymlinkMode(c.header.mode)) return emptyStream();
    const objName = contentObjName(c.objectPath);
    const { fd } = openObjectFile(c.objectPath, objName);
    return inflateStream(fs.createReadStream('', { fd, start: c.dataOffset, highWaterMark: 256 * 1024 }), c.size, objName);
  },

  checkoutLinkable(): boolean { return false; },
};

/**
 * Output chunk size of streamed inflates: with zlib's default 16 KiB the per-chunk cost
 * dominates (pull measured 256 KiB chunks about 4x faster); memory stays at a few chunks.
 */
const INFLATE_CHUNK = 256 * 1024;

/**
 * The inflated data of the raw deflate stream `raw` (a file, an HTTP body), which must be exactly
 * `declared` bytes: the stream fails (ECORRUPT naming `objName`) as soon as the output passes
 * `declared`, at its end if it is short, and on bad data. Memory stays at a few chunks. This is
 * the one streamed inflate of content data (checkout, cat, pull, pull-local and fsck use it).
 */
export function inflateStream(raw: Readable, declared: number, objName: string): Readable {
  const inflate = zlib().createInflateRaw({ chunkSize: INFLATE_CHUNK });
  const limit = new SizeLimit(declared, objName);
  // Registered before pipeline's own listeners: the consumer sees an error naming the object.
  inflate.once('error', (e) => limit.destroy(badDeflate(objName, e)));
  return pipeline(raw, inflate, limit, () => { /* errors reach the consumer through `limit` */ });
}

/**
 * Inflate a raw deflate stream held in memory that must give exactly `declared` bytes; stops
 * (ECORRUPT) as soon as the output passes `declared`, so memory never exceeds it. The one
 * in-memory inflate of content data; callers stream (inflateStream) above their own threshold,
 * and never above INFLATE_IN_MEMORY_MAX.
 */
export function inflateBounded(body: Buffer, declared: number, objName: string): Buffer {
  if (declared > INFLATE_IN_MEMORY_MAX) throw tooLargeForMemory(objName, declared);
  let out: Buffer;
  try {
    out = zlib().inflateRawSync(body, { maxOutputLength: Math.max(1, declared + 1) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw inflatesBeyond(objName, declared);
    throw badDeflate(objName, e);
  }
  if (out.length > declared) throw inflatesBeyond(objName, declared);
  if (out.length < declared) throw new OstreeError('ECORRUPT', `${objName}: inflates to ${out.length} bytes, less than the ${declared} its header declares`);
  return out;
}

function badDeflate(objName: string, e: unknown): OstreeError {
  return new OstreeError('ECORRUPT', `${objName}: corrupted compressed data: ${(e as Error).message}`, { cause: e });
}

function tooLargeForMemory(objName: string, size: number): OstreeError {
  return new OstreeError('EINVAL', `${objName}: ${size} bytes is too large to inflate in memory (at most ${INFLATE_IN_MEMORY_MAX}); read it as a stream`);
}

function inflatesBeyond(objName: string, declared: number): OstreeError {
  return new OstreeError('ECORRUPT', `${objName}: compressed data inflates to more than the ${declared} bytes its header declares (corrupt or malicious object; run 'ostree fsck')`);
}

/** Passes at most `declared` bytes and fails the stream past it, or at the end if short. */
export class SizeLimit extends Transform {
  private seen = 0;
  constructor(private readonly declared: number, private readonly objName: string) { super(); }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.declared) { cb(inflatesBeyond(this.objName, this.declared)); return; }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.seen < this.declared) cb(new OstreeError('ECORRUPT', `${this.objName}: inflates to ${this.seen} bytes, less than the ${this.declared} its header declares`));
    else cb();
  }
}

/** Compress a large file while reading it (the commit worker awaits this one file). */
async function storeStreaming(w: RegularWrite, size: number): Promise<void> {
  const out = fs.createWriteStream(w.tmp, { flags: 'wx', mode: 0o644 });
  const deflate = zlib().createDeflateRaw();
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    deflate.on('error', reject);
  });
  out.write(serializeArchiveHeader(w.header, BigInt(size)));
  deflate.pipe(out);
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let total = 0;
  try {
    for (;;) {
      const n = await new Promise<number>((res, rej) => fs.read(w.fdIn, buf, 0, buf.length, null, (err, k) => (err ? rej(err) : res(k))));
      if (n === 0) break;
      const chunk = Buffer.from(buf.subarray(0, n));
      w.hash.update(chunk);
      total += n;
      if (!deflate.write(chunk)) await new Promise((r) => deflate.once('drain', r));
    }
    deflate.end();
    await done;
    if (total !== size) throw new OstreeError('EIO', `file '${w.src}' changed size while being committed (expected ${size} bytes, read ${total})`);
  } catch (e) {
    out.destroy();
    throw e;
  }
}
