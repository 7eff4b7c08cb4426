/**
 * The interface every repository mode implements (one file per mode beside this one, listed in
 * registry.ts): how a content object is stored from a source file or symlink, how its header is
 * read back, how its data is opened, and the checkout rules that depend on the storage.
 *
 * Writers are synchronous and allocation-light: commit calls them once per file, on worker
 * threads, and they are the hot path of a commit.
 */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { OstreeError } from '../../errors.js';
import { fileKind } from '../../util/fs.js';
import { isSymlinkMode } from '../objects/common.js';
import type { FileHeader } from '../objects/file-header.js';
import type { ModeTraits, RepoMode } from './mode.js';
import type { Sha256 } from '../objects/checksum.js';

/** How commit stores the files of one tree (sent to the commit workers as is: plain data). */
export interface ContentWriteContext {
  repoPath: string;
  mode: RepoMode;
  noXattrs?: boolean;
  /** `--canonical-permissions`: uid/gid 0, mode & 0755, no xattrs (what bare-user-only always does). */
  canonicalPermissions?: boolean;
  ownerUid?: number;
  ownerGid?: number;
  /** `--mode-ro-executables`: executable regular files lose their write bits. */
  roExecutables?: boolean;
}

/** The lstat fields of a source file that go into its header. */
export interface SourceStat { mode: number; uid: number; gid: number }

/** A regular file being stored: `fdIn` is open on the source, `tmp` (not yet existing) receives
 *  the object; the data must be fed to `hash` (already holding the header). */
export interface RegularWrite {
  src: string;
  fdIn: number;
  tmp: string;
  header: FileHeader;
  hash: Sha256;
  /** A scratch buffer for copying, reused across files. */
  buf: Buffer;
}

/** A content object as found in the repository. */
export interface StoredContent {
  header: FileHeader;
  /** Uncompressed content size (0 for symlinks). */
  size: number;
  /** Path of the loose object. */
  objectPath: string;
  /** Where the raw data starts in the object file (archive: the deflate stream). */
  dataOffset: number;
  compressed: boolean;
  /** The mode of the repository it was read from (whose backend opens its data). */
  mode: RepoMode;
}

export interface ModeBackend {
  readonly traits: ModeTraits;
  /** Fill `w.tmp` with the object for a regular file; a promise only when it streams. */
  storeRegular(w: RegularWrite): void | Promise<void>;
  /** Create `tmp` as the object for a symlink to `target` with `header`. */
  storeSymlink(tmp: string, target: string, header: FileHeader): void;
  /** The header of the object at `p` (`objName` names it in errors); ENOENT passes through. */
  readHeader(p: string, objName: string): StoredContent;
  /** The object's uncompressed data, in memory (small objects; bounded). */
  readData(c: StoredContent): Buffer;
  /** A stream of the object's uncompressed data (bounded by the declared size). */
  openData(c: StoredContent): Readable;
  /** Whether a checkout (user mode or not) may hardlink this mode's objects as they are. */
  checkoutLinkable(userMode: boolean): boolean;
}

// ---------------------------------------------------------------------------------------------
// Helpers the backends share

/** Open flags for reading an object: never block on a FIFO, never follow a symlink. */
export const OPEN_OBJECT = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW | 0o2000000 /* O_CLOEXEC */;

/** Open a loose object for reading and make sure it is a regular file (not a FIFO, device,
 *  directory or symlink planted where an object should be). Returns the fd and its stat. */
export function openObjectFile(p: string, objName: string): { fd: number; st: fs.Stats } {
  let fd: number;
  try {
    fd = fs.openSync(p, OPEN_OBJECT);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw notRegular(objName, p, 'a symbolic link');
    throw e;
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw notRegular(objName, p, fileKind(st));
  }
  return { fd, st };
}

/** `<checksum>.file` for the path of a loose content object (objects/XX/YYYY….file[z]). */
export function contentObjName(p: string): string {
  const slash = p.lastIndexOf('/');
  const dir = p.slice(p.lastIndexOf('/', slash - 1) + 1, slash);
  const base = p.slice(slash + 1);
  const dot = base.indexOf('.');
  return `${dir}${dot < 0 ? base : base.slice(0, dot)}.file`;
}

export function notRegular(objName: string, p: string, kind: string): OstreeError {
  return new OstreeError('ECORRUPT', `object ${objName} is ${kind}, not a regular file (${p}); the repository is corrupt: remove it and run 'ostree fsck'`, { path: p });
}

/** fileKind is the bounded reader's (util/fs.ts); re-exported for the backends' messages. */
export { fileKind };

/** Read exactly `size` bytes at `pos` from `fd` (ECORRUPT naming `objName` if the file is short). */
export function readExactly(fd: number, size: number, pos: number, objName: string): Buffer {
  const out = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = fs.readSync(fd, out, got, size - got, pos + got);
    if (n === 0) throw new OstreeError('ECORRUPT', `${objName}: truncated (expected ${size} bytes at offset ${pos}, got ${got})`);
    got += n;
  }
  return out;
}

/** Copy the source into a new `w.tmp` (mode 0600), hashing the data; returns the open fd. */
export function copyToTmp(w: RegularWrite): number {
  const fdOut = fs.openSync(w.tmp, 'wx', 0o600);
  try {
    const buf = w.buf;
    let pos = 0;
    for (;;) {
      const n = fs.readSync(w.fdIn, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      w.hash.update(chunk);
      let off = 0;
      while (off < n) off += fs.writeSync(fdOut, chunk, off, n - off, pos + off);
      pos += n;
    }
    return fdOut;
  } catch (e) {
    fs.closeSync(fdOut);
    throw e;
  }
}

/** A stream with no data (what a symlink object holds). */
export function emptyStream(): Readable {
  return Readable.from([]);
}

/** A stream of an uncompressed object's bytes from `dataOffset`, opened without blocking. */
export function openPlainData(c: StoredContent): Readable {
  if (isSymlinkMode(c.header.mode)) return emptyStream();
  const { fd } = openObjectFile(c.objectPath, contentObjName(c.objectPath));
  return fs.createReadStream('', { fd, start: c.dataOffset, highWaterMark: 256 * 1024 });
}

/** The bytes of an uncompressed object, read whole after checking what the file is. */
export function readPlainData(c: StoredContent): Buffer {
  if (isSymlinkMode(c.header.mode)) return Buffer.alloc(0);
  const objName = contentObjName(c.objectPath);
  const { fd, st } = openObjectFile(c.objectPath, objName);
  try {
    return readExactly(fd, st.size - c.dataOffset, c.dataOffset, objName);
  } finally {
    fs.closeSync(fd);
  }
}

export function bareNeedsRoot(e: unknown): never {
  throw new OstreeError('EPERM', `cannot set file ownership in a 'bare' repository without root privileges (use a bare-user repository, or run as root): ${(e as Error).message}`, { cause: e });
}
