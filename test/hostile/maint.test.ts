/**
 * Hostile inputs for the maintenance verbs (fsck, prune, diff, log), through the CLI: special
 * files posing as objects and refs, a parent chain that loops, a dirtree that contains itself,
 * oversized metadata, a 10,000-level tree, and a .filez zero bomb. Each refusal is a clear
 * `error:` line, a non-zero exit, no hang, and a byte-identical repository.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Repo, type RepoMode } from '../../src/repo/repo.js';
import { refPath } from '../../src/repo/layout.js';
import { parseArchiveHeader, serializeArchiveHeader } from '../../src/repo/objects/file-header.js';
import { serializeCommit, type CommitObject } from '../../src/repo/objects/commit.js';
import { serializeDirTree } from '../../src/repo/objects/dirtree.js';
import { expectRefusal, runCli, runCliMeasured, scratch, snapshot, snapshotDiff } from './harness.js';

const work = scratch('hostile-maint-');
after(() => work.cleanup());
let counter = 0;

interface Fixture { repo: Repo; dir: string; c1: string; c2: string; r: string }

/** A repository with two commits on `main` (c2 adds /new and changes /sub/a). */
async function fixture(mode: RepoMode = 'bare-user'): Promise<Fixture> {
  const dir = path.join(work.dir, `f${counter++}`);
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'sub/a'), 'a\n');
  fs.writeFileSync(path.join(tree, 'b'), 'b\n');
  const repo = await Repo.create(path.join(dir, 'repo'), mode);
  const c1 = await repo.commitTree(tree, { branch: 'main', timestamp: 1n });
  fs.writeFileSync(path.join(tree, 'sub/a'), 'changed\n');
  fs.writeFileSync(path.join(tree, 'new'), 'new\n');
  const c2 = await repo.commitTree(tree, { branch: 'main', timestamp: 2n });
  return { repo, dir, c1, c2, r: `--repo=${repo.path}` };
}

function fileOf(repo: Repo, commit: string, p: string): string {
  const r = repo.lookupPathSync(commit, p);
  assert.equal(r.kind, 'file');
  return (r as { checksum: string }).checksum;
}

function fifoAt(p: string): void {
  fs.rmSync(p, { force: true });
  execFileSync('mkfifo', [p]);
}

/** Store `data` under a name of our choosing (reads do not verify names; fsck does). */
function plant(repo: Repo, checksum: string, type: 'commit' | 'dirtree', data: Buffer): void {
  const p = repo.objectPath(checksum, type);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
}

function setRef(repo: Repo, name: string, checksum: string): void {
  const p = refPath(repo.path, null, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, `${checksum}\n`);
}

/** Run a command that must succeed without changing the repository. */
function expectUnchangedSuccess(args: string[], repoPath: string): string {
  const before = snapshot(repoPath, ['.lock']);
  const r = runCli(args);
  assert.equal(r.timedOut, false, `ostree ${args.join(' ')} hung`);
  assert.equal(r.code, 0, `ostree ${args.join(' ')}: ${r.stderr}`);
  assert.deepEqual(snapshotDiff(before, snapshot(repoPath, ['.lock'])), []);
  return r.stdout;
}

const hex = (c: string): string => c.repeat(64);

// ---------------------------------------------------------------------------------------------
// Special files where an object or a ref should be

for (const mode of ['bare-user', 'archive', 'bare-user-only'] as RepoMode[]) {
  test(`fsck (${mode}): a FIFO posing as a content object is reported as corrupt, not waited on`, async () => {
    const f = await fixture(mode);
    const csum = fileOf(f.repo, f.c2, '/new');
    fifoAt(f.repo.objectPath(csum, 'file'));
    expectRefusal(['fsck', f.r], { stderr: [`fsck content object ${csum}`, 'is a FIFO'], unchanged: [f.repo.path] });
  });
}

test('fsck --all: a FIFO content object is reported and the check goes on to the end', async () => {
  const f = await fixture();
  const csum = fileOf(f.repo, f.c2, '/new');
  fifoAt(f.repo.objectPath(csum, 'file'));
  const r = expectRefusal(['fsck', '--all', f.r], { stderr: ['is a FIFO', 'Repository corruption encountered'], unchanged: [f.repo.path] });
  assert.match(r.stdout, /fsck objects \(\d+\/\d+\) 100%/);
});

