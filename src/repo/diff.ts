/**
 * `ostree diff`: compare two trees (commits or directories) as upstream ostree_diff_dirs does:
 * walk A's entries (commit trees: files then subdirectories, each sorted; directories: readdir
 * order, each batch of 1000 names sorted by inode as GIO does); an entry missing in B is
 * removed, a different file type or content checksum is modified (directories compare their
 * dirmeta checksum, and are recursed into); then B's entries missing in A are added (a
 * directory with all its descendants, parent first). Two commit directories with the same
 * dirtree checksum are skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as libc from '../native/libc.js';
import { OstreeError, isErrno } from '../errors.js';
import { S_IFMT, S_IFDIR, S_IFLNK, S_IFREG } from './objects/common.js';
import { serializeDirMeta } from './objects/dirmeta.js';
import { serializeFileHeader, BARE_USER_XATTR } from './objects/file-header.js';
import { sha256hex } from './objects/checksum.js';
import { sortXattrs } from './objects/xattrs.js';
import { type DirTree } from './objects/dirtree.js';
import { objectPath } from './layout.js';
import { PathGuard, assertObjectFileType, dirtreeCycle, preorder } from './traverse.js';
import { loadCommit, loadDirTree } from './store.js';
import type { Repo } from './repo.js';

export interface DiffResult {
  /** Paths with a leading '/', relative to the compared roots. */
  modified: string[];
  removed: string[];
  added: string[];
  /** Whether A / B were directories (upstream prints their paths without the leading '/'). */
  aIsDir?: boolean;
  bIsDir?: boolean;
}

export interface DiffOptions {
  /** Don't include xattrs in checksums (always on for bare-user-only repos). */
  noXattrs?: boolean;
  /** Treat B's files as owned by this uid/gid (for directory targets). */
  ownerUid?: number;
  ownerGid?: number;
}

type Kind = 'file' | 'dir' | 'symlink' | 'special';

interface Node {
  kind: Kind;
  checksum(): string;
  /** Children in enumeration order (directories only). */
  children(): Array<[string, Node]>;
  child(name: string): Node | null;
  /** For commit directories: the dirtree checksum (fast path). */
  treeChecksum?: string;
  /** Identity of a directory (dirtree checksum, dev:ino) for cycle detection. */
  key?: string;
}

function kindOfMode(mode: number): Kind {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'file';
    case S_IFDIR: return 'dir';
    case S_IFLNK: return 'symlink';
    default: return 'special';
  }
}

class RepoDir implements Node {
  kind: Kind = 'dir';
  private tree: DirTree | null = null;
  private byName: Map<string, Node> | null = null;
  constructor(private repo: Repo, readonly treeChecksum: string, private meta: string) {}
  get key(): string { return this.treeChecksum; }
  checksum(): string { return this.meta; }
  private load(): DirTree { return (this.tree ??= loadDirTree(this.repo, this.treeChecksum)); }
  children(): Array<[string, Node]> {
    const t = this.load();
    return [
      ...t.files.map((f): [string, Node] => [f.name, new RepoFileNode(this.repo, f.checksum)]),
      ...t.dirs.map((d): [string, Node] => [d.name, new RepoDir(this.repo, d.treeChecksum, d.metaChecksum)]),
    ];
  }
  child(name: string): Node | null {
    // One map per directory: looking every name of the other side up by scanning was
    // quadratic in the directory's size.
    if (this.byName === null) {
      const t = this.load();
      const m = new Map<string, Node>();
      for (const f of t.files) m.set(f.name, new RepoFileNode(this.repo, f.checksum));
      for (const d of t.dirs) m.set(d.name, new RepoDir(this.repo, d.treeChecksum, d.metaChecksum));
      this.byName = m;
    }
    return this.byName.get(name) ?? null;
  }
}

