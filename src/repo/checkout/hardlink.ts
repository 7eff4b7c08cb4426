/**
 * Hardlink checkouts from `bare` and `bare-user-only` repositories: what `ostree checkout -H`
 * and `admin deploy` (§1.3 step 1) make. Every file object — and, in `bare`, every symlink
 * object — is hardlinked as it is, so no per-file header is read; what costs time is the kernel's
 * mkdir and link, and this module keeps everything else out of their way:
 *
 * - dirtrees are decoded with the strict parser of objects/dirtree.ts, each dirmeta once per checksum;
 * - names are resolved in open directories (linkat, mkdirat, statx relative to the objects
 *   directory and to the directory being filled), not as whole paths;
 * - as upstream 2022.7, empty files, files unreadable in user mode and bare-user-only symlinks
 *   are made anew rather than linked, and bare-user-only repositories are always checked out in
 *   user mode (no owners, directory modes masked with 0775);
 * - on a large tree, when a CPU is idle, a worker thread (worker.ts) shares the work: directories waiting to
 *   be filled sit on a stack in shared memory (SharedJobs), and a thread with nothing left to do
 *   takes one; a busy thread hands over the directories highest in its own pending list (the
 *   largest pieces of work) whenever another thread is idle;
 * - directory metadata (owner, xattrs unless core.disable-xattrs, mode, mtime 0) is applied once
 *   every directory is filled, deepest first, so read-only directories can be populated and no
 *   later entry changes a directory's mtime;
 * - with `whiteouts`, `.ostree-wh.NAME` entries become overlayfs whiteouts (char device 0:0
 *   with the entry's mode, owner and xattrs).
 *
 * A hardlink the kernel refuses (EXDEV, EMLINK, EPERM) raises NeedCopyFallback, after the partial
 * tree is removed; the caller copies instead (copy.ts). Directories are opened by path through
 * LongPaths, so a tree thousands of levels deep checks out; past traverse.ts's VERIFY_DEPTH, each
 * dirtree is verified, so a corrupt tree that contains itself is reported, not followed forever.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { OstreeError, isErrno } from '../../errors.js';
import * as libc from '../../native/libc.js';
import { LongPaths } from '../../util/long-path.js';
import { S_IFCHR, S_IFLNK, S_IFMT, S_IFREG } from '../objects/common.js';
import { parseDirMeta, type DirMeta } from '../objects/dirmeta.js';
import { parseDirTree, type DirTree } from '../objects/dirtree.js';
import { loosePath } from '../layout.js';
import { modeTraits, type RepoMode } from '../modes/mode.js';
import { backendFor } from '../modes/registry.js';
import { readMetadataObject, type RepoLocation } from '../store.js';
import { checkDeepTree } from '../traverse.js';
import { spareCpus } from '../../util/spare-cpus.js';
import { SharedJobs, type Pending } from './shared-jobs.js';

const WHITEOUT_PREFIX = '.ostree-wh.';
const O_DIRECTORY_RDONLY = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | 0o2000000 /* O_CLOEXEC */;

/**
 * After this many files the main thread starts a worker, if a CPU is idle to run it. A worker
 * needs about as long to start as this thread takes to link a few thousand files, so on a tree
 * smaller than two or three times this it would arrive to find the work done.
 */
const PARALLEL_MIN_FILES = 10_000;

/** A hardlink was refused (other filesystem, link limit, protected_hardlinks): copy instead. */
export class NeedCopyFallback extends Error {
  constructor(readonly errno: string) { super(`hardlink refused (${errno})`); }
}

export interface HardlinkCheckoutOptions {
  /** `.ostree-wh.NAME` → an overlayfs whiteout NAME (deployments; `--process-passthrough-whiteouts`). */
  whiteouts?: boolean;
  /** `-U`: no ownership or xattrs, no setuid/setgid bits (always so for bare-user-only). */
  userMode?: boolean;
  /** Threads (this one included), all taking part from the start; default: a second one once
   *  the tree shows itself large, when the machine has two CPUs or more. */
  threads?: number;
  /** Fill in every object the commit's tree reaches, as prune names them (`<checksum>.<type>`). */
  reachable?: Set<string>;
}

