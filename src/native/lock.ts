/**
 * Lock files as libglnx takes them: OFD locks (fcntl F_OFD_*), falling back to flock(2).
 */
import { libc, nativeError, type NativeError } from './binding.js';

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
