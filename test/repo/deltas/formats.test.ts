/**
 * Static delta formats: varints, bsdiff/bspatch, xz, the part payload and the superblock
 * (round trips, upstream's byte order rules, and hostile inputs refused with bounded work).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Variant } from '../../../src/glib/gvariant.js';
import { xzCompress, xzDecompress } from '../../../src/native/lzma.js';
import { bsdiff } from '../../../src/repo/deltas/bsdiff.js';
import { bspatch, writeOfft } from '../../../src/repo/deltas/bspatch.js';
import { encodePart, openPart, serializePartPayload } from '../../../src/repo/deltas/part.js';
import { parseSuperblock, serializeSuperblock, parseSigned, serializeSigned, readSuperblockBytes, type Superblock } from '../../../src/repo/deltas/superblock.js';
import { readVarUint, writeVarUint } from '../../../src/repo/deltas/varint.js';
import { serializeCommit } from '../../../src/repo/objects/commit.js';
import { sha256hex } from '../../../src/repo/objects/checksum.js';

test('varints round-trip and refuse truncation', () => {
  for (const n of [0, 1, 127, 128, 300, 2 ** 32, 2 ** 53 - 1]) {
    const out: number[] = [];
    writeVarUint(out, n);
    assert.deepEqual(readVarUint(Buffer.from(out), 0), [n, out.length]);
  }
  assert.throws(() => readVarUint(Buffer.from([0x80, 0x80]), 0), /Unexpected EOF reading varint/);
  assert.throws(() => readVarUint(Buffer.alloc(11, 0xff), 0), /longer than 10 bytes|out of range/);
});

test('bsdiff patches rebuild the new file; hostile patches are refused', () => {
  const old = Buffer.alloc(100_000);
  for (let i = 0; i < old.length; i++) old[i] = (i * 7919) & 0xff;
  const neu = Buffer.concat([Buffer.from('header\n'), old.subarray(0, 50_000), Buffer.from('middle'), old.subarray(50_000), Buffer.alloc(40)]);
  const patch = bsdiff(old, neu);
  assert.ok(bspatch(old, neu.length, patch).equals(neu));
  assert.ok(xzCompress(patch).length < 2000, 'shifted data must diff to a small patch');
  assert.ok(bspatch(Buffer.alloc(0), 3, bsdiff(Buffer.alloc(0), Buffer.from('abc'))).equals(Buffer.from('abc')));
  assert.throws(() => bspatch(old, neu.length, patch.subarray(0, 30)), /bsdiff patch failed/);
  const lying = Buffer.alloc(24);
  writeOfft(lying, 0, 1_000_000); // more diff bytes than the output has room for
  assert.throws(() => bspatch(old, 10, lying), /out of range/);
  writeOfft(lying, 0, -1);
  assert.throws(() => bspatch(old, 10, lying), /out of range/);
});

/** bspatch as the format defines it, byte by byte: the reference for the block fast path. */
function bspatchBytewise(old: Buffer, patch: Buffer, newSize: number): Buffer {
  const out = Buffer.alloc(newSize);
  let oldPos = 0; let newPos = 0; let p = 0;
  const offt = (at: number): number => { const v = patch.readUInt32LE(at) + (patch.readUInt32LE(at + 4) & 0x7fffffff) * 2 ** 32; return patch[at + 7]! & 0x80 ? -v : v; };
  while (newPos < newSize) {
    const add = offt(p); const copy = offt(p + 8); const seek = offt(p + 16); p += 24;
    for (let i = 0; i < add; i++) { const o = oldPos + i; out[newPos + i] = (patch[p + i]! + (o >= 0 && o < old.length ? old[o]! : 0)) & 0xff; }
    p += add; newPos += add; oldPos += add;
    patch.copy(out, newPos, p, p + copy); p += copy; newPos += copy; oldPos += seek;
  }
  return out;
}

