/**
 * `ostree export COMMIT` (upstream 2022.7): the tree as GNU tar on standard output or `-o PATH`.
 * Parsing only; the archive is src/repo/export.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { Repo } from '../../repo/repo.js';
import { exportTree } from '../../repo/export.js';
import { repoPath } from '../context.js';

interface ExportFlags { xattrs: boolean; subpath?: string; prefix?: string; output?: string }

export function register(program: Command): void {
  program.command('export')
    .description('Stream COMMIT to stdout in tar format')
    .argument('[commit]')
    .option('--no-xattrs', 'Skip output of extended attributes')
    .option('--subpath <path>', 'Checkout sub-directory PATH')
    .option('--prefix <path>', 'Add PATH as prefix to archive pathnames')
    .option('-o, --output <path>', 'Output to PATH ')
    .action(async (rev: string | undefined, o: ExportFlags, cmd: Command) => {
      if (rev === undefined) {
        process.stderr.write(`${cmd.helpInformation()}\n`);
        throw new OstreeError('EINVAL', 'A COMMIT argument is required');
      }
      const r = await Repo.open(repoPath(cmd));
      await exportTree(r, rev, {
        noXattrs: !o.xattrs,
        ...(o.subpath !== undefined ? { subpath: o.subpath } : {}),
        ...(o.prefix !== undefined ? { prefix: o.prefix } : {}),
        ...(o.output !== undefined ? { output: o.output } : {}),
      });
    });
}
