/**
 * Finding the kernel (and initramfs, devicetree, FIPS hmac) in a deployment tree and computing
 * its bootcsum, as upstream's get_kernel_from_tree does.
 *
 * A. `usr/lib/modules/<kver>/vmlinuz` (first directory in readdir order whose `vmlinuz` is a
 *    regular file, symlinks followed): initramfs `initramfs.img` else `initramfs`; devicetree
 *    file `devicetree` else directory `dtb/`; `.vmlinuz.hmac`.  bootcsum = sha256 of the bytes of
 *    vmlinuz ‖ initramfs ‖ (devicetree | every file of dtb/, names sorted bytewise, depth-first).
 * B. legacy: the first existing of `usr/lib/ostree-boot`, `boot`; files `vmlinuz-*`,
 *    `initramfs-*`, `devicetree-*` whose text after the last '-' is a sha256; bootcsum is that
 *    checksum (not recomputed); all three must carry the same one.
 * Choice: A unless it is missing, or A has no initramfs while B has one.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import * as path from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { OstreeError, isErrno } from '../errors.js';
import { at, walkTree } from '../util/dirfd.js';

export interface KernelLayout {
  /** 'modules' = usr/lib/modules/<kver>; 'legacy' = usr/lib/ostree-boot or boot */
  layout: 'modules' | 'legacy';
  /** kernel version: the modules directory name, or the legacy kernel name minus `vmlinuz-` */
  kver: string;
  bootcsum: string;
  /** directory holding the source files (absolute) */
  srcDir: string;
  /** absolute path of the kernel in the deployment */
  kernelSrc: string;
  /** name to install under /boot/ostree/<stateroot>-<bootcsum>/: `vmlinuz-<kver>` */
  kernelDestName: string;
  initramfsSrc?: string;
  /** `initramfs-<kver>.img` (modules layout) or the legacy name minus `-<checksum>` */
  initramfsDestName?: string;
  /** a single devicetree file */
  devicetreeSrc?: string;
  devicetreeDestName?: string;
  /** a `dtb/` directory (modules layout only), copied whole as `dtb` */
  dtbDir?: string;
  hmacSrc?: string;
  /** `.vmlinuz-<kver>.hmac` */
  hmacDestName?: string;
}

export interface FindKernelOptions {
  /** OSTREE_SYSROOT_DEBUG=no-dtb: ignore devicetree/dtb in the modules layout */
  noDtb?: boolean;
}

const SHA256_RE = /^[0-9a-f]{64}$/;

