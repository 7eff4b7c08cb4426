/**
 * Hostile inputs to the repository store, through the CLI: decompression bombs in archive
 * objects, special files posing as objects and refs, oversized metadata, trees deeper than
 * PATH_MAX and dirtrees that contain themselves, and hostile names (refs, remotes, dirtree
 * entries). Each refusal must be a clear `error:` naming what is wrong, exit non-zero, never
 * hang, and leave the repository (and the checkout's parent directory) byte-identical.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { serialize } from '../../src/glib/gvariant.js';
import { Repo, type RepoMode } from '../../src/repo/repo.js';
import { serializeCommit } from '../../src/repo/objects/commit.js';
import { parseArchiveHeader } from '../../src/repo/objects/file-header.js';
import { makeDeepTree, readDeep, removeTree } from '../common/deep-tree.js';
import { expectRefusal, runCli, runCliMeasured, scratch, snapshot } from './harness.js';

const MODES: RepoMode[] = ['bare', 'bare-user', 'bare-user-only', 'archive'];
let work: { dir: string; cleanup(): void };
const templates = new Map<RepoMode, string>();
let caseNo = 0;

before(async () => {
  work = scratch('hostile-store-');
  const tree = path.join(work.dir, 'tree');
  fs.mkdirSync(path.join(tree, 'dir/sub'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'file'), 'hello world\n'.repeat(20));
  fs.writeFileSync(path.join(tree, 'zero'), Buffer.alloc(4096));
  fs.writeFileSync(path.join(tree, 'dir/sub/inner'), 'inner\n');
  fs.symlinkSync('file', path.join(tree, 'link'));
  for (const mode of MODES) {
    const repo = await Repo.create(path.join(work.dir, `template-${mode}`), mode);
    await repo.commitTree(tree, { branch: 'main', subject: 'template', timestamp: 1n });
    templates.set(mode, repo.path);
  }
});

after(() => work.cleanup());

/** A fresh copy of the template repository (cp -a keeps bare-user xattrs), and an empty
 *  directory where checkouts go. */
function fresh(mode: RepoMode): { repo: string; out: string } {
  const n = caseNo++;
  const repo = path.join(work.dir, `case-${n}-${mode}`);
  execFileSync('cp', ['-a', templates.get(mode)!, repo]);
  const out = path.join(work.dir, `out-${n}`);
  fs.mkdirSync(out);
  return { repo, out };
}

function mainCommit(repo: string): string { return fs.readFileSync(path.join(repo, 'refs/heads/main'), 'utf8').trim(); }

async function objectOf(repoPath: string, p: string): Promise<{ checksum: string; file: string }> {
  const repo = await Repo.open(repoPath);
  const r = repo.lookupPathSync(mainCommit(repoPath), p);
  const checksum = r.kind === 'file' ? r.checksum : r.tree;
  return { checksum, file: repo.objectPath(checksum, r.kind === 'file' ? 'file' : 'dirtree') };
}

/** Replace a file by a FIFO (or another special file made by `make`). */
function replaceWith(file: string, make: 'fifo' | 'chardev'): void {
  fs.rmSync(file);
  if (make === 'fifo') execFileSync('mkfifo', [file]);
  else execFileSync('mknod', [file, 'c', '1', '3']); // like /dev/null: reads end at once
}

// ---------------------------------------------------------------------------------------------
// Decompression

/** A raw deflate stream of `mib` MiB of zeros (one compressed MiB repeated, then a final empty
 *  block): 2 GiB in about 2 MB. */
function zeroBomb(mib: number): Buffer {
  const seg = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  return Buffer.concat([...Array<Buffer>(mib).fill(seg), Buffer.from([0x03, 0x00])]);
}

let bomb: Buffer;
function bombBody(): Buffer { return (bomb ??= zeroBomb(2048)); }

/** Keep the `.filez` header of `/zero` (which declares `declared` bytes, or its own 4096) and
 *  put a 2 GiB zero bomb after it. */
async function plantBomb(repo: string, declared?: bigint): Promise<string> {
  const o = await objectOf(repo, '/zero');
  const old = fs.readFileSync(o.file);
  const { headerLength } = parseArchiveHeader(old);
  let header = old.subarray(0, headerLength);
  if (declared !== undefined) {
    // The archive header starts with the size (u64, big-endian) right after the 8-byte frame.
    header = Buffer.from(header);
    header.writeBigUInt64BE(declared, 8);
  }
  fs.chmodSync(o.file, 0o644);
  fs.writeFileSync(o.file, Buffer.concat([header, bombBody()]));
  return o.checksum;
}

