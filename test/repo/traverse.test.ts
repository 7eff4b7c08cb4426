import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../src/errors.js';
import { Repo } from '../../src/repo/repo.js';
import { markCommitPartial } from '../../src/repo/layout.js';
import { serializeCommit, type CommitObject } from '../../src/repo/objects/commit.js';
import { serializeCommitMeta } from '../../src/repo/objects/commitmeta.js';
import { serializeDirTree } from '../../src/repo/objects/dirtree.js';
import {
  CorruptGraphError, Reachable, commitClosure, parentChain, preorder, walkDirTrees, walkTree,
} from '../../src/repo/traverse.js';
import { tempDir } from '../common/tmp.js';

const base = tempDir('traverse-');
after(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;

async function repoWithTree(): Promise<{ repo: Repo; c1: string; c2: string }> {
  const dir = path.join(base, `r${n++}`);
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'b/c'), { recursive: true });
  fs.mkdirSync(path.join(tree, 'a'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'z'), 'z\n');
  fs.writeFileSync(path.join(tree, 'y'), 'y\n');
  fs.writeFileSync(path.join(tree, 'b/c/x'), 'x\n');
  fs.writeFileSync(path.join(tree, 'a/w'), 'w\n');
  const repo = await Repo.create(path.join(dir, 'repo'), 'bare-user');
  const c1 = await repo.commitTree(tree, { branch: 'main', timestamp: 1n });
  fs.writeFileSync(path.join(tree, 'a/v'), 'v\n');
  const c2 = await repo.commitTree(tree, { branch: 'main', timestamp: 2n });
  return { repo, c1, c2 };
}

/** A chain of `count` commits (crafted objects, same tree), oldest first. */
function chain(repo: Repo, from: CommitObject, count: number): string[] {
  const out: string[] = [];
  let parent: string | null = null;
  for (let i = 0; i < count; i++) {
    parent = repo.writeMetadataObjectSync('commit', serializeCommit({ ...from, parent, timestamp: BigInt(i) }));
    out.push(parent);
  }
  return out;
}

function plant(repo: Repo, checksum: string, type: 'commit' | 'dirtree', data: Buffer): void {
  const p = repo.objectPath(checksum, type);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
}

test('commitClosure is what Repo.traverseCommit reaches, at depth 0 and with all parents', async () => {
  const { repo, c2 } = await repoWithTree();
  for (const depth of [0, -1]) {
    const expected = await repo.traverseCommit(c2, { depth });
    assert.deepEqual([...commitClosure(repo, c2, depth)].sort(), [...expected].sort());
  }
  assert.ok(!commitClosure(repo, c2, 0, { commitMeta: true }).has(`${c2}.commitmeta`));
  fs.writeFileSync(repo.objectPath(c2, 'commitmeta'), serializeCommitMeta([]));
  assert.ok(commitClosure(repo, c2, 0, { commitMeta: true }).has(`${c2}.commitmeta`));
  assert.deepEqual([...commitClosure(repo, c2, -1, { commitOnly: true })].sort(), [...(await repo.traverseCommit(c2, { depth: -1 }))].filter((x) => x.endsWith('.commit')).sort());
});

test('Reachable: a commit reached again with more parents to keep is walked further', async () => {
  const { repo, c2 } = await repoWithTree();
  const [k0, k1, k2, k3] = chain(repo, repo.loadCommitSync(c2), 4) as [string, string, string, string];
  const r = new Reachable(repo);
  r.addCommit(k2, 0);
  assert.ok(r.has(`${k2}.commit`) && !r.has(`${k1}.commit`));
  r.addCommit(k3, 2);
  assert.ok(r.has(`${k1}.commit`), 'k3 with 2 parents reaches k1 through the already-walked k2');
  assert.ok(!r.has(`${k0}.commit`));
  assert.throws(() => r.addCommit('f'.repeat(64), 0), (e: unknown) => e instanceof OstreeError && e.code === 'ENOENT');
});