test('fsck: a FIFO posing as a dirtree and as a commit is reported as corrupt', async () => {
  const f = await fixture();
  const tree = f.repo.lookupPathSync(f.c2, '/sub') as { tree: string };
  fifoAt(f.repo.objectPath(tree.tree, 'dirtree'));
  expectRefusal(['fsck', f.r], { stderr: [`${tree.tree}.dirtree`, 'is a FIFO'], unchanged: [f.repo.path] });
  const g = await fixture();
  fifoAt(g.repo.objectPath(g.c2, 'commit'));
  expectRefusal(['fsck', g.r], { stderr: [`${g.c2}.commit`, 'is a FIFO'], unchanged: [g.repo.path] });
});

test('fsck: a directory and a socket posing as content objects are reported as corrupt', async () => {
  const f = await fixture();
  const a = fileOf(f.repo, f.c2, '/new');
  fs.rmSync(f.repo.objectPath(a, 'file'));
  fs.mkdirSync(f.repo.objectPath(a, 'file'));
  expectRefusal(['fsck', f.r], { stderr: [`fsck content object ${a}`, 'is a directory'], unchanged: [f.repo.path] });
  fs.rmdirSync(f.repo.objectPath(a, 'file'));
  // Bound at a short path (sun_path holds 108 bytes), then renamed into place.
  const sock = path.join(work.dir, `s${counter++}`);
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  fs.renameSync(sock, f.repo.objectPath(a, 'file'));
  try {
    expectRefusal(['fsck', f.r], { stderr: [`${a}.file`, 'is a socket'], unchanged: [f.repo.path] });
  } finally {
    server.close();
  }
});

test('prune: a FIFO posing as a reachable content object is kept and nothing else is touched', async () => {
  const f = await fixture();
  const csum = fileOf(f.repo, f.c2, '/new');
  fifoAt(f.repo.objectPath(csum, 'file'));
  const out = expectUnchangedSuccess(['prune', '--refs-only', f.r], f.repo.path);
  assert.match(out, /No unreachable objects/);
});

test('prune: a FIFO posing as a dirtree or a commit refuses the prune, deleting nothing', async () => {
  const f = await fixture();
  await f.repo.setRef('main', f.c1); // c2 is now unreachable with --refs-only: prune would delete it
  const tree = f.repo.lookupPathSync(f.c1, '/sub') as { tree: string };
  fifoAt(f.repo.objectPath(tree.tree, 'dirtree'));
  expectRefusal(['prune', '--refs-only', f.r], { stderr: [`${tree.tree}.dirtree`, 'is a FIFO'], unchanged: [f.repo.path] });
  const g = await fixture();
  fifoAt(g.repo.objectPath(g.c1, 'commit'));
  expectRefusal(['prune', g.r], { stderr: [`${g.c1}.commit`, 'is a FIFO'], unchanged: [g.repo.path] });
});

test('fsck and prune: a FIFO posing as a ref is refused, not waited on', async () => {
  const f = await fixture();
  fifoAt(refPath(f.repo.path, null, 'main'));
  expectRefusal(['fsck', f.r], { stderr: ['ref main', 'not a regular file'], unchanged: [f.repo.path] });
  expectRefusal(['prune', '--refs-only', f.r], { stderr: ['ref main', 'not a regular file'], unchanged: [f.repo.path] });
});

test('diff: a FIFO posing as a content object or a dirtree is refused, not waited on', async () => {
  for (const mode of ['bare-user', 'archive'] as RepoMode[]) {
    const f = await fixture(mode);
    const csum = fileOf(f.repo, f.c2, '/new');
    fifoAt(f.repo.objectPath(csum, 'file'));
    expectRefusal(['diff', f.r, f.c1, f.c2], { stderr: [`${csum}.file`, 'is a FIFO'], unchanged: [f.repo.path] });
  }
  const g = await fixture();
  const tree = g.repo.lookupPathSync(g.c2, '/sub') as { tree: string };
  fifoAt(g.repo.objectPath(tree.tree, 'dirtree'));
  expectRefusal(['diff', g.r, g.c1, g.c2], { stderr: [`${tree.tree}.dirtree`, 'is a FIFO'], unchanged: [g.repo.path] });
});

