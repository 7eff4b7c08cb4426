/** `sysroot.bootloader=none`: only BLS entries and kernels are written (GRUB with blscfg,
 * systemd-boot, or a test setup).  Not atomic in upstream's sense, so the transaction message
 * says `Bootloader updated`. */
import type { Bootloader, BootloaderBackend, BootMenuEntry } from './types.js';

export class NoneBootloader implements Bootloader {
  readonly name = 'none';
  isAtomic(): boolean { return false; }
  writeConfig(_sysrootPath: string, _bootversion: number, _entries: BootMenuEntry[]): void { /* nothing */ }
  postSwap(_sysrootPath: string): void { /* nothing */ }
}

export const noneBackend: BootloaderBackend = {
  name: 'none',
  create: () => new NoneBootloader(),
};
