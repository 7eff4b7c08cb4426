/**
 * Bad input at the CLI level: every case must fail with `error: ...` naming the object or path,
 * exit non-zero, and write nothing in the repository outside tmp/ (checked by snapshotting the
 * repository's file list with sizes and contents hashes before and after).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialize } from '../../src/glib/gvariant.js';
import { Repo, type RepoMode } from '../../src/repo/repo.js';
import { serializeCommit } from '../../src/repo/objects/commit.js';
import { tempDir } from '../common/tmp.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
let work = '';
const templates = new Map<RepoMode, string>();

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, OSTREE_REPO: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** path -> size:sha256 (symlinks: target) for every entry outside tmp/. */
function snapshot(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(repo, p);
      if (rel === 'tmp' || rel === '.lock') continue;
      if (e.isDirectory()) { out.set(rel, 'dir'); walk(p); } else if (e.isSymbolicLink()) out.set(rel, `-> ${fs.readlinkSync(p)}`);
      else { const b = fs.readFileSync(p); out.set(rel, `${b.length}:${createHash('sha256').update(b).digest('hex')}`); }
    }
  };
  walk(repo);
  return out;
}

let caseNo = 0;
/** A fresh copy of the template repository of `mode` (cp -a keeps the bare-user xattrs). */
function freshRepo(mode: RepoMode): string {
  const dst = path.join(work, `case-${caseNo++}-${mode}`);
  execFileSync('cp', ['-a', templates.get(mode)!, dst]);
  return dst;
}

/** Run the CLI, expect failure naming `names`, and no change outside tmp/ (except `allowed`). */
function expectFailure(repo: string, args: string[], names: Array<string | RegExp>, allowed: string[] = []): string {
  const before = snapshot(repo);
  const r = run(...args);
  assert.notEqual(r.code, 0, `exit code for ${args.join(' ')}: stdout=${r.stdout}`);
  assert.match(r.stderr, /^error: /m, r.stderr);
  for (const n of names) {
    if (typeof n === 'string') assert.ok(r.stderr.includes(n), `stderr should name ${n}: ${r.stderr}`);
    else assert.match(r.stderr, n);
  }
  const afterSnap = snapshot(repo);
  for (const k of new Set([...before.keys(), ...afterSnap.keys()])) {
    if (allowed.includes(k)) continue;
    assert.equal(afterSnap.get(k), before.get(k), `repository entry ${k} changed by: ${args.join(' ')}`);
  }
  return r.stderr;
}

function commitOf(repo: string): string { return fs.readFileSync(path.join(repo, 'refs/heads/main'), 'utf8').trim(); }

async function objectFor(repoPath: string, p: string): Promise<{ csum: string; file: string }> {
  const repo = await Repo.open(repoPath);
  const r = repo.lookupPathSync(commitOf(repoPath), p);
  const csum = r.kind === 'file' ? r.checksum : r.tree;
  return { csum, file: repo.objectPath(csum, r.kind === 'file' ? 'file' : 'dirtree') };
}

function flip(file: string, at: number): void {
  fs.chmodSync(file, 0o644);
  const b = fs.readFileSync(file);
  const i = at < 0 ? b.length + at : at;
  b[i] = b[i]! ^ 0x01;
  fs.writeFileSync(file, b);
}

before(async () => {
  work = tempDir('bad-input-');
  const tree = path.join(work, 'tree');
  fs.mkdirSync(path.join(tree, 'dir/sub'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'file'), 'hello world, this is file content\n'.repeat(20));
  fs.writeFileSync(path.join(tree, 'dir/sub/inner'), 'inner\n');
  fs.symlinkSync('file', path.join(tree, 'link'));
  for (const mode of ['bare', 'bare-user', 'bare-user-only', 'archive'] as RepoMode[]) {
    const repo = await Repo.create(path.join(work, `template-${mode}`), mode);
    await repo.commitTree(tree, { branch: 'main', subject: 'template' });
    templates.set(mode, repo.path);
  }
});

