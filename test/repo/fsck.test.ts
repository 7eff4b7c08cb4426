import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OstreeError } from '../../src/errors.js';
import { serialize, Variant } from '../../src/glib/gvariant.js';
import { Repo, type RepoMode } from '../../src/repo/repo.js';
import { fsckRepo, type FsckResult } from '../../src/repo/fsck.js';
import { parseDirTree, serializeDirTree } from '../../src/repo/objects/dirtree.js';
import { serializeCommit } from '../../src/repo/objects/commit.js';
import { serializeFileHeader } from '../../src/repo/objects/file-header.js';
import { sha256hex } from '../../src/repo/objects/checksum.js';
import { tempDir } from '../common/tmp.js';

const MODES: RepoMode[] = ['bare', 'bare-user', 'bare-user-only', 'archive'];

async function repoWithTwoCommits(mode: RepoMode, files = 3): Promise<{ repo: Repo; c1: string; c2: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fsck-${mode}-`));
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
  for (let i = 0; i < files; i++) fs.writeFileSync(path.join(tree, `f${i}`), `content ${i}\n`.repeat(i + 1));
  fs.writeFileSync(path.join(tree, 'sub/shared'), 'shared\n');
  fs.symlinkSync('f0', path.join(tree, 'sub/link'));
  const repo = await Repo.create(path.join(dir, 'repo'), mode);
  const c1 = await repo.commitTree(tree, { branch: 'main', timestamp: 1n });
  fs.writeFileSync(path.join(tree, 'new'), 'new\n');
  const c2 = await repo.commitTree(tree, { branch: 'main', timestamp: 2n });
  return { repo, c1, c2, dir };
}

function capture(): { out: string[]; err: string[]; reporter: { info(l: string): void; warn(l: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, reporter: { info: (l) => out.push(l), warn: (l) => err.push(l) } };
}

function fileChecksum(repo: Repo, commit: string, p: string): string {
  const r = repo.lookupPathSync(commit, p);
  assert.equal(r.kind, 'file');
  return (r as { checksum: string }).checksum;
}

function flipByte(p: string, at: number): void {
  fs.chmodSync(p, 0o644);
  const b = fs.readFileSync(p);
  b[at < 0 ? b.length + at : at]! ^= 0x20;
  fs.writeFileSync(p, b);
}

for (const mode of MODES) {
  test(`fsck ${mode}: clean repository, upstream output lines`, async () => {
    const { repo, dir } = await repoWithTwoCommits(mode);
    const cap = capture();
    const r = await fsckRepo(repo, {}, cap.reporter);
    assert.equal(r.commitsVerified, 2);
    assert.deepEqual(cap.out.slice(0, 4), ['Validating refs...', 'Validating refs in collections...', 'Enumerating commits...', 'Verifying content integrity of 2 commit objects...']);
    assert.match(cap.out[4]!, /^fsck objects \(1\/\d+\) \d+%$/);
    assert.equal(cap.out[5], `fsck objects (${r.objectsChecked}/${r.objectsChecked}) 100%`);
    assert.equal(cap.out[6], 'object fsck of 2 commits completed successfully - no errors found.');
    assert.deepEqual(cap.err, []);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`fsck ${mode}: a flipped byte in a file object is named, with the commits`, async () => {
    const { repo, c1, c2, dir } = await repoWithTwoCommits(mode);
    const f = fileChecksum(repo, c2, '/f2');
    flipByte(repo.objectPath(f, 'file'), -2);
    await assert.rejects(fsckRepo(repo, { quiet: true }), (e: unknown) => {
      assert.ok(e instanceof OstreeError);
      const [a, b] = [c1, c2].sort();
      assert.equal(e.message.startsWith(`In commits ${a}, ${b}: fsck content object ${f}: `), true, e.message);
      assert.match(e.message, new RegExp(`Corrupted file object; checksum expected='${f}' actual='[0-9a-f]{64}'|${f}`));
      return true;
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

test('fsck: missing object marks commits partial; the next run reports fsck-detected partial commits', async () => {
  const { repo, c1, c2, dir } = await repoWithTwoCommits('bare-user');
  const f = fileChecksum(repo, c2, '/new');
  fs.unlinkSync(repo.objectPath(f, 'file'));
  const cap = capture();
  await assert.rejects(fsckRepo(repo, {}, cap.reporter), /^Error: Repository corruption encountered$|Repository corruption encountered/);
  assert.deepEqual(cap.err, [`Object missing in commits ${c2}: ${f}.file`, `Marking commit as partial: ${c2}`]);
  assert.equal(fs.readFileSync(path.join(repo.path, 'state', `${c2}.commitpartial`), 'utf8'), 'f');
  const cap2 = capture();
  await assert.rejects(fsckRepo(repo, {}, cap2.reporter), /1 partial commits from fsck-detected corruption/);
  assert.ok(cap2.out.includes('Verifying content integrity of 1 commit objects...'));
  assert.ok(cap2.out.includes('1 partial commits not verified'));
  void c1;
  fs.rmSync(dir, { recursive: true, force: true });
});

test('fsck --all reports every corruption; --delete removes corrupted objects', async () => {
  const { repo, c2, dir } = await repoWithTwoCommits('archive');
  const a = fileChecksum(repo, c2, '/f1');
  const b = fileChecksum(repo, c2, '/f2');
  flipByte(repo.objectPath(a, 'file'), 19); // the uid in the archive header
  flipByte(repo.objectPath(b, 'file'), 19);
  const cap = capture();
  const all = await fsckRepo(repo, { all: true, quiet: true }, cap.reporter).then(() => null, (e: unknown) => e);
  assert.ok(all instanceof OstreeError && all.message === 'Repository corruption encountered');
  assert.equal(cap.err.length, 2);
  assert.ok(cap.err.some((l) => l.includes(a)) && cap.err.some((l) => l.includes(b)));
  const del = capture();
  await assert.rejects(fsckRepo(repo, { delete: true, quiet: true }, del.reporter), /Repository corruption encountered/);
  assert.equal(fs.existsSync(repo.objectPath(a, 'file')), false);
  assert.equal(fs.existsSync(repo.objectPath(b, 'file')), false);
  assert.ok(del.err.some((l) => l.startsWith('Marking commit as partial: ')));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('fsck: dirtree entry names and sort order are checked even when the checksum matches', async () => {
  for (const [label, files] of [
    ['..', [['..', 'x']]], ['.', [['.', 'x']]], ['empty', [['', 'x']]], ['slash', [['a/b', 'x']]], ['unsorted', [['b', 'x'], ['a', 'x']]],
  ] as Array<[string, Array<[string, string]>]>) {
    const { repo, dir } = await repoWithTwoCommits('bare-user');
    const content = fileChecksum(repo, await repo.resolveRev('main'), '/f0');
    const dt = serialize('(a(say)a(sayay))', [files.map(([n]) => [n, Buffer.from(content, 'hex')]), []], { bigEndian: true });
    const treeCsum = repo.writeMetadataObjectSync('dirtree', dt);
    assert.equal(treeCsum, sha256hex(dt));
    const c = repo.loadCommitSync(await repo.resolveRev('main'));
    const commit = repo.writeMetadataObjectSync('commit', serializeCommit({ ...c, parent: null, rootTree: treeCsum }));
    await repo.setRef('evil', commit);
    await assert.rejects(fsckRepo(repo, { quiet: true }), (e: unknown) => {
      assert.ok(e instanceof OstreeError, String(e));
      assert.ok(e.message.includes(`${treeCsum}.dirtree`), `${label}: ${e.message}`);
      assert.match(e.message, label === 'unsorted' ? /not sorted/ : /invalid file name/);
      return true;
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fsck: ref holding garbage and ref to a missing commit', async () => {
  const { repo, dir } = await repoWithTwoCommits('bare-user');
  fs.writeFileSync(path.join(repo.path, 'refs/heads/bad'), 'garbage\n');
  await assert.rejects(fsckRepo(repo, { quiet: true }), /Loading commit for ref bad: ref file .*refs\/heads\/bad holds garbage/);
  fs.writeFileSync(path.join(repo.path, 'refs/heads/bad'), `${'1'.repeat(64)}\n`);
  const cap = capture();
  await assert.rejects(fsckRepo(repo, { quiet: true }, cap.reporter), new RegExp(`Loading commit for ref bad: No such metadata object ${'1'.repeat(64)}\\.commit`));
  assert.deepEqual(cap.err, [`Object missing: ${'1'.repeat(64)}.commit`]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('fsck uses the worker pool for bigger repositories and still finds the bad object', async () => {
  const { repo, c2, dir } = await repoWithTwoCommits('bare', 400);
  const r: FsckResult = await fsckRepo(repo, { quiet: true, workers: 2 });
  assert.ok(r.objectsChecked > 400);
  const f = fileChecksum(repo, c2, '/f399');
  flipByte(repo.objectPath(f, 'file'), 5);
  await assert.rejects(fsckRepo(repo, { quiet: true, workers: 2 }), new RegExp(`fsck content object ${f}: Corrupted file object`));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('fsck streams content to the workers while walking: corruptions in the first, a middle and the last chunk are all found, in walk order', async () => {
  const dir = tempDir('fsck-stream-');
  const tree = path.join(dir, 'tree');
  // 8 directories x 150 files: 1200 content objects, several 256-object chunks.
  for (let d = 0; d < 8; d++) {
    fs.mkdirSync(path.join(tree, `d${d}`), { recursive: true });
    for (let i = 0; i < 150; i++) fs.writeFileSync(path.join(tree, `d${d}`, `f${String(i).padStart(3, '0')}`), `dir ${d} file ${i}\n`);
  }
  const repo = await Repo.create(path.join(dir, 'repo'), 'bare-user-only');
  const c = await repo.commitTree(tree, { branch: 'main', timestamp: 1n });
  const clean = await fsckRepo(repo, { quiet: true, workers: 2 });
  assert.equal(clean.objectsChecked, 1 + 1 + 1 + 8 + 1200); // commit, one dirmeta (all dirs alike), root + 8 dirtrees, files
  const victims = ['/d0/f000', '/d3/f075', '/d7/f149'].map((p) => fileChecksum(repo, c, p));
  for (const v of victims) flipByte(repo.objectPath(v, 'file'), 0);
  const cap = capture();
  await assert.rejects(fsckRepo(repo, { quiet: true, all: true, workers: 2 }, cap.reporter), /Repository corruption encountered/);
  const reported = cap.err.map((l) => /fsck content object ([0-9a-f]{64})/.exec(l)?.[1]).filter((x) => x);
  assert.deepEqual(reported, victims);
  // A metadata problem (the dirmeta all directories share, visited right after the commit) is
  // reported before the content problems, as the walk met it.
  const meta = repo.loadCommitSync(c).rootMeta;
  flipByte(repo.objectPath(meta, 'dirmeta'), 0);
  const cap2 = capture();
  await assert.rejects(fsckRepo(repo, { quiet: true, all: true, workers: 2 }, cap2.reporter), /Repository corruption encountered/);
  const kinds = cap2.err.map((l) => (l.includes(`${meta}.dirmeta`) ? 'meta' : /fsck content object ([0-9a-f]{64})/.exec(l)?.[1] ?? l));
  assert.deepEqual(kinds, ['meta', ...victims]);
  // A failure before any content was handed out (garbage ref): the early-started workers are
  // stopped too (otherwise this test file would never exit).
  fs.writeFileSync(path.join(repo.path, 'refs/heads/bad'), 'garbage\n');
  await assert.rejects(fsckRepo(repo, { quiet: true, workers: 2 }), /holds garbage/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('fsck --add-tombstones: a commit whose parent is missing is replaced by a tombstone', async () => {
  const { repo, c1, c2, dir } = await repoWithTwoCommits('bare-user-only');
  fs.rmSync(repo.objectPath(c1, 'commit'));
  await repo.setRef('main', null);
  const cap = capture();
  const r = await fsckRepo(repo, { addTombstones: true }, cap.reporter);
  assert.deepEqual(r.tombstoned, [c2]);
  assert.ok(cap.out.includes(`Adding tombstone for commit ${c2}`));
  assert.ok(!fs.existsSync(repo.objectPath(c2, 'commit')));
  const tomb = path.join(repo.path, 'objects', c2.slice(0, 2), `${c2.slice(2)}.tombstone-commit`);
  assert.deepEqual(fs.readFileSync(tomb), serialize('a{sv}', [['commit', new Variant('ay', Buffer.from(`${c2}\0`))]], { bigEndian: true }));
  assert.equal((await Repo.open(repo.path)).config.get('core', 'tombstone-commits'), 'true');
  fs.rmSync(dir, { recursive: true, force: true });
});
