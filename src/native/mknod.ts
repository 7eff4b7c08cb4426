/**
 * mknod(2): device nodes and overlayfs whiteouts.
 */
import { libc, fail } from './binding.js';

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
