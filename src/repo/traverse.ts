/**
 * The commit and tree walker (upstream: ostree-repo-traverse.c): what a commit reaches (its
 * detached metadata, dirtrees, dirmetas and files, and `depth` parents), the parent chain for
 * `log`, and the ordered, named tree walk behind `ls -R` and `diff`.
 *
 * Every walk is iterative with an explicit stack, so a 10,000-level tree or a 10,000-commit
 * history costs heap, not call stack. Graphs that cannot exist in a sound repository (object
 * names are checksums of their content, so a commit cannot be its own ancestor and a dirtree
 * cannot contain itself) are still met in damaged or hostile ones, where reads do not verify
 * names: a parent chain that comes back to a commit already on it, and a subdirectory naming a
 * dirtree already on the path from the root, are reported as corrupt (CorruptGraphError, code
 * ECORRUPT), never followed.
 *
 * Metadata objects are read through store.ts (readMetadataObject and its loaders): never
 * blocking on a FIFO posing as an object, refusing anything but a regular file, and bounded by
 * upstream's metadata size limit.
 */
import * as fs from 'node:fs';
import { OstreeError, isErrno } from '../errors.js';
import { objectPath, commitState } from './layout.js';
import type { CommitObject } from './objects/commit.js';
import type { DirTree } from './objects/dirtree.js';
import { sha256hex } from './objects/checksum.js';
import { fileKind } from '../util/fs.js';
import { loadCommit, loadCommitIfPresent, loadDirTree, type RepoLocation } from './store.js';

/** A corruption of the object graph (a loop), naming the object where it shows. */
export class CorruptGraphError extends OstreeError {
  constructor(readonly objectName: string, message: string) {
    super('ECORRUPT', message);
  }
}

function notRegular(name: string, kind: string, p: string): OstreeError {
  return new OstreeError('ECORRUPT', `Object ${name} is ${kind}, not a regular file; the repository is corrupt (remove it, or run ostree fsck --delete)`, { path: p });
}

/**
 * Refuse a loose object that is neither a regular file nor a symlink (a FIFO, device, socket
 * or directory where an object should be) before code that is not FIFO-safe opens it. A
 * missing object passes: the reader reports it.
 */
export function assertObjectFileType(p: string, name: string): void {
  let st: fs.Stats;
  try { st = fs.lstatSync(p); } catch (e) { if (isErrno(e, 'ENOENT')) return; throw e; }
  if (!st.isFile() && !st.isSymbolicLink()) throw notRegular(name, fileKind(st), p);
}

// ---------------------------------------------------------------------------------------------
// Cycle detection: the one helper every walk of trees and histories uses

/**
 * The directories (dirtree checksums, or dev:ino for a filesystem) on the path from a walk's
 * root to where it is: entering one already on the path is a cycle. Cost: one Set entry per
 * level of the current path.
 */
export class PathGuard {
  private readonly onPath = new Set<string>();
  constructor(root?: string) { if (root !== undefined) this.onPath.add(root); }
  /** Enter `key`: false, without entering, when it is already on the path (a cycle). */
  enter(key: string): boolean {
    if (this.onPath.has(key)) return false;
    this.onPath.add(key);
    return true;
  }
  leave(key: string): void { this.onPath.delete(key); }
}

/**
 * A parent chain walked newest first: each step names the next commit, and a commit met again
 * in the same chain is a loop (CorruptGraphError naming the child that points back).
 */
export class ChainGuard {
  private readonly seen = new Set<string>();
  private last: string | null = null;
  step(commit: string): void {
    if (this.seen.has(commit)) throw historyLoop(this.last!, commit);
    this.seen.add(commit);
    this.last = commit;
  }
}

/**
 * What keeps a checkout of a corrupt tree finite without a path set: the checkout engines fill
 * directories in parallel, not in one depth-first order a PathGuard could follow. A dirtree
 * cannot list itself, directly or through its subdirectories (its checksum would be part of its
 * own content), so a tree that goes on forever has a dirtree whose content does not hash to its
 * name. Real trees are a few dozen levels deep: from VERIFY_DEPTH on, each dirtree a checkout
 * enters is hashed, and a mismatch, which ends any loop within one cycle of it, is corruption;
 * the shallow part of every tree costs nothing extra.
 */
