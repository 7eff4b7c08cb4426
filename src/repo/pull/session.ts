/**
 * One HTTP pull, in upstream's phases: (1) the summary (refs and mode; else the remote's config
 * for its mode), (2) the target commits, (3) under the repository lock, commits, then their
 * trees and content, fetched as they are discovered (scheduler.ts), each verified (verify.ts)
 * and stored (import.ts), and (4) once everything is in and synced: partial marks cleared,
 * then refs written. Downloads are staged in a directory under REPO/tmp that is removed at
 * the end (and by the next pull, if this one was killed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isErrno } from '../../errors.js';
import { parseCommit, type CommitObject } from '../objects/commit.js';
import { parseDirMeta } from '../objects/dirmeta.js';
import { parseDirTree, type DirTree } from '../objects/dirtree.js';
import { type ObjectType } from '../objects/common.js';
import {
  clearCommitPartial, isCommitPartial, markCommitPartial, objectRelPath,
  stateDir, tmpDir, tmpName,
} from '../layout.js';
import type { Repo } from '../repo.js';
import { objectPresence, writeMetadataObject } from '../store.js';
import type { ContentImportContext } from './import.js';
import { fetchContentObject, type ContentFetchContext } from './content-fetch.js';
import { StoreThread } from './store-thread.js';
import { LocalCache } from './local-cache.js';
import { PULL_METADATA_MAX_SIZE, REMOTE_CONFIG_MAX_SIZE } from './limits.js';
import type { PullResult } from './options.js';
import { PullStats, TaskGroup } from './scheduler.js';
import { SpaceBudget } from './space.js';
import { installSummary } from '../summary/local.js';
import { isCollectionId, remoteCollectionId, setCollectionRef } from '../collections.js';
import { fetchSummaryFiles, httpSummarySource } from './summary.js';
import { resolveRemoteState, type RemoteState, type SummaryLoader } from './remote-targets.js';
import { SubpathFilter, type TreeScope } from './subpath.js';
import { checkBinding, type PullRequestBase, type Wanted } from './targets.js';
import type { HttpFetcher } from './transport.js';
import { normalizeDetachedMetadata, verifyMetadata } from './verify.js';
import { runDeltaPhase, type DeltaPhaseResult } from './delta-phase.js';
import type { DeltaSource } from './delta.js';
import { trace } from './trace.js';

/** Everything an HTTP pull needs, decided by the caller from the remote and the options. */
export interface HttpPullRequest extends PullRequestBase {
  /** Summary, refs, config and detached metadata come from `meta`; objects from `content` (contenturl). */
  meta: HttpFetcher;
  content: HttpFetcher;
  /** Where the summary comes from (default: `summary` and `summary.sig` on `meta`, through the
   *  cache and the verifier; a metalink's verified copy). */
  summarySource?: SummaryLoader;
}

/** Remove staging left by pulls that were killed (their process is gone). */
function cleanStaleStaging(repo: Repo): void {
  const dir = tmpDir(repo.path);
  let names: string[] = [];
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const n of names) {
    const m = /^(?:fetch|pull)-(\d+)-/.exec(n); // our staging dirs and import tmp files
    if (!m) continue;
    let alive = true;
    try { process.kill(Number(m[1]), 0); } catch (e) { alive = !isErrno(e, 'ESRCH'); }
    if (!alive) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  }
}

/** Content objects requested before a second thread takes over storing them (store-thread.ts):
 *  below this a pull is over before the thread would have paid for its start-up (measured: a
 *  300-object update is no faster with it, and 15 MB larger). */
const STORE_THREAD_AFTER = 1000;

export class HttpPullSession {
  private readonly repo: Repo;
  private readonly stats: PullStats;
  private readonly result: PullResult = { kind: 'http', metadataObjects: 0, contentObjects: 0, bytesTransferred: 0, contentBytes: 0, seconds: 0, refs: new Map(), commits: [] };
  private remote: RemoteState = { summaryData: null, summarySig: null, summary: null, targets: [] };
  private cache!: LocalCache;
  private readonly subpaths: SubpathFilter;
  // Phase 3 state, set up under the lock.
  private stage = '';
  private ctx!: ContentImportContext;
  private budget!: SpaceBudget;
  private readonly seen = new Set<string>();
  /** hasObject with the parent chain read once (store.ts objectPresence), set up under the lock. */
  private has: (checksum: string, type: ObjectType) => boolean = () => false;
  /** Dirtrees found and not yet scanned (see scanDirTree), and whether a loop is draining it. */
  private readonly treeQueue: Array<{ checksum: string; scope: TreeScope; old: string | null }> = [];
  private draining = false;
  private readonly toComplete: string[] = [];
  private readonly group = new TaskGroup();
  private contentStore!: ContentFetchContext;
  /** Content objects found and not yet taken by a runner (see fetchFile). */
  private readonly contentQueue: string[] = [];
  private contentRunners = 0;
  private storeThread: StoreThread | null = null;

