/**
 * `ostree find-remotes COLLECTION-ID REF [COLLECTION-ID REF...]` (upstream 2022.7's
 * ot-builtin-find-remotes.c output): the remotes serving each collection–ref, and with --pull
 * the pull of the newest commits from them. Parsing and printing only; the search is
 * src/repo/collections-find.ts.
 */
import type { Command } from 'commander';
import { OstreeError } from '../../errors.js';
import { collectionRefHashOrder, formatCollectionRef, validateCollectionId, type CollectionRef } from '../../repo/collections.js';
import { findRemotes, parseFinders, pullFromResults, type FinderResult } from '../../repo/collections-find.js';
import { Repo, validateRefName } from '../../repo/repo.js';
import { repoPath } from '../context.js';
import { out } from '../output.js';

interface FindFlags { cacheDir?: string; disableFsync?: boolean; finders?: string; pull?: boolean; mirror?: boolean }

/** COLLECTION-ID REF pairs from the arguments (upstream's checks and messages). */
function wantedRefs(args: string[]): CollectionRef[] {
  if (args.length < 2) throw new OstreeError('EINVAL', 'At least one COLLECTION-ID REF pair must be specified');
  if (args.length % 2 !== 0) throw new OstreeError('EINVAL', 'Only complete COLLECTION-ID REF pairs may be specified');
  const out: CollectionRef[] = [];
  for (let i = 0; i < args.length; i += 2) {
    validateCollectionId(args[i]!);
    validateRefName(args[i + 1]!);
    out.push({ collectionId: args[i]!, ref: args[i + 1]! });
  }
  return out;
}

/** Seconds since the epoch as ISO 8601 (`%FT%TZ`). */
function iso8601(secs: bigint): string {
  return new Date(Number(secs) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function printResult(i: number, r: FinderResult): void {
  const refs = collectionRefHashOrder(r.refs).map((x) => `    - ${formatCollectionRef(x)} = ${x.checksum ?? '(not found)'}\n`).join('');
  out(`Result ${i}: ${r.remote.url}\n - Finder: ${r.finder}\n - Keyring: ${r.keyring}\n - Priority: ${r.priority}\n`
    + ` - Summary last modified: ${r.summaryLastModified > 0n ? iso8601(r.summaryLastModified) : 'unknown'}\n - Refs:\n${refs}\n`);
}

async function runFindRemotes(args: string[], o: FindFlags, cmd: Command): Promise<void> {
  if (o.mirror && !o.pull) throw new OstreeError('EINVAL', 'When --mirror is specified, --pull must also be');
  const wanted = wantedRefs(args);
  const finders = o.finders !== undefined ? parseFinders(o.finders) : undefined;
  const repo = await Repo.open(repoPath(cmd));
  if (o.disableFsync) repo.config.set('core', 'fsync', 'false');
  const results = await findRemotes(repo, wanted, finders);
  results.forEach((r, i) => printResult(i, r));
  if (results.length === 0) { out('No results.\n'); return; }
  const key = (c: CollectionRef): string => `${c.collectionId}\0${c.ref}`;
  const found = new Set(results.flatMap((r) => r.refs.filter((x) => x.checksum !== null).map(key)));
  out(`${found.size}/${wanted.length} refs were found.\n`);
  if (found.size !== wanted.length) {
    out('Refs not found in any remote:\n');
    for (const w of wanted) if (!found.has(key(w))) out(` - ${formatCollectionRef(w)}\n`);
  }
  if (!o.pull) return;
  await pullFromResults(repo, results, { mirror: o.mirror === true, disableFsync: o.disableFsync === true });
  out(`Pulled ${wanted.length}/${wanted.length} refs successfully.\n`);
}

export function register(program: Command): void {
  program.command('find-remotes')
    .description('Find remotes to serve the given refs')
    .argument('[collection-id-and-ref...]', 'COLLECTION-ID REF [COLLECTION-ID REF...]')
    .option('--cache-dir <dir>', 'Use custom cache dir')
    .option('--disable-fsync', 'Do not invoke fsync()')
    .option('--finders <finders>', 'Use the specified comma separated list of finders (e.g. config,lan,mount)')
    .option('--pull', 'Pull the updates after finding them')
    .option('--mirror', 'Do a mirror pull (see ostree pull --mirror)')
    .action(runFindRemotes);
}
