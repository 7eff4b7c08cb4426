/**
 * Bootloader backends.  One small interface; the sysroot code calls `writeConfig` only when a
 * new bootversion is written (never for sub-bootversion swaps or `kargs edit-in-place`), after
 * the BLS entries of `loader.<B'>` exist and before `/boot/loader` is swapped, and `postSwap`
 * after the swap.
 *
 * Selection (repo config `[sysroot] bootloader=`): `auto` (default), `none`, `grub2`.
 * Upstream's other values (syslinux, uboot, zipl, aboot) are valid upstream but not
 * implemented here: they fail with ECONFIG "Invalid bootloader configuration" like any
 * unknown value, rather than silently writing nothing.
 * `auto` picks grub2 when `boot/grub/grub.cfg` or `boot/grub2/grub.cfg` exists (lstat: a
 * dangling symlink counts, as upstream), else none.
 */
import { OstreeError } from '../../errors.js';
import type { KeyFile } from '../../glib/keyfile.js';
import { NoneBootloader } from './none.js';
import { Grub2Bootloader } from './grub2.js';

/** What a backend needs of one BLS entry (already in menu order, default first). */
export interface BootMenuEntry {
  title: string;
  /** `linux` path, relative to the /boot filesystem (e.g. `/ostree/os-<bootcsum>/vmlinuz-6.1`) */
  linux: string;
  initrds: string[];
  devicetree?: string;
  options: string;
}

export interface Bootloader {
  readonly name: 'none' | 'grub2';
  /** True when switching `/boot/loader` alone switches the bootloader's configuration. */
  isAtomic(): boolean;
  /** Write `boot/loader.<bootversion>/<config>` for these entries. */
  writeConfig(sysrootPath: string, bootversion: number, entries: BootMenuEntry[]): void;
  /** After the `/boot/loader` swap (e.g. make sure grub.cfg is the `../loader/grub.cfg` link). */
  postSwap(sysrootPath: string): void;
}

export type BootloaderSetting = 'auto' | 'none' | 'grub2';

export function bootloaderSetting(config: KeyFile | undefined): BootloaderSetting {
  const v = config?.get('sysroot', 'bootloader') ?? 'auto';
  if (v === 'auto' || v === 'none' || v === 'grub2') return v;
  throw new OstreeError('ECONFIG', `Invalid bootloader configuration: '${v}' (supported: auto, none, grub2; set with 'ostree config set sysroot.bootloader grub2')`);
}

/** The backend to use for this sysroot, per repo config (and probing for `auto`). */
export function selectBootloader(sysrootPath: string, config: KeyFile | undefined): Bootloader {
  const setting = bootloaderSetting(config);
  const timeout = grubTimeout(config);
  if (setting === 'none') return new NoneBootloader();
  if (setting === 'grub2') return new Grub2Bootloader({ timeout });
  if (Grub2Bootloader.query(sysrootPath)) return new Grub2Bootloader({ timeout });
  return new NoneBootloader();
}

function grubTimeout(config: KeyFile | undefined): number {
  const v = config?.get('sysroot', 'grub-timeout');
  if (v === undefined) return 3;
  if (!/^\d+$/.test(v)) throw new OstreeError('ECONFIG', `Invalid sysroot.grub-timeout '${v}': expected a number of seconds`);
  return Number(v);
}

export { NoneBootloader, Grub2Bootloader };
