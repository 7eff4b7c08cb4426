/**
 * Collection IDs and collection–refs (upstream's OstreeCollectionRef): a ref is globally named
 * by (collection ID, ref name). Where a repository keeps them:
 *
 *   refs/heads/REF                 the repository's own collection (`core.collection-id`)
 *   refs/mirrors/COLLECTION/REF    refs of other collections (mirrored; `refs --collections
 *                                  --create=COLLECTION:REF`, `pull --mirror` from a remote
 *                                  with a collection ID)
 *   refs/remotes/REMOTE/REF        refs of a remote whose config has `collection-id=`
 *
 * The ref files themselves are refs.ts's; this module only says which directory holds which
 * collection, as ostree_repo_list_collection_refs and _ostree_repo_write_ref do.
 */
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { gStrHash, glibHashTableOrder } from '../glib/ghash-order.js';
import { refsDir } from './layout.js';
import { readRefFile, validateRefName, writeRefAt } from './refs.js';
import { listDir, walkRefs } from './refs-list.js';
import { listRemotes, type RemoteRepo } from './remotes.js';
import type { RepoCore } from './store.js';

export interface CollectionRef { collectionId: string; ref: string }
export interface CollectionRefTarget extends CollectionRef { checksum: string }

type CollectionRepo = RepoCore & RemoteRepo;

const ELEMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `id` is a collection ID: a reverse-DNS name as a D-Bus interface name (at least two
 *  elements of [A-Za-z_][A-Za-z0-9_]*, at most 255 characters). */
export function isCollectionId(id: string): boolean {
  if (id.length === 0 || id.length > 255) return false;
  const parts = id.split('.');
  return parts.length >= 2 && parts.every((p) => ELEMENT.test(p));
}

/** Upstream's ostree_validate_collection_id (and its message). */
export function validateCollectionId(id: string): void {
  if (!isCollectionId(id)) {
    throw new OstreeError('EINVAL', `Invalid collection ID ${id} (a reverse-DNS name such as org.example.Os: at least two elements of letters, digits and '_', not starting with a digit)`);
  }
}

/** The repository's own collection ID (`core.collection-id`), or null. ECONFIG when invalid. */
export function repoCollectionId(repo: Pick<RepoCore, 'config' | 'path'>): string | null {
  const id = repo.config.get('core', 'collection-id');
  if (id === undefined || id === '') return null;
  if (!isCollectionId(id)) throw new OstreeError('ECONFIG', `${repo.path}/config: invalid core.collection-id '${id}' (fix it with 'ostree config set core.collection-id ID')`);
  return id;
}

/** The collection ID configured for remote `name` (`collection-id=`), or null when none or invalid. */
export function remoteCollectionId(repo: RemoteRepo, name: string): string | null {
  const id = listRemotes(repo).find((r) => r.name === name)?.options.get('collection-id');
  return id !== undefined && isCollectionId(id) ? id : null;
}

export interface ListCollectionRefsOptions {
  /** Leave out refs/remotes (OSTREE_REPO_LIST_REFS_EXT_EXCLUDE_REMOTES). */
  excludeRemotes?: boolean;
  /** Leave out refs/mirrors (OSTREE_REPO_LIST_REFS_EXT_EXCLUDE_MIRRORS). */
  excludeMirrors?: boolean;
  /** Leave out symlinked refs (aliases), as the summary does (no OSTREE_REPO_LIST_REFS_EXT_ALIASES). */
  excludeAliases?: boolean;
}

/**
 * Every collection–ref of the repository (only those of collection `match` when given), in the
 * order upstream inserts them: the repository's own refs, then refs/mirrors, then the refs of
 * remotes that have a collection ID (remotes without one are not collection–refs).
 */
export function listCollectionRefs(repo: CollectionRepo, match?: string, options: ListCollectionRefsOptions = {}): CollectionRefTarget[] {
  if (match !== undefined) validateCollectionId(match);
  const out: CollectionRefTarget[] = [];
  const walk = (dir: string, collectionId: string): void => walkRefs(dir, false, (ref, file, type) => {
    if (type === 'other' || (type === 'symlink' && options.excludeAliases)) return;
    const checksum = readRefFile(file, `(${collectionId}, ${ref})`);
    if (checksum !== null) out.push({ collectionId, ref, checksum });
  });
  const own = repoCollectionId(repo);
  if (own !== null && (match === undefined || match === own)) walk(refsDir(repo.path, 'heads'), own);
  if (!options.excludeMirrors) {
    for (const e of listDir(refsDir(repo.path, 'mirrors'), false)) {
      if (e.isDirectory() && (match === undefined || match === e.name)) walk(path.join(refsDir(repo.path, 'mirrors'), e.name), e.name);
    }
  }
  if (!options.excludeRemotes) {
    for (const e of listDir(refsDir(repo.path, 'remotes'), false)) {
      if (!e.isDirectory()) continue;
      const id = remoteCollectionId(repo, e.name);
      if (id !== null && (match === undefined || match === id)) walk(path.join(refsDir(repo.path, 'remotes'), e.name), id);
    }
  }
  return out;
}

/** The checksum collection–ref (collectionId, ref) points to in this repository, or null. */
export function resolveCollectionRef(repo: CollectionRepo, cref: CollectionRef, options: ListCollectionRefsOptions = {}): string | null {
  return listCollectionRefs(repo, cref.collectionId, options).find((r) => r.ref === cref.ref)?.checksum ?? null;
}

/** The refs directory for collection `collectionId`: refs/heads for the repository's own. */
function collectionDir(repo: CollectionRepo, collectionId: string): string {
  return collectionId === repoCollectionId(repo) ? refsDir(repo.path, 'heads') : path.join(refsDir(repo.path, 'mirrors'), collectionId);
}

/** Create/update (checksum) or delete (null) collection–ref (collectionId, ref), as
 *  ostree_repo_set_collection_ref_immediate. */
export async function setCollectionRef(repo: CollectionRepo, cref: CollectionRef, checksum: string | null): Promise<void> {
  validateCollectionId(cref.collectionId);
  validateRefName(cref.ref);
  await writeRefAt(repo, collectionDir(repo, cref.collectionId), cref.ref, checksum, `${cref.collectionId}:${cref.ref}`);
}

/** `(COLLECTION, REF)`, as upstream prints a collection–ref. */
export function formatCollectionRef(c: CollectionRef): string { return `(${c.collectionId}, ${c.ref})`; }

/** `refs` in the order upstream's GHashTable of collection–refs iterates them (hash: the XOR of
 *  the two names' g_str_hash). */
export function collectionRefHashOrder<T extends CollectionRef>(refs: T[]): T[] {
  const byKey = new Map<string, T>();
  for (const r of refs) byKey.set(`${r.collectionId}\0${r.ref}`, r);
  const hash = (k: string): number => { const i = k.indexOf('\0'); return (gStrHash(k.slice(0, i)) ^ gStrHash(k.slice(i + 1))) >>> 0; };
  return glibHashTableOrder([...byKey.keys()], hash).map((k) => byKey.get(k)!);
}
