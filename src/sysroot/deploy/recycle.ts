/**
 * Incremental deploy: the new deployment is made from the directory of a deployment that this
 * very deploy drops from the list (the oldest rollback, in the steady state of updates), by
 * patching its /usr from its commit's tree into the new commit's (repo/checkout/patch.ts). The
 * cost follows what changed between the two commits, not the size of the tree.
 *
 * What may be reused, and what never is:
 * - only /usr, which a booted system mounts read-only; every other top-level entry (/etc above
 *   all, which the running system edits) is removed and made afresh;
 * - never the booted, merge, staged or pinned deployment, nor one in any unlocked state (an
 *   unlocked /usr may have been written through its overlay, a hotfix's for good);
 * - never a /usr with a directory whose mtime is not the 0 the checkout gave it (an entry was
 *   added, removed or renamed there since);
 * - only when neither commit has a top-level /etc (whose content deployments keep in /usr/etc,
 *   so /usr would not match its commit's tree), from a `bare` repository, as root.
 * `OSTREE_SYSROOT_DEBUG=no-recycle` turns it off.
 *
 * Crash safety: before its directory is touched, the deployment to recycle leaves the boot
 * configuration (a write of the current list without it: its entry must never point at a
 * half-patched tree); the default entry does not change. Then its directory is renamed to the
 * new deployment's name and patched. A crash at any point leaves the old default bootable and
 * at worst an unlisted directory that cleanup removes (fault steps recycle-undeployed,
 * recycle-moved, then the deploy's own checkout-done onwards).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import type { Repo } from '../../repo/repo.js';
import { loadDirTree } from '../../repo/store.js';
import { firstChangedDirectory, NeedFullCheckout, patchCheckout, type PatchStats } from '../../repo/checkout/patch.js';
import { Deployment } from '../deployment.js';
import { faultStep } from '../fault.js';
import { sysrootDebug } from '../layout.js';
import type { Sysroot } from '../sysroot.js';
import { clearImmutable, rmrf } from '../../util/tree.js';
import { computeSimpleDeploymentList, type SimpleWriteFlags } from './list.js';

/**
 * Opt-in (OSTREE_TS_INCREMENTAL_DEPLOY=1) until a failed deploy can give the recycled deployment
 * back: recycling first writes the dropped deployment out of the boot configuration, so a deploy
 * that then fails (a refused /etc merge, a full disk) leaves the system bootable but one rollback
 * deployment short, where a plain deploy changes nothing.
 */
export function incrementalDeployEnabled(): boolean {
  return process.env['OSTREE_TS_INCREMENTAL_DEPLOY'] === '1';
}

/** The deployment that `admin deploy` of `csum` would drop and that may be recycled, or null. */
export function recyclableDeployment(sysroot: Sysroot, stateroot: string, csum: string, merge: Deployment | null, flags: SimpleWriteFlags): Deployment | null {
  if (!incrementalDeployEnabled() || sysrootDebug('no-recycle') || process.getuid?.() !== 0) return null;
  // (a serial no deployment has: the placeholder matches none of the existing ones)
  const placeholder = new Deployment(stateroot, csum, Number.MAX_SAFE_INTEGER, '');
  const kept = computeSimpleDeploymentList(sysroot, stateroot, placeholder, merge, flags);
  const dropped = sysroot.deployments.filter((d) => !kept.some((k) => k.sameAs(d)));
  // (not a deployment of the same commit: upstream then swaps only the bootlinks, and the first
  // write of a recycling deploy would make that a full bootswap)
  return dropped.find((d) => d.stateroot === stateroot && d.csum !== csum && !d.staged && !d.pinned && d.unlocked === 'none'
    && !d.sameAs(sysroot.bootedDeployment) && !d.sameAs(merge)) ?? null;
}

/** The root tree of `csum`, or null when a top-level /etc rules out patching. */
function rootOf(repo: Repo, csum: string): { tree: string; meta: string } | null {
  const c = repo.loadCommitSync(csum);
  const root = loadDirTree(repo, c.rootTree);
  if (root.dirs.some((d) => d.name === 'etc') || root.files.some((f) => f.name === 'etc')) return null;
  if (!root.dirs.some((d) => d.name === 'usr')) return null;
  return { tree: c.rootTree, meta: c.rootMeta };
}

export interface RecycleResult { from: Deployment; stats: PatchStats }

/**
 * Make `dest` (which must not exist) the checkout of `csum` from deployment `old`'s directory.
 * Returns null, having changed nothing, when `old` may not be reused; after `old` has left the
 * boot configuration, a patch that cannot be made in place leaves `dest` absent (null too).
 */
export async function recycleDeployment(sysroot: Sysroot, repo: Repo, old: Deployment, csum: string, dest: string): Promise<RecycleResult | null> {
  const oldDir = sysroot.deploymentDirectory(old);
  let from: { tree: string; meta: string } | null;
  let to: { tree: string; meta: string } | null;
  try {
    from = rootOf(repo, old.csum);
    to = rootOf(repo, csum);
  } catch (e) {
    if (e instanceof OstreeError && (e.code === 'ENOENT' || e.code === 'ECORRUPT')) return null; // (its commit is gone)
    throw e;
  }
  if (from === null || to === null || repo.mode !== 'bare') return null;
  if (!fs.existsSync(path.join(oldDir, 'usr')) || firstChangedDirectory(path.join(oldDir, 'usr')) !== null) return null;

  await sysroot.writeDeployments(sysroot.deployments.filter((d) => !d.sameAs(old)), { cleanup: false, prepareCleanup: false });
  faultStep('recycle-undeployed');
  clearImmutable(oldDir);
  fs.renameSync(oldDir, dest);
  fs.rmSync(sysroot.originPath(old), { force: true });
  faultStep('recycle-moved');
  try {
    return { from: old, stats: patchCheckout(repo, dest, from, to, { keepTopLevel: ['usr'] }) };
  } catch (e) {
    if (!(e instanceof NeedFullCheckout)) throw e;
    rmrf(dest);
    return null;
  }
}
