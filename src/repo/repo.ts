/**
 * An OSTree repository: layout, config, refs, object storage, commit and checkout.
 * Compatible with upstream ostree 2022.7 on disk (see notes §8).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import { Worker } from 'node:worker_threads';
import { pipeline } from 'node:stream/promises';
import * as libc from '../native/libc.js';
import { OstreeError, isErrno } from '../errors.js';
import { modeFromConfig, parseRepoMode } from './modes/mode.js';
import { KeyFile } from '../glib/keyfile.js';
import { Variant } from '../glib/gvariant.js';
import { glibDictOrder } from '../glib/ghash-order.js';
import { NeedCopyFallback, copiedRatherThanLinked, hardlinkCheckout, hardlinkCheckoutPossible, removePartialTree } from './checkout/hardlink.js';
import {
  S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, isSymlinkMode, objectExtension,
  parseCommit, parseCommitMeta, parseDirMeta, parseDirTree, serializeCommit, serializeCommitMeta, serializeDirMeta,
  serializeDirTree, sha256hex, sortXattrs, validateChecksum, commitMetadataString,
  type CommitObject, type DirMeta, type DirTree, type FileHeader, type ObjectType,
} from './objects.js';
import {
  contentDataStream, forgetStagingDirs, linkIntoPlace, loosePath, readContentDataSync, readContentHeaderSync,
  tmpName, writeContentSync, type ContentWriteContext, type RepoMode, type SourceStat, type StoredContent,
} from './content.js';

export type { RepoMode, CommitObject, DirMeta, DirTree, FileHeader, ObjectType, StoredContent };
export { commitMetadataString, Variant };

export interface CheckoutOptions {
  /** `-U`: don't chown, don't set xattrs, strip setuid/setgid. */
  userMode?: boolean;
  /** `-H`: require hardlinks (fail instead of copying). */
  hardlink?: boolean;
  /** Always copy, never hardlink (as for /etc in deployments). */
  forceCopy?: boolean;
  /** Check out only this path of the commit ('/usr/etc'). */
  subpath?: string;
  /** Allow an existing destination and overwrite files in it. */
  union?: boolean;
  /** Allow an existing destination; keep files that already exist (`--union-add`). */
  unionAdd?: boolean;
  /** Overlayfs passthrough whiteouts: `.ostree-wh.NAME` becomes a 0:0 char device NAME. */
  whiteouts?: boolean;
  /** Docker-style whiteouts (CLI `--whiteouts`): `.wh.NAME` deletes NAME. */
  dockerWhiteouts?: boolean;
}

export interface CommitTreeOptions {
  branch?: string;
  subject?: string;
  body?: string;
  /** Commit metadata, kept in this order (upstream keeps insertion order). */
  metadata?: Array<[string, Variant]>;
  /** Seconds since the epoch; default now. */
  timestamp?: bigint;
  /** undefined: the branch's current commit; null: no parent (orphan). */
  parent?: string | null;
  noXattrs?: boolean;
  ownerUid?: number;
  ownerGid?: number;
  /** Add `ostree.ref-binding` = [branch] (default true when a branch is given; `--no-bindings`). */
  bindings?: boolean;
  /** `--bootable`: add ostree.linux (kernel version found in the tree) and ostree.bootable, via a
   *  GVariantDict as upstream (which reorders the keys in GHashTable order). */
  bootable?: boolean;
  /** `--canonical-permissions`: uid/gid 0, permissions masked with 0755, no xattrs. */
  canonicalPermissions?: boolean;
  /** Detached metadata (`.commitmeta`, not part of the checksum), e.g. `--add-detached-metadata-string`. */
  detachedMetadata?: Array<[string, Variant]>;
  /** `--skip-if-unchanged`: if the tree equals the parent's, write nothing and return the parent. */
  skipIfUnchanged?: boolean;
  /** Number of worker threads for content writes (default: min(4, CPUs)). */
  workers?: number;
  /** Called as files are found and stored (for a terminal progress line); cheap to call often. */
  progress?: (p: CommitProgress) => void;
}

export interface CommitProgress {
  /** Regular files and symlinks found so far by the walk. */
  filesScanned: number;
  /** Of those, how many are stored as content objects. */
  filesWritten: number;
  /** True once the whole tree has been walked (filesScanned is then the total). */
  walkDone: boolean;
}

const REF_COMPONENT = /^[\w\d][-._\w\d]*$/;

/** Upstream's ostree_validate_rev rule. */
export function validateRefName(ref: string): void {
  if (ref === '' || !ref.split('/').every((c) => REF_COMPONENT.test(c))) {
    throw new OstreeError('EINVAL', `invalid ref name '${ref}' (components must match [A-Za-z0-9_][-._A-Za-z0-9_]*, separated by '/')`);
  }
}

export function validateRemoteName(name: string): void {
  if (!REF_COMPONENT.test(name)) throw new OstreeError('EINVAL', `invalid remote name '${name}'`);
}

/** Split `remote:ref` into [remote | null, ref]. */
export function parseRefspec(refspec: string): [string | null, string] {
  const i = refspec.indexOf(':');
  if (i < 0) { validateRefName(refspec); return [null, refspec]; }
  const remote = refspec.slice(0, i);
  const ref = refspec.slice(i + 1);
  validateRemoteName(remote);
  validateRefName(ref);
  return [remote, ref];
}

/** `checksum.type`, upstream's object name string. */
export function objectName(checksum: string, type: ObjectType): string {
  return `${checksum}.${type}`;
}

export function parseObjectName(name: string): { checksum: string; type: ObjectType } {
  const i = name.indexOf('.');
  return { checksum: name.slice(0, i), type: name.slice(i + 1) as ObjectType };
}

export { parseRepoMode };

/** Write a new file (mode 0644) and, unless fsync is disabled, fdatasync it before it is renamed
 *  into place (upstream's GLNX_FILE_REPLACE_DATASYNC_NEW for refs and config). */