class RepoFileNode implements Node {
  private k: Kind | null = null;
  constructor(private repo: Repo, private csum: string) {}
  /** The file type, from the object's header (read when first asked). */
  get kind(): Kind {
    if (this.k === null) {
      // A FIFO posing as the object must not be opened (reading its header would block).
      assertObjectFileType(objectPath(this.repo.path, this.csum, 'file', this.repo.mode), `${this.csum}.file`);
      this.k = kindOfMode(this.repo.readFileHeaderSync(this.csum).header.mode);
    }
    return this.k;
  }
  checksum(): string { return this.csum; }
  children(): Array<[string, Node]> { return []; }
  child(): Node | null { return null; }
}

/** GIO's enumeration order: readdir order, each batch of 1000 sorted by inode. */
function gioOrder(dir: string): string[] {
  const d = fs.opendirSync(dir);
  const names: string[] = [];
  try { for (let e = d.readSync(); e !== null; e = d.readSync()) names.push(e.name); } finally { d.closeSync(); }
  const out: string[] = [];
  for (let i = 0; i < names.length; i += 1000) {
    const batch = names.slice(i, i + 1000).map((n) => ({ n, ino: fs.lstatSync(path.join(dir, n), { bigint: true }).ino }));
    batch.sort((a, b) => (a.ino < b.ino ? -1 : a.ino > b.ino ? 1 : 0));
    out.push(...batch.map((x) => x.n));
  }
  return out;
}

class FsNode implements Node {
  kind: Kind;
  private st: fs.Stats;
  constructor(private p: string, private o: DiffOptions, st?: fs.Stats) {
    this.st = st ?? fs.lstatSync(p);
    this.kind = this.st.isFile() ? 'file' : this.st.isDirectory() ? 'dir' : this.st.isSymbolicLink() ? 'symlink' : 'special';
  }
  get key(): string { return `${this.st.dev}:${this.st.ino}`; }
  private xattrs(): Array<[string, Buffer]> {
    if (this.o.noXattrs) return [];
    return sortXattrs(libc.lgetxattrs(this.p).filter(([n]) => n !== BARE_USER_XATTR));
  }
  checksum(): string {
    const uid = this.o.ownerUid ?? this.st.uid;
    const gid = this.o.ownerGid ?? this.st.gid;
    if (this.kind === 'dir') return sha256hex(serializeDirMeta({ uid, gid, mode: this.st.mode, xattrs: this.xattrs() }));
    const target = this.kind === 'symlink' ? fs.readlinkSync(this.p) : '';
    const h = createHash('sha256').update(serializeFileHeader({ uid, gid, mode: this.st.mode, rdev: 0, symlinkTarget: target, xattrs: this.xattrs() }));
    if (this.kind === 'file') h.update(fs.readFileSync(this.p));
    return h.digest('hex');
  }
  children(): Array<[string, Node]> {
    return gioOrder(this.p).map((n) => [n, new FsNode(path.join(this.p, n), this.o)]);
  }
  child(name: string): Node | null {
    try { return new FsNode(path.join(this.p, name), this.o); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return null; throw e; }
  }
}

/** A directory met again inside itself: `key` is a dirtree checksum (commit side) or dev:ino. */
function dirCycle(key: string, p: string): Error {
  if (/^[0-9a-f]{64}$/.test(key)) return dirtreeCycle(key, p);
  return new OstreeError('ECORRUPT', `directory ${p} contains itself (a bind-mount loop?); refusing to compare it`);
}

const childrenOf = (n: Node): Array<[string, Node]> | null => (n.kind === 'dir' ? n.children() : null);

/** `d`'s descendants, parent first (upstream's diff_add_dir_recurse), as added. */
function addAll(d: Node, prefix: string, r: DiffResult): void {
  for (const [p] of preorder<Node>(d, prefix, childrenOf, (n) => n.key, dirCycle)) r.added.push(p);
}

interface Pair { a: Node; b: Node; prefix: string; it: Iterator<[string, Node]> }

