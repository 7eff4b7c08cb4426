/**
 * systemd-boot backend (`sysroot.bootloader=systemd-boot`; Debian 12's `systemd-boot` 252).
 *
 * systemd-boot reads Boot Loader Specification entries, and the kernels they name, only from
 * the EFI system partition (FAT).  Upstream OSTree writes its entries to /boot and swaps the
 * `/boot/loader` symlink, which FAT cannot hold (ostree#3488).  Here /boot (ext4) stays the
 * source of truth, swapped exactly as for GRUB, and the ESP (`/boot/efi` or `/efi`,
 * systemd-boot-esp.ts) is made to mirror it with a crash-safe two-slot switch
 * (systemd-boot-mirror.ts):
 *  - writeConfig (before the /boot/loader swap): copy the new kernels and initrds to the ESP.
 *    A full ESP fails here, while the old deployment list is still the committed one.
 *  - postSwap (after it): switch the ESP's entry set.  Until that finishes, the ESP boots the
 *    previous set, which is complete; the next write re-runs the mirror and converges.
 * So the bootloader's switch is not the same instant as the /boot/loader swap: isAtomic() is
 * false (the transaction message says `Bootloader updated`, as upstream does for such backends).
 *
 * Auto-detection (`sysroot.bootloader` unset or `auto`): an ESP with `loader/` and the
 * systemd-boot binary (what `bootctl install` leaves).  It is probed before GRUB: a grub.cfg
 * left in /boot by an earlier install is common, a systemd-boot ESP is a deliberate choice.
 *
 * Boot counting: `sysroot.boot-counting-tries N` gives new entries `+N` (systemd-boot-names.ts);
 * systemd-bless-boot.service renames a good boot's entry once boot-complete.target is reached.
 */
import { OstreeError } from '../../errors.js';
import type { KeyFile } from '../../glib/keyfile.js';
import type { Bootloader, BootloaderBackend, BootMenuEntry } from './types.js';
import { faultStep } from '../fault.js';
import { ESP_CANDIDATES, findEsp, hasSystemdBoot } from './systemd-boot-esp.js';
import { ensureFiles, hasLiveSlot, mirrorEntries } from './systemd-boot-mirror.js';
import { bootCountingTries } from '../boot-counting/entry-name.js';

export class SystemdBootBootloader implements Bootloader {
  readonly name = 'systemd-boot';
  constructor(private readonly tries: number) {}

  static query(sysrootPath: string): boolean {
    const esp = findEsp(sysrootPath);
    return esp !== null && hasSystemdBoot(esp);
  }

  isAtomic(): boolean { return false; }

  writeConfig(sysrootPath: string, _bootversion: number, entries: BootMenuEntry[]): void {
    const esp = requireEsp(sysrootPath);
    for (const e of entries) {
      const refs = [e.linux, ...e.initrds, ...(e.devicetree ? [e.devicetree] : [])].filter((r) => /^\/ostree\/[^/]+\/[^/]+$/.test(r));
      ensureFiles(sysrootPath, esp, refs, faultStep);
    }
  }

  postSwap(sysrootPath: string): void {
    mirrorEntries(sysrootPath, requireEsp(sysrootPath), { tries: this.tries, step: faultStep });
  }

  /**
   * The mirror converges from any crash point, so finishing a cut-short switch is re-running it.
   * An ESP on which no switch was ever committed is left to the next deploy: whatever a first
   * switch wrote before its crash names the current bootversion's links, which cleanup keeps.
   */
  resync(sysrootPath: string): void {
    const esp = findEsp(sysrootPath);
    if (esp === null || !hasLiveSlot(esp)) return;
    this.postSwap(sysrootPath);
  }
}

function requireEsp(sysrootPath: string): string {
  const esp = findEsp(sysrootPath);
  if (esp === null) {
    throw new OstreeError('ECONFIG', `sysroot.bootloader=systemd-boot: no EFI system partition found at ${ESP_CANDIDATES.map((c) => `${sysrootPath.replace(/\/$/, '')}/${c}`).join(' or ')} (mount it there; it needs an EFI/ or loader/ directory)`);
  }
  return esp;
}

export const systemdBootBackend: BootloaderBackend = {
  name: 'systemd-boot',
  query: (sysrootPath) => SystemdBootBootloader.query(sysrootPath),
  create: (config: KeyFile | undefined) => new SystemdBootBootloader(bootCountingTries(config)),
};
