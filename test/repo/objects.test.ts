import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OstreeError } from '../../src/errors.js';
import { Variant } from '../../src/glib/gvariant.js';
import {
  parseArchiveHeader, parseBareUserMeta, parseCommit, parseDirMeta, parseDirTree, parseFileHeader, serializeArchiveHeader,
  serializeBareUserMeta, serializeCommit, serializeDirMeta, serializeDirTree, serializeFileHeader, sha256hex,
  commitContentChecksum, type CommitObject,
} from '../../src/repo/objects.js';
import { deserialize, serialize } from '../../src/glib/gvariant.js';
import { glibHashTableOrder } from '../../src/glib/ghash-order.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const isCorrupt = (re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === 'ECORRUPT' && (!re || re.test(e.message));

test('dirtree round trip sorts entries by byte order', () => {
  const t = { files: [{ name: 'b', checksum: A }, { name: 'B', checksum: B }, { name: 'ä', checksum: A }], dirs: [{ name: 'z', treeChecksum: A, metaChecksum: B }] };
  const bytes = serializeDirTree(t);
  const back = parseDirTree(bytes);
  assert.deepEqual(back.files.map((f) => f.name), ['B', 'b', 'ä']);
  assert.deepEqual(back.dirs, t.dirs);
  assert.deepEqual(serializeDirTree(back), bytes);
});

test('dirtree validation: bad names, unsorted or duplicate entries, short checksums', () => {
  const raw = (files: Array<[string, Buffer]>) => serialize('(a(say)a(sayay))', [files, []], { bigEndian: true });
  const c = Buffer.alloc(32);
  for (const name of ['', '.', '..', 'a/b']) {
    assert.throws(() => parseDirTree(raw([[name, c]]), 'dirtree X'), isCorrupt(/dirtree X: invalid file name/));
  }
  assert.throws(() => parseDirTree(raw([['b', c], ['a', c]]), 'dirtree X'), isCorrupt(/not sorted/));
  assert.throws(() => parseDirTree(raw([['a', c], ['a', c]]), 'dirtree X'), isCorrupt(/duplicated/));
  assert.throws(() => parseDirTree(raw([['a', Buffer.alloc(31)]]), 'dirtree X'), isCorrupt(/31 bytes/));
  assert.throws(() => parseDirTree(Buffer.from([1, 2, 3]), 'dirtree X'), isCorrupt(/^dirtree X/));
});

test('dirtree codec agrees byte for byte with the generic GVariant codec (1-, 2- and 4-byte offsets)', () => {
  const T = '(a(say)a(sayay))';
  const c = 'ab'.repeat(32);
  for (const n of [0, 1, 3, 40, 1200]) {
    const t = {
      files: Array.from({ length: n }, (_, i) => ({ name: `file-${String(i).padStart(4, '0')}-${'x'.repeat(i % 50)}`, checksum: c })),
      dirs: Array.from({ length: n % 7 }, (_, i) => ({ name: `dir${i}`, treeChecksum: A, metaChecksum: B })),
    };
    const generic = serialize(T, [
      t.files.map((f) => [f.name, Buffer.from(f.checksum, 'hex')]),
      t.dirs.map((d) => [d.name, Buffer.from(d.treeChecksum, 'hex'), Buffer.from(d.metaChecksum, 'hex')]),
    ], { bigEndian: true });
    const ours = serializeDirTree(t);
    assert.deepEqual(ours, generic, `${n} files`);
    assert.deepEqual(parseDirTree(ours), t);
    const [gf, gd] = deserialize(T, ours, { bigEndian: true }) as [Array<[string, Buffer]>, Array<[string, Buffer, Buffer]>];
    assert.deepEqual(gf.map(([name]) => name), t.files.map((f) => f.name));
    assert.equal(gd.length, t.dirs.length);
  }
  assert.ok(serializeDirTree({ files: Array.from({ length: 1200 }, (_, i) => ({ name: `f${i}`.padEnd(60, 'y'), checksum: c })), dirs: [] }).length > 0xffff, 'exercise 4-byte offsets');
  // Trailing garbage breaks the framing or the normal form.
  const bytes = serializeDirTree({ files: [{ name: 'a', checksum: c }], dirs: [] });
  assert.throws(() => parseDirTree(Buffer.concat([bytes, Buffer.from([0])]), 'x.dirtree'), isCorrupt(/^x\.dirtree/));
  assert.throws(() => serializeDirTree({ files: [{ name: 'a', checksum: 'zz' }], dirs: [] }), /invalid checksum of 'a'/);
});

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

