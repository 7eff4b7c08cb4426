/**
 * Repository maintenance verbs (fsck, prune, diff, pull-local) with upstream 2022.7 syntax and
 * output. Registration point called by registerRepoCommands(); only argument parsing and
 * printing here, the behaviour is in src/repo/{fsck,prune,diff,pull-local}.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../errors.js';
import { Repo } from '../repo/repo.js';
// Each verb loads its module when it runs (start-up time of every other verb).
import { repoPathFrom } from './main.js';

const out = (s: string): void => { process.stdout.write(s); };
const err = (s: string): void => { process.stderr.write(s); };

function parseIntOption(name: string): (v: string) => number {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v)) throw new OstreeError('EINVAL', `${name}: invalid number '${v}'`);
    return Number(v);
  };
}

export function registerRepoMaintCommands(program: Command): void {
  program.command('pull-local')
    .description('Copy data from SRC_REPO')
    .argument('<SRC_REPO>', 'source repository')
    .argument('[REFS...]', 'refs or commit checksums (default: all refs of SRC_REPO)')
    .option('--remote <REMOTE>', 'Add REMOTE to refspec')
    .option('--depth <DEPTH>', 'Traverse DEPTH parents (-1=infinite) (default: 0)', parseIntOption('--depth'), 0)
    .option('--untrusted', 'Verify checksums of local sources (always enabled for HTTP pulls)')
    .option('--commit-metadata-only', 'Fetch only the commit metadata')
    .option('--disable-fsync', 'Do not invoke fsync()')
    .option('--per-object-fsync', 'Perform writes in such a way that avoids stalling concurrent processes (accepted)')
    .option('--bareuseronly-files', 'Reject regular files with mode outside of 0775 (world writable, suid, etc.)')
    .option('--disable-verify-bindings', 'Do not verify commit bindings')
    .option('--gpg-verify', 'GPG verify commits (not supported)')
    .option('-v, --verbose', 'Print debug information during command processing')
    .action(async (src: string, refs: string[], opts: {
      remote?: string; depth: number; untrusted?: boolean; commitMetadataOnly?: boolean; disableFsync?: boolean;
      bareuseronlyFiles?: boolean; disableVerifyBindings?: boolean; gpgVerify?: boolean;
    }, cmd: Command) => {
      if (opts.gpgVerify) throw new OstreeError('EINVAL', '--gpg-verify is not supported by this implementation');
      const repo = await Repo.open(repoPathFrom(cmd));
      const { formatPullStatus, pullLocal } = await import('../repo/pull/local.js');
      const r = await pullLocal(repo, src, {
        refs, remote: opts.remote, depth: opts.depth, untrusted: opts.untrusted === true,
        commitMetadataOnly: opts.commitMetadataOnly === true, disableFsync: opts.disableFsync === true,
        bareUserOnlyFiles: opts.bareuseronlyFiles === true, disableVerifyBindings: opts.disableVerifyBindings === true,
      });
      out(`${formatPullStatus(r)}\n`);
    });

  program.command('fsck')
    .description('Check the repository for consistency')
    .option('--add-tombstones', 'Add tombstones for missing commits')
    .option('-q, --quiet', 'Only print error messages')
    .option('-a, --all', "Don't stop on first error")
    .option('--delete', 'Remove corrupted objects')
    .option('--verify-bindings', 'Verify ref bindings (accepted)')
    .option('--verify-back-refs', 'Verify back-references (accepted)')
    .action(async (opts: { addTombstones?: boolean; quiet?: boolean; all?: boolean; delete?: boolean }, cmd: Command) => {
      const repo = await Repo.open(repoPathFrom(cmd));
      const { fsckRepo } = await import('../repo/fsck.js');
      await fsckRepo(repo, {
        quiet: opts.quiet === true, all: opts.all === true, delete: opts.delete === true, addTombstones: opts.addTombstones === true,
      }, { info: (l) => out(`${l}\n`), warn: (l) => err(`${l}\n`) });
    });

  program.command('prune')
    .description('Search for unreachable objects')
    .option('--no-prune', 'Only display unreachable objects; don\'t delete')
    .option('--refs-only', 'Only compute reachability via refs')
    .option('--depth <DEPTH>', 'Only traverse DEPTH parents for each commit (default: -1=infinite)', parseIntOption('--depth'), -1)
    .option('--delete-commit <COMMIT>', 'Specify a commit to delete')
    .option('--keep-younger-than <DATE>', 'Prune all commits older than the specified date')
    .option('--commit-only', 'Only traverse and delete commit objects.')
    .option('--static-deltas-only', 'Change the behavior of delete-commit to delete only static deltas (not supported)')
    .action(async (opts: { prune: boolean; refsOnly?: boolean; depth: number; deleteCommit?: string; keepYoungerThan?: string; commitOnly?: boolean; staticDeltasOnly?: boolean }, cmd: Command) => {
      if (opts.staticDeltasOnly) throw new OstreeError('EINVAL', '--static-deltas-only is not supported (this implementation has no static deltas)');
      const repo = await Repo.open(repoPathFrom(cmd));
      let keepYoungerThan: bigint | undefined;
      if (opts.keepYoungerThan !== undefined) {
        const ms = parseDateArg(opts.keepYoungerThan);
        if (ms === null) throw new OstreeError('EINVAL', `Could not parse '${opts.keepYoungerThan}'`);
        keepYoungerThan = BigInt(Math.floor(ms / 1000));
      }
      const { pruneRepo, formatPruneResult } = await import('../repo/prune.js');
      const r = await pruneRepo(repo, {
        refsOnly: opts.refsOnly === true, depth: opts.depth, noPrune: !opts.prune, commitOnly: opts.commitOnly === true,
        ...(opts.deleteCommit !== undefined ? { deleteCommit: opts.deleteCommit } : {}),
        ...(keepYoungerThan !== undefined ? { keepYoungerThan } : {}),
      });
      for (const l of formatPruneResult(r, { noPrune: !opts.prune, commitOnly: opts.commitOnly === true })) out(`${l}\n`);
    });

  program.command('diff')
    .description('Compare directory TARGETDIR against revision REV')
    .argument('<REV_OR_DIR>', 'revision, or a directory starting with / or ./')
    .argument('[TARGET]', 'revision or directory (default: compare REV^ with REV)')
    .option('--stats', 'Print various statistics (not supported)')
    .option('--fs-diff', 'Print filesystem diff (accepted; this is the default output)')
    .option('--no-xattrs', 'Skip output of extended attributes')
    .option('--owner-uid <UID>', 'Use file ownership user id for local files', parseIntOption('--owner-uid'))
    .option('--owner-gid <GID>', 'Use file ownership group id for local files', parseIntOption('--owner-gid'))
    .action(async (a: string, b: string | undefined, opts: { stats?: boolean; xattrs: boolean; ownerUid?: number; ownerGid?: number }, cmd: Command) => {
      if (opts.stats) throw new OstreeError('EINVAL', '--stats is not supported by this implementation');
      const repo = await Repo.open(repoPathFrom(cmd));
      const [src, target] = b === undefined ? [`${a}^`, a] : [a, b];
      const { diffTrees, formatDiff } = await import('../repo/diff.js');
      const r = await diffTrees(repo, src, target, {
        noXattrs: !opts.xattrs,
        ...(opts.ownerUid !== undefined ? { ownerUid: opts.ownerUid } : {}),
        ...(opts.ownerGid !== undefined ? { ownerGid: opts.ownerGid } : {}),
      });
      out(formatDiff(r));
    });
}

/** `--keep-younger-than`: "N days ago" style relative dates, or anything Date.parse accepts; ms. */
function parseDateArg(s: string): number | null {
  const m = /^\s*(\d+)\s+(second|minute|hour|day|week|month|year)s?\s+ago\s*$/.exec(s);
  if (m) {
    const unit: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800, month: 2592000, year: 31536000 };
    return Date.now() - Number(m[1]) * unit[m[2]!]! * 1000;
  }
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}
