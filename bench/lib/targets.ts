/**
 * The filesystems every operation runs on: a tmpfs and an ext4 in a loop-mounted image file,
 * both mounted by the benchmark under $BENCH_DIR (never the host's own filesystem: `admin
 * deploy` FIFREEZEs the filesystem holding /boot). Both are unmounted on exit and on signals.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log, rmrf } from './proc.js';

export interface FsTarget { name: 'tmpfs' | 'ext4'; mnt: string }

const mounted: string[] = [];
const images: string[] = [];

function isMountPoint(p: string): boolean {
  let real: string;
  try { real = fs.realpathSync(p); } catch { return false; }
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === real);
}

function unmount(mnt: string): void {
  spawnSync('fsfreeze', ['-u', mnt], { stdio: 'ignore' }); // never leave it frozen
  if (spawnSync('umount', [mnt], { stdio: 'ignore' }).status !== 0) spawnSync('umount', ['-l', mnt], { stdio: 'ignore' });
}

/** Mount target `name` under `work`, sized for `bytes` of data. */
export function mountTarget(work: string, name: FsTarget['name'], bytes: number): FsTarget {
  const mnt = path.join(work, `mnt-${name}`);
  if (isMountPoint(mnt)) unmount(mnt);
  rmrf(mnt);
  fs.mkdirSync(mnt, { recursive: true });
  if (name === 'tmpfs') {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil(bytes / 1048576)}m,mode=0755`, 'ostree-bench', mnt]);
  } else {
    const img = path.join(work, 'ext4.img');
    rmrf(img);
    execFileSync('truncate', ['-s', String(bytes), img]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-N', String(Math.max(262144, Math.ceil(bytes / 8192))), img]);
    execFileSync('mount', ['-o', 'loop', img, mnt]); // mount(8) sets up and later frees the loop device
    images.push(img);
  }
  mounted.push(mnt);
  log(`mounted ${name} at ${mnt} (${(bytes / 1073741824).toFixed(1)} GB)`);
  return { name, mnt };
}

export function unmountTarget(t: FsTarget): void {
  unmount(t.mnt);
  const i = mounted.indexOf(t.mnt);
  if (i >= 0) mounted.splice(i, 1);
  rmrf(t.mnt);
  if (t.name === 'ext4') for (const img of images.splice(0)) rmrf(img);
}

/** Unmount whatever is still mounted (exit, signals). */
export function unmountAll(): void {
  for (const m of mounted.splice(0)) unmount(m);
  for (const img of images.splice(0)) fs.rmSync(img, { force: true });
}
