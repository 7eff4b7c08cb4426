/**
 * HTTP pulls (src/repo/pull/) against a static file server on 127.0.0.1 serving archive repos
 * written by us: refs and summary resolution, depth, every destination mode, verification of
 * every object, missing/corrupted objects, dropped connections, bounded parallelism,
 * gpg-verify refusal, remotes.d, crash (SIGKILL) in the middle of a pull, CLI output.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync as spawnSyncImpl } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OstreeError } from '../../../src/errors.js';
import { serialize, Variant } from '../../../src/glib/gvariant.js';
import { Repo, type RepoMode } from '../../../src/repo/repo.js';
import { fsckRepo } from '../../../src/repo/fsck.js';
import {
  HttpFetcher, deltaSuperblockPath, formatPullProgress, formatPullResult, listRemoteRefs, parseSummary, pullFromRemote,
} from '../../../src/repo/pull/http.js';
import { closeServers, serve, trackServer } from './server.js';

const OURS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/cli/main.js');
const MODES: RepoMode[] = ['bare', 'bare-user', 'bare-user-only', 'archive'];

function tmpdir(tag: string): string { return fs.mkdtempSync(path.join(os.tmpdir(), `pullhttp-${tag}-`)); }

after(closeServers);

// ---------------------------------------------------------------------------------------------
// Fixtures

function makeTree(root: string, nFiles = 0): void {
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'usr/etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/bin/tool'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  fs.writeFileSync(path.join(root, 'usr/etc/conf'), 'a=1\n', { mode: 0o644 });
  fs.writeFileSync(path.join(root, 'usr/big'), Buffer.alloc(300 * 1024, 7));
  fs.symlinkSync('../bin/tool', path.join(root, 'usr/etc/link'));
  for (let i = 0; i < nFiles; i++) fs.writeFileSync(path.join(root, `usr/f${i}`), `file number ${i}\n`);
}

interface Source { dir: string; repo: Repo; tree: string; c1: string; c2: string; c3: string }

/** An archive repo with three commits on os/main (timestamps 1000, 2000, 3000). */
async function sourceRepo(nFiles = 0): Promise<Source> {
  const dir = tmpdir('src');
  const tree = path.join(dir, 'tree');
  makeTree(tree, nFiles);
  const repo = await Repo.create(path.join(dir, 'repo'), 'archive');
  const c1 = await repo.commitTree(tree, { branch: 'os/main', subject: 'one', timestamp: 1000n });
  fs.writeFileSync(path.join(tree, 'usr/bin/second'), 'second\n');
  const c2 = await repo.commitTree(tree, { branch: 'os/main', subject: 'two', timestamp: 2000n });
  fs.writeFileSync(path.join(tree, 'usr/bin/third'), 'third\n');
  const c3 = await repo.commitTree(tree, { branch: 'os/main', subject: 'three', timestamp: 3000n });
  return { dir, repo, tree, c1, c2, c3 };
}

async function destRepo(dir: string, mode: RepoMode, url: string, extra: Record<string, string> = { 'gpg-verify': 'false' }): Promise<Repo> {
  const r = await Repo.create(path.join(dir, `dest-${mode}-${Math.random().toString(36).slice(2, 8)}`), mode);
  await r.addRemote('origin', url, extra);
  return r;
}

function objectFile(repoPath: string, checksum: string, ext: string): string {
  return path.join(repoPath, 'objects', checksum.slice(0, 2), `${checksum.slice(2)}.${ext}`);
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(path.relative(root, p) + (e.isSymbolicLink() ? ` -> ${fs.readlinkSync(p)}` : e.isFile() ? ` ${fs.readFileSync(p).length}` : '/'));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

async function assertClean(repo: Repo): Promise<void> {
  const res = await fsckRepo(repo, { quiet: true });
  assert.deepEqual(res.missing, []);
  assert.deepEqual(res.corrupted, []);
  assert.equal(res.partialCommits, 0);
}

function noStaging(repo: Repo): void {
  assert.deepEqual(fs.readdirSync(path.join(repo.path, 'tmp')).filter((n) => n.startsWith('fetch-') || n.startsWith('pull-')), []);
}

/** Content object checksums of a commit's root tree files (first level only is enough here). */
function fileChecksums(repo: Repo, commit: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (tree: string, prefix: string): void => {
    const dt = repo.loadDirTreeSync(tree);
    for (const f of dt.files) out.set(prefix + f.name, f.checksum);
    for (const d of dt.dirs) walk(d.treeChecksum, `${prefix}${d.name}/`);
  };
  walk(repo.loadCommitSync(commit).rootTree, '/');
  return out;
}

// ---------------------------------------------------------------------------------------------

test('pull over HTTP into every mode: ref written last, objects verified, fsck clean, same checkout; second pull fetches nothing', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const srcCo = path.join(s.dir, 'co-src');
  await s.repo.checkout('os/main', srcCo, { userMode: true });
  for (const mode of MODES) {
    const dest = await destRepo(s.dir, mode, srv.url);
    srv.log.length = 0;
    const r = await pullFromRemote(dest, 'origin', ['os/main']);
    assert.equal(r.kind, 'http');
    assert.deepEqual([...r.refs], [['origin:os/main', s.c3]]);
    assert.equal(await dest.resolveRev('origin:os/main'), s.c3);
    assert.equal(fs.readFileSync(path.join(dest.path, 'refs/remotes/origin/os/main'), 'utf8'), `${s.c3}\n`);
    assert.equal(dest.hasObjectSync(s.c2, 'commit'), false, 'depth 0: no parent');
    assert.equal(r.contentObjects, 6); // tool conf big link second third
    assert.ok(r.bytesTransferred > 0);
    // no summary on the server: refs/heads, and (except into archive repos) a delta probe as upstream
    assert.ok(srv.log.includes('/refs/heads/os/main'));
    assert.equal(srv.log.includes('/' + deltaSuperblockPath(null, s.c3)), mode !== 'archive');
    assert.ok(srv.log.includes('/config'), 'mode checked from config when there is no summary');
    assert.match(formatPullResult(r), /^\d+ metadata, 6 content objects fetched; \d+ (B|KiB) transferred in \d+ seconds; .* content written$/);
    assert.equal(fs.existsSync(path.join(dest.path, 'state', `${s.c3}.commitpartial`)), false);
    noStaging(dest);
    await assertClean(dest);
    const co = path.join(s.dir, `co-${mode}`);
    await dest.checkout('origin:os/main', co, { userMode: true });
    assert.deepEqual(listFiles(co), listFiles(srcCo));
    // again: nothing new (only the detached metadata probe, as upstream)
    srv.log.length = 0;
    const again = await pullFromRemote(dest, 'origin', ['os/main']);
    assert.equal(again.contentObjects, 0);
    assert.equal(again.metadataObjects, 1);
    assert.deepEqual(srv.log.filter((p) => p.startsWith('/objects/')), [`/objects/${s.c3.slice(0, 2)}/${s.c3.slice(2)}.commitmeta`]);
  }
});

