import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo } from '../../src/repo/repo.js';
import { fsckRepo } from '../../src/repo/fsck.js';
import { formatPruneResult, pruneRepo } from '../../src/repo/prune.js';
import { tempDir } from '../common/tmp.js';

async function setup(): Promise<{ repo: Repo; c1: string; c2: string; other: string; dir: string }> {
  const dir = tempDir('prune-');
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(tree);
  fs.writeFileSync(path.join(tree, 'a'), 'a\n');
  const repo = await Repo.create(path.join(dir, 'repo'), 'bare-user');
  const c1 = await repo.commitTree(tree, { branch: 'main', timestamp: 1n });
  fs.writeFileSync(path.join(tree, 'b'), 'only in c2\n');
  const c2 = await repo.commitTree(tree, { branch: 'main', timestamp: 2n });
  fs.mkdirSync(path.join(tree, 'd'));
  fs.writeFileSync(path.join(tree, 'd/c'), 'only in other\n');
  const other = await repo.commitTree(tree, { branch: 'other', parent: null, timestamp: 3n });
  return { repo, c1, c2, other, dir };
}

test('prune without --refs-only keeps every commit: nothing to delete', async () => {
  const { repo, dir } = await setup();
  const r = await pruneRepo(repo, {});
  assert.equal(r.objectsPruned, 0);
  assert.deepEqual(formatPruneResult(r), [`Total objects: ${r.objectsTotal}`, 'No unreachable objects']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('prune --refs-only drops what only a deleted ref reached; --depth=0 drops parents; --no-prune only counts', async () => {
  const { repo, c1, c2, other, dir } = await setup();
  await repo.setRef('other', null);
  const dry = await pruneRepo(repo, { refsOnly: true, noPrune: true });
  assert.ok(dry.objectsPruned > 0);
  assert.equal(repo.hasObjectSync(other, 'commit'), true, '--no-prune deletes nothing');
  assert.match(formatPruneResult(dry, { noPrune: true })[1]!, /^Would delete: \d+ objects, freeing \d+ bytes$/);
  const r = await pruneRepo(repo, { refsOnly: true });
  assert.equal(r.objectsPruned, dry.objectsPruned);
  assert.equal(r.bytesFreed, dry.bytesFreed);
  assert.equal(repo.hasObjectSync(other, 'commit'), false);
  assert.equal(repo.hasObjectSync(c1, 'commit'), true, 'default depth keeps history');
  assert.match(formatPruneResult(r)[1]!, /^Deleted \d+ objects, \d+ bytes freed$/);
  const r0 = await pruneRepo(repo, { refsOnly: true, depth: 0 });
  assert.equal(r0.objectsPruned, 2, 'the parent commit and its root dirtree (file a and the dirmeta are shared)');
  assert.equal(repo.hasObjectSync(c1, 'commit'), false);
  assert.equal(repo.hasObjectSync(c2, 'commit'), true);
  await fsckRepo(repo, { quiet: true });
  const again = await pruneRepo(repo, { refsOnly: true, depth: 0 });
  assert.equal(again.objectsPruned, 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('prune keeps keepCommits roots (for deployments without refs) and refuses garbage refs', async () => {
  const { repo, other, dir } = await setup();
  await repo.setRef('other', null);
  const r = await pruneRepo(repo, { refsOnly: true, keepCommits: [other] });
  assert.equal(r.objectsPruned, 0);
  fs.writeFileSync(path.join(repo.path, 'refs/heads/junk'), 'nonsense\n');
  await assert.rejects(pruneRepo(repo, { refsOnly: true }), /refs\/heads\/junk does not contain a commit checksum/);
  assert.equal(repo.hasObjectSync(other, 'commit'), true);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('prune refuses, deleting nothing, when a kept complete commit lacks a dirtree (upstream); a partial commit may lack it', async () => {
  const { repo, c2, dir } = await setup();
  await repo.setRef('other', null);
  const root = repo.loadCommitSync(c2).rootTree;
  fs.rmSync(repo.objectPath(root, 'dirtree'));
  const before = (await repo.listObjects()).size;
  await assert.rejects(pruneRepo(repo, { refsOnly: true }), new RegExp(`Commit ${c2} is not marked partial, but its dirtree ${root}\\.dirtree is missing`));
  assert.equal((await repo.listObjects()).size, before);
  fs.mkdirSync(path.join(repo.path, 'state'), { recursive: true });
  fs.writeFileSync(path.join(repo.path, 'state', `${c2}.commitpartial`), '');
  const r = await pruneRepo(repo, { refsOnly: true });
  assert.ok(r.objectsPruned > 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('prune --keep-younger-than walks each ref\'s history once and refuses a history that loops', async () => {
  const { repo, c1, c2, dir } = await setup();
  await repo.setRef('other', null);
  const r = await pruneRepo(repo, { keepYoungerThan: 2n });
  assert.equal(repo.hasObjectSync(c2, 'commit'), true);
  assert.equal(repo.hasObjectSync(c1, 'commit'), false, 'older than the cut-off and not the ref\'s own commit');
  assert.ok(r.objectsPruned > 0);
  // c2 rewritten (under its own name) to name itself as its parent.
  const c = repo.loadCommitSync(c2);
  const { serializeCommit } = await import('../../src/repo/objects/commit.js');
  const p = repo.objectPath(c2, 'commit');
  fs.rmSync(p);
  fs.writeFileSync(p, serializeCommit({ ...c, parent: c2 }));
  await assert.rejects(pruneRepo(repo, { keepYoungerThan: 0n }), /the parent chain loops/);
  fs.rmSync(dir, { recursive: true, force: true });
});
