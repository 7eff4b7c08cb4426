/**
 * mount(2) and umount2(2): bind mounts and tmpfs for prepare-root and tests.
 */
import { libc, fail } from './binding.js';

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
