/**
 * The three-way /etc merge done when deploying on top of a merge deployment (upstream
 * merge_configuration_from + ostree_diff_dirs), and the `ostree admin config-diff` listing:
 * the diff of the merge deployment's usr/etc → etc (etc-diff.ts) applied to the new
 * deployment's etc (etc-apply.ts).  This module joins the two and is what callers import.
 */
import { diffEtc, formatEtcMergeSummary, type EtcDiff } from './etc-diff.js';
import { applyEtcMerge, type EtcMergeOptions } from './etc-apply.js';

export { diffEtc, formatConfigDiff, formatEtcMergeSummary, type EtcDiff } from './etc-diff.js';
export { applyEtcMerge, type EtcMergeOptions } from './etc-apply.js';

/** diffEtc + summary message + applyEtcMerge, as the deploy finalization does. */
export async function mergeEtc(origDir: string, modifiedDir: string, newDir: string,
  opts: EtcMergeOptions & { print?: (message: string) => void } = {}): Promise<EtcDiff> {
  const diff = await diffEtc(origDir, modifiedDir);
  opts.print?.(formatEtcMergeSummary(diff));
  await applyEtcMerge(diff, modifiedDir, newDir, opts);
  return diff;
}
