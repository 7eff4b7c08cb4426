/**
 * The per-branch roots of `ostree prune` with --keep-younger-than, --retain-branch-depth or
 * --only-branch (upstream 2022.7's ot-builtin-prune.c computes these before
 * ostree_repo_prune_from_reachable): only refs are roots, each kept to its own depth.
 *
 * - `--retain-branch-depth=BRANCH=DEPTH` keeps DEPTH parents of BRANCH (-1: all);
 * - `--only-branch=BRANCH` (repeatable) prunes only the named branches: every other ref is
 *   kept whole, unless a --retain-branch-depth names it;
 * - otherwise a ref keeps its commits younger than --keep-younger-than, or `depth` parents.
 */
import { OstreeError } from '../errors.js';

/** How one ref is kept: `depth` parents (-1: all), or its commits younger than the cut-off. */
export type BranchRoot = { commit: string; depth: number } | { commit: string; youngerThan: bigint };

export interface BranchRules {
  /** `--depth` for refs no other rule names. */
  depth: number;
  keepYoungerThan?: bigint;
  retainBranchDepth?: ReadonlyMap<string, number>;
  onlyBranches?: readonly string[];
}

/** What the roots need of a repository (structural: prune.ts's target). */
export interface BranchRepo {
  resolveRev(rev: string): Promise<string>;
  listRefs(): Promise<Map<string, string>>;
}

/** Whether the branch rules apply (any of the three options given); else prune keeps its
 *  original reachability (all commits, or refs with --refs-only). */
export function usesBranchRules(r: Omit<BranchRules, 'depth'>): boolean {
  return r.keepYoungerThan !== undefined || r.retainBranchDepth !== undefined || r.onlyBranches !== undefined;
}

/**
 * Parse `--retain-branch-depth` values (`BRANCH=DEPTH`). As upstream, DEPTH is read as a C
 * integer prefix (`5x` is 5); no digits at all is an error.
 */
export function parseRetainBranchDepth(specs: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const bd of specs) {
    const eq = bd.indexOf('=');
    if (eq < 0) throw new OstreeError('EINVAL', `Invalid value ${bd}, must specify BRANCH=DEPTH`);
    const depthStr = bd.slice(eq + 1);
    const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(depthStr);
    if (m === null) throw new OstreeError('EINVAL', `Invalid depth ${depthStr}`);
    const n = Number(m[1]);
    if (!Number.isSafeInteger(n) || n > 2 ** 31 - 1 || n < -(2 ** 31)) throw new OstreeError('EINVAL', `Out of range depth ${depthStr}`);
    out.set(bd.slice(0, eq), n);
  }
  return out;
}

/** The roots of a branch-rules prune: one per ref (local and remote refs, as upstream). */
export async function branchRoots(repo: BranchRepo, rules: BranchRules): Promise<BranchRoot[]> {
  const retain = new Map(rules.retainBranchDepth ?? []);
  const refs = await repo.listRefs();
  if (rules.onlyBranches !== undefined) {
    // Every named branch must exist (resolveRev's "Refspec '…' not found").
    for (const b of rules.onlyBranches) await repo.resolveRev(b);
    const only = new Set(rules.onlyBranches);
    for (const ref of refs.keys()) if (!only.has(ref) && !retain.has(ref)) retain.set(ref, -1);
  }
  const roots: BranchRoot[] = [];
  for (const [ref, commit] of refs) {
    // Upstream stores depths as hash-table pointers: a retained depth of 0 reads back as
    // "not given", so such a ref falls through to the other rules, as there.
    const d = retain.get(ref);
    if (d !== undefined && d !== 0) roots.push({ commit, depth: d });
    else if (rules.keepYoungerThan !== undefined) roots.push({ commit, youngerThan: rules.keepYoungerThan });
    else roots.push({ commit, depth: rules.depth });
  }
  return roots;
}
