/**
 * Whole-tree file operations for the sysroot: rm -rf that first clears the immutable bit
 * upstream puts on deployment roots, the copy of a devicetree directory into /boot, and
 * hardlink-or-copy for kernel files.  The walks are iterative and directory-relative
 * (util/dirfd): depth and path length do not matter, and no symlink is followed.
 */
import * as fs from 'node:fs';
import { isErrno } from '../errors.js';
import * as libc from '../native/libc.js';
import { DirChain, at, removeTree, walkTree } from './dirfd.js';
import { lstatOrNull, tmpName } from './fs.js';

/** Clear the immutable bit on `p` if it is a directory and has it (ignores unsupported fs). */
export function clearImmutable(p: string): void {
  const st = lstatOrNull(p);
  if (!st || !st.isDirectory()) return;
  try {
    libc.setImmutable(p, false);
  } catch (e) {
    if (isErrno(e, 'ENOTTY') || isErrno(e, 'EOPNOTSUPP') || isErrno(e, 'ENOSYS') || isErrno(e, 'EINVAL')) return;
    throw e;
  }
}

/**
 * rm -rf that first makes the top directory mutable (deployment roots are chattr +i).
 * Iterative and directory-relative (util/dirfd): a tree of any depth is removed.
 */
export function rmrf(p: string): void {
  if (!lstatOrNull(p)) return;
  clearImmutable(p);
  removeTree(p);
}

/**
 * Hardlink `src` to `dest` when both are on one filesystem, else copy it (keeping mode and
 * ownership, fsync'ed) through a temporary name.  An existing `dest` is left alone: names
 * under /boot/ostree are content-addressed by bootcsum.
 */
export function linkOrCopy(src: string, dest: string): void {
  if (lstatOrNull(dest)) return;
  try {
    fs.linkSync(src, dest);
    return;
  } catch (e) {
    if (!(isErrno(e, 'EXDEV') || isErrno(e, 'EMLINK') || isErrno(e, 'EPERM'))) throw e;
  }
  const st = fs.statSync(src);
  const tmp = tmpName(dest);
  fs.copyFileSync(src, tmp);
  try {
    fs.chmodSync(tmp, st.mode & 0o7777);
    try { fs.chownSync(tmp, st.uid, st.gid); } catch { /* not root: keep our ownership */ }
    const fd = fs.openSync(tmp, 'r');
    try { fs.fdatasyncSync(fd); } finally { fs.closeSync(fd); }
    fs.linkSync(tmp, dest);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Copy directory `src` to `dest` (devicetree `dtb/` into /boot) through a temporary name:
 * files are copied (never linked), symlinks recreated, modes and file timestamps kept, FIFOs
 * and devices skipped.  Iterative and directory-relative, so depth does not matter.  An
 * existing `dest` is left alone (names under /boot/ostree are content-addressed).
 */
export function copyTree(src: string, dest: string): void {
  if (lstatOrNull(dest)) return;
  const tmp = tmpName(dest);
  fs.mkdirSync(tmp, 0o700);
  try {
    const out = new DirChain(tmp);
    const modes: number[] = [];
    try {
      walkTree(src, {
        visit: (e) => {
          const target = at(out.fd, e.name);
          if (e.st.isDirectory()) {
            fs.mkdirSync(target, 0o700);
            out.enter(e.name);
            modes.push(e.st.mode & 0o7777);
            return true;
          }
          if (e.st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(at(e.dirFd, e.name)), target);
          else if (e.st.isFile()) copyRegularAt(e.dirFd, e.name, target, e.st);
          return false;
        },
        leave: () => { const name = out.leave(); fs.chmodSync(at(out.fd, name), modes.pop()!); },
      });
    } finally {
      out.close();
    }
    fs.chmodSync(tmp, fs.statSync(src).mode & 0o7777);
    fs.renameSync(tmp, dest);
  } catch (e) {
    removeTree(tmp);
    throw e;
  }
}

/** Copy the regular file `name` of `dirfd` to `target` (never blocking on a FIFO swapped in). */
function copyRegularAt(dirfd: number, name: string, target: string, st: fs.Stats): void {
  const fd = fs.openSync(at(dirfd, name), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  try {
    if (!fs.fstatSync(fd).isFile()) return;
    fs.copyFileSync(at(fd), target, fs.constants.COPYFILE_EXCL);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(target, st.mode & 0o7777);
  fs.utimesSync(target, st.atime, st.mtime);
}
