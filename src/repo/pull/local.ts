/**
 * `ostree pull-local`: copy the closure of commits from another local repository, any mode to
 * any mode. Metadata is read bounded and verified (source.ts), then the commits are walked
 * iteratively (a tree of any depth, a history of any length, cycles stopped by the seen set);
 * content objects of the same representation are hardlinked, others converted and verified
 * (import.ts), in worker threads when there are many. Each commit is marked
 * `state/C.commitpartial` until all its objects are in, the repository is synced, and refs are
 * set last.
 *
 * Also the public entry module for pull-local: what other areas import from here stays here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { formatSize } from '../../util/format-size.js';
import { parseCommit, type CommitObject } from '../objects/commit.js';
import { parseCommitMeta } from '../objects/commitmeta.js';
import { parseDirTree } from '../objects/dirtree.js';
import { sha256hex } from '../objects/checksum.js';
import { type ObjectType } from '../objects/common.js';
import { Repo, parseRefspec } from '../repo.js';
import { clearCommitPartial, isCommitPartial, markCommitPartial, stateDir, tmpDir, tmpName } from '../layout.js';
import { formatPullStatus } from './options.js';
import { readMetadataObject, readMetadataObjectIfPresent, writeMetadataObject } from '../store.js';
import { importContent } from './local-content.js';
import { ChainGuard, walkDirTrees } from '../traverse.js';
import { SubpathFilter, type TreeScope } from './subpath.js';
import { checkBinding, type Wanted } from './targets.js';
import type { CommitVerifier } from './verify.js';
import { fetchSummaryFiles, fileSummarySource, type SummaryVerifier } from './summary.js';
import { pullLocalDeltas } from './delta-local.js';
import { repoCollectionId, setCollectionRef } from '../collections.js';

export { formatSize, formatPullStatus };

export interface PullLocalOptions {
  /** Refs (or commit checksums) to pull; default: every local ref of the source. */
  refs?: string[];
  /** Write the refs as `REMOTE:ref` (refs/remotes/REMOTE/...). */
  remote?: string;
  /** Parent commits to follow: 0 (default) only the named commits, -1 all. */
  depth?: number;
  /** Re-checksum objects even when they are hardlinked/copied as is. */
  untrusted?: boolean;
  /** Only the commit objects (and detached metadata), not their trees. */
  commitMetadataOnly?: boolean;
  /** Don't check that each pulled ref is listed in the commit's `ostree.ref-binding`. */
  disableVerifyBindings?: boolean;
  /** Write the pulled refs as collection–refs of this collection (a mirror pull from a source
   *  whose summary names its collection: refs/mirrors/COLLECTION, or refs/heads for our own). */
  mirrorCollectionId?: string;
  /** Skip the final syncfs. */
  disableFsync?: boolean;
  /** Reject regular files with mode bits outside 0775 (`--bareuseronly-files`). */
  bareUserOnlyFiles?: boolean;
  /** Worker threads for content conversion (default min(4, CPUs)); 0 or 1: in-process. */
  workers?: number;
  /** Signatures the named commits must carry (`--gpg-verify --remote`, a signed file:// remote). */
  verifier?: CommitVerifier | null;
  /** Checks the source's summary against its summary.sig (`--gpg-verify-summary --remote`). */
  summaryVerifier?: SummaryVerifier | null;
  /** Go through the source's static deltas (an error when there is none), as a remote pull. */
  requireStaticDeltas?: boolean;
  /** Only these paths of each commit's tree (`pull --subpath` from a file:// remote); the
   *  commits stay partial. */
  subpaths?: string[];
}

export interface PullLocalResult {
  metadataObjects: number;
  contentObjects: number;
  /** Uncompressed bytes of converted/copied regular files (hardlinked ones count 0, as upstream). */
  contentBytes: number;
  /** refspec written in the destination -> commit. */
  refs: Map<string, string>;
  commits: string[];
}

async function openSource(srcPath: string, dest: Repo): Promise<Repo> {
  let src: Repo;
  try {
    src = await Repo.open(srcPath);
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'ENOENT') {
      throw new OstreeError('ENOENT', `opening source repository: '${path.resolve(srcPath)}' is not an OSTree repository (no config file)`, { path: srcPath });
    }
    throw e;
  }
  if (src.path === dest.path) throw new OstreeError('EINVAL', `source and destination are the same repository '${src.path}'`);
  return src;
}

/** A source commit, read bounded; ENOENT names the source repository. */
function loadSourceCommit(src: Repo, checksum: string): CommitObject {
  let data: Buffer;
  try {
    data = readMetadataObject(src, checksum, 'commit');
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'ENOENT') throw new OstreeError('ENOENT', `Object missing: ${checksum}.commit (in ${src.path})`);
    throw e;
  }
  return parseCommit(data, `commit ${checksum}`);
}