test('depth: 0, 1 and -1; a dangling parent on the server ends the history without error', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const d1 = await destRepo(s.dir, 'bare-user', srv.url);
  await pullFromRemote(d1, 'origin', ['os/main'], { depth: 1 });
  assert.equal(d1.hasObjectSync(s.c2, 'commit'), true);
  assert.equal(d1.hasObjectSync(s.c1, 'commit'), false);
  await assertClean(d1);
  // a deeper pull afterwards completes the history (the complete commits are not refetched)
  srv.log.length = 0;
  const r = await pullFromRemote(d1, 'origin', ['os/main'], { depth: -1 });
  assert.equal(d1.hasObjectSync(s.c1, 'commit'), true);
  assert.ok(!srv.log.includes(`/objects/${s.c2.slice(0, 2)}/${s.c2.slice(2)}.commit`));
  assert.ok(r.commits.includes(s.c1));
  await assertClean(d1);
  // server with the first commit pruned away: -1 stops there
  fs.rmSync(objectFile(s.repo.path, s.c1, 'commit'));
  const d2 = await destRepo(s.dir, 'archive', srv.url);
  await pullFromRemote(d2, 'origin', ['os/main'], { depth: -1 });
  assert.equal(d2.hasObjectSync(s.c2, 'commit'), true);
  assert.equal(d2.hasObjectSync(s.c1, 'commit'), false);
  await assertClean(d2);
  // but a missing *requested* commit is an error
  fs.rmSync(objectFile(s.repo.path, s.c3, 'commit'));
  const d3 = await destRepo(s.dir, 'archive', srv.url);
  await assert.rejects(pullFromRemote(d3, 'origin', ['os/main']), (e: unknown) => e instanceof OstreeError && e.code === 'ENOENT' && e.message.includes(`${s.c3}.commit`));
});

test('commit checksums, REF@CHECKSUM overrides and --commit-metadata-only', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  const r = await pullFromRemote(d, 'origin', [s.c1]);
  assert.equal(r.refs.size, 0, 'a checksum writes no ref');
  assert.equal(d.hasObjectSync(s.c1, 'commit'), true);
  await pullFromRemote(d, 'origin', ['os/main'], { overrideCommit: s.c2 });
  assert.equal(await d.resolveRev('origin:os/main'), s.c2);
  await assertClean(d);
  const m = await destRepo(s.dir, 'archive', srv.url);
  const cm = await pullFromRemote(m, 'origin', ['os/main'], { commitMetadataOnly: true, depth: -1 });
  assert.equal(cm.contentObjects, 0);
  for (const c of [s.c1, s.c2, s.c3]) {
    assert.equal(m.hasObjectSync(c, 'commit'), true);
    assert.equal(fs.existsSync(path.join(m.path, 'state', `${c}.commitpartial`)), true, 'commit-only commits stay partial (as upstream)');
  }
  // a full pull afterwards completes them
  await pullFromRemote(m, 'origin', ['os/main']);
  assert.equal(fs.existsSync(path.join(m.path, 'state', `${s.c3}.commitpartial`)), false);
  assert.equal(m.hasObjectSync(s.c3, 'commit'), true);
});

test('summary: refs resolved from it (not refs/heads), unknown branch named, remote refs listed', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  // A summary pointing os/main at c2 (refs/heads says c3), plus another branch.
  const bytes = (c: string): Buffer => Buffer.from(c, 'hex');
  const be = (n: bigint): bigint => { const b = Buffer.alloc(8); b.writeBigUInt64BE(n); return b.readBigUInt64LE(); };
  const summary = serialize('(a(s(taya{sv}))a{sv})', [
    [
      ['os/main', [100n, bytes(s.c2), [['ostree.commit.timestamp', new Variant('t', be(2000n))]]]],
      ['os/old', [100n, bytes(s.c1), []]],
    ],
    [['ostree.summary.mode', new Variant('s', 'archive-z2')], ['ostree.summary.indexed-deltas', new Variant('b', true)]],
  ]);
  fs.writeFileSync(path.join(s.repo.path, 'summary'), summary);
  const parsed = parseSummary(summary);
  assert.equal(parsed.refs.get('os/main')!.timestamp, 2000n);
  assert.equal(parsed.mode, 'archive-z2');
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  srv.log.length = 0;
  await pullFromRemote(d, 'origin', ['os/main']);
  assert.equal(await d.resolveRev('origin:os/main'), s.c2);
  assert.ok(!srv.log.includes('/refs/heads/os/main'));
  assert.ok(!srv.log.includes('/config'), 'mode comes from the summary');
  assert.ok(srv.log.some((p) => p.startsWith('/delta-indexes/')), 'indexed deltas: index probe as upstream');
  await assert.rejects(pullFromRemote(d, 'origin', ['os/nosuch']), /No such branch 'os\/nosuch' in repository summary/);
  assert.deepEqual([...await listRemoteRefs(d, 'origin')], [['origin:os/main', s.c2], ['origin:os/old', s.c1]]);
  fs.rmSync(path.join(s.repo.path, 'summary'));
  await assert.rejects(listRemoteRefs(d, 'origin'), /Remote refs not available; server has no summary file/);
});

