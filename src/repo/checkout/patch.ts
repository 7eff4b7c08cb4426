/**
 * Turning a hardlink checkout of one tree into a hardlink checkout of another, in place, by
 * touching only what differs: the incremental deploy's engine (sysroot/deploy/recycle.ts).
 *
 * Two directories with the same dirtree and dirmeta checksums hold the same entries with the
 * same metadata, so a subtree whose checksums did not change is skipped whole: the work is in
 * proportion to the directories on the way to a change and the entries that changed. In a
 * directory that changed:
 * - a file whose checksum changed, or that is gone, is unlinked; a new or changed one is linked
 *   from the repository by the same rules as a fresh checkout (TreeFiller.linkSome);
 * - a subdirectory that is gone is removed; a new one is checked out fresh (TreeFiller.run);
 *   one present in both is visited in turn;
 * - the directory's metadata is set when its dirmeta changed (owner, mode, and exactly the new
 *   xattrs), and its mtime is set back to 0, as a fresh checkout leaves it.
 * The result is the fresh checkout's, file for file (test/sysroot/incremental-equal.test.ts).
 *
 * Only for `bare` repositories and checkouts made as root with whiteouts processed (what
 * `admin deploy` makes). A changed directory holding overlayfs whiteout entries raises
 * NeedFullCheckout: which on-disk name such an entry has depends on its object's type, and a
 * fresh checkout is simpler than mapping it.
 */
import * as fs from 'node:fs';
import { isErrno } from '../../errors.js';
import * as libc from '../../native/libc.js';
import { parseDirTree, type DirTree } from '../objects/dirtree.js';
import { readMetadataObject, type RepoLocation } from '../store.js';
import type { RepoMode } from '../modes/mode.js';
import { TreeFiller, removePartialTree, type CheckoutContext } from './hardlink.js';

const WHITEOUT_PREFIX = '.ostree-wh.';
const O_DIRECTORY_RDONLY = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | 0o2000000 /* O_CLOEXEC */;

/** A directory of a commit: its dirtree and dirmeta checksums. */
export interface TreeRef { tree: string; meta: string }

/** The patch cannot be made in place; the caller checks out afresh. */
export class NeedFullCheckout extends Error {}

export interface PatchOptions {
  /** At the top only these entries of the old checkout are kept and patched; every other
   *  top-level entry is removed first and made afresh (deployments keep only /usr). */
  keepTopLevel?: readonly string[];
}

export interface PatchStats { dirsVisited: number; linked: number; removed: number; dirsMade: number }

interface Visit { path: string; from: TreeRef; to: TreeRef }

/** Patch `dest`, a hardlink checkout (whiteouts processed) of `from`, into one of `to`. */
export function patchCheckout(
  repo: { path: string; mode: RepoMode; config: { getBoolean(g: string, k: string, d: boolean): boolean } },
  dest: string, from: TreeRef, to: TreeRef, opts: PatchOptions = {},
): PatchStats {
  if (repo.mode !== 'bare') throw new NeedFullCheckout(`in-place patching needs a bare repository (not ${repo.mode})`);
  const ctx: CheckoutContext = {
    repoPath: repo.path, mode: repo.mode, userRepo: false, xattrs: !repo.config.getBoolean('core', 'disable-xattrs', false),
    userMode: false, whiteouts: true, collectReachable: false,
  };
  return new Patcher(ctx, { path: repo.path, mode: repo.mode }).run(dest, from, to, opts);
}

class Patcher {
  private readonly filler: TreeFiller;
  private readonly stats: PatchStats = { dirsVisited: 0, linked: 0, removed: 0, dirsMade: 0 };
  /** Existing directories whose entries or metadata changed: mtime back to 0 at the end. */
  private readonly touched: Array<{ path: string; meta: string | null; depth: number }> = [];

  constructor(private readonly ctx: CheckoutContext, private readonly loc: RepoLocation) {
    this.filler = new TreeFiller(ctx, null);
  }

  private tree(checksum: string): DirTree {
    return parseDirTree(readMetadataObject(this.loc, checksum, 'dirtree'), `${checksum}.dirtree`);
  }

  run(dest: string, from: TreeRef, to: TreeRef, opts: PatchOptions): PatchStats {
    try {
      const stack: Array<Visit & { depth: number; keep?: readonly string[] }> = [{ path: dest, from, to, depth: 0, keep: opts.keepTopLevel }];
      while (stack.length > 0) {
        const v = stack.pop()!;
        this.visit(v, v.depth, v.keep, (next) => stack.push({ ...next, depth: v.depth + 1 }));
      }
      // New subtrees: their metadata, deepest first (as a fresh checkout does at its end).
      this.filler.finalize(this.filler.filled);
      this.touched.sort((a, b) => b.depth - a.depth);
      for (const t of this.touched) {
        if (t.meta !== null) this.applyMeta(t.path, t.meta);
        fs.utimesSync(t.path, 0, 0);
      }
      return this.stats;
    } finally {
      this.filler.release();
    }
  }

