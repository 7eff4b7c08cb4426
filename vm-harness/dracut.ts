/**
 * The dracut module (boot/dracut/98ostree) for real: in a throwaway copy of the cached Debian
 * base tree (dracut-chroot.ts), install Debian's dracut with apt, add our module and prepare-root, and build an
 * initramfs for the image's kernel with `dracut --add ostree`.  The vm-test then boots the
 * OSTree disk with that initramfs (direct kernel boot) to show the module works.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, PROJECT_DIR, WORK_DIR, rmrf } from './common.js';
import { addDracutModule, prepareDracutChroot } from './dracut-chroot.js';
import { ensureBaseTarball, ensureKernelDeb } from './caches.js';
import { done, phase, type Phase } from './progress.js';

export async function buildDracutInitramfs(): Promise<string> {
  const tarball = await ensureBaseTarball();
  const { deb, kver } = await ensureKernelDeb();
  // Cached by the inputs: the base tree, our module files, prepare-root, the kernel.
  const h = createHash('sha256').update(path.basename(tarball)).update(path.basename(deb));
  for (const f of ['ostree-prepare-root.sh', 'dracut/98ostree/module-setup.sh', 'dracut/98ostree/ostree-prepare-root.service']) {
    h.update(fs.readFileSync(path.join(PROJECT_DIR, 'boot', f)));
  }
  const out = path.join(CACHE_DIR, `initramfs-dracut-${h.digest('hex').slice(0, 16)}.img`);
  if (fs.existsSync(out)) { done('dracut initramfs', `cached in ${out}`); return out; }
  return phase('dracut initramfs', (p) => build(tarball, deb, kver, out, p), 'Debian\'s dracut with --add ostree, in a throwaway chroot (cached afterwards)');
}

async function build(tarball: string, deb: string, kver: string, out: string, p: Phase): Promise<string> {
  const tree = path.join(WORK_DIR, 'dracut-tree');
  const c = await prepareDracutChroot(tree, tarball, deb, kver, p);
  addDracutModule(tree, '98ostree');
  await c.runSteps([
    { stage: 'apt-get update' },
    c.inChroot('apt-get update -qq'),
    { stage: 'apt-get install dracut-core' },
    c.inChroot('apt-get install -y -qq --no-install-recommends dracut-core >/dev/null'),
    { stage: 'dracut --add ostree' },
    c.inChroot(`dracut --force --no-hostonly --add ostree --add-drivers "virtio_pci virtio_blk ext4" --kver ${kver} /tmp/initramfs-dracut.img`),
    c.inChroot('lsinitrd /tmp/initramfs-dracut.img > /tmp/lsinitrd.txt'),
  ]);
  const listing = fs.readFileSync(path.join(tree, 'tmp/lsinitrd.txt'), 'utf8');
  for (const want of ['usr/lib/ostree/ostree-prepare-root', 'ostree-prepare-root.service', 'initrd-root-fs.target.wants/ostree-prepare-root.service']) {
    if (!listing.includes(want)) throw new Error(`dracut initramfs lacks ${want}; lsinitrd:\n${listing.slice(0, 3000)}`);
  }
  fs.copyFileSync(path.join(tree, 'tmp/initramfs-dracut.img'), out + '.tmp');
  fs.renameSync(out + '.tmp', out);
  rmrf(tree);
  return out;
}
