/**
 * Interop with upstream /usr/bin/ostree (2022.7) as the oracle, in every repo mode:
 * upstream fsck/checkout/ls on repos we wrote, our ls/log/checkout on repos upstream wrote,
 * and identical commit checksums for identical input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as libc from '../../src/native/libc.js';
import { checkoutSnapshot } from '../common/tree.js';
import { tempDir } from '../common/tmp.js';
import { up, ours } from '../common/cli-paths.js';

const isRoot = process.getuid?.() === 0;

function tmp(): string { return tempDir('repo-interop-'); }

function xattrsSupported(dir: string): boolean {
  try { execFileSync('setfattr', ['-n', 'user.probe', '-v', '1', dir], { stdio: 'ignore' }); execFileSync('setfattr', ['-x', 'user.probe', dir], { stdio: 'ignore' }); return true; } catch { return false; }
}

function makeTree(root: string): void {
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc/empty'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/bin/tool'), '#!/bin/sh\necho hi\n');
  fs.chmodSync(path.join(root, 'usr/bin/tool'), 0o755);
  fs.writeFileSync(path.join(root, 'etc/conf'), 'k=v\n');
  fs.chmodSync(path.join(root, 'etc/conf'), 0o600);
  fs.symlinkSync('usr/bin', path.join(root, 'bin'));
  fs.symlinkSync('/absolute/target', path.join(root, 'dangling'));
  fs.writeFileSync(path.join(root, 'large'), Buffer.alloc(2 * 1024 * 1024 + 3, 0x5a));
  fs.writeFileSync(path.join(root, 'empty'), '');
  fs.writeFileSync(path.join(root, 'ünïcode name'), 'u');
  for (let i = 0; i < 80; i++) fs.writeFileSync(path.join(root, 'usr', `f${String(i).padStart(3, '0')}`), `content ${i % 10}\n`);
  if (isRoot) {
    fs.writeFileSync(path.join(root, 'owned'), 'o');
    fs.chownSync(path.join(root, 'owned'), 1000, 1001);
    fs.chmodSync(path.join(root, 'usr/bin/tool'), 0o4755);
    fs.chmodSync(path.join(root, 'etc/empty'), 0o1777);
  }
  if (xattrsSupported(root)) execFileSync('setfattr', ['-n', 'user.test', '-v', 'value', path.join(root, 'etc/conf')]);
}

/** Shape of a checked-out tree: names, types, modes, owners, sizes, contents digest, symlink targets, user.* xattrs. */
function shape(root: string, withOwners: boolean): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string): void => {
    for (const n of fs.readdirSync(p).sort()) {
      const full = path.join(p, n);
      const st = fs.lstatSync(full);
      const own = withOwners ? ` ${st.uid}:${st.gid}` : '';
      const r = `${rel}/${n}`;
      let xa = '';
      if (!st.isSymbolicLink()) {
        try { xa = execFileSync('getfattr', ['--absolute-names', '-d', '-m', '^user\\.', full], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('user.') && !l.startsWith('user.ostreemeta')).join(','); } catch { /* none */ }
      }
      if (st.isDirectory()) { out.push(`d ${r} ${(st.mode & 0o7777).toString(8)}${own} ${xa}`); walk(full, r); }
      else if (st.isSymbolicLink()) out.push(`l ${r} -> ${fs.readlinkSync(full)}${own}`);
      else out.push(`f ${r} ${(st.mode & 0o7777).toString(8)}${own} ${st.size} ${fs.readFileSync(full).toString('base64').slice(0, 24)} ${xa}`);
    }
  };
  walk(root, '');
  return out;
}

const COMMIT_ARGS = ['-s', 'Interop subject', '--body', 'Body line 1\nline 2', '--add-metadata-string', 'version=42.1',
  '--add-metadata-string', 'ostree.source-title=test', '--timestamp', '2021-06-01T12:00:00Z'];

