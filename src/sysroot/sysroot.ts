/**
 * The sysroot: the physical root holding `/ostree` and `/boot`, and its ordered list of
 * deployments, compatible with upstream ostree 2022.7 (notes §1.8–§1.13).  The pieces, along
 * upstream's seams:
 *   layout.ts       every path and name under the sysroot (and /run)
 *   deployment.ts   the deployment model; loading the list from the BLS entries
 *   state.ts        the loaded state, queries, origin writes, the lock (lock.ts)
 *   write.ts        writing the list: the boot.N / loader.N swap and its write order
 *   boot-entry.ts   one deployment's kernel in /boot and its BLS entry
 *   cleanup.ts      removing what the list no longer references
 *   formats/        BLS entry, kernel arguments, origin file, staged record
 *   bootloader/     types, registry, one file per backend (none, grub2, syslinux, uboot)
 *   kernel-layout.ts, etc-diff.ts / etc-apply.ts (etc-merge.ts), status.ts (soft-reboot.ts), fault.ts,
 *   freeze-watchdog.ts (the /boot freeze/thaw under a watchdog), remotes.ts (remote add --sysroot)
 *   deploy/         creating, staging, upgrading, undeploying deployments
 * `Sysroot` is the state with the two operations that change the list.  They are loaded when
 * called: `admin status` only needs the state.
 */
import { SysrootState } from './state.js';
import type { Deployment } from './deployment.js';
import type { WriteDeploymentsOptions, WriteDeploymentsResult } from './write.js';
import type { CleanupOptions, CleanupResult } from './cleanup.js';

export class Sysroot extends SysrootState {
  /** A sysroot handle for `p` (default `$OSTREE_SYSROOT` or `/`); call `load()` to read it. */
  static async open(p?: string): Promise<Sysroot> {
    return new Sysroot(p ?? process.env['OSTREE_SYSROOT'] ?? '/');
  }

  /** Make `newList` the deployment list (write.ts). */
  async writeDeployments(newList: Deployment[], options: WriteDeploymentsOptions = {}): Promise<WriteDeploymentsResult> {
    const { writeDeployments } = await import('./write.js');
    return writeDeployments(this, newList, options);
  }

  /** Remove what the deployment list no longer references (cleanup.ts). */
  async cleanup(options: CleanupOptions = {}): Promise<CleanupResult> {
    const { cleanupSysroot } = await import('./cleanup.js');
    return cleanupSysroot(this, options);
  }
}

// Names importers have used from this module.
export { SysrootState } from './state.js';
export { Deployment, assignBootserials, readBootversion, readSubbootversion, type UnlockedState } from './deployment.js';
export { SysrootLock } from './lock.js';
export { runDir, sysrootDebug } from './layout.js';
export { formatSize } from '../util/format-size.js';
export type { WriteDeploymentsOptions, WriteDeploymentsResult } from './write.js';
export type { CleanupOptions, CleanupResult } from './cleanup.js';
