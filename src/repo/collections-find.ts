/**
 * Finding remotes that serve collection–refs (upstream's ostree_repo_find_remotes_async with
 * the config finder, OstreeRepoFinderConfig): every configured remote with a `collection-id=`
 * that advertises one of the wanted refs in its summary is a candidate; for each ref the newest
 * commit any candidate has wins (commit timestamps: the local commit when we have it, else the
 * summary's `ostree.commit.timestamp`, else the commit in a file:// remote); a candidate keeps
 * the refs it has the newest commit for, and is dropped when that leaves none. Results are
 * ordered as ostree_repo_finder_result_compare orders them.
 */
import { OstreeError } from '../errors.js';
import { isCollectionId, type CollectionRef } from './collections.js';
import { parseCommit } from './objects/commit.js';
import { fileUrlPath, remoteUrlKind } from './pull/config.js';
import { pullFromRemote } from './pull/http.js';
import { fetchRemoteSummary, type RemoteSummary, type SummaryRef } from './pull/summary.js';
import { listRemotes, type RemoteConfig } from './remotes.js';
import type { Repo } from './repo.js';
import { readMetadataObjectIfPresent } from './store.js';

/** Upstream's config finder always answers with this priority (lower than the others). */
const CONFIG_FINDER_PRIORITY = 100;

export interface FinderResult {
  remote: RemoteConfig;
  /** The finder's GObject type name, as upstream prints it. */
  finder: string;
  /** The remote's keyring file, `NAME.trustedkeys.gpg`. */
  keyring: string;
  priority: number;
  /** `ostree.summary.last-modified` of the remote's summary (seconds), 0 when unknown. */
  summaryLastModified: bigint;
  /** Each wanted ref (in the order asked) → the commit this remote has for it, when that is the
   *  newest any remote has; null otherwise. */
  refs: Array<CollectionRef & { checksum: string | null }>;
}

/** The refs of `summary` that belong to collection `collectionId` (main map or collection map). */
function summaryRefsOf(summary: RemoteSummary, collectionId: string): Map<string, SummaryRef> | undefined {
  if (summary.collectionId === collectionId) return summary.refs;
  return summary.collectionRefs.get(collectionId);
}

interface Candidate { remote: RemoteConfig; summary: RemoteSummary; has: Array<SummaryRef | null> }

/** A remote's summary, or null when it has none or it cannot be read (skipped, as upstream). */
async function summaryOf(repo: Repo, remote: RemoteConfig): Promise<RemoteSummary | null> {
  try { return await fetchRemoteSummary(repo, remote.name); } catch { return null; }
}

/** The config finder: remotes whose collection ID and summary name one of `wanted`. */
async function configCandidates(repo: Repo, wanted: CollectionRef[]): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const remote of listRemotes(repo, { inherit: true })) {
    const id = remote.options.get('collection-id');
    if (id === undefined || !isCollectionId(id) || !wanted.some((w) => w.collectionId === id)) continue;
    const summary = await summaryOf(repo, remote);
    if (summary === null) continue;
    const has = wanted.map((w) => summaryRefsOf(summary, w.collectionId)?.get(w.ref) ?? null);
    if (has.some((h, i) => h !== null && wanted[i]!.collectionId === id)) out.push({ remote, summary, has });
  }
  return out;
}

/** When commit `checksum` was made: ours if we have it, else the summary's, else the file://
 *  remote's commit object; 0 when unknown. */
function commitTimestamp(repo: Repo, checksum: string, ref: SummaryRef, remote: RemoteConfig): bigint {
  const local = readMetadataObjectIfPresent(repo, checksum, 'commit');
  if (local !== null) return parseCommit(local, `commit ${checksum}`).timestamp;
  if (ref.timestamp !== undefined) return ref.timestamp;
  if (remoteUrlKind(remote.name, remote.url) !== 'file') return 0n;
  try {
    // Commit objects are at objects/XX/Y.commit whatever the remote repository's mode.
    const data = readMetadataObjectIfPresent({ path: fileUrlPath(remote.url), mode: 'archive' }, checksum, 'commit');
    return data === null ? 0n : parseCommit(data, `commit ${checksum}`).timestamp;
  } catch { return 0n; }
}

