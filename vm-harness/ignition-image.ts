/**
 * The Ignition image: the shared image's guest tree (tree.ts, left in VM_WORK_DIR by image.ts)
 * made into what a Fedora CoreOS-like node boots from, then committed and deployed into a sysroot
 * of its own and written to a disk of its own:
 *  - the deployment's initramfs is the dracut one with Ignition (ignition-initramfs.ts);
 *  - sshd on (its host key made at first boot, key-only logins), sudo without a password for the
 *    sudo group, systemd-networkd for the NIC, the unit that removes the first-boot stamp;
 *  - `/boot/ignition.firstboot`: GRUB adds Ignition's first-boot arguments while it exists
 *    (src/sysroot/bootloader/grub2-firstboot.ts);
 *  - a second commit on the branch (version 2): the staged upgrade of the scenarios deploys it
 *    from the sysroot's own repository.
 * $VM_WORK_DIR/ignition/image.json records the build; it is reused while its key (the shared
 * image's key, the initramfs, boot/ignition/, this recipe) is unchanged.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_DIR, WORK_DIR, copyFile, log, mkdirp, ostree, rmTree, rmrf, run, symlink, writeFile } from './common.js';
import { makeDisk } from './disk.js';
import { ensureEfiChain } from './efi-chain.js';
import { BRANCH, OSNAME, ROOT_LABEL, ensureOstreeImage, type OstreeImage } from './image.js';
import { buildIgnitionInitramfs } from './ignition-initramfs.js';
import { done, phase, type Phase } from './progress.js';

export const IGN_DIR = path.join(WORK_DIR, 'ignition');
const STATE = path.join(IGN_DIR, 'image.json');
const TREE = path.join(IGN_DIR, 'tree');
const SYSROOT = path.join(IGN_DIR, 'sysroot');
/**
 * no_timer_check, as cloud images for QEMU carry it: on a loaded host a TCG guest's timer
 * interrupts come late enough for the kernel's IO-APIC timer check to panic the boot.
 */
const KARGS = [`root=LABEL=${ROOT_LABEL}`, 'rw', 'console=ttyS0,115200', 'no_timer_check'];
/** Bump when the recipe changes in a way the hashed files do not show. */
const RECIPE_VERSION = 1;

export interface IgnitionImage {
  key: string;
  builtAt: string;
  disk: string;
  kernel: string;
  initramfs: string;
  /** the deployment's BLS options (with ostree=), for direct kernel boots */
  options: string;
  commit1: string;
  /** the second commit on BRANCH, in the sysroot's repository (the staged upgrade) */
  commit2: string;
}

function hashDir(h: ReturnType<typeof createHash>, dir: string): void {
  for (const f of fs.readdirSync(dir).sort()) h.update(f).update(fs.readFileSync(path.join(dir, f)));
}

function keyFor(main: OstreeImage, initramfs: string): string {
  const h = createHash('sha256').update(`${RECIPE_VERSION} ${main.key} ${path.basename(initramfs)}`);
  hashDir(h, path.join(PROJECT_DIR, 'boot/ignition'));
  h.update(fs.readFileSync(fileURLToPath(import.meta.url)));
  return h.digest('hex').slice(0, 16);
}

/** The Ignition disk: reused while its key is unchanged (VM_REUSE_IMAGE=0 rebuilds), else built. */
export async function ensureIgnitionImage(): Promise<IgnitionImage> {
  const main = await ensureOstreeImage();
  const initramfs = await buildIgnitionInitramfs();
  const key = keyFor(main, initramfs);
  let prev: IgnitionImage | null = null;
  try { prev = JSON.parse(fs.readFileSync(STATE, 'utf8')) as IgnitionImage; } catch { /* none */ }
  if (prev && prev.key === key && process.env['VM_REUSE_IMAGE'] !== '0' && fs.existsSync(prev.disk)) {
    done('Ignition disk', `reusing the one built at ${prev.builtAt} (inputs unchanged)`);
    return prev;
  }
  if (prev) log('rebuilding the Ignition disk: the shared image, the initramfs, boot/ignition/ or the recipe changed');
  rmrf(STATE);
  const img = await phase('Ignition disk', (p) => build(main, initramfs, key, p), 'the guest tree with Ignition\'s initramfs, sshd, first-boot stamp');
  writeFile(STATE + '.tmp', JSON.stringify(img, null, 2) + '\n');
  fs.renameSync(STATE + '.tmp', STATE);
  return img;
}

/** Replace a file of the hard-linked tree copy without touching the shared tree's inode. */
function replace(rel: string, content: string | Buffer, mode = 0o644): void {
  rmrf(path.join(TREE, rel));
  writeFile(path.join(TREE, rel), content, mode);
}

