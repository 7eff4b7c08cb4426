/**
 * Thin, synchronous, typed wrappers around the libc calls Node does not offer, bound with koffi.
 *
 * - The koffi module and libc are loaded lazily, once, on the first call that needs them, so
 *   importing this module costs nothing at start-up (matters for `ostree admin status`).
 * - Failures throw Node-style errors, like `fs.*Sync`: an Error with `code` (errno name, e.g.
 *   'ENOENT', 'EOPNOTSUPP'), `errno` (NEGATIVE errno number, as Node's fs errors carry it, e.g.
 *   -2 for ENOENT), `syscall` (e.g. 'renameat2') and `path` / `dest` where there is one.
 *   Use `isErrno(e, 'ENOENT')` from src/errors.ts to test them.
 * - Calls that run once per file (lgetxattr, llistxattr) reuse one scratch buffer and only copy
 *   out the bytes they return.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as KoffiNS from 'koffi';

type Koffi = typeof KoffiNS;
type NativeFn = (...args: any[]) => any;

interface Libc {
  koffi: Koffi;
  renameat2: NativeFn;
  syncfs: NativeFn;
  ioctlInt: NativeFn;   // ioctl(fd, req, intptr_t arg)
  ioctlPtr: NativeFn;   // ioctl(fd, req, void *arg)
  mount: NativeFn;
  umount2: NativeFn;
  lgetxattr: NativeFn;
  lsetxattr: NativeFn;
  llistxattr: NativeFn;
  lremovexattr: NativeFn;
  fgetxattr: NativeFn;
  fsetxattr: NativeFn;
  flistxattr: NativeFn;
  flock: NativeFn;
  fcntlPtr: NativeFn;   // fcntl(fd, cmd, ...) — variadic, called with one pointer argument
  mknod: NativeFn;
  statx: NativeFn;
  linkat: NativeFn;
  mkdirat: NativeFn;
}

let libcCache: Libc | null = null;

/** node:os, loaded on first use (it is not part of Node's start-up snapshot; `admin status`
 *  imports this module without calling into libc). */
let osCache: typeof import('node:os') | null = null;
function nodeOs(): typeof import('node:os') {
  return (osCache ??= createRequire(import.meta.url)('node:os') as typeof import('node:os'));
}
/** node:util, likewise (an ESM import of it also evaluates its lazy getters, e.g. parseArgs). */
let utilCache: typeof import('node:util') | null = null;
function nodeUtil(): typeof import('node:util') {
  return (utilCache ??= createRequire(import.meta.url)('node:util') as typeof import('node:util'));
}

function libc(): Libc {
  if (libcCache !== null) return libcCache;
  if (process.platform !== 'linux') {
    throw nativeError(nodeOs().constants.errno.ENOSYS ?? 38, 'dlopen', undefined, undefined,
      `native: only Linux is supported (running on ${process.platform})`);
  }
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  libcCache = {
    koffi,
    renameat2: lib.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)'),
    syncfs: lib.func('int syncfs(int fd)'),
    ioctlInt: lib.func('ioctl', 'int', ['int', 'unsigned long', 'intptr_t']),
    ioctlPtr: lib.func('ioctl', 'int', ['int', 'unsigned long', 'void *']),
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, void *value, size_t size)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    llistxattr: lib.func('intptr_t llistxattr(const char *path, void *list, size_t size)'),
    lremovexattr: lib.func('int lremovexattr(const char *path, const char *name)'),
    fgetxattr: lib.func('intptr_t fgetxattr(int fd, const char *name, void *value, size_t size)'),
    fsetxattr: lib.func('int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)'),
    flistxattr: lib.func('intptr_t flistxattr(int fd, void *list, size_t size)'),
    flock: lib.func('int flock(int fd, int operation)'),
    fcntlPtr: lib.func('int fcntl(int fd, int cmd, ...)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    statx: lib.func('int statx(int dirfd, const char *path, int flags, unsigned int mask, void *buf)'),
    linkat: lib.func('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)'),
    mkdirat: lib.func('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
  };
  return libcCache;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The error shape thrown by every wrapper (same fields as Node's fs errors). */
export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
}

let errnoNames: Map<number, string> | null = null;

/** Errno number → name. Prefers the names Node/libuv use, then the most common alias. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  if (n === 11) return 'EAGAIN';
  if (n === 95) return 'EOPNOTSUPP';
  if (n === 61) return 'ENODATA';
  if (errnoNames === null) {
    errnoNames = new Map();
    for (const [name, num] of Object.entries(nodeOs().constants.errno)) {
      if (!errnoNames.has(num)) errnoNames.set(num, name);
    }
  }
  return errnoNames.get(n) ?? `E${n}`;
}

function errnoMessage(errno: number): string {
  try {
    const entry = nodeUtil().getSystemErrorMap().get(-Math.abs(errno));
    if (entry) return entry[1];
  } catch { /* older Node: fall through */ }
  return `errno ${errno}`;
}

