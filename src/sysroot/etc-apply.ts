/**
 * Applying a configuration diff (etc-diff.ts) to a new deployment's /etc, as upstream's
 * merge_configuration_from does: rm -rf every removed path; then copy every modified, then
 * every added path from the modified tree ("modified always wins").  Copying a path first makes
 * sure its parent chain exists in the new tree (missing directories created) and gives the
 * immediate parent and every created ancestor the owner, mode and xattrs of the directory in
 * the modified tree.  A path that is a directory in the new tree is left alone when the
 * modified item is a directory too, and is a conflict otherwise; conflicts are found before
 * anything is changed.  FIFOs, sockets and devices are skipped with a log message.
 *
 * Unlike upstream, nothing here follows a symlink: every name is resolved inside an open
 * directory with O_NOFOLLOW (util/dirfd).  A symlink in the new /etc where a copied path needs a
 * directory is a conflict (upstream writes through it, possibly out of the deployment), and a
 * removed path under such a symlink is already absent from the deployment.  No file is opened
 * for reading unless it is a regular file.
 */
import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { OstreeError, isErrno } from '../errors.js';
import * as libc from '../native/libc.js';
import { DirChain, at, components, removeTree, walkTree } from '../util/dirfd.js';
import { type EtcDiff, type Kind, kindOf, lstatAtOrNull, openRegularAt } from './etc-diff.js';

export interface EtcMergeOptions {
  /** do not copy xattrs (OSTREE_SYSROOT_DEBUG=no-xattrs) */
  noXattrs?: boolean;
  /** journal-style messages (skipped special files); default: ignore */
  log?: (message: string) => void;
}

function conflict(message: string): OstreeError {
  return new OstreeError('ESTATE', message);
}

/**
 * The conflict check.  A path below a "covered" root (a removed path, a directory that will be
 * created, a copied entry) gets its state from the plan, which is consistent with the modified
 * tree, so it cannot conflict; every other path is checked against the new tree as it is.
 */
class Preflight {
  private readonly covered = new Set<string>();
  /** directories known to be below no covered root (the lists are in walk order, parents first) */
  private readonly uncovered = new Set<string>();

  constructor(private readonly mod: DirChain, private readonly neu: DirChain, removed: readonly string[]) {
    for (const r of removed) this.covered.add(r);
  }

  private isCovered(rel: string): boolean {
    const walked: string[] = [];
    let a = rel;
    let result = false;
    for (;;) {
      if (this.covered.has(a)) { result = true; break; }
      if (this.uncovered.has(a)) break;
      walked.push(a);
      const i = a.lastIndexOf('/');
      if (i < 0) break;
      a = a.slice(0, i);
    }
    if (!result) for (const w of walked) this.uncovered.add(w);
    return result;
  }

  private modKind(comps: string[], name: string): Kind | 'absent' {
    const r = this.mod.tryGoto(comps);
    if (r.stop) return 'absent';
    const st = lstatAtOrNull(this.mod.fd, name);
    return st ? kindOf(st) : 'absent';
  }

  check(rel: string): void {
    const comps = components(rel);
    const name = comps.pop()!;
    const mk = this.modKind(comps, name);
    if (mk === 'absent') {
      throw conflict(`During /etc merge: Reading modified config file: ${rel} no longer exists`);
    }
    if (this.isCovered(rel)) return;
    const r = this.neu.tryGoto(comps);
    if (r.stop === 'ENOENT') { this.covered.add(comps.slice(0, r.reached + 1).join('/')); return; }
    if (r.stop === 'ENOTDIR') {
      const a = comps.slice(0, r.reached + 1).join('/');
      const st = lstatAtOrNull(this.neu.fd, comps[r.reached]!);
      if (st?.isSymbolicLink()) {
        throw conflict(`During /etc merge: Modified config file '${rel}' needs directory '${a}', but it is a symbolic link in the new /etc; symbolic links are not followed by the merge: make '${a}' a directory in the merge deployment's /etc or remove '${rel}' there`);
      }
      throw conflict(`During /etc merge: Modified config file '${rel}' needs directory '${a}', but it newly defaults to a non-directory, cannot merge`);
    }
    const st = lstatAtOrNull(this.neu.fd, name);
    if (st?.isDirectory()) {
      if (mk !== 'dir') throw conflict(`Modified config file newly defaults to directory '${rel}', cannot merge`);
      return;
    }
    this.covered.add(rel);
  }
}

