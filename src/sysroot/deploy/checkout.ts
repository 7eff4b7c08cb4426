/**
 * The checkout `admin deploy` makes of a commit into a new deployment directory (§1.3 step 1):
 * what `Repo.checkout(csum, dir, {whiteouts: true})` makes, through the repository's hardlink
 * checkout (src/repo/hardlink-checkout.ts) for `bare` and `bare-user-only` repositories. That
 * checkout walks the commit's whole tree, so the set of objects it reached is handed to the
 * cleanup's prune (rememberCommitClosure), which then need not walk the commit again.
 *
 * Other repository modes go through Repo.checkout; so does a tree whose hardlinks the kernel
 * refuses (EXDEV, EMLINK, EPERM), after the partial tree is removed: it copies where needed.
 * How deep a tree may be is the checkout engines' concern (src/repo/checkout); removing a
 * partial tree here is iterative (util/tree rmrf), so a failure never leaves one behind.
 */
import * as path from 'node:path';
import type { Repo } from '../../repo/repo.js';
import { rmrf } from '../../util/tree.js';

/** What the last checkoutDeployment call did (for tests and tracing). */
export let lastDeployCheckout: 'fast' | 'fallback' | 'generic' = 'generic';

/** Check out commit `csum` of `repo` into `dest` (which must not exist) for a deployment. */
export async function checkoutDeployment(repo: Repo, csum: string, dest: string): Promise<void> {
  const { hardlinkCheckout, hardlinkCheckoutPossible, NeedCopyFallback } = await import('../../repo/checkout/hardlink.js');
  if (!hardlinkCheckoutPossible(repo.mode, false)) {
    lastDeployCheckout = 'generic';
    await repo.checkout(csum, dest, { whiteouts: true });
    return;
  }
  const abs = path.resolve(dest);
  const commit = repo.loadCommitSync(csum);
  const reachable = new Set<string>([`${csum}.commit`]);
  try {
    await hardlinkCheckout(repo, commit.rootTree, commit.rootMeta, abs, { whiteouts: true, reachable });
  } catch (e) {
    if (!(e instanceof NeedCopyFallback)) throw e;
    rmrf(abs);
    lastDeployCheckout = 'fallback';
    await repo.checkout(csum, abs, { whiteouts: true });
    return;
  }
  const { rememberCommitClosure } = await import('../../repo/prune.js');
  rememberCommitClosure(repo, csum, reachable);
  lastDeployCheckout = 'fast';
}
