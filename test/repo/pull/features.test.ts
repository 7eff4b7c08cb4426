/**
 * The pull features upstream's scripts exercise, against a Node HTTP server serving archive
 * repositories written by us: responses cut short and resumed with Range, --subpath (HTTP and
 * file://), --localcache-repo, cookie jars and the User-Agent, metalink documents, the
 * subpath filter, the cookie jar format, and --bareuseronly-files / --http-trusted.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repo } from '../../../src/repo/repo.js';
import { pullFromRemote } from '../../../src/repo/pull/http.js';
import { SubpathFilter } from '../../../src/repo/pull/subpath.js';
import { addCookie, cookieHeader, cookieJarPath, deleteCookie, parseCookieLine, readCookies } from '../../../src/repo/pull/cookies.js';
import { parseMetalink } from '../../../src/repo/pull/metalink.js';
import { isCommitPartial } from '../../../src/repo/layout.js';
import { closeServers, serve } from './server.js';
import { tempDir as makeTmpDir } from '../../common/tmp.js';
import { updateSummary } from '../../../src/repo/summary/summary.js';

after(closeServers);

interface Source { dir: string; repo: Repo; tree: string; c1: string; c2: string }

/** An archive repo: c1 with a/ and b/, c2 adding a file to a/. */
async function source(): Promise<Source> {
  const dir = makeTmpDir('pull-features');
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'a/deep'), { recursive: true });
  fs.mkdirSync(path.join(tree, 'b'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'top'), 'top\n');
  fs.writeFileSync(path.join(tree, 'a/one'), 'one\n');
  fs.writeFileSync(path.join(tree, 'a/deep/two'), Buffer.alloc(200 * 1024, 2));
  fs.writeFileSync(path.join(tree, 'b/three'), 'three\n');
  const repo = await Repo.create(path.join(dir, 'repo'), 'archive');
  const c1 = await repo.commitTree(tree, { branch: 'main', subject: 'one', timestamp: 1000n });
  fs.writeFileSync(path.join(tree, 'a/new'), 'new\n');
  const c2 = await repo.commitTree(tree, { branch: 'main', subject: 'two', timestamp: 2000n });
  return { dir, repo, tree, c1, c2 };
}

async function dest(s: Source, url: string, mode: 'bare-user' | 'archive' = 'bare-user', name = 'dest'): Promise<Repo> {
  const d = await Repo.create(path.join(s.dir, `${name}-${Math.random().toString(36).slice(2, 8)}`), mode);
  await d.addRemote('origin', url, { 'gpg-verify': 'false' });
  return d;
}

test('subpath filter: ancestors partly, the subpath and below whole, files only when named', () => {
  const f = new SubpathFilter(['/a/deep', 'b/three/']);
  const root = f.root();
  assert.equal(root.full, false);
  assert.equal(f.file(root, 'top'), false);
  const a = f.dir(root, 'a')!;
  assert.deepEqual(a, { full: false, path: '/a' });
  assert.equal(f.file(a, 'one'), false);
  assert.deepEqual(f.dir(a, 'deep'), { full: true, path: '/a/deep' });
  assert.equal(f.dir(root, 'c'), null);
  const b = f.dir(root, 'b')!;
  assert.equal(f.file(b, 'three'), true);
  assert.equal(new SubpathFilter(['/']).everything, true);
  assert.equal(new SubpathFilter(undefined).root().full, true);
  assert.throws(() => new SubpathFilter(['/a/../etc']), /Invalid subpath/);
});

