/**
 * Directory-relative calls (statx, linkat, mkdirat, openat) for loops over tens of thousands of files.
 */
import { libc, fail, AT_FDCWD } from './binding.js';
// kernel resolves a name in an open directory instead of a whole path, and lstat fills a reused
// object instead of a Stats (whose Date fields cost more than the system call).

/** The fields lstatAt fills in. */
export interface LstatFields { mode: number; uid: number; gid: number; size: number }

const STATX_TYPE_MODE_UID_GID_SIZE = 0x1 | 0x2 | 0x8 | 0x10 | 0x200;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
let statxBuf: Buffer | null = null;

function statxFields(buf: Buffer, out: LstatFields): void {
  out.uid = buf.readUInt32LE(20);
  out.gid = buf.readUInt32LE(24);
  out.mode = buf.readUInt16LE(28);
  out.size = buf.readUInt32LE(40) + buf.readUInt32LE(44) * 0x1_0000_0000; // (no BigInt per call)
}

/** lstat(2) of `path` relative to directory fd `dirfd` (or AT_FDCWD) into `out`, via statx. */
export function lstatAt(dirfd: number, path: string, out: LstatFields): void {
  const l = libc();
  const buf = (statxBuf ??= Buffer.alloc(256));
  if (l.statx(dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE_MODE_UID_GID_SIZE, buf) !== 0) fail(l, 'statx', path);
  statxFields(buf, out);
}

/** fstat(2) of the open file `fd` into `out`, via statx (no Stats object). */
export function fstatInto(fd: number, out: LstatFields): void {
  const l = libc();
  const buf = (statxBuf ??= Buffer.alloc(256));
  if (l.statx(fd, '', AT_EMPTY_PATH, STATX_TYPE_MODE_UID_GID_SIZE, buf) !== 0) fail(l, 'statx');
  statxFields(buf, out);
}

/**
 * openat(2) of `path` relative to directory fd `dirfd`: the new descriptor, or the NEGATIVE
 * errno when it fails. No exception: loops that expect some failures (O_NOFOLLOW on a symlink
 * gives -ELOOP) branch on the number instead of paying for an Error each time.
 */
export function openAt(dirfd: number, path: string, flags: number): number {
  const l = libc();
  const fd = l.openat(dirfd, path, flags) as number;
  return fd >= 0 ? fd : -l.koffi.errno();
}

/**
 * close(2) of a descriptor openAt gave. Not fs.closeSync: in a worker thread Node warns on
 * stderr when it closes a descriptor its own fs calls did not open.
 */
export function closeFd(fd: number): void {
  const l = libc();
  if (l.close(fd) !== 0) fail(l, 'close');
}

/** linkat(2) without flags: `newName` in `newDirfd` becomes a hardlink of `oldPath` in `oldDirfd`. */
export function linkAt(oldDirfd: number, oldPath: string, newDirfd: number, newName: string): void {
  const l = libc();
  if (l.linkat(oldDirfd, oldPath, newDirfd, newName, 0) !== 0) fail(l, 'linkat', oldPath, newName);
}

/** mkdirat(2). */
export function mkdirAt(dirfd: number, name: string, mode: number): void {
  const l = libc();
  if (l.mkdirat(dirfd, name, mode) !== 0) fail(l, 'mkdirat', name);
}
