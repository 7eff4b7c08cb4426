import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo } from '../../src/repo/repo.js';
import { parentRepos } from '../../src/repo/parent-repos.js';
import { hasLooseObject, hasObject, loadCommit, readMetadataObjectIfPresent } from '../../src/repo/store.js';
import { readContentHeaderSync } from '../../src/repo/content.js';
import { pruneRepo } from '../../src/repo/prune.js';
import { branchRoots, parseRetainBranchDepth } from '../../src/repo/prune-branches.js';
import { tempDir } from '../common/tmp.js';

function setParent(repo: string, parent: string): void {
  fs.appendFileSync(path.join(repo, 'config'), `parent=${parent}\n`);
}

test('core.parent: objects missing here are found in the parent chain; prune deletes only its own', async () => {
  const dir = tempDir('parent-');
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(tree);
  fs.writeFileSync(path.join(tree, 'a'), 'a\n');
  const grand = await Repo.create(path.join(dir, 'grand'), 'archive');
  const c = await grand.commitTree(tree, { branch: 'main', timestamp: 1n });
  const mid = await Repo.create(path.join(dir, 'mid'), 'bare-user');
  const child = await Repo.create(path.join(dir, 'child'), 'archive');
  setParent(mid.path, grand.path);
  setParent(child.path, mid.path);
  assert.deepEqual(parentRepos(child.path).map((p) => [p.path, p.mode]), [[mid.path, 'bare-user'], [grand.path, 'archive']]);
  assert.deepEqual(parentRepos(grand.path), []);

  const loc = { path: child.path, mode: child.mode };
  assert.equal(hasLooseObject(loc, c, 'commit'), false);
  assert.equal(hasObject(loc, c, 'commit'), true);
  assert.ok(readMetadataObjectIfPresent(loc, c, 'commit'));
  assert.match(loadCommit(loc, c).rootTree, /^[0-9a-f]{64}$/);
  const anyFile = fs.readdirSync(path.join(grand.path, 'objects')).flatMap((d) => fs.readdirSync(path.join(grand.path, 'objects', d)).filter((f) => f.endsWith('.filez')).map((f) => d + f.slice(0, 62)))[0]!;
  assert.equal(readContentHeaderSync(child.path, child.mode, anyFile).mode, 'archive');
  assert.equal(hasObject(loc, 'f'.repeat(64), 'commit'), false);

  // The child's ref reaches objects only the grandparent holds: prune keeps them and deletes
  // nothing outside the child.
  await child.setRef('main', c);
  const r = await pruneRepo(child, { refsOnly: true, depth: 0 });
  assert.equal(r.objectsPruned, 0);
  assert.equal(hasLooseObject({ path: grand.path, mode: grand.mode }, c, 'commit'), true);
});

test('core.parent: a chain that loops is a configuration error naming it', async () => {
  const dir = tempDir('parent-loop-');
  const a = await Repo.create(path.join(dir, 'a'), 'archive');
  const b = await Repo.create(path.join(dir, 'b'), 'archive');
  setParent(a.path, b.path);
  setParent(b.path, a.path);
  assert.throws(() => parentRepos(a.path), (e: Error & { code?: string }) => e.code === 'ECONFIG' && /core\.parent chain loops/.test(e.message));
  const missing = await Repo.create(path.join(dir, 'c'), 'archive');
  setParent(missing.path, path.join(dir, 'nowhere'));
  assert.throws(() => parentRepos(missing.path), /While checking parent repository/);
});

test('--retain-branch-depth values parse as upstream (integer prefix; no digits is an error)', () => {
  assert.deepEqual([...parseRetainBranchDepth(['stable=-1', 'dev=5x', 'a/b=0'])], [['stable', -1], ['dev', 5], ['a/b', 0]]);
  assert.throws(() => parseRetainBranchDepth(['stable=BACON']), /Invalid depth BACON/);
  assert.throws(() => parseRetainBranchDepth(['stable']), /must specify BRANCH=DEPTH/);
});

test('branch roots: --only-branch keeps other refs whole; a retained depth of 0 falls through (upstream)', async () => {
  const refs = new Map([['dev', 'd'.repeat(64)], ['stable', 's'.repeat(64)], ['origin:x', 'o'.repeat(64)]]);
  const repo = {
    listRefs: async () => refs,
    resolveRev: async (r: string) => { if (!refs.has(r)) throw new Error(`Refspec '${r}' not found`); return refs.get(r)!; },
  };
  const roots = await branchRoots(repo, { depth: 0, onlyBranches: ['dev'] });
  assert.deepEqual(roots, [{ commit: 'd'.repeat(64), depth: 0 }, { commit: 's'.repeat(64), depth: -1 }, { commit: 'o'.repeat(64), depth: -1 }]);
  const young = await branchRoots(repo, { depth: 3, keepYoungerThan: 10n, retainBranchDepth: new Map([['stable', 0], ['dev', 2]]) });
  assert.deepEqual(young, [{ commit: 'd'.repeat(64), depth: 2 }, { commit: 's'.repeat(64), youngerThan: 10n }, { commit: 'o'.repeat(64), youngerThan: 10n }]);
  await assert.rejects(branchRoots(repo, { depth: 0, onlyBranches: ['BACON'] }), /Refspec 'BACON' not found/);
});
