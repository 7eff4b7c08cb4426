/**
 * Extended attributes (the l- and f- xattr calls), with one reused scratch buffer for the per-file calls of commit and checkout.
 */
import { libc, fail, nativeError, type NativeFn } from './binding.js';

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

// A value is first read into at most 4 KiB (the kernel zero-fills a buffer as large as the one
// it is given: the whole 64 KiB scratch buffer would cost more than the call); a larger one is
// then read at its size.
const GETX_FIRST = 4096;

function getx(fn: NativeFn, syscall: string, target: string | number, name: string): Buffer | null {
  const l = libc();
  const where = typeof target === 'string' ? target : undefined;
  let ask = Math.min(xbuf.length, GETX_FIRST);
  for (;;) {
    const n = fn(target, name, xbuf, ask);
    if (n >= 0) return Buffer.from(xbuf.subarray(0, n));
    const errno = l.koffi.errno();
    if (errno === ENODATA || errno === ENOTSUP) return null;
    if (errno !== ERANGE) throw nativeError(errno, syscall, where);
    const need = fn(target, name, null, 0);
    if (need < 0) fail(l, syscall, where);
    growScratch(need + 1);
    ask = need + 1;
  }
}

// The list is asked for its size first: most files have no xattrs, and the kernel allocates as
// much as the buffer it is given (64 KiB for the scratch buffer) before filling it.
function listx(fn: NativeFn, syscall: string, target: string | number): string[] {
  const l = libc();
  const where = typeof target === 'string' ? target : undefined;
  for (;;) {
    const size = fn(target, null, 0);
    if (size === 0) return [];
    const n = size < 0 ? size : (growScratch(size), fn(target, xbuf, size));
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
    // (ERANGE: the list grew between the two calls; ask again)
    if (errno !== ERANGE) throw nativeError(errno, syscall, where);
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