test('a server that cuts every object response in half: each is resumed with Range and the pull completes', async () => {
  const s = await source();
  const srv = await serve(s.repo.path);
  const ranges: string[] = [];
  srv.hook = (p, req, res) => {
    if (!p.startsWith('/objects/')) return;
    const file = path.join(s.repo.path, p);
    if (!fs.existsSync(file)) return;
    const data = fs.readFileSync(file);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      ranges.push(p);
      const from = Number(m[1]);
      res.writeHead(206, { 'Content-Length': data.length - from, 'Content-Range': `bytes ${from}-${data.length - 1}/${data.length}` }).end(data.subarray(from));
      return 'handled';
    }
    res.writeHead(200, { 'Content-Length': data.length });
    res.write(data.subarray(0, Math.floor(data.length / 2)), () => res.destroy());
    return 'handled';
  };
  const d = await dest(s, srv.url);
  const r = await pullFromRemote(d, 'origin', ['main'], { retryDelayMs: 1 });
  assert.equal(r.refs.get('origin:main'), s.c2);
  assert.ok(ranges.length >= r.contentObjects, `every object was resumed (${ranges.length})`);
  const co = path.join(s.dir, 'co');
  await d.checkout('origin:main', co, { userMode: true });
  assert.deepEqual(fs.readFileSync(path.join(co, 'a/deep/two')), Buffer.alloc(200 * 1024, 2));
});

test('--subpath over HTTP and file://: only those paths, the commit stays partial, a full pull completes it', async () => {
  const s = await source();
  const srv = await serve(s.repo.path);
  for (const url of [srv.url, `file://${s.repo.path}`]) {
    const d = await dest(s, url);
    await pullFromRemote(d, 'origin', ['main'], { subpaths: ['/a/deep'] });
    assert.ok(isCommitPartial(d.path, s.c2));
    const has = (p: string): boolean => { const e = d.lookupPathSync(s.c2, p); return e.kind === 'file' && d.hasObjectSync(e.checksum, 'file'); };
    assert.equal(has('/a/deep/two'), true, url);
    assert.equal(has('/a/one'), false, url);
    assert.equal(has('/top'), false, url);
    await pullFromRemote(d, 'origin', ['main'], { subpaths: ['/top'] });
    assert.equal(has('/top'), true);
    await pullFromRemote(d, 'origin', ['main']);
    assert.equal(isCommitPartial(d.path, s.c2), false);
    assert.equal(has('/b/three'), true);
  }
});

test('--localcache-repo: objects the cache holds are taken from it, the rest fetched, and counted apart', async () => {
  const s = await source();
  const srv = await serve(s.repo.path);
  const cache = await dest(s, srv.url, 'archive', 'cache');
  await pullFromRemote(cache, 'origin', [s.c1]);
  const d = await dest(s, srv.url);
  srv.log.length = 0;
  const r = await pullFromRemote(d, 'origin', ['main'], { localCacheRepos: [cache.path] });
  assert.equal(r.contentObjects, 1, 'only a/new is fetched');
  assert.equal(r.localContentObjects, 4);
  assert.ok((r.localMetadataObjects ?? 0) > 0);
  assert.equal(srv.log.filter((p) => p.endsWith('.filez')).length, 1);
  const co = path.join(s.dir, 'co-cache');
  await d.checkout('origin:main', co, { userMode: true });
  assert.equal(fs.readFileSync(path.join(co, 'a/new'), 'utf8'), 'new\n');
  await assert.rejects(pullFromRemote(d, 'origin', ['main'], { localCacheRepos: [path.join(s.dir, 'nope')] }), /Opening local cache repository/);
});

