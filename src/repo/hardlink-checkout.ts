/**
 * Hardlink checkouts from `bare` and `bare-user-only` repositories: what `ostree checkout -H`
 * and `admin deploy` (§1.3 step 1) make. Every file object — and, in `bare`, every symlink
 * object — is hardlinked as it is, so no per-file header is read; what costs time is the kernel's
 * mkdir and link, and this module keeps everything else out of their way:
 *
 * - dirtrees are decoded with the strict parser of objects.ts, each dirmeta once per checksum;
 * - paths are built by concatenation;
 * - the tree is cut into disjoint subtrees (by size, from the walk that also collects the set of
 *   objects the commit reaches), which this thread and a worker thread (checkout-worker.ts) claim
 *   from a shared counter, so the mkdir and link calls run on two cores;
 * - directory metadata (owner, xattrs unless core.disable-xattrs, mode, mtime 0) is applied
 *   post-order, after a directory is filled, so read-only directories can be populated;
 * - with `whiteouts`, `.ostree-wh.NAME` entries become overlayfs whiteouts (char device 0:0).
 *
 * A hardlink the kernel refuses (EXDEV, EMLINK, EPERM) raises NeedCopyFallback; the caller removes
 * the partial tree and copies instead (Repo.checkout's generic path).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { OstreeError, isErrno } from '../errors.js';
import * as libc from '../../native-bindings/libc.js';
import { parseDirMeta, parseDirTree, type DirMeta, type DirTree } from './objects.js';

const WHITEOUT_PREFIX = '.ostree-wh.';
const S_IFCHR = 0o020000;

/** Below this many entries a worker thread costs more to start than it saves. */
const PARALLEL_MIN_ENTRIES = 4000;
/** A subtree is cut further while it holds more than 1/JOB_SPLIT of all entries. */
const JOB_SPLIT = 24;
/** One mkdir costs about as much as this many links (ext4, measured here). */
const MKDIR_WEIGHT = 8;

/** A hardlink was refused (other filesystem, link limit, protected_hardlinks): copy instead. */
export class NeedCopyFallback extends Error {
  constructor(readonly errno: string) { super(`hardlink refused (${errno})`); }
}

export interface HardlinkCheckoutOptions {
  /** `.ostree-wh.NAME` → an overlayfs whiteout NAME (deployments; `--process-whiteouts`). */
  whiteouts?: boolean;
  /** `-U`: no ownership or xattrs, mode & 0o1777 (bare-user-only repositories). */
  userMode?: boolean;
  /** Threads (this one included); default: 2 when the tree is large and 2+ CPUs exist. */
  threads?: number;
  /** Fill in every object the commit's tree reaches, as prune names them (`<checksum>.<type>`). */
  reachable?: Set<string>;
}

/** What the worker needs to check out subtrees on its own. */
export interface SubtreeContext {
  repoPath: string;
  xattrs: boolean;
  userMode: boolean;
  whiteouts: boolean;
}

/** A subtree to check out: `dest` does not exist yet; its parent does. */
export interface SubtreeJob { tree: string; meta: string; dest: string }

/** True when `repo` can serve a hardlink checkout with these options. */
export function hardlinkCheckoutPossible(mode: string, userMode: boolean): boolean {
  return mode === 'bare-user-only' || (mode === 'bare' && !userMode);
}

function objectFile(repoPath: string, checksum: string, ext: string): string {
  return `${repoPath}/objects/${checksum.slice(0, 2)}/${checksum.slice(2)}.${ext}`;
}

function readMetadataObject(repoPath: string, checksum: string, type: 'dirtree' | 'dirmeta'): Buffer {
  try {
    return fs.readFileSync(objectFile(repoPath, checksum, type));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `object ${checksum}.${type} not found in repository ${repoPath}`);
    throw e;
  }
}

/**
 * Writes subtrees. One per thread; `finish()` applies the directory metadata of everything it
 * made, children before parents.
 */
export class SubtreeWriter {
  private readonly metas = new Map<string, DirMeta>();
  private readonly finalizers: Array<[string, DirMeta]> = [];
  private readonly objects: string;

  constructor(private readonly ctx: SubtreeContext, private readonly trees?: Map<string, DirTree>) {
    this.objects = `${ctx.repoPath}/objects/`;
  }

