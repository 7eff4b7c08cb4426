/**
 * The records a pull is driven by and reports through: the options of `ostree pull`
 * (PullOptions), the progress snapshots handed to a callback while it runs, and the result,
 * with the status lines upstream prints for them.
 */
import { formatSize } from '../../util/format-size.js';
import type { RemoteLookupOptions } from '../remotes.js';

export interface PullProgress {
  /** Still discovering metadata (commit/dirtree/dirmeta fetches outstanding). */
  scanning: boolean;
  outstandingFetches: number;
  metadataFetched: number;
  contentFetched: number;
  fetched: number;
  requested: number;
  bytesTransferred: number;
  elapsedMs: number;
  /** Set on the last call. */
  done: boolean;
}

export interface PullOptions extends RemoteLookupOptions {
  /** Parents to follow: 0 (default) only the named commits, -1 all. */
  depth?: number;
  /** Only commit objects (and detached metadata); the commits stay partial. */
  commitMetadataOnly?: boolean;
  /** Pull this commit instead of the ref's current target (single ref), and point the ref at it. */
  overrideCommit?: string;
  /** Per-ref override commits (same order as refs; '' or undefined for none), like `REF@CSUM`. */
  overrideCommits?: Array<string | undefined>;
  /** Refuse commits older than this local rev (`--timestamp-check-from-rev`). */
  timestampCheckFromRev?: string;
  /** Refuse commits older than the current local `REMOTE:REF` (`--timestamp-check`). */
  timestampCheck?: boolean;
  /** Use this URL instead of the remote's (`--url`). */
  url?: string;
  /** `--mirror`: write refs as local refs (refs/heads/REF); with no refs and no configured
   *  branches, pull every ref of the remote's summary and store that summary too. */
  mirror?: boolean;
  disableFsync?: boolean;
  disableVerifyBindings?: boolean;
  /** `--no-sign-verify`: skip the remote's sign-verify (GPG verification still applies). */
  noSignVerify?: boolean;
  /** file:// remotes: re-checksum objects that would be hardlinked (HTTP objects are always verified). */
  untrusted?: boolean;
  networkRetries?: number;
  concurrency?: number;
  /** Content objects fetched before a second thread stores them (default 1000; store-thread.ts). */
  storeThreadAfter?: number;
  /** Progress callback (called often; the caller throttles display). */
  progress?: (p: PullProgress) => void;
  /** First retry delay in ms (doubled at each retry, capped at 2 s; default 100). */
  retryDelayMs?: number;
  /** A request that receives nothing for this long fails, and is retried (default 30 s). */
  stallTimeoutMs?: number;
  /** Extra HTTP request headers. */
  httpHeaders?: Array<[string, string]>;
  /** `--cache-dir`: keep the remote's summary cache there instead of REPO/tmp/cache. */
  cacheDir?: string;
  /** Static deltas: never use them / fail unless they are used / only report their sizes. */
  disableStaticDeltas?: boolean;
  requireStaticDeltas?: boolean;
  dryRun?: boolean;
  /** Appended to the User-Agent (`--append-user-agent`). */
  appendUserAgent?: string;
  /** Only these paths of each commit's tree (`--subpath`); the commits stay partial. */
  subpaths?: string[];
  /** Repositories on this machine to take objects from before fetching them (`--localcache-repo`). */
  localCacheRepos?: string[];
  /** Refuse regular files with modes outside 0775 (`--bareuseronly-files`). */
  bareUserOnlyFiles?: boolean;
  /** Store content objects from an archive remote as they are, unverified (`--http-trusted`). */
  httpTrusted?: boolean;
}

/** What static deltas a pull used or (--dry-run) would use: parts and sizes. */
export interface DeltaTotals { fetchedParts: number; totalParts: number; fetchedSize: bigint; totalSize: bigint; totalUsize: bigint }

export interface PullResult {
  /** 'http' (fetched) or 'local' (file:// remote: imported). */
  kind: 'http' | 'local';
  metadataObjects: number;
  contentObjects: number;
  bytesTransferred: number;
  /** Uncompressed size of content objects written. */
  contentBytes: number;
  seconds: number;
  /** refspec written (`REMOTE:REF`) -> commit. */
  refs: Map<string, string>;
  /** Commits fetched or already present that were reached. */
  commits: string[];
  /** --dry-run: the deltas' sizes (pull/delta-phase.ts); nothing was written. */
  deltaUpdate?: DeltaTotals;
  /** Static deltas applied (`FROM-TO`, `TO` from scratch): the path the pull took; empty or
   *  absent when it fetched object by object. */
  deltas?: string[];
  /** Delta parts fetched (not counted in metadataObjects). */
  deltaParts?: number;
  /** Objects taken from --localcache-repo repositories instead of fetched. */
  localMetadataObjects?: number;
  localContentObjects?: number;
}

/** What pull-local counts. */
export interface ImportCounts { metadataObjects: number; contentObjects: number; contentBytes: number }

/** The upstream status line printed after a pull-local. */
export function formatPullStatus(r: ImportCounts): string {
  return `${r.metadataObjects} metadata, ${r.contentObjects} content objects imported; ${formatSize(r.contentBytes)} content written`;
}

/** The summary line upstream prints after a pull. */
export function formatPullResult(r: PullResult): string {
  if (r.kind === 'local') return formatPullStatus(r);
  // as upstream: a pull that used static deltas counts their parts, and the rest as loose objects
  let s = (r.deltaParts ?? 0) > 0
    ? `${r.deltaParts} delta parts, ${r.metadataObjects + r.contentObjects} loose fetched`
    : `${r.metadataObjects} metadata, ${r.contentObjects} content objects fetched`;
  const localMeta = r.localMetadataObjects ?? 0;
  const localContent = r.localContentObjects ?? 0;
  if (localMeta > 0 || localContent > 0) s += ` (${localMeta} meta, ${localContent} content local)`;
  if (r.bytesTransferred > 0) {
    const kib = r.bytesTransferred >= 1024;
    s += `; ${kib ? Math.floor(r.bytesTransferred / 1024) : r.bytesTransferred} ${kib ? 'KiB' : 'B'} transferred in ${Math.floor(r.seconds)} seconds`;
  }
  return `${s}; ${formatSize(r.contentBytes)} content written`;
}

/** The progress line upstream shows on a terminal. */
export function formatPullProgress(p: PullProgress): string {
  const secs = p.elapsedMs / 1000;
  const rate = secs < 1 || p.bytesTransferred === 0 ? '-' : formatSize(Math.floor(p.bytesTransferred / Math.floor(secs)));
  const total = formatSize(p.bytesTransferred);
  if (p.scanning) return `Receiving metadata objects: ${p.metadataFetched}/(estimating) ${rate}/s ${total}`;
  const pct = p.requested > 0 ? Math.floor((p.fetched / p.requested) * 100) : 100;
  return `Receiving objects: ${pct}% (${p.fetched}/${p.requested}) ${rate}/s ${total}`;
}
