/**
 * `ostree refs` (list, --create, --delete, --alias, --collections) and `ostree rev-parse`, as
 * upstream 2022.7's ot-builtin-refs.c: refs are printed in GLib hash-table order, not sorted.
 * Parsing and printing only; refs are src/repo/refs.ts, collection–refs src/repo/collections.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { glibHashTableOrder } from '../../glib/ghash-order.js';
import { collectionRefHashOrder, formatCollectionRef, listCollectionRefs, setCollectionRef, validateCollectionId } from '../../repo/collections.js';
import { onlyCommit } from '../../repo/inspect.js';
import { setAliasRef } from '../../repo/refs.js';
import { Repo, parseRefspec, validateRefName } from '../../repo/repo.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

interface RefsFlags { create?: string; delete?: boolean; list?: boolean; force?: boolean; alias?: boolean; collections?: boolean }

/** `--create=NEW`: EEXIST when NEW already resolves (without looking at remotes), unless forced
 *  or it is an alias being replaced. */
async function refuseExisting(r: Repo, name: string, o: RefsFlags, aliases: Map<string, string> | null): Promise<void> {
  const existing = await r.resolveRevOptional(name, { fallbackRemote: false });
  const replacingAlias = o.alias === true && aliases !== null && aliases.has(name);
  if (existing !== null && !replacingAlias && !o.force) throw new OstreeError('EEXIST', `--create specified but ref ${name} already exists`);
}

async function createRef(r: Repo, name: string, rev: string, o: RefsFlags, aliases: Map<string, string> | null): Promise<void> {
  await refuseExisting(r, name, o, aliases);
  const [remote, ref] = parseRefspec(name);
  if (!o.alias) { await r.setRef(name, await r.resolveRev(rev)); return; }
  if (remote !== null) throw new OstreeError('EINVAL', `Cannot create alias to remote ref: ${remote}`);
  if (!(await r.listRefs()).has(rev)) throw new OstreeError('ENOENT', `Cannot create alias to non-existent ref: ${rev}`);
  await setAliasRef(r, ref, rev);
}

async function deleteRefs(r: Repo, names: Iterable<string>, aliases: Map<string, string>): Promise<void> {
  for (const spec of names) {
    const [remote, ref] = parseRefspec(spec);
    for (const [alias, target] of aliases) {
      if (target === ref) throw new OstreeError('ESTATE', `Ref '${ref}' has an active alias: '${alias}' (delete or move the alias first)`);
    }
    await r.setRef(remote === null ? ref : `${remote}:${ref}`, null);
  }
}

/** One PREFIX (or none) of `ostree refs` without --collections. */
async function doRef(r: Repo, prefix: string | undefined, o: RefsFlags): Promise<void> {
  const aliases = o.alias || o.delete ? await r.listRefs(undefined, { aliases: true, sorted: false }) : null;
  if (o.create !== undefined) return createRef(r, o.create, prefix!, o, aliases);
  if (o.delete) return deleteRefs(r, (await r.listRefs(prefix, { sorted: false })).keys(), aliases!);
  const full = o.list === true || o.alias === true;
  const refs = await r.listRefs(prefix, { sorted: false, cut: !full, aliases: o.alias === true });
  for (const k of glibHashTableOrder([...refs.keys()])) out(o.alias ? `${k} -> ${refs.get(k)!}\n` : `${k}\n`);
}

/** One PREFIX (a collection ID, or none) of `ostree refs --collections`. */
async function doCollectionRef(r: Repo, prefix: string | undefined, o: RefsFlags): Promise<void> {
  if (o.create !== undefined) {
    await refuseExisting(r, o.create, o, null);
    const checksum = await r.resolveRev(prefix!);
    const i = o.create.indexOf(':');
    const collectionId = i < 0 ? o.create : o.create.slice(0, i);
    validateCollectionId(collectionId);
    const ref = i < 0 ? '' : o.create.slice(i + 1);
    validateRefName(ref);
    await setCollectionRef(r, { collectionId, ref }, checksum);
    return;
  }
  const refs = listCollectionRefs(r, prefix);
  if (o.delete) {
    for (const c of refs) await setCollectionRef(r, c, null);
    return;
  }
  for (const c of collectionRefHashOrder(refs)) out(`${formatCollectionRef(c)}\n`);
}

async function runRefs(args: string[], o: RefsFlags, cmd: Command): Promise<void> {
  const r = await Repo.open(repoPath(cmd));
  const one = o.collections ? doCollectionRef : doRef;
  if (args.length === 0) {
    if (o.delete) throw new OstreeError('EINVAL', 'At least one PREFIX is required when deleting refs');
    if (o.create !== undefined) throw new OstreeError('EINVAL', 'You must specify a revision when creating a new ref');
    return one(r, undefined, o);
  }
  if (o.create !== undefined && args.length > 1) throw new OstreeError('EINVAL', 'You must specify only 1 existing ref when creating a new ref');
  for (const a of args) await one(r, a, o);
}

export function register(program: Command): void {
  program.command('refs')
    .description('List refs')
    .argument('[prefix...]')
    .option('--delete', 'Delete refs which match PREFIX, rather than listing them')
    .option('--list', 'Do not remove the prefix from the refs')
    .option('-A, --alias', 'If used with --create, create an alias, otherwise just list aliases')
    .option('--create <newref>', 'Create a new ref for an existing commit')
    .option('-c, --collections', 'Enable listing collection IDs for refs')
    .option('--force', 'Overwrite existing refs when creating')
    .action(runRefs);

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
