/**
 * The general checkout engine (`ostree checkout` when the hardlink engine of hardlink.ts cannot
 * serve it): archive repositories, user-mode checkouts of bare repositories, `--union`,
 * `--union-add`, `--force-copy`, Docker-style whiteouts, and the fallback when hardlinks are
 * refused. Files are hardlinked where the mode allows it and upstream would, else copied (or
 * inflated) with their owner, mode and xattrs.
 *
 * The walk is iterative (a tree 10,000 levels deep checks out; paths beyond PATH_MAX go through
 * LongPaths), large compressed files are streamed after the walk, and directory metadata is
 * applied last, deepest first, so read-only directories can be populated.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as libc from '../../native/libc.js';
import { OstreeError, isErrno } from '../../errors.js';
import { LongPaths } from '../../util/long-path.js';
import { S_IFCHR, isSymlinkMode } from '../objects/common.js';
import { parseDirMeta, type DirMeta } from '../objects/dirmeta.js';
import { parseDirTree } from '../objects/dirtree.js';
import type { FileHeader } from '../objects/file-header.js';
import { fileKind, notRegular } from '../modes/backend.js';
import { backendFor } from '../modes/registry.js';
import { contentDataStream, linkIntoPlace, readContentDataSync, readContentHeaderSync, type StoredContent } from '../content.js';
import { objectPath, tmpName, uncompressedCachePath } from '../layout.js';
import { readMetadataObject, type RepoCore } from '../store.js';
import { copiedRatherThanLinked } from './hardlink.js';
import { checkDeepTree } from '../traverse.js';
import { checksumFileAt } from '../checksum-file.js';

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
  /** `--union-identical`: keep an existing file only when it is the same object, else EEXIST. */
  unionIdentical?: boolean;
  /** `--skip-list`: paths (from the checkout's root, `/a/b`) left out, with what is below them. */
  skipList?: ReadonlySet<string>;
  /** `-M, --bareuseronly-dirs`: directory modes masked to 0775, as bare-user-only does. */
  bareuseronlyDirs?: boolean;
  /** `--disable-cache`: archive repositories: no uncompressed-objects-cache for user-mode checkouts. */
  disableCache?: boolean;
}

/** Archive objects up to this size are inflated in memory; larger ones stream after the walk. */
const INFLATE_INLINE_MAX = 8 * 1024 * 1024;

interface DirJob { tree: string; meta: string; dest: string; exists: boolean; depth: number; rel: string }

export class CopyCheckout {
  private readonly paths = new LongPaths();
  private readonly metas = new Map<string, DirMeta>();
  /** Large compressed files, streamed once the walk is done. */
  private readonly deferred: Array<{ c: StoredContent; target: string; dst: string }> = [];
  /** Directories filled, in the order they were made (parents first). */
  private readonly filled: Array<{ dest: string; meta: DirMeta }> = [];
  private readonly linkable: boolean;
  private readonly xattrs: boolean;
  /** Archive repository, user mode, cache not disabled: files come through the uncompressed cache. */
  private readonly cacheable: boolean;
  /** The root directory was made by this checkout (so a failure may remove it). */
  madeRoot = false;

  constructor(private readonly repo: RepoCore, private readonly o: CheckoutOptions) {
    this.linkable = !o.forceCopy && backendFor(repo.mode).checkoutLinkable(o.userMode === true);
    this.xattrs = !repo.config.getBoolean('core', 'disable-xattrs', false);
    this.cacheable = repo.mode === 'archive' && o.userMode === true && !o.forceCopy && !o.disableCache;
  }

  /** Check out the tree `tree`/`meta` into `dest` (`exists`: it is already a directory). */
  async tree(tree: string, meta: string, dest: string, exists: boolean): Promise<void> {
    try {
      const stack: DirJob[] = [{ tree, meta, dest, exists, depth: 0, rel: '' }];
      while (stack.length > 0) {
        const job = stack.pop()!;
        const subdirs = this.fillDir(job);
        for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
      }
      await this.streamDeferred();
      // Directory metadata last, deepest first, so read-only directories could be populated.
      for (let i = this.filled.length - 1; i >= 0; i--) this.finishDir(this.filled[i]!.dest, this.filled[i]!.meta);
    } finally {
      this.paths.close();
    }
  }

  /** Check out the single file `checksum` as `dst`. */
  async file(checksum: string, dst: string, name: string): Promise<void> {
    try {
      this.checkoutFile(checksum, dst, name, dst);
      await this.streamDeferred();
    } finally {
      this.paths.close();
    }
  }