async function writeFileDurable(p: string, data: string, sync: boolean): Promise<void> {
  const fh = await fsp.open(p, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    if (sync) await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Archive objects up to this size are inflated in memory during checkout; larger ones stream. */
const INFLATE_INLINE_MAX = 8 * 1024 * 1024;

interface CheckoutJob {
  deferred: Array<() => Promise<void>>;
  finalizers: Array<() => void>;
}

interface DirNode {
  meta: DirMeta;
  files: Array<{ name: string; path: string; st: SourceStat; checksum?: string }>;
  dirs: Array<{ name: string; node: DirNode }>;
}

/** Kernel version of a tree (usr/lib/modules/KVER/vmlinuz, else boot/vmlinuz-KVER), as upstream --bootable. */
export function findKernelVersion(root: string): string {
  const mods = path.join(root, 'usr/lib/modules');
  let names: string[] = [];
  try { names = fs.readdirSync(mods).sort(); } catch { /* none */ }
  for (const k of names) if (fs.existsSync(path.join(mods, k, 'vmlinuz'))) return k;
  let boot: string[] = [];
  try { boot = fs.readdirSync(path.join(root, 'boot')).sort(); } catch { /* none */ }
  for (const b of boot) if (b.startsWith('vmlinuz-')) return b.slice('vmlinuz-'.length);
  throw new OstreeError('EINVAL', `--bootable: no kernel found in '${root}' (expected usr/lib/modules/KVER/vmlinuz or boot/vmlinuz-KVER)`);
}

type WorkerReply = { id: number; checksums?: string[]; error?: { message: string; code?: string; name?: string } };

/**
 * Content writers for commitTree: batches of files are written by worker threads (round robin)
 * as soon as the walk produces them. Small commits (one batch or less, or one worker) are
 * written in the calling thread instead.
 */
class ContentWriterPool {
  static readonly BATCH = 32;
  private workers: Worker[] = [];
  private pending: Array<Promise<void>> = [];
  private inline: DirNode['files'][] = [];
  private next = 0;
  private ids = 0;
  private failure: unknown = null;
  private callbacks = new Map<number, (m: WorkerReply) => void>();

  constructor(
    private readonly ctx: ContentWriteContext,
    private readonly nWorkers: number,
    /** Told how many more files are stored, after each batch. */
    private readonly onWritten: (n: number) => void = () => {},
  ) {}

  submit(batch: DirNode['files']): void {
    if (batch.length === 0) return;
    if (this.nWorkers <= 1 || (this.workers.length === 0 && batch.length < ContentWriterPool.BATCH)) {
      this.inline.push(batch);
      return;
    }
    if (this.workers.length === 0) this.start();
    const w = this.workers[this.next++ % this.workers.length]!;
    const id = this.ids++;
    const reply = new Promise<WorkerReply>((res) => this.callbacks.set(id, res));
    w.postMessage({ id, items: batch.map((f) => ({ path: f.path, ...f.st })) });
    this.pending.push(reply.then((m) => {
      if (m.error) {
        const e = m.error.name === 'OstreeError'
          ? new OstreeError((m.error.code ?? 'EIO') as never, m.error.message)
          : Object.assign(new Error(m.error.message), { code: m.error.code });
        this.failure ??= e;
        return;
      }
      m.checksums!.forEach((c, i) => { batch[i]!.checksum = c; });
      this.onWritten(batch.length);
    }));
  }

  private start(): void {
    const url = new URL('./commit/worker.js', import.meta.url);
    for (let i = 0; i < this.nWorkers; i++) {
      const w = new Worker(url, { workerData: { ctx: this.ctx } });
      w.on('message', (m: WorkerReply) => { const cb = this.callbacks.get(m.id); this.callbacks.delete(m.id); cb?.(m); });
      const fail = (e: unknown): void => {
        this.failure ??= e;
        for (const [id, cb] of this.callbacks) { this.callbacks.delete(id); cb({ id, error: { message: String((e as Error)?.message ?? e), name: 'Error' } }); }
      };
      w.once('error', fail);
      w.once('exit', (code) => { if (this.callbacks.size > 0) fail(new OstreeError('EIO', `commit worker exited unexpectedly (code ${code})`)); });
      this.workers.push(w);
    }
  }

  /** Wait for every submitted batch; throws the first writer error. */
  async finish(): Promise<void> {
    try {
      for (const b of this.inline) {
        for (const f of b) {
          const r = writeContentSync(this.ctx, f.path, f.st);
          f.checksum = typeof r === 'string' ? r : await r;
        }
        this.onWritten(b.length);
      }
      await Promise.all(this.pending);
      if (this.failure !== null) throw this.failure;
    } finally {
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

export class Repo {
  readonly path: string;
  readonly mode: RepoMode;
  config: KeyFile;
  private lockFd: number | null = null;
  private lockLevel: 0 | 1 | 2 = 0;
  private lockDepth = 0;
  private dirMetaCache = new Map<string, DirMeta>();

  private constructor(repoPath: string, mode: RepoMode, config: KeyFile) {
    this.path = repoPath;
    this.mode = mode;
    this.config = config;
  }

  // -------------------------------------------------------------------------------------------
  // Creation and opening

  /** `ostree init`: create the layout (fine if it already is a repo of this mode). */
  static async create(repoPath: string, mode: RepoMode): Promise<Repo> {
    const abs = path.resolve(repoPath);
    if (fs.existsSync(path.join(abs, 'config'))) {
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
    kf.set('core', 'mode', mode === 'archive' ? 'archive-z2' : mode);
    const r = new Repo(abs, mode, kf);
    await r.saveConfig(); // written last: a directory with a config is a complete repo
    return r;
  }

  /** Open an existing repository. ENOENT if there is none, ECONFIG if its config is bad. */
  static async open(repoPath: string): Promise<Repo> {
    const abs = path.resolve(repoPath);
    const cfgPath = path.join(abs, 'config');
    let text: string;
    try {
      text = await fsp.readFile(cfgPath, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) {
        throw new OstreeError('ENOENT', `no repository at '${abs}' (missing ${cfgPath}; create one with 'ostree init')`, { path: abs });
      }
      throw new OstreeError('ECONFIG', `cannot read repository config '${cfgPath}': ${(e as Error).message}`, { path: cfgPath, cause: e });
    }
    const kf = KeyFile.parse(text, cfgPath);
    const version = kf.get('core', 'repo_version');
    if (version !== '1') throw new OstreeError('ECONFIG', `${cfgPath}: unsupported core.repo_version '${version ?? ''}' (expected 1)`);
    return new Repo(abs, modeFromConfig(kf.get('core', 'mode'), cfgPath), kf);
  }

  /** Write the config atomically (tmp + rename). */
  async saveConfig(): Promise<void> {
    const p = path.join(this.path, 'config');
    const tmp = `${p}.tmp-${process.pid}`;
    await fsp.rm(tmp, { force: true });
    await writeFileDurable(tmp, this.config.toString(), this.config.getBoolean('core', 'fsync', true));
    await fsp.rename(tmp, p);
  }

  private get archive(): boolean { return this.mode === 'archive'; }
  /** `core.disable-xattrs=true`: neither record nor apply extended attributes. */
  get xattrsDisabled(): boolean { return this.config.getBoolean('core', 'disable-xattrs', false); }

  // -------------------------------------------------------------------------------------------
  // Locking: REPO/.lock, flock shared for writers, exclusive for prune.

  /** Run `fn` holding the repo lock (shared or exclusive); nested calls reuse the held lock. */
  async withLock<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    const want = exclusive ? 2 : 1;
    if (!this.config.getBoolean('core', 'locking', true) || (this.lockDepth > 0 && this.lockLevel >= want)) {
      this.lockDepth++;
      try { return await fn(); } finally { this.lockDepth--; }
    }
    if (this.lockDepth > 0) throw new OstreeError('ESTATE', 'cannot upgrade a shared repository lock to exclusive');
    // An OFD lock as upstream (libglnx) takes it, so ours and upstream's writers and prunes
    // exclude each other; flock only where OFD locks are unsupported.
    const fd = fs.openSync(path.join(this.path, '.lock'), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o640);
    const timeout = Number(this.config.get('core', 'lock-timeout-secs') ?? '300') * 1000;
    const start = Date.now();
    try {
      for (;;) {
        try {
          libc.lockFd(fd, { exclusive, wait: false });
          break;
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code !== 'EWOULDBLOCK' && code !== 'EAGAIN') throw e;
          if (Date.now() - start >= timeout) {
            throw new OstreeError('EBUSY', `repository '${this.path}' is locked by another process (waited ${timeout / 1000}s)`);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    this.lockFd = fd;
    this.lockLevel = want;
    this.lockDepth = 1;
    try {
      return await fn();
    } finally {
      this.lockDepth = 0;
      this.lockLevel = 0;
      this.lockFd = null;
      fs.closeSync(fd); // closing the file description releases the lock
    }
  }

  // -------------------------------------------------------------------------------------------
  // Objects

  /** Path of a loose object. */
  objectPath(checksum: string, type: ObjectType): string {
    return loosePath(this.path, checksum, objectExtension(type, this.archive));
  }

  async hasObject(checksum: string, type: ObjectType): Promise<boolean> {
    try {
      await fsp.lstat(this.objectPath(checksum, type));
      return true;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return false;
      throw e;
    }
  }

  hasObjectSync(checksum: string, type: ObjectType): boolean {
    try { fs.lstatSync(this.objectPath(checksum, type)); return true; } catch (e) { if (isErrno(e, 'ENOENT')) return false; throw e; }
  }

  /** Raw bytes of a metadata object (commit, dirtree, dirmeta, commitmeta, tombstone). */
  async readObjectBytes(checksum: string, type: ObjectType): Promise<Buffer> {
    return this.readObjectBytesSync(checksum, type);
  }

  readObjectBytesSync(checksum: string, type: ObjectType): Buffer {
    if (type === 'file') throw new OstreeError('EINVAL', 'readObjectBytes is for metadata objects; use openFileContent for files');
    try {
      return fs.readFileSync(this.objectPath(checksum, type));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `object ${checksum}.${type} not found in repository ${this.path}`);
      throw e;
    }
  }

  /** Store a metadata object (bytes as serialized) and return its checksum. Crash-safe. */
  writeMetadataObjectSync(type: ObjectType, data: Buffer): string {
    const checksum = sha256hex(data);
    const final = this.objectPath(checksum, type);
    if (fs.existsSync(final)) return checksum;
    const tmp = tmpName(this.path, 'meta');
    fs.writeFileSync(tmp, data, { mode: 0o644, flag: 'wx' });
    linkIntoPlace(tmp, final);
    return checksum;
  }

  async writeMetadataObject(type: ObjectType, data: Buffer): Promise<string> {
    return this.writeMetadataObjectSync(type, data);
  }

  loadCommitSync(checksum: string): CommitObject {
    validateChecksum(checksum, 'commit checksum');
    return parseCommit(this.readObjectBytesSync(checksum, 'commit'), `commit ${checksum}`);
  }

  async loadCommit(checksum: string): Promise<CommitObject> {
    return this.loadCommitSync(checksum);
  }

  /** Detached metadata (`.commitmeta`), or null when there is none. */
  async loadCommitMeta(checksum: string): Promise<Array<[string, Variant]> | null> {
    if (!(await this.hasObject(checksum, 'commitmeta'))) return null;
    return parseCommitMeta(this.readObjectBytesSync(checksum, 'commitmeta'), `commitmeta ${checksum}`);
  }

  loadDirTreeSync(checksum: string): DirTree {
    return parseDirTree(this.readObjectBytesSync(checksum, 'dirtree'), `dirtree ${checksum}`);
  }

  async loadDirTree(checksum: string): Promise<DirTree> { return this.loadDirTreeSync(checksum); }

  loadDirMetaSync(checksum: string): DirMeta {
    let m = this.dirMetaCache.get(checksum);
    if (!m) {
      m = parseDirMeta(this.readObjectBytesSync(checksum, 'dirmeta'), `dirmeta ${checksum}`);
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

  /** A content object's header, uncompressed size and a stream of its data (empty for symlinks). */
  async openFileContent(checksum: string): Promise<{ header: FileHeader; size: number; stream: NodeJS.ReadableStream }> {
    const c = this.readFileHeaderSync(checksum);
    return { header: c.header, size: c.size, stream: contentDataStream(c) };
  }

  /** Whole data of a content object (for small files). */
  readFileContentSync(checksum: string): { header: FileHeader; data: Buffer } {
    const c = this.readFileHeaderSync(checksum);
    return { header: c.header, data: readContentDataSync(c) };
  }

  /**
   * Every object reachable from a commit, as `checksum.type` names: the commit, its trees,
   * dirmetas and files, plus `depth` levels of parents (-1: all; missing parents end the walk).
   */
  async traverseCommit(checksum: string, options: { depth?: number } = {}): Promise<Set<string>> {
    const out = new Set<string>();
    this.traverseCommitInto(checksum, options.depth ?? 0, out);
    return out;
  }

  traverseCommitInto(checksum: string, depth: number, out: Set<string>): void {
    let cur: string | null = checksum;
    let level = 0;
    while (cur) {
      const name = objectName(cur, 'commit');
      if (out.has(name)) break;
      if (level > 0 && !this.hasObjectSync(cur, 'commit')) break;
      const c = this.loadCommitSync(cur);
      out.add(name);
      out.add(objectName(c.rootMeta, 'dirmeta'));
      this.traverseTree(c.rootTree, out);
      if (depth >= 0 && level >= depth) break;
      cur = c.parent;
      level++;
    }
  }

  private traverseTree(tree: string, out: Set<string>): void {
    const name = objectName(tree, 'dirtree');
    if (out.has(name)) return;
    out.add(name);
    const t = this.loadDirTreeSync(tree);
    for (const f of t.files) out.add(objectName(f.checksum, 'file'));
    for (const d of t.dirs) {
      out.add(objectName(d.metaChecksum, 'dirmeta'));
      this.traverseTree(d.treeChecksum, out);
    }
  }

  /** All loose objects in the repository as `checksum.type` names. */
  async listObjects(): Promise<Set<string>> {
    const out = new Set<string>();
    const extToType: Record<string, ObjectType> = {
      file: 'file', filez: 'file', dirtree: 'dirtree', dirmeta: 'dirmeta', commit: 'commit',
      commitmeta: 'commitmeta', 'commit-tombstone': 'tombstone-commit',
    };
    const objdir = path.join(this.path, 'objects');
    for (const sub of await fsp.readdir(objdir)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const f of await fsp.readdir(path.join(objdir, sub))) {
        const dot = f.indexOf('.');
        if (dot !== 62) continue;
        const type = extToType[f.slice(dot + 1)];
        if (!type) continue;
        if (f.slice(dot + 1) === 'file' && this.archive) continue;
        if (f.slice(dot + 1) === 'filez' && !this.archive) continue;
        out.add(objectName(sub + f.slice(0, dot), type));
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Refs

  private refPath(remote: string | null, ref: string): string {
    return remote === null ? path.join(this.path, 'refs', 'heads', ref) : path.join(this.path, 'refs', 'remotes', remote, ref);
  }

  private readRefFile(p: string): string | null {
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR') || isErrno(e, 'EISDIR')) return null;
      throw e;
    }
    const csum = text.trim();
    if (!/^[0-9a-f]{64}$/.test(csum)) throw new OstreeError('ECORRUPT', `ref file '${p}' does not contain a checksum`);
    return csum;
  }

  /** Resolve a checksum, partial checksum, ref, `remote:ref` or `REV^`. ENOENT if unknown. */
  async resolveRev(rev: string): Promise<string> {
    const r = await this.resolveRevOptional(rev);
    if (r === null) throw new OstreeError('ENOENT', `Refspec '${rev}' not found`);
    return r;
  }

  async resolveRevOptional(rev: string): Promise<string | null> {
    return this.resolveRevSync(rev);
  }

  resolveRevSync(rev: string): string | null {
    if (rev === '') throw new OstreeError('EINVAL', 'empty revision');
    if (/^[0-9a-f]{64}$/.test(rev)) return rev;
    if (rev.endsWith('^')) {
      const base = this.resolveRevSync(rev.slice(0, -1));
      if (base === null) return null;
      const c = this.loadCommitSync(base);
      if (c.parent === null) throw new OstreeError('ENOENT', `Commit ${base} has no parent`);
      return c.parent;
    }
    if (/^[0-9a-f]{1,63}$/.test(rev)) {
      const found = this.commitsWithPrefix(rev);
      if (found.length > 1) throw new OstreeError('EINVAL', `Refspec ${rev} matches multiple objects`);
      if (found.length === 1) return found[0]!;
    }
    const [remote, ref] = parseRefspec(rev);
    if (remote !== null) return this.readRefFile(this.refPath(remote, ref));
    return this.readRefFile(this.refPath(null, ref)) ??
      this.readRefFile(path.join(this.path, 'refs', 'remotes', ref));
  }

  private commitsWithPrefix(prefix: string): string[] {
    const out: string[] = [];
    const objdir = path.join(this.path, 'objects');
    let subs: string[];
    try { subs = fs.readdirSync(objdir); } catch { return out; }
    for (const sub of subs) {
      if (!sub.startsWith(prefix.slice(0, 2))) continue;
      let names: string[];
      try { names = fs.readdirSync(path.join(objdir, sub)); } catch { continue; }
      for (const n of names) {
        if (!n.endsWith('.commit')) continue;
        const full = sub + n.slice(0, -'.commit'.length);
        if (full.startsWith(prefix)) out.push(full);
      }
    }
    return out;
  }

  /** Create/update (checksum) or delete (null; no-op if absent) a ref; `remote:ref` writes refs/remotes. */
  async setRef(refspec: string, checksum: string | null): Promise<void> {
    const [remote, ref] = parseRefspec(refspec);
    const p = this.refPath(remote, ref);
    if (checksum === null) {
      // Deleting a missing ref is not an error (as upstream's ref writer).
      try { await fsp.unlink(p); } catch (e) { if (!isErrno(e, 'ENOENT') && !isErrno(e, 'ENOTDIR')) throw e; }
      return;
    }
    validateChecksum(checksum, 'commit checksum');
    try {
      await fsp.mkdir(path.dirname(p), { recursive: true, mode: 0o755 });
    } catch (e) {
      if (isErrno(e, 'ENOTDIR') || isErrno(e, 'EEXIST')) throw new OstreeError('EEXIST', `cannot create ref '${refspec}': a ref is a prefix of it`);
      throw e;
    }
    const st = await fsp.lstat(p).catch(() => null);
    if (st?.isDirectory()) throw new OstreeError('EEXIST', `cannot create ref '${refspec}': refs exist below it`);
    const tmp = tmpName(this.path, 'ref');
    await writeFileDurable(tmp, checksum + '\n', this.config.getBoolean('core', 'fsync', true));
    await fsp.rename(tmp, p);
  }

  /** refspec → checksum for local refs (`name`) and remote refs (`remote:name`), sorted
   *  (`sorted: false`: directory enumeration order, as upstream inserts them). */
  async listRefs(prefix?: string, options: { sorted?: boolean } = {}): Promise<Map<string, string>> {
    const all: Array<[string, string]> = [];
    const walk = (dir: string, rel: string, toSpec: (r: string) => string): void => {
      // opendir keeps the filesystem's enumeration order (readdirSync sorts), like upstream.
      const ents: fs.Dirent[] = [];
      let dh: fs.Dir;
      try { dh = fs.opendirSync(dir); } catch { return; }
      try { for (let e = dh.readSync(); e !== null; e = dh.readSync()) ents.push(e); } finally { dh.closeSync(); }
      for (const e of ents) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(path.join(dir, e.name), r, toSpec);
        else if (e.isFile()) {
          const c = this.readRefFile(path.join(dir, e.name));
          if (c) all.push([toSpec(r), c]);
        }
      }
    };
    walk(path.join(this.path, 'refs', 'heads'), '', (r) => r);
    const remotesDir = path.join(this.path, 'refs', 'remotes');
    let remotes: string[] = [];
    try { remotes = fs.readdirSync(remotesDir); } catch { /* none */ }
    for (const rm of remotes) walk(path.join(remotesDir, rm), '', (r) => `${rm}:${r}`);
    if (options.sorted !== false) all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const out = new Map<string, string>();
    for (const [k, v] of all) {
      if (prefix === undefined || prefix === '' || k === prefix || k.startsWith(prefix.endsWith('/') || prefix.endsWith(':') ? prefix : prefix + '/')) out.set(k, v);
    }
    return out;
  }

  /** Add `[remote "NAME"]` with url (and options like gpg-verify=false). */
  async addRemote(name: string, url: string, options: Record<string, string> = {}, ifNotExists = false): Promise<void> {
    validateRemoteName(name);
    const group = `remote "${name}"`;
    if (this.config.hasGroup(group)) {
      if (ifNotExists) return;
      throw new OstreeError('EEXIST', `remote '${name}' already exists`);
    }
    this.config.set(group, 'url', url);
    for (const [k, v] of Object.entries(options)) this.config.set(group, k, v);
    await this.saveConfig();
  }

  async removeRemote(name: string, ifExists = false): Promise<void> {
    const group = `remote "${name}"`;
    if (!this.config.hasGroup(group)) {
      if (ifExists) return;
      throw new OstreeError('ENOENT', `remote '${name}' not found`);
    }
    this.config.removeGroup(group);
    await this.saveConfig();
  }

  // -------------------------------------------------------------------------------------------
  // Commit

  /** Commit the directory tree `dir` and return the commit checksum (updating `branch`). */
  async commitTree(dir: string, options: CommitTreeOptions = {}): Promise<string> {
    if (options.branch !== undefined) parseRefspec(options.branch);
    return this.withLock(false, async () => {
      const ctx: ContentWriteContext = {
        repoPath: this.path, mode: this.mode,
        noXattrs: options.noXattrs === true || this.config.getBoolean('core', 'disable-xattrs', false),
        canonicalPermissions: options.canonicalPermissions === true,
      };
      if (options.ownerUid !== undefined) ctx.ownerUid = options.ownerUid;
      if (options.ownerGid !== undefined) ctx.ownerGid = options.ownerGid;
      const rootSt = fs.lstatSync(dir);
      if (!rootSt.isDirectory()) throw new OstreeError('EINVAL', `'${dir}' is not a directory`);
      fs.mkdirSync(path.join(this.path, 'tmp'), { recursive: true });
      this.cleanStaleTmp();

      // 1+2. Walk the tree; files go to the content writers in batches while the walk goes on.
      const nWorkers = options.workers ?? Math.min(4, Math.max(1, os.availableParallelism()));
      const progress: CommitProgress = { filesScanned: 0, filesWritten: 0, walkDone: false };
      const report = options.progress;
      const pool = new ContentWriterPool(ctx, nWorkers, (n) => {
        progress.filesWritten += n;
        report?.(progress);
      });
      let batch: DirNode['files'] = [];
      const walk = (p: string, st: fs.Stats): DirNode => {
        const node: DirNode = { meta: this.dirMetaFor(ctx, p, st), files: [], dirs: [] };
        const names = fs.readdirSync(p);
        for (const name of names) {
          const cp = path.join(p, name);
          const cst = fs.lstatSync(cp);
          if (cst.isDirectory()) node.dirs.push({ name, node: walk(cp, cst) });
          else if (cst.isFile() || cst.isSymbolicLink()) {
            const f = { name, path: cp, st: { mode: cst.mode, uid: cst.uid, gid: cst.gid } };
            node.files.push(f);
            batch.push(f);
            progress.filesScanned++;
            if (batch.length >= ContentWriterPool.BATCH) {
              pool.submit(batch);
              batch = [];
              report?.(progress);
            }
          } else {
            throw new OstreeError('EINVAL', `unsupported file type at '${cp}' (only regular files, symlinks and directories can be committed)`);
          }
        }
        return node;
      };
      let root: DirNode;
      try {
        try {
          root = walk(dir, rootSt);
        } catch (e) {
          await pool.abort();
          throw e;
        }
        pool.submit(batch);
        progress.walkDone = true;
        report?.(progress);
        await pool.finish();
      } finally {
        // the writers' staging directories (empty unless a writer failed mid-file)
        for (const n of fs.readdirSync(path.join(this.path, 'tmp'))) {
          if (n.startsWith(`commit-${process.pid}-`) && n.endsWith('-staging')) fs.rmSync(path.join(this.path, 'tmp', n), { recursive: true, force: true });
        }
        forgetStagingDirs();
      }

      // 3. Trees, bottom-up.
      const writeTree = (node: DirNode): { tree: string; meta: string } => {
        const dt: DirTree = {
          files: node.files.map((f) => ({ name: f.name, checksum: f.checksum! })),
          dirs: node.dirs.map((d) => { const r = writeTree(d.node); return { name: d.name, treeChecksum: r.tree, metaChecksum: r.meta }; }),
        };
        return {
          tree: this.writeMetadataObjectSync('dirtree', serializeDirTree(dt)),
          meta: this.writeMetadataObjectSync('dirmeta', serializeDirMeta(node.meta)),
        };
      };
      const rootRes = writeTree(root);

      return this.writeCommit(rootRes.tree, rootRes.meta, options, options.bootable ? findKernelVersion(dir) : undefined);
    });
  }

  /**
   * Write a commit object for an already stored root (dirtree + dirmeta) and update the
   * branch: the second half of commitTree, also used for `commit --tree=ref=REV`.
   * `kernelVersion` is required with `bootable`.
   */
  async writeCommit(rootTree: string, rootMeta: string, options: CommitTreeOptions = {}, kernelVersion?: string): Promise<string> {
    if (options.branch !== undefined) parseRefspec(options.branch);
    return this.withLock(false, async () => {
      if (!this.hasObjectSync(rootTree, 'dirtree') || !this.hasObjectSync(rootMeta, 'dirmeta')) {
        throw new OstreeError('ENOENT', `root ${rootTree}.dirtree / ${rootMeta}.dirmeta not found in repository`);
      }
      let parent: string | null;
      if (options.parent !== undefined) parent = options.parent === null ? null : (await this.resolveRev(options.parent));
      else parent = options.branch !== undefined ? await this.resolveRevOptional(options.branch) : null;
      let metadata = [...(options.metadata ?? [])];
      if (options.bootable) {
        if (kernelVersion === undefined) throw new OstreeError('EINVAL', 'bootable commits need the kernel version');
        metadata.push(['ostree.linux', new Variant('s', kernelVersion)]);
        metadata.push(['ostree.bootable', new Variant('b', true)]);
        metadata = glibDictOrder(metadata);
      }
      if (options.branch !== undefined && options.bindings !== false && !metadata.some(([k]) => k === 'ostree.ref-binding')) {
        metadata.push(['ostree.ref-binding', new Variant('as', [parseRefspec(options.branch)[1]])]);
      }
      if (options.skipIfUnchanged && parent !== null && this.hasObjectSync(parent, 'commit')) {
        const pc = this.loadCommitSync(parent);
        if (pc.rootTree === rootTree && pc.rootMeta === rootMeta) return parent;
      }
      const commit: CommitObject = {
        metadata,
        parent,
        related: [],
        subject: options.subject ?? '',
        body: options.body ?? '',
        timestamp: options.timestamp ?? BigInt(Math.floor(Date.now() / 1000)),
        rootTree,
        rootMeta,
      };
      const csum = this.writeMetadataObjectSync('commit', serializeCommit(commit));
      if (options.detachedMetadata && options.detachedMetadata.length > 0) {
        this.writeCommitDetachedMetadataSync(csum, options.detachedMetadata);
      }
      this.syncRepo();
      if (options.branch !== undefined) await this.setRef(options.branch, csum);
      return csum;
    });
  }

  /** Replace (or with null/[] remove) a commit's detached metadata (`.commitmeta`), crash-safely. */
  writeCommitDetachedMetadataSync(checksum: string, metadata: Array<[string, Variant]> | null): void {
    const final = this.objectPath(checksum, 'commitmeta');
    if (metadata === null || metadata.length === 0) { fs.rmSync(final, { force: true }); return; }
    const tmp = tmpName(this.path, 'meta');
    fs.writeFileSync(tmp, serializeCommitMeta(metadata), { mode: 0o644, flag: 'wx' });
    fs.mkdirSync(path.dirname(final), { recursive: true });
    fs.renameSync(tmp, final);
  }

  /** `ostree prune` (implemented in prune.ts by the maintenance work; exclusive repo lock). */
  async prune(options: { refsOnly?: boolean; depth?: number; keepCommits?: string[]; noPrune?: boolean } = {}): Promise<{ objectsTotal: number; objectsPruned: number; bytesFreed: number }> {
    const { pruneRepo } = await import('./prune.js');
    return pruneRepo(this, options);
  }

  /** Remove temporary files left in REPO/tmp by our processes that died (crash, SIGKILL). */
  cleanStaleTmp(): void {
    const dir = path.join(this.path, 'tmp');
    let names: string[] = [];
    try { names = fs.readdirSync(dir); } catch { return; }
    for (const n of names) {
      const m = /^(?:commit|meta|ref)-(\d+)-/.exec(n);
      if (!m) continue;
      const pid = Number(m[1]);
      let alive = true;
      try { process.kill(pid, 0); } catch (e) { alive = !isErrno(e, 'ESRCH'); }
      if (!alive) fs.rmSync(path.join(dir, n), { force: true, recursive: true });
    }
  }

  /** Flush the repo's filesystem, as upstream does at the end of a transaction (unless core.fsync=false). */
  syncRepo(): void {
    if (!this.config.getBoolean('core', 'fsync', true)) return;
    libc.syncfs(this.path);
  }

  private dirMetaFor(ctx: ContentWriteContext, p: string, st: fs.Stats): DirMeta {
    if (this.mode === 'bare-user-only' || ctx.canonicalPermissions) return { uid: 0, gid: 0, mode: st.mode & (S_IFMT | 0o755), xattrs: [] };
    return {
      uid: ctx.ownerUid ?? st.uid,
      gid: ctx.ownerGid ?? st.gid,
      mode: st.mode,
      xattrs: ctx.noXattrs ? [] : sortXattrs(libc.lgetxattrs(p)),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Checkout

  /** Check out `commit` (any rev) into `destination` (must not exist unless `union`). */
  async checkout(commit: string, destination: string, opts: CheckoutOptions = {}): Promise<void> {
    // As upstream: bare-user-only repositories are always checked out in user mode.
    const options: CheckoutOptions = { ...opts, union: opts.union === true || opts.unionAdd === true, userMode: opts.userMode === true || this.mode === 'bare-user-only' };
    const csum = await this.resolveRev(commit);
    const c = this.loadCommitSync(csum);
    let tree = c.rootTree;
    let meta = c.rootMeta;
    const sub = (options.subpath ?? '/').split('/').filter((x) => x !== '');
    const dest = path.resolve(destination);
    for (let i = 0; i < sub.length; i++) {
      const name = sub[i]!;
      const dt = this.loadDirTreeSync(tree);
      const d = dt.dirs.find((x) => x.name === name);
      if (d) { tree = d.treeChecksum; meta = d.metaChecksum; continue; }
      const f = dt.files.find((x) => x.name === name);
      if (f && i === sub.length - 1) {
        if (!options.union && fs.existsSync(dest)) throw new OstreeError('EEXIST', `checkout destination '${dest}' already exists`);
        const job: CheckoutJob = { deferred: [], finalizers: [] };
        this.checkoutFile(f.checksum, dest, name, options, job);
        for (const d of job.deferred) await d();
        return;
      }
      throw new OstreeError('ENOENT', `no such path '${options.subpath}' in commit ${csum}`);
    }
    let exists = false;
    try {
      const st = fs.lstatSync(dest);
      if (!options.union) throw new OstreeError('EEXIST', `checkout destination '${dest}' already exists (use union mode to merge into it)`);
      if (!st.isDirectory()) throw new OstreeError('EEXIST', `checkout destination '${dest}' exists and is not a directory`);
      exists = true;
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    if (!exists && !options.union && !options.forceCopy && !options.dockerWhiteouts) {
      // A fresh tree from a bare or bare-user-only repository: nothing but mkdir and link.
      if (hardlinkCheckoutPossible(this.mode, options.userMode === true)) {
        try {
          await hardlinkCheckout(this, tree, meta, dest, { whiteouts: options.whiteouts === true, userMode: options.userMode === true });
          return;
        } catch (e) {
          if (!(e instanceof NeedCopyFallback)) throw e;
          removePartialTree(dest);
          if (options.hardlink) throw new OstreeError('EIO', `cannot hardlink into '${dest}' from the repository (${e.errno}) and copies were not allowed`, { cause: e });
        }
      }
    }
    const job: CheckoutJob = { deferred: [], finalizers: [] };
    this.checkoutDir(tree, meta, dest, exists, options, job);
    // Large compressed files stream after the walk; directory metadata (post-order) comes last.
    for (const d of job.deferred) await d();
    for (const f of job.finalizers) f();
  }

  private canHardlink(o: CheckoutOptions): boolean {
    if (o.forceCopy) return false;
    switch (this.mode) {
      case 'bare': return !o.userMode;
      case 'bare-user': return o.userMode === true;
      case 'bare-user-only': return true;
      case 'archive': return false;
    }
  }

  private checkoutDir(tree: string, meta: string, dest: string, exists: boolean, o: CheckoutOptions, job: CheckoutJob): void {
    const dm = this.loadDirMetaSync(meta);
    const dt = this.loadDirTreeSync(tree);
    if (!exists) fs.mkdirSync(dest, { mode: 0o700 });
    for (const f of dt.files) {
      if (o.whiteouts && f.name.startsWith('.ostree-wh.')) {
        const h = this.readFileHeaderSync(f.checksum).header;
        if (!isSymlinkMode(h.mode)) {
          if (f.name === '.ostree-wh.') throw new OstreeError('ECORRUPT', `invalid empty overlayfs whiteout '${dest}/${f.name}'`);
          // A 0:0 character device with the entry's mode, owner and xattrs.
          const target = path.join(dest, f.name.slice('.ostree-wh.'.length));
          if (o.union) fs.rmSync(target, { recursive: true, force: true });
          libc.mknod(target, S_IFCHR | (h.mode & 0o7777), 0);
          if (!o.userMode) {
            if (!this.xattrsDisabled) for (const [n, v] of h.xattrs) libc.lsetxattr(target, n, v);
            fs.lchownSync(target, h.uid, h.gid);
            fs.chmodSync(target, h.mode & 0o7777);
          }
          continue;
        }
      }
      if (o.dockerWhiteouts && f.name.startsWith('.wh.')) {
        fs.rmSync(path.join(dest, f.name.slice('.wh.'.length)), { recursive: true, force: true });
        continue;
      }
      this.checkoutFile(f.checksum, `${dest}/${f.name}`, f.name, o, job);
    }
    for (const d of dt.dirs) {
      const p = `${dest}/${d.name}`;
      let sub = false;
      if (o.union) {
        const st = fs.lstatSync(p, { throwIfNoEntry: false });
        if (st?.isDirectory()) sub = true;
        else if (st) fs.rmSync(p, { force: true });
      }
      this.checkoutDir(d.treeChecksum, d.metaChecksum, p, sub, o, job);
    }
    // Directory metadata last, so read-only directories can be populated first.
    job.finalizers.push(() => {
      if (!o.userMode) {
        fs.lchownSync(dest, dm.uid, dm.gid);
        if (!this.xattrsDisabled) for (const [n, v] of dm.xattrs) libc.lsetxattr(dest, n, v);
      }
      // bare-user-only: no world-writable, setuid or sticky directories, as upstream.
      fs.chmodSync(dest, this.mode === 'bare-user-only' ? dm.mode & 0o775 : dm.mode & 0o7777);
      // As upstream: directories get mtime 0, except in copying checkouts (as of /etc).
      if (!o.forceCopy) fs.utimesSync(dest, 0, 0);
    });
  }

  private checkoutFile(checksum: string, dst: string, name: string, o: CheckoutOptions, job: CheckoutJob): void {
    if (o.unionAdd && fs.lstatSync(dst, { throwIfNoEntry: false })) return;
    const obj = `${this.path}/objects/${checksum.slice(0, 2)}/${checksum.slice(2)}.file`;
    if (this.canHardlink(o) && !this.copiedAnyway(obj, checksum, name, o)) {
      try {
        this.placeLink(obj, dst, o.union === true);
        return;
      } catch (e) {
        if (isErrno(e, 'ENOENT') && !fs.existsSync(obj)) throw new OstreeError('ENOENT', `object ${checksum}.file (for '${name}') not found in repository`);
        if (!(isErrno(e, 'EXDEV') || isErrno(e, 'EMLINK') || isErrno(e, 'EPERM'))) throw e;
        if (o.hardlink) throw new OstreeError('EIO', `cannot hardlink '${dst}' to the repository object (${(e as NodeJS.ErrnoException).code}) and copies were not allowed`, { cause: e });
      }
    } else if (o.hardlink && !this.canHardlink(o)) {
      throw new OstreeError('EINVAL', `hardlink checkouts are not possible from a ${this.mode} repository${o.userMode ? ' in user mode' : ''}`);
    }
    const c = this.readFileHeaderSync(checksum);
    const h = c.header;
    const target = o.union && fs.existsSync(dst) ? `${dst}.ostree-tmp-${process.pid}` : dst;
    if (o.union && target !== dst) fs.rmSync(target, { force: true });
    if (c.compressed && c.size > INFLATE_INLINE_MAX && !isSymlinkMode(h.mode)) {
      job.deferred.push(async () => {
        try {
          await pipeline(contentDataStream(c) as NodeJS.ReadableStream, fs.createWriteStream(target, { flags: 'wx', mode: 0o600 }));
          this.applyFileMeta(target, h, o);
          if (target !== dst) fs.renameSync(target, dst);
        } catch (e) {
          if (target !== dst) fs.rmSync(target, { force: true });
          throw e;
        }
      });
      return;
    }
    try {
      if (isSymlinkMode(h.mode)) {
        fs.symlinkSync(h.symlinkTarget, target);
        if (!o.userMode) {
          fs.lchownSync(target, h.uid, h.gid);
          if (!this.xattrsDisabled) for (const [n, v] of h.xattrs) libc.lsetxattr(target, n, v);
        }
      } else {
        if (c.compressed) {
          // Small objects inflate in memory; large ones were deferred to a streaming pass above.
          fs.writeFileSync(target, readContentDataSync(c), { mode: 0o600, flag: 'wx' });
        } else {
          fs.copyFileSync(c.objectPath, target, fs.constants.COPYFILE_EXCL);
          fs.chmodSync(target, 0o600);
        }
        this.applyFileMeta(target, h, o);
      }
      if (target !== dst) fs.renameSync(target, dst);
    } catch (e) {
      if (target !== dst) fs.rmSync(target, { force: true });
      throw e;
    }
  }

  /** Whether upstream copies this hardlinkable file object anyway (copiedRatherThanLinked). */
  private copiedAnyway(obj: string, checksum: string, name: string, o: CheckoutOptions): boolean {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(obj);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `object ${checksum}.file (for '${name}') not found in repository`);
      throw e;
    }
    // bare-user keeps the real mode (and symlinks, as regular files) in the header.
    const mode = this.mode === 'bare-user' ? this.readFileHeaderSync(checksum).header.mode : st.mode;
    const userRepo = this.mode === 'bare-user' || this.mode === 'bare-user-only';
    return copiedRatherThanLinked({ symlink: st.isSymbolicLink() || isSymlinkMode(mode), size: st.size, mode }, userRepo, o.userMode === true);
  }

  /** Owner, xattrs and mode of a copied regular file. Copies keep the current mtime, as upstream
   *  (hardlinks share the objects' mtime 0). */
  private applyFileMeta(target: string, h: FileHeader, o: CheckoutOptions): void {
    if (!o.userMode) {
      fs.lchownSync(target, h.uid, h.gid);
      if (!this.xattrsDisabled) for (const [n, v] of h.xattrs) libc.lsetxattr(target, n, v);
      fs.chmodSync(target, h.mode & 0o7777);
    } else {
      fs.chmodSync(target, (h.mode & 0o1777) | 0o400); // no setuid/setgid; readable by the user
    }
  }

  private placeLink(obj: string, dst: string, union: boolean): void {
    try {
      fs.linkSync(obj, dst);
    } catch (e) {
      if (!union || !isErrno(e, 'EEXIST')) throw e;
      const tmp = `${dst}.ostree-tmp-${process.pid}`;
      fs.rmSync(tmp, { force: true });
      fs.linkSync(obj, tmp);
      try { fs.renameSync(tmp, dst); } catch (e2) { fs.rmSync(tmp, { force: true }); throw e2; }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reading paths inside commits (ls, cat)

  /** Find a path in a commit: a directory (tree+meta) or a file (checksum). ENOENT if absent. */
  lookupPathSync(commitChecksum: string, p: string): { kind: 'dir'; tree: string; meta: string } | { kind: 'file'; checksum: string } {
    const c = this.loadCommitSync(commitChecksum);
    let tree = c.rootTree;
    let meta = c.rootMeta;
    const parts = p.split('/').filter((x) => x !== '');
    for (let i = 0; i < parts.length; i++) {
      const dt = this.loadDirTreeSync(tree);
      const d = dt.dirs.find((x) => x.name === parts[i]);
      if (d) { tree = d.treeChecksum; meta = d.metaChecksum; continue; }
      const f = dt.files.find((x) => x.name === parts[i]);
      if (f && i === parts.length - 1) return { kind: 'file', checksum: f.checksum };
      throw new OstreeError('ENOENT', `No such file or directory: ${p}`);
    }
    return { kind: 'dir', tree, meta };
  }
}

/** Write-side helper for callers that need a commit's ContentChecksum. */
export { commitContentChecksum } from './objects.js';