/** What every thread needs to know about the checkout. */
export interface CheckoutContext {
  repoPath: string;
  /** The repository's mode (the metadata reader takes it with the path). */
  mode: RepoMode;
  /** A bare-user-only repository (else bare). */
  userRepo: boolean;
  xattrs: boolean;
  userMode: boolean;
  whiteouts: boolean;
  collectReachable: boolean;
}

/**
 * Upstream's (2022.7) exceptions to hardlinking a file object that could be hardlinked: symlinks
 * of bare-user(-only) repositories are made anew, empty files are copied (thousands of them share
 * one object, and a link count has a limit), and so are files their owner cannot read, in user
 * mode. `mode` is the file's (for bare-user, the header's, not the object's).
 */
export function copiedRatherThanLinked(o: { symlink: boolean; size: number; mode: number }, userRepo: boolean, userMode: boolean): boolean {
  if (o.symlink) return userRepo;
  return o.size === 0 || (userMode && (o.mode & 0o400) === 0);
}

/** True when a repository in `mode` can serve a hardlink checkout: its objects are plain files
 *  and symlinks (not compressed, no metadata kept aside) that the mode lets a checkout link. */
export function hardlinkCheckoutPossible(mode: RepoMode, userMode: boolean): boolean {
  const traits = modeTraits(mode);
  return !traits.compressed && !traits.metaInXattr && backendFor(mode).checkoutLinkable(userMode);
}

// ---------------------------------------------------------------------------------------------
// One thread's share of the work

/** What a thread hands back when it is done: the directories it filled, for their metadata. */
export interface FilledDir { path: string; meta: string; depth: number }

export class TreeFiller {
  private readonly metas = new Map<string, DirMeta>();
  private readonly objects: string;
  private objectsFd = -1;
  /** Upstream checks out bare-user-only repositories in user mode whatever was asked. */
  private readonly userMode: boolean;
  private readonly st: libc.LstatFields = { mode: 0, uid: 0, gid: 0, size: 0 };
  /** Directories this thread filled (metadata is applied after the whole checkout). */
  readonly filled: FilledDir[] = [];
  readonly reachable: string[] = [];
  files = 0;

  constructor(private readonly ctx: CheckoutContext, private readonly jobs: SharedJobs | null) {
    this.objects = `${ctx.repoPath}/objects`;
    this.loc = { path: ctx.repoPath, mode: ctx.mode };
    this.userMode = ctx.userMode || ctx.userRepo;
  }

  /** Resolves directory paths too long for one system call (trees thousands of levels deep). */
  private readonly paths = new LongPaths();

  private readonly loc: RepoLocation;

  private readObject(checksum: string, type: 'dirtree' | 'dirmeta'): Buffer {
    return readMetadataObject(this.loc, checksum, type);
  }

  meta(checksum: string): DirMeta {
    let m = this.metas.get(checksum);
    if (!m) {
      m = parseDirMeta(this.readObject(checksum, 'dirmeta'), `${checksum}.dirmeta`);
      this.metas.set(checksum, m);
    }
    return m;
  }

  /**
   * Fill directories until there are none left: `first` (this thread's start), then its own
   * pending ones, then whatever the shared stack offers. Hands pending directories to the shared
   * stack, highest first, while another thread is idle.
   */
  run(first: Pending | null, onProgress?: () => void): void {
    const own = this.objectsFd < 0;
    if (own) this.objectsFd = fs.openSync(this.objects, O_DIRECTORY_RDONLY);
    try {
      const local: Pending[] = first ? [first] : [];
      for (;;) {
        let p = local.pop();
        if (p === undefined) {
          if (this.jobs === null) return;
          const taken = this.jobs.take();
          if (taken === null) return;
          p = taken;
        }
        if (this.jobs?.aborted) return;
        this.fill(p, local);
        if (this.jobs !== null) {
          while (local.length > 1 && this.jobs.hungry && this.jobs.push(local[0]!)) local.shift();
        }
        onProgress?.();
      }
    } catch (e) {
      this.jobs?.abort();
      throw e;
    } finally {
      if (own) this.release();
    }
  }

  /** Link (or make, by the same rules) the entries `files` in the open directory `dfd` at `dir`:
   *  for patching an existing checkout (patch.ts). release() closes what this opens. */
  linkSome(files: DirTree['files'], dir: string, dfd: number): void {
    if (this.objectsFd < 0) this.objectsFd = fs.openSync(this.objects, O_DIRECTORY_RDONLY);
    this.linkFiles({ files, dirs: [] }, dir, dfd);
  }