/** Owner, mode and (unless disabled) xattrs of directory `name` in `srcFd` onto `name` in `destFd`. */
function applyDirAttributes(srcFd: number, name: string, destFd: number, opts: EtcMergeOptions): void {
  const src = at(srcFd, name), dest = at(destFd, name);
  const st = fs.lstatSync(src, { bigint: true });
  if (!fs.lstatSync(dest).isDirectory()) throw conflict(`During /etc merge: '${name}' is no longer a directory`);
  if (!opts.noXattrs) copyXattrs(src, dest);
  fs.lchownSync(dest, Number(st.uid), Number(st.gid));
  fs.chmodSync(dest, Number(st.mode & 0o7777n));
}

function copyXattrs(src: string, dest: string): void {
  for (const n of libc.llistxattr(src)) {
    const v = libc.lgetxattr(src, n);
    if (v !== null) libc.lsetxattr(dest, n, v);
  }
}

function unlinkIfPresent(p: string): void {
  try { fs.unlinkSync(p); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; }
}

/** Copy a regular file or symlink (data, owner, mode, timestamps, xattrs), never following. */
function copyFileOrLink(srcFd: number, destFd: number, name: string, st: BigIntStats, rel: string, opts: EtcMergeOptions): void {
  const src = at(srcFd, name), dest = at(destFd, name);
  unlinkIfPresent(dest);
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(src, { encoding: 'buffer' }), dest);
    fs.lchownSync(dest, Number(st.uid), Number(st.gid));
    if (!opts.noXattrs) copyXattrs(src, dest);
    return;
  }
  const sfd = openRegularAt(srcFd, name, rel);
  try {
    fs.copyFileSync(at(sfd), dest, fs.constants.COPYFILE_EXCL);
  } finally {
    fs.closeSync(sfd);
  }
  fs.lchownSync(dest, Number(st.uid), Number(st.gid));
  fs.chmodSync(dest, Number(st.mode & 0o7777n));
  try { fs.utimesSync(dest, Number(st.atimeNs) / 1e9, Number(st.mtimeNs) / 1e9); } catch { /* timestamps are best effort */ }
  if (!opts.noXattrs) copyXattrs(src, dest);
}

function mkdirOrExisting(p: string): void {
  try {
    fs.mkdirSync(p, 0o700);
  } catch (e) {
    if (!isErrno(e, 'EEXIST') || !fs.lstatSync(p).isDirectory()) throw e;
  }
}

/** Copy directory `name` of `srcFd` (a modified directory) whole into `destFd`. */
function copyDirInto(srcFd: number, destFd: number, name: string, rel: string, opts: EtcMergeOptions): void {
  mkdirOrExisting(at(destFd, name));
  applyDirAttributes(srcFd, name, destFd, opts);
  const dest = new DirChain(at(destFd, name));
  try {
    walkTree(at(srcFd, name), {
      visit: (e) => {
        if (e.st.isDirectory()) {
          mkdirOrExisting(at(dest.fd, e.name));
          applyDirAttributes(e.dirFd, e.name, dest.fd, opts);
          dest.enter(e.name);
          return true;
        }
        if (e.st.isFile() || e.st.isSymbolicLink()) {
          copyFileOrLink(e.dirFd, dest.fd, e.name, fs.lstatSync(at(e.dirFd, e.name), { bigint: true }), `${rel}/${e.rel}`, opts);
        } else {
          opts.log?.(`Ignoring non-regular/non-symlink file found during /etc merge: ${rel}/${e.rel}`);
        }
        return false;
      },
      leave: () => { dest.leave(); },
    });
  } finally {
    dest.close();
  }
}