/** What to pull: [destination ref | null, commit]; by default every local ref of the source. */
async function resolveWanted(src: Repo, refs: string[] | undefined): Promise<Wanted[]> {
  const wanted: Wanted[] = [];
  if (refs && refs.length > 0) {
    for (const r of refs) {
      if (/^[0-9a-f]{64}$/.test(r)) { wanted.push({ ref: null, commit: r }); continue; }
      const [remote, name] = parseRefspec(r);
      if (remote !== null) throw new OstreeError('EINVAL', `Invalid ref name ${r}`);
      const c = await src.resolveRevOptional(name);
      if (c === null) throw new OstreeError('ENOENT', `Refspec '${r}' not found in ${src.path}`);
      wanted.push({ ref: name, commit: c });
    }
    return wanted;
  }
  for (const [spec, c] of await src.listRefs()) {
    // As upstream: every ref of the source is a ref to pull, and a remote's ref is not one.
    if (spec.includes(':')) throw new OstreeError('EINVAL', `Invalid ref name ${spec} (the source repository has remote refs: name the refs to pull)`);
    wanted.push({ ref: spec, commit: c });
  }
  return wanted;
}

/** Copies the metadata closure of commits from the source (verified) into the destination. */
class MetadataCopier {
  readonly seen = new Set<string>();
  /** Content objects referenced by the trees copied. */
  readonly files = new Set<string>();
  /** Commits marked partial here, to clear once everything is in. */
  readonly partials: string[] = [];
  readonly commits: string[] = [];
  copied = 0;

  private readonly subpaths: SubpathFilter;

  constructor(private readonly src: Repo, private readonly dest: Repo, private readonly options: PullLocalOptions) {
    this.subpaths = new SubpathFilter(options.subpaths);
  }

  /** Copy one metadata object: re-hashed with --untrusted, else taken under its name as upstream
   *  does for a local source (it is still parsed before anything reads it). */
  private copy(checksum: string, type: ObjectType): Buffer {
    const data = readMetadataObject(this.src, checksum, type);
    if (this.options.untrusted) {
      const actual = sha256hex(data);
      if (actual !== checksum) throw new OstreeError('ECORRUPT', `Corrupted ${type} object; checksum expected='${checksum}' actual='${actual}' (in ${this.src.path})`);
    }
    if (!this.dest.hasObjectSync(checksum, type)) {
      // Metadata objects are the same bytes in every mode: hardlink when the filesystem allows (as upstream).
      if (!this.linkMetadata(checksum, type)) writeMetadataObject(this.dest, type, data, checksum);
      this.copied++;
    }
    return data;
  }

  private linkMetadata(checksum: string, type: ObjectType): boolean {
    const final = this.dest.objectPath(checksum, type);
    try {
      fs.mkdirSync(path.dirname(final), { recursive: true, mode: 0o755 });
      fs.linkSync(this.src.objectPath(checksum, type), final);
      return true;
    } catch {
      return false;
    }
  }

  private copyDirMeta(checksum: string): void {
    const k = `${checksum}.dirmeta`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.copy(checksum, 'dirmeta');
  }

  /**
   * The trees and dirmetas under a root, through traverse.ts's walkDirTrees (iterative; a
   * dirtree containing itself is CorruptGraphError). Each dirtree is copied and verified before
   * its subdirectories are entered; shared subtrees are entered once (the seen set).
   */
  private walkTree(rootTree: string, rootMeta: string): void {
    this.copyDirMeta(rootMeta);
    walkDirTrees(rootTree, {
      tree: (t) => {
        const k = `${t}.dirtree`;
        if (this.seen.has(k)) return null;
        this.seen.add(k);
        const dt = parseDirTree(this.copy(t, 'dirtree'), `${t}.dirtree`);
        for (const f of dt.files) this.files.add(f.checksum);
        return dt;
      },
      dirmeta: (m) => { this.copyDirMeta(m); },
    });
  }

  /**
   * `--subpath`: the directories on the way to each subpath are copied for that one entry (a
   * finite walk: each step goes one path component down), the subpaths themselves whole.
   */
  private walkSubpaths(rootTree: string, rootMeta: string): void {
    this.copyDirMeta(rootMeta);
    const stack: Array<{ tree: string; meta: string; scope: TreeScope }> = [{ tree: rootTree, meta: rootMeta, scope: this.subpaths.root() }];
    while (stack.length > 0) {
      const { tree, meta, scope } = stack.pop()!;
      if (scope.full) { this.walkTree(tree, meta); continue; }
      const dt = parseDirTree(this.copy(tree, 'dirtree'), `${tree}.dirtree`);
      for (const f of dt.files) if (this.subpaths.file(scope, f.name)) this.files.add(f.checksum);
      for (const d of dt.dirs) {
        const sub = this.subpaths.dir(scope, d.name);
        if (sub === null) continue;
        this.copyDirMeta(d.metaChecksum);
        stack.push({ tree: d.treeChecksum, meta: d.metaChecksum, scope: sub });
      }
    }
  }

