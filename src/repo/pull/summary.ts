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
import { cacheSummary, loadCachedSummaryIfSameSig } from '../summary/cache.js';
import {
  REF_KEYS, SUMMARY_KEYS, fromBeU64, parseSummaryFile, summaryCollectionMap, summaryExtension,
} from '../summary/format.js';
import { SUMMARY_MAX_SIZE, SUMMARY_SIG_MAX_SIZE } from '../summary/limits.js';
import type { RepoCore } from '../store.js';
import { checkSummaryVerificationSupported, fileUrlPath, remoteUrlKind } from './config.js';
import { HttpFetcher, resolveMirrors } from './transport.js';

export { formatSummary, formatSummaryRaw } from '../summary/dump.js';

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

export function fileSummarySource(remoteName: string, dir: string): SummarySource {
  return {
    get: async (name, maxSize) => readFileBounded(path.join(dir, name), maxSize, { what: `${name} of remote "${remoteName}"`, follow: false, advice: 'remove it or repair the remote repository' }),
    url: (name) => path.join(dir, name),
  };
}

/** Checks a summary against its signatures (null: none were served); throws when it fails. */
export type SummaryVerifier = (summary: Buffer | null, sig: Buffer | null) => void | Promise<void>;

export interface FetchedSummary { summary: Buffer | null; sig: Buffer | null; fromCache: boolean; source: string }

/**
 * summary.sig and summary from `src`, through the cache of `remoteName` when `useCache`
 * (upstream skips it for `file://` pulls), verified by `verify` when given.
 */
export async function fetchSummaryFiles(repo: RepoCore, remoteName: string, src: SummarySource, opts: { useCache: boolean; verify?: SummaryVerifier }): Promise<FetchedSummary> {
  const sig = await src.get('summary.sig', SUMMARY_SIG_MAX_SIZE);
  let summary = sig !== null && opts.useCache ? loadCachedSummaryIfSameSig(repo, remoteName, sig) : null;
  let fromCache = summary !== null;
  if (summary === null) summary = await src.get('summary', SUMMARY_MAX_SIZE);
  if (opts.verify) {
    try {
      await opts.verify(summary, sig);
    } catch (e) {
      if (!fromCache) throw e;
      // the cached copy is not what the signatures sign any more: fetch it again
      fromCache = false;
      summary = await src.get('summary', SUMMARY_MAX_SIZE);
      await opts.verify(summary, sig);
    }
  }
  if (!fromCache && opts.useCache && summary !== null && sig !== null) cacheSummary(repo, remoteName, summary, sig);
  return { summary, sig, fromCache, source: src.url('summary') };
}

/** The remote's summary files, as `ostree remote summary` and `remote refs` fetch them. */
export async function fetchRemoteSummaryFiles(repo: Repo, remoteName: string, opts: RemoteLookupOptions & { url?: string; verify?: SummaryVerifier } = {}): Promise<FetchedSummary> {
  const remote = getRemote(repo, remoteName, opts);
  const url = opts.url ?? remote.url;
  const verify = opts.verify ?? ((): void => checkSummaryVerificationSupported(remote));
  if (remoteUrlKind(remoteName, url) === 'file') {
    return fetchSummaryFiles(repo, remoteName, fileSummarySource(remoteName, fileUrlPath(url)), { useCache: true, verify });
  }
  const f = new HttpFetcher(await resolveMirrors(url));
  try {
    return await fetchSummaryFiles(repo, remoteName, httpSummarySource(f), { useCache: true, verify });
  } finally { f.close(); }
}

/** The remote's raw `summary` file (null when it has none). */
export async function fetchRemoteSummaryBytes(repo: Repo, remoteName: string, opts: RemoteLookupOptions & { url?: string } = {}): Promise<{ data: Buffer; source: string } | null> {
  const f = await fetchRemoteSummaryFiles(repo, remoteName, opts);
  return f.summary === null ? null : { data: f.summary, source: f.source };
}

/** Read the remote's refs from its summary (null when it has none). */
export async function fetchRemoteSummary(repo: Repo, remoteName: string, opts: RemoteLookupOptions & { url?: string } = {}): Promise<RemoteSummary | null> {
  const b = await fetchRemoteSummaryBytes(repo, remoteName, opts);
  return b === null ? null : parseSummary(b.data, b.source);
}

/** `ostree remote refs`: REMOTE:REF → checksum from the summary, sorted; with
 *  `collections`, `(COLLECTION, REF)` for every ref that has a collection ID instead. */
export async function listRemoteRefs(repo: Repo, remoteName: string, opts: RemoteLookupOptions & { collections?: boolean } = {}): Promise<Map<string, string>> {
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