export const VERIFY_DEPTH = 256;

/** ECORRUPT if `data`, the dirtree `checksum` met `depth` levels deep at `where`, is past
 *  VERIFY_DEPTH and does not hash to its checksum. */
export function checkDeepTree(data: Buffer, checksum: string, depth: number, where: string): void {
  if (depth < VERIFY_DEPTH) return;
  const actual = sha256hex(data);
  if (actual !== checksum) {
    const at = where.length > 160 ? `…${where.slice(-160)}` : where;
    throw new OstreeError('ECORRUPT', `dirtree ${checksum} (at '${at}', ${depth} levels deep) is corrupt: its content hashes to ${actual} (a dirtree that contains itself loops forever); run 'ostree fsck'`);
  }
}

// ---------------------------------------------------------------------------------------------
// Dirtrees

/** What a tree walk does at each object; deduplication is the caller's (a visited set). */
export interface TreeHooks {
  /**
   * A dirtree reached: its contents to descend into, or null not to (already visited, missing,
   * or already reported as bad).
   */
  tree(checksum: string): DirTree | null;
  /** The dirmeta of a subdirectory entry, met just before its dirtree. */
  dirmeta(checksum: string): void;
}

/**
 * Walk the dirtrees under `rootTree` depth-first, in entry order: tree(root), then for each
 * subdirectory dirmeta(meta) and its whole subtree before the next one (fsck reports problems
 * in this order). A subdirectory naming a dirtree on the path from the root is a cycle.
 */
export function walkDirTrees(rootTree: string, hooks: TreeHooks): void {
  const root = hooks.tree(rootTree);
  if (!root) return;
  const frames: Array<{ checksum: string; name: string; tree: DirTree; next: number }> = [{ checksum: rootTree, name: '', tree: root, next: 0 }];
  const guard = new PathGuard(rootTree);
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    if (f.next >= f.tree.dirs.length) {
      frames.pop();
      guard.leave(f.checksum);
      continue;
    }
    const d = f.tree.dirs[f.next++]!;
    hooks.dirmeta(d.metaChecksum);
    if (!guard.enter(d.treeChecksum)) throw treeCycle(d.treeChecksum, [...frames.slice(1).map((x) => x.name), d.name]);
    const t = hooks.tree(d.treeChecksum);
    if (t) frames.push({ checksum: d.treeChecksum, name: d.name, tree: t, next: 0 });
    else guard.leave(d.treeChecksum);
  }
}

function treeCycle(checksum: string, names: string[]): CorruptGraphError {
  return dirtreeCycle(checksum, `/${names.join('/')}`);
}

/** The error for the dirtree `checksum` met again inside itself, at path `at`. */
export function dirtreeCycle(checksum: string, at: string): CorruptGraphError {
  const shown = at.length > 200 ? `…${at.slice(-200)}` : at;
  return new CorruptGraphError(`${checksum}.dirtree`,
    `Corrupted dirtree object ${checksum}.dirtree: it contains itself (again at ${shown}); the repository is corrupt (run ostree fsck)`);
}

// ---------------------------------------------------------------------------------------------
// Commit closures

export interface ClosureOptions {
  /** Only the commit objects, not their trees (`prune --commit-only`). */
  commitOnly?: boolean;
  /** Add `<commit>.commitmeta` when the commit has detached metadata (one lstat per commit). */
  commitMeta?: boolean;
  /**
   * Complete closures known without a walk (`<checksum>.<type>` names), e.g. what a checkout
   * just read; consulted per commit.
   */
  known?: (commit: string) => ReadonlySet<string> | undefined;
}