test('log: a FIFO posing as a commit in the history is refused, not waited on', async () => {
  const f = await fixture();
  fifoAt(f.repo.objectPath(f.c1, 'commit'));
  expectRefusal(['log', f.r, 'main'], { stderr: [`${f.c1}.commit`, 'is a FIFO'], unchanged: [f.repo.path] });
});

test('fsck and prune: a metadata object larger than upstream\'s 128 MiB limit is refused before it is read', async () => {
  const f = await fixture();
  const tree = f.repo.lookupPathSync(f.c2, '/sub') as { tree: string };
  const p = f.repo.objectPath(tree.tree, 'dirtree');
  fs.rmSync(p);
  fs.writeFileSync(p, '');
  fs.truncateSync(p, 200 * 1024 * 1024); // sparse: no disk used
  expectRefusal(['fsck', f.r], { stderr: [`${tree.tree}.dirtree`, 'more than the limit of 134.2\u00a0MB'], unchanged: [f.repo.path] });
  expectRefusal(['prune', '--refs-only', f.r], { stderr: [`${tree.tree}.dirtree`, 'more than the limit of 134.2\u00a0MB'], unchanged: [f.repo.path] });
});

// ---------------------------------------------------------------------------------------------
// Loops

/** Commit objects planted under chosen names whose parents form a loop: names[i] -> names[i+1] -> names[0]. */
function plantLoop(f: Fixture, names: string[]): void {
  const base: CommitObject = f.repo.loadCommitSync(f.c2);
  names.forEach((n, i) => plant(f.repo, n, 'commit', serializeCommit({ ...base, parent: names[(i + 1) % names.length]! })));
}

test('a commit naming itself as its parent: prune --depth=-1 --refs-only and fsck report it as corrupt', async () => {
  const f = await fixture();
  const x = hex('a');
  plantLoop(f, [x]);
  setRef(f.repo, 'loop', x);
  expectRefusal(['prune', '--depth=-1', '--refs-only', f.r], { stderr: [`${x}`, 'parent chain loops'], unchanged: [f.repo.path] });
  expectRefusal(['fsck', f.r], { stderr: [`${x}.commit`, 'Corrupted commit object'], unchanged: [f.repo.path] });
});

test('two commits that are each other\'s parent: prune (every commit a root) reports the loop', async () => {
  const f = await fixture();
  const x = hex('b');
  const y = hex('c');
  plantLoop(f, [x, y]);
  expectRefusal(['prune', f.r], { stderr: ['parent chain loops', /[bc]{64}/], unchanged: [f.repo.path] });
  setRef(f.repo, 'loop', x);
  expectRefusal(['prune', '--refs-only', '--depth=-1', '--no-prune', f.r], { stderr: ['parent chain loops'], unchanged: [f.repo.path] });
});

test('log: a parent chain that loops is reported as corrupt, never followed forever', async () => {
  const f = await fixture();
  const x = hex('d');
  const y = hex('e');
  plantLoop(f, [x, y]);
  setRef(f.repo, 'loop', x);
  expectRefusal(['log', f.r, 'loop'], { stderr: [`${x}`, 'loops'], unchanged: [f.repo.path] });
});

/** A dirtree planted under `names[0]` whose subdirectory 'loop' is names[1], ..., back to names[0]. */
function plantTreeLoop(f: Fixture, names: string[]): string {
  const meta = f.repo.loadCommitSync(f.c2).rootMeta;
  names.forEach((n, i) => plant(f.repo, n, 'dirtree', serializeDirTree({ files: [], dirs: [{ name: 'loop', treeChecksum: names[(i + 1) % names.length]!, metaChecksum: meta }] })));
  const c = f.repo.writeMetadataObjectSync('commit', serializeCommit({ ...f.repo.loadCommitSync(f.c2), parent: null, rootTree: names[0]! }));
  setRef(f.repo, 'cyclic', c);
  return c;
}

