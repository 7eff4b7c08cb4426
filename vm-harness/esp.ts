/**
 * The EFI system partition, as a FAT image made with mtools (no loop device, nothing mounted):
 *   \EFI\BOOT\BOOTX64.EFI   shim (the removable-media path every UEFI firmware tries)
 *   \EFI\BOOT\grubx64.efi   GRUB, which shim starts (and verifies, under Secure Boot)
 *   \EFI\debian\grub.cfg    a stub: find the root filesystem by UUID, read /boot/grub/grub.cfg
 * Debian's signed GRUB carries the prefix /EFI/debian (on the device it was started from), so it
 * reads the stub there.  The stub only points at the grub.cfg our grub2 backend writes under
 * /boot (a symlink into /boot/loader), so the atomic /boot/loader swap works as under BIOS.
 * Shim runs with Secure Boot off too: one ESP serves the `uefi` and `secureboot` firmwares.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rmrf, run, writeFile } from './common.js';

export interface EspContent {
  /** \EFI\BOOT\BOOTX64.EFI */
  shim: string;
  /** \EFI\BOOT\grubx64.efi */
  grub: string;
  /** filesystem UUID of the partition holding /boot/grub/grub.cfg */
  rootUuid: string;
  /** copied to the ESP's root as they are (e.g. a boot loader's own files) */
  extraDir?: string;
}

export const ESP_DEFAULT_MIB = 64;

/** The stub GRUB config on the ESP: hand over to /boot/grub/grub.cfg on the root filesystem. */
export function stubGrubCfg(rootUuid: string): string {
  return [
    '# ostree-ts: the boot menu is /boot/grub/grub.cfg on the root filesystem (written by ostree).',
    `search --no-floppy --fs-uuid --set=root ${rootUuid}`,
    'set prefix=($root)/boot/grub',
    'configfile ($root)/boot/grub/grub.cfg',
    '',
  ].join('\n');
}

/** A FAT32 image of `sizeMiB` at `out` holding the boot chain and the stub config. */
export async function makeEspImage(out: string, c: EspContent, sizeMiB: number, work: string): Promise<void> {
  rmrf(out);
  await run('truncate', ['-s', `${sizeMiB}M`, out]);
  await run('mformat', ['-i', out, '-F', '-v', 'ESP', '::']);
  const stub = path.join(work, 'esp-grub.cfg');
  writeFile(stub, stubGrubCfg(c.rootUuid));
  const m = (args: string[]) => run(args[0]!, ['-i', out, ...args.slice(1)]);
  await m(['mmd', '::/EFI', '::/EFI/BOOT', '::/EFI/debian']);
  await m(['mcopy', c.shim, '::/EFI/BOOT/BOOTX64.EFI']);
  await m(['mcopy', c.grub, '::/EFI/BOOT/grubx64.efi']);
  await m(['mcopy', stub, '::/EFI/debian/grub.cfg']);
  if (c.extraDir) await copyTree(out, c.extraDir, new Set(['EFI', 'EFI/BOOT', 'EFI/debian']));
}

/** Copy a directory's tree onto the ESP's root (files replace what is there). */
async function copyTree(img: string, dir: string, made: Set<string>, rel = ''): Promise<void> {
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    // FAT names are case-insensitive: compare directories as FAT would.
    const known = [...made].some((d) => d.toLowerCase() === r.toLowerCase());
    if (e.isDirectory()) {
      if (!known) { await run('mmd', ['-i', img, `::/${r}`]); made.add(r); }
      await copyTree(img, dir, made, r);
    } else {
      await run('mcopy', ['-i', img, '-o', path.join(dir, r), `::/${r}`]);
    }
  }
}