  private dirMeta(checksum: string): DirMeta {
    let m = this.metas.get(checksum);
    if (!m) {
      m = parseDirMeta(readMetadataObject(this.repo, checksum, 'dirmeta'), `dirmeta ${checksum}`);
      this.metas.set(checksum, m);
    }
    return m;
  }

  /** Make `job.dest` (unless it exists) and its files; return its subdirectories' jobs. */
  private fillDir(job: DirJob): DirJob[] {
    const o = this.o;
    const dm = this.dirMeta(job.meta);
    const data = readMetadataObject(this.repo, job.tree, 'dirtree');
    checkDeepTree(data, job.tree, job.depth, job.dest);
    const dt = parseDirTree(data, `dirtree ${job.tree}`);
    const dir = this.paths.short(job.dest);
    if (!job.exists) {
      fs.mkdirSync(dir, { mode: 0o700 });
      if (job.depth === 0) this.madeRoot = true;
    }
    this.filled.push({ dest: job.dest, meta: dm });
    for (const f of dt.files) {
      if (o.skipList?.has(`${job.rel}/${f.name}`)) continue;
      if (o.whiteouts && f.name.startsWith('.ostree-wh.') && this.whiteout(f.checksum, f.name, dir)) continue;
      if (o.dockerWhiteouts && f.name.startsWith('.wh.')) {
        fs.rmSync(`${dir}/${f.name.slice('.wh.'.length)}`, { recursive: true, force: true });
        continue;
      }
      this.checkoutFile(f.checksum, `${dir}/${f.name}`, f.name, `${job.dest}/${f.name}`);
    }
    const jobs: DirJob[] = [];
    for (const d of dt.dirs) {
      if (o.skipList?.has(`${job.rel}/${d.name}`)) continue;
      let exists = false;
      if (o.union) {
        const p = `${dir}/${d.name}`;
        const st = fs.lstatSync(p, { throwIfNoEntry: false });
        if (st?.isDirectory()) exists = true;
        else if (st) fs.rmSync(p, { force: true });
      }
      jobs.push({ tree: d.treeChecksum, meta: d.metaChecksum, dest: `${job.dest}/${d.name}`, exists, depth: job.depth + 1, rel: `${job.rel}/${d.name}` });
    }
    return jobs;
  }

  /** `.ostree-wh.NAME` (not a symlink) becomes a 0:0 character device NAME; false for symlinks. */
  private whiteout(checksum: string, name: string, dir: string): boolean {
    const h = readContentHeaderSync(this.repo.path, this.repo.mode, checksum).header;
    if (isSymlinkMode(h.mode)) return false;
    if (name === '.ostree-wh.') throw new OstreeError('ECORRUPT', `invalid empty overlayfs whiteout '${dir}/${name}'`);
    const target = `${dir}/${name.slice('.ostree-wh.'.length)}`;
    if (this.o.union) fs.rmSync(target, { recursive: true, force: true });
    libc.mknod(target, S_IFCHR | (h.mode & 0o7777), 0);
    if (!this.o.userMode) {
      if (this.xattrs) for (const [n, v] of h.xattrs) libc.lsetxattr(target, n, v);
      fs.lchownSync(target, h.uid, h.gid);
      fs.chmodSync(target, h.mode & 0o7777);
    }
    return true;
  }

  /** Check out one file as `dst` (`longDst`: the same path, usable after the walk moved on). */
  private checkoutFile(checksum: string, dst: string, name: string, longDst: string): void {
    const o = this.o;
    if (o.unionAdd && fs.lstatSync(dst, { throwIfNoEntry: false })) return;
    if (o.unionIdentical && this.identicalExists(checksum, dst)) return;
    if (this.linkable) {
      const obj = objectPath(this.repo.path, checksum, 'file', this.repo.mode);
      if (!this.copiedAnyway(obj, checksum, name)) {
        try {
          placeLink(obj, dst, o.union === true);
          return;
        } catch (e) {
          if (isErrno(e, 'ENOENT') && !fs.existsSync(obj)) throw new OstreeError('ENOENT', `object ${checksum}.file (for '${name}') not found in repository`);
          if (!(isErrno(e, 'EXDEV') || isErrno(e, 'EMLINK') || isErrno(e, 'EPERM'))) throw e;
          if (o.hardlink) throw new OstreeError('EIO', `cannot hardlink '${dst}' to the repository object (${(e as NodeJS.ErrnoException).code}) and copies were not allowed`, { cause: e });
        }
      }
    } else if (this.cacheable && this.linkFromCache(checksum, dst)) {
      return;
    } else if (o.hardlink) {
      // (upstream's words: a bare-user repository needs -U to hardlink; bare and archive cannot in user mode)
      throw new OstreeError('EINVAL', this.repo.mode === 'bare-user' || this.repo.mode === 'bare-user-only'
        ? 'User repository mode requires user checkout mode to hardlink'
        : 'Bare repository mode cannot hardlink in user checkout mode');
    }
    this.copyFile(readContentHeaderSync(this.repo.path, this.repo.mode, checksum), dst, longDst);
  }

