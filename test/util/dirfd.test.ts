/**
 * util/dirfd: walks and removals that neither recurse nor build long paths, and never follow
 * a symlink.  Trees deeper than PATH_MAX allows in one path are built with python's chdir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { DirChain, at, removeTree, walkTree } from '../../src/util/dirfd.js';
import { readFileBounded } from '../../src/util/fs.js';
import { copyTree, rmrf } from '../../src/util/tree.js';
import { isOstreeError } from '../../src/errors.js';

const BASE = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

function scratch(fn: (d: string) => void): void {
  const d = fs.mkdtempSync(path.join(BASE, 'dirfd-'));
  try { fn(d); } finally { execFileSync('rm', ['-rf', d]); }
}

/** `depth` directories named `name` under `base`, a file `leaf` at the bottom. */
function deepChain(base: string, depth: number, name = 'd'): void {
  const script = 'import os,sys\nos.makedirs(sys.argv[1], exist_ok=True)\nos.chdir(sys.argv[1])\n' +
    'for i in range(int(sys.argv[2])):\n    os.mkdir(sys.argv[3]); os.chdir(sys.argv[3])\nopen("leaf","w").write("x")\n';
  execFileSync('python3', ['-c', script, base, String(depth), name]);
}

test('removeTree: 10,000 levels, and long names past PATH_MAX, go without recursion', () => {
  scratch((d) => {
    deepChain(path.join(d, 'deep'), 10_000);
    deepChain(path.join(d, 'long'), 40, 'n'.repeat(200)); // 8 KB of path
    fs.mkdirSync(path.join(d, 'deep/sibling'));
    fs.symlinkSync('/', path.join(d, 'deep/root-link')); // removed, not followed
    removeTree(path.join(d, 'deep'));
    rmrf(path.join(d, 'long'));
    assert.deepEqual(fs.readdirSync(d), []);
    removeTree(path.join(d, 'missing')); // not an error
  });
});

test('DirChain: deeper than its open-descriptor window, leave() reopens through ..', () => {
  scratch((d) => {
    deepChain(path.join(d, 't'), 300);
    const c = new DirChain(path.join(d, 't'));
    try {
      for (let i = 0; i < 300; i++) c.enter('d');
      assert.equal(fs.readFileSync(at(c.fd, 'leaf'), 'utf8'), 'x');
      for (let i = 0; i < 300; i++) c.leave();
      assert.deepEqual(fs.readdirSync(at(c.fd)), ['d']);
      const r = c.tryGoto(['d', 'd', 'nope', 'x']);
      assert.deepEqual(r, { reached: 2, stop: 'ENOENT' });
      fs.symlinkSync('/', path.join(d, 't/d/link'));
      assert.deepEqual(c.tryGoto(['d', 'link', 'etc']), { reached: 1, stop: 'ENOTDIR' });
    } finally {
      c.close();
    }
  });
});

test('walkTree: pre-order, each directory right after itself, symlinks not entered', () => {
  scratch((d) => {
    for (const p of ['a/x', 'a/y/z', 'b']) fs.mkdirSync(path.join(d, 't', p), { recursive: true });
    fs.writeFileSync(path.join(d, 't/a/y/z/f'), '');
    fs.symlinkSync('/etc', path.join(d, 't/a/l'));
    const seen: string[] = [];
    const left: string[] = [];
    walkTree(path.join(d, 't'), { order: (n) => n.sort(), visit: (e) => { seen.push(e.rel); }, leave: (r) => left.push(r) });
    assert.deepEqual(seen, ['a', 'a/l', 'a/x', 'a/y', 'a/y/z', 'a/y/z/f', 'b']);
    assert.deepEqual(left, ['a/x', 'a/y/z', 'a/y', 'a', 'b']);
  });
});

test('copyTree: deep trees copy, modes kept, FIFOs skipped, nothing left on failure', () => {
  scratch((d) => {
    deepChain(path.join(d, 'src/deep'), 3_000);
    fs.chmodSync(path.join(d, 'src/deep'), 0o750);
    execFileSync('mkfifo', [path.join(d, 'src/fifo')]);
    fs.symlinkSync('deep', path.join(d, 'src/link'));
    copyTree(path.join(d, 'src'), path.join(d, 'dst'));
    assert.deepEqual(fs.readdirSync(path.join(d, 'dst')).sort(), ['deep', 'link']);
    assert.equal(fs.statSync(path.join(d, 'dst/deep')).mode & 0o7777, 0o750);
    assert.equal(fs.readlinkSync(path.join(d, 'dst/link')), 'deep');
    removeTree(path.join(d, 'src'));
    removeTree(path.join(d, 'dst'));
  });
});

test('readFileBounded: size checked before reading, FIFOs and devices never read, ENOENT is null', () => {
  scratch((d) => {
    const big = path.join(d, 'big');
    execFileSync('truncate', ['-s', '64M', big]);
    assert.throws(() => readFileBounded(big, 1024, { what: 'Test file' }),
      (e: unknown) => isOstreeError(e, 'ECORRUPT') && (e as Error).message === `Test file ${big} is 67.1\u00a0MB, more than the limit of 1.0\u00a0kB; remove or repair it`);
    execFileSync('mkfifo', [path.join(d, 'fifo')]);
    assert.throws(() => readFileBounded(path.join(d, 'fifo'), 1024, { what: 'Test file' }), /is a FIFO, not a regular file/);
    assert.throws(() => readFileBounded('/dev/zero', 1024, { what: 'Test file' }), /is a character device, not a regular file/);
    fs.symlinkSync('big', path.join(d, 'link'));
    assert.throws(() => readFileBounded(path.join(d, 'link'), 1024, { what: 'Test file', follow: false }), /symbolic link/);
    assert.equal(readFileBounded(path.join(d, 'none'), 1024, { what: 'Test file' }), null);
    fs.writeFileSync(path.join(d, 'small'), 'abc');
    assert.equal(readFileBounded(path.join(d, 'small'), 3, { what: 'Test file' })?.toString(), 'abc');
  });
});
