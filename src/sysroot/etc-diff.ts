/**
 * The configuration diff of a deployment's /etc against its defaults (upstream
 * ostree_diff_dirs, as `admin config-diff` prints it and the /etc merge applies it).
 *
 * diff(orig = usr/etc → modified = etc):
 *   - every entry of orig (symlinks never followed): missing in modified → removed; different
 *     file type → modified; same type → compared by (uid, gid, st_mode, rdev, symlink target or
 *     file bytes), xattrs ignored, and different → modified; directories present in both are
 *     walked into whatever their own comparison said;
 *   - then every entry of modified missing in orig → added (a directory with all its
 *     descendants, parent first).
 *   Walk order is GIO's: readdir order, each batch of 1000 names sorted by inode number.  The
 *   added entries of a directory are listed after everything found while walking orig's entries
 *   of that directory (which includes the added entries of its subdirectories).
 *
 * The walk is a loop over an explicit stack and works inside open directories (util/dirfd), so
 * neither depth nor path length matters; FIFOs, sockets and devices are compared by type and
 * device number only, never opened.
 */
import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { OstreeError, isErrno } from '../errors.js';
import { DirChain, at, walkTree } from '../util/dirfd.js';

export interface EtcDiff {
  /** relative paths (no leading '/') */
  modified: string[];
  removed: string[];
  added: string[];
}

export type Kind = 'file' | 'dir' | 'symlink' | 'special';

export function kindOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): Kind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'special';
}

