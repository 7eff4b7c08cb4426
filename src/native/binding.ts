/**
 * The koffi binding of libc behind every wrapper in src/native/, and the errors they throw.
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
export type NativeFn = (...args: any[]) => any;

export interface Libc {
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
  openat: NativeFn;
  close: NativeFn;
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

export function libc(): Libc {
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
    // (without O_CREAT/O_TMPFILE openat reads no mode argument: the fixed prototype is enough)
    openat: lib.func('int openat(int dirfd, const char *path, int flags)'),
    close: lib.func('int close(int fd)'),
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

export function nativeError(errno: number, syscall: string, path?: string, dest?: string, message?: string, code?: string): NativeError {
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

export function fail(l: Libc, syscall: string, path?: string, dest?: string, code?: string): never {
  const errno = l.koffi.errno();
  throw nativeError(errno, syscall, path, dest, undefined, code);
}

/** The current directory for the *at() calls. */
export const AT_FDCWD = -100;

const O_RDONLY = fs.constants.O_RDONLY;
const O_NONBLOCK = fs.constants.O_NONBLOCK;
const O_NOCTTY = fs.constants.O_NOCTTY;
const O_CLOEXEC = 0o2000000;

/** Opens a file or directory read-only without following into FIFO/tty semantics. */
export function openForIoctl(path: string): number {
  return fs.openSync(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}