test('missing object (404): error names it, the commit stays partial, no ref; a later pull completes', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const files = fileChecksums(s.repo, s.c3);
  const victim = files.get('/usr/bin/third')!;
  const stash = path.join(s.dir, 'stash');
  fs.renameSync(objectFile(s.repo.path, victim, 'filez'), stash);
  for (const mode of ['bare-user', 'archive'] as RepoMode[]) {
    const d = await destRepo(s.dir, mode, srv.url);
    await assert.rejects(pullFromRemote(d, 'origin', ['os/main'], { retryDelayMs: 1 }), (e: unknown) => {
      assert.ok(e instanceof OstreeError, String(e));
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, new RegExp(`HTTP 404 while fetching object ${victim}\\.file \\(http://127\\.0\\.0\\.1:\\d+/objects/${victim.slice(0, 2)}/${victim.slice(2)}\\.filez\\)`));
      return true;
    });
    assert.equal(fs.existsSync(path.join(d.path, 'state', `${s.c3}.commitpartial`)), true);
    assert.equal(await d.resolveRevOptional('origin:os/main'), null);
    assert.equal(d.hasObjectSync(victim, 'file'), false);
    noStaging(d);
    // upstream's fsck agrees that the commit is partial, not corrupt
    const res = await fsckRepo(d, { quiet: true });
    assert.equal(res.partialCommits, 1);
    assert.deepEqual(res.corrupted, []);
  }
  // 404s are not retried
  assert.equal(srv.log.filter((p) => p.endsWith(`${victim.slice(2)}.filez`)).length, 2);
  fs.renameSync(stash, objectFile(s.repo.path, victim, 'filez'));
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  await pullFromRemote(d, 'origin', ['os/main']);
  assert.equal(await d.resolveRev('origin:os/main'), s.c3);
  await assertClean(d);
});

test('corrupted objects: checksum mismatch names the object; nothing corrupt is stored; no ref', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const files = fileChecksums(s.repo, s.c3);
  // (a) content object whose data differs (valid archive structure: another object's bytes)
  const victim = files.get('/usr/bin/third')!;
  const other = files.get('/usr/bin/second')!;
  const vf = objectFile(s.repo.path, victim, 'filez');
  const orig = fs.readFileSync(vf);
  fs.writeFileSync(vf, fs.readFileSync(objectFile(s.repo.path, other, 'filez')));
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  await assert.rejects(pullFromRemote(d, 'origin', ['os/main']), (e: unknown) => {
    assert.ok(e instanceof OstreeError);
    assert.equal(e.code, 'ECORRUPT');
    assert.match(e.message, new RegExp(`^Object ${victim}\\.file from http://127.0.0.1:\\d+/objects/.*Corrupted file object; checksum expected='${victim}' actual='${other}'`));
    return true;
  });
  assert.equal(d.hasObjectSync(victim, 'file'), false);
  assert.equal(await d.resolveRevOptional('origin:os/main'), null);
  // (b) garbage content object
  fs.writeFileSync(vf, 'garbage');
  const d2 = await destRepo(s.dir, 'archive', srv.url);
  await assert.rejects(pullFromRemote(d2, 'origin', ['os/main']), new RegExp(`Object ${victim}\\.file`));
  assert.equal(d2.hasObjectSync(victim, 'file'), false);
  fs.writeFileSync(vf, orig);
  // (c) a dirtree with a byte appended
  const c = s.repo.loadCommitSync(s.c3);
  const tf = objectFile(s.repo.path, c.rootTree, 'dirtree');
  const torig = fs.readFileSync(tf);
  fs.writeFileSync(tf, Buffer.concat([torig, Buffer.from('x')]));
  const d3 = await destRepo(s.dir, 'bare-user', srv.url);
  await assert.rejects(pullFromRemote(d3, 'origin', ['os/main']), new RegExp(`Corrupted dirtree object; checksum expected='${c.rootTree}'.*${c.rootTree}\\.dirtree from `));
  assert.equal(d3.hasObjectSync(c.rootTree, 'dirtree'), false);
  fs.writeFileSync(tf, torig);
  // (d) a ref file that is not a checksum
  fs.writeFileSync(path.join(s.repo.path, 'refs/heads/os/bad'), 'nonsense\n');
  await assert.rejects(pullFromRemote(d3, 'origin', ['os/bad']), /Fetching checksum for ref \(\(empty\), os\/bad\): Invalid rev nonsense/);
  // all fine again
  await pullFromRemote(d3, 'origin', ['os/main']);
  await assertClean(d3);
});

