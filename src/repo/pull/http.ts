/**
 * `ostree pull`: fetch commits from a configured remote into a repository, as upstream ostree
 * 2022.7 does it. This module decides what a pull is (remote, refs, depth, checks) and hands it
 * to the HTTP session (session.ts) or, for `file://` remotes, to pull-local (file-remote.ts).
 *
 * The pieces, along upstream's seams:
 *   config.ts     remotes from the repo config and remotes.d; what their options mean
 *   transport.ts  the HTTP client, on undici (keep-alive, in-flight bound, TLS and client
 *                 certificates, proxy=, basic auth from the URL, redirects, retries with
 *                 backoff, size limits, stall timeout) and mirrorlists; body-sink.ts a
 *                 download's body, resumed with Range when cut short; cookies.ts the cookie jar
 *   metalink.ts   `metalink=` remotes: the summary's mirrors, size and digests
 *   summary.ts    the remote's summary: fetched, parsed, printed
 *   targets.ts    the requested refs and the checks on target commits (bindings, timestamps)
 *   remote-targets.ts  phases 1-2 of an HTTP pull: summary when needed, mode, target commits
 *   session.ts    one HTTP pull, phase by phase; scheduler.ts its fetch queue and progress;
 *                 content-fetch.ts one content object fetched, verified and stored;
 *                 subpath.ts what --subpath takes of a tree; local-cache.ts --localcache-repo
 *   verify.ts     checksums of what is received, inflates bounded by declared sizes
 *   import.ts     storing a verified content object in the destination's mode (shared with
 *                 pull-local, local.ts); source.ts reads local objects safely; job.ts is the
 *                 worker-pool job
 *   limits.ts     every size bound; space.ts the free-space reserve
 *
 * Signatures (gpg-verify, sign-verify) are checked by src/repo/sign/remote-policy.ts, through
 * verify.ts, before a commit is stored.
 *
 * Also the public entry module for pull: what other areas import from here stays exported here.
 */
import { OstreeError } from '../../errors.js';
import { deltaSuperblockPath, deltaIndexPath } from '../layout.js';
import type { Repo } from '../repo.js';
import { modeTraits } from '../modes/mode.js';
import { findRemote, remoteBranches, type RemoteConfig } from '../remotes.js';
import { checkRemoteUsable, fileUrlPath, remoteFetcherOptions, remoteUrlKind } from './config.js';
import { cookieJarPath, readCookies } from './cookies.js';
import { pullFileRemote } from './file-remote.js';
import type { PullOptions, PullResult } from './options.js';
import { HttpPullSession } from './session.js';
import { normalizeRefs, timestampChecks } from './targets.js';
import { HttpFetcher, resolveMirrors, type FetcherOptions } from './transport.js';

import { commitVerifier, summaryVerifier } from './verify.js';
import { trace } from './trace.js';
export { HttpFetcher, IN_FILE, resolveMirrors, type FetcherOptions } from './transport.js';
export {
  fetchRemoteSummary, fetchRemoteSummaryBytes, formatSummary, formatSummaryRaw, listRemoteRefs, parseSummary, remoteSummaryText,
  type RemoteSummary, type SummaryRef,
} from './summary.js';
export { formatPullProgress, formatPullResult, type PullOptions, type PullProgress, type PullResult } from './options.js';
export { checkTimestamps } from './targets.js';
export { SpaceBudget } from './space.js';
export { verifyArchiveObject } from './verify.js';
export { deltaIndexPath, deltaSuperblockPath };

/** The HTTP clients of a remote: metadata from its url, content from contenturl when set. */
async function fetchersFor(url: string, contentUrl: string | undefined, fo: FetcherOptions): Promise<[HttpFetcher, HttpFetcher]> {
  const meta = new HttpFetcher(await resolveMirrors(url, fo), fo);
  try {
    const content = contentUrl && contentUrl !== url ? new HttpFetcher(await resolveMirrors(contentUrl, fo), fo) : meta;
    return [meta, content];
  } catch (e) { meta.close(); throw e; }
}

