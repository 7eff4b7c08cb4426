/**
 * The commit modifier's rules (statoverride forms, skip-list, ro-executables, canonical
 * permissions, unmatched paths) and the `ostree.sizes` entry codec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitModifier, applyRules } from '../../../src/repo/commit/modifier.js';
import { parseSizeEntry, serializeSizeEntry } from '../../../src/repo/commit/sizes.js';
import { tempDir } from '../../common/tmp.js';

test('statoverride: +N and N add bits, =N sets them; additions must all match', () => {
  const dir = tempDir('modifier-');
  const so = path.join(dir, 'so');
  fs.writeFileSync(so, '+1048 /a\n2048 /b\n=384 /c\n2048 /never\n');
  const m = new CommitModifier({}, { statoverride: so });
  assert.equal(m.apply('/a', { uid: 1, gid: 2, mode: 0o100644 }).mode, 0o100644 | 1048);
  assert.equal(m.apply('/b', { uid: 1, gid: 2, mode: 0o100644 }).mode, 0o104644);
  assert.equal(m.apply('/c', { uid: 1, gid: 2, mode: 0o100664 }).mode, 0o100600);
  const warned: string[] = [];
  assert.throws(() => m.checkAllMatched((l) => warned.push(l)), /Unmatched statoverride paths/);
  assert.deepEqual(warned, ['Unmatched statoverride path: /never']);
});

test('statoverride: an addition is used up by its first entry; a subdirectory gets only =N (upstream)', () => {
  const dir = tempDir('modifier-');
  const so = path.join(dir, 'so');
  fs.writeFileSync(so, '+2048 /f\n+1024 /d\n=448 /e\n');
  const m = new CommitModifier({}, { statoverride: so });
  assert.equal(m.apply('/f', { uid: 0, gid: 0, mode: 0o100644 }).mode, 0o104644);
  assert.equal(m.apply('/f', { uid: 0, gid: 0, mode: 0o100644 }).mode, 0o100644, 'a second source with the same path');
  assert.equal(m.applyDir('/d', { uid: 0, gid: 0, mode: 0o40755 }).mode, 0o40755);
  assert.equal(m.applyDir('/e', { uid: 0, gid: 0, mode: 0o40755 }).mode, 0o40700);
  m.checkAllMatched(() => {});
});

test('skip-list paths are skipped once each and reported when unmatched', () => {
  const dir = tempDir('modifier-');
  const sl = path.join(dir, 'sl');
  fs.writeFileSync(sl, '/x/y\n/z\n');
  const m = new CommitModifier({}, { skipList: sl });
  assert.equal(m.skips('/x/y'), true);
  assert.equal(m.skips('/x'), false);
  assert.throws(() => m.checkAllMatched(() => {}), /Unmatched skip-list paths/);
});

test('rules: owner, ro-executables, canonical permissions', () => {
  assert.deepEqual(applyRules({ uid: 1, gid: 1, mode: 0o100775 }, { ownerUid: 7, roExecutables: true }), { uid: 7, gid: 1, mode: 0o100555 });
  assert.deepEqual(applyRules({ uid: 1, gid: 1, mode: 0o100664 }, { roExecutables: true }), { uid: 1, gid: 1, mode: 0o100664 });
  assert.deepEqual(applyRules({ uid: 1, gid: 1, mode: 0o104777 }, { canonical: true }), { uid: 0, gid: 0, mode: 0o100755 });
  assert.deepEqual(applyRules({ uid: 1, gid: 1, mode: 0o040777 }, { canonical: true }), { uid: 0, gid: 0, mode: 0o040755 });
  assert.deepEqual(applyRules({ uid: 1, gid: 1, mode: 0o120777 }, { canonical: true }), { uid: 0, gid: 0, mode: 0o120777 });
});

test('ostree.sizes entries: varints and the type byte round-trip; old entries without a type are files', () => {
  const e = { checksum: 'ab'.repeat(32), archived: 300, unpacked: 1 << 20, type: 'dirmeta' as const };
  const buf = serializeSizeEntry(e);
  assert.deepEqual([...buf.subarray(32)], [0xac, 0x02, 0x80, 0x80, 0x40, 3]);
  assert.deepEqual(parseSizeEntry(buf), e);
  assert.equal(parseSizeEntry(buf.subarray(0, buf.length - 1)).type, 'file');
  assert.throws(() => parseSizeEntry(buf.subarray(0, 33)), /too short/);
});
