/**
 * U-Boot backend (upstream ostree-bootloader-uboot.c's behaviour): `boot/uEnv.txt` links to
 * `loader/uEnv.txt`, so the `/boot/loader` swap switches the environment U-Boot imports.  The
 * new `boot/loader.<B>/uEnv.txt` is generated whole from the BLS entries, the first unsuffixed,
 * the others suffixed by their position (2, 3, ...):
 *
 *   kernel_image=/boot<linux>   ramdisk_image=/boot<initrd>   fdt_file=/boot<devicetree>
 *   fdtdir=/boot<fdtdir>        bootargs=<options>
 *
 * and after the default entry's `bootargs`, the deployment's own
 * `usr/lib/ostree-boot/uEnv.txt` (found through its `ostree=` bootlink), verbatim.
 */
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import type { Bootloader, BootloaderBackend, BootMenuEntry } from './types.js';
import { loaderRel } from '../layout.js';
import { KernelArgs } from '../formats/kargs.js';
import { lstatOrNull, readFileBounded, writeFileAtomic } from '../../util/fs.js';
import { joinConfigLines } from './config-lines.js';

export const UBOOT_CONFIG_REL = 'boot/loader/uEnv.txt';
/** A uEnv.txt is an environment of a few kilobytes (U-Boot's own limit is far lower). */
const UENV_MAX_BYTES = 1024 * 1024;

/** The system uEnv.txt of the deployment the default entry's `ostree=` names, or null. */
function systemUenv(sysrootPath: string, options: string): string | null {
  const ostreeArg = KernelArgs.parse(options).getLastValue('ostree');
  if (ostreeArg === undefined || ostreeArg === null) {
    throw new OstreeError('ECORRUPT', 'No ostree= kernel argument found in boot loader configuration file');
  }
  const rel = path.posix.join(ostreeArg.replace(/^\/+/, ''), 'usr/lib/ostree-boot/uEnv.txt');
  if (rel.startsWith('..')) throw new OstreeError('ECORRUPT', `ostree=${ostreeArg} leaves the sysroot`);
  const data = readFileBounded(path.join(sysrootPath, rel), UENV_MAX_BYTES, { what: `Reading ${rel}` });
  return data === null ? null : data.toString('utf8');
}

/** The new uEnv.txt for `entries` (menu order, default first). */
export function generateUbootEnv(sysrootPath: string, entries: readonly BootMenuEntry[]): string {
  const lines: string[] = [];
  entries.forEach((e, i) => {
    const sfx = i === 0 ? '' : String(i + 1);
    if (!e.linux) throw new OstreeError('ECORRUPT', 'No "linux" key in bootloader config');
    lines.push(`kernel_image${sfx}=/boot${e.linux}`);
    if (e.initrds[0]) lines.push(`ramdisk_image${sfx}=/boot${e.initrds[0]}`);
    if (e.devicetree) lines.push(`fdt_file${sfx}=/boot${e.devicetree}`);
    if (e.fdtdir) lines.push(`fdtdir${sfx}=/boot${e.fdtdir}`);
    if (e.options) {
      lines.push(`bootargs${sfx}=${e.options}`);
      if (i === 0) {
        const uenv = systemUenv(sysrootPath, e.options);
        if (uenv !== null) lines.push(uenv);
      }
    }
  });
  return joinConfigLines(lines);
}

export class UbootBootloader implements Bootloader {
  readonly name = 'uboot';
  isAtomic(): boolean { return true; }

  writeConfig(sysrootPath: string, bootversion: number, entries: BootMenuEntry[]): void {
    // Upstream reads the live environment first: a sysroot without one is not set up for U-Boot.
    const live = path.join(sysrootPath, UBOOT_CONFIG_REL);
    if (readFileBounded(live, UENV_MAX_BYTES, { what: 'U-Boot environment' }) === null) {
      throw new OstreeError('ENOENT', `${live} does not exist: the U-Boot backend needs boot/loader/uEnv.txt`);
    }
    const text = generateUbootEnv(sysrootPath, entries);
    writeFileAtomic(path.join(sysrootPath, loaderRel(bootversion), 'uEnv.txt'), text, { sync: true });
  }

  postSwap(_sysrootPath: string): void { /* boot/uEnv.txt already follows boot/loader */ }
}

export const ubootBackend: BootloaderBackend = {
  name: 'uboot',
  query: (sysrootPath) => lstatOrNull(path.join(sysrootPath, UBOOT_CONFIG_REL)) !== null,
  create: () => new UbootBootloader(),
};
