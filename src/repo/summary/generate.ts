/**
 * Writing REPO/summary as upstream's ostree_repo_regenerate_summary does, byte for byte:
 *
 *   refs        local refs in name order (remote refs are never listed); in a repository with a
 *               `core.collection-id`, its own collection's refs instead
 *   extensions  a GVariantDict (so in GLib's hash-table order) of: the caller's additional
 *               metadata, `ostree.static-deltas` (unless `core.no-deltas-in-summary`),
 *               last-modified (now), mode (the config's spelling), tombstone-commits,
 *               indexed-deltas (true), collection-id and the collection map (refs of other
 *               collections: mirrors and remotes with a collection ID)
 *
 * then the delta indexes are rebuilt (which also records `core.indexed-deltas=true` in the
 * config), the summary replaced atomically and any old summary.sig removed (it signed the old
 * bytes). `maybeRegenerateSummary` is the automatic update after ref changes
 * (`core.auto-update-summary`, or its old name `core.commit-update-summary`).
 */
import * as fs from 'node:fs';
import { Variant } from '../../glib/gvariant.js';
import { glibDictOrder } from '../../glib/ghash-order.js';
import { writeFileAtomic } from '../../util/fs.js';
import { summaryPath, summarySigPath } from '../layout.js';
import { parseCommit } from '../objects/commit.js';
import { parseRefspec } from '../refs.js';
import { listRefs } from '../refs-list.js';
import type { RemoteRepo } from '../remotes.js';
import { fsyncEnabled, readMetadataObject, type RepoCore } from '../store.js';
import { listCollectionRefs, repoCollectionId } from '../collections.js';
import { listStaticDeltas, reindexStaticDeltas, staticDeltasVariant } from './delta-index.js';
import { REF_KEYS, SUMMARY_KEYS, beU64, collectionMapVariant, serializeSummary, type SummaryRefEntry } from './format.js';

/** What summary generation needs of a repository (Repo has it). */
export type SummaryRepo = RepoCore & RemoteRepo & { withLock<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> };

/** Latest second GDateTime accepts (9999-12-31T23:59:59Z): later timestamps are left out. */
const MAX_DATETIME_SECS = 253402300799n;

/** The summary entry of `ref` → commit `checksum`: size, checksum, timestamp and version. */
export function summaryRefEntry(repo: RepoCore, ref: string, checksum: string): SummaryRefEntry {
  const data = readMetadataObject(repo, checksum, 'commit');
  const commit = parseCommit(data, `commit ${checksum}`);
  const metadata: Array<[string, Variant]> = [];
  if (commit.timestamp <= MAX_DATETIME_SECS) metadata.push([REF_KEYS.timestamp, beU64(commit.timestamp)]);
  const version = commit.metadata.find(([k]) => k === 'version')?.[1];
  if (version !== undefined && version.type === 's') metadata.push([REF_KEYS.version, version]);
  // both keys go through a GVariantDict upstream
  return { name: ref, size: BigInt(data.length), checksum, metadata: glibDictOrder(metadata) };
}

function byName(a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0; }

/** The main ref list and the collection map (collection → refs, both sorted). */
function summaryRefs(repo: SummaryRepo): { refs: SummaryRefEntry[]; collectionMap: Array<[string, SummaryRefEntry[]]> } {
  const main = repoCollectionId(repo);
  let refs: SummaryRefEntry[] = [];
  if (main === null) {
    for (const [name, csum] of listRefs(repo)) {
      if (parseRefspec(name)[0] !== null) continue; // remote refs are not published
      refs.push(summaryRefEntry(repo, name, csum));
    }
  }
  const byCollection = new Map<string, Map<string, string>>();
  for (const c of listCollectionRefs(repo, undefined, { excludeAliases: true })) {
    let m = byCollection.get(c.collectionId);
    if (!m) byCollection.set(c.collectionId, (m = new Map()));
    m.set(c.ref, c.checksum);
  }
  const collectionMap: Array<[string, SummaryRefEntry[]]> = [];
  for (const id of [...byCollection.keys()].sort(byName)) {
    const m = byCollection.get(id)!;
    const entries = [...m.keys()].sort(byName).map((ref) => summaryRefEntry(repo, ref, m.get(ref)!));
    if (id === main) refs = entries; // the repository's own collection stays in the main list
    else collectionMap.push([id, entries]);
  }
  return { refs, collectionMap };
}

function extensions(repo: SummaryRepo, additional: Array<[string, Variant]>, collectionMap: Array<[string, SummaryRefEntry[]]>): Array<[string, Variant]> {
  const ext: Array<[string, Variant]> = [...additional];
  if (!repo.config.getBoolean('core', 'no-deltas-in-summary', false)) {
    const deltas = listStaticDeltas(repo.path);
    if (deltas.length > 0) ext.push([SUMMARY_KEYS.staticDeltas, staticDeltasVariant(repo.path, deltas)]);
  }
  ext.push([SUMMARY_KEYS.lastModified, beU64(BigInt(Math.floor(Date.now() / 1000)))]);
  ext.push([SUMMARY_KEYS.mode, new Variant('s', repo.config.get('core', 'mode') ?? 'bare')]);
  ext.push([SUMMARY_KEYS.tombstoneCommits, new Variant('b', repo.config.getBoolean('core', 'tombstone-commits', false))]);
  ext.push([SUMMARY_KEYS.indexedDeltas, new Variant('b', true)]);
  const main = repoCollectionId(repo);
  if (main !== null) ext.push([SUMMARY_KEYS.collectionId, new Variant('s', main)]);
  if (collectionMap.length > 0) ext.push([SUMMARY_KEYS.collectionMap, collectionMapVariant(collectionMap)]);
  return glibDictOrder(ext);
}

/** Rebuild the delta indexes, recording `core.indexed-deltas=true` as upstream's reindex does
 *  (also `ostree static-delta reindex`). */
export async function reindex(repo: SummaryRepo, only?: string): Promise<void> {
  if (!repo.config.getBoolean('core', 'indexed-deltas', false)) {
    repo.config.set('core', 'indexed-deltas', 'true');
    await repo.saveConfig();
  }
  reindexStaticDeltas(repo.path, fsyncEnabled(repo), only);
}

/** Build the summary bytes for the repository as it is now (nothing is written). */
export function buildSummary(repo: SummaryRepo, additional: Array<[string, Variant]> = []): Buffer {
  const { refs, collectionMap } = summaryRefs(repo);
  return serializeSummary({ refs, extensions: extensions(repo, additional, collectionMap) });
}

/** `ostree summary -u`: write REPO/summary (and the delta indexes), drop REPO/summary.sig. */
export async function regenerateSummary(repo: SummaryRepo, additional: Array<[string, Variant]> = []): Promise<void> {
  await repo.withLock(false, async () => {
    const data = buildSummary(repo, additional);
    await reindex(repo);
    writeFileAtomic(summaryPath(repo.path), data, { mode: 0o644, sync: fsyncEnabled(repo) });
    fs.rmSync(summarySigPath(repo.path), { force: true });
  });
}

/** After refs changed: regenerate when `core.auto-update-summary` (or the deprecated
 *  `core.commit-update-summary`) is true. */
export async function maybeRegenerateSummary(repo: SummaryRepo): Promise<void> {
  const auto = repo.config.getBoolean('core', 'auto-update-summary', false);
  const onCommit = repo.config.getBoolean('core', 'commit-update-summary', false);
  if (auto || onCommit) await regenerateSummary(repo);
}
