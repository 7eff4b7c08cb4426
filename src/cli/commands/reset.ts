/**
 * `ostree reset REF COMMIT` (upstream 2022.7): point an existing ref at any commit, which need
 * not descend from the ref's current one. Parsing and printing only (Repo.resetRef).
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { Repo } from '../../repo/repo.js';
import { repoPath } from '../context.js';

export function register(program: Command): void {
  program.command('reset')
    .description('Reset a REF to a previous COMMIT')
    .argument('[ref]')
    .argument('[commit]')
    .action(async (ref: string | undefined, commit: string | undefined, _opts: unknown, cmd: Command) => {
      if (ref === undefined || commit === undefined) throw new OstreeError('EINVAL', 'A REF and COMMIT argument is required');
      const r = await Repo.open(repoPath(cmd));
      await r.resetRef(ref, commit);
    });
}
