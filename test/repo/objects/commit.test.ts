/** The commit model (src/repo/objects/commit.ts) and the order of its metadata keys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OstreeError } from '../../../src/errors.js';
import { Variant, serialize } from '../../../src/glib/gvariant.js';
import { glibHashTableOrder } from '../../../src/glib/ghash-order.js';
import { sha256hex } from '../../../src/repo/objects/checksum.js';
import { commitContentChecksum, parseCommit, serializeCommit, type CommitObject } from '../../../src/repo/objects/commit.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const isCorrupt = (re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === 'ECORRUPT' && (!re || re.test(e.message));

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

test('GVariantDict key order matches upstream commits (3 and 13 keys, with rehash)', () => {
  assert.deepEqual(glibHashTableOrder(['version', 'ostree.linux', 'ostree.bootable']), ['ostree.linux', 'version', 'ostree.bootable']);
  assert.deepEqual(
    glibHashTableOrder(['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'version', 'zz', 'ostree.linux', 'ostree.bootable']),
    ['k6', 'k5', 'ostree.bootable', 'k4', 'zz', 'k3', 'k9', 'k2', 'k8', 'k1', 'k7', 'version', 'ostree.linux'],
  );
});