test('cookie jar: upstream\'s line format, matching by domain/path/secure/expiry, delete, hostile fields refused', async () => {
  const s = await source();
  addCookie(s.repo.path, 'origin', '127.0.0.1', '/', 'foo', 'bar');
  addCookie(s.repo.path, 'origin', '.example.com', '/repo', 'sub', 'x');
  const lines = fs.readFileSync(cookieJarPath(s.repo.path, 'origin'), 'utf8').split('\n');
  assert.match(lines[0]!, /^127\.0\.0\.1\tFALSE\t\/\tFALSE\t\d+\tfoo\tbar$/);
  assert.match(lines[1]!, /^\.example\.com\tTRUE\t\/repo\tFALSE\t\d+\tsub\tx$/);
  const jar = readCookies(cookieJarPath(s.repo.path, 'origin'));
  assert.equal(cookieHeader(jar, new URL('http://127.0.0.1:80/objects/x')), 'foo=bar');
  assert.equal(cookieHeader(jar, new URL('https://a.example.com/repo/summary')), 'sub=x');
  assert.equal(cookieHeader(jar, new URL('https://a.example.com/other')), null);
  assert.equal(cookieHeader([{ ...jar[0]!, expires: 10 }], new URL('http://127.0.0.1/')), null, 'expired');
  assert.equal(cookieHeader([{ ...jar[0]!, secure: true }], new URL('http://127.0.0.1/')), null, 'secure only over https');
  assert.equal(parseCookieLine('# comment'), null);
  assert.equal(parseCookieLine('a\tb'), null);
  deleteCookie(s.repo.path, 'origin', '127.0.0.1', '/', 'foo');
  assert.equal(readCookies(cookieJarPath(s.repo.path, 'origin')).length, 1);
  assert.throws(() => deleteCookie(s.repo.path, 'origin', '127.0.0.1', '/', 'foo'), /Cookie not found in jar/);
  assert.throws(() => addCookie(s.repo.path, 'origin', 'h', '/', 'n', 'v\nevil\tFALSE'), /invalid cookie value/);
  assert.throws(() => cookieJarPath(s.repo.path, '../escape'), /remote name/i);
});

test('the pull sends the remote\'s cookies and the User-Agent (with --append-user-agent) on every request', async () => {
  const s = await source();
  const srv = await serve(s.repo.path);
  const seen: Array<{ cookie?: string; ua?: string }> = [];
  srv.hook = (_p, req) => { seen.push({ cookie: req.headers.cookie, ua: req.headers['user-agent'] }); };
  const d = await dest(s, srv.url);
  addCookie(d.path, 'origin', '127.0.0.1', '/', 'foo', 'bar');
  addCookie(d.path, 'origin', '127.0.0.1', '/', 'baz', 'badger');
  await pullFromRemote(d, 'origin', ['main'], { appendUserAgent: 'dodo/2.15' });
  assert.ok(seen.length > 5);
  for (const h of seen) {
    assert.equal(h.cookie, 'foo=bar; baz=badger');
    assert.equal(h.ua, 'libostree/2022.7 dodo/2.15');
  }
});