/**
 * The set of objects reachable from commits, as `<checksum>.<type>` names, built one root at a
 * time (upstream: ostree_repo_traverse_commit_with_flags into one reachable table). A missing
 * parent ends its chain (repositories are often partial); a missing dirtree is an error unless
 * its commit is marked partial (upstream's rule; prune must not delete what a complete commit
 * still needs because one dirtree is unreadable).
 */
export class Reachable {
  readonly names = new Set<string>();
  /** Commit -> parents still to keep below it when it was walked (Infinity: all). */
  private readonly walked = new Map<string, number>();

  constructor(private readonly repo: RepoLocation, private readonly options: ClosureOptions = {}) {}

  has(name: string): boolean { return this.names.has(name); }

  /**
   * Add `commit` and `depth` parents (-1: all) with their trees. ENOENT if `commit` itself is
   * missing; CorruptGraphError if the parent chain loops or a tree contains itself.
   */
  addCommit(commit: string, depth: number): void {
    let remaining = depth < 0 ? Infinity : depth;
    const chain = new ChainGuard();
    let cur: string | null = commit;
    let child: string | null = null;
    while (cur !== null) {
      chain.step(cur);
      const before = this.walked.get(cur);
      if (before !== undefined && before >= remaining) return; // walked as deep already
      const c: CommitObject | null = child === null ? loadCommit(this.repo, cur) : loadCommitIfPresent(this.repo, cur);
      if (c === null) return;
      this.walked.set(cur, remaining);
      if (before === undefined) this.addCommitObjects(cur, c);
      if (remaining <= 0) return;
      remaining--;
      child = cur;
      cur = c.parent;
    }
  }

  private addCommitObjects(checksum: string, c: CommitObject): void {
    const names = this.names;
    names.add(`${checksum}.commit`);
    if (this.options.commitOnly) return;
    if (this.options.commitMeta && fs.existsSync(objectPath(this.repo.path, checksum, 'commitmeta', this.repo.mode))) names.add(`${checksum}.commitmeta`);
    const known = this.options.known?.(checksum);
    if (known) { for (const n of known) names.add(n); return; }
    const partial = commitState(this.repo.path, checksum) !== 'normal';
    names.add(`${c.rootMeta}.dirmeta`);
    walkDirTrees(c.rootTree, {
      tree: (t) => {
        const n = `${t}.dirtree`;
        if (names.has(n)) return null;
        names.add(n);
        let dt: DirTree;
        try { dt = loadDirTree(this.repo, t); } catch (e) {
          if (!(e instanceof OstreeError && e.code === 'ENOENT')) throw e;
          if (partial) return null;
          throw new OstreeError('ENOENT', `Commit ${checksum} is not marked partial, but its dirtree ${t}.dirtree is missing; the repository is damaged (run ostree fsck)`, { cause: e });
        }
        for (const f of dt.files) names.add(`${f.checksum}.file`);
        return dt;
      },
      dirmeta: (m) => { names.add(`${m}.dirmeta`); },
    });
  }
}

function historyLoop(child: string, parent: string): CorruptGraphError {
  return new CorruptGraphError(`${parent}.commit`,
    `Corrupted commit history: commit ${child} names ${parent} as its parent, which already appears earlier in the same history (the parent chain loops); the repository is corrupt (run ostree fsck)`);
}

/** Everything reachable from `commit` and `depth` parents (-1: all) as `<checksum>.<type>` names. */
export function commitClosure(repo: RepoLocation, commit: string, depth = 0, options: ClosureOptions = {}): Set<string> {
  const r = new Reachable(repo, options);
  r.addCommit(commit, depth);
  return r.names;
}

// ---------------------------------------------------------------------------------------------
// History

export interface ChainLink {
  checksum: string;
  /** null: not in this repository (only for a parent: the chain ends there, as `log` shows). */
  commit: CommitObject | null;
  /** 0 for the starting commit, 1 for its parent, ... */
  depth: number;
}

/**
 * The commit `checksum` and its ancestors, newest first. The starting commit must exist
 * (ENOENT otherwise); a missing parent is yielded once with `commit: null` and ends the chain;
 * a chain that comes back to a commit already yielded throws CorruptGraphError.
 */
