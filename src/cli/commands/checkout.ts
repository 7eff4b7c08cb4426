/**
 * `ostree checkout` (upstream 2022.7 options): maps the flags onto Repo.checkout's options.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { Repo, type CheckoutOptions } from '../../repo/repo.js';
import { repoPath } from '../context.js';

interface CheckoutFlags {
  userMode?: boolean; requireHardlinks?: boolean; forceCopy?: boolean; subpath?: string; union?: boolean;
  whiteouts?: boolean; processPassthroughWhiteouts?: boolean; unionAdd?: boolean; allowNoent?: boolean;
  unionIdentical?: boolean; disableCache?: boolean; fromStdin?: boolean; fromFile?: string; fsync?: string;
  forceCopyZerosized?: boolean; bareuseronlyDirs?: boolean; skipList?: string; selinuxPolicy?: string; selinuxPrefix?: string;
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

/** The flags' conflicts, in upstream's words. */
function checkConflicts(o: CheckoutFlags): void {
  if (o.union && o.unionAdd) throw new OstreeError('EINVAL', 'Cannot specify both --union and --union-add');
  if (o.union && o.unionIdentical) throw new OstreeError('EINVAL', 'Cannot specify both --union and --union-identical');
  if (o.unionAdd && o.unionIdentical) throw new OstreeError('EINVAL', 'Cannot specify both --union-add and --union-identical');
  if (o.requireHardlinks && o.forceCopy) throw new OstreeError('EINVAL', 'Cannot specify both --require-hardlinks and --force-copy');
  if (o.selinuxPrefix !== undefined && o.selinuxPolicy === undefined) throw new OstreeError('EINVAL', 'Cannot specify --selinux-prefix without --selinux-policy');
  if (o.unionIdentical && !o.requireHardlinks) throw new OstreeError('EINVAL', '--union-identical requires --require-hardlinks');
  if (o.selinuxPolicy !== undefined) throw new OstreeError('EINVAL', '--selinux-policy is not supported by this implementation');
}

function checkoutOptions(o: CheckoutFlags, subpath: string | undefined): CheckoutOptions {
  return {
    unionAdd: o.unionAdd === true,
    unionIdentical: o.unionIdentical === true,
    userMode: o.userMode === true,
    hardlink: o.requireHardlinks === true,
    forceCopy: o.forceCopy === true,
    ...(subpath !== undefined ? { subpath } : {}),
    union: o.union === true,
    dockerWhiteouts: o.whiteouts === true,
    whiteouts: o.processPassthroughWhiteouts === true,
    bareuseronlyDirs: o.bareuseronlyDirs === true,
    disableCache: o.disableCache === true,
    ...(o.skipList !== undefined ? { skipList: readSkipList(o.skipList) } : {}),
  };
}

function readSkipList(file: string): Set<string> {
  return new Set(fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== ''));
}

/** --from-file/--from-stdin: NUL-separated pairs of revision and subpath, each checked out into `dest`. */
async function manyCheckouts(r: Repo, dest: string, input: Buffer, o: CheckoutFlags): Promise<void> {
  const parts = input.toString('utf8').split('\0');
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) {
    const csum = await r.resolveRev(parts[i]!);
    try {
      await r.checkout(csum, dest, checkoutOptions(o, parts[i + 1] || undefined));
    } catch (e) {
      if (e instanceof OstreeError) throw new OstreeError(e.code, `Processing tree ${csum}: ${e.message}`, { cause: e });
      throw e;
    }
  }
}

export function register(program: Command): void {
  program.command('checkout')
    .description('Check out a commit into a filesystem tree')
    .argument('[commit]')
    .argument('[destination]')
    .option('-U, --user-mode', 'Do not change file ownership or initialize extended attributes')
    .option('--disable-cache', 'Do not update or use the internal repository uncompressed object cache')
    .option('--subpath <path>', 'Checkout sub-directory PATH')
    .option('--union', 'Keep existing directories, overwrite existing files')
    .option('--union-add', 'Keep existing files/directories, only add new')
    .option('--union-identical', 'When layering checkouts, error out if a file would be replaced with a different version, but add new files and directories')
    .option('--whiteouts', "Process 'whiteout' (Docker style) entries")
    .option('--process-passthrough-whiteouts', 'Enable overlayfs whiteout extraction into char 0:0 devices')
    .option('--allow-noent', 'Do nothing if specified path does not exist')
    .option('--from-stdin', 'Process many checkouts from standard input')
    .option('--from-file <file>', 'Process many checkouts from input file')
    .option('--fsync <policy>', 'Specify how to invoke fsync()')
    .option('-H, --require-hardlinks', 'Do not fall back to full copies if hardlinking fails')
    .option('-z, --force-copy-zerosized', 'Do not hardlink zero-sized files')
    .option('-C, --force-copy', 'Never hardlink (but may reflink if available)')
    .option('-M, --bareuseronly-dirs', 'Suppress mode bits outside of 0775 for directories (suid, world writable, etc.)')
    .option('--skip-list <file>', 'File containing list of files to skip')
    .option('--selinux-policy <path>', 'Set SELinux labels based on policy in root filesystem PATH (may be /); implies --force-copy')
    .option('--selinux-prefix <prefix>', 'When setting SELinux labels, prefix all paths by PREFIX')
    .action(async (rev: string | undefined, dest: string | undefined, opts: CheckoutFlags, cmd: Command) => {
      if (rev === undefined) {
        process.stderr.write(`${cmd.helpInformation()}\n`);
        throw new OstreeError('EINVAL', 'COMMIT must be specified');
      }
      const r = await Repo.open(repoPath(cmd));
      if (opts.fsync === 'false') r.config.set('core', 'fsync', 'false');
      checkConflicts(opts);
      if (opts.fromStdin || opts.fromFile !== undefined) {
        const input = opts.fromFile !== undefined ? fs.readFileSync(opts.fromFile) : fs.readFileSync(0);
        await manyCheckouts(r, rev, input, opts);
        return;
      }
      if (opts.allowNoent && opts.subpath !== undefined && await subpathMissing(r, rev, opts.subpath)) return;
      await r.checkout(rev, dest ?? rev, checkoutOptions(opts, opts.subpath));
    });
}
