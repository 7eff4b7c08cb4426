/**
 * `ostree checksum PATH` (upstream 2022.7): the object checksum the file or directory would
 * have (src/repo/checksum-file.ts). Needs no repository.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { checksumFileAt } from '../../repo/checksum-file.js';
import { out } from '../output.js';

export function register(program: Command): void {
  program.command('checksum')
    .description('Checksum a file or directory')
    .argument('[path]')
    .option('--ignore-xattrs', "Don't include xattrs in checksum")
    .action((p: string | undefined, opts: { ignoreXattrs?: boolean }) => {
      if (p === undefined) throw new OstreeError('EINVAL', 'A filename must be given');
      out(`${checksumFileAt(p, { ignoreXattrs: opts.ignoreXattrs === true })}\n`);
    });
}