async function statOrNull(p: string, follow = true): Promise<Stats | null> {
  try {
    return follow ? await fsp.stat(p) : await fsp.lstat(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
}

/** Directory entries in the kernel's readdir order (fs.readdir would sort them). */
async function readdirRaw(dir: string): Promise<Array<{ name: string; isDir: boolean }>> {
  const out: Array<{ name: string; isDir: boolean }> = [];
  const d = await fsp.opendir(dir);
  for await (const ent of d) out.push({ name: ent.name, isDir: ent.isDirectory() });
  return out;
}

const HASH_CHUNK = 1 << 20;
let hashBuf: Buffer | null = null;

/**
 * Hash the bytes of `p` (symlinks followed, as upstream).  Only a regular file is read: the
 * open does not block, so a FIFO in a tree cannot hang the deploy, and a device such as
 * /dev/zero behind a symlink cannot feed it forever.  ENOENT passes through.
 */
function hashFile(h: Hash, p: string): void {
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fd).isFile()) {
      throw new OstreeError('ECORRUPT', `Boot file ${p} is not a regular file; a kernel, initramfs or devicetree must be one`, { path: p });
    }
    const buf = (hashBuf ??= Buffer.allocUnsafe(HASH_CHUNK));
    for (;;) {
      const n = fs.readSync(fd, buf, 0, HASH_CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Hash every non-directory entry under dir (symlinks followed, dangling ones skipped), names
 * sorted bytewise, each directory's contents in place of it.  Iterative (util/dirfd). */
function hashDirTree(h: Hash, dir: string): void {
  walkTree(dir, {
    order: (names) => names.sort(byteCompare),
    visit: (e) => {
      if (e.st.isDirectory()) return true;
      try {
        hashFile(h, at(e.dirFd, e.name));
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
      return false;
    },
  });
}

/** Try to open-and-hash; false if the file does not exist. */
async function hashIfExists(h: Hash, p: string): Promise<boolean> {
  const st = await statOrNull(p);
  if (!st) return false;
  hashFile(h, p);
  return true;
}

async function findModulesLayout(deploymentDir: string, opts: FindKernelOptions): Promise<KernelLayout | null> {
  const modules = path.join(deploymentDir, 'usr/lib/modules');
  let entries: Array<{ name: string; isDir: boolean }>;
  try {
    entries = await readdirRaw(modules);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
  let kver: string | undefined;
  for (const ent of entries) {
    if (!ent.isDir) continue;
    const st = await statOrNull(path.join(modules, ent.name, 'vmlinuz'));
    if (st && st.isFile()) { kver = ent.name; break; }
  }
  if (kver === undefined) return null;

  const srcDir = path.join(modules, kver);
  const h = createHash('sha256');
  const kernelSrc = path.join(srcDir, 'vmlinuz');
  hashFile(h, kernelSrc);
  const layout: KernelLayout = {
    layout: 'modules', kver, bootcsum: '', srcDir, kernelSrc, kernelDestName: `vmlinuz-${kver}`,
  };
  for (const name of ['initramfs.img', 'initramfs']) {
    const p = path.join(srcDir, name);
    if (await hashIfExists(h, p)) {
      layout.initramfsSrc = p;
      layout.initramfsDestName = `initramfs-${kver}.img`;
      break;
    }
  }
  if (!opts.noDtb) {
    const dt = path.join(srcDir, 'devicetree');
    if (await hashIfExists(h, dt)) {
      layout.devicetreeSrc = dt;
      layout.devicetreeDestName = `devicetree-${kver}`;
    } else {
      const dtb = path.join(srcDir, 'dtb');
      const st = await statOrNull(dtb);
      if (st && st.isDirectory()) {
        layout.dtbDir = dtb;
        hashDirTree(h, dtb);
      }
    }
  }
  const hmac = path.join(srcDir, '.vmlinuz.hmac');
  if (await statOrNull(hmac)) {
    layout.hmacSrc = hmac;
    layout.hmacDestName = `.${layout.kernelDestName}.hmac`;
  }
  layout.bootcsum = h.digest('hex');
  return layout;
}

async function findLegacyLayout(deploymentDir: string): Promise<KernelLayout | null> {
  let srcDir: string | undefined;
  for (const rel of ['usr/lib/ostree-boot', 'boot']) {
    const p = path.join(deploymentDir, rel);
    const st = await statOrNull(p);
    if (!st) continue;
    if (!st.isDirectory()) throw new OstreeError('EIO', `openat(${rel}): Not a directory`, { path: p });
    srcDir = p;
    break;
  }
  if (srcDir === undefined) return null;

  let kernel: { name: string; csum: string } | undefined;
  let initramfs: { name: string; csum: string } | undefined;
  let devicetree: { name: string; csum: string } | undefined;
  const split = (name: string): { name: string; csum: string } | undefined => {
    const dash = name.lastIndexOf('-');
    const csum = name.slice(dash + 1);
    return SHA256_RE.test(csum) ? { name, csum } : undefined;
  };
  for (const ent of await readdirRaw(srcDir)) {
    const name = ent.name;
    if (!kernel && name.startsWith('vmlinuz-')) kernel = split(name);
    else if (!initramfs && name.startsWith('initramfs-')) initramfs = split(name);
    else if (!devicetree && name.startsWith('devicetree-')) devicetree = split(name);
    if (kernel && initramfs && devicetree) break;
  }
  if (!kernel) return null;
  if (initramfs && initramfs.csum !== kernel.csum) {
    throw new OstreeError('ECORRUPT', 'Mismatched kernel checksum vs initrd', { path: srcDir });
  }
  if (devicetree && devicetree.csum !== kernel.csum) {
    throw new OstreeError('ECORRUPT', 'Mismatched kernel checksum vs device tree in tree', { path: srcDir });
  }
  const strip = (n: string): string => n.slice(0, n.length - 65);
  const kernelDestName = strip(kernel.name);
  const layout: KernelLayout = {
    layout: 'legacy',
    kver: kernelDestName.slice('vmlinuz-'.length),
    bootcsum: kernel.csum,
    srcDir,
    kernelSrc: path.join(srcDir, kernel.name),
    kernelDestName,
  };
  if (initramfs) {
    layout.initramfsSrc = path.join(srcDir, initramfs.name);
    layout.initramfsDestName = strip(initramfs.name);
  }
  if (devicetree) {
    layout.devicetreeSrc = path.join(srcDir, devicetree.name);
    layout.devicetreeDestName = strip(devicetree.name);
  }
  return layout;
}

/**
 * Locate the kernel of a deployment tree (absolute paths in the result) and its bootcsum.
 * No kernel → ENOENT `Failed to find kernel in /usr/lib/modules, /usr/lib/ostree-boot or /boot`.
 */
export async function findKernel(deploymentDir: string, opts: FindKernelOptions = {}): Promise<KernelLayout> {
  const modules = await findModulesLayout(deploymentDir, opts);
  const legacy = await findLegacyLayout(deploymentDir);
  if (!legacy) {
    if (!modules) {
      throw new OstreeError('ENOENT', 'Failed to find kernel in /usr/lib/modules, /usr/lib/ostree-boot or /boot',
        { path: deploymentDir });
    }
    return modules;
  }
  if (modules && modules.initramfsSrc === undefined && legacy.initramfsSrc !== undefined) return legacy;
  return modules ?? legacy;
}