  constructor(private readonly r: HttpPullRequest) {
    this.repo = r.repo;
    this.stats = new PullStats([r.meta, r.content], r.opts.progress);
    this.subpaths = new SubpathFilter(r.opts.subpaths);
  }

  /** The remote's summary and summary.sig, through the summary cache and the signature checks. */
  private summaryLoader(): SummaryLoader {
    const { meta, remoteName, opts, summaryVerifier } = this.r;
    const cache = { repo: this.repo, ...(opts.cacheDir !== undefined ? { cache: opts.cacheDir } : {}) };
    return () => fetchSummaryFiles(remoteName, httpSummarySource(meta), { cache, ...(summaryVerifier ? { verify: summaryVerifier } : {}) });
  }

  async run(): Promise<PullResult> {
    const { meta, remoteName, requests, allRefs } = this.r;
    trace('session');
    this.remote = await resolveRemoteState(meta, remoteName, requests, allRefs, this.r.summarySource ?? this.summaryLoader());
    trace('summary and targets');
    this.cache = await LocalCache.open(this.r.opts.localCacheRepos);
    await this.repo.withLock(false, async () => {
      trace('locked');
      this.openStage();
      trace('staging open');
      try {
        const deltas = await this.deltaPhase();
        if (deltas.dryRun !== null) { this.result.deltaUpdate = deltas.dryRun; return; }
        this.result.deltas = deltas.applied;
        this.result.deltaParts = deltas.partsFetched;
        trace('delta phase');
        for (const t of this.remote.targets) if (!deltas.skip.has(t.commit)) this.scanCommit(t.commit, 0, t);
        await this.group.wait();
        trace(`objects: ${this.stats.metaRequested} metadata, ${this.stats.contentRequested} content requested`);
        await this.complete();
        trace('refs written');
      } finally {
        await this.storeThread?.close();
        this.closeStage();
        trace('staging closed');
      }
    });
    trace('unlocked');
    const res = this.result;
    res.metadataObjects = this.stats.metaFetched;
    res.contentObjects = this.stats.contentFetched;
    res.contentBytes = this.stats.contentBytes;
    res.localMetadataObjects = this.stats.metaLocal;
    res.localContentObjects = this.stats.contentLocal;
    res.bytesTransferred = this.stats.bytesTransferred();
    res.seconds = (Date.now() - this.stats.start) / 1000;
    this.stats.report(true);
    return res;
  }

  // -------------------------------------------------------------------------------------------
  // Phase 3: staging, and the objects as they are discovered

  private openStage(): void {
    fs.mkdirSync(tmpDir(this.repo.path), { recursive: true });
    fs.mkdirSync(stateDir(this.repo.path), { recursive: true });
    cleanStaleStaging(this.repo);
    this.stage = tmpName(this.repo.path, 'fetch');
    fs.mkdirSync(path.join(this.stage, 'objects'), { recursive: true });
    this.ctx = {
      srcPath: this.stage, srcMode: 'archive', destPath: this.repo.path, destMode: this.repo.mode, untrusted: true,
      bareUserOnlyFiles: this.r.opts.bareUserOnlyFiles === true,
    };
    this.budget = new SpaceBudget(this.repo);
    this.has = objectPresence(this.repo);
    this.contentStore = { stage: this.stage, ctx: this.ctx, httpTrusted: this.r.opts.httpTrusted === true };
  }

  /** The per-prefix directories are empty by now: rmdir each (much cheaper than a recursive rm). */
  private closeStage(): void {
    const objs = path.join(this.stage, 'objects');
    try {
      for (const sub of fs.readdirSync(objs)) fs.rmdirSync(path.join(objs, sub));
      fs.rmdirSync(objs);
      fs.rmdirSync(this.stage);
    } catch {
      fs.rmSync(this.stage, { recursive: true, force: true });
    }
  }