test('metalink: the summary comes from the first mirror with the right size and digest; upstream\'s errors', async () => {
  const s = await source();
  const summary = Buffer.from('pretend summary bytes');
  const sha256 = createHash('sha256').update(summary).digest('hex');
  const sha512 = createHash('sha512').update(summary).digest('hex');
  const doc = (hashes: string, urls: string, size = summary.length): string => `<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/"><unknown><x>skip me</x></unknown><files>
<file name="other"><size>1</size></file>
<file name="summary"><size>${size}</size><verification>${hashes}</verification>
<resources maxconnections="1">${urls}</resources></file></files></metalink>`;
  const url = (u: string, protocol = 'http'): string => `<url protocol="${protocol}" type="http" location="US" preference="100">${u}</url>`;
  const good = `<hash type="md5">x</hash><hash type="sha256">${sha256}</hash><hash type="sha512">${sha512}</hash>`;
  const f = parseMetalink(doc(good, url('ftp://x/summary', 'ftp') + url('http://a/summary') + url('http://b/r/summary')), 'summary');
  assert.deepEqual(f.urls, ['http://a/summary', 'http://b/r/summary']);
  assert.equal(f.size, summary.length);
  assert.equal(f.sha512, sha512);
  assert.throws(() => parseMetalink(doc(good.replace(sha512, 'bacon'), url('http://a/summary')), 'summary'), /Invalid hash digest for sha512/);
  assert.throws(() => parseMetalink(doc('<hash type="md5">x</hash>', url('http://a/summary')), 'summary'), /No <verification> element with known <hash type=> found/);
  assert.throws(() => parseMetalink(doc(good, ''), 'summary'), /No <url method='http'> elements found/);
  assert.throws(() => parseMetalink('bacon', 'summary'), /Document must begin with an element/);
  assert.throws(() => parseMetalink('<metalink><files/></metalink>', 'summary'), /No <file> element found/);
  // a real pull through a metalink: the first URL has a bad copy, the second is missing
  await updateSummary(s.repo);
  const real = fs.readFileSync(path.join(s.repo.path, 'summary'));
  fs.writeFileSync(path.join(s.repo.path, 'summary.bad'), 'broken');
  const srv = await serve(s.repo.path);
  const links = makeTmpDir('metalink');
  const h = (algo: string): string => createHash(algo).update(real).digest('hex');
  fs.writeFileSync(path.join(links, 'metalink.xml'), doc(`<hash type="sha256">${h('sha256')}</hash><hash type="sha512">${h('sha512')}</hash>`,
    url(`${srv.url}/summary.bad`) + url(`${srv.url}/nosuchfile`) + url(`${srv.url}/summary`), real.length));
  const linkSrv = await serve(links);
  const d = await dest(s, `metalink=${linkSrv.url}/metalink.xml`);
  const r = await pullFromRemote(d, 'origin', ['main']);
  assert.equal(r.refs.get('origin:main'), s.c2);
  fs.writeFileSync(path.join(links, 'metalink.xml'), doc(`<hash type="sha512">${createHash('sha512').update('x').digest('hex')}</hash>`, url(`${srv.url}/summary`), real.length));
  await assert.rejects(pullFromRemote(d, 'origin', ['main']), /Exhausted 1 metalink targets, last error: Expected checksum is [0-9a-f]+ but actual is/);
});

test('--bareuseronly-files refuses a setuid file even into an archive mirror; --http-trusted stores objects as served', async () => {
  const s = await source();
  fs.chmodSync(path.join(s.tree, 'top'), 0o4755);
  const c3 = await s.repo.commitTree(s.tree, { branch: 'suid', subject: 'suid' });
  const srv = await serve(s.repo.path);
  const mirror = await dest(s, srv.url, 'archive', 'mirror');
  await assert.rejects(pullFromRemote(mirror, 'origin', ['suid'], { bareUserOnlyFiles: true }), /Content object .*: invalid mode .*with bits 04000/);
  await pullFromRemote(mirror, 'origin', ['main'], { bareUserOnlyFiles: true });
  // a corrupt object on the server: refused normally, taken as served with --http-trusted into an archive repo
  const top = s.repo.lookupPathSync(c3, '/a/one');
  assert.equal(top.kind, 'file');
  const p = s.repo.objectPath((top as { checksum: string }).checksum, 'file');
  const b = fs.readFileSync(p); b[b.length - 1] ^= 0xff; fs.writeFileSync(p, b);
  const m2 = await dest(s, srv.url, 'archive', 'm2');
  await assert.rejects(pullFromRemote(m2, 'origin', ['main']), /Corrupted|inflat|invalid/i);
  const m3 = await dest(s, srv.url, 'archive', 'm3');
  await pullFromRemote(m3, 'origin', ['main'], { httpTrusted: true, mirror: true });
  assert.equal(m3.resolveRevSync('main'), s.c2);
});

test('a hostile server cannot redirect a fetch to a local file or another scheme', async () => {
  const s = await source();
  const srv = await serve(s.repo.path);
  srv.hook = (p, _req, res) => {
    if (p !== '/summary') return;
    res.writeHead(302, { Location: `file://${path.join(s.repo.path, 'config')}` }).end();
    return 'handled';
  };
  const d = await dest(s, srv.url);
  await assert.rejects(pullFromRemote(d, 'origin', ['main'], { networkRetries: 0 }), /Refusing redirect from .* to a file: URL/);
  assert.equal(d.resolveRevSync('origin:main'), null);
});
