/**
 * The throwaway chroot both dracut initramfs builds work in (dracut.ts: the 98ostree module
 * alone; ignition-initramfs.ts: the Ignition first-boot initramfs): a copy of the cached Debian
 * base tree with the image's kernel (and its modules.dep), the host's resolv.conf for apt, and
 * our prepare-root where the 98ostree module installs it from.  Steps then run inside it in one
 * mount namespace (/proc, /sys and /dev bound in), each announced on the progress line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_DIR, copyFile, rmrf, run } from './common.js';
import type { Phase } from './progress.js';

export interface DracutChroot {
  tree: string;
  /** a shell command run in the chroot (PATH set, apt non-interactive) */
  inChroot: (cmd: string) => string;
  /** run `steps` (shell commands built with inChroot, or `{ stage }` to announce the next one) in one mount namespace */
  runSteps: (steps: Array<string | { stage: string }>) => Promise<void>;
}

/** Unpack the base tree and the kernel into `tree` (emptied first) and add prepare-root. */
export async function prepareDracutChroot(tree: string, tarball: string, deb: string, kver: string, p: Phase): Promise<DracutChroot> {
  rmrf(tree);
  fs.mkdirSync(tree, { recursive: true });
  p.note('unpacking the Debian base tree and the kernel');
  await run('sh', ['-c', `zstd -dc < '${tarball}' | tar --numeric-owner -C '${tree}' -xf -`]);
  await run('sh', ['-c', `dpkg-deb --fsys-tarfile '${deb}' | tar -C '${tree}' --keep-directory-symlink -xf -`]);
  // The kernel .deb ships no modules.dep: dracut resolves modules with it.
  await run('depmod', ['-b', tree, kver]);
  copyFile('/etc/resolv.conf', path.join(tree, 'etc/resolv.conf'));
  copyFile(path.join(PROJECT_DIR, 'boot/ostree-prepare-root.sh'), path.join(tree, 'usr/lib/ostree/ostree-prepare-root'), 0o755);
  const marker = `@@dracut-chroot-stage-${process.pid} `;
  const inChroot = (cmd: string) => `chroot '${tree}' /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -c '${cmd}'`;
  const runSteps = async (steps: Array<string | { stage: string }>) => {
    await run('unshare', ['--mount', '--fork', 'sh', '-c', [
      `mount -t proc proc '${tree}/proc'`,
      `mount --rbind /sys '${tree}/sys'`,
      `mount --rbind /dev '${tree}/dev'`,
      ...steps.map((s) => (typeof s === 'string' ? s : `echo '${marker}${s.stage.replace(/'/g, '')}'`)),
    ].join(' && ')], { onLine: (l) => { if (l.startsWith(marker)) p.note(l.slice(marker.length)); } });
  };
  return { tree, inChroot, runSteps };
}

/** Copy a dracut module of ours (boot/dracut/NAME) into the chroot; its scripts executable. */
export function addDracutModule(tree: string, name: string): void {
  const src = path.join(PROJECT_DIR, 'boot/dracut', name);
  for (const f of fs.readdirSync(src)) {
    copyFile(path.join(src, f), path.join(tree, 'usr/lib/dracut/modules.d', name, f), f.endsWith('.sh') ? 0o755 : 0o644);
  }
}
