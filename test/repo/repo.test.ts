import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OstreeError } from '../../src/errors.js';
import { Variant } from '../../src/glib/gvariant.js';
import { Repo, validateRefName, type RepoMode } from '../../src/repo/repo.js';

function tmp(): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'repo-test-')); }
const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));

function makeTree(root: string): void {
  fs.mkdirSync(path.join(root, 'sub/deep'), { recursive: true });
  fs.writeFileSync(path.join(root, 'a'), 'hello\n');
  fs.writeFileSync(path.join(root, 'exec'), '#!/bin/sh\n', { mode: 0o755 });
  fs.chmodSync(path.join(root, 'exec'), 0o755);
  fs.symlinkSync('a', path.join(root, 'link'));
  fs.writeFileSync(path.join(root, 'sub/deep/big'), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
  fs.writeFileSync(path.join(root, 'sub/.ostree-wh.gone'), '');
  fs.chmodSync(path.join(root, 'sub'), 0o750);
  for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(root, 'sub', `f${i}`), `file ${i}\n`);
}

function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string): void => {
    for (const n of fs.readdirSync(p).sort()) {
      const full = path.join(p, n);
      const st = fs.lstatSync(full);
      const r = `${rel}/${n}`;
      if (st.isDirectory()) { out.push(`d ${r} ${(st.mode & 0o7777).toString(8)}`); walk(full, r); }
      else if (st.isSymbolicLink()) out.push(`l ${r} -> ${fs.readlinkSync(full)}`);
      else out.push(`f ${r} ${(st.mode & 0o7777).toString(8)} ${st.size} ${fs.readFileSync(full).subarray(0, 16).toString('hex')}`);
    }
  };
  walk(root, '');
  return out;
}

test('init creates the upstream layout and config; open validates it', async () => {
  const d = tmp();
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  for (const sub of ['objects', 'tmp/cache', 'refs/heads', 'refs/mirrors', 'refs/remotes', 'state', 'extensions']) {
    assert.ok(fs.statSync(path.join(r.path, sub)).isDirectory(), sub);
  }
  assert.equal(fs.readFileSync(path.join(r.path, 'config'), 'utf8'), '[core]\nrepo_version=1\nmode=archive-z2\n');
  assert.equal((await Repo.open(r.path)).mode, 'archive');
  await Repo.create(r.path, 'archive'); // idempotent for the same mode
  await assert.rejects(Repo.create(r.path, 'bare'), isErr('EEXIST'));
  await assert.rejects(Repo.open(path.join(d, 'nope')), isErr('ENOENT', /no repository/));
  fs.writeFileSync(path.join(r.path, 'config'), '[core]\nrepo_version=1\nmode=weird\n');
  await assert.rejects(Repo.open(r.path), isErr('ECONFIG', /weird/));
});

test('ref names follow upstream rules; refs create, list, delete; remote refs', async () => {
  for (const good of ['main', 'a/b/c', 'fedora/x86_64/v1.0', '_x']) validateRefName(good);
  for (const bad of ['', '/a', 'a/', 'a//b', '-a', 'a b', '.a', 'a/../b']) assert.throws(() => validateRefName(bad), isErr('EINVAL'), bad);
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); fs.writeFileSync(path.join(src, 'f'), 'x');
  const r = await Repo.create(path.join(d, 'repo'), 'bare-user-only');
  const c1 = await r.commitTree(src, { branch: 'os/main', subject: 'one', timestamp: 1n });
  assert.equal(fs.readFileSync(path.join(r.path, 'refs/heads/os/main'), 'utf8'), c1 + '\n');
  await r.setRef('origin:os/main', c1);
  assert.deepEqual([...(await r.listRefs()).keys()], ['origin:os/main', 'os/main']);
  assert.deepEqual([...(await r.listRefs('os')).keys()], ['os/main']);
  assert.equal(await r.resolveRev('origin:os/main'), c1);
  await assert.rejects(r.setRef('os/main/x', c1), isErr('EEXIST'));
  await r.setRef('os/main', null);
  assert.equal(await r.resolveRevOptional('os/main'), null);
  await assert.rejects(r.resolveRev('os/main'), isErr('ENOENT', /Refspec 'os\/main' not found/));
  await assert.rejects(r.setRef('bad ref', c1), isErr('EINVAL'));
  assert.deepEqual(fs.readdirSync(path.join(r.path, 'tmp')).filter((n) => n !== 'cache'), [], 'no temp files left behind');
});