/**
 * Upstream's diff_dirs, iteratively: for a pair of directories, A's entries in order (a
 * directory pair is compared completely before A's next entry), then B's entries missing from
 * A. Each side's directories on the current path are tracked: meeting one again is a cycle.
 */
function diffDirs(ra: Node, rb: Node, r: DiffResult): void {
  if (ra.treeChecksum !== undefined && ra.treeChecksum === rb.treeChecksum) return;
  const stack: Pair[] = [{ a: ra, b: rb, prefix: '', it: ra.children()[Symbol.iterator]() }];
  const pathA = new PathGuard(ra.key ?? '');
  const pathB = new PathGuard(rb.key ?? '');
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const step = f.it.next();
    if (step.done) {
      for (const [name, cb] of f.b.children()) {
        if (f.a.child(name)) continue;
        const p = `${f.prefix}/${name}`;
        r.added.push(p);
        if (cb.kind === 'dir') addAll(cb, p, r);
      }
      stack.pop();
      pathA.leave(f.a.key ?? '');
      pathB.leave(f.b.key ?? '');
      continue;
    }
    const [name, ca] = step.value;
    const p = `${f.prefix}/${name}`;
    const cb = f.b.child(name);
    if (!cb) { r.removed.push(p); continue; }
    if (ca.kind !== cb.kind) { r.modified.push(p); continue; }
    if (ca.checksum() !== cb.checksum()) r.modified.push(p);
    if (ca.kind !== 'dir' || (ca.treeChecksum !== undefined && ca.treeChecksum === cb.treeChecksum)) continue;
    if (!pathA.enter(ca.key ?? '')) throw dirCycle(ca.key ?? '', p);
    if (!pathB.enter(cb.key ?? '')) throw dirCycle(cb.key ?? '', p);
    stack.push({ a: ca, b: cb, prefix: p, it: ca.children()[Symbol.iterator]() });
  }
}

/** Upstream's argument rule: `/…` or `./…` is a directory, anything else a revision. */
export function isDirArgument(arg: string): boolean {
  return arg.startsWith('/') || arg.startsWith('./');
}

async function rootOf(repo: Repo, arg: string, o: DiffOptions, side: 'A' | 'B'): Promise<Node> {
  if (isDirArgument(arg)) {
    let st: fs.Stats;
    try { st = fs.lstatSync(arg); } catch (e) {
      if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `No such file or directory: ${arg}`);
      throw e;
    }
    if (!st.isDirectory()) throw new OstreeError('EINVAL', `'${arg}' is not a directory`);
    return new FsNode(arg, side === 'B' ? o : { noXattrs: o.noXattrs }, st);
  }
  const c = loadCommit(repo, await repo.resolveRev(arg));
  return new RepoDir(repo, c.rootTree, c.rootMeta);
}

/** Compare `a` and `b` (each a revision or, starting with `/` or `./`, a directory). */
export async function diffTrees(repo: Repo, a: string, b: string, options: DiffOptions = {}): Promise<DiffResult> {
  const o: DiffOptions = { ...options };
  if (repo.mode === 'bare-user-only' || repo.config.getBoolean('core', 'disable-xattrs', false)) o.noXattrs = true;
  const ra = await rootOf(repo, a, o, 'A');
  const rb = await rootOf(repo, b, o, 'B');
  const r: DiffResult = { modified: [], removed: [], added: [], aIsDir: isDirArgument(a), bIsDir: isDirArgument(b) };
  diffDirs(ra, rb, r);
  return r;
}

/** Upstream's `ostree diff` lines: modified, then removed, then added. */
export function formatDiff(r: DiffResult): string {
  const a = (p: string): string => (r.aIsDir ? p.slice(1) : p);
  const b = (p: string): string => (r.bIsDir ? p.slice(1) : p);
  return [
    ...r.modified.map((p) => `M    ${a(p)}\n`),
    ...r.removed.map((p) => `D    ${a(p)}\n`),
    ...r.added.map((p) => `A    ${b(p)}\n`),
  ].join('');
}
