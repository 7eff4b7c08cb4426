/**
 * Thin, synchronous, typed wrappers around the libc calls Node does not offer, bound with koffi,
 * one file per concern in this folder; this module is their one namespace, so callers write
 * `libc.lgetxattr(...)` as they would in C.
 *
 * - The koffi module and libc are loaded lazily, once, on the first call that needs them, so
 *   importing this module costs nothing at start-up (matters for `ostree admin status`).
 * - Failures throw Node-style errors, like `fs.*Sync`: an Error with `code` (errno name, e.g.
 *   'ENOENT', 'EOPNOTSUPP'), `errno` (NEGATIVE errno number, as Node's fs errors carry it, e.g.
 *   -2 for ENOENT), `syscall` (e.g. 'renameat2') and `path` / `dest` where there is one.
 *   Use `isErrno(e, 'ENOENT')` from src/errors.ts to test them.
 */
export { AT_FDCWD, errnoName, type NativeError } from './binding.js';
export * from './rename.js';
export * from './sync.js';
export * from './ioctl.js';
export * from './mount.js';
export * from './xattr.js';
export * from './lock.js';
export * from './mknod.js';
export * from './at.js';