  /**
   * `--union-identical`: true when `dst` already holds this object (the same inode, or the same
   * checksum); EEXIST when it holds something else; false when there is nothing there.
   */
  private identicalExists(checksum: string, dst: string): boolean {
    const st = fs.lstatSync(dst, { throwIfNoEntry: false });
    if (!st) return false;
    const obj = objectPath(this.repo.path, checksum, 'file', this.repo.mode);
    const ost = fs.lstatSync(obj, { throwIfNoEntry: false });
    if (ost && ost.dev === st.dev && ost.ino === st.ino) return true;
    if (st.isSymbolicLink()) {
      const h = readContentHeaderSync(this.repo.path, this.repo.mode, checksum).header;
      if (isSymlinkMode(h.mode) && h.symlinkTarget === fs.readlinkSync(dst)) return true;
      throw new OstreeError('EEXIST', `symlinkat: File exists: ${dst}`);
    }
    const canonical = backendFor(this.repo.mode).traits.canonical;
    const ignoreXattrs = canonical || !this.xattrs || this.o.userMode === true;
    if (checksumFileAt(dst, { ignoreXattrs, canonicalPermissions: canonical }, st) === checksum) return true;
    throw new OstreeError('EEXIST', `Hardlinking ${checksum.slice(0, 2)}/${checksum.slice(2)}.file to ${dst}: File exists`);
  }

