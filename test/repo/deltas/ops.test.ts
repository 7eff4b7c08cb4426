/**
 * The delta part operation stream: every opcode executed against an in-memory sink, the
 * statistics `show` prints, and hostile streams (out-of-range offsets, objects overflowing
 * their size, unknown opcodes, dangling opens) refused before anything is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartBuilder } from '../../../src/repo/deltas/builder.js';
import { bsdiff } from '../../../src/repo/deltas/bsdiff.js';
import { executePart, type PartSink } from '../../../src/repo/deltas/ops.js';
import type { PartPayload } from '../../../src/repo/deltas/part.js';
import type { DeltaObject } from '../../../src/repo/deltas/superblock.js';
import type { FileHeader } from '../../../src/repo/objects/file-header.js';

const H: FileHeader = { uid: 0, gid: 0, mode: 0o100644, rdev: 0, symlinkTarget: '', xattrs: [] };
const OLD = Buffer.from('the old version of a file, long enough to be matched by the differ '.repeat(20));

function memorySink(): PartSink & { written: Map<string, Buffer | string> } {
  const written = new Map<string, Buffer | string>();
  return {
    written,
    has: () => false,
    writeMetadata: (o, d) => { written.set(o.checksum, Buffer.from(d)); },
    writeContent: (o, h, d) => { written.set(o.checksum, h.symlinkTarget !== '' ? `-> ${h.symlinkTarget}` : Buffer.concat(d)); },
    readContent: (c) => { assert.equal(c, '0'.repeat(64)); return OLD; },
  };
}

function obj(n: number, type: DeltaObject['type'] = 'file'): DeltaObject { return { type, checksum: String(n).repeat(64).slice(0, 64) }; }

function samplePart(): { payload: PartPayload; objects: DeltaObject[]; neu: Buffer } {
  const p = new PartBuilder();
  p.objects.push(obj(1, 'dirtree'));
  const meta = Buffer.from('dirtree bytes');
  p.op('S', meta.length, p.appendData(meta));
  const [mi, xi] = p.modeAndXattrs(H);
  p.objects.push(obj(2));
  p.op('S', mi, xi, 5, p.appendData(Buffer.from('hello')));
  const [li, lx] = p.modeAndXattrs({ ...H, mode: 0o120777 });
  p.objects.push(obj(3));
  p.op('S', li, lx, 6, p.appendData(Buffer.from('target')));
  const neu = Buffer.concat([Buffer.from('new header\n'), OLD]);
  p.objects.push(obj(4));
  p.op('r', p.appendData(Buffer.alloc(32)));
  p.op('o', mi, xi, neu.length);
  const patch = bsdiff(OLD, neu);
  p.op('B', p.appendData(patch), patch.length);
  p.op('c'); p.op('R');
  p.objects.push(obj(5));
  p.op('o', mi, xi, 8);
  p.op('w', 4, p.appendData(Buffer.from('abcd')));
  p.op('r', p.appendData(Buffer.alloc(32)));
  p.op('w', 4, 4); // from the read source: 'old ' at offset 4
  p.op('c');
  return { payload: p.payload(), objects: p.objects, neu };
}

test('every opcode builds its object', () => {
  const { payload, objects, neu } = samplePart();
  const sink = memorySink();
  const stats = executePart(payload, objects, sink);
  assert.deepEqual(stats, [3, 2, 2, 2, 1, 2, 1]);
  assert.equal(sink.written.get(obj(1).checksum)!.toString(), 'dirtree bytes');
  assert.equal(sink.written.get(obj(2).checksum)!.toString(), 'hello');
  assert.equal(sink.written.get(obj(3).checksum), '-> target');
  assert.ok((sink.written.get(obj(4).checksum) as Buffer).equals(neu));
  assert.equal(sink.written.get(obj(5).checksum)!.toString(), 'abcdold ');
});

test('a dry run (show) counts the operations and writes nothing', () => {
  const { payload, objects } = samplePart();
  assert.deepEqual(executePart(payload, objects, null), [3, 2, 2, 2, 1, 2, 1]);
});

function hostile(ops: number[], data: Buffer, objects: DeltaObject[], written = 0): () => void {
  const payload: PartPayload = { modes: [{ uid: 0, gid: 0, mode: 0o100644 }], xattrs: [[]], data, ops: Buffer.from(ops) };
  const sink = memorySink();
  return () => { try { executePart(payload, objects, sink); } finally { assert.equal(sink.written.size, written, 'nothing written past the error'); } };
}

test('hostile operation streams are refused', () => {
  const S = 'S'.charCodeAt(0); const o = 'o'.charCodeAt(0); const w = 'w'.charCodeAt(0); const c = 'c'.charCodeAt(0);
  assert.throws(hostile([S, 0, 0, 100, 0], Buffer.from('tiny'), [obj(1)]), /Invalid offset\/length/);
  assert.throws(hostile([S, 9, 0, 1, 0], Buffer.from('tiny'), [obj(1)]), /not in the part/);
  assert.throws(hostile([0x5a], Buffer.alloc(0), [obj(1)]), /Unknown opcode/);
  assert.throws(hostile([o, 0, 0, 2, w, 4, 0, c], Buffer.from('abcd'), [obj(1)]), /exceed its size/);
  assert.throws(hostile([o, 0, 0, 4, w, 2, 0, c], Buffer.from('abcd'), [obj(1)]), /has 2 of its 4 bytes/);
  assert.throws(hostile([o, 0, 0, 4], Buffer.alloc(0), [obj(1)]), /still open/);
  assert.throws(hostile([c], Buffer.alloc(0), [obj(1)]), /no object is open/);
  assert.throws(hostile([S, 0, 0, 1, 0, S, 0, 0, 1, 0], Buffer.from('ab'), [obj(1)], 1), /the part lists 1/);
  assert.throws(hostile([o, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x7f], Buffer.alloc(0), [obj(1)]), /exceeds the/);
  const B = 'B'.charCodeAt(0);
  assert.throws(hostile([o, 0, 0, 100, B, 0, 10, c], Buffer.alloc(10), [obj(1)]), /cannot come from a 10-byte patch/);
});