test('resolveRev: full and partial checksums, REV^, parent chain, errors', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src);
  const r = await Repo.create(path.join(d, 'repo'), 'bare-user-only');
  fs.writeFileSync(path.join(src, 'f'), '1');
  const c1 = await r.commitTree(src, { branch: 'b', subject: 'one', timestamp: 1n });
  fs.writeFileSync(path.join(src, 'f'), '2');
  const c2 = await r.commitTree(src, { branch: 'b', subject: 'two', timestamp: 2n });
  assert.equal((await r.loadCommit(c2)).parent, c1);
  assert.equal(await r.resolveRev('b^'), c1);
  assert.equal(await r.resolveRev(c2.slice(0, 10)), c2);
  await assert.rejects(r.resolveRev('b^^'), isErr('ENOENT', /has no parent/));
  const orphan = await r.commitTree(src, { subject: 'o', timestamp: 3n, parent: null });
  assert.equal((await r.loadCommit(orphan)).parent, null);
  assert.equal(await r.resolveRev('b'), c2, 'a commit without branch leaves refs alone');
  await assert.rejects(r.loadCommit('0'.repeat(64)), isErr('ENOENT'));
});

test('commit metadata: given order kept, ref binding appended unless disabled', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src);
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  const c = await r.commitTree(src, { branch: 'x', metadata: [['z', new Variant('s', '1')], ['a', new Variant('s', '2')]], timestamp: 5n });
  assert.deepEqual((await r.loadCommit(c)).metadata.map(([k]) => k), ['z', 'a', 'ostree.ref-binding']);
  const c2 = await r.commitTree(src, { branch: 'x', bindings: false, timestamp: 5n });
  assert.deepEqual((await r.loadCommit(c2)).metadata, []);
});

for (const mode of ['bare-user', 'bare-user-only', 'archive', 'bare'] as RepoMode[]) {
  test(`${mode}: commit then checkout reproduces the tree; traversal lists every object`, async () => {
    const d = tmp();
    const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
    const r = await Repo.create(path.join(d, 'repo'), mode);
    const c = await r.commitTree(src, { branch: 'main', subject: 's', timestamp: 1n, workers: 2 });
    const co = path.join(d, 'co');
    await r.checkout('main', co, { userMode: mode !== 'bare' });
    assert.deepEqual(snapshot(co), snapshot(src));
    const objs = await r.traverseCommit(c);
    assert.ok(objs.has(`${c}.commit`));
    const all = await r.listObjects();
    for (const o of objs) assert.ok(all.has(o), o);
    assert.equal(all.size, objs.size);
    const { header, size, stream } = await r.openFileContent([...objs].find((o) => o.endsWith('.file') && r.readFileHeaderSync(o.slice(0, 64)).size > 3e6)!.slice(0, 64));
    assert.equal(header.mode & 0o170000, 0o100000);
    let n = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) n += chunk.length;
    assert.equal(n, size);
    assert.equal(size, 3 * 1024 * 1024 + 17);
  });
}