function compareResults(a: FinderResult, b: FinderResult): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.summaryLastModified !== 0n && b.summaryLastModified !== 0n && a.summaryLastModified !== b.summaryLastModified) {
    return a.summaryLastModified < b.summaryLastModified ? -1 : 1;
  }
  const n = (r: FinderResult): number => r.refs.filter((x) => x.checksum !== null).length;
  if (n(a) !== n(b)) return n(a) - n(b);
  return a.remote.name < b.remote.name ? -1 : a.remote.name > b.remote.name ? 1 : 0;
}

export type FinderName = 'config' | 'mount' | 'lan';

/** Parse `--finders=a,b`: each of config, mount, lan at most once (upstream's messages). */
export function parseFinders(spec: string): FinderName[] {
  const names = spec.split(',');
  if (spec === '') throw new OstreeError('EINVAL', 'List of finders in --finders option must not be empty');
  const out: FinderName[] = [];
  for (const n of names) {
    if ((n !== 'config' && n !== 'mount' && n !== 'lan') || out.includes(n)) {
      throw new OstreeError('EINVAL', `Unknown or duplicate finder type given in --finders option: ‘${n}’`);
    }
    out.push(n);
  }
  return out;
}

/** Find remotes serving `wanted` with the given finders (config only is implemented). */
export async function findRemotes(repo: Repo, wanted: CollectionRef[], finders: FinderName[] = ['config']): Promise<FinderResult[]> {
  if (finders.includes('lan')) throw new OstreeError('EINVAL', 'LAN repo finder requested but ostree was compiled without Avahi support');
  if (finders.includes('mount')) throw new OstreeError('EINVAL', 'the mount finder is not supported by this implementation (use --finders=config)');
  const candidates = await configCandidates(repo, wanted);
  const newest = wanted.map((_, i) => {
    let best: { checksum: string; ts: bigint } | null = null;
    for (const c of candidates) {
      const h = c.has[i];
      if (!h) continue;
      const ts = commitTimestamp(repo, h.checksum, h, c.remote);
      if (best === null || ts > best.ts) best = { checksum: h.checksum, ts };
    }
    return best?.checksum ?? null;
  });
  const results: FinderResult[] = [];
  for (const c of candidates) {
    const refs = wanted.map((w, i) => ({ ...w, checksum: c.has[i] && c.has[i]!.checksum === newest[i] ? newest[i]! : null }));
    if (refs.every((r) => r.checksum === null)) continue;
    results.push({
      remote: c.remote, finder: 'OstreeRepoFinderConfig', keyring: `${c.remote.name}.trustedkeys.gpg`,
      priority: CONFIG_FINDER_PRIORITY, summaryLastModified: c.summary.lastModified ?? 0n, refs,
    });
  }
  return results.sort(compareResults);
}

/**
 * Pull from each result the refs it has the newest commit for (upstream's
 * ostree_repo_pull_from_remotes_async): as the remote's refs (`REMOTE:REF`), or with `mirror`
 * as collection–refs. Stops at the first pull that fails.
 */
export async function pullFromResults(repo: Repo, results: FinderResult[], options: { mirror?: boolean; disableFsync?: boolean } = {}): Promise<void> {
  for (const r of results) {
    const refs = r.refs.filter((x) => x.checksum !== null).map((x) => x.ref);
    if (refs.length === 0) continue;
    await pullFromRemote(repo, r.remote.name, refs, { ...(options.mirror ? { mirror: true } : {}), ...(options.disableFsync ? { disableFsync: true } : {}) });
  }
}