let baselineMiB = 0;
function assertBounded(args: string[], stderr: RegExp): void {
  if (baselineMiB === 0) baselineMiB = runCliMeasured(['--version']).maxRssMiB;
  const t0 = Date.now();
  const r = runCliMeasured(args, { timeoutMs: 60_000 });
  const secs = (Date.now() - t0) / 1000;
  assert.equal(r.timedOut, false, `ostree ${args.join(' ')} hung`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, stderr);
  assert.ok(r.maxRssMiB < baselineMiB + 100, `peak RSS ${r.maxRssMiB.toFixed(0)} MiB, baseline ${baselineMiB.toFixed(0)} MiB`);
  assert.ok(secs < 30, `took ${secs}s`);
}

test('decompression: cat of a .filez that inflates to 2 GiB past its declared 4096 bytes', async () => {
  const { repo } = fresh('archive');
  await plantBomb(repo);
  const args = ['cat', `--repo=${repo}`, 'main', '/zero'];
  expectRefusal(args, { stderr: ['inflates to more than the 4096 bytes its header declares'], unchanged: [repo] });
  assertBounded(args, /inflates to more than the 4096 bytes/);
});

test('decompression: checkout of a tree holding that bomb (in-memory path) leaves nothing', async () => {
  const { repo, out } = fresh('archive');
  const csum = await plantBomb(repo);
  const args = ['checkout', `--repo=${repo}`, 'main', path.join(out, 'co')];
  expectRefusal(args, { stderr: [`${csum}.file`, 'inflates to more than the 4096 bytes'], unchanged: [repo, out] });
  assertBounded(args, /inflates to more than/);
});

test('decompression: checkout --subpath of the bomb alone', async () => {
  const { repo, out } = fresh('archive');
  await plantBomb(repo);
  expectRefusal(['checkout', `--repo=${repo}`, '--subpath=/zero', 'main', path.join(out, 'zero')], { stderr: ['inflates to more than'], unchanged: [repo] });
  // a file subpath lands inside the destination directory, which (as upstream) is made first and
  // stays; nothing else appears, and nothing of the bomb lands in it
  assert.deepEqual([...snapshot(out).entries()], [['zero', 'd 700']]);
});

test('decompression: a bomb declaring 64 MiB + 1 (streamed by checkout and cat) stops at the declared size', async () => {
  const { repo, out } = fresh('archive');
  const declared = 64n * 1024n * 1024n + 1n;
  await plantBomb(repo, declared);
  const co = ['checkout', `--repo=${repo}`, 'main', path.join(out, 'co')];
  expectRefusal(co, { stderr: [`inflates to more than the ${declared} bytes`], unchanged: [repo, out], timeoutMs: 60_000 });
  assertBounded(co, /inflates to more than/);
});

test('decompression: a .filez declaring more than it inflates to is refused too', async () => {
  const { repo, out } = fresh('archive');
  const o = await objectOf(repo, '/file');
  const old = fs.readFileSync(o.file);
  const { headerLength } = parseArchiveHeader(old);
  const hdr = Buffer.from(old.subarray(0, headerLength));
  hdr.writeBigUInt64BE(1000000n, 8);
  fs.chmodSync(o.file, 0o644);
  fs.writeFileSync(o.file, Buffer.concat([hdr, old.subarray(headerLength)]));
  expectRefusal(['checkout', `--repo=${repo}`, 'main', path.join(out, 'co')], { stderr: [`${o.checksum}.file`, 'less than the 1000000 its header declares'], unchanged: [repo, out] });
});

// ---------------------------------------------------------------------------------------------
// Special files posing as objects and refs

for (const mode of MODES) {
  test(`special files: a FIFO in place of a ${mode} content object (cat, checkout, ls)`, async () => {
    const { repo, out } = fresh(mode);
    const o = await objectOf(repo, '/file');
    replaceWith(o.file, 'fifo');
    const what = [`${o.checksum}.file`, 'a FIFO'];
    expectRefusal(['cat', `--repo=${repo}`, 'main', '/file'], { stderr: what, unchanged: [repo] });
    expectRefusal(['checkout', `--repo=${repo}`, 'main', path.join(out, 'co')], { stderr: [`${o.checksum}.file`], unchanged: [repo, out] });
    expectRefusal(['ls', `--repo=${repo}`, 'main', '/file'], { stderr: what, unchanged: [repo] });
  });
}