export function lstatAtOrNull(dirfd: number, name: string): BigIntStats | null {
  try {
    return fs.lstatSync(at(dirfd, name), { bigint: true });
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
}

const GIO_CHUNK = 1000;

interface Listed { name: string; st: BigIntStats }

/** Names in the kernel's readdir order (fs.readdirSync sorts them; GIO does not). */
function readdirRaw(dirfd: number): string[] {
  const names: string[] = [];
  const dir = fs.opendirSync(at(dirfd));
  try {
    for (let ent = dir.readSync(); ent !== null; ent = dir.readSync()) names.push(ent.name);
  } finally {
    dir.closeSync();
  }
  return names;
}

/** Entries of an open directory in the order GLib's local file enumerator returns them. */
function listDirGio(dirfd: number): Listed[] {
  const names = readdirRaw(dirfd);
  const out: Listed[] = [];
  for (let i = 0; i < names.length; i += GIO_CHUNK) {
    const chunk: Listed[] = [];
    for (const name of names.slice(i, i + GIO_CHUNK)) {
      const st = lstatAtOrNull(dirfd, name);
      if (st) chunk.push({ name, st }); // vanished between readdir and stat: skipped, as GIO does
    }
    // GLib's comparator returns the inode difference truncated to an int
    chunk.sort((a, b) => Number(BigInt.asIntN(32, a.st.ino - b.st.ino)));
    out.push(...chunk);
  }
  return out;
}

/** Names of an open directory in GIO order (for walkTree). */
function gioOrder(names: string[], dirfd: number): string[] {
  void names;
  return listDirGio(dirfd).map((e) => e.name);
}

/**
 * Open a file for reading only if it is a regular file: non-blocking (a FIFO swapped in after
 * the lstat cannot make the open wait) and not following a symlink.
 */
export function openRegularAt(dirfd: number, name: string, rel: string): number {
  const fd = fs.openSync(at(dirfd, name), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  if (!fs.fstatSync(fd).isFile()) {
    fs.closeSync(fd);
    throw new OstreeError('ESTATE', `While computing configuration diff: '${rel}' changed type while being read; try again`);
  }
  return fd;
}

const CMP_CHUNK = 64 * 1024;

function sameFileBytes(fdA: number, nameA: string, fdB: number, nameB: string, rel: string): boolean {
  const a = openRegularAt(fdA, nameA, rel);
  try {
    const b = openRegularAt(fdB, nameB, rel);
    try {
      const ba = Buffer.allocUnsafe(CMP_CHUNK), bb = Buffer.allocUnsafe(CMP_CHUNK);
      for (;;) {
        const na = fs.readSync(a, ba, 0, CMP_CHUNK, null);
        let nb = 0;
        while (nb < na) { const r = fs.readSync(b, bb, nb, na - nb, null); if (r === 0) break; nb += r; }
        if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
        if (na === 0) return fs.readSync(b, bb, 0, 1, null) === 0;
      }
    } finally { fs.closeSync(b); }
  } finally { fs.closeSync(a); }
}

/** Same "content checksum" (ostree file/dirmeta checksum without xattrs)? Both of kind k. */
function sameContent(k: Kind, fdA: number, a: BigIntStats, fdB: number, b: BigIntStats, name: string, rel: string): boolean {
  if (a.uid !== b.uid || a.gid !== b.gid || a.mode !== b.mode) return false;
  switch (k) {
    case 'dir': return true;
    case 'symlink': return fs.readlinkSync(at(fdA, name), { encoding: 'buffer' }).equals(fs.readlinkSync(at(fdB, name), { encoding: 'buffer' }));
    case 'special': return a.rdev === b.rdev;
    case 'file': return a.size === b.size && sameFileBytes(fdA, name, fdB, name, rel);
  }
}

/** One directory present in both trees, being walked. */
interface Frame { rel: string; entries: Listed[]; i: number }

const join = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);

/** The entries of `mod`'s current directory missing in `orig`'s, each with its descendants. */
function collectAdded(orig: DirChain, mod: DirChain, rel: string, out: string[]): void {
  for (const { name, st } of listDirGio(mod.fd)) {
    if (lstatAtOrNull(orig.fd, name) !== null) continue;
    const r = join(rel, name);
    out.push(r);
    if (st.isDirectory()) {
      walkTree(at(mod.fd, name), { order: gioOrder, visit: (e) => { out.push(`${r}/${e.rel}`); } });
    }
  }
}

/** Compute the configuration diff from `origDir` (defaults, usr/etc) to `modifiedDir` (etc). */
export async function diffEtc(origDir: string, modifiedDir: string): Promise<EtcDiff> {
  for (const d of [origDir, modifiedDir]) {
    let st: fs.Stats;
    try { st = fs.lstatSync(d); } catch (e) {
      if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `While computing configuration diff: ${d} does not exist`, { path: d });
      throw e;
    }
    if (!st.isDirectory()) throw new OstreeError('ESTATE', `While computing configuration diff: ${d} is not a directory`, { path: d });
  }
  const out: EtcDiff = { modified: [], removed: [], added: [] };
  const orig = new DirChain(origDir);
  const mod = new DirChain(modifiedDir);
  try {
    // Both chains always stand in the directory of the top frame.
    const stack: Frame[] = [{ rel: '', entries: listDirGio(orig.fd), i: 0 }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (f.i < f.entries.length) {
        const { name, st: a } = f.entries[f.i++]!;
        const r = join(f.rel, name);
        const b = lstatAtOrNull(mod.fd, name);
        if (!b) { out.removed.push(r); continue; }
        const ka = kindOf(a);
        if (ka !== kindOf(b)) { out.modified.push(r); continue; }
        if (!sameContent(ka, orig.fd, a, mod.fd, b, name, r)) out.modified.push(r);
        if (ka === 'dir') {
          orig.enter(name); mod.enter(name);
          stack.push({ rel: r, entries: listDirGio(orig.fd), i: 0 });
        }
        continue;
      }
      collectAdded(orig, mod, f.rel, out.added);
      stack.pop();
      if (stack.length > 0) { orig.leave(); mod.leave(); }
    }
  } finally {
    orig.close();
    mod.close();
  }
  return out;
}

/** `ostree admin config-diff` output: `M    path` lines, then `D`, then `A`. */
export function formatConfigDiff(diff: EtcDiff): string {
  let s = '';
  for (const p of diff.modified) s += `M    ${p}\n`;
  for (const p of diff.removed) s += `D    ${p}\n`;
  for (const p of diff.added) s += `A    ${p}\n`;
  return s;
}

/** The message printed before applying: `Copying /etc changes: M modified, R removed, A added`. */
export function formatEtcMergeSummary(diff: EtcDiff): string {
  return `Copying /etc changes: ${diff.modified.length} modified, ${diff.removed.length} removed, ${diff.added.length} added`;
}