test('bspatch: long unchanged runs (copied a block at a time) and reads around the old file agree with the bytewise definition', () => {
  const old = Buffer.alloc(20_000);
  for (let i = 0; i < old.length; i++) old[i] = (i * 31 + 7) & 0xff;
  const control = (add: number, copy: number, seek: number): Buffer => { const c = Buffer.alloc(24); writeOfft(c, 0, add); writeOfft(c, 8, copy); writeOfft(c, 16, seek); return c; };
  const diff = Buffer.alloc(10_000); // zero blocks, with one changed byte inside the third block
  diff[9_000] = 5;
  const patch = Buffer.concat([
    control(10_000, 3, -12_000), diff, Buffer.from('new'),
    // the old position is now before the start of the old file, then runs past its end
    control(4_100, 0, 25_000), Buffer.alloc(4_100),
    control(5_000, 0, 0), Buffer.alloc(5_000),
  ]);
  const size = 10_000 + 3 + 4_100 + 5_000;
  const want = bspatchBytewise(old, patch, size);
  assert.ok(bspatch(old, size, patch).equals(want));
  assert.equal(want[9_000], (old[9_000]! + 5) & 0xff);
});

test('xz round-trips through liblzma and bounds what it inflates', () => {
  const data = Buffer.from('static delta '.repeat(5000));
  const c = xzCompress(data);
  assert.ok(xzDecompress(c, data.length, 't').equals(data));
  assert.throws(() => xzDecompress(c, data.length - 1, 't'), /more than the/);
  assert.throws(() => xzDecompress(c.subarray(0, c.length - 4), data.length, 't'), /invalid xz data/);
  const bad = Buffer.from(c); bad[Math.floor(bad.length / 2)]! ^= 0xff;
  assert.throws(() => xzDecompress(bad, data.length, 't'), /invalid xz data/);
});

test('parts: stored form, checksum checked before anything is parsed', () => {
  const payload = serializePartPayload({ modes: [{ uid: 0, gid: 0, mode: 0o100644 }], xattrs: [[]], data: Buffer.from('hello'), ops: Buffer.from('S') });
  for (const comp of ['none', 'xz'] as const) {
    const stored = encodePart(payload, comp);
    const p = openPart(stored, sha256hex(stored), 'p');
    assert.equal(p.modes[0]!.mode, 0o100644);
    assert.equal(p.data.toString(), 'hello');
    assert.throws(() => openPart(stored, '0'.repeat(64), 'p'), /Checksum mismatch in static delta part/);
  }
  assert.throws(() => openPart(Buffer.from([0x7a, 1, 2]), null, 'p'), /Invalid compression type/);
});

function sampleSuperblock(swapped: boolean): Superblock {
  const commit = serializeCommit({ metadata: [], parent: null, related: [], subject: 's', body: '', timestamp: 1234n, rootTree: 'a'.repeat(64), rootMeta: 'b'.repeat(64) });
  return {
    metadata: [['ostree.endianness', new Variant('y', swapped ? 0x42 : 0x6c)]], timestamp: 1700000000n, from: null, to: sha256hex(commit), commit,
    parts: [{ version: 0, checksum: 'c'.repeat(64), size: 100n, usize: 300n, objects: [{ type: 'dirtree', checksum: 'd'.repeat(64) }, { type: 'file', checksum: 'e'.repeat(64) }] }],
    fallbacks: [{ type: 'file', checksum: 'f'.repeat(64), size: 5n, usize: 9n }], swapped,
  };
}

test('superblocks round-trip in both byte orders; the timestamp is big-endian', () => {
  for (const swapped of [false, true]) {
    const sb = sampleSuperblock(swapped);
    const bytes = serializeSuperblock(sb);
    const back = parseSuperblock(bytes);
    assert.deepEqual({ ...back, metadata: [] }, { ...sb, metadata: [] });
    assert.ok(serializeSuperblock(back).equals(bytes));
    assert.ok(bytes.includes(Buffer.from([0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00])), 'timestamp stored big-endian');
  }
  const wrapped = serializeSigned({ superblock: serializeSuperblock(sampleSuperblock(false)), signatures: [['ostree.sign.dummy', new Variant('aay', [Buffer.from('x')])]] });
  assert.equal(wrapped.subarray(0, 8).toString('latin1'), 'OSTSGNDT');
  assert.ok(parseSigned(wrapped) !== null);
  assert.equal(readSuperblockBytes(wrapped).signed?.signatures[0]![0], 'ostree.sign.dummy');
});

test('a superblock whose commit does not hash to TO is refused', () => {
  const sb = sampleSuperblock(false);
  const bytes = serializeSuperblock({ ...sb, to: '9'.repeat(64) });
  assert.throws(() => readSuperblockBytes(bytes), /does not have the checksum/);
  assert.throws(() => parseSuperblock(Buffer.from('garbage')), /malformed GVariant|Invalid/);
});
