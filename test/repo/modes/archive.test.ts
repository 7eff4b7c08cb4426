/** The archive backend's bounded inflation (src/repo/modes/archive.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { OstreeError } from '../../../src/errors.js';
import { INFLATE_IN_MEMORY_MAX, archive, inflateBounded } from '../../../src/repo/modes/archive.js';
import { serializeArchiveHeader } from '../../../src/repo/objects/file-header.js';
import { tempDir } from '../../common/tmp.js';

const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));

/** `mib` MiB of zeros as raw deflate, cheaply (one flushed MiB repeated, then a final block). */
function zeros(mib: number): Buffer {
  const seg = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  return Buffer.concat([...Array<Buffer>(mib).fill(seg), Buffer.from([0x03, 0x00])]);
}

/** A `.filez` declaring `declared` bytes with `body` as its deflate stream, in objects/ab/…. */
function filez(declared: number, body: Buffer): string {
  const d = tempDir('archive-test-');
  const p = path.join(d, 'objects', 'ab', `${'c'.repeat(62)}.filez`);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  const h = { uid: 0, gid: 0, mode: 0o100644, rdev: 0, symlinkTarget: '', xattrs: [] };
  fs.writeFileSync(p, Buffer.concat([serializeArchiveHeader(h, BigInt(declared)), body]));
  return p;
}

test('inflateBounded: exact size passes; more or less than declared is ECORRUPT; large sizes must stream', () => {
  const data = Buffer.from('hello '.repeat(1000));
  assert.deepEqual(inflateBounded(zlib.deflateRawSync(data), data.length, 'x.file'), data);
  assert.throws(() => inflateBounded(zlib.deflateRawSync(data), data.length - 1, 'x.file'), isErr('ECORRUPT', /x\.file: compressed data inflates to more than the 5999 bytes/));
  assert.throws(() => inflateBounded(zlib.deflateRawSync(data), data.length + 1, 'x.file'), isErr('ECORRUPT', /less than the 6001/));
  assert.throws(() => inflateBounded(Buffer.from('not deflate'), 10, 'x.file'), isErr('ECORRUPT', /corrupted compressed data/));
  assert.throws(() => inflateBounded(Buffer.alloc(0), INFLATE_IN_MEMORY_MAX + 1, 'x.file'), isErr('EINVAL', /too large to inflate in memory/));
  // A gigabyte of zeros against a small declared size stops at once, without the memory.
  const before = process.memoryUsage().rss;
  assert.throws(() => inflateBounded(zeros(1024), 4096, 'bomb.file'), isErr('ECORRUPT', /inflates to more than the 4096/));
  assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024);
});

test('readHeader refuses impossible sizes and bad header lengths; readData and openData are bounded', async () => {
  const p = filez(4096, zeros(1024));
  const c = archive.readHeader(p, 'cc.file');
  assert.equal(c.size, 4096);
  assert.equal(c.compressed, true);
  assert.throws(() => archive.readData(c), isErr('ECORRUPT', /abcc+\.file: compressed data inflates to more than the 4096/));
  const chunks: Buffer[] = [];
  await assert.rejects(async () => { for await (const b of archive.openData(c)) chunks.push(b as Buffer); }, isErr('ECORRUPT', /inflates to more than the 4096/));
  assert.equal(Buffer.concat(chunks).length, 0);
  // Streaming passes exactly the declared bytes of a good object.
  const good = archive.readHeader(filez(3 << 20, zeros(3)), 'g.file');
  let n = 0;
  for await (const b of archive.openData(good)) n += (b as Buffer).length;
  assert.equal(n, 3 << 20);
  // Corrupt deflate data in a stream names the object.
  const bad = archive.readHeader(filez(100, Buffer.from('garbage garbage')), 'b.file');
  await assert.rejects(async () => { for await (const _ of archive.openData(bad)) { /* drain */ } }, isErr('ECORRUPT', /corrupted compressed data/));
  // A header length pointing past the file.
  const q = filez(1, Buffer.alloc(0));
  const raw = fs.readFileSync(q);
  raw.writeUInt32BE(0x7fffffff, 0);
  fs.writeFileSync(q, raw);
  assert.throws(() => archive.readHeader(q, 'q.file'), isErr('ECORRUPT', /invalid archive header length/));
  const big = filez(0, Buffer.alloc(0));
  const b2 = fs.readFileSync(big);
  b2.writeBigUInt64BE(1n << 62n, 8);
  fs.writeFileSync(big, b2);
  assert.throws(() => archive.readHeader(big, 'big.file'), isErr('ECORRUPT', /impossible size/));
});
