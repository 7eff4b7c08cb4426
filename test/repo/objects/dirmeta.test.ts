/** The dirmeta model (src/repo/objects/dirmeta.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OstreeError } from '../../../src/errors.js';
import { parseDirMeta, serializeDirMeta } from '../../../src/repo/objects/dirmeta.js';

const isCorrupt = (re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === 'ECORRUPT' && (!re || re.test(e.message));

test('dirmeta round trip with xattrs (names NUL-terminated on the wire, sorted)', () => {
  const m = { uid: 1, gid: 2, mode: 0o40700, xattrs: [['user.z', Buffer.from('1')], ['security.selinux', Buffer.from('ctx\0')]] as Array<[string, Buffer]> };
  const b = serializeDirMeta(m);
  const back = parseDirMeta(b);
  assert.deepEqual(back.xattrs.map(([n]) => n), ['security.selinux', 'user.z']);
  assert.ok(b.includes(Buffer.from('user.z\0')));
  assert.throws(() => parseDirMeta(serializeDirMeta({ ...m, mode: 0o100644 })), isCorrupt(/not a directory/));
});
