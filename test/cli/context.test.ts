/**
 * src/cli/context.ts: where the repository and the sysroot come from, and the refusal of an
 * empty `--repo=` / `--sysroot=` (which Node would resolve to the current directory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoPathFrom, sysrootFrom } from '../../src/cli/context.js';
import { tempDir } from '../common/tmp.js';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  try { return fn(); } finally {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

test('repoPathFrom: --repo, then $OSTREE_REPO (empty counts as unset), then /ostree/repo', () => {
  withEnv({ OSTREE_REPO: undefined, OSTREE_SYSROOT: undefined }, () => {
    assert.equal(repoPathFrom('/r'), '/r');
    assert.equal(repoPathFrom(undefined), '/ostree/repo');
  });
  withEnv({ OSTREE_REPO: '/env' }, () => {
    assert.equal(repoPathFrom(undefined), '/env');
    assert.equal(repoPathFrom('rel'), 'rel');
  });
  withEnv({ OSTREE_REPO: '', OSTREE_SYSROOT: undefined }, () => assert.equal(repoPathFrom(undefined), '/ostree/repo'));
  assert.throws(() => repoPathFrom(''), /^OstreeError: --repo= was given an empty path; write --repo=PATH/);
});

test('sysrootFrom: --sysroot, then $OSTREE_SYSROOT (empty counts as unset), then /', () => {
  withEnv({ OSTREE_SYSROOT: undefined }, () => {
    assert.equal(sysrootFrom('/s'), '/s');
    assert.equal(sysrootFrom(undefined), '/');
  });
  withEnv({ OSTREE_SYSROOT: '/env' }, () => assert.equal(sysrootFrom(undefined), '/env'));
  withEnv({ OSTREE_SYSROOT: '' }, () => assert.equal(sysrootFrom(undefined), '/'));
  assert.throws(() => sysrootFrom(''), /--sysroot= was given an empty path/);
});

test('repoPathFrom without --repo (upstream ostree_repo_new_default): a repository in the current directory, then $OSTREE_REPO, then $OSTREE_SYSROOT/ostree/repo', () => {
  withEnv({ OSTREE_REPO: undefined, OSTREE_SYSROOT: '/mnt/sysroot' }, () => assert.equal(repoPathFrom(undefined), '/mnt/sysroot/ostree/repo'));
  withEnv({ OSTREE_REPO: '/env', OSTREE_SYSROOT: '/mnt/sysroot' }, () => assert.equal(repoPathFrom(undefined), '/env'));
  const dir = tempDir('cwd-repo');
  fs.mkdirSync(path.join(dir, 'objects'));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    // objects/ alone is not a repository: config must be a file too
    withEnv({ OSTREE_REPO: '/env' }, () => assert.equal(repoPathFrom(undefined), '/env'));
    fs.writeFileSync(path.join(dir, 'config'), '[core]\n');
    withEnv({ OSTREE_REPO: '/env' }, () => assert.equal(repoPathFrom(undefined), '.'));
    assert.equal(repoPathFrom('/explicit'), '/explicit');
  } finally {
    process.chdir(cwd);
  }
});
