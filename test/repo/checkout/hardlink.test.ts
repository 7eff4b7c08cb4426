/**
 * src/repo/hardlink-checkout.ts, through Repo.checkout: a fresh checkout from a bare or
 * bare-user-only repository gives what the generic copying checkout gives (entries, modes,
 * owners, xattrs, symlinks, whiteouts, directory mtime 0), every file a hardlink of its object,
 * the same whether one thread or several share the work; errors from any thread surface; a
 * refused hardlink falls back to copies (or fails under -H) and leaves no partial tree.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo, type RepoMode } from '../../../src/repo/repo.js';
import { hardlinkCheckout } from '../../../src/repo/checkout/hardlink.js';
import * as libc from '../../../src/native/libc.js';
import { checkoutSnapshot, copiedEntries as copied, dirMtimes, withoutLinksAndMtimes as strip } from '../../common/tree.js';
import { tmpfsScratch, type Scratch } from '../../common/sysroot-helpers.js';

let scratch: Scratch;
let other: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-hl-checkout-'); other = tmpfsScratch('ostree-ts-hl-checkout-other-'); });
after(() => { scratch.cleanup(); other.cleanup(); });


/** Nested directories (some read-only, one empty, one owned by someone else), ~400 files. */
function makeTree(dir: string): void {
  for (let a = 0; a < 6; a++) {
    for (let b = 0; b < 5; b++) {
      const d = path.join(dir, `top${a}`, `mid${b}`);
      fs.mkdirSync(path.join(d, 'leaf'), { recursive: true });
      for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(d, `f${i}`), `${a}/${b}/${i}\n`);
      fs.writeFileSync(path.join(d, 'leaf', 'same'), 'shared content\n');
      fs.symlinkSync(`../mid${(b + 1) % 5}/f0`, path.join(d, 'link'));
      if (b === 2) fs.chmodSync(path.join(d, 'leaf'), 0o555);
    }
  }
  fs.mkdirSync(path.join(dir, 'empty'));
  fs.writeFileSync(path.join(dir, 'top1', '.ostree-wh.gone'), '');
  fs.writeFileSync(path.join(dir, 'top1', 'suid'), 'x\n', { mode: 0o4755 });
  fs.chownSync(path.join(dir, 'top2'), 56, 78);
  fs.chownSync(path.join(dir, 'top2', 'mid0', 'f1'), 12, 34);
  libc.lsetxattr(path.join(dir, 'top3', 'mid1', 'f2'), 'user.test', Buffer.from('v1'));
  libc.lsetxattr(path.join(dir, 'top3'), 'user.dir', Buffer.from('d'));
  fs.chmodSync(path.join(dir, 'top4'), 0o555);
}

async function setUp(name: string, mode: RepoMode): Promise<{ base: string; repo: Repo; c: string }> {
  const base = path.join(scratch.dir, name);
  makeTree(path.join(base, 'tree'));
  const repo = await Repo.create(path.join(base, 'repo'), mode);
  const c = await repo.commitTree(path.join(base, 'tree'), { branch: 'b', timestamp: 1n });
  return { base, repo, c };
}

for (const mode of ['bare', 'bare-user-only'] as RepoMode[]) {
  test(`hardlink checkout (${mode}): as the copying checkout, all hardlinks, 1 to 3 threads alike`, async () => {
    const { base, repo, c } = await setUp(mode, mode);
    for (const whiteouts of [false, true]) {
      const want = checkoutSnapshot((await copyOut(repo, c, path.join(base, `copy-${whiteouts}`), { whiteouts })), repo.path);
      const viaRepo = path.join(base, `repo-${whiteouts}`);
      await repo.checkout(c, viaRepo, { whiteouts, hardlink: true });
      const got = checkoutSnapshot(viaRepo, repo.path);
      assert.deepEqual(got.map(strip), want.map(strip));
      const symlinks = got.filter((l) => l.includes(' -> ')).map((l) => l.split(' ')[0]!);
      assert.deepEqual(copied(got), [...(whiteouts ? [] : ['top1/.ostree-wh.gone']), ...(mode === 'bare-user-only' ? symlinks : [])].sort(), 'all else is a hardlink');
      assert.deepEqual(dirMtimes(got), ['0']);
      assert.equal(got.some((l) => l.startsWith('top1/gone mode=20644 ')), whiteouts);
      const commit = repo.loadCommitSync(c);
      for (const threads of [1, 2, 3]) {
        // Which thread fills what depends on scheduling: every attempt must give the same tree,
        // and the work must be shared in at least one of them.
        const shared: number[] = [];
        for (let attempt = 0; attempt < 10 && !shared.some((n) => n > 0); attempt++) {
          const dest = path.join(base, `t${threads}-${whiteouts}-${attempt}`);
          const r = await hardlinkCheckout(repo, commit.rootTree, commit.rootMeta, dest, { threads, whiteouts });
          assert.deepEqual(checkoutSnapshot(dest, repo.path), got, `${threads} threads`);
          assert.equal(r.dirs, got.filter((l) => l.includes(' mode=4')).length);
          shared.push(r.dirsByWorkers);
          if (threads === 1) break;
        }
        if (threads > 1) assert.ok(shared.some((n) => n > 0), `work shared in one of ${shared.length} attempts: ${shared.join(', ')} directories by workers`);
        else assert.deepEqual(shared, [0]);
      }
    }
  });
}

