/** Content object headers (src/repo/objects/file-header.ts): file header, archive header,
 *  bare-user metadata. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OstreeError } from '../../../src/errors.js';
import { serialize } from '../../../src/glib/gvariant.js';
import {
  parseArchiveHeader, parseBareUserMeta, parseFileHeader, serializeArchiveHeader, serializeBareUserMeta, serializeFileHeader,
} from '../../../src/repo/objects/file-header.js';

const isCorrupt = (re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === 'ECORRUPT' && (!re || re.test(e.message));

test('file header without xattrs (hand-written) equals the generic encoding', () => {
  for (const h of [
    { uid: 0, gid: 0, mode: 0o100644, rdev: 0, symlinkTarget: '', xattrs: [] },
    { uid: 1000, gid: 1000, mode: 0o120777, rdev: 0, symlinkTarget: 't'.repeat(400), xattrs: [] },
    { uid: 4294967295, gid: 7, mode: 0o120777, rdev: 0, symlinkTarget: 'ä/ü', xattrs: [] },
  ]) {
    const generic = serialize('(uuuusa(ayay))', [h.uid, h.gid, h.mode, h.rdev, h.symlinkTarget, []], { bigEndian: true });
    const ours = serializeFileHeader(h);
    assert.equal(ours.readUInt32BE(0), generic.length);
    assert.deepEqual(ours.subarray(8), generic);
    assert.deepEqual(parseFileHeader(ours).header, h);
  }
});

test('file header: framing (u32 BE length, 4 NUL), regular and symlink, checksum = sha256(header ‖ data)', () => {
  const h = { uid: 0, gid: 0, mode: 0o100644, rdev: 0, symlinkTarget: '', xattrs: [] };
  const framed = serializeFileHeader(h);
  assert.equal(framed.readUInt32BE(0), 18);
  assert.equal(framed.readUInt32BE(4), 0);
  assert.equal(framed.length, 26);
  const { header, rest } = parseFileHeader(Buffer.concat([framed, Buffer.from('data')]));
  assert.deepEqual(header, h);
  assert.equal(rest.toString(), 'data');
  const l = { ...h, mode: 0o120777, symlinkTarget: 'target' };
  assert.deepEqual(parseFileHeader(serializeFileHeader(l)).header, l);
  assert.throws(() => parseFileHeader(serializeFileHeader({ ...h, mode: 0o20644 }), 'file Z'), isCorrupt(/file Z: unsupported file mode/));
  assert.throws(() => parseFileHeader(Buffer.from([0, 0, 1, 0, 0, 0, 0, 0]), 'file Z'), isCorrupt(/invalid file header length/));
});

test('archive header carries the uncompressed size first', () => {
  const h = { uid: 5, gid: 6, mode: 0o100755, rdev: 0, symlinkTarget: '', xattrs: [['user.a', Buffer.from('b')]] as Array<[string, Buffer]> };
  const b = serializeArchiveHeader(h, 12345n);
  const p = parseArchiveHeader(Buffer.concat([b, Buffer.from('zz')]));
  assert.equal(p.size, 12345n);
  assert.deepEqual(p.header, h);
  assert.equal(p.headerLength, b.length);
});

test('bare-user metadata xattr round trip', () => {
  const m = { uid: 1000, gid: 1000, mode: 0o100640, xattrs: [['user.foo', Buffer.from('bar')]] as Array<[string, Buffer]> };
  // value written by upstream 2022.7 for this file (getfattr -e base64): AAAD6AAAA+gAAIGgdXNlci5mb28AYmFyCQ0=
  assert.equal(serializeBareUserMeta(m).toString('base64'), 'AAAD6AAAA+gAAIGgdXNlci5mb28AYmFyCQ0=');
  assert.deepEqual(parseBareUserMeta(serializeBareUserMeta(m)), m);
});
