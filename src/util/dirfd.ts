/**
 * Directory-relative file operations for tree walks whose paths may be longer than PATH_MAX:
 * a valid commit can hold a tree 10,000 directories deep, and a deployment of it must still
 * deploy, merge, undeploy and clean up.
 *
 * - Every call names an entry inside an open directory through the kernel's
 *   `/proc/self/fd/<fd>/<name>` link (`at(fd, name)`), so the path handed to a system call stays
 *   short whatever the depth; Node has no openat(2), and this gives the same resolution.
 * - Directories are opened with O_DIRECTORY|O_NOFOLLOW: no walk follows a symlink, so none can
 *   be led out of the tree it was asked to walk.
 * - Walks are loops over explicit stacks, never recursion, and keep a bounded number of
 *   directories open (DirChain).
 */
import * as fs from 'node:fs';
import { isErrno } from '../errors.js';

const O_DIR = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY;
const O_DIR_NOFOLLOW = O_DIR | fs.constants.O_NOFOLLOW;

/** A short path naming `name` inside open directory `fd` (the directory itself without name). */
export function at(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/**
 * Open directory `name` in `dirfd` without following a symlink there.  A symlink or a
 * non-directory gives ENOTDIR (the kernel says ELOOP for a symlink under O_NOFOLLOW; it is
 * mapped so callers see one code for "not a directory I may enter").
 */
export function openDirAt(dirfd: number, name: string): number {
  try {
    return fs.openSync(at(dirfd, name), O_DIR_NOFOLLOW);
  } catch (e) {
    if (isErrno(e, 'ELOOP')) {
      const err = new Error(`ENOTDIR: '${name}' is a symbolic link, not followed`) as NodeJS.ErrnoException;
      err.code = 'ENOTDIR';
      throw err;
    }
    throw e;
  }
}

/** Open directory `p` (the last component is not followed; the ones before it are). */
export function openDir(p: string): number {
  return fs.openSync(p, O_DIR_NOFOLLOW);
}

/** Entries of an open directory (d_type where the filesystem gives it). */
export function listAt(dirfd: number): fs.Dirent[] {
  return fs.readdirSync(at(dirfd), { withFileTypes: true });
}

/** The most directories a DirChain keeps open; deeper ones are reopened through `..`. */
const MAX_OPEN = 64;

/**
 * The open directories along one path below a root, kept in step with a walk: `enter(name)`
 * goes one level down, `leave()` one level up, `goto(components)` anywhere (through the common
 * prefix).  Only the deepest MAX_OPEN levels stay open: going back up past them reopens the
 * parent as `..` of the child, so a 10,000-level walk holds at most MAX_OPEN + 1 descriptors.
 */
export class DirChain {
  private readonly names: string[] = [];
  private readonly fds: number[] = [];

  /** Open `root` (its last component is not followed). */
  constructor(root: string) {
    this.fds.push(openDir(root));
  }

  get depth(): number { return this.names.length; }
  /** Components below the root of the current directory (do not modify). */
  get components(): readonly string[] { return this.names; }
  /** The current directory. */
  get fd(): number { return this.fds[this.fds.length - 1]!; }

  enter(name: string): void {
    const fd = openDirAt(this.fd, name);
    this.names.push(name);
    this.fds.push(fd);
    const old = this.fds.length - 1 - MAX_OPEN;
    if (old >= 0 && this.fds[old]! >= 0) { fs.closeSync(this.fds[old]!); this.fds[old] = -1; }
  }

  /** Go up one level; returns the name of the directory left. */
  leave(): string {
    if (this.names.length === 0) throw new Error('DirChain.leave at the root');
    const child = this.fds.pop()!;
    const name = this.names.pop()!;
    const i = this.fds.length - 1;
    if (this.fds[i]! < 0) {
      try { this.fds[i] = fs.openSync(at(child, '..'), O_DIR); } catch (e) { fs.closeSync(child); throw e; }
    }
    fs.closeSync(child);
    return name;
  }

  /** Make `components` (below the root) the current directory. */
  goto(components: readonly string[]): void {
    let common = 0;
    while (common < this.names.length && common < components.length && this.names[common] === components[common]) common++;
    while (this.names.length > common) this.leave();
    for (let i = common; i < components.length; i++) this.enter(components[i]!);
  }

  /**
   * Like goto, but stops at the first component that is missing (ENOENT) or that is not a
   * directory one may enter (ENOTDIR: a file, a symlink, a device); the chain then stands in
   * the last directory reached.
   */
  tryGoto(components: readonly string[]): { reached: number; stop?: 'ENOENT' | 'ENOTDIR' } {
    let common = 0;
    while (common < this.names.length && common < components.length && this.names[common] === components[common]) common++;
    while (this.names.length > common) this.leave();
    for (let i = common; i < components.length; i++) {
      try {
        this.enter(components[i]!);
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return { reached: i, stop: 'ENOENT' };
        if (isErrno(e, 'ENOTDIR')) return { reached: i, stop: 'ENOTDIR' };
        throw e;
      }
    }
    return { reached: components.length };
  }

  close(): void {
    for (const fd of this.fds) if (fd >= 0) fs.closeSync(fd);
    this.fds.length = 0;
    this.names.length = 0;
  }
}

/** Split a relative path (`a/b/c`) into components; '' is the root. */
export function components(rel: string): string[] {
  return rel === '' ? [] : rel.split('/');
}

/**
 * rm -rf of `p` without recursion and without building long paths: files are unlinked inside
 * their open directory, directories removed on the way back up.  Symlinks are removed, never
 * followed.  A missing `p` is not an error.
 */
export function removeTree(p: string): void {
  let st: fs.Stats;
  try { st = fs.lstatSync(p); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return; throw e; }
  if (!st.isDirectory()) { fs.unlinkSync(p); return; }
  const chain = new DirChain(p);
  try {
    // pending[i]: subdirectories of level i still to remove
    const pending: string[][] = [];
    let listed = false;
    for (;;) {
      if (!listed) {
        const dirs: string[] = [];
        const fd = chain.fd;
        for (const ent of listAt(fd)) {
          if (ent.isDirectory()) dirs.push(ent.name);
          else fs.unlinkSync(at(fd, ent.name));
        }
        pending.push(dirs);
        listed = true;
      }
      const top = pending[pending.length - 1]!;
      const next = top.pop();
      if (next !== undefined) { chain.enter(next); listed = false; continue; }
      pending.pop();
      if (chain.depth === 0) break;
      const name = chain.leave();
      fs.rmdirSync(at(chain.fd, name));
    }
  } finally {
    chain.close();
  }
  fs.rmdirSync(p);
}

export interface WalkEntry {
  /** Path below the walk's root, '/'-separated. */
  rel: string;
  name: string;
  /** The open directory holding the entry (valid during the callback only). */
  dirFd: number;
  st: fs.Stats;
}

export interface WalkOptions {
  /** Order of the names in each directory (default: readdir order); `dirFd` is that directory. */
  order?: (names: string[], dirFd: number) => string[];
  /** Called for every entry; return false to not descend into a directory. */
  visit: (e: WalkEntry) => boolean | void;
  /** Called after the last entry below directory `rel` was visited. */
  leave?: (rel: string) => void;
}

/**
 * Pre-order walk of the tree below `root` (symlinks not followed): every entry is visited,
 * and a directory's contents right after it.  Iterative; at most DirChain's bound of open
 * directories.
 */
export function walkTree(root: string, opts: WalkOptions): void {
  const chain = new DirChain(root);
  try {
    const list = (): string[] => {
      const names = fs.readdirSync(at(chain.fd));
      return opts.order ? opts.order(names, chain.fd) : names;
    };
    const stack: Array<{ names: string[]; i: number; rel: string }> = [{ names: list(), i: 0, rel: '' }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (f.i >= f.names.length) {
        stack.pop();
        if (stack.length > 0) { chain.leave(); opts.leave?.(f.rel); }
        continue;
      }
      const name = f.names[f.i++]!;
      const rel = f.rel === '' ? name : `${f.rel}/${name}`;
      let st: fs.Stats;
      try { st = fs.lstatSync(at(chain.fd, name)); } catch (e) { if (isErrno(e, 'ENOENT')) continue; throw e; }
      const descend = opts.visit({ rel, name, dirFd: chain.fd, st }) !== false;
      if (descend && st.isDirectory()) {
        chain.enter(name);
        stack.push({ names: list(), i: 0, rel });
      }
    }
  } finally {
    chain.close();
  }
}
