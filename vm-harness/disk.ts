/**
 * Disk images from directories, without mounting anything (no nbd here, and mounting is not
 * needed): an ext4 filesystem filled with `mkfs.ext4 -d`, BIOS GRUB written by hand (boot.img in
 * the MBR, a core image in the 1 MiB gap: grub-install cannot target a loop device on these
 * machines), converted to qcow2; and a bare ext4 image for data disks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFile, mkdirp, rmrf, run, writeFile } from './common.js';
import type { Phase } from './progress.js';

/** Install BIOS GRUB: modules under BOOT/grub/i386-pc, then boot.img + core.img into the raw disk. */
async function grubFiles(bootDir: string, work: string): Promise<string> {
  const mods = path.join(bootDir, 'grub/i386-pc');
  mkdirp(mods);
  for (const f of fs.readdirSync('/usr/lib/grub/i386-pc')) {
    if (f.endsWith('.mod') || f.endsWith('.lst')) copyFile(path.join('/usr/lib/grub/i386-pc', f), path.join(mods, f));
  }
  const early = path.join(work, 'grub-early.cfg');
  writeFile(early, 'serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\n');
  const core = path.join(work, 'core.img');
  await run('grub-mkimage', ['-O', 'i386-pc', '-d', '/usr/lib/grub/i386-pc', '-p', '(hd0,msdos1)/boot/grub',
    '-c', early, '-o', core, 'biosdisk', 'part_msdos', 'ext2', 'serial', 'terminal']);
  return core;
}

/** Raw disk: MBR, 1 MiB gap with GRUB's core image, one ext4 partition made from `rootDir`. */
export async function makeDisk(rootDir: string, label: string, out: string, work: string, extraMiB: number, p: Phase): Promise<void> {
  p.note('GRUB core image and modules');
  const core = await grubFiles(path.join(rootDir, 'boot'), work);
  const partMiB = await sizeFor(rootDir, extraMiB);
  const part = path.join(work, `${label}.part.raw`);
  const raw = out.replace(/\.qcow2$/, '.raw');
  rmrf(part); rmrf(raw);
  p.note(`ext4 filesystem "${label}" (${partMiB} MiB) from ${path.basename(rootDir)}/`);
  await run('mkfs.ext4', ['-q', '-F', '-L', label, '-d', rootDir, '-E', 'root_owner=0:0', part, `${partMiB}M`]);
  p.note('partition table, GRUB boot sectors');
  await run('truncate', ['-s', `${partMiB + 1}M`, raw]);
  await run('sfdisk', ['-q', raw], { input: 'label: dos\nstart=2048, type=83, bootable\n' });
  await run('dd', [`if=${part}`, `of=${raw}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none']);
  await run('dd', ['if=/usr/lib/grub/i386-pc/boot.img', `of=${raw}`, 'bs=440', 'count=1', 'conv=notrunc', 'status=none']);
  await run('dd', [`if=${core}`, `of=${raw}`, 'bs=512', 'seek=1', 'conv=notrunc', 'status=none']);
  p.note('converting to qcow2');
  rmrf(out);
  await run('qemu-img', ['convert', '-O', 'qcow2', raw, out]);
  rmrf(raw); rmrf(part);
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