test('a server that drops connections: retried, then success; one that always drops: bounded failure', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const attempts = new Map<string, number>();
  srv.hook = (p, _req, res) => {
    if (!p.startsWith('/objects/')) return;
    const n = (attempts.get(p) ?? 0) + 1;
    attempts.set(p, n);
    if (n === 1) { res.socket?.destroy(); return 'handled'; } // reset before any response
    if (n === 2 && p.endsWith('.filez')) {
      // headers and half of the body, then the connection goes away
      const data = fs.readFileSync(path.join(s.repo.path, p));
      res.writeHead(200, { 'Content-Length': data.length });
      res.write(data.subarray(0, Math.floor(data.length / 2)));
      setTimeout(() => res.socket?.destroy(), 5);
      return 'handled';
    }
    if (n === 2) { res.writeHead(503).end('busy'); return 'handled'; }
  };
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  const r = await pullFromRemote(d, 'origin', ['os/main'], { retryDelayMs: 1 });
  assert.equal(r.contentObjects, 6);
  assert.ok([...attempts.values()].every((n) => n >= 3 || n === 1), JSON.stringify([...attempts]));
  assert.ok([...attempts.entries()].some(([p, n]) => p.endsWith('.filez') && n === 3));
  noStaging(d);
  await assertClean(d);
  // always dropping: gives up after 1 + retries attempts with a message naming the object
  attempts.clear();
  srv.hook = (p, _req, res) => { if (p.endsWith('.commit')) { attempts.set(p, (attempts.get(p) ?? 0) + 1); res.socket?.destroy(); return 'handled'; } };
  const d2 = await destRepo(s.dir, 'archive', srv.url);
  await assert.rejects(pullFromRemote(d2, 'origin', ['os/main'], { retryDelayMs: 1, networkRetries: 3 }), (e: unknown) => {
    assert.ok(e instanceof OstreeError);
    assert.equal(e.code, 'EIO');
    assert.match(e.message, new RegExp(`While fetching object ${s.c3}\\.commit .*gave up after 4 attempts`));
    return true;
  });
  assert.deepEqual([...attempts.values()], [4]);
  assert.equal(await d2.resolveRevOptional('origin:os/main'), null);
  srv.hook = null;
});

test('parallel fetches are bounded (8 by default, configurable) and many files all arrive', async () => {
  const s = await sourceRepo(120);
  const srv = await serve(s.repo.path);
  srv.delayMs = 5;
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  const r = await pullFromRemote(d, 'origin', ['os/main']);
  assert.equal(r.contentObjects, 126);
  assert.ok(srv.maxInFlight <= 8 && srv.maxInFlight >= 2, `max in flight ${srv.maxInFlight}`);
  srv.maxInFlight = 0;
  const d2 = await destRepo(s.dir, 'archive', srv.url);
  await pullFromRemote(d2, 'origin', ['os/main'], { concurrency: 2 });
  assert.ok(srv.maxInFlight <= 2, `max in flight ${srv.maxInFlight}`);
  srv.delayMs = 0;
  await assertClean(d2);
});

test('gpg-verify (default true) refuses an unsigned commit before it is stored; mode and URL checks', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const d = await destRepo(s.dir, 'bare-user', srv.url, {});
  await assert.rejects(pullFromRemote(d, 'origin', ['os/main']), (e: unknown) => {
    assert.ok(e instanceof OstreeError);
    assert.equal(e.code, 'EPERM');
    assert.match(e.message, new RegExp(`^Commit ${s.c3}: GPG verification enabled, but no signatures found \\(use gpg-verify=false`));
    return true;
  });
  assert.equal(d.resolveRevSync('origin:os/main'), null);
  assert.equal(d.hasObjectSync(s.c3, 'commit'), false);
  const d2 = await destRepo(s.dir, 'bare-user', srv.url, { 'gpg-verify': 'true' });
  await assert.rejects(pullFromRemote(d2, 'origin', ['os/main']), /GPG verification enabled, but no signatures found/);
  srv.log.length = 0;
  const d3 = await destRepo(s.dir, 'bare-user', srv.url, { 'gpg-verify': 'false', 'gpg-verify-summary': 'true' });
  await assert.rejects(pullFromRemote(d3, 'origin', ['os/main']), { message: /^GPG verification enabled, but no summary found \(use gpg-verify-summary=false/ });
  assert.deepEqual(srv.log, ['/summary.sig', '/summary'], 'refused before any object is fetched');
  // a non-archive repo served over HTTP
  const bare = await Repo.create(path.join(s.dir, 'served-bare'), 'bare-user');
  const srv2 = await serve(bare.path);
  const d4 = await destRepo(s.dir, 'archive', srv2.url);
  await assert.rejects(pullFromRemote(d4, 'origin', ['x']), /Can't pull from archives with mode "bare-user"/);
  // unknown remote, no branches, bad scheme
  await assert.rejects(pullFromRemote(d4, 'nope', ['x']), /Remote "nope" not found/);
  await assert.rejects(pullFromRemote(d4, 'origin', []), /No configured branches for remote origin/);
  await d4.addRemote('ftp', 'ftp://127.0.0.1/x', { 'gpg-verify': 'false' });
  await assert.rejects(pullFromRemote(d4, 'ftp', ['x']), /Invalid URI scheme in ftp:\/\/127.0.0.1\/x/);
  // unreachable server: refused connections are retried, then a clear error
  const dead = await destRepo(s.dir, 'archive', 'http://127.0.0.1:1');
  await assert.rejects(pullFromRemote(dead, 'origin', ['x'], { retryDelayMs: 1, networkRetries: 1 }), /While fetching summary\.sig \(http:\/\/127.0.0.1:1\/summary\.sig\): .*ECONNREFUSED.*gave up after 2 attempts/);
});

test('remotes.d under the sysroot, branches= default, timestamp checks', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const sysroot = tmpdir('sysroot');
  const repo = await Repo.create(path.join(sysroot, 'ostree/repo'), 'bare-user');
  fs.mkdirSync(path.join(sysroot, 'etc/ostree/remotes.d'), { recursive: true });
  fs.writeFileSync(path.join(sysroot, 'etc/ostree/remotes.d/os.conf'), `[remote "os"]\nurl=${srv.url}\ngpg-verify=false\nbranches=os/main;\n`);
  // a physical sysroot (no /sysroot in it) keeps its remotes in the repo config: remotes.d is not read
  await assert.rejects(pullFromRemote(repo, 'os', []), /Remote "os" not found/);
  fs.mkdirSync(path.join(sysroot, 'sysroot')); // now a deployment's root, whose remotes.d is read
  const r = await pullFromRemote(repo, 'os', [], { overrideCommit: undefined });
  assert.equal(r.refs.get('os:os/main'), s.c3);
  // timestamp-check-from-rev: an older commit is refused before any ref moves
  await assert.rejects(pullFromRemote(repo, 'os', ['os/main'], { overrideCommit: s.c1, timestampCheckFromRev: s.c3 }),
    new RegExp(`Upgrade target revision '${s.c1}' with timestamp 'Thu Jan  1 00:16:40 1970' is chronologically older than current revision '${s.c3}' with timestamp 'Thu Jan  1 00:50:00 1970'; use --allow-downgrade to permit`));
  assert.equal(await repo.resolveRev('os:os/main'), s.c3);
  await assert.rejects(pullFromRemote(repo, 'os', ['os/main'], { overrideCommit: s.c2, timestampCheck: true }), /chronologically older/);
  await pullFromRemote(repo, 'os', ['os/main'], { overrideCommit: s.c2 });
  assert.equal(await repo.resolveRev('os:os/main'), s.c2);
  // not a system repo: remotes.d is not read
  const plain = await Repo.create(path.join(sysroot, 'plain'), 'archive');
  await assert.rejects(pullFromRemote(plain, 'os', []), /Remote "os" not found/);
});