test('checkout options: subpath, union, whiteouts, existing destination', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); makeTree(src);
  const r = await Repo.create(path.join(d, 'repo'), 'bare-user-only');
  await r.commitTree(src, { branch: 'main', timestamp: 1n });
  const co = path.join(d, 'co');
  await r.checkout('main', co, { subpath: '/sub/deep' });
  assert.deepEqual(fs.readdirSync(co), ['big']);
  await assert.rejects(r.checkout('main', co), isErr('EEXIST'));
  fs.rmSync(path.join(co, 'big')); // (writing into it would modify the hardlinked object)
  fs.writeFileSync(path.join(co, 'big'), 'replaced');
  fs.writeFileSync(path.join(co, 'extra'), 'kept');
  await r.checkout('main', co, { subpath: '/sub/deep', union: true });
  assert.equal(fs.statSync(path.join(co, 'big')).size, 3 * 1024 * 1024 + 17);
  assert.equal(fs.readFileSync(path.join(co, 'extra'), 'utf8'), 'kept');
  const single = path.join(d, 'single');
  await r.checkout('main', single, { subpath: '/a' });
  assert.equal(fs.readFileSync(single, 'utf8'), 'hello\n');
  await assert.rejects(r.checkout('main', path.join(d, 'x'), { subpath: '/nope' }), isErr('ENOENT'));
  if (process.getuid?.() === 0) {
    const wh = path.join(d, 'wh');
    await r.checkout('main', wh, { whiteouts: true });
    const st = fs.lstatSync(path.join(wh, 'sub/gone'));
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, 0);
    assert.ok(!fs.existsSync(path.join(wh, 'sub/.ostree-wh.gone')));
  }
  const hl = path.join(d, 'hl');
  await r.checkout('main', hl, { hardlink: true });
  assert.ok(fs.statSync(path.join(hl, 'a')).nlink >= 2, 'bare-user-only checkouts hardlink objects');
  assert.equal(fs.statSync(path.join(hl, 'a')).mtimeMs, 0);
});

test('unsupported file types are refused with the path named', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src);
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  await assert.rejects(r.commitTree(src, { branch: 'x' }), isErr('EINVAL', /fifo/));
});

test('a corrupted dirtree is reported as ECORRUPT naming the object', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); fs.writeFileSync(path.join(src, 'f'), 'x');
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  const c = await r.commitTree(src, { branch: 'x' });
  const tree = (await r.loadCommit(c)).rootTree;
  const p = r.objectPath(tree, 'dirtree');
  fs.chmodSync(p, 0o644);
  fs.writeFileSync(p, Buffer.from([1, 2, 3, 4, 5]));
  await assert.rejects(r.checkout('x', path.join(d, 'co')), isErr('ECORRUPT', new RegExp(`dirtree ${tree}`)));
});

test('archive: large files stream through commit and checkout (content identical, read-only dirs populated)', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(path.join(src, 'ro'), { recursive: true });
  const big = Buffer.alloc(12 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i * 2654435761 >>> 0, i);
  fs.writeFileSync(path.join(src, 'ro/big'), big);
  fs.chmodSync(path.join(src, 'ro'), 0o555);
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  await r.commitTree(src, { branch: 'main', workers: 2 });
  const co = path.join(d, 'co');
  await r.checkout('main', co, { userMode: true });
  assert.ok(fs.readFileSync(path.join(co, 'ro/big')).equals(big));
  assert.equal(fs.statSync(path.join(co, 'ro')).mode & 0o777, 0o555);
  const single = path.join(d, 'single');
  await r.checkout('main', single, { subpath: '/ro/big', userMode: true });
  assert.ok(fs.readFileSync(single).equals(big));
});

test('checkout unionAdd keeps existing files, union replaces them', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src); fs.writeFileSync(path.join(src, 'a'), 'hello');
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  await r.commitTree(src, { branch: 'm' });
  const co = path.join(d, 'co');
  fs.mkdirSync(co);
  fs.writeFileSync(path.join(co, 'a'), 'mine');
  await r.checkout('m', co, { unionAdd: true, userMode: true });
  assert.equal(fs.readFileSync(path.join(co, 'a'), 'utf8'), 'mine');
  await r.checkout('m', co, { union: true, userMode: true });
  assert.equal(fs.readFileSync(path.join(co, 'a'), 'utf8'), 'hello');
});