test('special files: a FIFO in place of a dirtree (ls, checkout) and of a commit (show, log, rev-parse REV^)', async () => {
  const { repo, out } = fresh('bare-user-only');
  const d = await objectOf(repo, '/dir');
  replaceWith(d.file, 'fifo');
  expectRefusal(['ls', `--repo=${repo}`, 'main', '/dir'], { stderr: [`${d.checksum}.dirtree`, 'a FIFO'], unchanged: [repo] });
  expectRefusal(['checkout', `--repo=${repo}`, 'main', path.join(out, 'co')], { stderr: [`${d.checksum}.dirtree`, 'a FIFO'], unchanged: [repo, out] });
  const c = mainCommit(repo);
  replaceWith((await Repo.open(repo)).objectPath(c, 'commit'), 'fifo');
  for (const args of [['show', 'main'], ['log', 'main'], ['rev-parse', 'main^'], ['checkout', 'main', path.join(out, 'co2')]]) {
    expectRefusal([args[0]!, `--repo=${repo}`, ...args.slice(1)], { stderr: [`${c}.commit`, 'a FIFO'], unchanged: [repo, out] });
  }
});

test('special files: a FIFO and a character device in place of ref files', () => {
  const { repo } = fresh('archive');
  replaceWith(path.join(repo, 'refs/heads/main'), 'fifo');
  for (const verb of ['rev-parse', 'log', 'show', 'ls']) {
    expectRefusal([verb, `--repo=${repo}`, 'main'], { stderr: ['refs/heads/main', 'a FIFO'], unchanged: [repo] });
  }
  if (process.getuid?.() === 0) {
    replaceWith(path.join(repo, 'refs/heads/main'), 'chardev');
    expectRefusal(['rev-parse', `--repo=${repo}`, 'main'], { stderr: ['refs/heads/main', 'a character device'], unchanged: [repo] });
  }
});

test('special files: a symlink in place of a metadata object is not followed', async () => {
  const { repo } = fresh('archive');
  const d = await objectOf(repo, '/dir');
  fs.rmSync(d.file);
  fs.symlinkSync('/etc/passwd', d.file);
  expectRefusal(['ls', `--repo=${repo}`, 'main', '/dir'], { stderr: [`${d.checksum}.dirtree`, 'symbolic link'], unchanged: [repo] });
});

test('sizes: a dirtree of 129 MiB is refused before it is read', async () => {
  const { repo } = fresh('bare-user');
  const d = await objectOf(repo, '/dir');
  fs.chmodSync(d.file, 0o644);
  fs.truncateSync(d.file, 129 * 1024 * 1024); // sparse: costs no disk
  expectRefusal(['ls', `--repo=${repo}`, 'main', '/dir'], { stderr: [`${d.checksum}.dirtree`, 'more than the limit of 134.2\u00a0MB'], unchanged: [repo], timeoutMs: 10_000 });
});

// ---------------------------------------------------------------------------------------------
// Depth

test('depth: a tree 10,000 directories deep commits and checks out (bare-user-only and archive)', () => {
  const tree = path.join(work.dir, 'deep-tree');
  const leaf = makeDeepTree(tree, 10_000);
  try {
    for (const mode of ['bare-user-only', 'archive'] as RepoMode[]) {
      const repo = path.join(work.dir, `deep-${mode}`);
      assert.equal(runCli(['init', `--repo=${repo}`, `--mode=${mode}`]).code, 0);
      const c = runCli(['commit', `--repo=${repo}`, '-b', 'deep', `--tree=dir=${tree}`], { timeoutMs: 120_000 });
      assert.equal(c.code, 0, c.stderr);
      const co = path.join(work.dir, `deep-co-${mode}`);
      const r = runCli(['checkout', `--repo=${repo}`, 'deep', co], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readDeep(co + leaf.slice(tree.length)), 'leaf\n');
      removeTree(co);
    }
  } finally {
    removeTree(tree);
  }
});

/** A commit whose root dirtree lists itself as its subdirectory `loop` (stored under a name its
 *  content cannot hash to: the only way to make one). */
