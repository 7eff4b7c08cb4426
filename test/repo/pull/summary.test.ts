/** Fetching a remote's summary (src/repo/pull/summary.ts) through the summary cache
 *  (src/repo/summary/cache.ts): reuse while summary.sig is unchanged, refetch when a cached copy
 *  fails verification, --cache-dir, prune of stale entries, bounds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../../src/errors.js';
import { Repo } from '../../../src/repo/repo.js';
import { cacheDir, summaryCachePath, summaryPath, summarySigPath } from '../../../src/repo/layout.js';
import { pullFromRemote } from '../../../src/repo/pull/http.js';
import { updateSummary } from '../../../src/repo/summary/summary.js';
import { fetchSummaryFiles, type SummarySource } from '../../../src/repo/pull/summary.js';
import { pruneSummaryCache } from '../../../src/repo/summary/cache.js';
import { tempDir } from '../../common/tmp.js';

/** A remote serving `files`, recording each request. */
function fakeRemote(files: Record<string, Buffer | undefined>): SummarySource & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    get: async (name, maxSize) => {
      log.push(name);
      const f = files[name];
      if (f === undefined) return null;
      if (f.length > maxSize) throw new OstreeError('ECORRUPT', `${name} exceeded maximum size of ${maxSize} bytes`);
      return f;
    },
    url: (name) => `fake://${name}`,
  };
}

async function emptyRepo(): Promise<Repo> {
  return Repo.create(path.join(tempDir('summary-fetch-'), 'repo'), 'archive');
}

const S1 = Buffer.from('summary one');
const G1 = Buffer.from('sig one');

test('a signed summary is cached and reused while summary.sig is unchanged; the cached files stay untouched', async () => {
  const repo = await emptyRepo();
  const srv = fakeRemote({ summary: S1, 'summary.sig': G1 });
  const a = await fetchSummaryFiles('origin', srv, { cache: { repo } });
  assert.deepEqual([a.summary, a.sig, a.fromCache], [S1, G1, false]);
  const cached = summaryCachePath(cacheDir(repo.path), 'origin');
  assert.deepEqual(fs.readFileSync(cached), S1);
  assert.deepEqual(fs.readFileSync(`${cached}.sig`), G1);
  const inode = fs.statSync(cached).ino;
  srv.log.length = 0;
  const b = await fetchSummaryFiles('origin', srv, { cache: { repo } });
  assert.deepEqual([b.summary, b.fromCache], [S1, true]);
  assert.deepEqual(srv.log, ['summary.sig'], 'only the signatures are fetched again');
  assert.equal(fs.statSync(cached).ino, inode);
});

test('unsigned summaries are not cached; no cache (file:// pulls) fetches both', async () => {
  const repo = await emptyRepo();
  const srv = fakeRemote({ summary: S1 });
  assert.deepEqual((await fetchSummaryFiles('origin', srv, { cache: { repo } })).summary, S1);
  assert.equal(fs.existsSync(summaryCachePath(cacheDir(repo.path), 'origin')), false);
  const signed = fakeRemote({ summary: S1, 'summary.sig': G1 });
  await fetchSummaryFiles('origin', signed, { cache: null });
  assert.equal(fs.existsSync(summaryCachePath(cacheDir(repo.path), 'origin')), false);
});

