import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Variant } from '../../src/glib/gvariant.js';
import { Repo, validateRefName, type RepoMode } from '../../src/repo/repo.js';
import { isErr, makeTree } from '../common/repo-tree.js';
import { tempDir } from '../common/tmp.js';

function tmp(): string { return tempDir('repo-test-'); }

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
  assert.equal(await r.resolveRevOptional('os/main', { fallbackRemote: false }), null);
  assert.equal(await r.resolveRevOptional('os/main'), c1, 'a plain ref falls back to the remotes that have it, as upstream');
  await r.setRef('origin:os/main', null);
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