/** The Ignition node's additions to the guest tree (the OSTree layout: /etc is usr/etc). */
function customize(main: OstreeImage, initramfs: string): void {
  const ign = (f: string) => fs.readFileSync(path.join(PROJECT_DIR, 'boot/ignition', f));
  replace(`usr/lib/modules/${main.kver}/initramfs.img`, fs.readFileSync(initramfs));
  for (const u of ['ignition-firstboot-complete.service', 'ssh-host-keygen.service']) replace(`usr/lib/systemd/system/${u}`, ign(u));
  replace('usr/lib/systemd/network/50-ignition-qemu.network', ign('50-ignition-qemu.network'));
  replace('usr/etc/ssh/sshd_config.d/20-ignition.conf', ign('sshd-ignition.conf'));
  replace('usr/etc/sudoers.d/ignition-sudo-group', ign('sudoers-sudo-group'), 0o440);
  // No SELinux policy in this image, but Debian's Ignition relabels every file it writes with
  // `setfiles` and the policy named here: an empty file_contexts, so there is nothing to label.
  replace('usr/etc/selinux/config', ign('selinux-config'));
  replace('usr/etc/selinux/default/contexts/files/file_contexts', '');
  // systemd-networkd asks the kernel for the nl80211 netlink family at start, which loads the
  // wireless stack (cfg80211: its certificates, a regulatory database it looks for): several
  // seconds under TCG on every boot before network.target and so sshd, for a guest with no
  // wireless device.
  replace('usr/etc/modprobe.d/ignition-qemu-no-wireless.conf', '# ostree-ts Ignition image: a QEMU guest has no wireless device (vm-harness/ignition-image.ts)\nblacklist cfg80211\n');
  // The machine's own name resolves (as a Debian install writes it), so sudo has nothing to warn about.
  replace('usr/etc/hosts', `${fs.readFileSync(path.join(TREE, 'usr/etc/hosts'), 'utf8')}127.0.1.1\tostree-ts-vm\n`);
  const wants = (target: string, unit: string, dir = '/usr/lib/systemd/system') =>
    symlink(`${dir}/${unit}`, path.join(TREE, 'usr/etc/systemd/system', `${target}.wants`, unit));
  wants('multi-user.target', 'ssh.service', '/lib/systemd/system');
  wants('ssh.service', 'ssh-host-keygen.service');
  wants('multi-user.target', 'ignition-firstboot-complete.service');
  wants('multi-user.target', 'systemd-networkd.service', '/lib/systemd/system');
  wants('sockets.target', 'systemd-networkd.socket', '/lib/systemd/system');
}

async function build(main: OstreeImage, initramfs: string, key: string, p: Phase): Promise<IgnitionImage> {
  const shared = path.join(WORK_DIR, 'tree');
  if (!fs.existsSync(path.join(shared, 'usr'))) throw new Error(`the shared guest tree is gone from ${shared}: rebuild with VM_REUSE_IMAGE=0`);
  mkdirp(IGN_DIR);
  p.note('copying the guest tree (hard links) and adding Ignition\'s pieces');
  rmrf(TREE);
  await run('cp', ['-al', shared, TREE]);
  customize(main, initramfs);
  if (fs.existsSync(SYSROOT)) await rmTree(SYSROOT);
  p.note('admin init-fs, os-init; the first-boot stamp');
  mkdirp(SYSROOT);
  await ostree(['admin', 'init-fs', SYSROOT]);
  await ostree(['admin', 'os-init', `--sysroot=${SYSROOT}`, OSNAME]);
  symlink('../loader/grub.cfg', path.join(SYSROOT, 'boot/grub/grub.cfg'));
  writeFile(path.join(SYSROOT, 'boot/ignition.firstboot'), '');
  const repo = path.join(SYSROOT, 'ostree/repo');
  const commit = async (version: string) => {
    p.note(`commit ${BRANCH} (v${version})`);
    await ostree([`--repo=${repo}`, 'commit', `--branch=${BRANCH}`, `--subject=ostree-ts Ignition image v${version}`,
      `--add-metadata-string=version=${version}`, `--tree=dir=${TREE}`]);
    return (await ostree([`--repo=${repo}`, 'rev-parse', BRANCH])).trim();
  };
  const commit1 = await commit('1');
  p.note('admin deploy');
  await ostree(['admin', 'deploy', `--sysroot=${SYSROOT}`, `--os=${OSNAME}`, ...KARGS.map((k) => `--karg=${k}`), BRANCH]);
  replace('usr/share/ostree-test/version', '2\n');
  const commit2 = await commit('2');
  const kernel = path.join(IGN_DIR, 'vmlinuz');
  const initrd = path.join(IGN_DIR, 'initramfs.img');
  copyFile(main.kernel, kernel);
  copyFile(initramfs, initrd);
  const entries = path.join(SYSROOT, 'boot/loader/entries');
  const conf = fs.readdirSync(entries).filter((f) => f.endsWith('.conf')).sort().at(-1)!;
  const options = /^options (.*)$/m.exec(fs.readFileSync(path.join(entries, conf), 'utf8'))![1]!;
  const grubCfg = fs.readFileSync(path.join(SYSROOT, 'boot/loader/grub.cfg'), 'utf8');
  if (!grubCfg.includes('$ignition_firstboot')) throw new Error('the Ignition sysroot\'s grub.cfg lacks the first-boot script');
  const disk = path.join(IGN_DIR, 'ignition-disk.qcow2');
  await makeDisk(SYSROOT, ROOT_LABEL, disk, IGN_DIR, 1024, p, await ensureEfiChain());
  rmrf(TREE);
  return { key, builtAt: new Date().toISOString(), disk, kernel, initramfs: initrd, options, commit1, commit2 };
}
