/**
 * The client's summary cache, REPO/tmp/cache/summaries/REMOTE and REMOTE.sig: the last signed
 * summary fetched from each remote, as upstream keeps it. Only a summary that came with
 * signatures is cached, and it is reused only while the remote still serves the very same
 * summary.sig (the small file is fetched every time, the large one only when it changed), so
 * an unchanged remote costs one small download and leaves the cached files untouched. Each
 * file's mtime is set to the server's Last-Modified when it sent one, as upstream records it.
 * Reads are bounded like any summary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isErrno } from '../../errors.js';
import { readFileBounded, writeFileAtomic, mkdirp } from '../../util/fs.js';
import { summaryCachePath } from '../layout.js';
import { validateRemoteName } from '../refs.js';
import { fsyncEnabled, type RepoCore } from '../store.js';
import { SUMMARY_MAX_SIZE, SUMMARY_SIG_MAX_SIZE } from './limits.js';

/** HTTP caching properties of a fetched file (both optional). */
export interface CacheProperties { lastModified?: number }

function readCached(repo: RepoCore, remote: string, sig: boolean): Buffer | null {
  validateRemoteName(remote);
  const p = summaryCachePath(repo.path, remote, sig);
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
export function loadCachedSummaryIfSameSig(repo: RepoCore, remote: string, sig: Buffer): Buffer | null {
  const oldSig = readCached(repo, remote, true);
  if (oldSig === null || !oldSig.equals(sig)) return null;
  const summary = readCached(repo, remote, false);
  if (summary === null) fs.rmSync(summaryCachePath(repo.path, remote, true), { force: true });
  return summary;
}

function storeProperties(file: string, props: CacheProperties): void {
  // non-fatal, as upstream: the properties only save downloads
  try {
    if (props.lastModified !== undefined && props.lastModified > 0) fs.utimesSync(file, fs.statSync(file).atime, props.lastModified);
  } catch { /* ignored */ }
}

/** Save a verified summary and its signatures for `remote`. */
export function cacheSummary(repo: RepoCore, remote: string, summary: Buffer, sig: Buffer, props: { summary?: CacheProperties; sig?: CacheProperties } = {}): void {
  validateRemoteName(remote);
  const file = summaryCachePath(repo.path, remote);
  try {
    mkdirp(path.dirname(file));
  } catch (e) {
    if (isErrno(e, 'EACCES') || isErrno(e, 'EROFS')) return; // a read-only repository has no cache
    throw e;
  }
  const sync = fsyncEnabled(repo);
  writeFileAtomic(file, summary, { mode: 0o644, sync });
  storeProperties(file, props.summary ?? {});
  const sigFile = summaryCachePath(repo.path, remote, true);
  writeFileAtomic(sigFile, sig, { mode: 0o644, sync });
  storeProperties(sigFile, props.sig ?? {});
}
