/** Refs (src/repo/refs.ts): name rules, reading ref files safely, revisions, listing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../src/errors.js';
import { Repo } from '../../src/repo/repo.js';
import { parseRefspec, readRefFile, resolveRev, setRef, validateRefName, validateRemoteName } from '../../src/repo/refs.js';
import { listRefFiles, listRefs } from '../../src/repo/refs-list.js';
import { tempDir } from '../common/tmp.js';

const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));
function tmp(): string { return tempDir('refs-test-'); }

async function repoWithHistory(): Promise<{ repo: Repo; c: string[] }> {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src);
  const repo = await Repo.create(path.join(d, 'repo'), 'bare-user-only');
  const c: string[] = [];
  for (let i = 0; i < 4; i++) {
    fs.writeFileSync(path.join(src, 'f'), `${i}`);
    c.push(await repo.commitTree(src, { branch: 'main', timestamp: BigInt(i + 1) }));
  }
  return { repo, c };
}

test('ref and remote names: upstream rules; traversal, empty components, NUL and newlines refused', () => {
  for (const good of ['main', 'a/b/c', 'fedora/x86_64/v1.0', '_x', 'a-b.c_d']) validateRefName(good);
  for (const bad of ['', '/a', 'a/', 'a//b', '-a', 'a b', '.a', 'a/../b', '..', '../x', 'a/./b', 'a\0b', 'a\nb', 'main\n', '\nmain', 'a\\b']) {
    assert.throws(() => validateRefName(bad), isErr('EINVAL', /Invalid ref name/), JSON.stringify(bad));
  }
  for (const good of ['origin', 'a.b', 'x_1']) validateRemoteName(good);
  for (const bad of ['', '.', '..', 'a/b', 'a\nb', 'a\0', '-x', ' x']) assert.throws(() => validateRemoteName(bad), isErr('EINVAL', /Invalid remote name/), JSON.stringify(bad));
  assert.deepEqual(parseRefspec('origin:a/b'), ['origin', 'a/b']);
  assert.deepEqual(parseRefspec('a/b'), [null, 'a/b']);
  assert.throws(() => parseRefspec('../x:main'), isErr('EINVAL', /remote name/));
  assert.throws(() => parseRefspec('origin:../main'), isErr('EINVAL', /ref name/));
});

test('resolveRev: checksums, unique prefixes, refs, remote refs, any number of ^', async () => {
  const { repo, c } = await repoWithHistory();
  assert.equal(resolveRev(repo, 'main'), c[3]);
  assert.equal(resolveRev(repo, 'main^'), c[2]);
  assert.equal(resolveRev(repo, 'main^^^'), c[0]);
  assert.throws(() => resolveRev(repo, 'main^^^^'), isErr('ENOENT', /has no parent/));
  assert.equal(resolveRev(repo, c[3]!.slice(0, 12)), c[3]);
  assert.equal(resolveRev(repo, `${c[3]!.slice(0, 12)}^`), c[2]);
  assert.equal(resolveRev(repo, 'nothere'), null);
  assert.throws(() => resolveRev(repo, ''), isErr('EINVAL'));
  assert.throws(() => resolveRev(repo, '^'), isErr('EINVAL'));
  await setRef(repo, 'origin:os/x', c[1]!);
  assert.equal(resolveRev(repo, 'origin:os/x'), c[1]);
  assert.equal(resolveRev(repo, 'origin/os/x'), c[1]);
  // A long chain of carets is walked without recursion.
  assert.throws(() => resolveRev(repo, `main${'^'.repeat(100_000)}`), isErr('ENOENT', /has no parent/));
});

test('readRefFile: missing and directories are null; FIFOs, devices, garbage and huge files are errors, never a hang', async () => {
  const { repo, c } = await repoWithHistory();
  const heads = path.join(repo.path, 'refs/heads');
  assert.equal(readRefFile(path.join(heads, 'none')), null);
  fs.mkdirSync(path.join(heads, 'dir'));
  assert.equal(readRefFile(path.join(heads, 'dir')), null);
  execFileSync('mkfifo', [path.join(heads, 'fifo')]);
  assert.throws(() => readRefFile(path.join(heads, 'fifo'), 'fifo'), isErr('ECORRUPT', /ref fifo: .* is a FIFO, not a regular file/));
  assert.throws(() => resolveRev(repo, 'fifo'), isErr('ECORRUPT', /a FIFO/));
  fs.writeFileSync(path.join(heads, 'garbage'), 'not a checksum\n');
  assert.throws(() => resolveRev(repo, 'garbage'), isErr('ECORRUPT', /refs\/heads\/garbage' does not contain a checksum/));
  fs.writeFileSync(path.join(heads, 'huge'), `${c[0]}\n`.repeat(1000));
  assert.throws(() => resolveRev(repo, 'huge'), isErr('ECORRUPT', /does not contain a checksum/));
  assert.throws(() => listRefs(repo), isErr('ECORRUPT', /does not contain a checksum/));
  fs.rmSync(path.join(heads, 'garbage'));
  fs.rmSync(path.join(heads, 'huge'));
  // Listing leaves out what is not a regular file (as upstream); listRefFiles names it for fsck.
  assert.deepEqual([...listRefs(repo).keys()], ['main']);
  const entries = listRefFiles(repo, { sorted: true });
  assert.deepEqual(entries.map((e) => [e.name, e.type]), [['fifo', 'other'], ['main', 'file']]);
});

test('setRef: writes through a temporary name, refuses prefixes of refs and refs below refs, deletes idempotently', async () => {
  const { repo, c } = await repoWithHistory();
  await setRef(repo, 'a/b', c[0]!);
  assert.equal(fs.readFileSync(path.join(repo.path, 'refs/heads/a/b'), 'utf8'), `${c[0]}\n`);
  await assert.rejects(setRef(repo, 'a/b/c', c[0]!), isErr('EEXIST', /a ref is a prefix of it/));
  await assert.rejects(setRef(repo, 'a', c[0]!), isErr('EEXIST', /Conflict: b exists under a/));
  await assert.rejects(setRef(repo, 'a/../../x', c[0]!), isErr('EINVAL'));
  await assert.rejects(setRef(repo, 'x', 'zz'), isErr('EINVAL', /invalid commit checksum/));
  await setRef(repo, 'a/b', null);
  await setRef(repo, 'a/b', null);
  assert.equal(resolveRev(repo, 'a/b'), null);
  assert.deepEqual(fs.readdirSync(path.join(repo.path, 'tmp')).filter((n) => n !== 'cache'), []);
});

test('listRefs and listRefFiles: remotes, mirrors, prefixes, deep ref hierarchies without recursion', async () => {
  const { repo, c } = await repoWithHistory();
  await setRef(repo, 'origin:x/y', c[0]!);
  const mirror = path.join(repo.path, 'refs/mirrors/org.example/m');
  fs.mkdirSync(path.dirname(mirror), { recursive: true });
  fs.writeFileSync(mirror, `${c[1]}\n`);
  assert.deepEqual([...listRefs(repo).entries()], [['main', c[3]], ['origin:x/y', c[0]]]);
  assert.deepEqual([...listRefs(repo, 'origin:').keys()], ['origin:./x/y']); // upstream's spelling
  assert.deepEqual([...listRefs(repo, 'origin:', { cut: true }).keys()], ['origin:x/y']);
  assert.deepEqual([...listRefs(repo, 'origin:x').keys()], ['origin:x/y']);
  assert.deepEqual(listRefFiles(repo, { mirrors: true, sorted: true }).map((e) => `${e.collection ?? ''}/${e.name}`), ['/main', '/origin:x/y', 'org.example/m']);
  const deep = Array.from({ length: 200 }, (_, i) => `l${i}`).join('/');
  await setRef(repo, deep, c[2]!);
  assert.equal(listRefs(repo).get(deep), c[2]);
});
