/**
 * src/repo/inspect.ts: the history and tree walks behind log/ls/cat, their order, and their
 * refusal of the shapes only a corrupt repository holds (parent loops, self-containing trees),
 * without recursion (a 10,000-level tree).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commitHistory, onlyCommit, openFileInCommit, walkTree } from '../../src/repo/inspect.js';
import { serializeCommit, serializeDirTree } from '../../src/repo/objects.js';
import { OstreeError } from '../../src/errors.js';
import { loopingHistory, selfContainingTree, smallRepo, writeRawObject } from '../cli/fixtures.js';

function tmp(): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'inspect-')); }

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('commitHistory: newest first; a missing parent ends with a null entry', async () => {
  const d = tmp();
  const { repo, commit: c1 } = await smallRepo(d);
  const c2 = await repo.commitTree(path.join(d, 'tree'), { branch: 'main', subject: 'second', timestamp: 1_700_000_100n });
  const h = await collect(commitHistory(repo, c2));
  assert.deepEqual(h.map((e) => [e.checksum, e.commit?.subject]), [[c2, 'second'], [c1, 'small']]);
  const orphan = 'ee'.repeat(32);
  const base = await repo.loadCommit(c1);
  writeRawObject(repo, 'ef'.repeat(32), 'commit', serializeCommit({ ...base, parent: orphan }));
  const partial = await collect(commitHistory(repo, 'ef'.repeat(32)));
  assert.deepEqual(partial.map((e) => [e.checksum, e.commit === null]), [['ef'.repeat(32), false], [orphan, true]]);
  fs.rmSync(d, { recursive: true, force: true });
});

test('commitHistory: a parent chain that loops is ECORRUPT naming both commits, after the commits it saw', async () => {
  const d = tmp();
  const { repo, commit } = await smallRepo(d);
  const { x, y } = await loopingHistory(repo, commit);
  const seen: string[] = [];
  await assert.rejects(async () => { for await (const e of commitHistory(repo, x)) seen.push(e.checksum); }, (e: unknown) => {
    assert.ok(e instanceof OstreeError && e.code === 'ECORRUPT', String(e));
    assert.match(e.message, new RegExp(`commit ${y}: its parent chain loops back to commit ${x}`));
    return true;
  });
  assert.deepEqual(seen, [x, y]);
  fs.rmSync(d, { recursive: true, force: true });
});

test('walkTree: files before directories, a directory followed by its own entries; not recursive: one level', async () => {
  const d = tmp();
  const { repo, commit } = await smallRepo(d);
  const root = (await repo.loadCommit(commit)).rootTree;
  const all = [...walkTree(repo, '/', root, { recursive: true })].map((e) => `${e.kind} ${e.path}`);
  assert.deepEqual(all, ['file /file', 'file /link', 'dir /sub', 'dir /sub/deeper', 'file /sub/deeper/leaf']);
  const top = [...walkTree(repo, '/', root, { recursive: false })].map((e) => `${e.kind} ${e.path}`);
  assert.deepEqual(top, ['file /file', 'file /link', 'dir /sub']);
  fs.rmSync(d, { recursive: true, force: true });
});

test('walkTree: a dirtree that contains itself is ECORRUPT; identical sibling subtrees are fine', async () => {
  const d = tmp();
  const { repo, commit } = await smallRepo(d);
  const { tree } = await selfContainingTree(repo, commit);
  assert.throws(() => [...walkTree(repo, '/', tree, { recursive: true })], (e: unknown) => {
    assert.ok(e instanceof OstreeError && e.code === 'ECORRUPT', String(e));
    assert.match(e.message, new RegExp(`dirtree ${tree} contains itself \\(again at /again\\)`));
    return true;
  });
  // Not recursive: the self-reference is listed, never followed.
  assert.deepEqual([...walkTree(repo, '/', tree, { recursive: false })].map((e) => e.path), ['/again']);
  const meta = (await repo.loadCommit(commit)).rootMeta;
  const empty = repo.writeMetadataObjectSync('dirtree', serializeDirTree({ files: [], dirs: [] }));
  const twins = repo.writeMetadataObjectSync('dirtree', serializeDirTree({ files: [], dirs: [
    { name: 'a', treeChecksum: empty, metaChecksum: meta }, { name: 'b', treeChecksum: empty, metaChecksum: meta },
  ] }));
  assert.deepEqual([...walkTree(repo, '/', twins, { recursive: true })].map((e) => e.path), ['/a', '/b']);
  fs.rmSync(d, { recursive: true, force: true });
});

test('walkTree: a 10,000-level tree is walked without recursion', async () => {
  const d = tmp();
  const { repo, commit } = await smallRepo(d);
  const meta = (await repo.loadCommit(commit)).rootMeta;
  let tree = repo.writeMetadataObjectSync('dirtree', serializeDirTree({ files: [], dirs: [] }));
  for (let i = 0; i < 10_000; i++) {
    tree = repo.writeMetadataObjectSync('dirtree', serializeDirTree({ files: [], dirs: [{ name: 'd', treeChecksum: tree, metaChecksum: meta }] }));
  }
  let n = 0;
  let last = '';
  for (const e of walkTree(repo, '/', tree, { recursive: true })) { n++; last = e.path; }
  assert.equal(n, 10_000);
  assert.equal(last.length, 2 * 10_000);
  fs.rmSync(d, { recursive: true, force: true });
});

test('openFileInCommit follows symlinks inside the commit; a link loop is an error', async () => {
  const d = tmp();
  const { repo, commit } = await smallRepo(d);
  const opened = await openFileInCommit(repo, commit, 'link');
  assert.equal(opened.path, '/file');
  let text = '';
  for await (const chunk of opened.stream as AsyncIterable<Buffer>) text += chunk.toString();
  assert.equal(text, 'hello\n');
  await assert.rejects(openFileInCommit(repo, commit, '/sub'), /Can't open directory: \/sub/);
  const loopTree = path.join(d, 'looptree');
  fs.mkdirSync(loopTree);
  fs.symlinkSync('b', path.join(loopTree, 'a'));
  fs.symlinkSync('a', path.join(loopTree, 'b'));
  const c2 = await repo.commitTree(loopTree, { branch: 'loops', subject: 'links' });
  await assert.rejects(openFileInCommit(repo, c2, '/a'), /Too many levels of symbolic links: \/a/);
  fs.rmSync(d, { recursive: true, force: true });
});

test('onlyCommit: the single commit, else an error with the count', async () => {
  const d = tmp();
  const { repo, commit } = await smallRepo(d);
  assert.equal(await onlyCommit(repo), commit);
  await repo.commitTree(path.join(d, 'tree'), { branch: 'main', subject: 'again', timestamp: 1_700_000_200n });
  await assert.rejects(onlyCommit(repo), /Repository has 2 commits, expected exactly one/);
  fs.rmSync(d, { recursive: true, force: true });
});
