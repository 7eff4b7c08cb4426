/**
 * `ostree fsck` and `ostree prune` (upstream 2022.7 syntax and output). Parsing and printing
 * only; the checks and the reachability walk are src/repo/fsck.ts and src/repo/prune.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { fsckRepo } from '../../repo/fsck.js';
import { formatPruneResult, pruneRepo } from '../../repo/prune.js';
import { parseRetainBranchDepth } from '../../repo/prune-branches.js';
import { Repo } from '../../repo/repo.js';
import { collect, intOption, parseDateArg } from '../args.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

interface PruneFlags {
  prune: boolean; refsOnly?: boolean; depth: number; deleteCommit?: string; keepYoungerThan?: string;
  commitOnly?: boolean; staticDeltasOnly?: boolean; retainBranchDepth: string[]; onlyBranch: string[];
}

async function runPrune(opts: PruneFlags, cmd: Command): Promise<void> {
  if (opts.staticDeltasOnly && opts.deleteCommit === undefined) {
    throw new OstreeError('EINVAL', '--static-deltas-only requires --delete-commit; see https://github.com/ostreedev/ostree/issues/1479');
  }
  const repo = await Repo.open(repoPath(cmd));
  let keepYoungerThan: bigint | undefined;
  if (opts.keepYoungerThan !== undefined) {
    const ms = parseDateArg(opts.keepYoungerThan);
    if (ms === null) throw new OstreeError('EINVAL', `Could not parse '${opts.keepYoungerThan}'`);
    keepYoungerThan = BigInt(Math.floor(ms / 1000));
  }
  const retainBranchDepth = opts.retainBranchDepth.length > 0 ? parseRetainBranchDepth(opts.retainBranchDepth) : undefined;
  const r = await pruneRepo(repo, {
    refsOnly: opts.refsOnly === true, depth: opts.depth, noPrune: !opts.prune, commitOnly: opts.commitOnly === true,
    ...(opts.deleteCommit !== undefined ? { deleteCommit: opts.deleteCommit } : {}),
    ...(opts.staticDeltasOnly ? { staticDeltasOnly: true } : {}),
    ...(keepYoungerThan !== undefined ? { keepYoungerThan } : {}),
    ...(retainBranchDepth !== undefined ? { retainBranchDepth } : {}),
    ...(opts.onlyBranch.length > 0 ? { onlyBranches: opts.onlyBranch } : {}),
  });
  for (const l of formatPruneResult(r, { noPrune: !opts.prune, commitOnly: opts.commitOnly === true })) out(`${l}\n`);
}

export function register(program: Command): void {
  program.command('fsck')
    .description('Check the repository for consistency')
    .option('--add-tombstones', 'Add tombstones for missing commits')
    .option('-q, --quiet', 'Only print error messages')
    .option('-a, --all', "Don't stop on first error")
    .option('--delete', 'Remove corrupted objects')
    .option('--verify-bindings', 'Verify ref bindings')
    .option('--verify-back-refs', 'Verify back-references (implies --verify-bindings)')
    .action(async (opts: { addTombstones?: boolean; quiet?: boolean; all?: boolean; delete?: boolean; verifyBindings?: boolean; verifyBackRefs?: boolean }, cmd: Command) => {
      const repo = await Repo.open(repoPath(cmd));
      await fsckRepo(repo, {
        quiet: opts.quiet === true, all: opts.all === true, delete: opts.delete === true, addTombstones: opts.addTombstones === true,
        verifyBindings: opts.verifyBindings === true, verifyBackRefs: opts.verifyBackRefs === true,
      }, { info: (l) => out(`${l}\n`), warn: (l) => { process.stderr.write(`${l}\n`); } });
    });

  program.command('prune')
    .description('Search for unreachable objects')
    .option('--no-prune', 'Only display unreachable objects; don\'t delete')
    .option('--refs-only', 'Only compute reachability via refs')
    .option('--depth <DEPTH>', 'Only traverse DEPTH parents for each commit (default: -1=infinite)', intOption('--depth'), -1)
    .option('--delete-commit <COMMIT>', 'Specify a commit to delete')
    .option('--keep-younger-than <DATE>', 'Prune all commits older than the specified date')
    .option('--commit-only', 'Only traverse and delete commit objects.')
    .option('--static-deltas-only', 'Change the behavior of delete-commit and keep-younger-than to prune only static deltas')
    .option('--retain-branch-depth <BRANCH=DEPTH>', 'Additionally retain BRANCH=DEPTH commits', collect, [])
    .option('--only-branch <BRANCH>', 'Only prune BRANCH (may be specified multiple times)', collect, [])
    // upstream's global -v; the program has only the long form (summary's -v is --view)
    .option('-v, --verbose', 'Print debug information during command processing')
    .action(runPrune);
}
