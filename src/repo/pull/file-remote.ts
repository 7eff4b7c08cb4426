/**
 * A pull from a `file://` remote: the remote's refs resolved in its repository, the target
 * commits checked (timestamps) before anything is imported, then the import done by pull-local,
 * with refs written as a remote's (`REMOTE:REF`, or `REF` when mirroring).
 */
import { OstreeError } from '../../errors.js';
import { parseCommit } from '../objects/commit.js';
import { isCollectionId } from '../collections.js';
import { summaryPath } from '../layout.js';
import { SUMMARY_MAX_SIZE } from '../summary/limits.js';
import { readFileBounded } from '../../util/fs.js';
import { parseSummary } from './summary.js';
import { Repo } from '../repo.js';
import { pullLocal, type PullLocalOptions } from './local.js';
import type { PullResult } from './options.js';
import { installSummary } from '../summary/local.js';
import { fileSummaryFiles } from './summary.js';
import { readMetadataObjectIfPresent } from '../store.js';
import type { PullRequestBase, Wanted } from './targets.js';
import { fetchSummaryFiles, fileSummarySource } from './summary.js';
import { runDeltaPhase } from './delta-phase.js';
import { localSource, localSummary } from './delta-local.js';

export interface FilePullRequest extends PullRequestBase {
  srcPath: string;
}

async function openRemoteRepo(remoteName: string, srcPath: string): Promise<Repo> {
  try { return await Repo.open(srcPath); } catch (e) {
    throw new OstreeError('ENOENT', `Remote "${remoteName}": ${srcPath} is not an OSTree repository: ${(e as Error).message}`, { cause: e });
  }
}

/** Where a mirror pull writes refs: as collection–refs when the source's summary names its
 *  collection (upstream reads a file:// remote's summary too), else as local refs. */
function mirrorCollection(remoteName: string, src: Repo): { mirrorCollectionId?: string } {
  const data = readFileBounded(summaryPath(src.path), SUMMARY_MAX_SIZE, { what: `summary of remote "${remoteName}"`, follow: false, advice: 'remove it or regenerate it with ostree summary -u' });
  const id = data === null ? undefined : parseSummary(data, summaryPath(src.path)).collectionId;
  return id !== undefined && isCollectionId(id) ? { mirrorCollectionId: id } : {};
}

/** The target commits; those present in the source are checked before anything is imported. */
async function resolveTargets(src: Repo, r: FilePullRequest): Promise<Wanted[]> {
  if (r.allRefs) {
    for (const spec of (await src.listRefs()).keys()) if (!spec.includes(':')) r.requests.push({ ref: spec });
  }
  const targets: Wanted[] = [];
  for (const w of r.requests) {
    const commit = w.override ?? await src.resolveRevOptional(w.ref!);
    if (commit === null) throw new OstreeError('ENOENT', `Remote "${r.remoteName}" (${r.srcPath}) has no ref '${w.ref}'`);
    const data = readMetadataObjectIfPresent(src, commit, 'commit');
    if (data !== null) r.check(w, commit, parseCommit(data, `commit ${commit}`));
    targets.push({ ref: w.ref, commit });
  }
  return targets;
}

/** A mirror of every ref also serves the source's summary and its signatures, as upstream. */
function mirrorSummary(repo: Repo, r: FilePullRequest): void {
  const src = fileSummaryFiles(r.remoteName, r.srcPath);
  if (src.summary !== null) installSummary(repo, src.summary, src.sig);
}

export async function pullFileRemote(r: FilePullRequest): Promise<PullResult> {
  const start = Date.now();
  const { repo, opts } = r;
  const src = await openRemoteRepo(r.remoteName, r.srcPath);
  if (r.summaryVerifier) await fetchSummaryFiles(r.remoteName, fileSummarySource(r.remoteName, r.srcPath), { cache: null, verify: r.summaryVerifier });
  const targets = await resolveTargets(src, r);
  // file:// remotes are imported like pull-local, except when deltas are required (upstream
  // then reads them as it would over HTTP)
  if (opts.requireStaticDeltas || opts.dryRun) {
    const phase = await repo.withLock(false, () => runDeltaPhase({
      repo, source: localSource(r.srcPath), summary: localSummary(r.srcPath), targets, refSpec: r.refSpec,
      disable: opts.disableStaticDeltas === true, require: opts.requireStaticDeltas === true, dryRun: opts.dryRun === true,
      commitMetadataOnly: opts.commitMetadataOnly === true,
    }));
    if (phase.dryRun !== null) return { kind: 'local', metadataObjects: 0, contentObjects: 0, bytesTransferred: 0, contentBytes: 0, seconds: 0, refs: new Map(), commits: [], deltaUpdate: phase.dryRun };
  }
  const overridden = (i: number): boolean => r.requests[i]!.override !== undefined;
  // Refs named without an override are pulled by name (pull-local writes them); the others by
  // commit, their refs written here.
  const byName = targets.filter((t, i) => t.ref !== null && !overridden(i)).map((t) => t.ref!);
  const byCommit = targets.filter((t, i) => t.ref === null || overridden(i)).map((t) => t.commit);
  const result: PullResult = { kind: 'local', metadataObjects: 0, contentObjects: 0, bytesTransferred: 0, contentBytes: 0, seconds: 0, refs: new Map(), commits: [] };
  const common: PullLocalOptions = {
    depth: r.depth, ...(opts.mirror ? mirrorCollection(r.remoteName, src) : { remote: r.remoteName }),
    ...(opts.commitMetadataOnly ? { commitMetadataOnly: true } : {}),
    ...(opts.disableFsync ? { disableFsync: true } : {}),
    ...(opts.disableVerifyBindings ? { disableVerifyBindings: true } : {}),
    ...(opts.untrusted ? { untrusted: true } : {}),
    verifier: r.verifier,
    ...(opts.subpaths !== undefined ? { subpaths: opts.subpaths } : {}),
    ...(opts.bareUserOnlyFiles ? { bareUserOnlyFiles: true } : {}),
  };
  for (const list of [byName, byCommit]) {
    if (list.length === 0) continue;
    const res = await pullLocal(repo, r.srcPath, { ...common, refs: list });
    result.metadataObjects += res.metadataObjects;
    result.contentObjects += res.contentObjects;
    result.contentBytes += res.contentBytes;
    for (const [k, v] of res.refs) result.refs.set(k, v);
    result.commits.push(...res.commits);
  }
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t.ref !== null && overridden(i)) {
      await repo.setRef(r.refSpec(t.ref), t.commit);
      result.refs.set(r.refSpec(t.ref), t.commit);
    }
  }
  if (r.allRefs) mirrorSummary(repo, r);
  result.seconds = (Date.now() - start) / 1000;
  const n = result.metadataObjects + result.contentObjects;
  opts.progress?.({ scanning: false, outstandingFetches: 0, metadataFetched: result.metadataObjects, contentFetched: result.contentObjects, fetched: n, requested: n, bytesTransferred: 0, elapsedMs: Date.now() - start, done: true });
  return result;
}
