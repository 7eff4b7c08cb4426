/**
 * Interop for what `commit` and `export` write across the format boundary, with upstream
 * /usr/bin/ostree as the oracle: `--generate-sizes` (the `ostree.sizes` metadata, hence the
 * commit checksum), `--tree=tar=` imports, the modifier options (statoverride, skip-list,
 * --mode-ro-executables, owner), `--table-output`, and `export`'s GNU tar bytes.
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
  fs.mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/bin/tool'), '#!/bin/sh\necho hi\n');
  fs.chmodSync(path.join(root, 'usr/bin/tool'), 0o775);
  fs.writeFileSync(path.join(root, 'usr/bin/skipme'), 'x');
  fs.writeFileSync(path.join(root, 'usr/lib/lib.so'), Buffer.alloc(70000, 7));
  fs.symlinkSync('tool', path.join(root, 'usr/bin/link'));
  fs.linkSync(path.join(root, 'usr/lib/lib.so'), path.join(root, 'usr/lib/hard.so'));
}

/** Two archive repositories (upstream's and ours) and a source tree. */
function setup(): { dir: string; a: string; b: string; tree: string } {
  const dir = tempDir('commit-interop-');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  up('init', `--repo=${a}`, '--mode=archive');
  ours('init', `--repo=${b}`, '--mode=archive');
  const tree = path.join(dir, 'tree');
  makeTree(tree);
  return { dir, a, b, tree };
}

test('commit --generate-sizes: the same commit (and ostree.sizes) as upstream', () => {
  const { a, b, tree } = setup();
  const args = ['commit', '-b', 'x', '--timestamp=@1000', '--generate-sizes', '--owner-uid=0', '--owner-gid=0', `--tree=dir=${tree}`];
  assert.equal(ours(`--repo=${b}`, ...args), up(`--repo=${a}`, ...args));
  assert.equal(ours(`--repo=${b}`, 'show', '--print-sizes', 'x'), up(`--repo=${a}`, 'show', '--print-sizes', 'x'));
  assert.equal(up(`--repo=${b}`, 'show', '--print-sizes', 'x'), up(`--repo=${a}`, 'show', '--print-sizes', 'x'));
  up(`--repo=${b}`, 'fsck');
});

test('commit modifiers (statoverride, skip-list, ro-executables) give upstream\'s commit', () => {
  const { dir, a, b, tree } = setup();
  fs.writeFileSync(path.join(dir, 'so'), '+2048 /usr/bin/tool\n=384 /usr/lib/lib.so\n');
  fs.writeFileSync(path.join(dir, 'skip'), '/usr/bin/skipme\n');
  const args = ['commit', '-b', 'x', '--timestamp=@1000', '--owner-uid=5', '--owner-gid=6', '--mode-ro-executables',
    `--statoverride=${path.join(dir, 'so')}`, `--skip-list=${path.join(dir, 'skip')}`, `--tree=dir=${tree}`];
  assert.equal(ours(`--repo=${b}`, ...args), up(`--repo=${a}`, ...args));
});

test('commit --tree=tar= (tar and cpio) gives upstream\'s commit; export writes upstream\'s tar', () => {
  const { dir, a, b, tree } = setup();
  const tar = path.join(dir, 't.tar.gz');
  execFileSync('tar', ['-C', tree, '-czf', tar, '.']);
  const cpio = path.join(dir, 't.cpio');
  execFileSync('sh', ['-c', `cd '${tree}' && find . | cpio -o -H newc > '${cpio}' 2>/dev/null`]);
  for (const src of [tar, cpio]) {
    const args = ['commit', '-b', 'x', '--timestamp=@1000', `--tree=tar=${src}`];
    assert.equal(ours(`--repo=${b}`, ...args), up(`--repo=${a}`, ...args), src);
  }
  const ta = path.join(dir, 'a.tar');
  const tb = path.join(dir, 'b.tar');
  up(`--repo=${a}`, 'export', 'x', `--output=${ta}`, '--prefix=p/', '--subpath=usr');
  ours(`--repo=${a}`, 'export', 'x', `--output=${tb}`, '--prefix=p/', '--subpath=usr');
  assert.deepEqual(fs.readFileSync(tb), fs.readFileSync(ta));
});

test('commit --table-output counts as upstream (a second commit writes no content)', () => {
  const { a, b, tree } = setup();
  for (const r of [a, b]) ours(`--repo=${r}`, 'commit', '-b', 'x', `--tree=dir=${tree}`);
  const o = ours(`--repo=${b}`, 'commit', '-b', 'x', '--table-output', `--tree=dir=${tree}`);
  assert.match(o, /^Content Written: 0$/m);
  assert.match(o, /^Content Total: 5$/m);
});
