/**
 * src/repo/inspect.ts: `cat` following symbolic links inside a commit (a link loop is an error)
 * and `rev-parse --single`. The history and tree walks behind log and ls are traverse.ts's
 * (test/repo/traverse.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onlyCommit, openFileInCommit } from '../../src/repo/inspect.js';
import { smallRepo } from '../cli/fixtures.js';
import { tempDir } from '../common/tmp.js';

function tmp(): string { return tempDir('inspect-'); }

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
  await assert.rejects(onlyCommit(repo), /Multiple commit objects found/);
  fs.rmSync(d, { recursive: true, force: true });
});