test('Reachable: every commit of a 3,000-commit history as a root (prune without --refs-only) walks each once', async () => {
  const { repo, c2 } = await repoWithTree();
  const commits = chain(repo, repo.loadCommitSync(c2), 3000);
  const r = new Reachable(repo);
  const t0 = Date.now();
  for (const c of [...commits].reverse()) r.addCommit(c, -1);
  for (const c of commits) r.addCommit(c, -1);
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms (quadratic?)`);
  for (const c of commits) assert.ok(r.has(`${c}.commit`));
});

test('Reachable: a missing dirtree fails a complete commit, and is skipped in a partial one', async () => {
  const { repo, c2 } = await repoWithTree();
  const sub = repo.lookupPathSync(c2, '/b/c') as { tree: string };
  const x = repo.lookupPathSync(c2, '/b/c/x') as { checksum: string };
  const w = repo.lookupPathSync(c2, '/a/w') as { checksum: string };
  fs.rmSync(repo.objectPath(sub.tree, 'dirtree'));
  assert.throws(() => commitClosure(repo, c2, 0), /is not marked partial, but its dirtree .* is missing/);
  markCommitPartial(repo.path, c2);
  const names = commitClosure(repo, c2, 0);
  assert.ok(names.has(`${c2}.commit`) && names.has(`${w.checksum}.file`));
  assert.ok(!names.has(`${x.checksum}.file`), 'what only the missing dirtree names is not reached');
});

test('parentChain: newest first, a missing parent ends the chain once, a loop is corrupt', async () => {
  const { repo, c1, c2 } = await repoWithTree();
  assert.deepEqual([...parentChain(repo, c2)].map((l) => [l.checksum, l.depth, l.commit !== null]), [[c2, 0, true], [c1, 1, true]]);
  fs.rmSync(repo.objectPath(c1, 'commit'));
  assert.deepEqual([...parentChain(repo, c2)].map((l) => [l.checksum, l.commit === null]), [[c2, false], [c1, true]]);
  assert.throws(() => [...parentChain(repo, c1)], (e: unknown) => e instanceof OstreeError && e.code === 'ENOENT');
  const from = repo.loadCommitSync(c2);
  const [x, y] = ['a'.repeat(64), 'b'.repeat(64)] as const;
  plant(repo, x, 'commit', serializeCommit({ ...from, parent: y }));
  plant(repo, y, 'commit', serializeCommit({ ...from, parent: x }));
  const seen: string[] = [];
  assert.throws(() => { for (const l of parentChain(repo, x)) seen.push(l.checksum); },
    (e: unknown) => e instanceof CorruptGraphError && e.code === 'ECORRUPT' && e.objectName === `${x}.commit` && /loops/.test(e.message));
  assert.deepEqual(seen, [x, y]);
  plant(repo, x, 'commit', serializeCommit({ ...from, parent: x }));
  assert.throws(() => [...parentChain(repo, x)], CorruptGraphError);
  assert.throws(() => new Reachable(repo).addCommit(x, -1), CorruptGraphError);
  assert.doesNotThrow(() => new Reachable(repo).addCommit(x, 0), 'depth 0 does not follow the parent');
});

test('walkTree: upstream listing order (files, then directories, each directory followed by its contents)', async () => {
  const { repo, c2 } = await repoWithTree();
  const root = repo.loadCommitSync(c2).rootTree;
  const all = [...walkTree(repo, root)].map((e) => `${e.kind} ${e.path} ${e.depth}`);
  assert.deepEqual(all, ['file /y 1', 'file /z 1', 'dir /a 1', 'file /a/v 2', 'file /a/w 2', 'dir /b 1', 'dir /b/c 2', 'file /b/c/x 3']);
  assert.deepEqual([...walkTree(repo, root, { recursive: false })].map((e) => e.path), ['/y', '/z', '/a', '/b']);
  const b = repo.lookupPathSync(c2, '/b') as { tree: string };
  assert.deepEqual([...walkTree(repo, b.tree, { prefix: '/b' })].map((e) => e.path), ['/b/c', '/b/c/x']);
});

test('walkTree and walkDirTrees: a dirtree that contains itself is corrupt; a shared subtree is not', async () => {
  const { repo, c2 } = await repoWithTree();
  const meta = repo.loadCommitSync(c2).rootMeta;
  const [t1, t2] = ['1'.repeat(64), '2'.repeat(64)] as const;
  plant(repo, t1, 'dirtree', serializeDirTree({ files: [], dirs: [{ name: 'x', treeChecksum: t2, metaChecksum: meta }] }));
  plant(repo, t2, 'dirtree', serializeDirTree({ files: [], dirs: [{ name: 'y', treeChecksum: t1, metaChecksum: meta }] }));
  assert.throws(() => [...walkTree(repo, t1)], (e: unknown) => e instanceof CorruptGraphError && /contains itself \(again at \/x\/y\)/.test(e.message));
  const load = (t: string): ReturnType<typeof repo.loadDirTreeSync> => repo.loadDirTreeSync(t);
  assert.throws(() => walkDirTrees(t1, { tree: load, dirmeta: () => {} }), (e: unknown) => e instanceof CorruptGraphError && e.objectName === `${t1}.dirtree`);
  // The same subtree twice side by side is a DAG, not a cycle.
  const leaf = repo.lookupPathSync(c2, '/b/c') as { tree: string };
  const shared = repo.writeMetadataObjectSync('dirtree', serializeDirTree({ files: [], dirs: [
    { name: 'p', treeChecksum: leaf.tree, metaChecksum: meta }, { name: 'q', treeChecksum: leaf.tree, metaChecksum: meta }] }));
  assert.deepEqual([...walkTree(repo, shared)].map((e) => e.path), ['/p', '/p/x', '/q', '/q/x']);
  const visited: string[] = [];
  walkDirTrees(shared, { tree: (t) => { visited.push(t); return load(t); }, dirmeta: () => {} });
  assert.deepEqual(visited, [shared, leaf.tree, leaf.tree]);
});

test('walks are iterative: a 20,000-level tree and commitClosure over it need no deep call stack', async () => {
  const { repo, c2 } = await repoWithTree();
  const from = repo.loadCommitSync(c2);
  let t = from.rootTree;
  for (let i = 0; i < 20_000; i++) t = repo.writeMetadataObjectSync('dirtree', serializeDirTree({ files: [], dirs: [{ name: 'd', treeChecksum: t, metaChecksum: from.rootMeta }] }));
  const c = repo.writeMetadataObjectSync('commit', serializeCommit({ ...from, parent: null, rootTree: t }));
  const names = commitClosure(repo, c, 0);
  assert.ok(names.size > 20_000);
  let deepest = 0;
  for (const e of walkTree(repo, t)) deepest = Math.max(deepest, e.depth);
  assert.equal(deepest, 20_000 + 3);
});

test('preorder: a generic tree, cycle by key', () => {
  const kids: Record<string, string[]> = { r: ['a', 'b'], a: ['c'], b: [], c: ['a'] };
  const walk = preorder<string>('r', '', (k) => (kids[k]!.length > 0 || k === 'b' ? kids[k]!.map((x): [string, string] => [x, x]) : null), (k) => k,
    (k, p) => new OstreeError('ECORRUPT', `cycle ${k} at ${p}`));
  assert.throws(() => [...walk], /cycle a at \/a\/c\/a/);
  kids['c'] = [];
  const ok = [...preorder<string>('r', '/top', (k) => kids[k]!.map((x): [string, string] => [x, x]), (k) => k, () => new Error('no'))];
  assert.deepEqual(ok.map(([p, , d]) => `${p}:${d}`), ['/top/a:1', '/top/a/c:2', '/top/b:1']);
});
