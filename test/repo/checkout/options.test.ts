/** Repo.checkout options through the facade (src/repo/checkout/): subpath, union, union-add,
 *  whiteouts, hardlinks, streamed archive files, corrupt dirtrees. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo } from '../../../src/repo/repo.js';
import { isErr, makeTree } from '../../common/repo-tree.js';
import { tempDir } from '../../common/tmp.js';

function tmp(): string { return tempDir('repo-test-'); }

test('checkout options: subpath, union, whiteouts, existing destination', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
  const r = await Repo.create(path.join(d, 'repo'), 'bare-user-only');
  await r.commitTree(src, { branch: 'main', timestamp: 1n });
  const co = path.join(d, 'co');
  await r.checkout('main', co, { subpath: '/sub/deep' });
  assert.deepEqual(fs.readdirSync(co), ['big']);
  await assert.rejects(r.checkout('main', co), isErr('EEXIST'));
  fs.rmSync(path.join(co, 'big')); // (writing into it would modify the hardlinked object)
  fs.writeFileSync(path.join(co, 'big'), 'replaced');
  fs.writeFileSync(path.join(co, 'extra'), 'kept');
  await r.checkout('main', co, { subpath: '/sub/deep', union: true });
  assert.equal(fs.statSync(path.join(co, 'big')).size, 3 * 1024 * 1024 + 17);
  assert.equal(fs.readFileSync(path.join(co, 'extra'), 'utf8'), 'kept');
  const single = path.join(d, 'single');
  // as upstream: a file subpath lands inside the destination directory, under its own name
  await r.checkout('main', single, { subpath: '/a' });
  assert.equal(fs.readFileSync(path.join(single, 'a'), 'utf8'), 'hello\n');
  await assert.rejects(r.checkout('main', path.join(d, 'x'), { subpath: '/nope' }), isErr('ENOENT'));
  if (process.getuid?.() === 0) {
    const wh = path.join(d, 'wh');
    await r.checkout('main', wh, { whiteouts: true });
    const st = fs.lstatSync(path.join(wh, 'sub/gone'));
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, 0);
    assert.ok(!fs.existsSync(path.join(wh, 'sub/.ostree-wh.gone')));
  }
  const hl = path.join(d, 'hl');
  await r.checkout('main', hl, { hardlink: true });
  assert.ok(fs.statSync(path.join(hl, 'a')).nlink >= 2, 'bare-user-only checkouts hardlink objects');
  assert.equal(fs.statSync(path.join(hl, 'a')).mtimeMs, 0);
});

test('a corrupted dirtree is reported as ECORRUPT naming the object', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); fs.writeFileSync(path.join(src, 'f'), 'x');
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  const c = await r.commitTree(src, { branch: 'x' });
  const tree = (await r.loadCommit(c)).rootTree;
  const p = r.objectPath(tree, 'dirtree');
  fs.chmodSync(p, 0o644);
  fs.writeFileSync(p, Buffer.from([1, 2, 3, 4, 5]));
  await assert.rejects(r.checkout('x', path.join(d, 'co')), isErr('ECORRUPT', new RegExp(`dirtree ${tree}`)));
});

test('archive: large files stream through commit and checkout (content identical, read-only dirs populated)', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(path.join(src, 'ro'), { recursive: true });
  const big = Buffer.alloc(12 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i * 2654435761 >>> 0, i);
  fs.writeFileSync(path.join(src, 'ro/big'), big);
  fs.chmodSync(path.join(src, 'ro'), 0o555);
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  await r.commitTree(src, { branch: 'main', workers: 2 });
  const co = path.join(d, 'co');
  await r.checkout('main', co, { userMode: true });
  assert.ok(fs.readFileSync(path.join(co, 'ro/big')).equals(big));
  assert.equal(fs.statSync(path.join(co, 'ro')).mode & 0o777, 0o555);
  const single = path.join(d, 'single');
  await r.checkout('main', single, { subpath: '/ro/big', userMode: true });
  assert.ok(fs.readFileSync(path.join(single, 'big')).equals(big));
});

test('checkout unionAdd keeps existing files, union replaces them', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); fs.writeFileSync(path.join(src, 'a'), 'hello');
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  await r.commitTree(src, { branch: 'm' });
  const co = path.join(d, 'co');
  fs.mkdirSync(co);
  fs.writeFileSync(path.join(co, 'a'), 'mine');
  await r.checkout('m', co, { unionAdd: true, userMode: true });
  assert.equal(fs.readFileSync(path.join(co, 'a'), 'utf8'), 'mine');
  await r.checkout('m', co, { union: true, userMode: true });
  assert.equal(fs.readFileSync(path.join(co, 'a'), 'utf8'), 'hello');
});

test('-H (hardlinks required) across filesystems fails before anything is made, in upstream\'s words', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
  const r = await Repo.create(path.join(d, 'repo'), 'bare-user');
  await r.commitTree(src, { branch: 'main', timestamp: 1n });
  // /dev/shm is a tmpfs, another filesystem than the repository's
  const other = fs.mkdtempSync('/dev/shm/ostree-xdev-');
  try {
    assert.notEqual(fs.statSync(other).dev, fs.statSync(r.path).dev);
    const dest = path.join(other, 'co');
    await assert.rejects(r.checkout('main', dest, { hardlink: true, userMode: true }), /Unable to do hardlink checkout across devices \(src=\d+ destination=\d+\)/);
    assert.equal(fs.existsSync(dest), false);
    await r.checkout('main', dest, { userMode: true }); // copies are fine
    assert.ok(fs.existsSync(dest));
  } finally {
    fs.rmSync(other, { recursive: true, force: true });
  }
});
