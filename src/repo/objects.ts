/**
 * Compatibility re-exports: the object models live in src/repo/objects/, one file per object
 * type (commit, dirtree, dirmeta, commitmeta, file headers) plus checksums, xattrs and what they
 * share. New code imports from those files directly.
 */
export {
  BE, MAX_METADATA_SIZE, METADATA_TYPES, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  isRegularMode, isSymlinkMode, type ObjectType,
} from './objects/common.js';
export { bytesToChecksum, checksumToBytes, isChecksum, sha256hex, validateChecksum } from './objects/checksum.js';
export { sortXattrs, type Xattr } from './objects/xattrs.js';
export { parseDirMeta, serializeDirMeta, type DirMeta } from './objects/dirmeta.js';
export {
  parseDirTree, serializeDirTree, sortDirTree, validateFilename, type DirTree, type DirTreeDir, type DirTreeFile,
} from './objects/dirtree.js';
export {
  commitContentChecksum, commitMetadataString, commitMetadataValue, parseCommit, serializeCommit, type CommitObject,
} from './objects/commit.js';
export { parseCommitMeta, serializeCommitMeta } from './objects/commitmeta.js';
export {
  BARE_USER_XATTR, parseArchiveHeader, parseBareUserMeta, parseFileHeader, serializeArchiveHeader,
  serializeBareUserMeta, serializeFileHeader, type FileHeader,
} from './objects/file-header.js';
export { Variant } from '../glib/gvariant.js';
