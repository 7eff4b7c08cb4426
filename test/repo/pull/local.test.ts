import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OstreeError } from '../../../src/errors.js';
import { Repo, type RepoMode } from '../../../src/repo/repo.js';
import { fsckRepo } from '../../../src/repo/fsck.js';
import { formatPullStatus, formatSize, pullLocal } from '../../../src/repo/pull/local.js';

const MODES: RepoMode[] = ['bare', 'bare-user', 'bare-user-only', 'archive'];

function tmpdir(tag: string): string { return fs.mkdtempSync(path.join(os.tmpdir(), `pull-${tag}-`)); }

function makeTree(root: string, extra: Record<string, string> = {}): void {
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/bin/tool'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  fs.writeFileSync(path.join(root, 'etc/conf'), 'a=1\n', { mode: 0o644 });
  fs.symlinkSync('../usr/bin/tool', path.join(root, 'etc/link'));
  for (const [k, v] of Object.entries(extra)) { fs.mkdirSync(path.dirname(path.join(root, k)), { recursive: true }); fs.writeFileSync(path.join(root, k), v); }
}

async function sourceRepo(mode: RepoMode): Promise<{ repo: Repo; c1: string; c2: string; dir: string }> {
  const dir = tmpdir(`src-${mode}`);
  const tree = path.join(dir, 'tree');
  makeTree(tree);
  const repo = await Repo.create(path.join(dir, 'repo'), mode);
  const c1 = await repo.commitTree(tree, { branch: 'os/main', subject: 'one', timestamp: 1000n });
  fs.writeFileSync(path.join(tree, 'usr/bin/second'), 'only in the second commit\n');
  const c2 = await repo.commitTree(tree, { branch: 'os/main', subject: 'two', timestamp: 2000n });
  return { repo, c1, c2, dir };
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); out.push(path.relative(root, p)); if (e.isDirectory()) walk(p); } };
  walk(root);
  return out.sort();
}

test('formatSize follows g_format_size', () => {
  assert.equal(formatSize(0), '0 bytes');
  assert.equal(formatSize(1), '1 byte');
  assert.equal(formatSize(999), '999 bytes');
  assert.equal(formatSize(1000), '1.0\u00a0kB');
  assert.equal(formatSize(1234567), '1.2\u00a0MB');
});

for (const srcMode of MODES) {
  test(`pull-local from ${srcMode} into every mode: objects verified, refs set, fsck clean, same checkout`, async () => {
    const s = await sourceRepo(srcMode);
    const srcCheckout = path.join(s.dir, 'co-src');
    await s.repo.checkout('os/main', srcCheckout, { userMode: true });
    for (const destMode of MODES) {
      const dest = await Repo.create(path.join(s.dir, `dest-${destMode}`), destMode);
      const r = await pullLocal(dest, s.repo.path, { refs: ['os/main'] });
      assert.equal(r.refs.get('os/main'), s.c2);
      assert.equal(await dest.resolveRev('os/main'), s.c2);
      assert.ok(r.metadataObjects >= 4, `metadata ${r.metadataObjects}`);
      assert.equal(r.contentObjects, 4);
      assert.match(formatPullStatus(r), /^\d+ metadata, 4 content objects imported; .* content written$/);
      assert.equal(fs.existsSync(path.join(dest.path, 'state', `${s.c2}.commitpartial`)), false);
      assert.equal(dest.hasObjectSync(s.c1, 'commit'), false, 'depth 0 does not pull the parent');
      const res = await fsckRepo(dest, { quiet: true });
      assert.equal(res.commitsVerified, 1);
      const co = path.join(s.dir, `co-${destMode}`);
      await dest.checkout('os/main', co, { userMode: true });
      assert.deepEqual(listFiles(co), listFiles(srcCheckout));
      assert.equal(fs.readFileSync(path.join(co, 'usr/bin/second'), 'utf8'), 'only in the second commit\n');
      assert.equal(fs.readlinkSync(path.join(co, 'etc/link')), '../usr/bin/tool');
      assert.equal(fs.statSync(path.join(co, 'usr/bin/tool')).mode & 0o111, 0o111);
      // A second pull has nothing to do.
      const again = await pullLocal(dest, s.repo.path, { refs: ['os/main'] });
      assert.equal(again.metadataObjects + again.contentObjects, 0);
    }
    fs.rmSync(s.dir, { recursive: true, force: true });
  });
}

