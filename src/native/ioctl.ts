/**
 * Filesystem ioctls: FIFREEZE/FITHAW (as upstream before a boot swap) and the inode flags (the immutable bit on deployments).
 */
import * as fs from 'node:fs';
import { libc, fail, nativeError, openForIoctl } from './binding.js';

// _IOWR('X', 119, int) / _IOWR('X', 120, int)
export const FIFREEZE = 0xc0045877;
export const FITHAW = 0xc0045878;
// _IOR('f', 1, long) / _IOW('f', 2, long) on LP64 (the kernel reads/writes an int)
export const FS_IOC_GETFLAGS = 0x80086601;
export const FS_IOC_SETFLAGS = 0x40086602;
export const FS_IMMUTABLE_FL = 0x10;
export const FS_APPEND_FL = 0x20;

let rootDev: number | null = null;

/**
 * Safety guard: refuse to FIFREEZE the filesystem holding `/` (on a dev machine that freezes the
 * whole host). Upstream only ever freezes /boot; on a real system where /boot is a plain directory
 * of the root fs the caller falls back to syncfs, as upstream does on EPERM.
 * Set OSTREE_TS_ALLOW_ROOT_FREEZE=1 to lift the guard (e.g. inside a throw-away VM).
 */
function guardFreeze(path: string, fd: number): void {
  if (process.env.OSTREE_TS_ALLOW_ROOT_FREEZE === '1') return;
  if (isOnRootFilesystem(fd)) {
    throw nativeError(1, 'ioctl', path, undefined,
      `EPERM: refusing FIFREEZE on '${path}': it is on the same filesystem as / ` +
      `(freezing it would freeze the whole machine); set OSTREE_TS_ALLOW_ROOT_FREEZE=1 to override`);
  }
}

/** True when `pathOrFd` lives on the filesystem mounted at `/` (what fsFreeze refuses). */
export function isOnRootFilesystem(pathOrFd: string | number): boolean {
  if (rootDev === null) rootDev = fs.statSync('/').dev;
  const st = typeof pathOrFd === 'number' ? fs.fstatSync(pathOrFd) : fs.statSync(pathOrFd);
  return st.dev === rootDev;
}

/** ioctl(FIFREEZE) on the filesystem holding `path`. Thaw with fsThaw(). Refuses the root fs. */
export function fsFreeze(path: string): void {
  const l = libc();
  const fd = openForIoctl(path);
  try {
    guardFreeze(path, fd);
    if (l.ioctlInt(fd, FIFREEZE, 0) !== 0) fail(l, 'ioctl', path);
  } finally {
    fs.closeSync(fd);
  }
}

/** ioctl(FITHAW) on the filesystem holding `path`. */
export function fsThaw(path: string): void {
  const l = libc();
  const fd = openForIoctl(path);
  try {
    if (l.ioctlInt(fd, FITHAW, 0) !== 0) fail(l, 'ioctl', path);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Freeze then immediately thaw the filesystem holding `path` through one fd, with no JS work in
 * between (flushes the journal, as upstream's /boot freeze/thaw cycle). Throws the FIFREEZE error
 * (EOPNOTSUPP on tmpfs, EPERM from the root-fs guard, ...) without having frozen anything.
 */
export function fsFreezeThawCycle(path: string): void {
  const l = libc();
  const fd = openForIoctl(path);
  try {
    guardFreeze(path, fd);
    if (l.ioctlInt(fd, FIFREEZE, 0) !== 0) fail(l, 'ioctl', path);
    let tries = 0;
    while (l.ioctlInt(fd, FITHAW, 0) !== 0) {
      if (++tries >= 5) fail(l, 'ioctl', path);
    }
  } finally {
    fs.closeSync(fd);
  }
}

const flagsBuf = new Int32Array(2);

/** FS_IOC_GETFLAGS (chattr flags) of a file or directory (follows symlinks: don't pass one). */
export function getInodeFlags(path: string): number {
  const l = libc();
  const fd = openForIoctl(path);
  try {
    flagsBuf[0] = 0;
    if (l.ioctlPtr(fd, FS_IOC_GETFLAGS, flagsBuf) !== 0) fail(l, 'ioctl', path);
    return flagsBuf[0]! >>> 0;
  } finally {
    fs.closeSync(fd);
  }
}

/** FS_IOC_SETFLAGS: replaces the whole flag word (read it with getInodeFlags first). */
export function setInodeFlags(path: string, flags: number): void {
  const l = libc();
  const fd = openForIoctl(path);
  try {
    flagsBuf[0] = flags | 0;
    if (l.ioctlPtr(fd, FS_IOC_SETFLAGS, flagsBuf) !== 0) fail(l, 'ioctl', path);
  } finally {
    fs.closeSync(fd);
  }
}

/** chattr +i / -i. No-op when already in the requested state. */
export function setImmutable(path: string, on: boolean): void {
  const l = libc();
  const fd = openForIoctl(path);
  try {
    if (l.ioctlPtr(fd, FS_IOC_GETFLAGS, flagsBuf) !== 0) fail(l, 'ioctl', path);
    const cur = flagsBuf[0]! >>> 0;
    const next = on ? (cur | FS_IMMUTABLE_FL) : (cur & ~FS_IMMUTABLE_FL);
    if ((next >>> 0) === cur) return;
    flagsBuf[0] = next | 0;
    if (l.ioctlPtr(fd, FS_IOC_SETFLAGS, flagsBuf) !== 0) fail(l, 'ioctl', path);
  } finally {
    fs.closeSync(fd);
  }
}

/** True when the immutable flag is set. */
export function isImmutable(path: string): boolean {
  return (getInodeFlags(path) & FS_IMMUTABLE_FL) !== 0;
}
