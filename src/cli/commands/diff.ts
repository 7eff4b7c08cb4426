/**
 * `ostree diff` (upstream 2022.7 output). Parsing and printing only; the comparison is
 * src/repo/diff.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { diffTrees, formatDiff } from '../../repo/diff.js';
import { Repo } from '../../repo/repo.js';
import { intOption } from '../args.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

export function register(program: Command): void {
  program.command('diff')
    .description('Compare directory TARGETDIR against revision REV')
    .argument('<REV_OR_DIR>', 'revision, or a directory starting with / or ./')
    .argument('[TARGET]', 'revision or directory (default: compare REV^ with REV)')
    .option('--stats', 'Print various statistics (not supported)')
    .option('--fs-diff', 'Print filesystem diff (accepted; this is the default output)')
    .option('--no-xattrs', 'Skip output of extended attributes')
    .option('--owner-uid <UID>', 'Use file ownership user id for local files', intOption('--owner-uid'))
    .option('--owner-gid <GID>', 'Use file ownership group id for local files', intOption('--owner-gid'))
    .action(async (a: string, b: string | undefined, opts: { stats?: boolean; xattrs: boolean; ownerUid?: number; ownerGid?: number }, cmd: Command) => {
      if (opts.stats) throw new OstreeError('EINVAL', '--stats is not supported by this implementation');
      const repo = await Repo.open(repoPath(cmd));
      const [src, target] = b === undefined ? [`${a}^`, a] : [a, b];
      const r = await diffTrees(repo, src, target, {
        noXattrs: !opts.xattrs,
        ...(opts.ownerUid !== undefined ? { ownerUid: opts.ownerUid } : {}),
        ...(opts.ownerGid !== undefined ? { ownerGid: opts.ownerGid } : {}),
      });
      out(formatDiff(r));
    });
}