  /** One directory present in both trees. `keep`: at the top, the entries that may be reused. */
  private visit(v: Visit, depth: number, keep: readonly string[] | undefined, push: (v: Visit) => void): void {
    const sameEntries = v.from.tree === v.to.tree && keep === undefined;
    if (sameEntries && v.from.meta === v.to.meta) return;
    this.stats.dirsVisited++;
    this.touched.push({ path: v.path, meta: v.from.meta === v.to.meta ? null : v.to.meta, depth });
    if (sameEntries) return;
    const oldT = this.tree(v.from.tree);
    const newT = this.tree(v.to.tree);
    for (const e of [...oldT.files, ...newT.files]) {
      if (e.name.startsWith(WHITEOUT_PREFIX)) throw new NeedFullCheckout(`overlayfs whiteout '${v.path}/${e.name}' in a changed directory`);
    }
    const kept = (name: string): boolean => keep === undefined || keep.includes(name);
    const oldFiles = new Map(oldT.files.filter((f) => kept(f.name)).map((f) => [f.name, f.checksum]));
    const oldDirs = new Map(oldT.dirs.filter((d) => kept(d.name)).map((d) => [d.name, d]));
    const newFiles = new Map(newT.files.map((f) => [f.name, f.checksum]));
    const newDirs = new Map(newT.dirs.map((d) => [d.name, d]));
    const dfd = fs.openSync(v.path, O_DIRECTORY_RDONLY);
    try {
      if (keep !== undefined) this.removeUnkept(v.path, keep);
      for (const [name, csum] of oldFiles) {
        if (newFiles.get(name) === csum) continue;
        fs.unlinkSync(`${v.path}/${name}`);
        this.stats.removed++;
      }
      for (const [name, d] of oldDirs) {
        const n = newDirs.get(name);
        if (n) { push({ path: `${v.path}/${name}`, from: { tree: d.treeChecksum, meta: d.metaChecksum }, to: { tree: n.treeChecksum, meta: n.metaChecksum } }); continue; }
        removePartialTree(`${v.path}/${name}`);
        this.stats.removed++;
      }
      const toLink = newT.files.filter((f) => oldFiles.get(f.name) !== f.checksum);
      this.filler.linkSome(toLink, v.path, dfd);
      this.stats.linked += toLink.length;
      for (const d of newT.dirs) {
        if (oldDirs.has(d.name)) continue;
        libc.mkdirAt(dfd, d.name, 0o700);
        this.filler.run({ tree: d.treeChecksum, meta: d.metaChecksum, path: `${v.path}/${d.name}`, depth: depth + 1 });
        this.stats.dirsMade++;
      }
    } finally {
      fs.closeSync(dfd);
    }
  }

  /** At the top: everything but the entries kept goes (the running system may have changed it). */
  private removeUnkept(dir: string, keep: readonly string[]): void {
    for (const name of fs.readdirSync(dir)) {
      if (keep.includes(name)) continue;
      removePartialTree(`${dir}/${name}`);
      this.stats.removed++;
    }
  }

  /** Owner, exactly the dirmeta's xattrs, mode (mtime is set by the caller). */
  private applyMeta(p: string, metaChecksum: string): void {
    const m = this.filler.meta(metaChecksum);
    fs.lchownSync(p, m.uid, m.gid);
    if (this.ctx.xattrs) {
      const want = new Set(m.xattrs.map(([n]) => n));
      for (const n of libc.llistxattr(p)) {
        if (want.has(n)) continue;
        try { libc.lremovexattr(p, n); } catch (e) { if (!isErrno(e, 'ENODATA')) throw e; }
      }
      for (const [n, v] of m.xattrs) libc.lsetxattr(p, n, v);
    }
    fs.chmodSync(p, m.mode & 0o7777);
  }
}

/**
 * Every directory under `root` still has the mtime 0 a checkout gave it: nothing was added,
 * removed or renamed in it since (each would have set its mtime to the time of the change).
 * Returns the first directory that was changed, or null.
 */
export function firstChangedDirectory(root: string): string | null {
  const stack = [root];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let st: fs.Stats;
    try { st = fs.lstatSync(d); } catch (e) { if (isErrno(e, 'ENOENT')) return d; throw e; }
    if (!st.isDirectory() || st.mtimeMs !== 0) return d;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) stack.push(`${d}/${e.name}`);
  }
  return null;
}
