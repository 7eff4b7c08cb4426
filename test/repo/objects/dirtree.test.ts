/** The dirtree model (src/repo/objects/dirtree.ts): the hand-written codec against the generic
 *  GVariant one, strict parsing (normal form, names, order, checksum sizes). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OstreeError } from '../../../src/errors.js';
import { deserialize, serialize } from '../../../src/glib/gvariant.js';
import { parseDirTree, serializeDirTree } from '../../../src/repo/objects/dirtree.js';

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
    assert.throws(() => parseDirTree(raw([[name, c]]), 'dirtree X'), isCorrupt(/dirtree X: Invalid .* \(an invalid file name\)/));
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
