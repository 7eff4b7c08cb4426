/**
 * `ostree pull-local SRC_REPO [REFS...]` (upstream 2022.7 options and status line). Parsing and
 * printing only; the copy is src/repo/pull/local.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { formatPullStatus, pullLocal } from '../../repo/pull/local.js';
import { commitVerifierFor } from '../../repo/sign/remote-policy.js';
import { findRemote } from '../../repo/remotes.js';
import { summaryVerifierFor } from '../../repo/sign/summary.js';
import { Repo } from '../../repo/repo.js';
import { intOption } from '../args.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

interface PullLocalFlags {
  remote?: string; depth: number; untrusted?: boolean; commitMetadataOnly?: boolean; disableFsync?: boolean;
  bareuseronlyFiles?: boolean; disableVerifyBindings?: boolean; gpgVerify?: boolean; gpgVerifySummary?: boolean;
  requireStaticDeltas?: boolean;
}

/** GLib accepts `--flag=ANYTHING` for a flag and ignores the value (`--gpg-verify=true`). */
function glibFlagValuesIgnored(cmd: Command, flags: string[]): Command {
  const parse = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (args: string[]) => parse(args.map((a) => {
    const eq = a.indexOf('=');
    return eq > 0 && flags.includes(a.slice(0, eq)) ? a.slice(0, eq) : a;
  }));
  return cmd;
}

export function register(program: Command): void {
  const cmd = program.command('pull-local')
    .description('Copy data from SRC_REPO')
    .argument('<SRC_REPO>', 'source repository')
    .argument('[REFS...]', 'refs or commit checksums (default: all refs of SRC_REPO)')
    .option('--remote <REMOTE>', 'Add REMOTE to refspec')
    .option('--depth <DEPTH>', 'Traverse DEPTH parents (-1=infinite) (default: 0)', intOption('--depth'), 0)
    .option('--untrusted', 'Verify checksums of local sources (always enabled for HTTP pulls)')
    .option('--commit-metadata-only', 'Fetch only the commit metadata')
    .option('--disable-fsync', 'Do not invoke fsync()')
    .option('--per-object-fsync', 'Perform writes in such a way that avoids stalling concurrent processes (accepted)')
    .option('--bareuseronly-files', 'Reject regular files with mode outside of 0775 (world writable, suid, etc.)')
    .option('--disable-verify-bindings', 'Do not verify commit bindings')
    .option('--gpg-verify', 'GPG verify commits (must specify --remote)')
    .option('--gpg-verify-summary', 'GPG verify summary (must specify --remote)')
    .option('--require-static-deltas', 'Require static deltas')
    .option('-v, --verbose', 'Print debug information during command processing')
    .action(async (src: string, refs: string[], opts: PullLocalFlags, cmd: Command) => {
      if ((opts.gpgVerify || opts.gpgVerifySummary) && opts.remote === undefined) throw new OstreeError('EINVAL', 'Must specify remote name to enable gpg verification');
      const repo = await Repo.open(repoPath(cmd));
      // local pulls never apply the remote's sign-verify, as upstream; GPG only when asked
      const remote = opts.gpgVerify || opts.gpgVerifySummary ? findRemote(repo, opts.remote!) : null;
      const verifier = remote && opts.gpgVerify ? commitVerifierFor(repo, remote, { gpgVerify: true, signVerify: false }) : null;
      const summaryVerifier = remote && opts.gpgVerifySummary ? summaryVerifierFor(repo, remote.name, 'pull', { gpgVerify: true, signVerify: false }) : null;
      const r = await pullLocal(repo, src, {
        refs, remote: opts.remote, depth: opts.depth, untrusted: opts.untrusted === true,
        commitMetadataOnly: opts.commitMetadataOnly === true, disableFsync: opts.disableFsync === true,
        bareUserOnlyFiles: opts.bareuseronlyFiles === true, disableVerifyBindings: opts.disableVerifyBindings === true, verifier, summaryVerifier,
        requireStaticDeltas: opts.requireStaticDeltas === true,
      });
      out(`${formatPullStatus(r)}\n`);
    });
  glibFlagValuesIgnored(cmd, ['--gpg-verify', '--gpg-verify-summary']);
}