test('a cached summary that fails verification is fetched again (or, with OSTREE_REPO_TEST_ERROR=invalid-cache, refused)', async () => {
  const repo = await emptyRepo();
  const S2 = Buffer.from('summary two');
  const verify = (s: Buffer | null): void => { if (!s?.equals(S2)) throw new OstreeError('ECORRUPT', 'BAD signature'); };
  // the cache holds S1 for G1, the server now signs S2 with the same G1 bytes (a broken cache)
  await fetchSummaryFiles('origin', fakeRemote({ summary: S1, 'summary.sig': G1 }), { cache: { repo } });
  const srv = fakeRemote({ summary: S2, 'summary.sig': G1 });
  process.env['OSTREE_REPO_TEST_ERROR'] = 'invalid-cache';
  try {
    await assert.rejects(fetchSummaryFiles('origin', srv, { cache: { repo }, verify }), /cached summary invalid and OSTREE_REPO_TEST_ERROR_INVALID_CACHE/);
  } finally { delete process.env['OSTREE_REPO_TEST_ERROR']; }
  const r = await fetchSummaryFiles('origin', srv, { cache: { repo }, verify });
  assert.deepEqual([r.summary, r.fromCache], [S2, false]);
  assert.deepEqual(fs.readFileSync(summaryCachePath(cacheDir(repo.path), 'origin')), S2);
  // a fresh summary that fails is an error, and the cache keeps what it had
  await assert.rejects(fetchSummaryFiles('origin', fakeRemote({ summary: S1, 'summary.sig': Buffer.from('other') }), { cache: { repo }, verify }), /BAD signature/);
  assert.deepEqual(fs.readFileSync(summaryCachePath(cacheDir(repo.path), 'origin')), S2);
});

test('--cache-dir keeps the cache elsewhere; prune drops entries of remotes that are gone; names are validated', async () => {
  const repo = await emptyRepo();
  const other = tempDir('summary-cachedir-');
  await fetchSummaryFiles('origin', fakeRemote({ summary: S1, 'summary.sig': G1 }), { cache: { repo, cache: other } });
  assert.ok(fs.existsSync(path.join(other, 'summaries/origin')));
  assert.ok(fs.existsSync(path.join(other, 'summaries/origin.sig')));
  assert.equal(fs.existsSync(summaryCachePath(cacheDir(repo.path), 'origin')), false);
  await fetchSummaryFiles('origin', fakeRemote({ summary: S1, 'summary.sig': G1 }), { cache: { repo } });
  const dir = path.dirname(summaryCachePath(cacheDir(repo.path), 'x'));
  fs.writeFileSync(path.join(dir, 'gone'), '');
  fs.writeFileSync(path.join(dir, 'gone.sig'), '');
  pruneSummaryCache(repo.path, new Set(['origin']));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['origin', 'origin.sig']);
  await assert.rejects(fetchSummaryFiles('../escape', fakeRemote({ summary: S1, 'summary.sig': G1 }), { cache: { repo } }), /invalid remote name/i);
});

test('an oversized summary.sig or summary from the server is refused by the source bound', async () => {
  const repo = await emptyRepo();
  const huge = { length: 1e12 } as unknown as Buffer; // never read: the bound is checked first
  await assert.rejects(fetchSummaryFiles('origin', fakeRemote({ 'summary.sig': huge }), { cache: { repo } }), /summary\.sig exceeded maximum size/);
  await assert.rejects(fetchSummaryFiles('origin', fakeRemote({ summary: huge }), { cache: { repo } }), /summary exceeded maximum size/);
});

test('pull --mirror of every ref from a file:// remote copies its summary and summary.sig', async () => {
  const d = tempDir('summary-mirror-');
  const src = await Repo.create(path.join(d, 'src'), 'archive');
  fs.mkdirSync(path.join(d, 'tree'));
  fs.writeFileSync(path.join(d, 'tree/f'), 'x');
  await src.commitTree(path.join(d, 'tree'), { branch: 'main' });
  await updateSummary(src);
  fs.writeFileSync(summarySigPath(src.path), G1);
  const dst = await Repo.create(path.join(d, 'dst'), 'archive');
  await dst.addRemote('o', `file://${src.path}`, { 'gpg-verify': 'false' });
  await pullFromRemote(dst, 'o', [], { mirror: true });
  assert.deepEqual(fs.readFileSync(summaryPath(dst.path)), fs.readFileSync(summaryPath(src.path)));
  assert.deepEqual(fs.readFileSync(summarySigPath(dst.path)), G1);
  // a named ref is no mirror of everything: the summary stays as it was
  fs.rmSync(summaryPath(dst.path));
  await pullFromRemote(dst, 'o', ['main'], { mirror: true });
  assert.equal(fs.existsSync(summaryPath(dst.path)), false);
});
