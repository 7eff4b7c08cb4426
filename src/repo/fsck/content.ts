/**
 * fsck's content phase: a content object re-hashes to its name (upstream
 * ostree_repo_fsck_object for files), from what each mode stores: bare, the object file's own
 * metadata and xattrs; bare-user, the user.ostreemeta xattr; bare-user-only, the file mode;
 * archive, the .filez header and its inflated data. This is fsck's own fast path (no stream per
 * object, one reused read buffer) and runs in the worker pool (util/pool.ts) as the job
 * `fsckContentJob` of this module, so it imports nothing the workers do not need.
 *
 * Hostile objects: every open is O_NONBLOCK (a FIFO posing as an object is refused, not waited
 * on), and inflation is archive.ts's (inflateBounded, inflateStream): bounded by the size the
 * header declares and, in memory, by INFLATE_INLINE_MAX, above which the data is streamed
 * through the checksum (a zero bomb costs time, not memory).
 */
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import { constants as osConstants } from 'node:os';
import * as libc from '../../native/libc.js';
import { OstreeError, isErrno } from '../../errors.js';
import { BARE_USER_XATTR, parseArchiveHeader, parseBareUserMeta, serializeFileHeader, type FileHeader } from '../objects/file-header.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, isSymlinkMode } from '../objects/common.js';
import { sha256hex } from '../objects/checksum.js';
import { sortXattrs, type Xattr } from '../objects/xattrs.js';
import { objectPathBuilder, objectsDir } from '../layout.js';
import type { RepoMode } from '../modes/mode.js';
import { inflateBounded, inflateStream } from '../modes/archive.js';

export interface FsckContentContext { repoPath: string; mode: RepoMode }

const OTHER_MODE_BITS = ~(S_IFMT | 0o7777) >>> 0;
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
const O_CLOEXEC = 0o2000000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const ERRNO = osConstants.errno;
/** crypto.hash (Node >= 20.12): one call, no Hash object. */
const oneShotSha256 = (crypto as { hash?: (alg: string, data: Buffer, enc: 'hex') => string }).hash;

/** ostree_validate_structureof_file_mode */
function checkFileMode(mode: number): void {
  const t = mode & S_IFMT;
  if (t !== S_IFREG && t !== S_IFLNK) throw new OstreeError('ECORRUPT', `Invalid file metadata mode ${mode}; not a valid file type`);
  if ((mode & OTHER_MODE_BITS) !== 0) throw new OstreeError('ECORRUPT', `Invalid mode ${mode}; invalid bits in mode`);
}

let readBuf: Buffer | null = null;
const CHUNK = 1024 * 1024;
/** Archive objects up to this size are read whole (most are small). */
const ARCHIVE_INLINE_MAX = 8 * 1024 * 1024;
/** Data inflated in memory up to this declared size (below archive.ts's hard cap); larger is streamed through the hash. */
const INFLATE_INLINE_MAX = 16 * 1024 * 1024;
/** A symlink target is at most PATH_MAX bytes (bare-user stores it as the file's data). */
const SYMLINK_TARGET_MAX = 4096;

function fdXattrs(fd: number): Xattr[] {
  const names = libc.flistxattr(fd);
  if (names.length === 0) return [];
  const out: Xattr[] = [];
  for (const n of names) { const v = libc.fgetxattr(fd, n); if (v !== null) out.push([n, v]); }
  return sortXattrs(out);
}

/**
 * sha256(header ‖ file data) from `fd`. Reads exactly `size` bytes (from fstat) in chunks of up
 * to CHUNK — no extra read to find EOF; a file that is shorter than its stat size throws (it is
 * being modified or is damaged), one that grew since fstat hashes as its stat size (it was not
 * the object anyway).
 */
function hashFd(fd: number, headerBytes: Buffer, size: number): string {
  const buf = (readBuf ??= Buffer.allocUnsafe(CHUNK));
  const whole = headerBytes.length + size;
  if (whole <= buf.length && oneShotSha256 !== undefined) {
    // Most objects: header and data side by side in the buffer, one call to hash them (a Hash
    // object costs more than hashing a small file).
    headerBytes.copy(buf, 0);
    for (let at = headerBytes.length; at < whole;) {
      const n = fs.readSync(fd, buf, at, whole - at, null);
      if (n === 0) throw new OstreeError('ECORRUPT', `file object shrank while being read (${at - headerBytes.length} of ${size} bytes)`);
      at += n;
    }
    return oneShotSha256('sha256', buf.subarray(0, whole), 'hex');
  }
  const h = crypto.createHash('sha256').update(headerBytes);
  let left = size;
  while (left > 0) {
    const n = fs.readSync(fd, buf, 0, Math.min(left, buf.length), null);
    if (n === 0) throw new OstreeError('ECORRUPT', `file object shrank while being read (${size - left} of ${size} bytes)`);
    h.update(n === buf.length ? buf : buf.subarray(0, n));
    left -= n;
  }
  return h.digest('hex');
}

