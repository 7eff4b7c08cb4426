/**
 * `ostree checkout` (upstream 2022.7 options): maps the flags onto Repo.checkout's options.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { Repo } from '../../repo/repo.js';
import { repoPath } from '../context.js';

interface CheckoutFlags {
  userMode?: boolean; requireHardlinks?: boolean; forceCopy?: boolean; subpath?: string; union?: boolean;
  whiteouts?: boolean; processPassthroughWhiteouts?: boolean; unionAdd?: boolean; allowNoent?: boolean;
}

/** With --allow-noent, a --subpath missing from the commit is not an error: nothing to do. */
async function subpathMissing(r: Repo, rev: string, subpath: string): Promise<boolean> {
  try {
    r.lookupPathSync(await r.resolveRev(rev), subpath);
    return false;
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'ENOENT') return true;
    throw e;
  }
}

export function register(program: Command): void {
  program.command('checkout')
    .description('Check out a commit into a filesystem tree')
    .argument('<rev>')
    .argument('[destination]')
    .option('-U, --user-mode', 'Do not change file ownership or initialize extended attributes')
    .option('-H, --require-hardlinks', 'Do not fall back to full copies if hardlinking fails')
    .option('--force-copy', 'Never hardlink (but may reflink if available)')
    .option('--subpath <path>', 'Checkout sub-directory PATH')
    .option('--union', 'Keep existing directories, overwrite existing files')
    .option('--union-add', 'Keep existing directories and files, only add new ones')
    .option('--allow-noent', 'Do nothing if the specified path does not exist')
    .option('--whiteouts', 'Process .wh. (Docker-style) whiteout entries')
    .option('--process-passthrough-whiteouts', 'Enable overlayfs whiteout extraction into char 0:0 devices')
    .action(async (rev: string, dest: string | undefined, opts: CheckoutFlags, cmd: Command) => {
      const r = await Repo.open(repoPath(cmd));
      if (opts.allowNoent && opts.subpath !== undefined && await subpathMissing(r, rev, opts.subpath)) return;
      await r.checkout(rev, dest ?? rev, {
        unionAdd: opts.unionAdd === true,
        userMode: opts.userMode === true,
        hardlink: opts.requireHardlinks === true,
        forceCopy: opts.forceCopy === true,
        ...(opts.subpath !== undefined ? { subpath: opts.subpath } : {}),
        union: opts.union === true,
        dockerWhiteouts: opts.whiteouts === true,
        whiteouts: opts.processPassthroughWhiteouts === true,
      });
    });
}