test('file:// remotes go through pull-local (with the same remote ref semantics)', async () => {
  const s = await sourceRepo();
  const d = await destRepo(s.dir, 'bare-user', `file://${s.repo.path}`);
  const r = await pullFromRemote(d, 'origin', ['os/main'], { depth: 1 });
  assert.equal(r.kind, 'local');
  assert.equal(await d.resolveRev('origin:os/main'), s.c3);
  assert.equal(d.hasObjectSync(s.c2, 'commit'), true);
  assert.match(formatPullResult(r), /^\d+ metadata, 6 content objects imported; .* content written$/);
  await pullFromRemote(d, 'origin', ['os/main'], { overrideCommit: s.c1 });
  assert.equal(await d.resolveRev('origin:os/main'), s.c1);
  await assertClean(d);
});

test('SIGKILL in the middle of a pull: no ref, commit partial, staging removed by the next pull, which completes', async () => {
  const s = await sourceRepo(40);
  const srv = await serve(s.repo.path);
  let stalled = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => { release = r; });
  srv.hook = async (p) => { if (p.endsWith('.filez')) { stalled++; await gate; } };
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  const child = spawn(process.execPath, [OURS, `--repo=${d.path}`, 'pull', 'origin', 'os/main'], { stdio: 'ignore' });
  for (let i = 0; i < 200 && stalled < 1; i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(stalled >= 1, 'the pull reached the content objects');
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  srv.hook = null;
  release();
  assert.equal(await d.resolveRevOptional('origin:os/main'), null);
  assert.equal(fs.existsSync(path.join(d.path, 'state', `${s.c3}.commitpartial`)), true);
  assert.ok(fs.readdirSync(path.join(d.path, 'tmp')).some((n) => n.startsWith('fetch-')), 'staging dir of the dead pull');
  await pullFromRemote(d, 'origin', ['os/main']);
  assert.equal(await d.resolveRev('origin:os/main'), s.c3);
  noStaging(d);
  await assertClean(d);
});