function compare(expected: string, actual: string): void {
  if (expected !== actual) throw new OstreeError('ECORRUPT', `Corrupted file object; checksum expected='${expected}' actual='${actual}'`);
}

function missing(checksum: string): OstreeError {
  return new OstreeError('ENOENT', `Object missing: ${checksum}.file`);
}

function notAFile(objName: string, mode: number, what: string): OstreeError {
  const t = mode & S_IFMT;
  const kind = t === S_IFIFO ? 'a FIFO' : t === S_IFDIR ? 'a directory' : t === S_IFSOCK ? 'a socket' : 'a device node';
  return new OstreeError('ECORRUPT', `${objName}: is ${kind}, not ${what}`);
}

/** Open a loose object for reading; ENOENT as a missing object, a socket as corrupt. */
function openObject(p: string, checksum: string): number {
  try {
    return fs.openSync(p, OPEN_FLAGS);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw missing(checksum);
    if (isErrno(e, 'ENXIO')) throw new OstreeError('ECORRUPT', `${checksum}.file: is a socket, not a regular file`);
    throw e;
  }
}

/** This thread's handle on the repository being checked: its objects directory, open once. */
interface ObjectsDir { ctx: FsckContentContext; fd: number; base: string; path: (checksum: string) => string }
let objects: ObjectsDir | null = null;

/** The objects directory of `ctx` (the previous check's is closed: one stays open per thread). */
function objectsFor(ctx: FsckContentContext): ObjectsDir {
  if (objects?.ctx === ctx) return objects;
  if (objects !== null && objects.fd >= 0) fs.closeSync(objects.fd);
  objects = null;
  const base = objectsDir(ctx.repoPath);
  const fd = ctx.mode === 'archive' ? -1 : fs.openSync(base, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_CLOEXEC);
  objects = { ctx, fd, base, path: objectPathBuilder(ctx.repoPath, 'file', ctx.mode) };
  return objects;
}

const st: libc.LstatFields = { mode: 0, uid: 0, gid: 0, size: 0 };

/**
 * Verify one content object of a repository; throws OstreeError ENOENT when it is missing,
 * ECORRUPT when it does not hash to its name or is malformed.
 */
export function fsckContentObject(ctx: FsckContentContext, checksum: string): void | Promise<void> {
  const { mode } = ctx;
  const d = objectsFor(ctx);
  if (mode === 'archive') return fsckArchive(d.path(checksum), checksum, `${checksum}.file`);
  // Opened relative to the objects directory: two names for the kernel to resolve, not the
  // whole path; a failure is a number here, not an exception (symlink objects fail with ELOOP).
  const fd = libc.openAt(d.fd, `${checksum.slice(0, 2)}/${checksum.slice(2)}.file`, OPEN_FLAGS | O_CLOEXEC);
  if (fd < 0) {
    if (fd === -ERRNO.ELOOP) { fsckSymlinkObject(d.path(checksum), checksum, `${checksum}.file`, mode); return; }
    if (fd === -ERRNO.ENOENT) throw missing(checksum);
    // Anything else as the plain open reports it (the object may also have changed meanwhile).
    fs.closeSync(openObject(d.path(checksum), checksum));
    throw new OstreeError('EIO', `${checksum}.file: cannot be opened (errno ${-fd})`);
  }
  try {
    fsckOpenObject(fd, checksum, mode);
  } finally {
    libc.closeFd(fd);
  }
}

/** fsckContentObject of a bare, bare-user or bare-user-only object open as `fd`. */
function fsckOpenObject(fd: number, checksum: string, mode: RepoMode): void {
  libc.fstatInto(fd, st);
  if ((st.mode & S_IFMT) !== S_IFREG) throw notAFile(`${checksum}.file`, st.mode, 'a regular file or symlink');
  let header: FileHeader;
  if (mode === 'bare') {
    header = { uid: st.uid, gid: st.gid, mode: st.mode, rdev: 0, symlinkTarget: '', xattrs: fdXattrs(fd) };
  } else if (mode === 'bare-user-only') {
    header = { uid: 0, gid: 0, mode: st.mode, rdev: 0, symlinkTarget: '', xattrs: [] };
  } else {
    const objName = `${checksum}.file`;
    const raw = libc.fgetxattr(fd, BARE_USER_XATTR);
    if (raw === null) throw new OstreeError('ECORRUPT', `${objName}: missing ${BARE_USER_XATTR} xattr`);
    const m = parseBareUserMeta(raw, objName);
    header = { uid: m.uid, gid: m.gid, mode: m.mode, rdev: 0, symlinkTarget: '', xattrs: m.xattrs };
    if (isSymlinkMode(m.mode)) {
      // bare-user stores a symlink as a regular file holding the target.
      if (st.size > SYMLINK_TARGET_MAX + 1) throw new OstreeError('ECORRUPT', `${objName}: symlink target of ${st.size} bytes (more than ${SYMLINK_TARGET_MAX})`);
      let t = fs.readFileSync(fd);
      if (t.length > 0 && t[t.length - 1] === 0) t = t.subarray(0, -1);
      header.symlinkTarget = t.toString('utf8');
      checkFileMode(header.mode);
      compare(checksum, sha256hex(serializeFileHeader(header)));
      return;
    }
  }
  checkFileMode(header.mode);
  compare(checksum, hashFd(fd, serializeFileHeader(header), st.size));
}