  /** Fetch a metadata object and verify it (null: optional and absent). */
  private async fetchMeta(checksum: string, type: ObjectType, optional: boolean): Promise<Buffer | null> {
    const st = this.stats;
    if (type !== 'commitmeta') {
      const cached = this.cache.metadata(checksum, type);
      if (cached !== null) { st.metaLocal++; return cached; }
    }
    st.metaRequested++; st.outstandingMeta++; st.report();
    try {
      if (this.group.error !== null) throw this.group.error;
      const rel = objectRelPath(checksum, type, 'archive');
      // As upstream, only detached metadata comes from the remote's url; every other object
      // from its contenturl (the same fetcher when there is none).
      const from = type === 'commitmeta' ? this.r.meta : this.r.content;
      const data = await from.get(rel, { optional, maxSize: PULL_METADATA_MAX_SIZE, what: `object ${checksum}.${type}` });
      if (data !== null) verifyMetadata(data, checksum, type, () => from.url(rel));
      st.metaFetched++;
      return data !== null && type === 'commitmeta' ? normalizeDetachedMetadata(data) : data;
    } finally { st.outstandingMeta--; st.report(); }
  }

  private firstSight(checksum: string, type: string): boolean {
    const k = `${checksum}.${type}`;
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }

  private scanDirMeta(checksum: string): void {
    if (!this.firstSight(checksum, 'dirmeta') || this.has(checksum, 'dirmeta')) return;
    this.group.spawn(async () => {
      const data = (await this.fetchMeta(checksum, 'dirmeta', false))!;
      parseDirMeta(data, `dirmeta ${checksum}`);
      writeMetadataObject(this.repo, 'dirmeta', data, checksum); // verified by fetchMeta: not hashed again
    });
  }