  /** Close the objects directory and the long-path anchors. */
  release(): void {
    if (this.objectsFd >= 0) fs.closeSync(this.objectsFd);
    this.objectsFd = -1;
    this.paths.close();
  }

  /** Link the files of existing directory `p`, make its subdirectories and queue them. */
  private fill(p: Pending, local: Pending[]): void {
    const data = this.readObject(p.tree, 'dirtree');
    checkDeepTree(data, p.tree, p.depth, p.path);
    const t: DirTree = parseDirTree(data, `${p.tree}.dirtree`);
    this.meta(p.meta);
    if (this.ctx.collectReachable) {
      this.reachable.push(`${p.tree}.dirtree`, `${p.meta}.dirmeta`);
      for (const f of t.files) this.reachable.push(`${f.checksum}.file`);
    }
    const dfd = fs.openSync(this.paths.short(p.path), O_DIRECTORY_RDONLY);
    try {
      this.linkFiles(t, p.path, dfd);
      // Pushed in reverse so that they are filled in name order.
      for (let i = t.dirs.length - 1; i >= 0; i--) {
        const d = t.dirs[i]!;
        libc.mkdirAt(dfd, d.name, 0o700);
        local.push({ tree: d.treeChecksum, meta: d.metaChecksum, path: `${p.path}/${d.name}`, depth: p.depth + 1 });
      }
    } finally {
      fs.closeSync(dfd);
    }
    this.filled.push({ path: p.path, meta: p.meta, depth: p.depth });
    this.files += t.files.length;
  }

  private linkFiles(t: DirTree, dir: string, dfd: number): void {
    const { whiteouts, userRepo } = this.ctx;
    const st = this.st;
    const objectsFd = this.objectsFd;
    for (const f of t.files) {
      const name = f.name;
      const obj = `${f.checksum.slice(0, 2)}/${f.checksum.slice(2)}.file`;
      // One lstat per file, as upstream: the rules below depend on the object's type and size.
      try {
        libc.lstatAt(objectsFd, obj, st);
      } catch (e) {
        if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `object ${f.checksum}.file (for '${name}') not found in repository`);
        throw e;
      }
      const type = st.mode & S_IFMT;
      if (type !== S_IFREG && type !== S_IFLNK) {
        throw new OstreeError('ECORRUPT', `object ${f.checksum}.file (for '${dir}/${name}') is not a regular file or symlink (mode 0${st.mode.toString(8)}); the repository is corrupt: remove it and run 'ostree fsck'`);
      }
      const isLink = type === S_IFLNK;
      // Entries are made through the open directory: its path may be too long to use whole.
      const at = `/proc/self/fd/${dfd}`;
      if (whiteouts && !isLink && name.startsWith(WHITEOUT_PREFIX)) {
        const target = name.slice(WHITEOUT_PREFIX.length);
        if (target === '') throw new OstreeError('ECORRUPT', `invalid empty overlayfs whiteout '${dir}/${name}'`);
        this.whiteout(`${this.objects}/${obj}`, st, `${at}/${target}`);
      } else if (copiedRatherThanLinked({ symlink: isLink, size: st.size, mode: st.mode }, userRepo, this.userMode)) {
        this.copy(`${this.objects}/${obj}`, st, `${at}/${name}`);
      } else {
        try {
          libc.linkAt(objectsFd, obj, dfd, name);
        } catch (e) {
          for (const code of ['EXDEV', 'EMLINK', 'EPERM']) if (isErrno(e, code)) throw new NeedCopyFallback(code);
          if (isErrno(e, 'EEXIST')) throw new OstreeError('EEXIST', `'${dir}/${name}' already exists`);
          throw e;
        }
      }
    }
  }

  /** Make what copiedRatherThanLinked says is not hardlinked. */
  private copy(obj: string, st: libc.LstatFields, dst: string): void {
    if ((st.mode & S_IFMT) === S_IFLNK) {
      fs.symlinkSync(fs.readlinkSync(obj), dst);
      return;
    }
    if (st.size === 0) fs.writeFileSync(dst, '', { mode: 0o600, flag: 'wx' });
    else fs.copyFileSync(obj, dst, fs.constants.COPYFILE_EXCL);
    if (this.userMode) {
      fs.chmodSync(dst, (st.mode & 0o1777) | 0o400); // no setuid/setgid; readable by the user
    } else {
      fs.lchownSync(dst, st.uid, st.gid);
      if (this.ctx.xattrs) for (const [n, v] of libc.lgetxattrs(obj)) libc.lsetxattr(dst, n, v);
      fs.chmodSync(dst, st.mode & 0o7777);
    }
  }

  /** `.ostree-wh.NAME` → NAME, a 0:0 character device with the entry's mode, owner and xattrs. */
  private whiteout(obj: string, st: libc.LstatFields, dst: string): void {
    libc.mknod(dst, S_IFCHR | (st.mode & 0o7777), 0);
    if (this.userMode) return;
    if (this.ctx.xattrs) for (const [n, v] of libc.lgetxattrs(obj)) libc.lsetxattr(dst, n, v);
    fs.lchownSync(dst, st.uid, st.gid);
    fs.chmodSync(dst, st.mode & 0o7777);
  }

  /**
   * Directory metadata of `dirs`, deepest first. Called once no thread adds entries any more:
   * metadata changes of a child do not touch its parent, so the threads may do this side by
   * side; except without root, where a directory that loses its owner's search permission must
   * wait for everything below it (`late`).
   */
  finalize(dirs: readonly FilledDir[], late?: FilledDir[]): void {
    const { userMode, ctx: { xattrs, userRepo } } = this;
    const sorted = [...dirs].sort((a, b) => b.depth - a.depth);
    const root = process.getuid?.() === 0;
    for (const d of sorted) {
      const m = this.meta(d.meta);
      const p = this.paths.short(d.path);
      // bare-user-only: no world-writable, setuid or sticky directories, as upstream.
      const mode = userRepo ? m.mode & 0o775 : m.mode & 0o7777;
      if (late && !root && (mode & 0o500) !== 0o500) { late.push(d); continue; }
      if (!userMode) {
        fs.lchownSync(p, m.uid, m.gid);
        if (xattrs) for (const [n, v] of m.xattrs) libc.lsetxattr(p, n, v);
      }
      fs.chmodSync(p, mode);
      fs.utimesSync(p, 0, 0); // as upstream: checked-out directories get mtime 0
    }
    this.paths.close();
  }
}

