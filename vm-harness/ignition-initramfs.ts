/**
 * The Ignition image's initramfs: in a throwaway copy of the cached Debian base tree (dracut-chroot.ts), Debian's
 * dracut and Debian's Ignition 2.14 (its binary lives in dracut's 30ignition module) are installed
 * with apt, our modules (boot/dracut/98ostree, boot/dracut/40ignition-ostree) and prepare-root are
 * added, and dracut builds the initramfs for the image's kernel with just what a first boot needs
 * (DRACUT_ARGS).  Cached in VM_CACHE_DIR by its inputs (base tree, kernel, our module files).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, PROJECT_DIR, WORK_DIR, rmrf, writeFile } from './common.js';
import { addDracutModule, prepareDracutChroot } from './dracut-chroot.js';
import { ensureBaseTarball, ensureKernelDeb } from './caches.js';
import { done, phase, type Phase } from './progress.js';
/** Our dracut modules, copied into the chroot's /usr/lib/dracut/modules.d. */
const MODULES = ['98ostree', '40ignition-ostree'];
/** What must be in the initramfs for a first boot to work (checked with lsinitrd). */
const REQUIRED = [
  'usr/bin/ignition', 'ignition-fetch-offline.service', 'ignition-files.service', 'usr/lib/ostree/ostree-prepare-root',
  'initrd-root-fs.target.wants/ostree-prepare-root.service', 'ignition-complete.target.requires/ignition-ostree-populate-var.service',
  'ignition-complete.target.requires/ignition-ostree-preload.service', 'usr/lib/modules-load.d/ignition-qemu-disk.conf',
  'ignition-complete.target.requires/ignition-ostree-presets.service', 'emergency.target.wants/ignition-ostree-show-failure.service',
  'qemu_fw_cfg.ko', 'usr/sbin/useradd', 'usr/bin/systemd-tmpfiles', 'usr/sbin/setfiles',
  'usr/bin/busybox', 'usr/lib/systemd/system/emergency.service', 'usr/lib/systemd/systemd-sulogin-shell',
];
/** What must not be in it (the network and drivers this guest has not, dracut's hooks, fsck: see NO_NETWORK_MODULES, DRACUT_ARGS). */
const FORBIDDEN = ['systemd-networkd', 'usr/bin/curl', 'write-ifcfg', 'virtio_net.ko', 'ata_piix.ko', 'sr_mod.ko',
  'dracut-rootfs-generator', 'dracut-cmdline.service', 'usr/sbin/e2fsck'];

/**
 * How the initramfs is compressed: what GRUB reads through the BIOS plus what the kernel unpacks
 * under TCG both count (measured: scenario i5, ignition-timing.ts).  VM_IGNITION_COMPRESS picks
 * another of dracut's compressors (lz4, zstd, gzip, cat = none) to compare.
 */
const COMPRESS = process.env['VM_IGNITION_COMPRESS'] ?? 'lz4';
/** The first bytes of each compressor's output: dracut silently falls back to gzip without the tool. */
const MAGIC: Record<string, Buffer> = {
  lz4: Buffer.from([0x02, 0x21, 0x4c, 0x18]), zstd: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), gzip: Buffer.from([0x1f, 0x8b]), cat: Buffer.from('070701'),
};

/**
 * What goes in: only the dracut modules a first boot needs (and their dependencies), only the
 * kernel modules of a QEMU guest.  dracut's default (every module, every driver: 64 MB) takes
 * GRUB a minute to read under TCG on a loaded machine.  Of what 90qemu (a dependency of
 * Ignition's module) adds, the guest has none but virtio_blk and fw_cfg: its IDE, AHCI, SCSI
 * and CD drivers only cost udev's coldplug time.
 * Neither dracut's hook machinery (dracut-systemd: its shell generator ran at start and again at
 * initrd-parse-etc's reload, for hooks this initramfs has none of; systemd's fstab generator
 * mounts root= itself) nor rootfs-block and fs-lib (e2fsck: the image's initramfs-tools
 * initramfs checks no root filesystem either; ext4's journal is replayed at mount).  Without
 * dracut-systemd, 40ignition-ostree installs systemd's own emergency.service.
 */
const DRACUT_ARGS = [
  '--no-hostonly', '--no-hostonly-cmdline', '--no-early-microcode', '--compress', COMPRESS,
  '--modules', 'systemd systemd-initrd base bash udev-rules kernel-modules ostree ignition ignition-ostree',
  '--drivers', 'virtio_pci virtio_blk ext4 qemu_fw_cfg overlay',
  '--omit-drivers', 'ata_piix ata_generic pata_acpi ahci cdrom sr_mod virtio_scsi virtio_console virtio_rng virtio_mem spapr-vscsi efi_secret',
];

/**
 * dracut's network, url-lib and ifcfg modules, reduced to nothing in the throwaway chroot.  Ignition's
 * module depends on them for the platforms that fetch their config over the network; on the
 * qemu platform the config comes over fw_cfg (fetch-offline), and this guest's network reaches
 * nothing anyway (restrict=on).  With them the initramfs had systemd-networkd, curl and its TLS
 * and Kerberos libraries, every NIC driver, and bash hooks in dracut-cmdline and pre-udev.
 */
