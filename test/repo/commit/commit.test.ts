/** commitTree (src/repo/commit/): deep trees, refusals that write nothing, clear errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../../src/errors.js';
import { Repo, type RepoMode } from '../../../src/repo/repo.js';
import { makeDeepTree, removeTree } from '../../common/deep-tree.js';
import { tempDir } from '../../common/tmp.js';

const isErr = (code: string, re?: RegExp) => (e: unknown): boolean => e instanceof OstreeError && e.code === code && (!re || re.test(e.message));
function tmp(): string { return tempDir('commit-test-'); }

/** Every path under `root` (what a refused commit must leave as it was). */
function listing(root: string): string[] {
  const out: string[] = [];
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      out.push(r);
      if (e.isDirectory()) stack.push(r);
    }
  }
  return out.sort();
}

test('a FIFO, socket or device anywhere in the tree is refused naming it, and nothing is written', async () => {
  const d = tmp();
  const src = path.join(d, 'src');
  fs.mkdirSync(path.join(src, 'a/b'), { recursive: true });
  for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(src, `f${i}`), `file ${i}`);
  execFileSync('mkfifo', [path.join(src, 'a/b/fifo')]);
  const repo = await Repo.create(path.join(d, 'repo'), 'bare-user');
  const before = listing(repo.path);
  await assert.rejects(repo.commitTree(src, { branch: 'x', workers: 2 }), isErr('EINVAL', /cannot commit '.*\/a\/b\/fifo': it is a FIFO/));
  assert.deepEqual(listing(repo.path).filter((p) => p !== '/.lock'), before);
  if (process.getuid?.() === 0) {
    fs.rmSync(path.join(src, 'a/b/fifo'));
    execFileSync('mknod', [path.join(src, 'a/dev'), 'c', '1', '3']);
    await assert.rejects(repo.commitTree(src, { branch: 'x' }), isErr('EINVAL', /'.*\/a\/dev': it is a character device/));
  }
});

test('a missing directory, or a file, is a clear error naming the path', async () => {
  const d = tmp();
  const repo = await Repo.create(path.join(d, 'repo'), 'archive');
  const missing = path.join(d, 'no-such-dir');
  await assert.rejects(repo.commitTree(missing, { branch: 'x' }), isErr('ENOENT', new RegExp(`cannot commit '${missing}': no such directory`)));
  fs.writeFileSync(path.join(d, 'file'), 'x');
  await assert.rejects(repo.commitTree(path.join(d, 'file'), { branch: 'x' }), isErr('EINVAL', /it is a regular file, not a directory/));
});

for (const mode of ['bare-user-only', 'archive', 'bare-user'] as RepoMode[]) {
  test(`${mode}: a tree 10,000 directories deep commits (iteratively), and its leaf is stored`, async () => {
    const d = tmp();
    const src = path.join(d, 'src');
    makeDeepTree(src, 10_000);
    try {
      const repo = await Repo.create(path.join(d, 'repo'), mode);
      const c = await repo.commitTree(src, { branch: 'deep', workers: 2 });
      const found = repo.lookupPathSync(c, `${'d/'.repeat(10_000)}leaf`);
      assert.equal(found.kind, 'file');
      assert.equal(repo.readFileContentSync((found as { checksum: string }).checksum).data.toString(), 'leaf\n');
    } finally {
      removeTree(d);
    }
  });
}

test('unsupported file types are refused with the path named', async () => {
  const d = tmp();
  const src = path.join(d, 'src'); fs.mkdirSync(src);
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  const r = await Repo.create(path.join(d, 'repo'), 'archive');
  await assert.rejects(r.commitTree(src, { branch: 'x' }), isErr('EINVAL', /fifo/));
});

/** A tree large enough for the writers to use worker threads: files, symlinks, two statoverrides. */
function writerTree(src: string): string {
  for (let i = 0; i < 1500; i++) {
    const dir = path.join(src, `d${i % 30}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}`), `content ${i} `.repeat(i % 7));
  }
  for (let i = 0; i < 40; i++) fs.symlinkSync(`target-${i}`, path.join(src, `d${i % 30}`, `l${i}`));
  const so = path.join(src, '..', 'statoverride');
  fs.writeFileSync(so, '+1 /d5/f5\n=384 /d7/f1207\n');
  return so;
}

test('content writers: this thread alone or with worker threads store the same commit; a file gone before it is stored fails it', async () => {
  const d = tmp();
  const src = path.join(d, 'src');
  const statoverride = writerTree(src);
  const repo = await Repo.create(path.join(d, 'repo'), 'bare-user');
  const opts = { timestamp: 0n, statoverride, branch: 'x' };
  const one = await repo.commit([{ kind: 'dir', path: src }], { ...opts, workers: 1 });
  assert.equal(one.stats.contentTotal, 1540);
  const empty = Math.ceil(1500 / 7); // (i % 7 === 0: empty files, one object)
  assert.equal(one.stats.contentWritten, 1540 - empty + 1);
  const other = await Repo.create(path.join(d, 'repo2'), 'bare-user');
  const three = await other.commit([{ kind: 'dir', path: src }], { ...opts, workers: 3 });
  assert.equal(three.checksum, one.checksum);
  assert.equal(three.stats.contentWritten, one.stats.contentWritten);
  assert.equal(three.stats.contentBytesWritten, one.stats.contentBytesWritten);
  const f5 = repo.lookupPathSync(one.checksum, 'd5/f5') as { checksum: string };
  assert.equal(repo.readFileContentSync(f5.checksum).header.mode, 0o100645);
  const gone = path.join(src, 'd20', 'f1400');
  const failing = await Repo.create(path.join(d, 'repo3'), 'bare-user');
  const before = listing(failing.path);
  await assert.rejects(failing.commit([{ kind: 'dir', path: src }], {
    ...opts, workers: 3, progress: (p) => { if (p.walkDone) fs.rmSync(gone, { force: true }); },
  }), (e: unknown) => (e as { code?: string }).code === 'ENOENT');
  assert.deepEqual(listing(path.join(failing.path, 'tmp')), before.filter((p) => p.startsWith('/tmp/')).map((p) => p.slice('/tmp'.length)));
  assert.equal(failing.resolveRevSync('x'), null);
});