for (const mode of ['bare-user', 'bare-user-only', 'archive', ...(isRoot ? ['bare'] : [])]) {
  test(`${mode}: same tree and metadata give the same commit checksum as upstream, with and without bindings`, () => {
    const d = tmp();
    const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
    up('init', `--repo=${d}/up`, `--mode=${mode}`);
    ours('init', `--repo=${d}/ours`, `--mode=${mode}`);
    const a = up('commit', `--repo=${d}/up`, '-b', 'os/main', `--tree=dir=${src}`, ...COMMIT_ARGS).trim();
    const b = ours('commit', `--repo=${d}/ours`, '-b', 'os/main', `--tree=dir=${src}`, ...COMMIT_ARGS).trim();
    assert.match(b, /^[0-9a-f]{64}$/);
    assert.equal(b, a);
    const a2 = up('commit', `--repo=${d}/up`, '-b', 'os/main', '--no-bindings', `--tree=dir=${src}`, ...COMMIT_ARGS).trim();
    const b2 = ours('commit', `--repo=${d}/ours`, '-b', 'os/main', '--no-bindings', `--tree=dir=${src}`, ...COMMIT_ARGS).trim();
    assert.equal(b2, a2, 'second commit (with parent, no bindings)');
    // the object sets are identical
    const list = (r: string): string[] => execFileSync('find', [`${r}/objects`, '-type', 'f', '-printf', '%P\n'], { encoding: 'utf8' }).split('\n').sort();
    assert.deepEqual(list(`${d}/ours`), list(`${d}/up`));
  });

  test(`${mode}: upstream fsck, ls -R and checkout accept the repo we wrote`, () => {
    const d = tmp();
    const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
    ours('init', `--repo=${d}/ours`, `--mode=${mode}`);
    const c = ours('commit', `--repo=${d}/ours`, '-b', 'main', src, '-s', 'x').trim();
    const fsck = up('fsck', `--repo=${d}/ours`);
    assert.match(fsck, /no errors found/);
    assert.equal(up('rev-parse', `--repo=${d}/ours`, 'main').trim(), c);
    assert.equal(ours('ls', `--repo=${d}/ours`, '-R', 'main'), up('ls', `--repo=${d}/ours`, '-R', 'main'));
    const userMode = mode !== 'bare' && mode !== 'archive';
    const flag = userMode ? ['-U'] : isRoot ? [] : ['-U'];
    up('checkout', `--repo=${d}/ours`, ...flag, 'main', `${d}/co-up`);
    const withOwners = flag.length === 0 && mode !== 'bare-user-only';
    // user mode (-U) checkouts drop xattrs and setuid/setgid bits, as upstream does.
    const stripUser = (l: string): string => {
      if (!flag.length) return l;
      const parts = l.split(' ');
      if (parts[0] === 'f') { parts[2] = (parseInt(parts[2]!, 8) & 0o1777).toString(8); parts[parts.length - 1] = ''; }
      if (parts[0] === 'd') parts[parts.length - 1] = '';
      return parts.join(' ');
    };
    const want = shape(src, withOwners).map(stripUser);
    const got = shape(`${d}/co-up`, withOwners).map(stripUser);
    if (mode === 'bare-user-only') {
      // bare-user-only drops xattrs, ownership and setuid/sticky bits, as upstream.
      assert.deepEqual(got.map((l) => l.split(' ').slice(0, 2).join(' ')), want.map((l) => l.split(' ').slice(0, 2).join(' ')));
    } else {
      assert.deepEqual(got, want);
    }
  });

  test(`${mode}: our ls, log, show, cat and checkout on a repo upstream wrote`, () => {
    const d = tmp();
    const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
    up('init', `--repo=${d}/up`, `--mode=${mode}`);
    up('commit', `--repo=${d}/up`, '-b', 'main', `--tree=dir=${src}`, ...COMMIT_ARGS);
    fs.writeFileSync(path.join(src, 'new'), 'n');
    up('commit', `--repo=${d}/up`, '-b', 'main', `--tree=dir=${src}`, '-s', 'second', '--timestamp', '2021-06-02T00:00:00Z');
    for (const args of [['ls', '-R', 'main'], ['ls', '-RX', 'main'], ['ls', 'main', '/usr/bin', '/large'], ['ls', '-d', 'main', '/etc'], ['ls', '-C', 'main', '/etc/conf'],
      ['log', 'main'], ['log', '--raw', 'main'], ['show', 'main^'], ['show', '--raw', 'main^'], ['rev-parse', 'main^'], ['cat', 'main', '/etc/conf'], ['refs'], ['show', '--print-metadata-key=version', 'main^']]) {
      assert.equal(ours(`--repo=${d}/up`, ...args), up(`--repo=${d}/up`, ...args), args.join(' '));
    }
    const flag = mode === 'bare' && isRoot ? [] : ['-U'];
    up('checkout', `--repo=${d}/up`, ...flag, 'main', `${d}/co-up`);
    ours('checkout', `--repo=${d}/up`, ...flag, 'main', `${d}/co-ours`);
    const withOwners = flag.length === 0;
    assert.deepEqual(shape(`${d}/co-ours`, withOwners), shape(`${d}/co-up`, withOwners));
    ours('checkout', `--repo=${d}/up`, ...flag, '--subpath=/usr/bin', 'main', `${d}/sub-ours`);
    up('checkout', `--repo=${d}/up`, ...flag, '--subpath=/usr/bin', 'main', `${d}/sub-up`);
    assert.deepEqual(shape(`${d}/sub-ours`, withOwners), shape(`${d}/sub-up`, withOwners));
  });
}