test('pull-local --remote, --depth=-1, all refs by default, commit checksums set no ref', async () => {
  const s = await sourceRepo('archive');
  const dest = await Repo.create(path.join(s.dir, 'dest'), 'bare-user');
  const r = await pullLocal(dest, s.repo.path, { remote: 'origin', depth: -1 });
  assert.deepEqual([...r.refs], [['origin:os/main', s.c2]]);
  assert.ok(fs.existsSync(path.join(dest.path, 'refs/remotes/origin/os/main')));
  assert.equal(dest.hasObjectSync(s.c1, 'commit'), true, 'depth -1 pulls the parent');
  await fsckRepo(dest, { quiet: true });
  const d2 = await Repo.create(path.join(s.dir, 'dest2'), 'bare');
  const r2 = await pullLocal(d2, s.repo.path, { refs: [s.c1] });
  assert.equal(r2.refs.size, 0);
  assert.equal((await d2.listRefs()).size, 0);
  assert.equal(d2.hasObjectSync(s.c1, 'commit'), true);
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('pull-local refuses a ref not in the commit ref binding, and unknown refs', async () => {
  const s = await sourceRepo('bare-user');
  await s.repo.setRef('other', s.c2);
  const dest = await Repo.create(path.join(s.dir, 'dest'), 'bare-user');
  await assert.rejects(pullLocal(dest, s.repo.path, { refs: ['other'] }), /no requested ref ‘other’ in ref binding metadata/);
  await assert.rejects(pullLocal(dest, s.repo.path, { refs: ['nosuch'] }), (e: unknown) => e instanceof OstreeError && e.code === 'ENOENT' && /nosuch/.test(e.message));
  assert.equal((await dest.listRefs()).size, 0);
  const ok = await pullLocal(dest, s.repo.path, { refs: ['other'], disableVerifyBindings: true });
  assert.equal(ok.refs.get('other'), s.c2);
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('pull-local --untrusted detects a corrupted source object on conversion and sets no ref; a trusted pull takes it as named (upstream)', async () => {
  const s = await sourceRepo('bare-user');
  const tool = s.repo.lookupPathSync(s.c2, '/usr/bin/tool');
  assert.equal(tool.kind, 'file');
  const p = s.repo.objectPath((tool as { checksum: string }).checksum, 'file');
  const b = fs.readFileSync(p); b[0] ^= 1; fs.chmodSync(p, 0o644); fs.writeFileSync(p, b);
  const dest = await Repo.create(path.join(s.dir, 'dest'), 'archive');
  await assert.rejects(pullLocal(dest, s.repo.path, { refs: ['os/main'], untrusted: true }), /Corrupted file object; checksum expected='[0-9a-f]{64}' actual='[0-9a-f]{64}'/);
  assert.equal((await dest.listRefs()).size, 0);
  assert.ok(fs.existsSync(path.join(dest.path, 'state', `${s.c2}.commitpartial`)), 'the commit stays marked partial');
  assert.deepEqual(fs.readdirSync(path.join(dest.path, 'tmp')).filter((n) => n !== 'cache'), [], 'no temporary files left');
  const trusting = await Repo.create(path.join(s.dir, 'dest2'), 'archive');
  await pullLocal(trusting, s.repo.path, { refs: ['os/main'] });
  assert.equal((await trusting.listRefs()).get('os/main'), s.c2);
  await assert.rejects(fsckRepo(trusting, { quiet: true }), /Corrupted/, 'what a trusted pull took as named, fsck finds');
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('pull-local streams large files and uses the worker pool for many files', async () => {
  const dir = tmpdir('big');
  const tree = path.join(dir, 'tree');
  const big: Record<string, string> = {};
  for (let i = 0; i < 300; i++) big[`many/f${i}`] = `file ${i}\n`.repeat(i);
  makeTree(tree, big);
  const large = Buffer.alloc(12 * 1024 * 1024);
  for (let i = 0; i < large.length; i += 4096) large.writeUInt32BE(i, i);
  fs.writeFileSync(path.join(tree, 'large.bin'), large);
  const src = await Repo.create(path.join(dir, 'src'), 'archive');
  const c = await src.commitTree(tree, { branch: 'big' });
  const bare = await Repo.create(path.join(dir, 'bare'), 'bare');
  const r = await pullLocal(bare, src.path, { workers: 2 });
  assert.equal(r.contentObjects, 300 + 4);
  assert.ok(r.contentBytes >= large.length);
  await fsckRepo(bare, { quiet: true });
  const back = await Repo.create(path.join(dir, 'archive2'), 'archive');
  await pullLocal(back, bare.path, { refs: ['big'] });
  await fsckRepo(back, { quiet: true });
  const co = path.join(dir, 'co');
  await back.checkout(c, co, { userMode: true });
  assert.ok(fs.readFileSync(path.join(co, 'large.bin')).equals(large));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('pull-local from a non-repository names the path', async () => {
  const dir = tmpdir('nonrepo');
  const dest = await Repo.create(path.join(dir, 'dest'), 'bare');
  await assert.rejects(pullLocal(dest, path.join(dir, 'nope')), (e: unknown) => e instanceof OstreeError && e.code === 'ENOENT' && e.message.includes(path.join(dir, 'nope')));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('pull-local --commit-metadata-only leaves the commit partial so fsck skips it', async () => {
  const s = await sourceRepo('bare-user');
  const dest = await Repo.create(path.join(s.dir, 'dest'), 'bare-user');
  const r = await pullLocal(dest, s.repo.path, { refs: ['os/main'], commitMetadataOnly: true });
  assert.equal(r.contentObjects, 0);
  assert.ok(fs.existsSync(path.join(dest.path, 'state', `${s.c2}.commitpartial`)));
  const res = await fsckRepo(dest, { quiet: true });
  assert.equal(res.partialCommits, 1);
  // A full pull afterwards completes it.
  await pullLocal(dest, s.repo.path, { refs: ['os/main'] });
  assert.equal(fs.existsSync(path.join(dest.path, 'state', `${s.c2}.commitpartial`)), false);
  assert.equal((await fsckRepo(dest, { quiet: true })).commitsVerified, 1);
  fs.rmSync(s.dir, { recursive: true, force: true });
});
