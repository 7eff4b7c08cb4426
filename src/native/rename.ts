/**
 * renameat2(2): atomic exchange and no-replace renames (the boot swap, object placement).
 */
import { libc, fail, AT_FDCWD } from './binding.js';

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
