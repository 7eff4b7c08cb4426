/**
 * The dracut module (boot/dracut/98ostree) for real: in a throwaway copy of the cached Debian
 * base tree, install Debian's dracut with apt, add our module and prepare-root, and build an
 * initramfs for the image's kernel with `dracut --add ostree`.  The vm-test then boots the
 * OSTree disk with that initramfs (direct kernel boot) to show the module works.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, PROJECT_DIR, WORK_DIR, copyFile, rmrf, run } from './common.js';
import { ensureBaseTarball, ensureKernelDeb } from './caches.js';
import { done, phase, type Phase } from './progress.js';

const STAGE = '@@dracut-stage ';

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
  rmrf(tree);
  fs.mkdirSync(tree, { recursive: true });
  p.note('unpacking the Debian base tree and the kernel');
  await run('sh', ['-c', `zstd -dc < '${tarball}' | tar --numeric-owner -C '${tree}' -xf -`]);
  await run('sh', ['-c', `dpkg-deb --fsys-tarfile '${deb}' | tar -C '${tree}' --keep-directory-symlink -xf -`]);
  await run('depmod', ['-b', tree, kver]);
  copyFile('/etc/resolv.conf', path.join(tree, 'etc/resolv.conf'));
  const b = (f: string) => path.join(PROJECT_DIR, 'boot', f);
  copyFile(b('ostree-prepare-root.sh'), path.join(tree, 'usr/lib/ostree/ostree-prepare-root'), 0o755);
  copyFile(b('dracut/98ostree/module-setup.sh'), path.join(tree, 'usr/lib/dracut/modules.d/98ostree/module-setup.sh'), 0o755);
  copyFile(b('dracut/98ostree/ostree-prepare-root.service'), path.join(tree, 'usr/lib/dracut/modules.d/98ostree/ostree-prepare-root.service'), 0o644);
  const inChroot = (cmd: string) => `chroot '${tree}' /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -c '${cmd}'`;
  // The steps run in one mount namespace (one shell): each announces itself for the progress line.
  const stage = (text: string) => `echo '${STAGE}${text}'`;
  await run('unshare', ['--mount', '--fork', 'sh', '-c', [
    `mount -t proc proc '${tree}/proc'`,
    `mount --rbind /sys '${tree}/sys'`,
    `mount --rbind /dev '${tree}/dev'`,
    stage('apt-get update'),
    inChroot('apt-get update -qq'),
    stage('apt-get install dracut-core'),
    inChroot('apt-get install -y -qq --no-install-recommends dracut-core >/dev/null'),
    stage('dracut --add ostree'),
    inChroot(`dracut --force --no-hostonly --add ostree --add-drivers "virtio_pci virtio_blk ext4" --kver ${kver} /tmp/initramfs-dracut.img`),
    inChroot('lsinitrd /tmp/initramfs-dracut.img > /tmp/lsinitrd.txt'),
  ].join(' && ')], { onLine: (l) => { if (l.startsWith(STAGE)) p.note(l.slice(STAGE.length)); } });
  const listing = fs.readFileSync(path.join(tree, 'tmp/lsinitrd.txt'), 'utf8');
  for (const want of ['usr/lib/ostree/ostree-prepare-root', 'ostree-prepare-root.service', 'initrd-root-fs.target.wants/ostree-prepare-root.service']) {
    if (!listing.includes(want)) throw new Error(`dracut initramfs lacks ${want}; lsinitrd:\n${listing.slice(0, 3000)}`);
  }
  fs.copyFileSync(path.join(tree, 'tmp/initramfs-dracut.img'), out + '.tmp');
  fs.renameSync(out + '.tmp', out);
  rmrf(tree);
  return out;
}
