import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo } from '../../src/repo/repo.js';
import { diffTrees, formatDiff, isDirArgument } from '../../src/repo/diff.js';
import { tempDir } from '../common/tmp.js';

// The trees of the upstream transcript (ostree 2022.7 `ostree diff a b`). The branches are
// named 'one' and 'two', not 'a' and 'b': those are hex digits, and upstream (like us) resolves a
// rev that is a prefix of a commit checksum to that commit before it looks at refs, so a
// commit whose checksum happens to start with 'b' would shadow the ref 'b'.
function trees(dir: string): [string, string] {
  const t1 = path.join(dir, 't1');
  const t2 = path.join(dir, 't2');
  for (const d of ['z', 'a', 'm']) fs.mkdirSync(path.join(t1, d), { recursive: true });
  fs.writeFileSync(path.join(t1, 'b'), '1\n');
  fs.writeFileSync(path.join(t1, 'y'), '2\n');
  fs.writeFileSync(path.join(t1, 'a/x'), '3\n');
  fs.writeFileSync(path.join(t1, 'z/q'), '4\n');
  fs.cpSync(t1, t2, { recursive: true });
  fs.writeFileSync(path.join(t2, 'y'), 'mod\n');
  fs.writeFileSync(path.join(t2, 'a/x'), 'mod\n');
  fs.rmSync(path.join(t2, 'b'));
  fs.rmSync(path.join(t2, 'z'), { recursive: true });
  fs.mkdirSync(path.join(t2, 'c/d'), { recursive: true });
  fs.writeFileSync(path.join(t2, 'c/d/e'), 'n\n');
  fs.writeFileSync(path.join(t2, 'aa'), 'n\n');
  fs.writeFileSync(path.join(t2, 'm/new'), 'n\n');
  return [t1, t2];
}

test('diff of two commits: upstream order (modified, removed, added; added after recursion)', async () => {
  const dir = tempDir('diff-');
  const [t1, t2] = trees(dir);
  const repo = await Repo.create(path.join(dir, 'repo'), 'bare-user');
  await repo.commitTree(t1, { branch: 'one' });
  await repo.commitTree(t2, { branch: 'two' });
  assert.equal(formatDiff(await diffTrees(repo, 'one', 'two')),
    'M    /y\nM    /a/x\nD    /b\nD    /z\nA    /m/new\nA    /aa\nA    /c\nA    /c/d\nA    /c/d/e\n');
  assert.equal(formatDiff(await diffTrees(repo, 'two', 'one')),
    'M    /y\nM    /a/x\nD    /aa\nD    /c\nD    /m/new\nA    /b\nA    /z\nA    /z/q\n');
  assert.equal(formatDiff(await diffTrees(repo, 'one', 'one')), '');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('diff against a directory: same sets, directory paths printed without the leading slash', async () => {
  const dir = tempDir('diff-');
  const [t1, t2] = trees(dir);
  const repo = await Repo.create(path.join(dir, 'repo'), 'bare-user');
  await repo.commitTree(t1, { branch: 'one' });
  assert.equal(isDirArgument(t2), true);
  assert.equal(isDirArgument('one'), false);
  const r = await diffTrees(repo, 'one', t2, { noXattrs: true });
  assert.deepEqual(r.modified, ['/y', '/a/x']);
  assert.deepEqual(r.removed, ['/b', '/z']);
  assert.deepEqual([...r.added].sort(), ['/aa', '/c', '/c/d', '/c/d/e', '/m/new']);
  assert.match(formatDiff(r), /^A    c\/d\/e$/m);
  assert.match(formatDiff(r), /^M    \/y$/m);
  assert.equal(formatDiff(await diffTrees(repo, t1, t1)), '');
  fs.rmSync(dir, { recursive: true, force: true });
});
