/**
 * Content objects a pull takes from a repository on this machine (pull-local, `file://`
 * remotes): each must be a regular file (or a symlink where the mode stores symlinks as such),
 * so a FIFO posing as an object is refused instead of hanging the pull. Metadata objects are
 * read through store.ts (readMetadataObject), bounded and without blocking, like every reader's.
 */
import * as fs from 'node:fs';
import { OstreeError, isErrno } from '../../errors.js';
import { objectPath } from '../layout.js';
import { readContentHeaderSync, type StoredContent } from '../content.js';
import { modeTraits, type RepoMode } from '../modes/mode.js';
import { fileKind } from '../../util/fs.js';

/** ECORRUPT for `what` at `p` being something other than a regular file. */
export function notRegular(what: string, p: string, st: fs.Stats): OstreeError {
  return new OstreeError('ECORRUPT', `${what} (${p}) is ${fileKind(st)}, not a regular file; remove it or repair the repository`, { path: p });
}

export interface SourceObject {
  header: StoredContent['header'];
  /** Uncompressed size of the data (0 for symlinks); for archive objects, what the header declares. */
  size: number;
  path: string;
  /** Size of the object file (compressed, header included, for archive objects). */
  fileSize: number;
  dataOffset: number;
  compressed: boolean;
}

/**
 * A content object's header from a repository of any mode (ENOENT OstreeError if missing). The
 * object must be a regular file, or a symlink in the modes that store symlinks as such.
 */
export function readSourceObject(repoPath: string, mode: RepoMode, checksum: string): SourceObject {
  const p = objectPath(repoPath, checksum, 'file', mode);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch (e) {
    // Name the source repository: the object is missing there, not in the destination.
    if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `Object missing: ${checksum}.file (in ${repoPath})`, { path: p });
    throw e;
  }
  checkContentFileType(st, mode, checksum, p);
  const { objectPath: stored, ...rest } = readContentHeaderSync(repoPath, mode, checksum);
  return { ...rest, path: stored, fileSize: st.size };
}

/** A stored content object is a regular file, or a symlink where the mode keeps symlinks as such. */
export function checkContentFileType(st: fs.Stats, mode: RepoMode, checksum: string, p: string): void {
  if (st.isFile()) return;
  const t = modeTraits(mode);
  if (st.isSymbolicLink() && !t.compressed && !t.metaInXattr) return; // symlink objects are symlinks there
  throw notRegular(`Content object ${checksum}.file`, p, st);
}