async function copyOut(repo: Repo, c: string, dest: string, o: { whiteouts?: boolean; userMode?: boolean }): Promise<string> {
  await repo.checkout(c, dest, { ...o, forceCopy: true });
  return dest;
}

test('hardlink checkout -U from bare-user-only: no owners or xattrs, setuid bits dropped, still hardlinks', async () => {
  const { base, repo, c } = await setUp('user', 'bare-user-only');
  const want = checkoutSnapshot(await copyOut(repo, c, path.join(base, 'copy'), { userMode: true }), repo.path);
  await repo.checkout(c, path.join(base, 'out'), { userMode: true, hardlink: true });
  const got = checkoutSnapshot(path.join(base, 'out'), repo.path);
  assert.deepEqual(got.map(strip), want.map(strip));
  assert.deepEqual(copied(got), ['top1/.ostree-wh.gone', ...got.filter((l) => l.includes(' -> ')).map((l) => l.split(' ')[0]!)].sort());
  assert.ok(got.some((l) => l.startsWith('top4 mode=40555')));
  assert.ok(got.some((l) => l.startsWith('top1/suid mode=100755 ')), 'setuid dropped');
});

test('hardlink checkout: a missing object or an existing destination is an error from any thread', async () => {
  const { base, repo, c } = await setUp('missing', 'bare');
  const f = repo.lookupPathSync(c, '/top5/mid4/f9') as { checksum: string };
  fs.renameSync(repo.objectPath(f.checksum, 'file'), path.join(base, 'saved'));
  const commit = repo.loadCommitSync(c);
  for (const threads of [1, 2]) {
    await assert.rejects(hardlinkCheckout(repo, commit.rootTree, commit.rootMeta, path.join(base, `out${threads}`), { threads }),
      new RegExp(`object ${f.checksum}\\.file \\(for 'f9'\\) not found`));
  }
  fs.renameSync(path.join(base, 'saved'), repo.objectPath(f.checksum, 'file'));
  fs.mkdirSync(path.join(base, 'exists'));
  await assert.rejects(repo.checkout(c, path.join(base, 'exists')), /already exists/);
  fs.mkdirSync(path.join(base, 'exists2', 'top3'), { recursive: true });
  await assert.rejects(hardlinkCheckout(repo, commit.rootTree, commit.rootMeta, path.join(base, 'exists2'), { threads: 2 }), /already exists/);
});

test('hardlink checkout onto another filesystem: copies without -H, a clear error with -H, no partial tree', async () => {
  const { base, repo, c } = await setUp('xdev', 'bare');
  await assert.rejects(repo.checkout(c, path.join(other.dir, 'strict'), { hardlink: true }), /Unable to do hardlink checkout across devices \(src=\d+ destination=\d+\)/);
  assert.ok(!fs.existsSync(path.join(other.dir, 'strict')), 'partial tree removed');
  await repo.checkout(c, path.join(other.dir, 'copied'));
  const want = checkoutSnapshot(await copyOut(repo, c, path.join(base, 'copy'), {}), repo.path);
  assert.deepEqual(checkoutSnapshot(path.join(other.dir, 'copied'), repo.path).map(strip), want.map(strip));
});