/** Remove what a failed checkout had made (directories may already be read-only), without
 *  recursion: a depth-first walk with an explicit stack, each directory removed once empty. */
export function removePartialTree(root: string): void {
  const paths = new LongPaths();
  try {
    const st = fs.lstatSync(root, { throwIfNoEntry: false });
    if (!st) return;
    if (!st.isDirectory()) { fs.unlinkSync(root); return; }
    const stack: Array<{ path: string; listed: boolean }> = [{ path: root, listed: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const p = paths.short(top.path);
      if (top.listed) { fs.rmdirSync(p); stack.pop(); continue; }
      top.listed = true;
      fs.chmodSync(p, 0o700);
      for (const e of fs.readdirSync(p, { withFileTypes: true })) {
        if (e.isDirectory()) stack.push({ path: `${top.path}/${e.name}`, listed: false });
        else fs.unlinkSync(`${p}/${e.name}`);
      }
    }
  } finally {
    paths.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The checkout

/** What a worker answers. */
export type WorkerReply =
  | { ok: true; reachable: string[]; late: FilledDir[]; dirs: number }
  | { fallback: string }
  | { code: string; message: string };

interface PoolWorker { worker: Worker; reply: Promise<{ reachable: string[]; late: FilledDir[]; dirs: number }> }

function spawnWorker(ctx: CheckoutContext, jobs: SharedJobs): PoolWorker {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { ctx, buffers: jobs.buffers } });
  const reply = new Promise<{ reachable: string[]; late: FilledDir[]; dirs: number }>((resolve, reject) => {
    worker.once('message', (m: WorkerReply) => {
      if ('ok' in m) resolve(m);
      else if ('fallback' in m) reject(new NeedCopyFallback(m.fallback));
      else reject(new OstreeError(m.code as never, m.message));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new OstreeError('EIO', `checkout worker exited with code ${code} before answering`)));
  });
  reply.catch(() => { /* observed by the caller */ });
  return { worker, reply };
}

/**
 * Check out the tree `rootTree`/`rootMeta` of `repo` (a `bare` or `bare-user-only` repository)
 * into `dest`, which must not exist.
 */
export async function hardlinkCheckout(
  repo: { path: string; mode: RepoMode; config: { getBoolean(g: string, k: string, d: boolean): boolean } }, rootTree: string, rootMeta: string, dest: string, opts: HardlinkCheckoutOptions = {},
): Promise<{ dirs: number; dirsByWorkers: number }> {
  if (!hardlinkCheckoutPossible(repo.mode, opts.userMode === true)) {
    throw new OstreeError('EINVAL', `no hardlink checkout from a ${repo.mode} repository${opts.userMode ? ' in user mode' : ''}`);
  }
  const ctx: CheckoutContext = {
    repoPath: repo.path, mode: repo.mode, userRepo: !modeTraits(repo.mode).realOwnership, xattrs: !repo.config.getBoolean('core', 'disable-xattrs', false),
    userMode: opts.userMode === true, whiteouts: opts.whiteouts === true, collectReachable: opts.reachable !== undefined,
  };
  const threads = opts.threads ?? Math.min(2, os.availableParallelism());
  const jobs = threads > 1 ? new SharedJobs() : null;
  jobs?.join();
  const pool: PoolWorker[] = [];
  const startWorkers = (): void => { while (jobs !== null && pool.length < threads - 1) pool.push(spawnWorker(ctx, jobs)); };
  if (opts.threads !== undefined && jobs !== null) {
    // Asked for N threads: all of them wait for work before the first directory is filled.
    startWorkers();
    jobs.waitForIdle(threads - 1, 10_000);
  }

  try {
    fs.mkdirSync(dest, { mode: 0o700 });
  } catch (e) {
    for (const w of pool) void w.worker.terminate();
    if (isErrno(e, 'EEXIST')) throw new OstreeError('EEXIST', `checkout destination '${dest}' already exists`);
    throw e;
  }
  try {
    return await fillAndFinish(ctx, jobs, pool, startWorkers, rootTree, rootMeta, dest, opts);
  } catch (e) {
    // Nothing of a failed checkout stays behind (the caller may fall back to copying).
    removePartialTree(dest);
    throw e;
  }
}

/** The checkout proper, into the directory `dest` just made. */
async function fillAndFinish(
  ctx: CheckoutContext, jobs: SharedJobs | null, pool: PoolWorker[], startWorkers: () => void,
  rootTree: string, rootMeta: string, dest: string, opts: HardlinkCheckoutOptions,
): Promise<{ dirs: number; dirsByWorkers: number }> {
  const filler = new TreeFiller(ctx, jobs);
  let failure: unknown = null;
  try {
    // The worker starts once the tree shows itself large, and only when a CPU is idle (else it
    // would take turns with this thread, for nothing but its start-up's cost); its start-up
    // overlaps the work.
    let decided = pool.length > 0;
    filler.run({ tree: rootTree, meta: rootMeta, path: dest, depth: 0 }, () => {
      if (decided || filler.files < PARALLEL_MIN_FILES) return;
      decided = true;
      if (spareCpus() > 0) startWorkers();
    });
  } catch (e) {
    failure = e;
  }
  // The tree is complete (or abandoned): a worker still starting up has nothing left to do.
  if (jobs !== null && jobs.members === 1) {
    for (const w of pool) void w.worker.terminate();
    pool.length = 0;
  }
  const late: FilledDir[] = [];
  // Our directories' metadata while the worker applies its own.
  if (failure === null && !jobs?.aborted) {
    try { filler.finalize(filler.filled, late); } catch (e) { failure = e; }
  }
  const replies = await Promise.allSettled(pool.map((w) => w.reply));
  for (const w of pool) void w.worker.terminate();
  if (failure !== null) throw failure;
  let dirsByWorkers = 0;
  for (const r of replies) {
    if (r.status === 'rejected') throw r.reason;
    if (opts.reachable) for (const n of r.value.reachable) opts.reachable.add(n);
    late.push(...r.value.late);
    dirsByWorkers += r.value.dirs;
  }
  if (opts.reachable) for (const n of filler.reachable) opts.reachable.add(n);
  filler.finalize(late);
  return { dirs: filler.filled.length + dirsByWorkers, dirsByWorkers };
}
