/**
 * Incremental deploy: the new deployment is made from the directory of a deployment that an
 * earlier deploy dropped, by patching its /usr from its commit's tree into the new commit's
 * (repo/checkout/patch.ts). The cost follows what changed between the two commits, not the size
 * of the tree.
 *
 * The invariant: a deploy that fails or is killed at any point changes nothing the bootloader
 * sees, and every deployment it lists stays bootable. The only commit point of a deploy is its
 * boot configuration swap (write.ts), which must happen once, with a complete new deployment.
 * So a deployment can be reused only once no boot entry names it any more:
 * - the directory reused is never a listed deployment's. Patching one before the swap would
 *   break its entry (killed half-way, it names a half-patched or missing tree); taking it out of
 *   the boot configuration first is a second, earlier swap, which a failed deploy (a refused
 *   /etc merge, a full disk) could not undo: it would lose a rollback deployment and show the
 *   bootloader a set of entries that is neither the old nor the new;
 * - instead, the deployment a deploy drops is, after that deploy's swap, moved aside as the
 *   stateroot's spare (spare.ts: parkDeployment; `ostree/deploy/<os>/recycle/<commit>`) where
 *   cleanup would have deleted it; the next deploy renames the spare to its new deployment's
 *   name and patches it. Nothing of it is listed anywhere: a crash or a failure at any step
 *   leaves at worst an unlisted deployment directory, which cleanup deletes, and the next deploy
 *   makes a fresh checkout;
 * - cleanup's prune keeps the spare's commit (the patch reads its dirtrees). The cost: the
 *   dropped deployment's own objects stay on disk until the next deploy, as if one more
 *   deployment were kept. `OSTREE_TS_INCREMENTAL_DEPLOY=0` turns it all off; cleanup then
 *   deletes the spares, and the prune frees their objects.
 * In the steady state of updates (booted N, rollback N-1, deploy N+1) the spare is N-2's tree,
 * so the patch covers three updates' changes. A staged deploy takes the spare when it is staged
 * (initializeDeployment) and `finalize-staged` parks the deployment it drops (a rename, cheap at
 * shutdown).
 *
 * What may be reused, and what never is:
 * - only /usr, which a booted system mounts read-only; every other top-level entry (/etc above
 *   all, which the running system edits) is removed and made afresh;
 * - never a booted, staged or pinned deployment, nor one in any unlocked state (spare.ts);
 * - never a /usr with a directory whose mtime is not the 0 the checkout gave it (an entry was
 *   added, removed or renamed there since);
 * - only when neither commit has a top-level /etc (whose content deployments keep in /usr/etc,
 *   so /usr would not match its commit's tree), from a `bare` repository, as root.
 * A spare that may not be reused is deleted when found.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import type { Repo } from '../../repo/repo.js';
import { loadDirTree } from '../../repo/store.js';
import { firstChangedDirectory, NeedFullCheckout, patchCheckout, type PatchStats } from '../../repo/checkout/patch.js';
import { faultStep } from '../fault.js';
import type { Sysroot } from '../sysroot.js';
import { rmrf } from '../../util/tree.js';
import { incrementalDeployEnabled, listSpares } from './spare.js';

export { incrementalDeployEnabled } from './spare.js';

/** The root tree of `csum`, or null when a top-level /etc rules out patching. */
function rootOf(repo: Repo, csum: string): { tree: string; meta: string } | null {
  const c = repo.loadCommitSync(csum);
  const root = loadDirTree(repo, c.rootTree);
  if (root.dirs.some((d) => d.name === 'etc') || root.files.some((f) => f.name === 'etc')) return null;
  if (!root.dirs.some((d) => d.name === 'usr')) return null;
  return { tree: c.rootTree, meta: c.rootMeta };
}

export interface RecycleResult { from: string; stats: PatchStats }

/**
 * Make `dest` (which must not exist) the checkout of `csum` from the spare of `stateroot`.
 * Returns null when there is no spare that may be reused (a spare that may not is deleted);
 * `dest` is then absent and the caller checks out afresh.
 */
export async function takeSpare(sysroot: Sysroot, repo: Repo, stateroot: string, csum: string, dest: string): Promise<RecycleResult | null> {
  if (!incrementalDeployEnabled()) return null;
  const spares = listSpares(sysroot, stateroot);
  const spare = spares.pop();
  for (const s of spares) rmrf(s.path); // (one is ever parked; any other is a leftover)
  if (spare === undefined) return null;
  let from: { tree: string; meta: string } | null = null;
  let to: { tree: string; meta: string } | null = null;
  try {
    from = rootOf(repo, spare.csum);
    to = rootOf(repo, csum);
  } catch (e) {
    // (the spare's commit is gone: pruned by another implementation, or damaged)
    if (!(e instanceof OstreeError && (e.code === 'ENOENT' || e.code === 'ECORRUPT'))) throw e;
  }
  if (from === null || to === null || repo.mode !== 'bare'
    || !fs.existsSync(path.join(spare.path, 'usr')) || firstChangedDirectory(path.join(spare.path, 'usr')) !== null) {
    rmrf(spare.path);
    return null;
  }
  fs.renameSync(spare.path, dest);
  faultStep('spare-taken');
  try {
    return { from: spare.csum, stats: patchCheckout(repo, dest, from, to, { keepTopLevel: ['usr'] }) };
  } catch (e) {
    if (!(e instanceof NeedFullCheckout)) throw e;
    rmrf(dest);
    return null;
  }
}
