/**
 * The EFI system partition as the systemd-boot backend uses it: where it is, whether it has
 * systemd-boot, and durable file operations that work on FAT.
 *
 * Where: the first of `<sysroot>/efi` and `<sysroot>/boot/efi` that looks like an ESP (has
 * `EFI/` or `loader/`).  `/boot/efi` is the recommended place: on an OSTree system `/boot` is the
 * sysroot's `boot/` (ext4, where the `/boot/loader` swap stays the source of truth), so the
 * mount point exists in every deployment without changing the OS tree, and systemd's ESP
 * search (`/efi`, `/boot`, `/boot/efi`: bootctl, systemd-bless-boot) finds it.  `/boot` itself
 * being the ESP is not supported: OSTree needs symlinks and hard links in /boot.
 *
 * FAT durability: no chmod (vfat refuses mode changes), no copy_file_range-based copies (libuv's
 * copyfile chmods the target); data is written to a temporary name, fsync'ed, renamed, and the
 * directory fsync'ed (vfat implements fsync on directories), so a name that exists always
 * refers to complete content.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isErrno } from '../../errors.js';
import { lstatOrNull, statOrNull, tmpSuffix } from '../../util/fs.js';

export const ESP_CANDIDATES = ['efi', 'boot/efi'] as const;
export const SDBOOT_BINARY = 'EFI/systemd/systemd-bootx64.efi';
export const FALLBACK_BINARY = 'EFI/BOOT/BOOTX64.EFI';

/** The ESP directory of a sysroot, or null. */
export function findEsp(sysrootPath: string): string | null {
  for (const rel of ESP_CANDIDATES) {
    const dir = path.join(sysrootPath, rel);
    if (!statOrNull(dir)?.isDirectory()) continue;
    if (statOrNull(path.join(dir, 'EFI'))?.isDirectory() || statOrNull(path.join(dir, 'loader'))?.isDirectory()) return dir;
  }
  return null;
}

/** systemd-boot is installed on this ESP: `loader/` plus its binary (its own name, or the
 * removable-media fallback path holding a systemd-boot image). */
export function hasSystemdBoot(esp: string): boolean {
  if (!statOrNull(path.join(esp, 'loader'))?.isDirectory()) return false;
  if (statOrNull(path.join(esp, SDBOOT_BINARY))?.isFile()) return true;
  const fallback = path.join(esp, FALLBACK_BINARY);
  const st = statOrNull(fallback);
  if (!st?.isFile() || st.size > 16 * 1024 * 1024) return false;
  return fs.readFileSync(fallback).includes('#### LoaderInfo: systemd-boot');
}

/** fsync a directory (its entries: creations, renames, removals). */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

/** A temporary name beside `target` that systemd-boot ignores (not `*.conf`, not loader.conf). */
export function espTmpName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${tmpSuffix()}`);
}

export function isEspTmpName(name: string): boolean { return /^\..*\.tmp-[^/]*$/.test(name); }

/** Write `target` durably: temporary file, fsync, rename, fsync of the directory. */
export function writeDurable(target: string, data: string | Buffer, beforeRename?: () => void): void {
  const tmp = espTmpName(target);
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  beforeRename?.();
  fs.renameSync(tmp, target);
  fsyncDir(path.dirname(target));
}

/** Copy `src` to `target` durably (same scheme as writeDurable), by plain reads and writes. */
export function copyDurable(src: string, target: string, beforeRename?: () => void): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = espTmpName(target);
  const buf = Buffer.allocUnsafe(1 << 20);
  const inFd = fs.openSync(src, 'r');
  try {
    const outFd = fs.openSync(tmp, 'wx');
    try {
      for (let n = fs.readSync(inFd, buf, 0, buf.length, null); n > 0; n = fs.readSync(inFd, buf, 0, buf.length, null)) {
        let off = 0;
        while (off < n) off += fs.writeSync(outFd, buf, off, n - off);
      }
      fs.fsyncSync(outFd);
    } finally {
      fs.closeSync(outFd);
    }
  } finally {
    fs.closeSync(inFd);
  }
  beforeRename?.();
  fs.renameSync(tmp, target);
  fsyncDir(path.dirname(target));
}

/** Remove a file if it exists (a crash may already have removed it). */
export function removeIfPresent(p: string): boolean {
  try { fs.unlinkSync(p); return true; } catch (e) { if (isErrno(e, 'ENOENT')) return false; throw e; }
}

/** Every regular file below `dir`, as paths relative to it ('/'-separated). */
export function listFiles(dir: string, rel = ''): string[] {
  const st = lstatOrNull(path.join(dir, rel));
  if (!st?.isDirectory()) return [];
  const out: string[] = [];
  for (const name of fs.readdirSync(path.join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const s = lstatOrNull(path.join(dir, r));
    if (s?.isDirectory()) out.push(...listFiles(dir, r));
    else if (s) out.push(r);
  }
  return out;
}
