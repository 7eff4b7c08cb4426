/**
 * Static deltas against upstream ostree 2022.7: upstream applies and shows the deltas we
 * generate (scratch, from a parent with bsdiff, inline, byte-swapped), we apply upstream's,
 * in bare-user and archive repositories; and we read the old-endian deltas upstream ships.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';
import { OURS_CLI, UPSTREAM_CLI } from '../common/cli-paths.js';

const UPSTREAM = UPSTREAM_CLI;
const OURS = OURS_CLI;
const TARBALLS = '/usr/libexec/installed-tests/libostree';
let work = '';
let src = '';
let orig = '';
let next = '';

function run(bin: 'up' | 'ours', ...args: string[]): string {
  const r = bin === 'up' ? spawnSync(UPSTREAM, args, { encoding: 'utf8' }) : spawnSync(process.execPath, [OURS, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${bin} ostree ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function deltaDir(repo: string, scratch: boolean): string {
  const root = path.join(repo, 'deltas');
  for (const a of fs.readdirSync(root)) for (const b of fs.readdirSync(path.join(root, a))) if (b.includes('-') !== scratch) return path.join(root, a, b);
  throw new Error('no delta');
}

function freshRepo(name: string, mode: string): string {
  const r = path.join(work, name);
  fs.rmSync(r, { recursive: true, force: true });
  run('up', `--repo=${r}`, 'init', `--mode=${mode}`);
  return r;
}

before(() => {
  work = tempDir('delta-interop-');
  const files = path.join(work, 'files');
  fs.mkdirSync(files);
  for (const b of ['bash', 'true']) fs.copyFileSync(`/usr/bin/${b}`, path.join(files, b));
  fs.symlinkSync('bash', path.join(files, 'sh'));
  src = path.join(work, 'src');
  run('up', `--repo=${src}`, 'init', '--mode=archive');
  run('up', `--repo=${src}`, 'commit', '-b', 'main', '-s', 'one', `--tree=dir=${files}`);
  orig = run('up', `--repo=${src}`, 'rev-parse', 'main').trim();
  fs.writeFileSync(path.join(files, 'bash'), Buffer.concat([Buffer.from('aheader\n'), fs.readFileSync('/usr/bin/bash')]));
  fs.writeFileSync(path.join(files, 'added'), 'new file\n');
  run('up', `--repo=${src}`, 'commit', '-b', 'main', '-s', 'two', `--tree=dir=${files}`);
  next = run('up', `--repo=${src}`, 'rev-parse', 'main').trim();
});

for (const mode of ['bare-user', 'archive']) {
  test(`upstream applies our deltas (${mode})`, () => {
    const repo = path.join(work, `ours-src-${mode}`);
    execFileSync('cp', ['-a', src, repo]);
    run('ours', `--repo=${repo}`, 'static-delta', 'generate', '--empty', `--to=${orig}`);
    run('ours', `--repo=${repo}`, 'static-delta', 'generate', `--from=${orig}`, `--to=${next}`);
    assert.match(run('up', `--repo=${repo}`, 'static-delta', 'show', `${orig}-${next}`), /bspatch=1/);
    const dest = freshRepo(`up-dest-${mode}`, mode === 'archive' ? 'bare-user' : mode);
    run('up', `--repo=${dest}`, 'static-delta', 'apply-offline', deltaDir(repo, true));
    run('up', `--repo=${dest}`, 'static-delta', 'apply-offline', deltaDir(repo, false));
    run('up', `--repo=${dest}`, 'fsck');
    assert.match(run('up', `--repo=${dest}`, 'ls', next, '/added'), /added/);
  });

  test(`we apply upstream's deltas (${mode})`, () => {
    const repo = path.join(work, `up-src-${mode}`);
    execFileSync('cp', ['-a', src, repo]);
    run('up', `--repo=${repo}`, 'static-delta', 'generate', '--empty', `--to=${orig}`);
    run('up', `--repo=${repo}`, 'static-delta', 'generate', `--from=${orig}`, `--to=${next}`, '--inline');
    const dest = freshRepo(`ours-dest-${mode}`, mode);
    run('ours', `--repo=${dest}`, 'static-delta', 'apply-offline', deltaDir(repo, true));
    run('ours', `--repo=${dest}`, 'static-delta', 'apply-offline', path.join(deltaDir(repo, false), 'superblock'));
    run('up', `--repo=${dest}`, 'fsck');
    run('ours', `--repo=${dest}`, 'fsck');
    assert.equal(run('ours', `--repo=${repo}`, 'static-delta', 'show', orig), run('up', `--repo=${repo}`, 'static-delta', 'show', orig));
  });
}

test('byte-swapped deltas read the same by both', () => {
  const repo = path.join(work, 'swapped');
  execFileSync('cp', ['-a', src, repo]);
  run('ours', `--repo=${repo}`, 'static-delta', 'generate', '--swap-endianness', `--from=${orig}`, `--to=${next}`);
  const upShow = run('up', `--repo=${repo}`, 'static-delta', 'show', `${orig}-${next}`);
  assert.match(upShow, /Endianness: big/);
  assert.equal(run('ours', `--repo=${repo}`, 'static-delta', 'show', `${orig}-${next}`), upShow);
  const dest = freshRepo('swapped-dest', 'bare-user');
  run('up', `--repo=${dest}`, 'pull-local', src, orig);
  run('up', `--repo=${dest}`, 'static-delta', 'apply-offline', deltaDir(repo, false));
  run('up', `--repo=${dest}`, 'fsck');
});

test("upstream's pre-endianness deltas: same show output as upstream (heuristic)", () => {
  for (const which of ['big', 'little']) {
    const dir = path.join(work, `pre-${which}`);
    fs.mkdirSync(dir);
    execFileSync('tar', ['xf', path.join(TARBALLS, `pre-endian-deltas-repo-${which}.tar.xz`), '-C', dir]);
    const repo = path.join(dir, 'pre-endian-deltas-repo');
    const from = run('up', `--repo=${repo}`, 'rev-parse', 'main^').trim();
    const to = run('up', `--repo=${repo}`, 'rev-parse', 'main').trim();
    assert.equal(run('ours', `--repo=${repo}`, 'static-delta', 'show', `${from}-${to}`), run('up', `--repo=${repo}`, 'static-delta', 'show', `${from}-${to}`));
  }
});

test('signed deltas (dummy engine): each verifies and applies the other\'s', () => {
  process.env['OSTREE_DUMMY_SIGN_ENABLED'] = '1';
  for (const [signer, checker] of [['ours', 'up'], ['up', 'ours']] as const) {
    const repo = path.join(work, `signed-${signer}`);
    execFileSync('cp', ['-a', src, repo]);
    run(signer, `--repo=${repo}`, 'static-delta', 'generate', `--from=${orig}`, `--to=${next}`, '--sign-type=dummy', '--sign=k1');
    assert.match(run(checker, `--repo=${repo}`, 'static-delta', 'verify', '--sign-type=dummy', `${orig}-${next}`, 'k1'), /Verification OK/);
    const bad = spawnSync(checker === 'up' ? UPSTREAM : process.execPath, [...(checker === 'up' ? [] : [OURS]), `--repo=${repo}`, 'static-delta', 'verify', '--sign-type=dummy', `${orig}-${next}`, 'k2'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /Verification fails/);
    const dest = freshRepo(`signed-dest-${signer}`, 'bare-user');
    run('up', `--repo=${dest}`, 'pull-local', src, orig);
    run(checker, `--repo=${dest}`, 'static-delta', 'apply-offline', '--sign-type=dummy', deltaDir(repo, false), 'k1');
    run('up', `--repo=${dest}`, 'fsck');
  }
});

test("upstream's fah-deltadata trees: each applies the other's delta", () => {
  const repo = path.join(work, 'fah');
  run('up', `--repo=${repo}`, 'init', '--mode=archive');
  const tree = path.join(work, 'fah-tree');
  fs.mkdirSync(tree);
  execFileSync('tar', ['xf', path.join(TARBALLS, 'fah-deltadata-old.tar.xz'), '-C', tree]);
  run('up', `--repo=${repo}`, 'commit', '-b', 'main', '-s', 'old', `--tree=dir=${tree}`);
  const a = run('up', `--repo=${repo}`, 'rev-parse', 'main').trim();
  execFileSync('tar', ['xf', path.join(TARBALLS, 'fah-deltadata-new.tar.xz'), '-C', tree]);
  run('up', `--repo=${repo}`, 'commit', '-b', 'main', '-s', 'new', `--tree=dir=${tree}`);
  const b = run('up', `--repo=${repo}`, 'rev-parse', 'main').trim();
  for (const [maker, applier] of [['ours', 'up'], ['up', 'ours']] as const) {
    const out = path.join(work, `fah-${maker}`);
    fs.mkdirSync(out);
    run(maker, `--repo=${repo}`, 'static-delta', 'generate', `--from=${a}`, `--to=${b}`, '--min-fallback-size=0', `--filename=${out}/superblock`);
    const dest = freshRepo(`fah-dest-${maker}`, 'bare-user');
    run('up', `--repo=${dest}`, 'pull-local', repo, a);
    run(applier, `--repo=${dest}`, 'static-delta', 'apply-offline', `${out}/superblock`);
    run('up', `--repo=${dest}`, 'fsck');
    assert.match(run('up', `--repo=${dest}`, 'ls', b), /\//);
  }
});
