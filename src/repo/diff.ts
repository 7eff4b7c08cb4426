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
import { S_IFMT, S_IFDIR, S_IFLNK, S_IFREG, serializeDirMeta, serializeFileHeader, sha256hex, sortXattrs, BARE_USER_XATTR, type DirTree } from './objects.js';
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
  constructor(private repo: Repo, readonly treeChecksum: string, private meta: string) {}
  checksum(): string { return this.meta; }
  private load(): DirTree { return (this.tree ??= this.repo.loadDirTreeSync(this.treeChecksum)); }
  children(): Array<[string, Node]> {
    const t = this.load();
    return [
      ...t.files.map((f): [string, Node] => [f.name, new RepoFileNode(this.repo, f.checksum)]),
      ...t.dirs.map((d): [string, Node] => [d.name, new RepoDir(this.repo, d.treeChecksum, d.metaChecksum)]),
    ];
  }
  child(name: string): Node | null {
    const t = this.load();
    const f = t.files.find((x) => x.name === name);
    if (f) return new RepoFileNode(this.repo, f.checksum);
    const d = t.dirs.find((x) => x.name === name);
    return d ? new RepoDir(this.repo, d.treeChecksum, d.metaChecksum) : null;
  }
}

class RepoFileNode implements Node {
  kind: Kind;
  constructor(repo: Repo, private csum: string) {
    this.kind = kindOfMode(repo.readFileHeaderSync(csum).header.mode);
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

function diffDirs(a: Node, b: Node, prefix: string, r: DiffResult): void {
  if (a.treeChecksum !== undefined && a.treeChecksum === b.treeChecksum) return;
  for (const [name, ca] of a.children()) {
    const p = `${prefix}/${name}`;
    const cb = b.child(name);
    if (!cb) { r.removed.push(p); continue; }
    if (ca.kind !== cb.kind) { r.modified.push(p); continue; }
    if (ca.checksum() !== cb.checksum()) r.modified.push(p);
    if (ca.kind === 'dir') diffDirs(ca, cb, p, r);
  }
  for (const [name, cb] of b.children()) {
    if (a.child(name)) continue;
    const p = `${prefix}/${name}`;
    r.added.push(p);
    if (cb.kind === 'dir') addRecursive(cb, p, r);
  }
}

function addRecursive(d: Node, prefix: string, r: DiffResult): void {
  for (const [name, c] of d.children()) {
    const p = `${prefix}/${name}`;
    r.added.push(p);
    if (c.kind === 'dir') addRecursive(c, p, r);
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
  const c = repo.loadCommitSync(await repo.resolveRev(arg));
  return new RepoDir(repo, c.rootTree, c.rootMeta);
}

/** Compare `a` and `b` (each a revision or, starting with `/` or `./`, a directory). */
export async function diffTrees(repo: Repo, a: string, b: string, options: DiffOptions = {}): Promise<DiffResult> {
  const o: DiffOptions = { ...options };
  if (repo.mode === 'bare-user-only' || repo.config.getBoolean('core', 'disable-xattrs', false)) o.noXattrs = true;
  const ra = await rootOf(repo, a, o, 'A');
  const rb = await rootOf(repo, b, o, 'B');
  const r: DiffResult = { modified: [], removed: [], added: [], aIsDir: isDirArgument(a), bIsDir: isDirArgument(b) };
  diffDirs(ra, rb, '', r);
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