async function selfContaining(repoPath: string): Promise<string> {
  const repo = await Repo.open(repoPath);
  const c = repo.loadCommitSync(mainCommit(repoPath));
  const fake = 'ab'.repeat(32);
  const dt = serialize('(a(say)a(sayay))', [[], [['loop', Buffer.from(fake, 'hex'), Buffer.from(c.rootMeta, 'hex')]]], { bigEndian: true });
  const p = repo.objectPath(fake, 'dirtree');
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, dt);
  const commit = repo.writeMetadataObjectSync('commit', serializeCommit({ ...c, rootTree: fake }));
  await repo.setRef('loop', commit);
  return fake;
}

for (const mode of ['bare-user-only', 'archive'] as RepoMode[]) {
  test(`depth: checkout of a dirtree that contains itself is reported as corrupt (${mode})`, async () => {
    const { repo, out } = fresh(mode);
    const fake = await selfContaining(repo);
    expectRefusal(['checkout', `--repo=${repo}`, 'loop', path.join(out, 'co')], { stderr: [`dirtree ${fake}`, 'is corrupt', 'contains itself'], unchanged: [repo, out] });
  });
}

// ---------------------------------------------------------------------------------------------
// Names

test('names: hostile ref names for refs --create, commit -b and rev-parse', () => {
  const { repo } = fresh('bare-user-only');
  const c = mainCommit(repo);
  const tree = path.join(work.dir, 'tree');
  for (const bad of ['../x', 'a/../../b', '/abs', 'trailing/', 'a//b', 'x\ny', '.hidden']) {
    expectRefusal(['refs', `--repo=${repo}`, `--create=${bad}`, c], { stderr: ['Invalid ref'], unchanged: [repo] });
    expectRefusal(['commit', `--repo=${repo}`, '-b', bad, `--tree=dir=${tree}`], { stderr: ['Invalid ref'], unchanged: [repo] });
  }
  expectRefusal(['rev-parse', `--repo=${repo}`, '../../../../etc/passwd'], { stderr: ['Invalid ref'], unchanged: [repo] });
  expectRefusal(['rev-parse', `--repo=${repo}`, 'main\n'], { stderr: ['Invalid ref'], unchanged: [repo] });
  expectRefusal(['rev-parse', `--repo=${repo}`, 'evil:../../x'], { stderr: ['Invalid ref'], unchanged: [repo] });
  expectRefusal(['rev-parse', `--repo=${repo}`, '..:x'], { stderr: ['Invalid remote name'], unchanged: [repo] });
});

test('names: hostile remote names, option keys and values for remote add', () => {
  const { repo } = fresh('archive');
  for (const bad of ['../x', 'a/b', 'x\ny', '.', '..']) {
    expectRefusal(['remote', 'add', `--repo=${repo}`, bad, 'http://example.com/repo'], { stderr: ['Invalid remote name'], unchanged: [repo] });
  }
  expectRefusal(['remote', 'add', `--repo=${repo}`, 'ok', 'http://example.com/\n[core]\nmode=bare'], { stderr: ['line break'], unchanged: [repo] });
  expectRefusal(['remote', 'add', `--repo=${repo}`, '--set=gpg-verify=false\n[core]', 'ok', 'http://example.com/'], { stderr: ['line break'], unchanged: [repo] });
  expectRefusal(['remote', 'add', `--repo=${repo}`, '--set=a/b=c', 'ok', 'http://example.com/'], { stderr: ['invalid option name'], unchanged: [repo] });
});

for (const [label, entry] of [["file named '..'", 'file'], ["directory named '..'", 'dir'], ["file named 'a/b'", 'slash']] as const) {
  test(`names: checkout of a crafted commit whose dirtree has a ${label}`, async () => {
    const { repo: repoPath, out } = fresh('archive');
    const repo = await Repo.open(repoPath);
    const c = repo.loadCommitSync(mainCommit(repoPath));
    const file = Buffer.from((await objectOf(repoPath, '/file')).checksum, 'hex');
    const files = entry === 'file' ? [['..', file]] : entry === 'slash' ? [['a/b', file]] : [];
    const dirs = entry === 'dir' ? [['..', Buffer.from(c.rootTree, 'hex'), Buffer.from(c.rootMeta, 'hex')]] : [];
    const tree = repo.writeMetadataObjectSync('dirtree', serialize('(a(say)a(sayay))', [files, dirs], { bigEndian: true }));
    await repo.setRef('crafted', repo.writeMetadataObjectSync('commit', serializeCommit({ ...c, rootTree: tree })));
    expectRefusal(['checkout', `--repo=${repoPath}`, 'crafted', path.join(out, 'co')], { stderr: [`dirtree ${tree}`, 'invalid file name'], unchanged: [repoPath, out] });
  });
}