/** Options that need a non-archive destination or a static delta, refused as upstream. */
function checkDeltaOptions(repo: Repo, opts: PullOptions): void {
  if (opts.requireStaticDeltas && modeTraits(repo.mode).compressed) throw new OstreeError('EINVAL', "Can't use static deltas in an archive repo");
  if (opts.dryRun && !opts.requireStaticDeltas) throw new OstreeError('EINVAL', '--dry-run requires --require-static-deltas');
}

/** The HTTP client options of a pull from `remote`: the remote's TLS keys and cookies, the flags. */
function httpOptions(repo: Repo, remote: RemoteConfig, opts: PullOptions): FetcherOptions {
  return remoteFetcherOptions(remote, {
    ...(opts.networkRetries !== undefined ? { retries: opts.networkRetries } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.retryDelayMs !== undefined ? { retryDelayMs: opts.retryDelayMs } : {}),
    ...(opts.stallTimeoutMs !== undefined ? { idleTimeoutMs: opts.stallTimeoutMs } : {}),
    ...(opts.httpHeaders !== undefined ? { headers: opts.httpHeaders } : {}),
    ...(opts.appendUserAgent !== undefined ? { appendUserAgent: opts.appendUserAgent } : {}),
    cookies: readCookies(cookieJarPath(repo.path, remote.name)),
  });
}

/**
 * Pull `refs` (default: the remote's `branches=`) from remote `remoteName` into `repo`, writing
 * `refs/remotes/REMOTE/REF`. A ref may also be a commit checksum (no ref is written for it).
 */
export async function pullFromRemote(repo: Repo, remoteName: string, refs: string[], opts: PullOptions = {}): Promise<PullResult> {
  trace('pull start');
  try {
    return await pullWith(repo, remoteName, refs, opts);
  } finally { trace('pull end'); }
}

async function pullWith(repo: Repo, remoteName: string, refs: string[], opts: PullOptions): Promise<PullResult> {
  const remote = findRemote(repo, remoteName, opts);
  checkRemoteUsable(remote);
  const url = opts.url ?? remote.url;
  const kind = remoteUrlKind(remoteName, url);
  checkDeltaOptions(repo, opts);
  let allRefs = false;
  if (refs.length === 0) {
    refs = remoteBranches(remote);
    if (refs.length === 0) {
      if (!opts.mirror) throw new OstreeError('EINVAL', `No configured branches for remote ${remoteName} (name the refs to pull, or set branches= for the remote)`);
      allRefs = true; // --mirror: every ref the remote has
    }
  }
  const requests = normalizeRefs(refs, opts);
  /** Where a pulled ref is written: `REMOTE:REF`, or `REF` when mirroring. */
  const refSpec = (ref: string): string => (opts.mirror ? ref : `${remoteName}:${ref}`);
  const depth = opts.depth ?? 0;
  if (!Number.isInteger(depth) || depth < -1) throw new OstreeError('EINVAL', `invalid depth ${depth} (expected -1 or a non-negative integer)`);
  const check = await timestampChecks(repo, opts, refSpec);
  const verifier = commitVerifier(repo, remote, opts);
  const checkSummary = summaryVerifier(repo, remote, opts);
  const common = { repo, remoteName, requests, allRefs, depth, opts, check, verifier, ...(checkSummary ? { summaryVerifier: checkSummary } : {}), refSpec };

  if (kind === 'file') return pullFileRemote({ ...common, srcPath: fileUrlPath(url) });
  const fo = httpOptions(repo, remote, opts);
  const metalink = kind === 'metalink' ? await (await import('./metalink.js')).resolveMetalink(url.slice('metalink='.length), fo) : null;
  const base = metalink !== null ? metalink.baseUrl : url.replace(/\/+$/, '');
  const [meta, content] = await fetchersFor(base, remote.options.get('contenturl'), fo);
  try {
    const summarySource = metalink !== null ? async () => ({ summary: metalink.summary, sig: null }) : undefined;
    return await new HttpPullSession({ ...common, meta, content, ...(summarySource ? { summarySource } : {}) }).run();
  } finally {
    meta.close();
    if (content !== meta) content.close();
  }
}
