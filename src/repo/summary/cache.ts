/**
 * The client's summary cache, CACHE/summaries/REMOTE and REMOTE.sig (CACHE is REPO/tmp/cache
 * unless `--cache-dir` names another): the last signed summary fetched from each remote, as
 * upstream keeps it. Only a summary that came with signatures is cached, and it is reused only
 * while the remote still serves the very same summary.sig (the small file is fetched every
 * time, the large one only when it changed), so an unchanged remote costs one small download
 * and leaves the cached files untouched. Each file's mtime is set to the server's
 * Last-Modified when it sent one, as upstream records it. Reads are bounded like any summary;
 * `prune` drops the entries of remotes that no longer exist.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isErrno } from '../../errors.js';
import { readFileBounded, writeFileAtomic, mkdirp } from '../../util/fs.js';
import { cacheDir, summaryCachePath } from '../layout.js';
import { validateRemoteName } from '../refs.js';
import { fsyncEnabled, type RepoCore } from '../store.js';
import { SUMMARY_MAX_SIZE, SUMMARY_SIG_MAX_SIZE } from './limits.js';

/** Where the cache is: `cache` (a `--cache-dir`) or the repository's own. */
export interface CacheLocation { repo: RepoCore; cache?: string }

function cachePath(loc: CacheLocation, remote: string, sig = false): string {
  validateRemoteName(remote);
  return summaryCachePath(loc.cache ?? cacheDir(loc.repo.path), remote, sig);
}

function readCached(loc: CacheLocation, remote: string, sig: boolean): Buffer | null {
  const p = cachePath(loc, remote, sig);
  try {
    return readFileBounded(p, sig ? SUMMARY_SIG_MAX_SIZE : SUMMARY_MAX_SIZE, { what: 'Cached summary', advice: 'remove it (it is fetched again)' });
  } catch {
    // a damaged cache entry is only a missed optimization: forget it
    fs.rmSync(p, { force: true });
    return null;
  }
}

/**
 * The cached summary of `remote` when the cached signatures are exactly `sig` (upstream's
 * load_cache_summary_if_same_sig); null otherwise. A cached .sig without its summary is removed.
 */
export function loadCachedSummaryIfSameSig(loc: CacheLocation, remote: string, sig: Buffer): Buffer | null {
  const oldSig = readCached(loc, remote, true);
  if (oldSig === null || !oldSig.equals(sig)) return null;
  const summary = readCached(loc, remote, false);
  if (summary === null) fs.rmSync(cachePath(loc, remote, true), { force: true });
  return summary;
}

/** The server's Last-Modified (seconds) as the file's mtime; non-fatal, as upstream. */
function storeLastModified(file: string, lastModified: number | undefined): void {
  if (lastModified === undefined || lastModified <= 0) return;
  try { fs.utimesSync(file, fs.statSync(file).atime, lastModified); } catch { /* only an optimization */ }
}

/** Save a verified summary and its signatures for `remote`. */
export function cacheSummary(loc: CacheLocation, remote: string, summary: Buffer, sig: Buffer, lastModified: { summary?: number; sig?: number } = {}): void {
  const file = cachePath(loc, remote);
  try {
    mkdirp(path.dirname(file));
  } catch (e) {
    if (isErrno(e, 'EACCES') || isErrno(e, 'EROFS')) return; // no permission to cache: not an error
    throw e;
  }
  const sync = fsyncEnabled(loc.repo);
  writeFileAtomic(file, summary, { mode: 0o644, sync });
  storeLastModified(file, lastModified.summary);
  const sigFile = cachePath(loc, remote, true);
  writeFileAtomic(sigFile, sig, { mode: 0o644, sync });
  storeLastModified(sigFile, lastModified.sig);
}

/** Remove cached summaries of remotes not in `remotes` (upstream's prune of the tmp cache). */
export function pruneSummaryCache(repoPath: string, remotes: ReadonlySet<string>): void {
  const dir = path.dirname(summaryCachePath(cacheDir(repoPath), 'x'));
  let ents: fs.Dirent[];
  try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return;
    throw e;
  }
  for (const e of ents) {
    if (e.isDirectory()) continue; // not ours: left alone
    const remote = e.name.length > 4 && e.name.endsWith('.sig') ? e.name.slice(0, -4) : e.name;
    if (!remotes.has(remote)) fs.rmSync(path.join(dir, e.name), { force: true });
  }
}