function nativeError(errno: number, syscall: string, path?: string, dest?: string, message?: string, code?: string): NativeError {
  const name = code ?? errnoName(errno);
  let text = message ?? `${name}: ${errnoMessage(errno)}, ${syscall}`;
  if (message === undefined) {
    if (path !== undefined) text += ` '${path}'`;
    if (dest !== undefined) text += ` -> '${dest}'`;
  }
  const err = new Error(text) as NativeError;
  err.code = name;
  err.errno = -Math.abs(errno);
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) err.dest = dest;
  return err;
}

function fail(l: Libc, syscall: string, path?: string, dest?: string, code?: string): never {
  const errno = l.koffi.errno();
  throw nativeError(errno, syscall, path, dest, undefined, code);
}

// ---------------------------------------------------------------------------------------------
// rename

const AT_FDCWD = -100;
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

/** renameat2(AT_FDCWD, oldPath, AT_FDCWD, newPath, flags). */
export function renameat2(oldPath: string, newPath: string, flags: number): void {
  const l = libc();
  if (l.renameat2(AT_FDCWD, oldPath, AT_FDCWD, newPath, flags >>> 0) !== 0) fail(l, 'renameat2', oldPath, newPath);
}

/** Atomically swap two existing paths (files, dirs or symlinks, same filesystem). */
export function renameExchange(oldPath: string, newPath: string): void {
  renameat2(oldPath, newPath, RENAME_EXCHANGE);
}

/** rename() that fails with EEXIST instead of replacing an existing newPath. */
export function renameNoReplace(oldPath: string, newPath: string): void {
  renameat2(oldPath, newPath, RENAME_NOREPLACE);
}

// ---------------------------------------------------------------------------------------------
// sync

const O_RDONLY = fs.constants.O_RDONLY;
const O_NONBLOCK = fs.constants.O_NONBLOCK;
const O_NOCTTY = fs.constants.O_NOCTTY;
const O_CLOEXEC = 0o2000000;
const O_DIRECTORY = fs.constants.O_DIRECTORY;