  /**
   * Archive repositories in user mode (as upstream): inflate a regular file once into
   * REPO/uncompressed-objects-cache and hardlink the checkout to that. False when the object
   * does not qualify (symlink, empty, unreadable) or the link is refused: the caller copies.
   */
  private linkFromCache(checksum: string, dst: string): boolean {
    const c = readContentHeaderSync(this.repo.path, this.repo.mode, checksum);
    const h = c.header;
    if (isSymlinkMode(h.mode) || c.size === 0 || (h.mode & 0o400) === 0) return false;
    const cached = uncompressedCachePath(this.repo.path, checksum);
    if (!fs.existsSync(cached)) {
      fs.mkdirSync(path.dirname(cached), { recursive: true, mode: 0o755 });
      const tmp = tmpName(this.repo.path, 'uncompressed');
      try {
        if (c.size > INFLATE_INLINE_MAX) return false;
        fs.writeFileSync(tmp, readContentDataSync(c), { mode: 0o600, flag: 'wx' });
        fs.chmodSync(tmp, h.mode & 0o1777 & ~0o6000);
        linkIntoPlace(tmp, cached);
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    }
    try {
      placeLink(cached, dst, this.o.union === true);
      return true;
    } catch (e) {
      if (isErrno(e, 'EXDEV') || isErrno(e, 'EMLINK') || isErrno(e, 'EPERM')) return false;
      throw e;
    }
  }

  /** Make `dst` from the object `c` (a copy, an inflated copy or a symlink). */
  private copyFile(c: StoredContent, dst: string, longDst: string): void {
    const h = c.header;
    const suffix = this.o.union && fs.lstatSync(dst, { throwIfNoEntry: false }) ? `.ostree-tmp-${process.pid}` : '';
    const target = dst + suffix;
    if (target !== dst) fs.rmSync(target, { force: true });
    if (c.compressed && c.size > INFLATE_INLINE_MAX && !isSymlinkMode(h.mode)) {
      this.deferred.push({ c, target: longDst + suffix, dst: longDst });
      return;
    }
    try {
      if (isSymlinkMode(h.mode)) {
        fs.symlinkSync(h.symlinkTarget, target);
        if (!this.o.userMode) {
          fs.lchownSync(target, h.uid, h.gid);
          if (this.xattrs) for (const [n, v] of h.xattrs) libc.lsetxattr(target, n, v);
        }
      } else {
        if (c.compressed) {
          fs.writeFileSync(target, readContentDataSync(c), { mode: 0o600, flag: 'wx' });
        } else {
          fs.copyFileSync(c.objectPath, target, fs.constants.COPYFILE_EXCL);
          fs.chmodSync(target, 0o600);
        }
        this.applyFileMeta(target, h);
      }
      if (target !== dst) fs.renameSync(target, dst);
    } catch (e) {
      if (target !== dst) fs.rmSync(target, { force: true });
      throw e;
    }
  }

  /** Stream the large compressed files found by the walk (their paths resolved anew). */
  private async streamDeferred(): Promise<void> {
    const paths = new LongPaths();
    try {
      for (const { c, target: t, dst: d } of this.deferred) {
        // (same directory: resolving the second keeps the anchors of the first)
        const target = paths.short(t);
        const dst = t === d ? target : paths.short(d);
        try {
          await pipeline(contentDataStream(c), fs.createWriteStream(target, { flags: 'wx', mode: 0o600 }));
          this.applyFileMeta(target, c.header);
          if (target !== dst) fs.renameSync(target, dst);
        } catch (e) {
          fs.rmSync(target, { force: true });
          throw e;
        }
      }
    } finally {
      paths.close();
    }
    this.deferred.length = 0;
  }

  /** Whether upstream copies this hardlinkable file object anyway (copiedRatherThanLinked). */
  private copiedAnyway(obj: string, checksum: string, name: string): boolean {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(obj);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `object ${checksum}.file (for '${name}') not found in repository`);
      throw e;
    }
    if (!st.isFile() && !st.isSymbolicLink()) throw notRegular(`${checksum}.file`, obj, fileKind(st));
    const traits = backendFor(this.repo.mode).traits;
    // bare-user keeps the real mode (and symlinks, as regular files) in the header.
    const mode = traits.metaInXattr ? readContentHeaderSync(this.repo.path, this.repo.mode, checksum).header.mode : st.mode;
    return copiedRatherThanLinked({ symlink: st.isSymbolicLink() || isSymlinkMode(mode), size: st.size, mode }, !traits.realOwnership, this.o.userMode === true);
  }

  /** Owner, xattrs and mode of a copied regular file. Copies keep the current mtime, as upstream
   *  (hardlinks share the objects' mtime 0). */
  private applyFileMeta(target: string, h: FileHeader): void {
    if (!this.o.userMode) {
      fs.lchownSync(target, h.uid, h.gid);
      if (this.xattrs) for (const [n, v] of h.xattrs) libc.lsetxattr(target, n, v);
      fs.chmodSync(target, h.mode & 0o7777);
    } else {
      fs.chmodSync(target, (h.mode & 0o1777) | 0o400); // no setuid/setgid; readable by the user
    }
  }

  private finishDir(dest: string, dm: DirMeta): void {
    const p = this.paths.short(dest);
    if (!this.o.userMode) {
      fs.lchownSync(p, dm.uid, dm.gid);
      if (this.xattrs) for (const [n, v] of dm.xattrs) libc.lsetxattr(p, n, v);
    }
    // bare-user-only (and -M): no world-writable, setuid or sticky directories, as upstream.
    fs.chmodSync(p, backendFor(this.repo.mode).traits.canonical || this.o.bareuseronlyDirs ? dm.mode & 0o775 : dm.mode & 0o7777);
    // As upstream: directories get mtime 0, except in copying checkouts (as of /etc).
    if (!this.o.forceCopy) fs.utimesSync(p, 0, 0);
  }
}

function placeLink(obj: string, dst: string, union: boolean): void {
  try {
    fs.linkSync(obj, dst);
  } catch (e) {
    if (!union || !isErrno(e, 'EEXIST')) throw e;
    // Already this object: nothing to do (rename() between two links of one inode is a no-op
    // that would leave the temporary name behind).
    const a = fs.lstatSync(obj);
    const b = fs.lstatSync(dst, { throwIfNoEntry: false });
    if (b && a.dev === b.dev && a.ino === b.ino) return;
    const tmp = `${dst}.ostree-tmp-${process.pid}`;
    fs.rmSync(tmp, { force: true });
    fs.linkSync(obj, tmp);
    try { fs.renameSync(tmp, dst); } catch (e2) { fs.rmSync(tmp, { force: true }); throw e2; }
  }
}