const NO_NETWORK_MODULES = ['40network', '45url-lib', '45ifcfg'];
const NO_NETWORK_SETUP = '#!/bin/bash\n# ostree-ts Ignition image (vm-harness/ignition-initramfs.ts): no network in the initramfs;\n' +
  '# on the qemu platform Ignition reads its config from fw_cfg.\n' +
  'check() { return 255; }\ndepends() { return 0; }\ninstallkernel() { return 0; }\ninstall() { return 0; }\n';

/**
 * The root disk's drivers, loaded by systemd-modules-load as the initramfs starts rather than when
 * udev's coldplug gets to the virtio device: the disk, which every boot waits for (and a boot
 * without Ignition waits for first of all), shows up as soon as udev runs.  00systemd installs
 * /usr/lib/modules-load.d/*.conf and the modules they name.
 */
const EARLY_MODULES = { file: 'usr/lib/modules-load.d/ignition-qemu-disk.conf', text: '# ostree-ts Ignition image (vm-harness/ignition-initramfs.ts)\nvirtio_pci\nvirtio_blk\n' };

function moduleFiles(): string[] {
  const b = path.join(PROJECT_DIR, 'boot');
  const files = [path.join(b, 'ostree-prepare-root.sh')];
  for (const m of MODULES) {
    for (const f of fs.readdirSync(path.join(b, 'dracut', m)).sort()) files.push(path.join(b, 'dracut', m, f));
  }
  return files;
}

export async function buildIgnitionInitramfs(): Promise<string> {
  const tarball = await ensureBaseTarball();
  const { deb, kver } = await ensureKernelDeb();
  const h = createHash('sha256').update(path.basename(tarball)).update(path.basename(deb)).update(JSON.stringify(DRACUT_ARGS)).update(NO_NETWORK_SETUP).update(EARLY_MODULES.text);
  for (const f of moduleFiles()) h.update(path.relative(PROJECT_DIR, f)).update(fs.readFileSync(f));
  const out = path.join(CACHE_DIR, `initramfs-ignition-${h.digest('hex').slice(0, 16)}.img`);
  if (fs.existsSync(out)) { done('Ignition initramfs', `cached in ${out}`); return out; }
  return phase('Ignition initramfs', (p) => build(tarball, deb, kver, out, p),
    'Debian\'s dracut + Ignition 2.14 with our ostree and ignition-ostree modules, in a throwaway chroot (cached afterwards)');
}

async function build(tarball: string, deb: string, kver: string, out: string, p: Phase): Promise<string> {
  const tree = path.join(WORK_DIR, 'ignition-initramfs-tree');
  const c = await prepareDracutChroot(tree, tarball, deb, kver, p);
  for (const m of MODULES) addDracutModule(tree, m);
  writeFile(path.join(tree, 'tmp/no-network-setup.sh'), NO_NETWORK_SETUP, 0o755);
  writeFile(path.join(tree, EARLY_MODULES.file), EARLY_MODULES.text);
  await c.runSteps([
    { stage: 'apt-get update' },
    c.inChroot('apt-get update -qq'),
    // policycoreutils: Debian's Ignition always relabels what it wrote, with `setfiles` (30ignition
    // installs it when present); the image's empty file_contexts makes that label nothing.
    // lz4 and zstd: dracut compresses with the tool, and silently falls back to gzip without it.
    { stage: 'apt-get install dracut-core dracut-network ignition policycoreutils lz4 zstd' },
    c.inChroot('apt-get install -y -qq --no-install-recommends dracut-core dracut-network ignition policycoreutils lz4 zstd >/dev/null'),
    // (after apt-get installed dracut-network, which would replace them)
    ...NO_NETWORK_MODULES.map((m) => `cp '${tree}/tmp/no-network-setup.sh' '${tree}/usr/lib/dracut/modules.d/${m}/module-setup.sh'`),
    { stage: 'dracut --modules "... ostree ignition ignition-ostree"' },
    c.inChroot(`dracut --force ${DRACUT_ARGS.map((a) => a.startsWith('--') ? a : `"${a}"`).join(' ')} --kver ${kver} /tmp/initramfs-ignition.img`),
    c.inChroot('lsinitrd /tmp/initramfs-ignition.img > /tmp/lsinitrd.txt'),
  ]);
  const listing = fs.readFileSync(path.join(tree, 'tmp/lsinitrd.txt'), 'utf8');
  const missing = REQUIRED.filter((want) => !listing.includes(want));
  if (missing.length > 0) throw new Error(`the Ignition initramfs lacks ${missing.join(', ')}; lsinitrd:\n${listing.slice(0, 3000)}`);
  const unwanted = FORBIDDEN.filter((no) => listing.includes(no));
  if (unwanted.length > 0) throw new Error(`the Ignition initramfs has ${unwanted.join(', ')}, which a qemu-platform first boot does not need`);
  const head = Buffer.alloc(6);
  const fd = fs.openSync(path.join(tree, 'tmp/initramfs-ignition.img'), 'r');
  fs.readSync(fd, head, 0, 6, 0);
  fs.closeSync(fd);
  const magic = MAGIC[COMPRESS];
  if (magic && !head.subarray(0, magic.length).equals(magic)) throw new Error(`dracut did not compress the Ignition initramfs with ${COMPRESS} (it starts ${head.toString('hex')})`);
  fs.copyFileSync(path.join(tree, 'tmp/initramfs-ignition.img'), out + '.tmp');
  fs.renameSync(out + '.tmp', out);
  rmrf(tree);
  return out;
}
