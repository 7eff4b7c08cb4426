/**
 * Pulls through a fault-injecting proxy (test/common/fault-proxy.ts) in front of a real nginx:
 * a server that stalls mid-object, resets connections, serves garbage, another object's bytes,
 * an HTML page with status 200, a 2 GB Content-Length for a small object, a redirect loop or a
 * redirect to file://. Each pull fails with a typed error naming what went wrong, within a
 * bounded time and memory, the ref does not move, and the next pull (faults off) completes.
 * Also: transient 503s retried with growing delays, and a body cut short resumed with Range.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { OstreeError } from '../../src/errors.js';
import { Repo } from '../../src/repo/repo.js';
import { pullFromRemote, type PullOptions } from '../../src/repo/pull/http.js';
import { startNginx, type Nginx } from '../common/nginx.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../common/fault-proxy.js';
import { tempDir } from '../common/tmp.js';
import { destRepo, makeFiles, refOf, up, upstreamFsck } from './fixtures.js';
import * as fs from 'node:fs';

let work = '';
let served = '';
let c1 = '';
let c2 = '';
let nginx: Nginx;
let proxy: FaultProxy;
const REF = 'os/main';

before(async () => {
  work = tempDir('pull-hostile-');
  served = path.join(work, 'served');
  const tree = path.join(work, 'tree');
  makeFiles(tree, 400, 'one'); // over FAST's storeThreadAfter: the later objects are stored in a second thread
  up(`--repo=${served}`, 'init', '--mode=archive');
  c1 = up(`--repo=${served}`, 'commit', '-b', REF, '--no-xattrs', `--tree=dir=${tree}`).trim();
  fs.rmSync(tree, { recursive: true });
  makeFiles(tree, 400, 'two'); // every file changes, and the 3 MiB one
  c2 = up(`--repo=${served}`, 'commit', '-b', REF, '--no-xattrs', `--tree=dir=${tree}`).trim();
  up(`--repo=${served}`, 'summary', '-u');
  nginx = await startNginx({ root: served, dir: path.join(work, 'nginx') });
  proxy = await startFaultProxy(nginx.url);
});
after(async () => { await proxy.close(); await nginx.stop(); });

/** A destination already holding c1 (pulled through the proxy with no fault). */
let n = 0;
async function holdingC1(): Promise<Repo> {
  const dest = await destRepo(work, `dest${n++}`, proxy.url);
  proxy.fault = () => 'pass';
  const repo = await Repo.open(dest);
  await pullFromRemote(repo, 'origin', [REF], { overrideCommits: [c1] });
  assert.equal(refOf(dest, `origin:${REF}`), c1);
  return repo;
}

const FAST: PullOptions = { stallTimeoutMs: 1500, networkRetries: 2, retryDelayMs: 20, storeThreadAfter: 100 };
const isContent = (p: string): boolean => p.endsWith('.filez');

/**
 * With `fault` on every content object (after `passFirst` good ones), the pull of c2 fails with
 * `code` and a message matching `re`, in bounded time and memory, leaving the ref at c1; with
 * the fault gone, the next pull completes and upstream's fsck is happy.
 */
async function hostile(fault: Fault, code: string, re: RegExp, maxSeconds = 30, passFirst = 20): Promise<void> {
  const repo = await holdingC1();
  proxy.resetCounts();
  let good = 0;
  proxy.fault = (p) => (isContent(p) && good++ >= passFirst ? fault : 'pass');
  const rss0 = process.memoryUsage().rss;
  const t0 = Date.now();
  await assert.rejects(pullFromRemote(repo, 'origin', [REF], FAST), (e: unknown) => {
    assert.ok(e instanceof OstreeError, `typed error expected, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    assert.match(e.message, /\/objects\/[0-9a-f]{2}\/[0-9a-f]{62}\.filez|[0-9a-f]{64}\.file/, 'the error names the object');
    return true;
  });
  const seconds = (Date.now() - t0) / 1000;
  assert.ok(seconds < maxSeconds, `failed within ${maxSeconds} s (took ${seconds})`);
  assert.ok(process.memoryUsage().rss - rss0 < 150 * 1024 * 1024, 'memory stayed bounded');
  assert.equal(refOf(repo.path, `origin:${REF}`), c1, 'the ref did not move');
  proxy.fault = () => 'pass';
  await pullFromRemote(repo, 'origin', [REF], FAST);
  assert.equal(refOf(repo.path, `origin:${REF}`), c2);
  upstreamFsck(repo.path);
}

test('a server that stalls forever mid-object: the stall timeout ends each attempt; a clear EIO', () =>
  hostile('stall', 'EIO', /timed out|stall/i));

test('connections reset: retried, then a clear EIO naming the attempts', () =>
  hostile('reset', 'EIO', /gave up after 3 attempts/));

test('garbage instead of an object: refused as corrupt', () =>
  hostile('garbage', 'ECORRUPT', /.+/));

test('another object served for this one: a checksum mismatch', () =>
  hostile('swap', 'ECORRUPT', /checksum|[0-9a-f]{64}/i));

test('another object served deep into a large pull (stored by the second thread): a checksum mismatch', () =>
  hostile('swap', 'ECORRUPT', /checksum|[0-9a-f]{64}/i, 30, 300));

test('an HTML error page with status 200: refused as corrupt', () =>
  hostile('html200', 'ECORRUPT', /.+/));

test('a Content-Length of 2 GB for a small object: never waited for nor held; a clear error', () =>
  hostile('huge-length', 'EIO', /incomplete.*refuses the rest/i));

test('a redirect loop: a clear error after a few hops', () =>
  hostile('redirect-loop', 'EIO', /Too many redirects/));

test('a redirect to file://: refused, nothing read from this machine', () =>
  hostile('redirect-file', 'EIO', /Refusing redirect .* file: URL/));

test('transient 503s: retried with growing delays, and the pull completes', async () => {
  const repo = await holdingC1();
  proxy.resetCounts();
  proxy.log.length = 0;
  proxy.fault = (p, nth) => (isContent(p) && nth < 3 ? 'unavailable' : 'pass');
  await pullFromRemote(repo, 'origin', [REF], { networkRetries: 3, retryDelayMs: 40 });
  assert.equal(refOf(repo.path, `origin:${REF}`), c2);
  const one = proxy.log.filter((e) => isContent(e.path))[0]!.path;
  const times = proxy.log.filter((e) => e.path === one).map((e) => e.at);
  assert.equal(times.length, 4, 'three 503s, then the object');
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps[0]! >= 35 && gaps[1]! >= 75 && gaps[2]! >= 155, `backoff doubles: ${gaps.join(', ')} ms`);
  upstreamFsck(repo.path);
});

test('a body cut short is resumed with a Range request from where it stopped', async () => {
  const repo = await holdingC1();
  proxy.resetCounts();
  proxy.log.length = 0;
  proxy.fault = (p, nth) => (isContent(p) && nth === 0 ? 'cut' : 'pass');
  await pullFromRemote(repo, 'origin', [REF], { networkRetries: 1, retryDelayMs: 20 });
  assert.equal(refOf(repo.path, `origin:${REF}`), c2);
  const big = proxy.log.filter((e) => isContent(e.path) && e.range !== '');
  assert.ok(big.length > 0, 'ranges were asked for');
  assert.ok(big.every((e) => /^bytes=[1-9]\d*-$/.test(e.range)), big.map((e) => e.range).join(' '));
  // nginx answered them with 206 Partial Content
  assert.ok(nginx.access().some((e) => e.status === 206 && e.range.startsWith('bytes=')));
  upstreamFsck(repo.path);
});
