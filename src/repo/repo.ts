/**
 * An OSTree repository (compatible with upstream ostree 2022.7 on disk, see notes §8): the facade
 * other areas use. Each concern has its own module, which this class only wires to the open
 * repository:
 *
 *   layout.ts          every path under the repository
 *   config.ts          REPO/config          lock.ts       REPO/.lock
 *   store.ts           metadata objects     content.ts    content objects (modes/: per mode)
 *   refs.ts            refs and revisions   remotes.ts    remotes
 *   summary/           the summary file (regenerated after ref changes when configured)
 *   commit/            commitTree, writeCommit
 *   checkout/          checkout (hardlink and copy engines), paths inside commits
 *   objects/           the object formats
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { OstreeError } from '../errors.js';
import { KeyFile } from '../glib/keyfile.js';
import { Variant } from '../glib/gvariant.js';
import { modeToConfig, parseRepoMode, type RepoMode } from './modes/mode.js';
import { objectName, parseObjectName, type ObjectType } from './objects/common.js';
import { validateChecksum } from './objects/checksum.js';
import { commitContentChecksum, commitMetadataString, type CommitObject } from './objects/commit.js';
import { parseCommitMeta } from './objects/commitmeta.js';
import type { DirMeta } from './objects/dirmeta.js';
import type { DirTree } from './objects/dirtree.js';
import type { FileHeader } from './objects/file-header.js';
import { configPath, objectPath, tmpDir } from './layout.js';
import { readRepoConfig, writeKeyFile } from './config.js';
import { RepoLock } from './lock.js';
import * as store from './store.js';
import { commitClosure } from './traverse.js';
import { contentDataStream, readContentDataSync, readContentHeaderSync, type StoredContent } from './content.js';
import * as refs from './refs.js';
import { listRefs, type ListRefsOptions } from './refs-list.js';
import { addRemote, removeRemote } from './remotes.js';
import { maybeRegenerateSummary } from './summary/generate.js';
import { cleanStaleTmp } from './commit/tree.js';
import { commitSources, type CommitSource, type CommitStats, type ComposeOptions } from './commit/compose.js';
import { findKernelVersion, writeCommit, writeDetachedMetadata, type CommitProgress, type CommitTreeOptions } from './commit/commit.js';
import { checkout, lookupPath, type CheckoutOptions, type CommitPath } from './checkout/checkout.js';

export type { CommitSource, CommitStats, ComposeOptions };
export type { CheckoutOptions, CommitObject, CommitProgress, CommitTreeOptions, DirMeta, DirTree, FileHeader, ObjectType, RepoMode, StoredContent };
export { Variant, commitContentChecksum, commitMetadataString, findKernelVersion, objectName, parseObjectName, parseRepoMode };
export { parseRefspec, validateRefName, validateRemoteName } from './refs.js';

export class Repo implements store.RepoCore {
  readonly path: string;
  readonly mode: RepoMode;
  config: KeyFile;
  private readonly lock: RepoLock;
  private dirMetaCache = new Map<string, DirMeta>();

  private constructor(repoPath: string, mode: RepoMode, config: KeyFile) {
    this.path = repoPath;
    this.mode = mode;
    this.config = config;
    this.lock = new RepoLock(repoPath, config);
  }

  // -------------------------------------------------------------------------------------------
  // Creation, opening, config, lock

  /** `ostree init`: create the layout (fine if it already is a repo of this mode). */
  static async create(repoPath: string, mode: RepoMode): Promise<Repo> {
    const abs = path.resolve(repoPath);
    if (fs.existsSync(configPath(abs))) {
      const r = await Repo.open(abs);
      if (r.mode !== mode) throw new OstreeError('EEXIST', `'${abs}' is already a repository with mode ${r.mode}, not ${mode}`);
      return r;
    }
    await fsp.mkdir(abs, { recursive: true, mode: 0o755 });
    for (const d of ['objects', 'tmp', 'tmp/cache', 'extensions', 'state', 'refs', 'refs/heads', 'refs/mirrors', 'refs/remotes']) {
      await fsp.mkdir(path.join(abs, d), { recursive: true, mode: 0o755 });
    }
    const kf = new KeyFile();
    kf.set('core', 'repo_version', '1');
    kf.set('core', 'mode', modeToConfig(mode));
    const r = new Repo(abs, mode, kf);
    await r.saveConfig(); // written last: a directory with a config is a complete repo
    return r;
  }

  /** Open an existing repository. ENOENT if there is none, ECONFIG if its config is bad. */
  static async open(repoPath: string): Promise<Repo> {
    const abs = path.resolve(repoPath);
    const { config, mode } = readRepoConfig(abs);
    // As upstream's open: REPO/tmp is made again when missing (best effort: a read-only repo still opens).
    try { fs.mkdirSync(tmpDir(abs), { mode: 0o755 }); } catch { /* exists, or not writable */ }
    return new Repo(abs, mode, config);
  }

  /** Write the config atomically (tmp + rename). */
  async saveConfig(): Promise<void> {
    writeKeyFile(configPath(this.path), this.config, this.config.getBoolean('core', 'fsync', true));
  }

  /** `core.disable-xattrs=true`: neither record nor apply extended attributes. */
  get xattrsDisabled(): boolean { return this.config.getBoolean('core', 'disable-xattrs', false); }

  /** Run `fn` holding the repo lock (shared or exclusive); nested calls reuse the held lock. */
  withLock<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> { return this.lock.with(exclusive, fn); }

  // -------------------------------------------------------------------------------------------
  // Objects

  objectPath(checksum: string, type: ObjectType): string { return objectPath(this.path, checksum, type, this.mode); }
  async hasObject(checksum: string, type: ObjectType): Promise<boolean> { return store.hasObject(this, checksum, type); }
  hasObjectSync(checksum: string, type: ObjectType): boolean { return store.hasObject(this, checksum, type); }

  /** Raw bytes of a metadata object (bounded; a FIFO or device in its place is ECORRUPT). */
  async readObjectBytes(checksum: string, type: ObjectType): Promise<Buffer> { return store.readMetadataObject(this, checksum, type); }
  readObjectBytesSync(checksum: string, type: ObjectType): Buffer { return store.readMetadataObject(this, checksum, type); }

  /** Store a metadata object (bytes as serialized) and return its checksum. Crash-safe. */
  writeMetadataObjectSync(type: ObjectType, data: Buffer): string { return store.writeMetadataObject(this, type, data); }
  async writeMetadataObject(type: ObjectType, data: Buffer): Promise<string> { return store.writeMetadataObject(this, type, data); }

  loadCommitSync(checksum: string): CommitObject { return store.loadCommit(this, checksum); }
  async loadCommit(checksum: string): Promise<CommitObject> { return store.loadCommit(this, checksum); }

  /** Detached metadata (`.commitmeta`), or null when there is none. */
  async loadCommitMeta(checksum: string): Promise<Array<[string, Variant]> | null> {
    if (!store.hasObject(this, checksum, 'commitmeta')) return null;
    return parseCommitMeta(store.readMetadataObject(this, checksum, 'commitmeta'), `commitmeta ${checksum}`);
  }

  loadDirTreeSync(checksum: string): DirTree { return store.loadDirTree(this, checksum); }
  async loadDirTree(checksum: string): Promise<DirTree> { return store.loadDirTree(this, checksum); }

  loadDirMetaSync(checksum: string): DirMeta {
    let m = this.dirMetaCache.get(checksum);
    if (!m) {
      m = store.loadDirMeta(this, checksum);
      if (this.dirMetaCache.size < 10000) this.dirMetaCache.set(checksum, m);
    }
    return m;
  }

  async loadDirMeta(checksum: string): Promise<DirMeta> { return this.loadDirMetaSync(checksum); }

  /** Header and location of a stored content object. ENOENT if missing. */
  readFileHeaderSync(checksum: string): StoredContent {
    validateChecksum(checksum, 'file checksum');
    return readContentHeaderSync(this.path, this.mode, checksum);
  }

  /** A content object's header, uncompressed size and a stream of its data (empty for symlinks;
   *  bounded by the size the header declares). */
  async openFileContent(checksum: string): Promise<{ header: FileHeader; size: number; stream: Readable }> {
    const c = this.readFileHeaderSync(checksum);
    return { header: c.header, size: c.size, stream: contentDataStream(c) };
  }

  /** Whole data of a content object (for small files; bounded). */
  readFileContentSync(checksum: string): { header: FileHeader; data: Buffer } {
    const c = this.readFileHeaderSync(checksum);
    return { header: c.header, data: readContentDataSync(c) };
  }

  /**
   * Every object reachable from a commit, as `checksum.type` names: the commit, its trees,
   * dirmetas and files, plus `depth` levels of parents (-1: all; missing parents end the walk).
   * The walk is traverse.ts's commitClosure.
   */
  async traverseCommit(checksum: string, options: { depth?: number } = {}): Promise<Set<string>> {
    return commitClosure(this, checksum, options.depth ?? 0);
  }

  /** All loose objects in the repository as `checksum.type` names. */
  async listObjects(): Promise<Set<string>> { return store.listObjects(this); }

  // -------------------------------------------------------------------------------------------
  // Refs and remotes (refs.ts, remotes.ts)

  /** Resolve a checksum, partial checksum, ref, `remote:ref` or `REV^`. ENOENT if unknown. */
  async resolveRev(rev: string): Promise<string> {
    const r = refs.resolveRev(this, rev);
    if (r === null) throw new OstreeError('ENOENT', `Refspec '${rev}' not found`);
    return r;
  }

  async resolveRevOptional(rev: string, options: refs.ResolveOptions = {}): Promise<string | null> { return refs.resolveRev(this, rev, options); }
  resolveRevSync(rev: string): string | null { return refs.resolveRev(this, rev); }

  /** Create/update (checksum) or delete (null; no-op if absent) a ref; `remote:ref` writes refs/remotes. */
  setRef(refspec: string, checksum: string | null): Promise<void> { return refs.setRef(this, refspec, checksum); }

  /** After a ref changed (refs.ts calls this): `core.auto-update-summary` regenerates the summary. */
  async refsChanged(): Promise<void> { await maybeRegenerateSummary(this); }

  /** refspec → checksum for local refs (`name`) and remote refs (`remote:name`) at or below
   *  `prefix`, sorted (`sorted: false`: directory enumeration order, as upstream inserts them). */
  async listRefs(prefix?: string, options: ListRefsOptions = {}): Promise<Map<string, string>> { return listRefs(this, prefix, options); }
  /** `ostree reset`: point the existing ref `refspec` at `rev`. */
  resetRef(refspec: string, rev: string): Promise<void> { return refs.resetRef(this, refspec, rev); }


  /** Add `[remote "NAME"]` with url and options (remotes.ts addRemote). */
  addRemote(name: string, url: string, options: Record<string, string> = {}, ifNotExists = false): Promise<void> {
    return addRemote(this, name, url, options, { ifNotExists });
  }

  removeRemote(name: string, ifExists = false): Promise<void> { return removeRemote(this, name, { ifExists }); }

  // -------------------------------------------------------------------------------------------
  // Commit (commit/)

  /** Commit the directory tree `dir` and return the commit checksum (updating `branch`). */
  async commitTree(dir: string, options: CommitTreeOptions = {}): Promise<string> {
    if (options.branch !== undefined) refs.parseRefspec(options.branch);
    return this.withLock(false, async () => (await commitSources(this, [{ kind: 'dir', path: dir }], options)).checksum);
  }

  /** `ostree commit`: lay `sources` over one tree in order and commit it (see commit/compose.ts). */
  async commit(sources: CommitSource[], options: ComposeOptions = {}): Promise<{ checksum: string; stats: CommitStats }> {
    if (options.branch !== undefined) refs.parseRefspec(options.branch);
    return this.withLock(false, () => commitSources(this, sources, options));
  }

  /** Write a commit object for an already stored root (dirtree + dirmeta) and update the branch
   *  (`commit --tree=ref=REV`). `kernelVersion` is required with `bootable`. */
  async writeCommit(rootTree: string, rootMeta: string, options: CommitTreeOptions = {}, kernelVersion?: string): Promise<string> {
    if (options.branch !== undefined) refs.parseRefspec(options.branch);
    return this.withLock(false, () => writeCommit(this, rootTree, rootMeta, options, kernelVersion));
  }

  /** Replace (or with null remove) a commit's detached metadata (`.commitmeta`), crash-safely. */
  writeCommitDetachedMetadataSync(checksum: string, metadata: Array<[string, Variant]> | null): void {
    writeDetachedMetadata(this, checksum, metadata);
  }

  /** Remove temporary files left in REPO/tmp by our processes that died (crash, SIGKILL). */
  cleanStaleTmp(): void { cleanStaleTmp(this.path); }

  /** Flush the repo's filesystem, as upstream does at the end of a transaction (unless core.fsync=false). */
  syncRepo(): void { store.syncRepo(this); }

  // -------------------------------------------------------------------------------------------
  // Checkout and paths inside commits (checkout/)

  /** Check out `commit` (any rev) into `destination` (must not exist unless `union`). */
  checkout(commit: string, destination: string, opts: CheckoutOptions = {}): Promise<void> { return checkout(this, commit, destination, opts); }

  /** Find a path in a commit: a directory (tree+meta) or a file (checksum). ENOENT if absent. */
  lookupPathSync(commitChecksum: string, p: string): CommitPath { return lookupPath(this, commitChecksum, p); }
}
