/**
 * The refs of a repository that carry a collection ID, as the summary lists them (upstream's
 * ostree_repo_list_collection_refs): refs/heads under the repository's own `core.collection-id`,
 * refs/mirrors/COLLECTION/REF, and refs/remotes/REMOTE/REF for remotes configured with a valid
 * `collection-id`. Refs without a collection ID are not listed. Symlinked refs (aliases) are
 * left out, as upstream does unless asked for them.
 */
import { readRefFile, listRefFiles } from '../refs.js';
import { listRemotes, type RemoteRepo } from '../remotes.js';
import type { RepoCore } from '../store.js';

/** One collection-qualified ref. */
export interface CollectionRef { collection: string; ref: string; checksum: string }

// D-Bus interface name rules (upstream validates collection IDs with g_dbus_is_interface_name).
const COLLECTION_ID = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

export function isValidCollectionId(id: string): boolean {
  return id.length <= 255 && COLLECTION_ID.test(id);
}

/** The repository's own collection ID (`core.collection-id`), or null. */
export function repoCollectionId(repo: RepoCore): string | null {
  const id = repo.config.get('core', 'collection-id');
  return id === undefined || id === '' ? null : id;
}

/** Remote name → its valid collection ID (remotes without one are absent). */
function remoteCollectionIds(repo: RepoCore & RemoteRepo): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of listRemotes(repo)) {
    const id = r.options.get('collection-id');
    if (id !== undefined && isValidCollectionId(id)) out.set(r.name, id);
  }
  return out;
}

/** Every ref with a collection ID, in directory order (heads, mirrors, remotes). */
export function listCollectionRefs(repo: RepoCore & RemoteRepo): CollectionRef[] {
  const main = repoCollectionId(repo);
  const remotes = remoteCollectionIds(repo);
  const heads: CollectionRef[] = [];
  const others: CollectionRef[] = [];
  for (const e of listRefFiles(repo, { mirrors: true })) {
    if (e.type !== 'file') continue;
    let collection: string | undefined;
    let ref = e.name;
    if (e.collection !== undefined) collection = e.collection;
    else {
      const colon = e.name.indexOf(':');
      if (colon < 0) collection = main ?? undefined;
      else { collection = remotes.get(e.name.slice(0, colon)); ref = e.name.slice(colon + 1); }
    }
    if (collection === undefined) continue;
    const checksum = readRefFile(e.file, e.name);
    if (checksum === null) continue;
    (e.collection === undefined && !e.name.includes(':') ? heads : others).push({ collection, ref, checksum });
  }
  return [...heads, ...others];
}
