/**
 * A remote's summary as a client fetches it: summary.sig first, then the summary itself unless
 * the cache (summary/cache.ts) holds the one those signatures sign; the verification hook (the
 * sign code's) runs on the pair, and a cached summary that fails it is fetched afresh once; a
 * newly fetched signed summary is cached. Both files are bounded (summary/limits.ts) whether
 * they come over HTTP or from a `file://` remote, and parsed strictly. On top of that:
 * `ostree remote refs` and the refs view the pull takes (RemoteSummary).
 */
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { readFileBounded } from '../../util/fs.js';
import type { Repo } from '../repo.js';
import { getRemote, type RemoteLookupOptions } from '../remotes.js';
import { cacheSummary, loadCachedSummaryIfSameSig, type CacheLocation } from '../summary/cache.js';
import {
  REF_KEYS, SUMMARY_KEYS, fromBeU64, parseSummaryFile, summaryCollectionMap, summaryExtension,
} from '../summary/format.js';
import { SUMMARY_MAX_SIZE, SUMMARY_SIG_MAX_SIZE } from '../summary/limits.js';
import { summaryGpgReport, summaryVerifierFor } from '../sign/summary.js';
import { fileUrlPath, remoteFetcherOptions, remoteUrlKind } from './config.js';
import { HttpFetcher, resolveMirrors } from './transport.js';

import { formatSummary, formatSummaryRaw } from '../summary/dump.js';

export { formatSummary, formatSummaryRaw };

export interface SummaryRef { checksum: string; size: bigint; timestamp?: bigint }

/** What a pull needs of a remote's summary. */
export interface RemoteSummary {
  refs: Map<string, SummaryRef>;
  /** `ostree.summary.collection-id` (validated by whoever uses it). */
  collectionId?: string;
  /** collection ID → its refs (`ostree.summary.collection-map`). */
  collectionRefs: Map<string, Map<string, SummaryRef>>;
  mode?: string;
  lastModified?: bigint;
  tombstoneCommits: boolean;
  indexedDeltas: boolean;
  /** Static deltas listed in the summary (`ostree.static-deltas`). */
  hasDeltas: boolean;
}

function refView(r: { checksum: string; size: bigint; metadata: Array<[string, import('../../glib/gvariant.js').Variant]> }): SummaryRef {
  const out: SummaryRef = { checksum: r.checksum, size: r.size };
  const ts = fromBeU64(r.metadata.find(([k]) => k === REF_KEYS.timestamp)?.[1]);
  if (ts !== undefined) out.timestamp = ts;
  return out;
}