/** A symlink object (bare, bare-user-only): its target and link metadata are the object. */
function fsckSymlinkObject(p: string, checksum: string, objName: string, mode: RepoMode): void {
  if (mode === 'bare-user') throw new OstreeError('ECORRUPT', `${objName}: is a symlink, bare-user objects are regular files`);
  const st = fs.lstatSync(p);
  const header: FileHeader = {
    uid: mode === 'bare' ? st.uid : 0, gid: mode === 'bare' ? st.gid : 0, mode: st.mode, rdev: 0,
    symlinkTarget: fs.readlinkSync(p), xattrs: mode === 'bare' ? sortXattrs(libc.lgetxattrs(p)) : [],
  };
  checkFileMode(header.mode);
  compare(checksum, sha256hex(serializeFileHeader(header)));
}

interface ArchiveParts { header: FileHeader; size: number; dataOffset: number; body: Buffer | null }

/** Read an archive object's header (and, when small, its whole compressed body). */
function readArchive(p: string, checksum: string, objName: string): ArchiveParts {
  const fd = openObject(p, checksum);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw notAFile(objName, st.mode, 'a regular file');
    if (st.size < 8) throw new OstreeError('ECORRUPT', `${objName}: truncated archive object (${st.size} bytes)`);
    if (st.size <= ARCHIVE_INLINE_MAX) {
      const all = Buffer.allocUnsafe(st.size);
      let got = 0;
      while (got < st.size) { const n = fs.readSync(fd, all, got, st.size - got, got); if (n === 0) break; got += n; }
      const parsed = parseArchiveHeader(all.subarray(0, got), objName);
      return { header: parsed.header, size: Number(parsed.size), dataOffset: parsed.headerLength, body: all.subarray(parsed.headerLength, got) };
    }
    const head = Buffer.alloc(8);
    fs.readSync(fd, head, 0, 8, 0);
    const len = head.readUInt32BE(0);
    if (len > 16 * 1024 * 1024 || 8 + len > st.size) throw new OstreeError('ECORRUPT', `${objName}: invalid archive header length ${len}`);
    const hb = Buffer.alloc(8 + len);
    fs.readSync(fd, hb, 0, 8 + len, 0);
    const parsed = parseArchiveHeader(hb, objName);
    return { header: parsed.header, size: Number(parsed.size), dataOffset: parsed.headerLength, body: null };
  } finally {
    fs.closeSync(fd);
  }
}

function fsckArchive(p: string, checksum: string, objName: string): void | Promise<void> {
  const { header, size, dataOffset, body } = readArchive(p, checksum, objName);
  checkFileMode(header.mode);
  const hdr = serializeFileHeader(header);
  if (isSymlinkMode(header.mode)) { compare(checksum, sha256hex(hdr)); return; }
  if (body !== null && size <= INFLATE_INLINE_MAX) {
    compare(checksum, crypto.createHash('sha256').update(hdr).update(inflateBounded(body, size, objName)).digest('hex'));
    return;
  }
  return hashInflated(p, dataOffset, hdr, size, checksum, objName);
}

/** Stream the object's deflate data through the checksum (inflateStream stops it past `size`). */
async function hashInflated(p: string, dataOffset: number, hdr: Buffer, size: number, checksum: string, objName: string): Promise<void> {
  const h = crypto.createHash('sha256').update(hdr);
  const raw = fs.createReadStream(p, { fd: openObject(p, checksum), start: dataOffset, highWaterMark: CHUNK });
  const data = inflateStream(raw, size, objName);
  try {
    for await (const c of data) h.update(c as Buffer);
  } finally {
    data.destroy();
    raw.destroy();
  }
  compare(checksum, h.digest('hex'));
}

/** The pool job (util/pool.ts): verify one content object, counting it. */
export function fsckContentJob(ctx: FsckContentContext, checksum: string, acc: { checked: number }): void | Promise<void> {
  acc.checked++;
  return fsckContentObject(ctx, checksum);
}