test('dirtree: non-minimal framing offsets are not normal form; invalid UTF-8 and inner NUL are rejected', () => {
  const c = Buffer.alloc(32, 0xab);
  // One file entry ('a', c): minimal form has 1-byte offsets everywhere.
  const good = serialize('(a(say)a(sayay))', [[['a', c]], []], { bigEndian: true });
  assert.deepEqual(parseDirTree(good, 'g.dirtree'), { files: [{ name: 'a', checksum: 'ab'.repeat(32) }], dirs: [] });
  // An array framed with a 2-byte offset where 1 byte fits (254-byte element: 255 bytes minimal,
  // 256 as stored) parses consistently but is not the normal form.
  const entry = Buffer.concat([Buffer.from('n'.repeat(220) + '\0'), c, Buffer.from([221])]);
  assert.equal(entry.length, 254);
  const arr = Buffer.concat([entry, Buffer.from([254, 0])]);
  const top = Buffer.concat([arr, Buffer.from([0x00, 0x01])]); // files array ends at 256, 2-byte offset
  assert.throws(() => parseDirTree(top, 'w.dirtree'), /w\.dirtree: Not normal form/);
  // The same with minimal framing is fine.
  const arrMin = Buffer.concat([entry, Buffer.from([254])]);
  const topMin = Buffer.concat([arrMin, Buffer.from([255, 0])]); // 257 bytes: 2-byte top-level offset
  assert.equal(parseDirTree(topMin, 'm.dirtree').files[0]!.name, 'n'.repeat(220));
  assert.deepEqual(topMin, serialize('(a(say)a(sayay))', [[['n'.repeat(220), c]], []], { bigEndian: true }));
  // Invalid UTF-8 (overlong '/') and a NUL inside a name.
  for (const bad of [Buffer.from([0xc0, 0xaf]), Buffer.from('a\0b')]) {
    const ent = Buffer.concat([bad, Buffer.from([0]), c, Buffer.from([bad.length + 1])]);
    const a = Buffer.concat([ent, Buffer.from([ent.length])]);
    const t = Buffer.concat([a, Buffer.from([a.length])]);
    assert.throws(() => parseDirTree(t, 'u.dirtree'), (e: unknown) => e instanceof OstreeError && e.code === 'ECORRUPT', bad.toString('hex'));
  }
});

test('dirmeta round trip with xattrs (names NUL-terminated on the wire, sorted)', () => {
  const m = { uid: 1, gid: 2, mode: 0o40700, xattrs: [['user.z', Buffer.from('1')], ['security.selinux', Buffer.from('ctx\0')]] as Array<[string, Buffer]> };
  const b = serializeDirMeta(m);
  const back = parseDirMeta(b);
  assert.deepEqual(back.xattrs.map(([n]) => n), ['security.selinux', 'user.z']);
  assert.ok(b.includes(Buffer.from('user.z\0')));
  assert.throws(() => parseDirMeta(serializeDirMeta({ ...m, mode: 0o100644 })), isCorrupt(/not a directory/));
});

test('commit round trip, parent optional, content checksum', () => {
  const c: CommitObject = {
    metadata: [['version', new Variant('s', '1')]], parent: null, related: [], subject: 's', body: '',
    timestamp: 1577836800n, rootTree: A, rootMeta: B,
  };
  assert.deepEqual(parseCommit(serializeCommit(c)), c);
  const withParent = { ...c, parent: B };
  assert.deepEqual(parseCommit(serializeCommit(withParent)), withParent);
  assert.equal(commitContentChecksum(c), sha256hex(Buffer.from(A, 'hex'), Buffer.from(B, 'hex')));
  const bad = serialize('(a{sv}aya(say)sstayay)', [[], Buffer.alloc(5), [], '', '', 0n, Buffer.alloc(32), Buffer.alloc(32)], { bigEndian: true });
  assert.throws(() => parseCommit(bad, 'commit Y'), isCorrupt(/commit Y: parent is 5 bytes/));
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

test('GVariantDict key order matches upstream commits (3 and 13 keys, with rehash)', () => {
  assert.deepEqual(glibHashTableOrder(['version', 'ostree.linux', 'ostree.bootable']), ['ostree.linux', 'version', 'ostree.bootable']);
  assert.deepEqual(
    glibHashTableOrder(['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'version', 'zz', 'ostree.linux', 'ostree.bootable']),
    ['k6', 'k5', 'ostree.bootable', 'k4', 'zz', 'k3', 'k9', 'k2', 'k8', 'k1', 'k7', 'version', 'ostree.linux'],
  );
});
