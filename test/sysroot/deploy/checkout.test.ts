/**
 * src/sysroot/deploy-checkout.ts: the deployment checkout gives what the generic copying
 * Repo.checkout(csum, dir, {whiteouts: true, forceCopy: true}) gives (same entries, types,
 * modes, owners, xattrs, symlink targets, whiteouts, directory mtime 0) but with every file a
 * hardlink of its object, takes the hardlink path for bare and bare-user-only repos, and falls
 * back to copies when hardlinks are impossible (repo and destination on different filesystems).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo, type RepoMode } from '../../../src/repo/repo.js';
import * as libc from '../../../src/native/libc.js';
import { checkoutDeployment, lastDeployCheckout } from '../../../src/sysroot/deploy/checkout.js';
import { tmpfsScratch, type Scratch } from '../../common/sysroot-helpers.js';
import { checkoutSnapshot, copiedEntries as copied, dirMtimes, withoutLinksAndMtimes as strip } from '../../common/tree.js';

let scratch: Scratch;
let other: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-deploy-checkout-'); other = tmpfsScratch('ostree-ts-deploy-checkout-other-'); });
after(() => { scratch.cleanup(); other.cleanup(); });

function makeTree(dir: string): void {
  fs.mkdirSync(path.join(dir, 'usr/lib/modules/6.1.0'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'usr/etc/sub'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'usr/share/ro'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'usr/share/empty'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'usr/lib/modules/6.1.0/vmlinuz'), 'kernel\n');
  fs.writeFileSync(path.join(dir, 'usr/etc/sub/conf'), 'conf\n', { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'usr/share/ro/file'), 'ro\n');
  fs.writeFileSync(path.join(dir, 'usr/share/same1'), 'same\n');
  fs.writeFileSync(path.join(dir, 'usr/share/same2'), 'same\n');
  fs.writeFileSync(path.join(dir, 'usr/share/suid'), 'x\n', { mode: 0o4755 });
  fs.writeFileSync(path.join(dir, 'usr/share/.ostree-wh.gone'), '');
  fs.symlinkSync('../lib/modules', path.join(dir, 'usr/share/link'));
  fs.symlinkSync('usr/lib', path.join(dir, 'lib'));
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(dir, 'usr/share', `f${i}`), `file ${i}\n`);
  fs.chownSync(path.join(dir, 'usr/share/ro/file'), 12, 34);
  fs.chownSync(path.join(dir, 'usr/share/ro'), 56, 78);
  libc.lsetxattr(path.join(dir, 'usr/share/f1'), 'user.test', Buffer.from('v1'));
  libc.lsetxattr(path.join(dir, 'usr/share/ro'), 'user.dir', Buffer.from('d'));
  fs.chmodSync(path.join(dir, 'usr/share/ro'), 0o555);
}

function snapshot(root: string, repo: Repo): string[] { return checkoutSnapshot(root, repo.path); }

for (const mode of ['bare', 'bare-user-only'] as RepoMode[]) {
  test(`deployment checkout (${mode}) equals the copying Repo.checkout with whiteouts, but hardlinked`, async () => {
    const base = path.join(scratch.dir, mode);
    const tree = path.join(base, 'tree');
    makeTree(tree);
    const repo = await Repo.create(path.join(base, 'repo'), mode);
    const c = await repo.commitTree(tree, { branch: 'b', timestamp: 1n });
    await repo.checkout(c, path.join(base, 'generic'), { whiteouts: true, forceCopy: true });
    await checkoutDeployment(repo, c, path.join(base, 'fast'));
    assert.equal(lastDeployCheckout, 'fast');
    const want = snapshot(path.join(base, 'generic'), repo);
    const got = snapshot(path.join(base, 'fast'), repo);
    assert.deepEqual(got.map(strip), want.map(strip));
    assert.ok(want.some((l) => l.startsWith('usr/share/gone mode=20644 ') && l.includes('rdev=0')), 'whiteout made');
    const symlinks = got.filter((l) => l.includes(' -> ')).map((l) => l.split(' ')[0]!);
    assert.deepEqual(copied(got), mode === 'bare-user-only' ? symlinks : [], 'all else is a hardlink');
    assert.deepEqual(dirMtimes(got), ['0']);
    // An existing destination is refused, as Repo.checkout does.
    await assert.rejects(checkoutDeployment(repo, c, path.join(base, 'fast')), /already exists/);
  });
}

test('deployment checkout falls back to Repo.checkout (copies) when hardlinks are impossible', async () => {
  const base = path.join(scratch.dir, 'xdev');
  const tree = path.join(base, 'tree');
  makeTree(tree);
  const repo = await Repo.create(path.join(base, 'repo'), 'bare');
  const c = await repo.commitTree(tree, { branch: 'b', timestamp: 1n });
  await repo.checkout(c, path.join(other.dir, 'generic'), { whiteouts: true });
  await checkoutDeployment(repo, c, path.join(other.dir, 'fast'));
  assert.equal(lastDeployCheckout, 'fallback');
  assert.deepEqual(snapshot(path.join(other.dir, 'fast'), repo).map(strip), snapshot(path.join(other.dir, 'generic'), repo).map(strip));
});

test('deployment checkout of an archive repo uses Repo.checkout', async () => {
  const base = path.join(scratch.dir, 'archive');
  const tree = path.join(base, 'tree');
  makeTree(tree);
  const repo = await Repo.create(path.join(base, 'repo'), 'archive');
  const c = await repo.commitTree(tree, { branch: 'b', timestamp: 1n });
  await checkoutDeployment(repo, c, path.join(base, 'out'));
  assert.equal(lastDeployCheckout, 'generic');
  assert.equal(fs.readFileSync(path.join(base, 'out/usr/share/ro/file'), 'utf8'), 'ro\n');
});

test('deployment checkout: a missing file object is an ENOENT naming the object and the file', async () => {
  const base = path.join(scratch.dir, 'missing');
  const tree = path.join(base, 'tree');
  makeTree(tree);
  const repo = await Repo.create(path.join(base, 'repo'), 'bare');
  const c = await repo.commitTree(tree, { branch: 'b', timestamp: 1n });
  const f = repo.lookupPathSync(c, '/usr/share/f7') as { checksum: string };
  fs.rmSync(repo.objectPath(f.checksum, 'file'));
  await assert.rejects(checkoutDeployment(repo, c, path.join(base, 'out')), new RegExp(`object ${f.checksum}\\.file \\(for 'f7'\\) not found`));
});

test('the closure the deployment checkout hands to prune equals a fresh reachability walk', async () => {
  const { traverseReachable } = await import('../../../src/repo/prune.js');
  const base = path.join(scratch.dir, 'closure');
  const tree = path.join(base, 'tree');
  makeTree(tree);
  fs.cpSync(path.join(tree, 'usr/share'), path.join(tree, 'usr/share-copy'), { recursive: true }); // a shared subtree
  const repo = await Repo.create(path.join(base, 'repo'), 'bare');
  const c = await repo.commitTree(tree, { branch: 'b', timestamp: 1n });
  await checkoutDeployment(repo, c, path.join(base, 'out'));
  assert.equal(lastDeployCheckout, 'fast');
  const cached = new Set<string>();
  traverseReachable(repo, c, 0, cached); // answered from the checkout's record
  fs.symlinkSync(path.join(base, 'repo'), path.join(base, 'alias'));
  const fresh = new Set<string>();
  traverseReachable(await Repo.open(path.join(base, 'alias')), c, 0, fresh); // another repo path: walks
  assert.ok(fresh.size > 60);
  assert.deepEqual([...cached].sort(), [...fresh].sort());
});
