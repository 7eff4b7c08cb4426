/**
 * Reading what a pull takes from a repository on this machine (pull-local, `file://` remotes,
 * a download staged under REPO/tmp): every file is opened without following symlinks and
 * without blocking, must be a regular file (a FIFO posing as an object is refused instead of
 * hanging the pull), and metadata is bounded in size before it is read whole.
 */
import * as fs from 'node:fs';
import { OstreeError, isErrno } from '../../errors.js';
import { objectPath } from '../layout.js';
import { readContentHeaderSync, type StoredContent } from '../content.js';
import { modeTraits, type RepoMode } from '../modes/mode.js';
import type { ObjectType } from '../objects/common.js';
import { METADATA_MAX_SIZE } from './limits.js';

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW;

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device node';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** ECORRUPT for `what` at `p` being something other than a regular file. */
export function notRegular(what: string, p: string, st: fs.Stats): OstreeError {
  return new OstreeError('ECORRUPT', `${what} (${p}) is ${kindOf(st)}, not a regular file; remove it or repair the repository`, { path: p });
}

/**
 * The whole of a regular file of at most `max` bytes, or null when it does not exist. Refuses
 * special files and symlinks (ECORRUPT) and oversized files (ECORRUPT, before reading them).
 */
export function readBoundedFile(p: string, max: number, what: string): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(p, OPEN_FLAGS);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    if (isErrno(e, 'ELOOP')) throw notRegular(what, p, fs.lstatSync(p));
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw notRegular(what, p, st);
    if (st.size > max) throw new OstreeError('ECORRUPT', `${what} (${p}) is ${st.size} bytes, exceeding maximum ${max}`, { path: p });
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = fs.readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break; // shrank while being read
      off += n;
    }
    return off === st.size ? buf : buf.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}

/** A metadata object of a source repository, checked to be a bounded regular file. */
export function readSourceMetadata(repoPath: string, mode: RepoMode, checksum: string, type: ObjectType): Buffer {
  const p = objectPath(repoPath, checksum, type, mode);
  const data = readBoundedFile(p, METADATA_MAX_SIZE, `Metadata object ${checksum}.${type}`);
  if (data === null) throw new OstreeError('ENOENT', `Object missing in source repository ${repoPath}: ${checksum}.${type}`, { path: p });
  return data;
}

/** Like readSourceMetadata, null when the object is absent. */
export function readSourceMetadataOptional(repoPath: string, mode: RepoMode, checksum: string, type: ObjectType): Buffer | null {
  return readBoundedFile(objectPath(repoPath, checksum, type, mode), METADATA_MAX_SIZE, `Metadata object ${checksum}.${type}`);
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
