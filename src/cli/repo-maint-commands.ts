/**
 * Repository maintenance verbs (fsck, prune, diff, pull-local) with upstream 2022.7 syntax and
 * output. Registration point called by registerRepoCommands(); only argument parsing and
 * printing here, the behaviour is in src/repo/{fsck,prune,diff,pull-local}.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../errors.js';
import { Repo } from '../repo/repo.js';
import { fsckRepo } from '../repo/fsck.js';
import { formatPullStatus, pullLocal } from '../repo/pull-local.js';
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
      await fsckRepo(repo, {
        quiet: opts.quiet === true, all: opts.all === true, delete: opts.delete === true, addTombstones: opts.addTombstones === true,
      }, { info: (l) => out(`${l}\n`), warn: (l) => err(`${l}\n`) });
    });
}