test('bare (root): hardlink checkout -H shares inodes with objects; copy with --force-copy', { skip: !isRoot && 'needs root for bare mode' }, () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
  up('init', `--repo=${d}/up`, '--mode=bare');
  up('commit', `--repo=${d}/up`, '-b', 'main', src, '-s', 'x');
  ours('checkout', `--repo=${d}/up`, '-H', 'main', `${d}/co`);
  assert.ok(fs.statSync(`${d}/co/large`).nlink >= 2);
  assert.equal(fs.lstatSync(`${d}/co/owned`).uid, 1000);
  ours('checkout', `--repo=${d}/up`, '--force-copy', 'main', `${d}/co2`);
  assert.equal(fs.statSync(`${d}/co2/large`).nlink, 1);
  assert.deepEqual(shape(`${d}/co2`, true), shape(`${d}/co`, true));
});

/** ~5000 entries (enough for the checkout to split the work across threads), with owners,
 *  xattrs, read-only and sticky directories, symlinks, a whiteout and shared contents. */
function makeLargeTree(root: string): void {
  for (let a = 0; a < 12; a++) {
    for (let b = 0; b < 6; b++) {
      const dir = path.join(root, `usr/share/pkg${a}/sub${b}`);
      fs.mkdirSync(path.join(dir, 'deep'), { recursive: true });
      for (let i = 0; i < 60; i++) fs.writeFileSync(path.join(dir, `file${i}`), `${a}-${b}-${i % 25}\n`);
      fs.symlinkSync(`../sub${(b + 1) % 6}/file1`, path.join(dir, 'link'));
      fs.writeFileSync(path.join(dir, 'deep', 'same'), 'same everywhere\n');
      if (b === 3) fs.chmodSync(path.join(dir, 'deep'), 0o555);
    }
  }
  fs.writeFileSync(path.join(root, 'usr/share/.ostree-wh.removed'), '');
  fs.chownSync(path.join(root, 'usr/share/pkg4'), 1000, 1001);
  fs.chownSync(path.join(root, 'usr/share/pkg4/sub0/file3'), 1002, 1003);
  fs.chmodSync(path.join(root, 'usr/share/pkg5'), 0o1777);
  fs.chmodSync(path.join(root, 'usr/share/pkg6/sub1/file2'), 0o4755);
  libc.lsetxattr(path.join(root, 'usr/share/pkg7/sub2/file5'), 'user.large', Buffer.from('x'));
  libc.lsetxattr(path.join(root, 'usr/share/pkg7'), 'user.dir', Buffer.from('y'));
  fs.chmodSync(path.join(root, 'usr/share/pkg8'), 0o555);
}

for (const mode of ['bare', 'bare-user-only']) {
  test(`${mode} (root): a large hardlink checkout equals upstream's, inode for inode (-H, -U, passthrough whiteouts)`, { skip: !isRoot && 'needs root' }, () => {
    const d = tmp();
    const src = path.join(d, 'src');
    makeLargeTree(src);
    up('init', `--repo=${d}/up`, `--mode=${mode}`);
    up('commit', `--repo=${d}/up`, '-b', 'main', src, '-s', 'large');
    const variants: string[][] = [['-H'], ['-H', '--process-passthrough-whiteouts'], ...(mode === 'bare-user-only' ? [['-U', '-H']] : [])];
    for (const [i, flags] of variants.entries()) {
      up('checkout', `--repo=${d}/up`, ...flags, 'main', `${d}/up${i}`);
      ours('checkout', `--repo=${d}/up`, ...flags, 'main', `${d}/ours${i}`);
      const want = checkoutSnapshot(`${d}/up${i}`, `${d}/up`);
      // Upstream hardlinks all but empty files and (bare-user-only) symlinks.
      assert.ok(want.filter((l) => / obj=[0-9a-f]/.test(l)).length > 4000, `${want.length} entries`);
      assert.deepEqual(checkoutSnapshot(`${d}/ours${i}`, `${d}/up`), want, flags.join(' '));
    }
    fs.rmSync(d, { recursive: true, force: true });
  });
}