after(() => { if (work) fs.rmSync(work, { recursive: true, force: true }); });

for (const mode of ['bare', 'bare-user', 'bare-user-only', 'archive'] as RepoMode[]) {
  test(`fsck: flipped byte in a ${mode} file object names the object`, async () => {
    const repo = freshRepo(mode);
    const o = await objectFor(repo, '/file');
    flip(o.file, -3);
    expectFailure(repo, ['fsck', `--repo=${repo}`], [`fsck content object ${o.csum}`, `In commits ${commitOf(repo)}`]);
  });
}

test('fsck: flipped byte in a dirtree (metadata) names the dirtree', async () => {
  const repo = freshRepo('bare-user');
  const o = await objectFor(repo, '/dir');
  flip(o.file, 0);
  expectFailure(repo, ['fsck', `--repo=${repo}`], [`fsck ${o.csum}.dirtree`, `Corrupted dirtree object; checksum expected='${o.csum}'`]);
});

test('fsck: flipped byte in a commit object names the commit', async () => {
  const repo = freshRepo('archive');
  const c = commitOf(repo);
  flip((await Repo.open(repo)).objectPath(c, 'commit'), 10);
  expectFailure(repo, ['fsck', `--repo=${repo}`], [`${c}.commit`, 'Corrupted commit object']);
});

test('fsck: truncated archive file object', async () => {
  const repo = freshRepo('archive');
  const o = await objectFor(repo, '/file');
  fs.truncateSync(o.file, 12);
  expectFailure(repo, ['fsck', `--repo=${repo}`], [o.csum]);
});

test('fsck: truncated bare file object', async () => {
  const repo = freshRepo('bare');
  const o = await objectFor(repo, '/file');
  fs.truncateSync(o.file, 100);
  expectFailure(repo, ['fsck', `--repo=${repo}`], [`fsck content object ${o.csum}: Corrupted file object`]);
});

test('fsck: missing file object is named and the commit marked partial (only state/ changes)', async () => {
  const repo = freshRepo('bare-user');
  const o = await objectFor(repo, '/dir/sub/inner');
  fs.unlinkSync(o.file);
  const c = commitOf(repo);
  const err = expectFailure(repo, ['fsck', `--repo=${repo}`], [`Object missing in commits ${c}: ${o.csum}.file`, 'Repository corruption encountered'], [`state/${c}.commitpartial`]);
  assert.match(err, new RegExp(`Marking commit as partial: ${c}`));
});

for (const [label, entries] of [
  ["'..'", ['..']], ["'.'", ['.']], ['empty', ['']], ["containing '/'", ['a/b']], ['unsorted', ['zz', 'aa']],
] as Array<[string, string[]]>) {
  test(`fsck: dirtree entry name ${label} stored under its own checksum`, async () => {
    const repoPath = freshRepo('bare-user');
    const repo = await Repo.open(repoPath);
    const content = (await objectFor(repoPath, '/file')).csum;
    const dt = serialize('(a(say)a(sayay))', [entries.map((n) => [n, Buffer.from(content, 'hex')]), []], { bigEndian: true });
    const tree = repo.writeMetadataObjectSync('dirtree', dt);
    const c = repo.loadCommitSync(commitOf(repoPath));
    const commit = repo.writeMetadataObjectSync('commit', serializeCommit({ ...c, rootTree: tree }));
    await repo.setRef('crafted', commit);
    expectFailure(repoPath, ['fsck', `--repo=${repoPath}`], [`${tree}.dirtree`, label === 'unsorted' ? /not sorted/ : /invalid file name/]);
  });
}

test('fsck and rev-parse: ref file holding garbage', () => {
  const repo = freshRepo('bare');
  fs.writeFileSync(path.join(repo, 'refs/heads/broken'), 'this is not a checksum\n');
  expectFailure(repo, ['fsck', `--repo=${repo}`], ['refs/heads/broken']);
  expectFailure(repo, ['rev-parse', `--repo=${repo}`, 'broken'], ['refs/heads/broken']);
});

