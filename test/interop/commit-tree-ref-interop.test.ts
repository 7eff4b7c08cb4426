/**
 * Interop for `commit --tree=ref=REV` under commit modifiers, with upstream /usr/bin/ostree as
 * the oracle: upstream rewrites every file and directory of the stored tree with the rules
 * applied (new uid/gid/mode/xattrs, hence new checksums), so the same inputs must give the
 * same commit checksum byte for byte; also mixed with `--tree=dir=` and `--tree=tar=`, and the
 * statoverride quirk that a `+MODE` addition reaches a file but not a subdirectory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempDir } from '../common/tmp.js';
import { up, ours } from '../common/cli-paths.js';


function makeTree(root: string): void {
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'usr/share/empty'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/bin/tool'), '#!/bin/sh\necho hi\n');
  fs.chmodSync(path.join(root, 'usr/bin/tool'), 0o775);
  fs.writeFileSync(path.join(root, 'usr/bin/skipme'), 'x');
  // larger than the archive writer's in-memory limit: the stored data is streamed
  fs.writeFileSync(path.join(root, 'usr/share/big'), Buffer.alloc(5 * 1024 * 1024, 3));
  fs.symlinkSync('tool', path.join(root, 'usr/bin/link'));
}

/**
 * Upstream's repository and ours (mode `mode`), each holding the same commit `base` of the
 * same tree; returns both paths and a scratch directory.
 */
function setup(mode: string): { dir: string; a: string; b: string } {
  const dir = tempDir('commit-tree-ref-');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const tree = path.join(dir, 'tree');
  makeTree(tree);
  up('init', `--repo=${a}`, `--mode=${mode}`);
  ours('init', `--repo=${b}`, `--mode=${mode}`);
  const base = ['commit', '-b', 'base', '--timestamp=@1000', '--owner-uid=0', '--owner-gid=0', `--tree=dir=${tree}`];
  assert.equal(ours(`--repo=${b}`, ...base), up(`--repo=${a}`, ...base));
  return { dir, a, b };
}

/** Commit `args` in both repositories: the same checksum, and upstream's fsck accepts ours. */
function sameCommit(a: string, b: string, args: string[]): string {
  const full = ['commit', '-b', 'x', '--timestamp=@2000', ...args];
  const theirs = up(`--repo=${a}`, ...full);
  assert.equal(ours(`--repo=${b}`, ...full), theirs, args.join(' '));
  up(`--repo=${b}`, 'fsck', '-q');
  return theirs.trim();
}

test('commit --tree=ref= --owner-uid/--owner-gid: upstream\'s commit, the files rewritten', () => {
  for (const mode of ['archive', 'bare-user-only']) {
    const { a, b } = setup(mode);
    const c = sameCommit(a, b, ['--tree=ref=base', '--owner-uid=1234', '--owner-gid=99']);
    if (mode === 'archive') {
      assert.match(ours(`--repo=${b}`, 'ls', c, '/usr/bin/tool'), /^-00775 1234 99 /);
    }
    assert.notEqual(c, ours(`--repo=${b}`, 'rev-parse', 'base').trim());
  }
});

test('commit --tree=ref= with --statoverride, --skip-list, --mode-ro-executables, --no-xattrs, --canonical-permissions', () => {
  const { dir, a, b } = setup('archive');
  const so = path.join(dir, 'so');
  fs.writeFileSync(so, '+2048 /usr/bin/tool\n+1024 /usr/share\n=448 /usr/share/empty\n');
  const skip = path.join(dir, 'skip');
  fs.writeFileSync(skip, '/usr/bin/skipme\n');
  sameCommit(a, b, ['--tree=ref=base', `--statoverride=${so}`, `--skip-list=${skip}`]);
  sameCommit(a, b, ['--tree=ref=base', '--mode-ro-executables']);
  sameCommit(a, b, ['--tree=ref=base', '--no-xattrs']);
  sameCommit(a, b, ['--tree=ref=base', '--canonical-permissions']);
  sameCommit(a, b, ['--tree=ref=base', '--generate-sizes']);
  // a '+' statoverride is used up by its first match: the second source gets none
  sameCommit(a, b, ['--tree=ref=base', '--tree=ref=base', `--statoverride=${so}`]);
});

test('commit mixing --tree=dir=, --tree=tar= and --tree=ref= under a modifier', () => {
  const { dir, a, b } = setup('archive');
  const extra = path.join(dir, 'extra');
  fs.mkdirSync(path.join(extra, 'usr/bin'), { recursive: true });
  fs.writeFileSync(path.join(extra, 'usr/bin/tool'), 'replaced\n');
  fs.writeFileSync(path.join(extra, 'new'), 'new\n');
  const tar = path.join(dir, 'x.tar');
  execFileSync('tar', ['-C', extra, '-cf', tar, '.']);
  sameCommit(a, b, [`--tree=dir=${extra}`, '--tree=ref=base', '--owner-uid=7']);
  sameCommit(a, b, ['--tree=ref=base', `--tree=dir=${extra}`, '--owner-gid=8']);
  sameCommit(a, b, [`--tree=tar=${tar}`, '--tree=ref=base', `--tree=dir=${extra}`, '--owner-uid=9']);
  // without a modifier the stored tree is taken as it is: the same root as `base`
  sameCommit(a, b, ['--tree=ref=base']);
});

test('commit --tree=dir= --statoverride: a +MODE addition does not reach a subdirectory (upstream)', () => {
  const { dir, a, b } = setup('archive');
  const so = path.join(dir, 'so');
  fs.writeFileSync(so, '+2048 /usr/bin\n+1024 /usr/bin/tool\n=448 /usr/share\n');
  const tree = path.join(dir, 'tree');
  const c = sameCommit(a, b, [`--tree=dir=${tree}`, `--statoverride=${so}`]);
  assert.match(ours(`--repo=${b}`, 'ls', c, '/usr/bin'), /^d00755 /);
});
