/** src/repo/transaction.ts: staging directories per boot id, reuse, cleanup of other boots'
 * directories on commit, the pre-commit test hook; and the remote fallback of resolveRev. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo } from '../../src/repo/repo.js';
import { withTransaction } from '../../src/repo/transaction.js';
import { tempDir } from '../common/tmp.js';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  return fn().finally(() => {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  });
}

const staging = (repo: string): string[] => fs.readdirSync(path.join(repo, 'tmp')).filter((n) => n.startsWith('staging-')).sort();

test('transaction: a failed commit leaves its staging dir; the same boot reuses it; a commit removes it and other boots\' dirs', async () => {
  const repo = path.join(tempDir('txn'), 'repo');
  await Repo.create(repo, 'bare-user-only');
  const A = 'aaaaaaaa-0000-0000-0000-000000000001', B = 'bbbbbbbb-0000-0000-0000-000000000002';
  let ran = false;
  await assert.rejects(withEnv({ OSTREE_BOOTID: A, OSTREE_REPO_TEST_ERROR: 'pre-commit' }, () => withTransaction(repo, async () => { ran = true; })),
    /OSTREE_REPO_TEST_ERROR_PRE_COMMIT/);
  assert.equal(ran, false, 'nothing published before the pre-commit failure');
  const leftA = staging(repo);
  assert.equal(leftA.length, 1);
  assert.match(leftA[0]!, new RegExp(`^staging-${A}-.{6}$`), 'no lock file stays behind');
  await assert.rejects(withEnv({ OSTREE_BOOTID: B, OSTREE_REPO_TEST_ERROR: 'pre-commit' }, () => withTransaction(repo, async () => {})));
  assert.equal(staging(repo).length, 2);
  // boot B again, successfully: reuses B's dir, removes it, and removes A's
  const out = await withEnv({ OSTREE_BOOTID: B, OSTREE_REPO_TEST_ERROR: undefined }, () => withTransaction(repo, async () => 42));
  assert.equal(out, 42);
  assert.deepEqual(staging(repo), []);
});

test('resolveRev: a bare ref not found locally is found under a remote (upstream\'s fallback)', async () => {
  const dir = tempDir('resolve');
  const repo = await Repo.create(path.join(dir, 'repo'), 'bare-user-only');
  const c = 'c'.repeat(64);
  fs.mkdirSync(path.join(dir, 'repo/refs/remotes/origin/os'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'repo/refs/remotes/origin/os/stable'), `${c}\n`);
  assert.equal(await repo.resolveRevOptional('os/stable'), c);
  assert.equal(await repo.resolveRevOptional('origin:os/stable'), c);
  assert.equal(await repo.resolveRevOptional('os/other'), null);
});
