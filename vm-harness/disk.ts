/**
 * Disk images from directories, without mounting anything (no nbd here, and mounting is not
 * needed).  One disk boots under every firmware (firmware.ts), as a Debian install on GPT does:
 *   sector 0         protective MBR carrying GRUB's boot.img (BIOS)
 *   partition 1      BIOS boot partition (1 MiB) holding GRUB's i386-pc core image
 *   partition 2      EFI system partition (FAT, esp.ts): shim + GRUB + a stub grub.cfg
 *   partition 3      ext4 made from a directory with `mkfs.ext4 -d` (the sysroot, with /boot)
 * BIOS GRUB is written by hand (grub-install cannot target a loop device on these machines):
 * boot.img is told the core image's sector, the core image where its own remaining sectors are.
 * Converted to qcow2.  Also a bare ext4 image for data disks.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFile, mkdirp, rmrf, run, writeFile } from './common.js';
import type { EfiChain } from './efi-chain.js';
import { ESP_DEFAULT_MIB, makeEspImage } from './esp.js';
import type { Phase } from './progress.js';

/** Where the partitions start, in 512-byte sectors (1 MiB alignment). */
const BIOS_BOOT_START = 2048;
const ESP_START = 4096;
const GPT_TYPE = {
  biosBoot: '21686148-6449-6E6F-744E-656564454649',
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
};
/** boot.img: the 64-bit LBA of the core image's first sector (GRUB_BOOT_MACHINE_KERNEL_SECTOR). */
const BOOT_IMG_KERNEL_SECTOR = 0x5c;
/** core.img (its diskboot.img sector): the first blocklist entry's start LBA, at the sector's end. */
const DISKBOOT_BLOCKLIST_START = 0x200 - 12;

export interface DiskOptions {
  /** ESP size (default ESP_DEFAULT_MIB) */
  espMiB?: number;
  /** files copied onto the ESP's root besides the boot chain (e.g. systemd-boot's) */
  espExtraDir?: string;
}

export interface DiskInfo {
  /** filesystem UUID of the ext4 partition (the ESP's stub finds it by this) */
  rootUuid: string;
}

/** Install BIOS GRUB: modules under BOOT/grub/i386-pc, and a core image patched for its place on the disk. */
async function grubFiles(bootDir: string, work: string): Promise<string> {
  const mods = path.join(bootDir, 'grub/i386-pc');
  mkdirp(mods);
  for (const f of fs.readdirSync('/usr/lib/grub/i386-pc')) {
    if (f.endsWith('.mod') || f.endsWith('.lst')) copyFile(path.join('/usr/lib/grub/i386-pc', f), path.join(mods, f));
  }
  const early = path.join(work, 'grub-early.cfg');
  writeFile(early, 'serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\n');
  const core = path.join(work, 'core.img');
  await run('grub-mkimage', ['-O', 'i386-pc', '-d', '/usr/lib/grub/i386-pc', '-p', '(hd0,gpt3)/boot/grub',
    '-c', early, '-o', core, 'biosdisk', 'part_gpt', 'ext2', 'serial', 'terminal']);
  const img = fs.readFileSync(core);
  if (img.length > (ESP_START - BIOS_BOOT_START) * 512) throw new Error(`GRUB core image (${img.length} bytes) does not fit the BIOS boot partition`);
  // The rest of the core image follows its first sector.
  img.writeBigUInt64LE(BigInt(BIOS_BOOT_START + 1), DISKBOOT_BLOCKLIST_START);
  fs.writeFileSync(core, img);
  return core;
}

/** boot.img pointing at the core image in the BIOS boot partition. */
function bootImg(work: string): string {
  const b = fs.readFileSync('/usr/lib/grub/i386-pc/boot.img');
  b.writeBigUInt64LE(BigInt(BIOS_BOOT_START), BOOT_IMG_KERNEL_SECTOR);
  const out = path.join(work, 'boot.img');
  fs.writeFileSync(out, b.subarray(0, 440));
  return out;
}

/** Raw GPT disk (see the top of this file) from `rootDir`, converted to qcow2 at `out`. */
export async function makeDisk(rootDir: string, label: string, out: string, work: string, extraMiB: number, p: Phase,
  chain: EfiChain, opts: DiskOptions = {}): Promise<DiskInfo> {
  p.note('GRUB core image and modules (BIOS)');
  const core = await grubFiles(path.join(rootDir, 'boot'), work);
  const partMiB = await sizeFor(rootDir, extraMiB);
  const espMiB = opts.espMiB ?? ESP_DEFAULT_MIB;
  const part = path.join(work, `${label}.part.raw`);
  const esp = path.join(work, `${label}.esp.raw`);
  const raw = out.replace(/\.qcow2$/, '.raw');
  rmrf(part); rmrf(raw);
  const rootUuid = randomUUID();
  p.note(`ext4 filesystem "${label}" (${partMiB} MiB) from ${path.basename(rootDir)}/`);
  await run('mkfs.ext4', ['-q', '-F', '-L', label, '-U', rootUuid, '-d', rootDir, '-E', 'root_owner=0:0', part, `${partMiB}M`]);
  p.note(`EFI system partition (${espMiB} MiB FAT, mtools): shim, GRUB, stub grub.cfg`);
  await makeEspImage(esp, { shim: chain.shim, grub: chain.grub, rootUuid, extraDir: opts.espExtraDir }, espMiB, work);
  p.note('GPT, BIOS boot partition, GRUB boot sectors');
  const rootStart = ESP_START + espMiB * 2048;
  // 1 MiB at the end for the backup GPT.
  await run('truncate', ['-s', `${rootStart / 2048 + partMiB + 1}M`, raw]);
  await run('sfdisk', ['-q', raw], {
    input: ['label: gpt',
      `start=${BIOS_BOOT_START}, size=${ESP_START - BIOS_BOOT_START}, type=${GPT_TYPE.biosBoot}, name="bios-boot"`,
      `start=${ESP_START}, size=${espMiB * 2048}, type=${GPT_TYPE.esp}, name="esp"`,
      `start=${rootStart}, size=${partMiB * 2048}, type=${GPT_TYPE.linux}, name="${label}"`, ''].join('\n'),
  });
  const dd = (file: string, bs: number, seek: number) =>
    run('dd', [`if=${file}`, `of=${raw}`, `bs=${bs}`, `seek=${seek}`, 'conv=notrunc,sparse', 'status=none']);
  await dd(part, 512 * 2048, rootStart / 2048);
  await dd(esp, 512 * 2048, ESP_START / 2048);
  await dd(core, 512, BIOS_BOOT_START);
  await dd(bootImg(work), 440, 0);
  p.note('converting to qcow2');
  rmrf(out);
  await run('qemu-img', ['convert', '-O', 'qcow2', raw, out]);
  rmrf(raw); rmrf(part); rmrf(esp);
  return { rootUuid };
}

/** Size of a filesystem holding `dir`: its apparent size plus 30 %, plus `extraMiB`. */
async function sizeFor(dir: string, extraMiB: number): Promise<number> {
  const usedKiB = Number((await run('du', ['-sk', '--apparent-size', dir])).split(/\s/)[0]);
  return Math.ceil(usedKiB * 1.3 / 1024) + extraMiB;
}

/** A bare ext4 image (no partition table) holding `dir`, for a data disk. */
export async function makeExt4Image(dir: string, label: string, out: string, extraMiB: number): Promise<void> {
  rmrf(out);
  await run('mkfs.ext4', ['-q', '-F', '-L', label, '-d', dir, out, `${await sizeFor(dir, extraMiB)}M`]);
}
