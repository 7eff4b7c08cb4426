/**
 * Commit bindings (upstream's _ostree_repo_verify_bindings and fsck --verify-back-refs): a
 * commit names the refs it was made for (`ostree.ref-binding`, a list) and the collection it
 * belongs to (`ostree.collection-binding`). A ref that points at a commit not bound to it, or a
 * collection whose commit is bound to another collection, is a ref moved by someone who should
 * not have (a downgrade or a cross-branch attack). Used by fsck and by pull.
 */
import { OstreeError } from '../errors.js';
import { resolveCollectionRef } from './collections.js';
import type { CommitObject } from './objects/commit.js';
import { resolveRev } from './refs.js';
import type { RemoteRepo } from './remotes.js';
import type { RepoCore } from './store.js';

/** The commit's `ostree.ref-binding` list, or null when it has none. */
export function commitRefBinding(commit: Pick<CommitObject, 'metadata'>): string[] | null {
  const v = commit.metadata.find(([k]) => k === 'ostree.ref-binding')?.[1];
  return v !== undefined && v.type === 'as' ? (v.value as string[]) : null;
}

/** The commit's `ostree.collection-binding`, or null when it has none. */
export function commitCollectionBinding(commit: Pick<CommitObject, 'metadata'>): string | null {
  const v = commit.metadata.find(([k]) => k === 'ostree.collection-binding')?.[1];
  return v !== undefined && v.type === 's' ? (v.value as string) : null;
}

/**
 * Check that `commit` is bound to `refName` (when given and the commit has a ref binding; a
 * binding is required when `collectionId` is given) and to collection `collectionId` (when
 * given). Throws ECORRUPT with upstream's messages.
 */
export function verifyBindings(collectionId: string | null, refName: string | null, commit: Pick<CommitObject, 'metadata'>): void {
  const refs = commitRefBinding(commit);
  if (refs === null) {
    if (collectionId === null) return;
    throw new OstreeError('ECORRUPT', 'Expected commit metadata to have ref binding information, found none');
  }
  if (refName !== null && !refs.includes(refName)) {
    const listed = refs.length > 0 ? refs.map((r) => `‘${r}’`).join(', ') : 'no refs';
    throw new OstreeError('ECORRUPT', `Commit has no requested ref ‘${refName}’ in ref binding metadata (${listed})`);
  }
  if (collectionId === null) return;
  const bound = commitCollectionBinding(commit);
  if (bound === null) throw new OstreeError('ECORRUPT', 'Expected commit metadata to have collection ID binding information, found none');
  if (bound !== collectionId) {
    throw new OstreeError('ECORRUPT', `Commit has collection ID ‘${bound}’ in collection binding metadata, while the remote it came from has collection ID ‘${collectionId}’`);
  }
}

/**
 * fsck --verify-back-refs: every ref the commit `checksum` is bound to exists and points to it
 * (as a collection–ref when the commit has a collection binding).
 */
export function verifyBackRefs(repo: RepoCore & RemoteRepo, checksum: string, commit: Pick<CommitObject, 'metadata'>): void {
  const collectionId = commitCollectionBinding(commit);
  for (const ref of commitRefBinding(commit) ?? []) {
    const at = collectionId !== null ? resolveCollectionRef(repo, { collectionId, ref }) : resolveRev(repo, ref);
    const what = collectionId !== null ? `Collection–ref (${collectionId}, ${ref})` : `Ref ‘${ref}’`;
    if (at === null) throw new OstreeError('ECORRUPT', `${what} in bindings for commit ${checksum} does not exist`);
    if (at !== checksum) throw new OstreeError('ECORRUPT', `${what} in bindings for commit ${checksum} does not resolve to that commit`);
  }
}