export function* parentChain(repo: RepoLocation, checksum: string): Generator<ChainLink, void, void> {
  const chain = new ChainGuard();
  let cur: string | null = checksum;
  for (let depth = 0; cur !== null; depth++) {
    chain.step(cur);
    const c: CommitObject | null = depth === 0 ? loadCommit(repo, cur) : loadCommitIfPresent(repo, cur);
    yield { checksum: cur, commit: c, depth };
    if (c === null) return;
    cur = c.parent;
  }
}

// ---------------------------------------------------------------------------------------------
// Ordered, named walks

/**
 * Pre-order walk of any tree of nodes: yields [path, node, depth] for every descendant of
 * `root` (not root itself), a directory before its children, children in `children()` order.
 * `key` identifies a directory (dirtree checksum, dev:ino); a directory whose key is already on
 * the path from the root is a cycle: `onCycle(key, path)` gives the error to throw.
 */
export function* preorder<N>(root: N, prefix: string, children: (n: N) => Iterable<[string, N]> | null,
  key: (n: N) => string | undefined, onCycle: (key: string, path: string) => Error): Generator<[string, N, number], void, void> {
  const first = children(root);
  if (!first) return;
  const rootKey = key(root);
  const frames: Array<{ it: Iterator<[string, N]>; path: string; key: string | undefined }> = [{ it: first[Symbol.iterator](), path: prefix, key: rootKey }];
  const guard = new PathGuard(rootKey);
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    const step = f.it.next();
    if (step.done) {
      frames.pop();
      if (f.key !== undefined) guard.leave(f.key);
      continue;
    }
    const [name, node] = step.value;
    const p = `${f.path}/${name}`;
    yield [p, node, frames.length];
    const sub = children(node);
    if (!sub) continue;
    const k = key(node);
    if (k !== undefined && !guard.enter(k)) throw onCycle(k, p);
    frames.push({ it: sub[Symbol.iterator](), path: p, key: k });
  }
}

/** One entry of a commit's tree: a file (content checksum) or a directory (dirtree + dirmeta). */
export type TreeEntry =
  | { kind: 'file'; path: string; name: string; depth: number; checksum: string }
  | { kind: 'dir'; path: string; name: string; depth: number; treeChecksum: string; metaChecksum: string };

interface DirNode { tree: string; meta: string }

/**
 * Every entry under the dirtree `rootTree` in upstream's listing order (files, then
 * directories, each in tree order; a directory's contents right after it). `prefix` is the
 * path of the root ('' for '/'); `recursive: false` lists the root's own entries only.
 * CorruptGraphError if a dirtree contains itself.
 */
export function* walkTree(repo: RepoLocation, rootTree: string, options: { prefix?: string; recursive?: boolean } = {}): Generator<TreeEntry, void, void> {
  const recursive = options.recursive ?? true;
  const root: DirNode = { tree: rootTree, meta: '' };
  const children = (n: DirNode | string): Array<[string, DirNode | string]> | null => {
    if (typeof n === 'string' || (!recursive && n !== root)) return null;
    const t = loadDirTree(repo, n.tree);
    return [
      ...t.files.map((f): [string, string] => [f.name, f.checksum]),
      ...t.dirs.map((d): [string, DirNode] => [d.name, { tree: d.treeChecksum, meta: d.metaChecksum }]),
    ];
  };
  const key = (n: DirNode | string): string | undefined => (typeof n === 'string' ? undefined : n.tree);
  const onCycle = (k: string, p: string): Error => treeCycle(k, p.split('/').filter((x) => x !== ''));
  for (const [p, n, depth] of preorder<DirNode | string>(root, options.prefix ?? '', children, key, onCycle)) {
    const name = p.slice(p.lastIndexOf('/') + 1);
    if (typeof n === 'string') yield { kind: 'file', path: p, name, depth, checksum: n };
    else yield { kind: 'dir', path: p, name, depth, treeChecksum: n.tree, metaChecksum: n.meta };
  }
}