test('config get/set and refs --create/--delete interoperate', () => {
  const d = tmp();
  ours('init', `--repo=${d}/r`, '--mode=archive');
  assert.equal(up('config', `--repo=${d}/r`, 'get', 'core.mode').trim(), 'archive-z2');
  ours('config', `--repo=${d}/r`, 'set', 'remote "ab".url', 'http://example.com');
  assert.equal(up('config', `--repo=${d}/r`, 'get', 'remote "ab".url').trim(), 'http://example.com');
  const src = path.join(d, 'src'); fs.mkdirSync(src); fs.writeFileSync(path.join(src, 'f'), 'x');
  const c = up('commit', `--repo=${d}/r`, '-b', 'main', src, '-s', 'x').trim();
  ours('refs', `--repo=${d}/r`, `--create=other/ref`, 'main');
  assert.equal(up('rev-parse', `--repo=${d}/r`, 'other/ref').trim(), c);
  assert.equal(ours('refs', `--repo=${d}/r`), up('refs', `--repo=${d}/r`));
  ours('refs', `--repo=${d}/r`, '--delete', 'other');
  assert.equal(up('refs', `--repo=${d}/r`).trim(), 'main');
});

test('commit --canonical-permissions, --skip-if-unchanged, --consume and core.disable-xattrs match upstream', () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
  for (const mode of ['bare-user', 'archive']) {
    up('init', `--repo=${d}/up-${mode}`, `--mode=${mode}`);
    ours('init', `--repo=${d}/ours-${mode}`, `--mode=${mode}`);
    const args = ['-b', 'm', '--canonical-permissions', '--timestamp=2020-01-01T00:00:00Z', `--tree=dir=${src}`];
    const a = up('commit', `--repo=${d}/up-${mode}`, ...args).trim();
    assert.equal(ours('commit', `--repo=${d}/ours-${mode}`, ...args).trim(), a, `--canonical-permissions in ${mode}`);
    assert.equal(ours('commit', `--repo=${d}/ours-${mode}`, '-b', 'm', '--skip-if-unchanged', '--canonical-permissions', `--tree=dir=${src}`).trim(), a);
    assert.equal(up('rev-parse', `--repo=${d}/ours-${mode}`, 'm').trim(), a);
    assert.throws(() => up('rev-parse', `--repo=${d}/ours-${mode}`, 'm^'), 'no new commit was written');
  }
  // core.disable-xattrs=true (libtest's OSTREE_NO_XATTRS) drops xattrs like --no-xattrs
  fs.appendFileSync(`${d}/up-bare-user/config`, 'disable-xattrs=true\n');
  fs.appendFileSync(`${d}/ours-bare-user/config`, 'disable-xattrs=true\n');
  const args = ['-b', 'x', '--timestamp=2020-01-01T00:00:00Z', `--tree=dir=${src}`];
  assert.equal(ours('commit', `--repo=${d}/ours-bare-user`, ...args).trim(), up('commit', `--repo=${d}/up-bare-user`, ...args).trim());
  const copy = path.join(d, 'copy');
  fs.cpSync(src, copy, { recursive: true, verbatimSymlinks: true });
  ours('commit', `--repo=${d}/ours-archive`, '-b', 'c', '--consume', `--tree=dir=${copy}`);
  assert.equal(fs.existsSync(copy), false, '--consume removes the committed tree');
});

test('commit --tree=ref= and --add-detached-metadata-string match upstream byte for byte', () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
  const results: string[][] = [];
  for (const [name, run] of [['up', up], ['ours', ours]] as const) {
    const repo = `${d}/${name}`;
    run('init', `--repo=${repo}`, '--mode=archive');
    run('commit', `--repo=${repo}`, '-b', 'a', '--timestamp=2020-01-01T00:00:00Z', `--tree=dir=${src}`, '-s', 'one');
    const c = run('commit', `--repo=${repo}`, '-b', 'b', '--timestamp=2020-01-01T00:00:00Z', '--tree=ref=a', '-s', 'two', '--add-detached-metadata-string', 'foo=bar').trim();
    const meta = fs.readFileSync(`${repo}/objects/${c.slice(0, 2)}/${c.slice(2)}.commitmeta`).toString('hex');
    results.push([c, meta, up('show', `--repo=${repo}`, '--print-detached-metadata-key=foo', 'b').trim()]);
  }
  assert.deepEqual(results[1], results[0]);
  assert.equal(results[0]![2], "'bar'");
});