  meta(checksum: string): DirMeta {
    let m = this.metas.get(checksum);
    if (!m) {
      m = parseDirMeta(readMetadataObject(this.ctx.repoPath, checksum, 'dirmeta'), `${checksum}.dirmeta`);
      this.metas.set(checksum, m);
    }
    return m;
  }

  tree(checksum: string): DirTree {
    return this.trees?.get(checksum) ?? parseDirTree(readMetadataObject(this.ctx.repoPath, checksum, 'dirtree'), `${checksum}.dirtree`);
  }

  /** mkdir `dest` and link its files; with `recurse`, its subdirectories too. */
  dir(tree: string, meta: string, dest: string, recurse: boolean): void {
    const m = this.meta(meta);
    const t = this.tree(tree);
    try {
      fs.mkdirSync(dest, { mode: 0o700 });
    } catch (e) {
      if (isErrno(e, 'EEXIST')) throw new OstreeError('EEXIST', `checkout destination '${dest}' already exists`);
      throw e;
    }
    this.files(t, dest);
    if (recurse) for (const d of t.dirs) this.dir(d.treeChecksum, d.metaChecksum, `${dest}/${d.name}`, true);
    this.finalizers.push([dest, m]);
  }

  private files(t: DirTree, dest: string): void {
    const objects = this.objects;
    const whiteouts = this.ctx.whiteouts;
    for (const f of t.files) {
      const name = f.name;
      if (whiteouts && name.startsWith(WHITEOUT_PREFIX)) {
        libc.mknod(`${dest}/${name.slice(WHITEOUT_PREFIX.length)}`, S_IFCHR | 0, 0);
        continue;
      }
      const obj = `${objects}${f.checksum.slice(0, 2)}/${f.checksum.slice(2)}.file`;
      try {
        fs.linkSync(obj, `${dest}/${name}`);
      } catch (e) {
        if (isErrno(e, 'ENOENT') && !fs.existsSync(obj)) throw new OstreeError('ENOENT', `object ${f.checksum}.file (for '${name}') not found in repository`);
        for (const code of ['EXDEV', 'EMLINK', 'EPERM']) if (isErrno(e, code)) throw new NeedCopyFallback(code);
        throw e;
      }
    }
  }

  /** Directory metadata, post-order (a read-only directory gets its mode once it is filled). */
  finish(): void {
    const { userMode, xattrs } = this.ctx;
    for (const [dir, m] of this.finalizers) {
      if (!userMode) {
        fs.lchownSync(dir, m.uid, m.gid);
        if (xattrs) for (const [n, v] of m.xattrs) libc.lsetxattr(dir, n, v);
      }
      fs.chmodSync(dir, userMode ? m.mode & 0o1777 : m.mode & 0o7777);
      fs.utimesSync(dir, 0, 0); // as upstream: checked-out directories get mtime 0
    }
    this.finalizers.length = 0;
  }
}

/** Remove what a checkout that fell back had made (directories may already be read-only). */
export function removePartialTree(p: string): void {
  let st: fs.Stats | undefined;
  try { st = fs.lstatSync(p); } catch (e) { if (isErrno(e, 'ENOENT')) return; throw e; }
  if (st.isDirectory()) {
    fs.chmodSync(p, 0o700);
    for (const n of fs.readdirSync(p)) removePartialTree(`${p}/${n}`);
    fs.rmdirSync(p);
  } else {
    fs.unlinkSync(p);
  }
}

/** Claim jobs from `shared[0]` until none are left or `shared[1]` (abort) is set. */
export function runClaimedJobs(writer: SubtreeWriter, jobs: readonly SubtreeJob[], shared: Int32Array): void {
  for (;;) {
    if (Atomics.load(shared, 1) !== 0) return;
    const i = Atomics.add(shared, 0, 1);
    if (i >= jobs.length) return;
    try {
      const j = jobs[i]!;
      writer.dir(j.tree, j.meta, j.dest, true);
      writer.finish();
    } catch (e) {
      Atomics.store(shared, 1, 1);
      throw e;
    }
  }
}

interface Node { tree: string; meta: string; dest: string; t: DirTree; children: Node[]; weight: number }

/**
 * Check out the tree `rootTree`/`rootMeta` of `repo` (a `bare` or `bare-user-only` repository
 * at `repoPath`) into `dest`, which must not exist.
 */