test('fsck: ref pointing at a missing commit', () => {
  const repo = freshRepo('bare');
  const missing = 'ab'.repeat(32);
  fs.writeFileSync(path.join(repo, 'refs/heads/dangling'), `${missing}\n`);
  expectFailure(repo, ['fsck', `--repo=${repo}`], [`Loading commit for ref dangling`, `${missing}.commit`]);
});

test('garbled config and unknown mode name the config file', () => {
  const repo = freshRepo('bare');
  fs.writeFileSync(path.join(repo, 'config'), '[core\nrepo_version=1\n');
  expectFailure(repo, ['fsck', `--repo=${repo}`], [path.join(repo, 'config')]);
  fs.writeFileSync(path.join(repo, 'config'), '[core]\nrepo_version=1\nmode=weird\n');
  expectFailure(repo, ['prune', `--repo=${repo}`], [path.join(repo, 'config'), 'weird']);
});

test('commit with a bad ref name, and of a missing directory', () => {
  const repo = freshRepo('bare-user');
  expectFailure(repo, ['commit', `--repo=${repo}`, '-b', 'bad..//name', `--tree=dir=${path.join(work, 'tree')}`], ['bad..//name']);
  const missingDir = path.join(work, 'no-such-dir');
  expectFailure(repo, ['commit', `--repo=${repo}`, '-b', 'main', `--tree=dir=${missingDir}`], [missingDir]);
});

test('checkout into an existing directory names it', () => {
  const repo = freshRepo('bare-user');
  const dest = path.join(work, 'existing-dest');
  fs.mkdirSync(dest, { recursive: true });
  expectFailure(repo, ['checkout', `--repo=${repo}`, 'main', dest], [dest]);
});

test('cat of a directory and of a missing path name the path', () => {
  const repo = freshRepo('archive');
  expectFailure(repo, ['cat', `--repo=${repo}`, 'main', '/dir'], ['/dir']);
  expectFailure(repo, ['cat', `--repo=${repo}`, 'main', '/no/such/file'], ['/no/such/file']);
});

test('rev-parse and diff of an unknown ref', () => {
  const repo = freshRepo('bare');
  expectFailure(repo, ['rev-parse', `--repo=${repo}`, 'no-such-ref'], ['no-such-ref']);
  expectFailure(repo, ['diff', `--repo=${repo}`, 'main', 'no-such-ref'], ['no-such-ref']);
});

test('pull-local from a non-repository names the source path', () => {
  const repo = freshRepo('bare');
  const src = path.join(work, 'not-a-repo');
  fs.mkdirSync(src, { recursive: true });
  expectFailure(repo, ['pull-local', `--repo=${repo}`, src], [src]);
});

test('pull-local --untrusted of a corrupted source object fails, naming it, and sets no ref', async () => {
  const src = freshRepo('bare-user');
  const o = await objectFor(src, '/file');
  flip(o.file, 5);
  const dest = (await Repo.create(path.join(work, `empty-dest-${caseNo++}`), 'archive')).path;
  const r = run('pull-local', '--untrusted', `--repo=${dest}`, src, 'main'); // a trusted local source is taken as named, as upstream
  assert.notEqual(r.code, 0);
  assert.ok(r.stderr.includes(o.csum), r.stderr);
  assert.equal(fs.existsSync(path.join(dest, 'refs/heads/main')), false);
});

test('prune refuses to run with a garbage ref and deletes nothing', () => {
  const repo = freshRepo('bare-user');
  fs.writeFileSync(path.join(repo, 'refs/heads/junk'), 'zzz\n');
  expectFailure(repo, ['prune', `--repo=${repo}`, '--refs-only'], ['refs/heads/junk']);
});
