/**
 * The `ostree-metadata` ref of a repository with a collection ID: on every `summary -u`
 * upstream also commits the summary's additional metadata as a commit of an empty tree (root
 * owned by 0:0, mode 0755), bound to the repository's collection and to the `ostree-metadata`
 * ref, with the previous metadata commit as parent. Clients that find repositories by
 * collection read the metadata from there instead of the unsigned summary.
 */
import { Variant } from '../../glib/gvariant.js';
import { glibDictOrder } from '../../glib/ghash-order.js';
import { writeCommit } from '../commit/commit.js';
import { S_IFDIR } from '../objects/common.js';
import { serializeDirMeta } from '../objects/dirmeta.js';
import { serializeDirTree } from '../objects/dirtree.js';
import { readRef, setRef } from '../refs.js';
import { writeMetadataObject, type RepoCore } from '../store.js';

/** The ref upstream names OSTREE_REPO_METADATA_REF. */
export const METADATA_REF = 'ostree-metadata';

/** The metadata commit's metadata: the additional keys and both bindings, through a
 *  GVariantDict as upstream builds it. */
function metadataCommitMetadata(collectionId: string, additional: Array<[string, Variant]>): Array<[string, Variant]> {
  return glibDictOrder([
    ...additional,
    ['ostree.collection-binding', new Variant('s', collectionId)],
    ['ostree.ref-binding', new Variant('as', [METADATA_REF])],
  ]);
}

/**
 * Commit `additional` as the next `ostree-metadata` commit of collection `collectionId` and
 * point the ref at it. `sign` (the `--gpg-sign`/`--sign` keys) signs the commit before the ref
 * moves. Returns the new commit's checksum. The caller holds the repository lock.
 */
export async function writeMetadataCommit(
  repo: RepoCore, collectionId: string, additional: Array<[string, Variant]>,
  sign?: (checksum: string) => Promise<void> | void,
): Promise<string> {
  const rootMeta = writeMetadataObject(repo, 'dirmeta', serializeDirMeta({ uid: 0, gid: 0, mode: S_IFDIR | 0o755, xattrs: [] }));
  const rootTree = writeMetadataObject(repo, 'dirtree', serializeDirTree({ files: [], dirs: [] }));
  const parent = readRef(repo, null, METADATA_REF);
  const checksum = await writeCommit(repo, rootTree, rootMeta, {
    parent, subject: '', body: '', metadata: metadataCommitMetadata(collectionId, additional), bindings: false,
  });
  if (sign) await sign(checksum);
  await setRef(repo, METADATA_REF, checksum);
  return checksum;
}