/** Parse a remote's summary into what a pull needs (ECORRUPT naming `source` if invalid). */
export function parseSummary(data: Buffer, source = 'summary'): RemoteSummary {
  const s = parseSummaryFile(data, source);
  const get = (k: string): ReturnType<typeof summaryExtension> => summaryExtension(s, k);
  const deltas = get(SUMMARY_KEYS.staticDeltas)?.value;
  const out: RemoteSummary = {
    refs: new Map(s.refs.map((r) => [r.name, refView(r)])),
    collectionRefs: new Map(summaryCollectionMap(s, source).map(([c, refs]) => [c, new Map(refs.map((r) => [r.name, refView(r)]))])),
    tombstoneCommits: get(SUMMARY_KEYS.tombstoneCommits)?.value === true,
    indexedDeltas: get(SUMMARY_KEYS.indexedDeltas)?.value === true,
    hasDeltas: Array.isArray(deltas) && deltas.length > 0,
  };
  const mode = get(SUMMARY_KEYS.mode);
  if (mode && mode.type === 's') out.mode = mode.value as string;
  const cid = get(SUMMARY_KEYS.collectionId);
  if (cid && cid.type === 's') out.collectionId = cid.value as string;
  const lm = fromBeU64(get(SUMMARY_KEYS.lastModified));
  if (lm !== undefined) out.lastModified = lm;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fetching

/** Where a remote's files are read from: its HTTP fetcher or a `file://` directory. */
export interface SummarySource {
  get(name: 'summary' | 'summary.sig', maxSize: number): Promise<Buffer | null>;
  url(name: string): string;
}

export function httpSummarySource(f: HttpFetcher): SummarySource {
  return { get: (name, maxSize) => f.get(name, { optional: true, maxSize, what: name }), url: (name) => f.url(name) };
}

/** A file of a `file://` remote's repository: bounded, not through a symlink. */
function readFileRemoteFile(remoteName: string, dir: string, name: string, maxSize: number): Buffer | null {
  return readFileBounded(path.join(dir, name), maxSize, { what: `${name} of remote "${remoteName}"`, follow: false, advice: 'remove it or repair the remote repository' });
}

export function fileSummarySource(remoteName: string, dir: string): SummarySource {
  return { get: async (name, maxSize) => readFileRemoteFile(remoteName, dir, name, maxSize), url: (name) => path.join(dir, name) };
}

/** A `file://` remote's summary and summary.sig as they are (bounded; no cache, no checks). */
export function fileSummaryFiles(remoteName: string, dir: string): { summary: Buffer | null; sig: Buffer | null } {
  return {
    summary: readFileRemoteFile(remoteName, dir, 'summary', SUMMARY_MAX_SIZE),
    sig: readFileRemoteFile(remoteName, dir, 'summary.sig', SUMMARY_SIG_MAX_SIZE),
  };
}

/** Checks a summary against its signatures (null: none were served); throws when it fails. */
export type SummaryVerifier = (summary: Buffer | null, sig: Buffer | null) => void | Promise<void>;

export interface FetchedSummary { summary: Buffer | null; sig: Buffer | null; fromCache: boolean; source: string }

/** How `remote summary` and `remote refs` reach the remote: another URL, another cache
 *  directory (`--cache-dir`), a verifier (default: what the remote's gpg-/sign-verify-summary ask). */
export interface RemoteSummaryOptions extends RemoteLookupOptions { url?: string; cacheDir?: string; verify?: SummaryVerifier }

/** OSTREE_REPO_TEST_ERROR=invalid-cache (upstream's test hook): fail where a cached summary
 *  turns out not to match its signatures, instead of fetching it again. */
function failOnInvalidCache(): boolean {
  const v = process.env['OSTREE_REPO_TEST_ERROR'] ?? '';
  return v.split(/[,:; \t]+/).some((f) => f === 'invalid-cache' || f === 'all');
}

/**
 * summary.sig and summary from `src`, through the summary cache at `cache` (null: none, as
 * upstream's pulls from `file://` remotes), verified by `verify` when given.
 */
export async function fetchSummaryFiles(remoteName: string, src: SummarySource, opts: { cache: CacheLocation | null; verify?: SummaryVerifier }): Promise<FetchedSummary> {
  const sig = await src.get('summary.sig', SUMMARY_SIG_MAX_SIZE);
  let summary = sig !== null && opts.cache ? loadCachedSummaryIfSameSig(opts.cache, remoteName, sig) : null;
  let fromCache = summary !== null;
  if (summary === null) summary = await src.get('summary', SUMMARY_MAX_SIZE);
  if (opts.verify) {
    try {
      await opts.verify(summary, sig);
    } catch (e) {
      if (!fromCache) throw e;
      if (failOnInvalidCache()) {
        throw new OstreeError('ECORRUPT', `Remote ${remoteName} cached summary invalid and OSTREE_REPO_TEST_ERROR_INVALID_CACHE specified`);
      }
      // the cached copy is not what the signatures sign any more: fetch it again
      fromCache = false;
      summary = await src.get('summary', SUMMARY_MAX_SIZE);
      await opts.verify(summary, sig);
    }
  }
  if (!fromCache && opts.cache && summary !== null && sig !== null) cacheSummary(opts.cache, remoteName, summary, sig);
  return { summary, sig, fromCache, source: src.url('summary') };
}

/** The remote's summary files, as `ostree remote summary` and `remote refs` fetch them. */
export async function fetchRemoteSummaryFiles(repo: Repo, remoteName: string, opts: RemoteSummaryOptions = {}): Promise<FetchedSummary> {
  const remote = getRemote(repo, remoteName, opts);
  const url = opts.url ?? remote.url;
  const verify = opts.verify ?? summaryVerifierFor(repo, remote, 'fetch') ?? undefined;
  const cache: CacheLocation = opts.cacheDir !== undefined ? { repo, cache: opts.cacheDir } : { repo };
  const o = { cache, ...(verify ? { verify } : {}) };
  if (remoteUrlKind(remoteName, url) === 'file') return fetchSummaryFiles(remoteName, fileSummarySource(remoteName, fileUrlPath(url)), o);
  if (remoteUrlKind(remoteName, url) === 'metalink') {
    // the metalink names the summary and its checksums; summary.sig is not part of it
    const { baseUrl, summary } = await (await import('./metalink.js')).resolveMetalink(url.slice('metalink='.length), remoteFetcherOptions(remote, {}));
    await verify?.(summary, null);
    return { summary, sig: null, fromCache: false, source: `${baseUrl}/summary` };
  }
  // the remote's TLS keys and proxy, as its pulls use them
  const fo = remoteFetcherOptions(remote, {});
  const f = new HttpFetcher(await resolveMirrors(url, fo), fo);
  try {
    return await fetchSummaryFiles(remoteName, httpSummarySource(f), o);
  } finally { f.close(); }
}

/** `ostree remote summary [--raw]`: the remote's summary as text and, unless raw, the GPG
 *  report of a remote that verifies its summary. ENOENT when the server has no summary. */
export async function remoteSummaryText(repo: Repo, remoteName: string, opts: RemoteSummaryOptions & { raw?: boolean } = {}): Promise<string> {
  const f = await fetchRemoteSummaryFiles(repo, remoteName, opts);
  if (f.summary === null) throw new OstreeError('ENOENT', `Remote server has no summary file (remote "${remoteName}"; its owner can create one with 'ostree summary -u')`);
  if (opts.raw) return `${formatSummaryRaw(f.summary, f.source)}\n`;
  return formatSummary(f.summary, f.source) + await summaryGpgReport(repo, getRemote(repo, remoteName, opts), f.summary, f.sig);
}

/** The remote's raw `summary` file (null when it has none). */
export async function fetchRemoteSummaryBytes(repo: Repo, remoteName: string, opts: RemoteSummaryOptions = {}): Promise<{ data: Buffer; source: string } | null> {
  const f = await fetchRemoteSummaryFiles(repo, remoteName, opts);
  return f.summary === null ? null : { data: f.summary, source: f.source };
}

/** Read the remote's refs from its summary (null when it has none). */
export async function fetchRemoteSummary(repo: Repo, remoteName: string, opts: RemoteSummaryOptions = {}): Promise<RemoteSummary | null> {
  const b = await fetchRemoteSummaryBytes(repo, remoteName, opts);
  return b === null ? null : parseSummary(b.data, b.source);
}

/** `ostree remote refs`: REMOTE:REF → checksum from the summary, sorted; with
 *  `collections`, `(COLLECTION, REF)` for every ref that has a collection ID instead. */
export async function listRemoteRefs(repo: Repo, remoteName: string, opts: RemoteSummaryOptions & { collections?: boolean } = {}): Promise<Map<string, string>> {
  const s = await fetchRemoteSummary(repo, remoteName, opts);
  if (s === null) throw new OstreeError('ENOENT', `Remote refs not available; server has no summary file`);
  const entries: Array<[string, string]> = [];
  if (opts.collections) {
    if (s.collectionId !== undefined) for (const [n, r] of s.refs) entries.push([`(${s.collectionId}, ${n})`, r.checksum]);
    for (const [c, refs] of s.collectionRefs) for (const [n, r] of refs) entries.push([`(${c}, ${n})`, r.checksum]);
  } else {
    for (const [n, r] of s.refs) entries.push([`${remoteName}:${n}`, r.checksum]);
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(entries);
}
