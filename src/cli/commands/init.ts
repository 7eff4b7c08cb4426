/**
 * `ostree init` and `ostree config get|set|unset` (upstream 2022.7 syntax and messages):
 * creating a repository and editing its config file. Parsing and printing only; the config
 * format is owned by src/glib/keyfile.ts through Repo.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { validateCollectionId } from '../../repo/collections.js';
import { Repo, parseRepoMode } from '../../repo/repo.js';
import { splitConfigKey } from '../args.js';
import { verbGroup } from '../groups.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

interface GroupOpt { group?: string }

/** Upstream's error for operands beyond the verb's own. */
function refuseExtra(extra: string[]): void {
  if (extra.length > 0) throw new OstreeError('EINVAL', 'Too many arguments given');
}

function groupAndKey(key: string, opts: GroupOpt): [string, string] {
  return opts.group ? [opts.group, key] : splitConfigKey(key);
}

export function register(program: Command): void {
  program.command('init')
    .description('Initialize a new empty repository')
    .option('--mode <mode>', 'bare, bare-user, bare-user-only, archive (archive-z2)', 'bare')
    .option('--collection-id <id>', 'Globally unique ID for this repository as an collection of refs for redistribution to other repositories')
    // upstream ignores operands (libtest's ostree_repo_init passes a stray `init`)
    .argument('[ignored...]')
    .action(async (_ignored: string[], opts: { mode: string; collectionId?: string }, cmd: Command) => {
      if (opts.collectionId !== undefined) validateCollectionId(opts.collectionId);
      const r = await Repo.create(repoPath(cmd), parseRepoMode(opts.mode));
      if (opts.collectionId) { r.config.set('core', 'collection-id', opts.collectionId); await r.saveConfig(); }
    });

  const config = verbGroup(program.command('config').description('Change repo configuration settings'), 'config');
  config.command('get').argument('<key>').argument('[extra...]').option('--group <group>', 'Group name')
    .action(async (key: string, extra: string[], opts: GroupOpt, cmd: Command) => {
      refuseExtra(extra);
      const r = await Repo.open(repoPath(cmd));
      const [g, k] = groupAndKey(key, opts);
      const v = r.config.get(g, k);
      if (v === undefined) {
        throw new OstreeError('ENOENT', r.config.hasGroup(g) ? `Key file does not have key “${k}” in group “${g}”` : `Key file does not have group “${g}”`);
      }
      out(`${v}\n`);
    });
  config.command('set').argument('<key>').argument('<value>').argument('[extra...]').option('--group <group>', 'Group name')
    .action(async (key: string, value: string, extra: string[], opts: GroupOpt, cmd: Command) => {
      refuseExtra(extra);
      const r = await Repo.open(repoPath(cmd));
      const [g, k] = groupAndKey(key, opts);
      r.config.set(g, k, value);
      await r.saveConfig();
    });
  config.command('unset').argument('<key>').argument('[extra...]').option('--group <group>', 'Group name')
    .action(async (key: string, extra: string[], opts: GroupOpt, cmd: Command) => {
      refuseExtra(extra);
      const r = await Repo.open(repoPath(cmd));
      const [g, k] = groupAndKey(key, opts);
      r.config.removeKey(g, k);
      await r.saveConfig();
    });
}