export async function hardlinkCheckout(
  repoPath: string, disableXattrs: boolean, rootTree: string, rootMeta: string, dest: string, opts: HardlinkCheckoutOptions = {},
): Promise<void> {
  const ctx: SubtreeContext = { repoPath, xattrs: !disableXattrs, userMode: opts.userMode === true, whiteouts: opts.whiteouts === true };
  const reachable = opts.reachable;
  // Walk every dirtree first: subtree sizes decide how to share the work, and the walk is the
  // commit's reachable set (deploy hands it to the cleanup's prune).
  const trees = new Map<string, DirTree>();
  const reader = new SubtreeWriter(ctx);
  let entries = 0;
  const walk = (tree: string, meta: string, at: string): Node => {
    let t = trees.get(tree);
    if (!t) { t = reader.tree(tree); trees.set(tree, t); }
    if (reachable) {
      reachable.add(`${tree}.dirtree`);
      reachable.add(`${meta}.dirmeta`);
      for (const f of t.files) reachable.add(`${f.checksum}.file`);
    }
    const children = t.dirs.map((d) => walk(d.treeChecksum, d.metaChecksum, `${at}/${d.name}`));
    let weight = t.files.length + MKDIR_WEIGHT;
    for (const c of children) weight += c.weight;
    entries += t.files.length + 1;
    return { tree, meta, dest: at, t, children, weight };
  };
  const root = walk(rootTree, rootMeta, dest);

  const threads = opts.threads ?? (entries >= PARALLEL_MIN_ENTRIES ? Math.min(2, os.availableParallelism()) : 1);
  if (threads <= 1) {
    const writer = new SubtreeWriter(ctx, trees);
    writer.dir(rootTree, rootMeta, dest, true);
    writer.finish();
    return;
  }

  // Cut the tree: open up the heaviest subtree (its own directory is made here, first) until
  // none holds more than 1/JOB_SPLIT of the whole; the rest are jobs, heaviest first.
  const opened: Node[] = [];
  const jobs: Node[] = [root];
  const limit = root.weight / JOB_SPLIT;
  for (;;) {
    let k = -1;
    for (let i = 0; i < jobs.length; i++) if (jobs[i]!.children.length > 0 && jobs[i]!.weight > limit && (k < 0 || jobs[i]!.weight > jobs[k]!.weight)) k = i;
    if (k < 0) break;
    const n = jobs[k]!;
    jobs.splice(k, 1, ...n.children);
    opened.push(n);
  }
  jobs.sort((a, b) => b.weight - a.weight);
  const jobList: SubtreeJob[] = jobs.map((n) => ({ tree: n.tree, meta: n.meta, dest: n.dest }));

  const shared = new Int32Array(new SharedArrayBuffer(12)); // [next job, abort, go]
  const workers: Array<Promise<void>> = [];
  const started: Worker[] = [];
  for (let i = 1; i < threads; i++) {
    const w = new Worker(new URL('./checkout-worker.js', import.meta.url), { workerData: { ctx, jobs: jobList, shared } });
    started.push(w);
    workers.push(new Promise<void>((resolve, reject) => {
      w.once('message', (m: { ok: true } | { fallback: string } | { code: string; message: string }) => {
        if ('ok' in m) resolve();
        else if ('fallback' in m) reject(new NeedCopyFallback(m.fallback));
        else reject(new OstreeError(m.code as never, m.message));
      });
      w.once('error', reject);
      w.once('exit', (code) => reject(new OstreeError('EIO', `checkout worker exited with code ${code} before answering`)));
    }));
  }
  const go = (): void => { Atomics.store(shared, 2, 1); Atomics.notify(shared, 2); };
  let failure: unknown = null;
  // The opened directories, parent-first as the cut found them, with their own files; the workers
  // wait for `go` (their jobs' parents exist then). Their metadata comes after every job is done.
  const openedWriter = new SubtreeWriter(ctx, trees);
  try {
    for (const n of opened) openedWriter.dir(n.tree, n.meta, n.dest, false);
  } catch (e) {
    Atomics.store(shared, 1, 1);
    failure = e;
  }
  go();
  const wait = Promise.allSettled(workers);
  if (failure === null) {
    try { runClaimedJobs(new SubtreeWriter(ctx, trees), jobList, shared); } catch (e) { failure = e; }
  }
  const results = await wait;
  for (const w of started) void w.terminate();
  if (failure !== null) throw failure;
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  openedWriter.finish();
}