test('CLI: ostree pull output and errors; remote add/list/show-url/refs/delete', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const dir = tmpdir('cli');
  const repoPath = path.join(dir, 'repo');
  // async: the server runs in this process, so spawnSync would deadlock
  const run = (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> => new Promise((resolve) => {
    const c = spawn(process.execPath, [OURS, `--repo=${repoPath}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    c.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  assert.equal((await run('init', '--mode=bare-user')).status, 0);
  let r = (await run('remote', 'add', '--no-gpg-verify', '--set=foo=bar', 'origin', srv.url, 'os/main'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(fs.readFileSync(path.join(repoPath, 'config'), 'utf8'), new RegExp(`\\[remote "origin"\\]\nurl=${srv.url}\nbranches=os/main;\nfoo=bar\ngpg-verify=false\n`));
  r = (await run('remote', 'add', 'origin', 'http://127.0.0.1:9/'));
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'error: Remote configuration for "origin" already exists: (in config)\n');
  assert.equal((await run('remote', 'add', '--if-not-exists', 'origin', 'http://127.0.0.1:9/')).status, 0);
  assert.equal((await run('remote', 'add', 'signed', srv.url)).status, 0);
  assert.equal((await run('remote', 'list')).stdout, 'origin\nsigned\n');
  assert.equal((await run('remote', 'list', '-u')).stdout, `origin  ${srv.url}\nsigned  ${srv.url}\n`);
  assert.equal((await run('remote', 'show-url', 'origin')).stdout, `${srv.url}\n`);
  r = (await run('pull', 'origin'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^8 metadata, 6 content objects fetched; \d+ KiB transferred in \d+ seconds; 307\.\d\u00a0kB content written\n$/);
  assert.equal(r.stderr, '', 'no progress output when stderr is not a terminal');
  r = (await run('pull', '--depth=-1', 'origin:os/main'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+ metadata, 0 content objects fetched; /); // older commits share all their files
  r = (await run('pull', 'signed', 'os/main'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: Commit [0-9a-f]{64}: GPG verification enabled, but no signatures found/);
  r = (await run('remote', 'refs', 'origin'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: Remote refs not available; server has no summary file/);
  r = (await run('pull', 'origin', 'os/main@' + s.c1));
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await run('rev-parse', 'origin:os/main')).stdout, `${s.c1}\n`);
  r = (await run('pull', '--depth=x', 'origin'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Cannot parse integer value 'x' for --depth/);
  assert.equal((await run('remote', 'delete', 'origin')).status, 0);
  assert.equal(fs.existsSync(path.join(repoPath, 'refs/remotes/origin')), false, 'the remote\'s refs go with it');
  r = (await run('remote', 'delete', 'origin'));
  assert.equal(r.stderr, 'error: Remote "origin" not found\n');
  assert.equal((await run('remote', 'delete', '--if-exists', 'origin')).status, 0);
  assert.equal((await run('remote', 'list')).stdout, 'signed\n');
});

test('progress line format and HttpFetcher basics', async () => {
  assert.equal(formatPullProgress({ scanning: true, outstandingFetches: 3, metadataFetched: 5, contentFetched: 0, fetched: 5, requested: 9, bytesTransferred: 2000, elapsedMs: 500, done: false }),
    'Receiving metadata objects: 5/(estimating) -/s 2.0\u00a0kB');
  assert.equal(formatPullProgress({ scanning: false, outstandingFetches: 3, metadataFetched: 5, contentFetched: 5, fetched: 10, requested: 40, bytesTransferred: 4000, elapsedMs: 2500, done: false }),
    'Receiving objects: 25% (10/40) 2.0\u00a0kB/s 4.0\u00a0kB');
  const dir = tmpdir('fetcher');
  fs.writeFileSync(path.join(dir, 'a'), 'hello');
  const srv = await serve(dir);
  srv.hook = (p, _req, res) => { if (p === '/moved') { res.writeHead(302, { Location: '/a' }).end(); return 'handled'; } if (p === '/forbidden') { res.writeHead(403).end(); return 'handled'; } };
  const f = new HttpFetcher(srv.url + '/', { retryDelayMs: 1 });
  try {
    assert.equal((await f.get('a'))!.toString(), 'hello');
    assert.equal((await f.get('moved'))!.toString(), 'hello');
    assert.equal(await f.get('none', { optional: true }), null);
    await assert.rejects(f.get('none'), /HTTP 404 while fetching/);
    const before = srv.log.length;
    await assert.rejects(f.get('forbidden'), /Server returned HTTP 403/);
    assert.equal(srv.log.length - before, 1, '4xx is not retried');
    await assert.rejects(f.get('a', { maxSize: 2 }), /exceeded maximum size of 2 bytes/);
  } finally { f.close(); }
});

test('contenturl: objects come from the content server; summary, refs and detached metadata from url; large objects stream', async () => {
  const s = await sourceRepo();
  fs.writeFileSync(path.join(s.tree, 'usr/large'), Buffer.alloc(9 * 1024 * 1024 + 123, 'xy'));
  const c4 = await s.repo.commitTree(s.tree, { branch: 'os/main', subject: 'four', timestamp: 4000n });
  const metaSrv = await serve(s.repo.path);
  const contentSrv = await serve(s.repo.path);
  const d = await destRepo(s.dir, 'bare-user', metaSrv.url, { 'gpg-verify': 'false', contenturl: contentSrv.url });
  const r = await pullFromRemote(d, 'origin', ['os/main']);
  assert.equal(r.refs.get('origin:os/main'), c4);
  // As upstream: every object but detached metadata from contenturl.
  assert.ok(metaSrv.log.length > 0 && metaSrv.log.every((p) => !p.startsWith('/objects/') || p.endsWith('.commitmeta')), metaSrv.log.join(' '));
  assert.equal(contentSrv.log.filter((p) => p.endsWith('.filez')).length, 7);
  assert.ok(contentSrv.log.every((p) => p.startsWith('/objects/') && !p.endsWith('.commitmeta')), contentSrv.log.join(' '));
  const co = path.join(s.dir, 'co-large');
  await d.checkout('origin:os/main', co, { userMode: true });
  assert.equal(fs.statSync(path.join(co, 'usr/large')).size, 9 * 1024 * 1024 + 123);
  await assertClean(d);
});

test('https: a self-signed server is refused unless tls-ca-path (or tls-permissive) says otherwise', async () => {
  const s = await sourceRepo();
  const dir = tmpdir('tls');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const gen = spawnSyncCompat('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  assert.equal(gen, 0);
  const https = await import('node:https');
  const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname);
    const file = path.join(s.repo.path, p);
    if (!file.startsWith(s.repo.path + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404).end(); return; }
    const data = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Length': data.length }).end(data);
  });
  trackServer(server as unknown as http.Server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  const bad = await destRepo(s.dir, 'archive', url);
  await assert.rejects(pullFromRemote(bad, 'origin', ['os/main'], { networkRetries: 0 }), /While fetching summary\.sig \(https:\/\/127\.0\.0\.1:\d+\/summary\.sig\): self.signed certificate/);
  const withCa = await destRepo(s.dir, 'archive', url, { 'gpg-verify': 'false', 'tls-ca-path': cert });
  assert.equal((await pullFromRemote(withCa, 'origin', ['os/main'])).refs.get('origin:os/main'), s.c3);
  await assertClean(withCa);
  const permissive = await destRepo(s.dir, 'bare-user', url, { 'gpg-verify': 'false', 'tls-permissive': 'true' });
  assert.equal((await pullFromRemote(permissive, 'origin', ['os/main'])).refs.get('origin:os/main'), s.c3);
});

function spawnSyncCompat(cmd: string, args: string[]): number | null {
  return spawnSyncImpl(cmd, args, { stdio: 'ignore' }).status;
}

test('extra HTTP headers are sent with every request (--http-header)', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  srv.hook = (_p, req, res) => { if (req.headers['authorization'] !== 'Bearer t0ken') { res.writeHead(403).end(); return 'handled'; } };
  const d = await destRepo(s.dir, 'archive', srv.url);
  await assert.rejects(pullFromRemote(d, 'origin', ['os/main']), /Server returned HTTP 403/);
  const r = await pullFromRemote(d, 'origin', ['os/main'], { httpHeaders: [['Authorization', 'Bearer t0ken']] });
  assert.equal(r.refs.get('origin:os/main'), s.c3);
  srv.hook = null;
});

test('detached metadata (.commitmeta) is fetched with the commit, refreshed on later pulls; a malformed one is stored empty', async () => {
  const { serializeCommitMeta } = await import('../../../src/repo/objects/commitmeta.js');
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const cm = objectFile(s.repo.path, s.c3, 'commitmeta');
  fs.writeFileSync(cm, serializeCommitMeta([['note', new Variant('s', 'first')]]));
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  await pullFromRemote(d, 'origin', ['os/main']);
  assert.deepEqual(await d.loadCommitMeta(s.c3), [['note', new Variant('s', 'first')]]);
  fs.writeFileSync(cm, serializeCommitMeta([['note', new Variant('s', 'second')]]));
  await pullFromRemote(d, 'origin', ['os/main']);
  assert.deepEqual(await d.loadCommitMeta(s.c3), [['note', new Variant('s', 'second')]]);
  fs.writeFileSync(cm, Buffer.from([1, 2, 3]));
  const d2 = await destRepo(s.dir, 'archive', srv.url);
  await pullFromRemote(d2, 'origin', ['os/main']); // as GLib's normal form of a malformed a{sv}: empty
  assert.deepEqual(await d2.loadCommitMeta(s.c3), []);
  assert.equal(fs.statSync(objectFile(d2.path, s.c3, 'commitmeta')).size, 0);
});

test('archive destination: downloaded objects are verified before being linked (size lie, trailing bytes)', async () => {
  const { serializeArchiveHeader, serializeFileHeader, parseArchiveHeader } = await import('../../../src/repo/objects/file-header.js');
  const zlib = await import('node:zlib');
  const { createHash } = await import('node:crypto');
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const files = fileChecksums(s.repo, s.c3);
  // (a) a regular file whose header claims one byte more than its data
  const conf = files.get('/usr/etc/conf')!;
  const cf = objectFile(s.repo.path, conf, 'filez');
  const corig = fs.readFileSync(cf);
  const { header, headerLength } = parseArchiveHeader(corig);
  const data = zlib.inflateRawSync(corig.subarray(headerLength));
  fs.writeFileSync(cf, Buffer.concat([serializeArchiveHeader(header, BigInt(data.length + 1)), zlib.deflateRawSync(data)]));
  const d = await destRepo(s.dir, 'archive', srv.url);
  await assert.rejects(pullFromRemote(d, 'origin', ['os/main']), new RegExp(`Object ${conf}\\.file from .*inflates to ${data.length} bytes, less than the ${data.length + 1} its header declares`));
  assert.equal(d.hasObjectSync(conf, 'file'), false);
  fs.writeFileSync(cf, corig);
  // (b) a symlink object with junk after its header: accepted (same content) but stored canonically
  const link = files.get('/usr/etc/link')!;
  const lf = objectFile(s.repo.path, link, 'filez');
  const lorig = fs.readFileSync(lf);
  assert.equal(createHash('sha256').update(serializeFileHeader(parseArchiveHeader(lorig).header)).digest('hex'), link);
  fs.writeFileSync(lf, Buffer.concat([lorig, Buffer.from('junk')]));
  const d2 = await destRepo(s.dir, 'archive', srv.url);
  await pullFromRemote(d2, 'origin', ['os/main']);
  assert.deepEqual(fs.readFileSync(objectFile(d2.path, link, 'filez')), lorig);
  assert.equal(fs.statSync(objectFile(d2.path, conf, 'filez')).mode & 0o777, 0o644);
  await assertClean(d2);
  fs.writeFileSync(lf, lorig);
});

test('ref bindings: a ref whose commit is bound to another ref is refused (unless disabled)', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  fs.writeFileSync(path.join(s.repo.path, 'refs/heads/os/alias'), `${s.c3}\n`);
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  await assert.rejects(pullFromRemote(d, 'origin', ['os/alias']), /Commit [0-9a-f]{64}: Commit has no requested ref ‘os\/alias’ in ref binding metadata \(‘os\/main’\)/);
  assert.equal(await d.resolveRevOptional('origin:os/alias'), null);
  const r = await pullFromRemote(d, 'origin', ['os/alias'], { disableVerifyBindings: true });
  assert.equal(r.refs.get('origin:os/alias'), s.c3);
});

test('file:// remote with untrusted: objects that would be hardlinked are verified', async () => {
  const s = await sourceRepo();
  const victim = fileChecksums(s.repo, s.c3).get('/usr/bin/third')!;
  const other = fileChecksums(s.repo, s.c3).get('/usr/bin/second')!;
  fs.copyFileSync(objectFile(s.repo.path, other, 'filez'), objectFile(s.repo.path, victim, 'filez'));
  const trusting = await destRepo(s.dir, 'archive', `file://${s.repo.path}`);
  await pullFromRemote(trusting, 'origin', ['os/main']); // hardlinks, as upstream without --untrusted
  const careful = await destRepo(s.dir, 'archive', `file://${s.repo.path}`);
  await assert.rejects(pullFromRemote(careful, 'origin', ['os/main'], { untrusted: true, }), new RegExp(`${victim}.*Corrupted file object|Corrupted file object.*${victim}`));
  assert.equal(await careful.resolveRevOptional('origin:os/main'), null);
});

test('GLib bytestring printing used by remote summary --raw (only NUL at the end; g_strescape escapes)', async () => {
  const { printVariant } = await import('../../../src/glib/gvariant.js');
  assert.equal(printVariant('ay', Buffer.from([0x41, 0x07, 0x08, 0x5c, 0x22, 0xe8, 0x00])), "b'A\\007\\b\\\\\\\"\\350'");
  assert.equal(printVariant('ay', Buffer.from("it's\0")), 'b"it\'s"');
  assert.equal(printVariant('ay', Buffer.from([0x41, 0x00, 0x42, 0x00])), '[0x41, 0x00, 0x42, 0x00]');
});

test('two pulls of the same commit into one repository at the same time both succeed', async () => {
  const s = await sourceRepo(60);
  const srv = await serve(s.repo.path);
  srv.delayMs = 2;
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  const other = await Repo.open(d.path);
  const [a, b] = await Promise.all([pullFromRemote(d, 'origin', ['os/main']), pullFromRemote(other, 'origin', ['os/main'], { depth: 1 })]);
  srv.delayMs = 0;
  assert.equal(a.refs.get('origin:os/main'), s.c3);
  assert.equal(b.refs.get('origin:os/main'), s.c3);
  assert.ok(a.contentObjects + b.contentObjects >= 66);
  noStaging(d);
  await assertClean(d);
});

test('mirrorlist=: dead first mirror skipped, HTTP errors fall through to the next mirror, bad lists refused', async () => {
  const s = await sourceRepo();
  const good = await serve(s.repo.path);
  const partial = await serve(s.repo.path);
  // this mirror lacks every content object (404) and answers 500 for dirtrees
  partial.hook = (p, _req, res) => {
    if (p.endsWith('.filez')) { res.writeHead(404).end(); return 'handled'; }
    if (p.endsWith('.dirtree')) { res.writeHead(500).end(); return 'handled'; }
  };
  const listDir = tmpdir('mirrors');
  const lists = await serve(listDir);
  fs.writeFileSync(path.join(listDir, 'list'), `# mirrors\n\nhttp://127.0.0.1:1/dead\nftp://example.invalid/x\n${partial.url}\n${good.url}/\n`);
  const d = await destRepo(s.dir, 'bare-user', `mirrorlist=${lists.url}/list`);
  const r = await pullFromRemote(d, 'origin', ['os/main'], { retryDelayMs: 1, networkRetries: 1 });
  assert.equal(r.refs.get('origin:os/main'), s.c3);
  assert.ok(partial.log.some((p) => p.endsWith('.commit')), 'metadata from the first working mirror');
  assert.ok(good.log.some((p) => p.endsWith('.filez')) && good.log.some((p) => p.endsWith('.dirtree')), 'fell through on 404/500');
  await assertClean(d);
  partial.hook = null;
  fs.writeFileSync(path.join(listDir, 'empty'), '# nothing\nfile:///tmp\n');
  const d2 = await destRepo(s.dir, 'archive', `mirrorlist=${lists.url}/empty`);
  await assert.rejects(pullFromRemote(d2, 'origin', ['os/main']), /No valid mirrors were found in mirrorlist 'http:\/\/127\.0\.0\.1:\d+\/empty'/);
  const d3 = await destRepo(s.dir, 'archive', `mirrorlist=${lists.url}/missing`);
  await assert.rejects(pullFromRemote(d3, 'origin', ['os/main']), /While fetching mirrorlist 'http:\/\/127\.0\.0\.1:\d+\/missing': Server returned HTTP 404/);
});

test('free-space reserve (core.min-free-space-size / -percent): content that would eat into it is refused before being written', async () => {
  const s = await sourceRepo();
  const srv = await serve(s.repo.path);
  const d = await destRepo(s.dir, 'bare-user', srv.url);
  d.config.set('core', 'min-free-space-size', '999999999TB');
  await d.saveConfig();
  await assert.rejects(pullFromRemote(await Repo.open(d.path), 'origin', ['os/main']), (e: unknown) => {
    assert.ok(e instanceof OstreeError);
    assert.match(e.message, /^Object [0-9a-f]{64}\.file from http:\/\/127\.0\.0\.1:\d+\/objects\/.*: min-free-space-size 1048575998951424MB would be exceeded, at least [0-9.]+\s?\S+ requested/);
    return true;
  });
  assert.equal(await d.resolveRevOptional('origin:os/main'), null);
  const files = fileChecksums(s.repo, s.c3);
  assert.ok([...files.values()].every((c) => !d.hasObjectSync(c, 'file')), 'no content written');
  d.config.set('core', 'min-free-space-size', '12XB');
  await d.saveConfig();
  await assert.rejects(pullFromRemote(await Repo.open(d.path), 'origin', ['os/main']), /invalid core.min-free-space-size '12XB'/);
  d.config.removeKey('core', 'min-free-space-size');
  d.config.set('core', 'min-free-space-percent', '0');
  await d.saveConfig();
  assert.equal((await pullFromRemote(await Repo.open(d.path), 'origin', ['os/main'])).refs.get('origin:os/main'), s.c3);
});
