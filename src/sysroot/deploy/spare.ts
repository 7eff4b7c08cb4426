/**
 * The spare of the incremental deploy (the design is explained in recycle.ts): the directory
 * of a deployment that a deploy dropped, parked after that deploy's boot configuration swap
 * under `ostree/deploy/<stateroot>/recycle/<commit>` instead of being deleted, for the next
 * deploy of that stateroot to patch into its new deployment.
 *
 * This module is what the rest of the sysroot code needs of it (cleanup keeps the spare's
 * commit through a prune and removes spares when the feature is off; the deploy list parks one),
 * with no dependency on the checkout code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isErrno } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import { faultStep } from '../fault.js';
import { rootDir, staterootRel, sysrootDebug } from '../layout.js';
import type { SysrootState } from '../state.js';
import { lstatOrNull, mkdirp, statOrNull } from '../../util/fs.js';
import { clearImmutable, rmrf } from '../../util/tree.js';

/**
 * On unless OSTREE_TS_INCREMENTAL_DEPLOY=0 (or OSTREE_SYSROOT_DEBUG=no-recycle), and only as
 * root: a checkout made by another user has other owners than the commit's, which the patch
 * cannot keep equal to a fresh checkout.
 */
export function incrementalDeployEnabled(): boolean {
  return process.env['OSTREE_TS_INCREMENTAL_DEPLOY'] !== '0' && !sysrootDebug('no-recycle') && process.getuid?.() === 0;
}

export function spareDirRel(stateroot: string): string { return `${staterootRel(stateroot)}/recycle`; }

export interface Spare { stateroot: string; csum: string; path: string }

const COMMIT_NAME = /^[0-9a-f]{64}$/;

/** The spares on disk (real directories named by a commit checksum; nothing else is looked at). */
export function listSpares(sysroot: SysrootState, stateroot?: string): Spare[] {
  const out: Spare[] = [];
  for (const os of stateroot === undefined ? sysroot.stateroots() : [stateroot]) {
    const dir = sysroot.abs(spareDirRel(os));
    if (!lstatOrNull(dir)?.isDirectory()) continue; // missing, or a symlink: not walked
    let names: string[];
    try { names = fs.readdirSync(dir); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) continue; throw e; }
    for (const n of names) {
      const p = path.join(dir, n);
      if (COMMIT_NAME.test(n) && lstatOrNull(p)?.isDirectory()) out.push({ stateroot: os, csum: n, path: p });
    }
  }
  return out;
}

/** Remove every spare (cleanup, when the feature is off: the disk they hold is given back). */
export function removeSpares(sysroot: SysrootState): void {
  for (const s of listSpares(sysroot)) rmrf(s.path);
}

/**
 * Of the deployments a write of `newList` drops, the one that may become the spare, or null:
 * never the booted, staged or pinned one, nor one in any unlocked state (an unlocked /usr may
 * have been written through its overlay, a hotfix's for good). The newest dropped one of the
 * stateroot is chosen: its tree is the closest to what will be deployed next.
 */
export function deploymentToPark(sysroot: SysrootState, stateroot: string, newList: readonly Deployment[]): Deployment | null {
  if (!incrementalDeployEnabled()) return null;
  const dropped = sysroot.deployments.filter((d) => !newList.some((k) => k.sameAs(d)));
  return dropped.find((d) => d.stateroot === stateroot && !d.staged && !d.pinned && d.unlocked === 'none'
    && !d.sameAs(sysroot.bootedDeployment)) ?? null;
}

/**
 * After the boot configuration swap that dropped `d`: move its directory to the stateroot's
 * spare (replacing an older spare) instead of letting cleanup delete it. No boot entry names
 * `d` any more, so nothing the bootloader sees changes; a crash before the rename leaves an
 * unlisted deployment directory that cleanup deletes, after it a spare.
 */
export function parkDeployment(sysroot: SysrootState, d: Deployment): void {
  if (sysroot.deployments.some((x) => x.sameAs(d))) return; // (still listed: never)
  const dir = sysroot.deploymentDirectory(d);
  const st = lstatOrNull(dir);
  if (!st?.isDirectory()) return;
  const root = statOrNull(rootDir());
  if (root && st.dev === root.dev && st.ino === root.ino) return; // (the running system's root)
  for (const s of listSpares(sysroot, d.stateroot)) rmrf(s.path);
  const spareDir = sysroot.abs(spareDirRel(d.stateroot));
  mkdirp(spareDir, 0o700);
  // (an immutable directory cannot be renamed: its '..' entry would change)
  clearImmutable(dir);
  fs.renameSync(dir, path.join(spareDir, d.csum));
  fs.rmSync(sysroot.originPath(d), { force: true });
  faultStep('spare-parked');
}
