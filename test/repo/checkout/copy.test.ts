/** Repo.checkout's engines (src/repo/checkout/): deep trees, corrupt trees that loop, special
 *  files posing as objects, and what a failed checkout leaves (nothing, unless it was a union). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../../src/errors.js';
import { serialize } from '../../../src/glib/gvariant.js';
import { Repo, type RepoMode } from '../../../src/repo/repo.js';
import { serializeCommit } from '../../../src/repo/objects/commit.js';
import { VERIFY_DEPTH } from '../../../src/repo/traverse.js';
import { makeDeepTree, readDeep, removeTree } from '../../common/deep-tree.js';
import { tempDir } from '../../common/tmp.js';

const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));
function tmp(): string { return tempDir('checkout-test-'); }

async function smallRepo(mode: RepoMode): Promise<{ d: string; repo: Repo; c: string }> {
  const d = tmp();
  const src = path.join(d, 'src');
  fs.mkdirSync(path.join(src, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(src, 'dir/f'), 'f\n');
  fs.writeFileSync(path.join(src, 'g'), 'g\n');
  const repo = await Repo.create(path.join(d, 'repo'), mode);
  return { d, repo, c: await repo.commitTree(src, { branch: 'main' }) };
}

/** A commit whose root lists itself as `loop` (stored under a name it cannot hash to). */
async function loopingCommit(repo: Repo, base: string): Promise<string> {
  const c = repo.loadCommitSync(base);
  const fake = 'cd'.repeat(32);
  const p = repo.objectPath(fake, 'dirtree');
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, serialize('(a(say)a(sayay))', [[], [['loop', Buffer.from(fake, 'hex'), Buffer.from(c.rootMeta, 'hex')]]], { bigEndian: true }));
  return repo.writeMetadataObjectSync('commit', serializeCommit({ ...c, rootTree: fake }));
}

for (const [mode, userMode] of [['bare-user-only', false], ['bare', false], ['archive', true], ['bare-user', true]] as Array<[RepoMode, boolean]>) {
  test(`${mode}: a dirtree that contains itself is corrupt past depth ${VERIFY_DEPTH}; the fresh destination is removed`, async () => {
    const { d, repo, c } = await smallRepo(mode);
    const loop = await loopingCommit(repo, c);
    const dest = path.join(d, 'co');
    await assert.rejects(repo.checkout(loop, dest, { userMode }), isErr('ECORRUPT', /dirtree (cd)+ \(at '.*loop', 256 levels deep\) is corrupt.*contains itself/));
    assert.equal(fs.existsSync(dest), false);
  });
}

test('a failed union checkout keeps the destination and what was in it', async () => {
  const { d, repo, c } = await smallRepo('archive');
  const loop = await loopingCommit(repo, c);
  const dest = path.join(d, 'co');
  fs.mkdirSync(dest);
  fs.writeFileSync(path.join(dest, 'mine'), 'kept');
  await assert.rejects(repo.checkout(loop, dest, { union: true, userMode: true }), isErr('ECORRUPT'));
  assert.equal(fs.readFileSync(path.join(dest, 'mine'), 'utf8'), 'kept');
});

for (const mode of ['bare', 'bare-user-only'] as RepoMode[]) {
  test(`${mode}: the hardlink engine refuses a FIFO posing as a content object (never links it)`, async () => {
    const { d, repo } = await smallRepo(mode);
    const f = repo.lookupPathSync(await repo.resolveRev('main'), '/g');
    const obj = repo.objectPath((f as { checksum: string }).checksum, 'file');
    fs.rmSync(obj);
    execFileSync('mkfifo', [obj]);
    const dest = path.join(d, 'co');
    await assert.rejects(repo.checkout('main', dest), isErr('ECORRUPT', /\.file \(for '.*\/g'\) is not a regular file or symlink/));
    assert.equal(fs.existsSync(dest), false);
  });
}

for (const [mode, userMode] of [['bare-user-only', false], ['archive', true], ['bare-user', true], ['bare', true]] as Array<[RepoMode, boolean]>) {
  test(`${mode}${userMode ? ' (user mode)' : ''}: a tree 10,000 levels deep checks out`, async () => {
    const d = tmp();
    try {
      const leaf = makeDeepTree(path.join(d, 'src'), 10_000);
      const repo = await Repo.create(path.join(d, 'repo'), mode);
      await repo.commitTree(path.join(d, 'src'), { branch: 'deep' });
      await repo.checkout('deep', path.join(d, 'co'), { userMode });
      assert.equal(readDeep(path.join(d, 'co') + leaf.slice(path.join(d, 'src').length)), 'leaf\n');
    } finally {
      removeTree(d);
    }
  });
}
