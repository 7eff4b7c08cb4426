/**
 * The bootloader backend interface (upstream ostree-bootloader.h, reduced to what this
 * implementation uses).  The sysroot code calls `writeConfig` only when a new bootversion is
 * written (never for sub-bootversion swaps or `kargs edit-in-place`), after the BLS entries of
 * `loader.<B>` exist and before `/boot/loader` is swapped, and `postSwap` after the swap.
 * Backends import only this file; registry.ts names them.
 */
import type { KeyFile } from '../../glib/keyfile.js';

/** What a backend needs of one BLS entry (already in menu order, default first). */
export interface BootMenuEntry {
  title: string;
  /** `linux` path, relative to the /boot filesystem (e.g. `/ostree/os-<bootcsum>/vmlinuz-6.1`) */
  linux: string;
  initrds: string[];
  devicetree?: string;
  /** `fdtdir`: the directory of devicetrees (a `dtb/` in the kernel's modules directory). */
  fdtdir?: string;
  options: string;
  /**
   * Boot counting (boot-counting/): set on the default entry of a deployment still on trial.
   * `id` names the deployment to the bootloader's counter, `tries` is what it starts with.
   */
  counter?: { id: string; tries: number };
}

export interface Bootloader {
  /** The `sysroot.bootloader` value that selects this backend. */
  readonly name: string;
  /** True when switching `/boot/loader` alone switches the bootloader's configuration. */
  isAtomic(): boolean;
  /** Write `boot/loader.<bootversion>/<config>` for these entries. */
  writeConfig(sysrootPath: string, bootversion: number, entries: BootMenuEntry[]): void;
  /** After the `/boot/loader` swap (e.g. make sure grub.cfg is the `../loader/grub.cfg` link). */
  postSwap(sysrootPath: string): void;
  /**
   * For a backend whose switch follows the `/boot/loader` swap (isAtomic() false): bring its
   * own copy back in line with the committed `/boot/loader`, finishing a switch a crash cut
   * short.  Cleanup calls it before it removes the other bootversion's boot links, which an
   * unfinished switch may still name.
   */
  resync?(sysrootPath: string): void;
}

/** One backend as the registry knows it. */
export interface BootloaderBackend {
  /** The `sysroot.bootloader` value. */
  readonly name: string;
  /** For `auto`: does this sysroot use this bootloader?  (Absent: never chosen by `auto`.) */
  query?(sysrootPath: string): boolean;
  /** A backend configured from the repo config (`[sysroot]` keys). */
  create(config: KeyFile | undefined): Bootloader;
}