  /**
   * Scan a dirtree: fetch what it names that is missing. This walk is not traverse.ts's: its
   * steps are asynchronous (a dirtree is scanned when its download completes, many at once),
   * so it is a queue, not a stack. Each object is scanned once (`seen`), which also ends a
   * dirtree that names itself; a dirtree already in the repository is read without an await,
   * so trees are drained from `treeQueue` in a loop rather than by recursion (a 10,000-level
   * local tree costs no call stack).
   */
  private scanDirTree(checksum: string, scope: TreeScope, old: string | null): void {
    // the same tree as in a complete commit here: everything it names is here
    if (checksum === old) return;
    // A partly wanted tree (--subpath) is scanned once per place it is met at.
    if (!this.firstSight(checksum, scope.full ? 'dirtree' : `dirtree@${scope.path}`)) return;
    this.treeQueue.push({ checksum, scope, old });
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.treeQueue.length > 0) { const q = this.treeQueue.pop()!; this.scanQueuedTree(q.checksum, q.scope, q.old); }
    } finally { this.draining = false; }
  }

  private scanQueuedTree(checksum: string, scope: TreeScope, old: string | null): void {
    if (this.has(checksum, 'dirtree')) {
      this.scanTreeEntries(parseDirTree(this.repo.readObjectBytesSync(checksum, 'dirtree'), `${checksum}.dirtree`), scope, old);
      return;
    }
    this.group.spawn(async () => {
      const data = (await this.fetchMeta(checksum, 'dirtree', false))!;
      const dt = parseDirTree(data, `${checksum}.dirtree`); // structure check before it is stored
      writeMetadataObject(this.repo, 'dirtree', data, checksum); // verified by fetchMeta
      this.scanTreeEntries(dt, scope, old);
    });
  }

  /**
   * Fetch what a dirtree names that is missing. `old` is the dirtree at the same path in a
   * complete commit here (see completeBase): what it also names is here already, so an
   * update checks only the files and subtrees that changed, not every object of the commit.
   */
  private scanTreeEntries(dt: DirTree, scope: TreeScope, old: string | null): void {
    const before = this.readCompleteTree(old);
    const oldFiles = before === null ? null : new Set(before.files.map((f) => f.checksum));
    const oldDirs = before === null ? null : new Map(before.dirs.map((d) => [d.name, d]));
    for (const f of dt.files) if (oldFiles?.has(f.checksum) !== true && this.subpaths.file(scope, f.name)) this.fetchFile(f.checksum);
    for (const d of dt.dirs) {
      const sub = this.subpaths.dir(scope, d.name);
      if (sub === null) continue;
      const was = oldDirs?.get(d.name);
      this.scanDirTree(d.treeChecksum, sub, was?.treeChecksum ?? null);
      if (was?.metaChecksum !== d.metaChecksum) this.scanDirMeta(d.metaChecksum);
    }
  }

  /** A dirtree of a complete commit (null when there is none, or it cannot be read after all:
   *  then the new tree is scanned in full). */
  private readCompleteTree(checksum: string | null): DirTree | null {
    if (checksum === null) return null;
    try { return parseDirTree(this.repo.readObjectBytesSync(checksum, 'dirtree'), `${checksum}.dirtree`); } catch { return null; }
  }

  private writeDetached(checksum: string, detached: Buffer): void {
    const tmp = tmpName(this.repo.path, 'pull');
    try {
      fs.writeFileSync(tmp, detached, { mode: 0o644, flag: 'wx' });
      fs.renameSync(tmp, this.repo.objectPath(checksum, 'commitmeta'));
    } catch (e) { fs.rmSync(tmp, { force: true }); throw e; }
  }

  private storedDetached(checksum: string): Buffer | null {
    return this.repo.hasObjectSync(checksum, 'commitmeta') ? this.repo.readObjectBytesSync(checksum, 'commitmeta') : null;
  }

  private checkTarget(w: Wanted | null, checksum: string, c: CommitObject): void {
    if (!w) return;
    if (!this.r.opts.disableVerifyBindings) checkBinding(c, checksum, w.ref, remoteCollectionId(this.repo, this.r.remoteName));
    this.r.check(w, checksum, c);
  }

  /**
   * A commit already here (its detached metadata refreshed: new signatures may have appeared),
   * or fetched, checked and stored marked partial. Null when it is absent on the server and may
   * be (a history that ends there).
   */
  private async obtainCommit(checksum: string, level: number, w: Wanted | null): Promise<{ c: CommitObject; partial: boolean } | null> {
    const detached = await this.fetchMeta(checksum, 'commitmeta', true);
    const verifier = this.r.verifier;
    if (this.repo.hasObjectSync(checksum, 'commit')) {
      // signatures are checked as they now are on the server (or, without any there, as stored)
      if (verifier) await verifier.verify(checksum, this.repo.readObjectBytesSync(checksum, 'commit'), detached ?? this.storedDetached(checksum));
      if (detached !== null) this.writeDetached(checksum, detached);
      const c = this.repo.loadCommitSync(checksum);
      this.checkTarget(w, checksum, c);
      return { c, partial: isCommitPartial(this.repo.path, checksum) };
    }
    const data = await this.fetchMeta(checksum, 'commit', level > 0 && this.r.depth !== 0);
    if (data === null) return null;
    const c = parseCommit(data, `commit ${checksum}`);
    this.checkTarget(w, checksum, c);
    if (verifier) await verifier.verify(checksum, data, detached);
    // Marked before the commit is stored: a commit object without its tree is never mistaken
    // for a complete one.
    markCommitPartial(this.repo.path, checksum);
    writeMetadataObject(this.repo, 'commit', data, checksum); // verified by fetchMeta
    if (detached !== null) this.writeDetached(checksum, detached);
    return { c, partial: true };
  }

  private scanCommit(checksum: string, level: number, w: Wanted | null): void {
    // Also ends a parent chain that loops: each commit is scanned once per pull, and each step
    // awaits a fetch, so a long history costs no call stack.
    if (!this.firstSight(checksum, 'commit')) return;
    this.group.spawn(async () => {
      const got = await this.obtainCommit(checksum, level, w);
      if (got === null) return; // history ends on the server (dangling parent)
      const { c, partial } = got;
      trace(`commit ${checksum} in`);
      this.result.commits.push(checksum);
      if (partial && !this.r.opts.commitMetadataOnly) {
        if (this.subpaths.everything) this.toComplete.push(checksum); // a subpath pull leaves it partial
        this.scanDirTree(c.rootTree, this.subpaths.root(), this.completeBase(c, w));
        this.scanDirMeta(c.rootMeta);
      }
      const depth = this.r.depth;
      if (c.parent !== null && (depth === -1 || level < depth)) this.scanCommit(c.parent, level + 1, null);
    });
  }

  /**
   * The root dirtree of a complete commit here to compare the new commit's tree with: its
   * parent, else what the pulled ref points at now. A commit here without a partial mark is
   * complete, with every object its trees name (the invariant upstream's pull relies on when it
   * skips a complete commit), so the subtrees and files the two share need no checking.
   */
  private completeBase(c: CommitObject, w: Wanted | null): string | null {
    const candidates = [c.parent];
    if (w !== null && w.ref !== null) {
      try { candidates.push(this.repo.resolveRevSync(this.r.refSpec(w.ref))); } catch { /* no usable ref here: the parent only */ }
    }
    for (const base of candidates) {
      if (base === null || !this.repo.hasObjectSync(base, 'commit') || isCommitPartial(this.repo.path, base)) continue;
      try { return this.repo.loadCommitSync(base).rootTree; } catch { /* unreadable: try the next */ }
    }
    return null;
  }

  /**
   * Queue a content object. A few runners (four per connection: enough to keep every
   * connection busy while earlier bodies are being stored) take objects from the queue, so a
   * 30k-file commit holds 30k checksums, not 30k suspended fetches, and the bodies held at once
   * stay bounded.
   */
  private fetchFile(checksum: string): void {
    if (!this.firstSight(checksum, 'file') || this.has(checksum, 'file')) return; // lstat: bare symlink objects may dangle
    this.contentQueue.push(checksum);
    if (this.contentRunners < this.r.content.concurrency * 4) {
      this.contentRunners++;
      this.group.spawn(() => this.drainContent());
    }
  }

  private async drainContent(): Promise<void> {
    try {
      while (this.contentQueue.length > 0 && this.group.error === null) await this.fetchContent(this.contentQueue.pop()!);
    } finally { this.contentRunners--; }
  }

  private async fetchContent(checksum: string): Promise<void> {
    const st = this.stats;
    const local = this.cache.empty ? null : await this.cache.content(checksum, this.ctx);
    if (local !== null) { st.contentLocal++; st.contentBytes += local; return; }
    st.contentRequested++; st.outstandingContent++; st.report();
    if (st.contentRequested === (this.r.opts.storeThreadAfter ?? STORE_THREAD_AFTER) && this.storeThread === null) {
      this.storeThread = new StoreThread(this.ctx);
      this.contentStore.storeThread = this.storeThread;
    }
    try {
      const n = await fetchContentObject(this.r.content, this.contentStore, this.budget, checksum);
      if (n > 0) st.contentBytes += n;
      st.contentFetched++;
    } finally { st.outstandingContent--; st.report(); }
  }

  /** Static deltas first (pull/delta-phase.ts); their files are fetched as metadata. */
  private deltaPhase(): Promise<DeltaPhaseResult> {
    const { opts, meta } = this.r;
    const st = this.stats;
    const source: DeltaSource = {
      fetch: async (rel, maxSize, what) => {
        // counted as upstream counts them: a 404 is a fetch that found nothing; parts apart
        const part = what === 'static delta part';
        if (!part) { st.metaRequested++; st.outstandingMeta++; }
        try { const b = await meta.get(rel, { optional: true, maxSize, what }); if (!part) st.metaFetched++; return b; } finally { if (!part) st.outstandingMeta--; }
      },
    };
    return runDeltaPhase({
      repo: this.repo, source, summary: this.remote.summaryData,
      remoteConfig: () => meta.get('config', { optional: true, maxSize: REMOTE_CONFIG_MAX_SIZE, what: 'repository config' }),
      targets: this.remote.targets, refSpec: (ref) => this.r.refSpec(ref),
      disable: opts.disableStaticDeltas === true, require: opts.requireStaticDeltas === true, dryRun: opts.dryRun === true,
      commitMetadataOnly: opts.commitMetadataOnly === true,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Phase 4: durable, then complete, then refs

  private async complete(): Promise<void> {
    const { repo } = this;
    if (!this.r.opts.disableFsync) repo.syncRepo();
    trace('synced');
    for (const c of this.toComplete) clearCommitPartial(repo.path, c);
    for (const t of this.remote.targets) {
      if (t.ref === null) continue;
      const summaryCollection = this.remote.summary?.collectionId;
      const mirrorCollection = this.r.opts.mirror && summaryCollection !== undefined && isCollectionId(summaryCollection) ? summaryCollection : undefined;
      if (mirrorCollection !== undefined) {
        // a mirror of a remote whose summary names its collection keeps its refs as that
        // collection's (refs/mirrors/COLLECTION/REF), as upstream
        await setCollectionRef(repo, { collectionId: mirrorCollection, ref: t.ref }, t.commit);
        this.result.refs.set(`${mirrorCollection}:${t.ref}`, t.commit);
        continue;
      }
      const spec = this.r.refSpec(t.ref);
      await repo.setRef(spec, t.commit);
      this.result.refs.set(spec, t.commit);
    }
    // a mirror of every ref also serves the remote's summary and its signatures
    if (this.r.allRefs && this.remote.summaryData !== null) installSummary(repo, this.remote.summaryData, this.remote.summarySig);
  }
}
