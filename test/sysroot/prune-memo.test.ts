/**
 * The cleanup's prune is skipped only when it could not delete anything (src/sysroot/
 * prune-memo.ts): after a prune, with no object added or removed and no root dropped.
 * Whatever becomes unreachable afterwards (a ref deleted, an unreferenced object written) is
 * still pruned by the next cleanup, as a full prune would; a skipped prune leaves the memo as
 * it was, a full one writes it anew.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpfsScratch, ours, ok, commitTree, makeTree, newSysroot, type Scratch } from '../common/sysroot-helpers.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-prune-memo-'); });
after(() => { scratch.cleanup(); });

function root(name: string): string {
  const d = path.join(scratch.dir, name);
  fs.mkdirSync(d);
  return d;
}

/** prune-memo.ts trusts no object directory changed less than 2 s before it writes a memo. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 2100));

function memoId(repo: string): string | null {
  try { const st = fs.statSync(path.join(repo, '.ostree-ts-pruned')); return `${st.ino}:${st.mtimeMs}`; } catch { return null; }
}

function hasCommit(repo: string, c: string): boolean {
  return fs.existsSync(path.join(repo, 'objects', c.slice(0, 2), `${c.slice(2)}.commit`));
}

test('a prune is skipped only while nothing could have become unreachable', async () => {
  const { sysroot, c1 } = await newSysroot(root('a'));
  const repo = path.join(sysroot, 'ostree/repo');
  const cleanup = (): string => ok(ours(['admin', 'cleanup', `--sysroot=${sysroot}`]), 'admin cleanup').stdout;
  ok(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', c1]), 'deploy');
  const extraTree = makeTree(path.join(scratch.dir, 'a', 'extra'), { pretty: 'Extra OS' });
  const extra = await commitTree(repo, extraTree, 'testos/extra', '2.0');
  await settle();
  cleanup();
  const first = memoId(repo);
  assert.ok(first, 'a full prune of settled object directories writes the memo');

  cleanup();
  assert.equal(memoId(repo), first, 'nothing changed: the prune is skipped (the memo is left as it was)');

  // A root dropped, no object changed: its commit must still be pruned.
  ok(ours([`--repo=${repo}`, 'refs', '--delete', 'testos/extra']), 'refs --delete');
  assert.match(cleanup(), /Freed objects/, 'the prune ran and freed the dropped ref\'s objects');
  assert.equal(hasCommit(repo, extra), false, 'the commit no ref keeps any more is pruned');
  assert.ok(hasCommit(repo, c1), 'the deployed commit stays');

  // An object added that nothing reaches (a commit whose ref is gone before any prune).
  await settle();
  cleanup();
  const memo = memoId(repo);
  assert.ok(memo);
  const orphanTree = makeTree(path.join(scratch.dir, 'a', 'orphan'), { pretty: 'Orphan OS' });
  const orphan = await commitTree(repo, orphanTree, 'testos/orphan', '3.0');
  fs.rmSync(path.join(repo, 'refs/heads/testos/orphan'));
  assert.match(cleanup(), /Freed objects/, 'new objects since the memo: a full prune');
  assert.equal(hasCommit(repo, orphan), false, 'the unreferenced commit is pruned');
  assert.notEqual(memoId(repo), memo, 'a full prune replaces the memo (or leaves none while the directories are new)');
});

test('a memo that cannot be parsed means a full prune', async () => {
  const { sysroot, c1 } = await newSysroot(root('b'));
  const repo = path.join(sysroot, 'ostree/repo');
  ok(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', c1]), 'deploy');
  const orphanTree = makeTree(path.join(scratch.dir, 'b', 'orphan'), { pretty: 'Orphan OS' });
  const orphan = await commitTree(repo, orphanTree, 'testos/orphan', '2.0');
  fs.rmSync(path.join(repo, 'refs/heads/testos/orphan'));
  fs.writeFileSync(path.join(repo, '.ostree-ts-pruned'), '{"version":1,"roots":[');
  ok(ours(['admin', 'cleanup', `--sysroot=${sysroot}`]), 'admin cleanup');
  assert.equal(hasCommit(repo, orphan), false);
});