  private copyDetached(checksum: string): void {
    const detached = readMetadataObjectIfPresent(this.src, checksum, 'commitmeta');
    if (detached === null) return;
    parseCommitMeta(detached, `detached metadata ${checksum}.commitmeta (in ${this.src.path})`);
    const tmp = tmpName(this.dest.path, 'pull');
    try {
      fs.writeFileSync(tmp, detached, { mode: 0o644, flag: 'wx' });
      fs.renameSync(tmp, this.dest.objectPath(checksum, 'commitmeta'));
    } catch (e) { fs.rmSync(tmp, { force: true }); throw e; }
  }

  /**
   * A commit and its parents up to `depth`; a history shared with a commit copied before ends
   * at the seen set, one that loops is CorruptGraphError (traverse.ts's ChainGuard).
   */
  copyHistory(start: string, depth: number): void {
    const chain = new ChainGuard();
    let cur: string | null = start;
    for (let level = 0; cur !== null; level++) {
      chain.step(cur);
      if (this.seen.has(`${cur}.commit`)) break;
      if (level > 0 && !this.src.hasObjectSync(cur, 'commit')) break; // history ends in the source
      this.seen.add(`${cur}.commit`);
      let parent: string | null;
      if (this.dest.hasObjectSync(cur, 'commit') && !isCommitPartial(this.dest.path, cur)) {
        parent = this.dest.loadCommitSync(cur).parent;
      } else {
        // Marked before anything is written; cleared once every object is in (never for
        // --commit-metadata-only, whose commits stay partial as upstream's do).
        markCommitPartial(this.dest.path, cur);
        const whole = !this.options.commitMetadataOnly && this.subpaths.everything;
        if (whole) this.partials.push(cur);
        const c = parseCommit(this.copy(cur, 'commit'), `commit ${cur}`);
        parent = c.parent;
        this.copyDetached(cur);
        if (whole) this.walkTree(c.rootTree, c.rootMeta);
        else if (!this.options.commitMetadataOnly) this.walkSubpaths(c.rootTree, c.rootMeta);
      }
      this.commits.push(cur);
      if (depth >= 0 && level >= depth) break;
      cur = parent;
    }
  }
}

/** Pull `options.refs` (default: all local refs) of the repository at `srcPath` into `dest`. */
export async function pullLocal(dest: Repo, srcPath: string, options: PullLocalOptions = {}): Promise<PullLocalResult> {
  const src = await openSource(srcPath, dest);
  if (options.remote !== undefined) parseRefspec(`${options.remote}:x`);
  if (options.summaryVerifier) {
    await fetchSummaryFiles(options.remote ?? src.path, fileSummarySource(options.remote ?? src.path, src.path), { cache: null, verify: options.summaryVerifier });
  }
  const wanted = await resolveWanted(src, options.refs);
  // Bindings: each pulled commit must be bound to its ref (when it has a ref binding) and to
  // the source's collection (when it has one), as upstream checks a local source.
  const collectionId = repoCollectionId(src);
  for (const w of wanted) {
    const c = loadSourceCommit(src, w.commit);
    if (options.verifier) {
      await options.verifier.verify(w.commit, readMetadataObject(src, w.commit, 'commit'), readMetadataObjectIfPresent(src, w.commit, 'commitmeta'));
    }
    if (!options.disableVerifyBindings) checkBinding(c, w.commit, w.ref, collectionId);
  }

  const result: PullLocalResult = { metadataObjects: 0, contentObjects: 0, contentBytes: 0, refs: new Map(), commits: [] };
  await dest.withLock(false, async () => {
    fs.mkdirSync(tmpDir(dest.path), { recursive: true });
    fs.mkdirSync(stateDir(dest.path), { recursive: true });
    if (options.requireStaticDeltas) await pullLocalDeltas(dest, src.path, wanted, options.remote);
    const meta = new MetadataCopier(src, dest, options);
    for (const w of wanted) meta.copyHistory(w.commit, options.depth ?? 0);
    result.metadataObjects = meta.copied;
    result.commits = meta.commits;
    const content = await importContent(src, dest, meta.files, options);
    result.contentObjects += content.written;
    result.contentBytes += content.bytes;

    // Durable, then complete, then refs.
    if (!options.disableFsync) dest.syncRepo();
    for (const c of meta.partials) clearCommitPartial(dest.path, c);
    for (const w of wanted) {
      if (w.ref === null) continue;
      if (options.mirrorCollectionId !== undefined) {
        await setCollectionRef(dest, { collectionId: options.mirrorCollectionId, ref: w.ref }, w.commit);
        result.refs.set(`${options.mirrorCollectionId}:${w.ref}`, w.commit);
        continue;
      }
      const spec = options.remote !== undefined ? `${options.remote}:${w.ref}` : w.ref;
      await dest.setRef(spec, w.commit);
      result.refs.set(spec, w.commit);
    }
  });
  return result;
}