/** The applying half: both chains stay open across the whole list. */
class Applier {
  constructor(private readonly mod: DirChain, private readonly neu: DirChain, private readonly opts: EtcMergeOptions) {}

  /** Stand in directory `comps` of the new tree, creating what is missing from the template. */
  private ensureParent(comps: string[], rel: string): void {
    const r = this.neu.tryGoto(comps);
    if (r.stop === 'ENOTDIR') throw conflict(`During /etc merge: a parent of '${rel}' is not a directory in the new /etc`);
    for (let i = r.reached; i < comps.length; i++) {
      const name = comps[i]!;
      fs.mkdirSync(at(this.neu.fd, name), 0o700);
      this.mod.goto(comps.slice(0, i));
      applyDirAttributes(this.mod.fd, name, this.neu.fd, this.opts);
      this.neu.enter(name);
    }
    if (r.stop === undefined && comps.length > 0) {
      // the immediate parent existed: it takes the modified directory's attributes too
      const parent = comps[comps.length - 1]!;
      this.mod.goto(comps.slice(0, -1));
      this.neu.leave();
      applyDirAttributes(this.mod.fd, parent, this.neu.fd, this.opts);
      this.neu.enter(parent);
    }
  }

  remove(rel: string): void {
    const comps = components(rel);
    const name = comps.pop()!;
    if (this.neu.tryGoto(comps).stop) return; // not in the new tree (or behind a symlink): absent already
    removeTree(at(this.neu.fd, name));
  }

  copy(rel: string): void {
    const comps = components(rel);
    const name = comps.pop()!;
    this.ensureParent(comps, rel);
    this.mod.goto(comps);
    const st = fs.lstatSync(at(this.mod.fd, name), { bigint: true });
    const existing = lstatAtOrNull(this.neu.fd, name);
    if (existing) {
      if (existing.isDirectory()) {
        if (!st.isDirectory()) throw conflict(`Modified config file newly defaults to directory '${rel}', cannot merge`);
        return; // children are handled by their own diff entries
      }
      fs.unlinkSync(at(this.neu.fd, name));
    }
    if (st.isDirectory()) copyDirInto(this.mod.fd, this.neu.fd, name, rel, this.opts);
    else if (st.isFile() || st.isSymbolicLink()) copyFileOrLink(this.mod.fd, this.neu.fd, name, st, rel, this.opts);
    else this.opts.log?.(`Ignoring non-regular/non-symlink file found during /etc merge: ${rel}`);
  }
}

function requireDirectory(p: string): void {
  let st: fs.Stats;
  try { st = fs.lstatSync(p); } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `During /etc merge: ${p} does not exist`, { path: p });
    throw e;
  }
  if (!st.isDirectory()) throw new OstreeError('ESTATE', `During /etc merge: ${p} is not a directory (symbolic links are not followed)`, { path: p });
}

/**
 * Apply a diff (from diffEtc(orig, modifiedDir)) to `newDir`; see the file comment.  Conflicts
 * are ESTATE (`Modified config file newly defaults to directory '<path>', cannot merge`, ...)
 * and leave `newDir` unchanged.
 */
export async function applyEtcMerge(diff: EtcDiff, modifiedDir: string, newDir: string, opts: EtcMergeOptions = {}): Promise<void> {
  requireDirectory(modifiedDir);
  requireDirectory(newDir);
  const mod = new DirChain(modifiedDir);
  const neu = new DirChain(newDir);
  try {
    const pre = new Preflight(mod, neu, diff.removed);
    for (const rel of diff.modified) pre.check(rel);
    for (const rel of diff.added) pre.check(rel);
    const apply = new Applier(mod, neu, opts);
    for (const rel of diff.removed) apply.remove(rel);
    for (const rel of diff.modified) apply.copy(rel);
    for (const rel of diff.added) apply.copy(rel);
  } finally {
    mod.close();
    neu.close();
  }
}