for (const size of [1, 2]) {
  test(`a dirtree that contains itself (${size === 1 ? 'directly' : 'through a child'}): fsck, diff and prune report it as corrupt`, async () => {
    const f = await fixture();
    const names = size === 1 ? [hex('1')] : [hex('2'), hex('3')];
    const c = plantTreeLoop(f, names);
    expectRefusal(['fsck', f.r], { stderr: ['Corrupted dirtree object', /[123]{64}\.dirtree/], unchanged: [f.repo.path] });
    const r = expectRefusal(['diff', f.r, f.c1, c], { stderr: ['contains itself', /[123]{64}\.dirtree/], unchanged: [f.repo.path] });
    assert.doesNotMatch(r.stderr, /Maximum call stack/);
    expectRefusal(['prune', '--refs-only', f.r], { stderr: ['contains itself'], unchanged: [f.repo.path] });
  });
}

// ---------------------------------------------------------------------------------------------
// Depth

test('a 10,000-level deep tree: fsck, prune and diff succeed', async () => {
  const f = await fixture();
  const base = f.repo.loadCommitSync(f.c2);
  const leafFile = (which: string): string => fileOf(f.repo, f.c2, which);
  const deep = (leaf: string): string => {
    let t = f.repo.writeMetadataObjectSync('dirtree', serializeDirTree({ files: [{ name: 'f', checksum: leaf }], dirs: [] }));
    for (let i = 0; i < 10_000; i++) {
      t = f.repo.writeMetadataObjectSync('dirtree', serializeDirTree({ files: [], dirs: [{ name: 'd', treeChecksum: t, metaChecksum: base.rootMeta }] }));
    }
    return t;
  };
  const ta = deep(leafFile('/b'));
  const tb = deep(leafFile('/new'));
  const ca = f.repo.writeMetadataObjectSync('commit', serializeCommit({ ...base, parent: null, rootTree: ta }));
  const cb = f.repo.writeMetadataObjectSync('commit', serializeCommit({ ...base, parent: ca, rootTree: tb }));
  setRef(f.repo, 'deep', cb);
  const fsck = runCli(['fsck', f.r], { timeoutMs: 120_000 });
  assert.equal(fsck.code, 0, fsck.stderr);
  assert.match(fsck.stdout, /object fsck of 4 commits completed successfully/);
  const out = expectUnchangedSuccess(['prune', '--refs-only', '--depth=-1', f.r], f.repo.path);
  assert.match(out, /No unreachable objects/);
  const diff = runCli(['diff', f.r, ca, cb], { timeoutMs: 120_000 });
  assert.equal(diff.code, 0, diff.stderr);
  assert.equal(diff.stdout, `M    ${'/d'.repeat(10_000)}/f\n`);
});

// ---------------------------------------------------------------------------------------------
// Decompression

/** Raw deflate data inflating to `mib` MiB of zeros, built from one compressed MiB repeated. */
function zeroBomb(mib: number): Buffer {
  const chunk = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH, level: 9 });
  return Buffer.concat([...Array<Buffer>(mib).fill(chunk), Buffer.from([0x03, 0x00])]);
}

for (const declared of ['2 GiB (honest)', '10 bytes (lying)']) {
  test(`fsck: a .filez zero bomb declaring ${declared} is corrupt, with peak memory < 100 MB above baseline`, async () => {
    const f = await fixture('archive');
    const csum = fileOf(f.repo, f.c2, '/new');
    const p = f.repo.objectPath(csum, 'file');
    const baseline = runCliMeasured(['fsck', f.r]);
    assert.equal(baseline.code, 0, baseline.stderr);
    const { header } = parseArchiveHeader(fs.readFileSync(p));
    const size = declared.startsWith('2') ? 2048n << 20n : 10n;
    fs.rmSync(p);
    fs.writeFileSync(p, Buffer.concat([serializeArchiveHeader(header, size), zeroBomb(2048)]));
    const before = snapshot(f.repo.path, ['.lock']);
    const r = runCliMeasured(['fsck', f.r], { timeoutMs: 120_000 });
    assert.equal(r.timedOut, false);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`^error: .*fsck content object ${csum}`, 'm'));
    assert.match(r.stderr, size === 10n ? /inflates to more than the 10 bytes/ : /Corrupted file object/);
    assert.ok(r.maxRssMiB - baseline.maxRssMiB < 100, `peak RSS ${r.maxRssMiB} MiB vs baseline ${baseline.maxRssMiB} MiB`);
    assert.deepEqual(snapshotDiff(before, snapshot(f.repo.path, ['.lock'])), []);
  });
}
