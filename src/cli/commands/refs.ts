/**
 * `ostree refs` (list, --create, --delete) and `ostree rev-parse` (upstream 2022.7 output:
 * refs are printed in GLib hash-table order, not sorted). Parsing and printing only.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { glibHashTableOrder } from '../../glib/ghash-order.js';
import { onlyCommit } from '../../repo/inspect.js';
import { Repo } from '../../repo/repo.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

interface RefsFlags { create?: string; delete?: boolean; list?: boolean; force?: boolean }

async function createRef(r: Repo, name: string, args: string[], force: boolean): Promise<void> {
  if (args.length !== 1) throw new OstreeError('EINVAL', '--create requires specifying a revision');
  const existing = await r.resolveRevOptional(name).catch(() => null);
  if (existing !== null && !force && (await r.listRefs()).has(name)) {
    throw new OstreeError('EEXIST', `--create specified but ref ${name} already exists`);
  }
  await r.setRef(name, await r.resolveRev(args[0]!));
}

async function deleteRefs(r: Repo, prefixes: string[]): Promise<void> {
  if (prefixes.length === 0) throw new OstreeError('EINVAL', 'At least one PREFIX is required when deleting refs');
  for (const p of prefixes) {
    for (const k of (await r.listRefs(p)).keys()) await r.setRef(k, null);
  }
}

/** Refs under each prefix, the prefix removed unless --list (upstream prints in GHashTable order). */
async function listRefs(r: Repo, prefixes: string[], keepPrefix: boolean): Promise<void> {
  if (prefixes.length === 0) {
    for (const k of glibHashTableOrder([...(await r.listRefs(undefined, { sorted: false })).keys()])) out(`${k}\n`);
    return;
  }
  for (const p of prefixes) {
    const cut = p.endsWith('/') || p.endsWith(':') ? p.length : p.length + 1;
    const names = [...(await r.listRefs(p, { sorted: false })).keys()].map((k) => (keepPrefix || k === p ? k : k.slice(cut)));
    for (const k of glibHashTableOrder(names)) out(`${k}\n`);
  }
}

export function register(program: Command): void {
  program.command('refs')
    .description('List refs')
    .argument('[prefix...]')
    .option('--create <ref>', 'Create a new ref pointing to the given checksum (second argument)')
    .option('--delete', 'Delete refs which match PREFIX')
    .option('--list', 'Do not remove the prefix from the refs')
    .option('--force', 'Overwrite existing refs with --create')
    .action(async (args: string[], opts: RefsFlags, cmd: Command) => {
      const r = await Repo.open(repoPath(cmd));
      if (opts.create) return createRef(r, opts.create, args, opts.force === true);
      if (opts.delete) return deleteRefs(r, args);
      return listRefs(r, args, opts.list === true);
    });

  program.command('rev-parse')
    .description('Output the target of a rev')
    .argument('[rev]')
    .option('-S, --single', 'If the repository has exactly one commit, print it; anything else is an error')
    .action(async (rev: string | undefined, opts: { single?: boolean }, cmd: Command) => {
      const r = await Repo.open(repoPath(cmd));
      if (opts.single) {
        if (rev !== undefined) throw new OstreeError('EINVAL', '--single takes no REV argument');
        out(`${await onlyCommit(r)}\n`);
        return;
      }
      if (rev === undefined) throw new OstreeError('EINVAL', 'A REV argument is required');
      out(`${await r.resolveRev(rev)}\n`);
    });
}