/** Opens a file or directory read-only without following into FIFO/tty semantics. */
function openForIoctl(path: string): number {
  return fs.openSync(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

/** syncfs(2) on the filesystem holding `path`. */
export function syncfs(path: string): void {
  const l = libc();
  const fd = openForIoctl(path);
  try {
    if (l.syncfs(fd) !== 0) fail(l, 'syncfs', path);
  } finally {
    fs.closeSync(fd);
  }
}

/** syncfs(2) on an already open fd. */
export function syncfsFd(fd: number): void {
  const l = libc();
  if (l.syncfs(fd) !== 0) fail(l, 'syncfs');
}

/** Opens `path` (a directory or a regular file) read-only and fsync()s it. */
export function fsyncPath(path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
    fd = fs.openSync(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  }
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// ioctls: freeze/thaw, inode flags

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

// ---------------------------------------------------------------------------------------------
// mount

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_SILENT = 0x8000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_STRICTATIME = 0x1000000;
export const MS_LAZYTIME = 0x2000000;

export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const MNT_EXPIRE = 4;
export const UMOUNT_NOFOLLOW = 8;

/** mount(2). `flags` is a combination of MS_* (fits in 32 bits, passed as unsigned long). */
export function mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void {
  const l = libc();
  if (l.mount(source, target, fstype, flags >>> 0, data ?? null) !== 0) fail(l, 'mount', target);
}

/** umount2(2); flags: MNT_DETACH, MNT_FORCE, ... */
export function umount2(target: string, flags = 0): void {
  const l = libc();
  if (l.umount2(target, flags) !== 0) fail(l, 'umount2', target);
}

/**
 * Bind-mount `src` on `target` (MS_BIND, plus MS_REC if recursive). With readOnly the bind is
 * then remounted MS_REMOUNT|MS_BIND|MS_RDONLY (the kernel ignores MS_RDONLY on the first call).
 */
export function bindMount(src: string, target: string, options: { readOnly?: boolean; recursive?: boolean } = {}): void {
  mount(src, target, null, MS_BIND | (options.recursive ? MS_REC : 0), null);
  if (options.readOnly) {
    try {
      remount(target, MS_BIND | MS_RDONLY);
    } catch (e) {
      try { umount2(target, MNT_DETACH); } catch { /* best effort */ }
      throw e;
    }
  }
}

/**
 * mount(NULL, target, NULL, MS_REMOUNT | flags, NULL). Pass MS_BIND|MS_RDONLY to make one bind
 * mount point read-only, MS_RDONLY alone to remount the whole filesystem, 0/MS_BIND to go rw.
 */
export function remount(target: string, flags: number, data?: string | null): void {
  mount(null, target, null, MS_REMOUNT | flags, data ?? null);
}

/** Mounts a fresh tmpfs on target. */
export function mountTmpfs(target: string, options = 'mode=0755', flags = 0): void {
  mount('tmpfs', target, 'tmpfs', flags, options);
}

// ---------------------------------------------------------------------------------------------
// xattrs

const ENODATA = 61;
const ERANGE = 34;
const ENOTSUP = 95;

let xbuf = Buffer.allocUnsafe(64 * 1024);

/** Test hook: replace the shared xattr scratch buffer (to exercise the ERANGE/grow path). */
export function _setXattrScratchSize(size: number): void {
  xbuf = Buffer.allocUnsafe(size);
}

function growScratch(size: number): void {
  if (xbuf.length < size) xbuf = Buffer.allocUnsafe(Math.max(size, xbuf.length * 2));
}

function getx(fn: NativeFn, syscall: string, target: string | number, name: string): Buffer | null {
  const l = libc();
  const where = typeof target === 'string' ? target : undefined;
  for (;;) {
    const n = fn(target, name, xbuf, xbuf.length);
    if (n >= 0) return Buffer.from(xbuf.subarray(0, n));
    const errno = l.koffi.errno();
    if (errno === ENODATA || errno === ENOTSUP) return null;
    if (errno !== ERANGE) throw nativeError(errno, syscall, where);
    const need = fn(target, name, null, 0);
    if (need < 0) fail(l, syscall, where);
    growScratch(need + 1);
  }
}

function listx(fn: NativeFn, syscall: string, target: string | number): string[] {
  const l = libc();
  const where = typeof target === 'string' ? target : undefined;
  for (;;) {
    const n = fn(target, xbuf, xbuf.length);
    if (n === 0) return [];
    if (n > 0) {
      const out: string[] = [];
      let start = 0;
      for (let i = 0; i < n; i++) {
        if (xbuf[i] === 0) {
          if (i > start) out.push(xbuf.toString('utf8', start, i));
          start = i + 1;
        }
      }
      if (start < n) out.push(xbuf.toString('utf8', start, n));
      return out;
    }
    const errno = l.koffi.errno();
    if (errno === ENOTSUP) return [];
    if (errno !== ERANGE) throw nativeError(errno, syscall, where);
    const need = fn(target, null, 0);
    if (need < 0) fail(l, syscall, where);
    growScratch(need + 1);
  }
}

/** Value of xattr `name` on `path` (not following symlinks), or null when absent/unsupported. */
export function lgetxattr(path: string, name: string): Buffer | null {
  return getx(libc().lgetxattr, 'lgetxattr', path, name);
}

/** fgetxattr on an open fd; null when absent/unsupported. */
export function fgetxattr(fd: number, name: string): Buffer | null {
  return getx(libc().fgetxattr, 'fgetxattr', fd, name);
}

/** xattr names of an open fd; [] when unsupported. */
export function flistxattr(fd: number): string[] {
  return listx(libc().flistxattr, 'flistxattr', fd);
}

/** fsetxattr on an open fd (flags: XATTR_CREATE / XATTR_REPLACE). */
export function fsetxattr(fd: number, name: string, value: Buffer | Uint8Array, flags = 0): void {
  const l = libc();
  if (l.fsetxattr(fd, name, value, value.length, flags) !== 0) fail(l, 'fsetxattr');
}

/** Sets xattr `name` (flags: XATTR_CREATE=1, XATTR_REPLACE=2). */
export function lsetxattr(path: string, name: string, value: Buffer | Uint8Array, flags = 0): void {
  const l = libc();
  if (l.lsetxattr(path, name, value, value.length, flags) !== 0) fail(l, 'lsetxattr', path);
}

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

/** Removes xattr `name`; no error when it is absent. */
export function lremovexattr(path: string, name: string): void {
  const l = libc();
  if (l.lremovexattr(path, name) !== 0) {
    const errno = l.koffi.errno();
    if (errno === ENODATA) return;
    throw nativeError(errno, 'lremovexattr', path);
  }
}

/** Names of the xattrs on `path` (not following symlinks), in kernel order; [] when unsupported. */
export function llistxattr(path: string): string[] {
  return listx(libc().llistxattr, 'llistxattr', path);
}

/** All xattrs of `path` as [name, value] pairs (kernel order), [] when unsupported. */
export function lgetxattrs(path: string): Array<[string, Buffer]> {
  const names = llistxattr(path);
  const out: Array<[string, Buffer]> = [];
  for (const name of names) {
    const v = lgetxattr(path, name);
    if (v !== null) out.push([name, v]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// flock

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/**
 * flock(2) on an fd. With LOCK_NB a held lock throws code 'EWOULDBLOCK' (errno -11, same number
 * as EAGAIN; check either name).
 */
export function flock(fd: number, op: number): void {
  const l = libc();
  if (l.flock(fd, op) !== 0) {
    const errno = l.koffi.errno();
    throw nativeError(errno, 'flock', undefined, undefined, undefined, errno === 11 ? 'EWOULDBLOCK' : undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Open file description locks (fcntl F_OFD_*), what libglnx/upstream ostree lock files use

export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;
export const F_OFD_SETLKW = 38;
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;

/**
 * `struct flock` of Linux x86_64/aarch64 (LP64): short l_type @0, short l_whence @2,
 * off_t l_start @8, off_t l_len @16, pid_t l_pid @24, padded to 32 bytes.
 * l_whence = SEEK_SET, l_start = 0, l_len = 0: the whole file, as libglnx locks it.
 */
const FLOCK_SIZE = 32;

function flockStruct(type: number): Buffer {
  const b = Buffer.alloc(FLOCK_SIZE);
  b.writeInt16LE(type, 0);
  b.writeInt16LE(0, 2);        // SEEK_SET
  b.writeBigInt64LE(0n, 8);    // l_start
  b.writeBigInt64LE(0n, 16);   // l_len: 0 = to EOF and beyond
  b.writeInt32LE(0, 24);       // l_pid: must be 0 for F_OFD_* requests
  return b;
}

function ofdCall(fd: number, cmd: number, lk: Buffer, syscall: string): void {
  const l = libc();
  if (l.fcntlPtr(fd, cmd, 'void *', lk) !== 0) {
    const errno = l.koffi.errno();
    // A conflicting lock: EAGAIN or EACCES (POSIX allows both); reported like flock's.
    const busy = errno === 11 || errno === 13;
    throw nativeError(errno, syscall, undefined, undefined, undefined, busy ? 'EWOULDBLOCK' : undefined);
  }
}

/**
 * Take an OFD lock on the whole file behind `fd`: shared (F_RDLCK, needs an fd open for reading)
 * or exclusive (F_WRLCK, needs it open for writing).  `wait: false` (default) uses F_OFD_SETLK
 * and throws code 'EWOULDBLOCK' when another open file description holds a conflicting lock;
 * `wait: true` blocks the thread in F_OFD_SETLKW.  A lock held on the same fd is converted
 * (shared ↔ exclusive).  Kernels without OFD locks throw EINVAL (see `lockFd` for the fallback).
 * OFD locks and flock(2) locks do not see each other on Linux; upstream ostree uses OFD locks.
 * The lock goes away with the last fd of the open file description, or with `ofdUnlock`.
 */
export function ofdLock(fd: number, options: { exclusive: boolean; wait?: boolean }): void {
  ofdCall(fd, options.wait ? F_OFD_SETLKW : F_OFD_SETLK, flockStruct(options.exclusive ? F_WRLCK : F_RDLCK), 'fcntl(F_OFD_SETLK)');
}

/** Drop this open file description's OFD lock (no-op when it holds none). */
export function ofdUnlock(fd: number): void {
  ofdCall(fd, F_OFD_SETLK, flockStruct(F_UNLCK), 'fcntl(F_OFD_SETLK)');
}

/**
 * F_OFD_GETLK: would a lock of that kind on `fd` conflict?  Returns null when it would not,
 * else the conflicting lock's type (F_RDLCK / F_WRLCK) and pid (-1 for OFD locks, the owner's
 * pid for classic POSIX record locks).
 */
export function ofdGetLock(fd: number, exclusive: boolean): { type: number; pid: number } | null {
  const lk = flockStruct(exclusive ? F_WRLCK : F_RDLCK);
  ofdCall(fd, F_OFD_GETLK, lk, 'fcntl(F_OFD_GETLK)');
  const type = lk.readInt16LE(0);
  return type === F_UNLCK ? null : { type, pid: lk.readInt32LE(24) };
}

/**
 * Lock a lock file the way libglnx's glnx_make_lock_file does: an OFD lock on the whole file,
 * falling back to flock(2) when the kernel has no OFD locks (EINVAL).  Busy (with
 * `wait: false`) throws code 'EWOULDBLOCK'.  Returns which primitive took the lock, for
 * `unlockFd`.
 */
export function lockFd(fd: number, options: { exclusive: boolean; wait?: boolean }): 'ofd' | 'flock' {
  try {
    ofdLock(fd, options);
    return 'ofd';
  } catch (e) {
    if ((e as NativeError).code !== 'EINVAL') throw e;
  }
  flock(fd, (options.exclusive ? LOCK_EX : LOCK_SH) | (options.wait ? 0 : LOCK_NB));
  return 'flock';
}

/** Release a lock taken by `lockFd`. */
export function unlockFd(fd: number, kind: 'ofd' | 'flock'): void {
  if (kind === 'ofd') ofdUnlock(fd);
  else flock(fd, LOCK_UN);
}

// ---------------------------------------------------------------------------------------------
// mknod

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const S_IFREG = 0o100000;

/** glibc's makedev(): device number for mknod(). */
export function makedev(major: number, minor: number): number {
  const big = ((BigInt(major) & 0xfffff000n) << 32n) | ((BigInt(major) & 0xfffn) << 8n) |
    ((BigInt(minor) & 0xffffff00n) << 12n) | (BigInt(minor) & 0xffn);
  return Number(big);
}

/** mknod(2): mode includes the file type (S_IFCHR|0o000 for an overlayfs whiteout, dev 0). */
export function mknod(path: string, mode: number, dev: number | bigint = 0): void {
  const l = libc();
  if (l.mknod(path, mode >>> 0, typeof dev === 'bigint' ? dev : BigInt(dev)) !== 0) fail(l, 'mknod', path);
}

/** Creates an overlayfs whiteout (character device 0:0) at path. */
export function mkWhiteout(path: string, mode = 0o000): void {
  mknod(path, S_IFCHR | (mode & 0o7777), 0);
}

// ---------------------------------------------------------------------------------------------
// Directory-relative calls for loops over tens of thousands of files (hardlink checkouts): the
// kernel resolves a name in an open directory instead of a whole path, and lstat fills a reused
// object instead of a Stats (whose Date fields cost more than the system call).

/** The fields lstatAt fills in. */
export interface LstatFields { mode: number; uid: number; gid: number; size: number }

const STATX_TYPE_MODE_UID_GID_SIZE = 0x1 | 0x2 | 0x8 | 0x10 | 0x200;
const AT_SYMLINK_NOFOLLOW = 0x100;
let statxBuf: Buffer | null = null;

/** lstat(2) of `path` relative to directory fd `dirfd` (or AT_FDCWD) into `out`, via statx. */
export function lstatAt(dirfd: number, path: string, out: LstatFields): void {
  const l = libc();
  const buf = (statxBuf ??= Buffer.alloc(256));
  if (l.statx(dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE_MODE_UID_GID_SIZE, buf) !== 0) fail(l, 'statx', path);
  out.uid = buf.readUInt32LE(20);
  out.gid = buf.readUInt32LE(24);
  out.mode = buf.readUInt16LE(28);
  out.size = Number(buf.readBigUInt64LE(40));
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

export { AT_FDCWD };
