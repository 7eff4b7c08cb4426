/**
 * Content (file) objects on disk, per repo mode: writing one from a source path (synchronous,
 * used by the commit workers so each file costs only a handful of cheap syscalls), and reading
 * one back (header + data).
 *
 * Every object is first written under REPO/tmp and then linked to its final name, so a final
 * name never holds a partial object.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { Readable } from 'node:stream';
import * as libc from '../native/libc.js';
import { OstreeError, isErrno } from '../errors.js';
import {
  BARE_USER_XATTR, S_IFLNK, S_IFMT, S_IFREG, isSymlinkMode, parseArchiveHeader, parseBareUserMeta,
  serializeArchiveHeader, serializeBareUserMeta, serializeFileHeader, sortXattrs,
  type FileHeader, type Xattr,
} from './objects.js';

import { loosePath, stagingName } from './layout.js';
import type { RepoMode } from './modes/mode.js';

export type { RepoMode };
export { forgetStagingDirs, loosePath, stagingName, tmpName } from './layout.js';

export interface ContentWriteContext {
  repoPath: string;
  mode: RepoMode;
  noXattrs?: boolean;
  /** `--canonical-permissions`: uid/gid 0, mode & 0755, no xattrs (what bare-user-only always does). */
  canonicalPermissions?: boolean;
  ownerUid?: number;
  ownerGid?: number;
}

export interface SourceStat { mode: number; uid: number; gid: number }

const CHUNK = 256 * 1024;
/** Archive-mode files up to this size are compressed in one call; larger ones are streamed. */
const ARCHIVE_INLINE_MAX = 4 * 1024 * 1024;

/**
 * Move a fully written `tmp` to the object's final name, keeping an existing object (content
 * addressed: same name, same content), and consume `tmp` either way.
 */
export function linkIntoPlace(tmp: string, final: string): void {
  if (fs.lstatSync(final, { throwIfNoEntry: false })) { fs.unlinkSync(tmp); return; }
  try {
    fs.renameSync(tmp, final);
  } catch (e) {
    if (!isErrno(e, 'ENOENT') || !fs.lstatSync(tmp, { throwIfNoEntry: false })) throw e;
    fs.mkdirSync(path.dirname(final), { recursive: true, mode: 0o755 });
    fs.renameSync(tmp, final);
  }
}

/** The canonical header for a source file, after the repo mode's and the caller's rules. */
export function headerFor(ctx: ContentWriteContext, src: string, st: SourceStat, symlinkTarget: string): FileHeader {
  let uid = ctx.ownerUid ?? st.uid;
  let gid = ctx.ownerGid ?? st.gid;
  let mode = st.mode;
  let xattrs: Xattr[] = [];
  if (ctx.mode === 'bare-user-only' || ctx.canonicalPermissions) {
    uid = 0; gid = 0;
    if ((mode & S_IFMT) === S_IFREG) mode = (mode & (S_IFMT | 0o755)); // as upstream: drop suid/sgid/sticky, group/other write
  } else if (!ctx.noXattrs) {
    xattrs = sortXattrs(libc.lgetxattrs(src).filter(([n]) => n !== BARE_USER_XATTR));
  }
  return { uid, gid, mode, rdev: 0, symlinkTarget, xattrs };
}

function bareNeedsRoot(e: unknown): never {
  throw new OstreeError('EPERM', `cannot set file ownership in a 'bare' repository without root privileges (use a bare-user repository, or run as root): ${(e as Error).message}`, { cause: e });
}

function copyLoop(fdIn: number, fdOut: number, hash: Hash, buf: Buffer, outPos: number): number {
  let total = 0;
  for (;;) {
    const n = fs.readSync(fdIn, buf, 0, buf.length, null);
    if (n === 0) break;
    const chunk = buf.subarray(0, n);
    hash.update(chunk);
    let off = 0;
    while (off < n) off += fs.writeSync(fdOut, chunk, off, n - off, outPos + total + off);
    total += n;
  }
  return total;
}

let sharedBuf: Buffer | null = null;

/**
 * Write the content object for `src` (a regular file or symlink with the given lstat fields)
 * and return its checksum. Synchronous, except archive-mode files larger than 4 MiB.
 */
export function writeContentSync(ctx: ContentWriteContext, src: string, st: SourceStat): string | Promise<string> {
  const ft = st.mode & S_IFMT;
  if (ft === S_IFLNK) return writeSymlinkSync(ctx, src, st);
  if (ft !== S_IFREG) throw new OstreeError('EINVAL', `unsupported file type 0${(st.mode & S_IFMT).toString(8)} at '${src}' (only regular files, symlinks and directories can be committed)`);
  const header = headerFor(ctx, src, st, '');
  const hash = createHash('sha256');
  hash.update(serializeFileHeader(header));
  const buf = (sharedBuf ??= Buffer.allocUnsafe(CHUNK));
  const fdIn = fs.openSync(src, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  const tmp = stagingName(ctx.repoPath);
  let fdOut = -1;
  let handedOff = false;
  try {
    if (ctx.mode === 'archive') {
      const size = fs.fstatSync(fdIn).size;
      if (size > ARCHIVE_INLINE_MAX) {
        handedOff = true;
        return writeArchiveStreaming(ctx, fdIn, tmp, header, hash, size).finally(() => fs.closeSync(fdIn));
      }
      const data = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) { const n = fs.readSync(fdIn, data, got, size - got, null); if (n === 0) break; got += n; }
      if (got !== size || fs.readSync(fdIn, buf, 0, 1, null) !== 0) throw new OstreeError('EIO', `file '${src}' changed size while being committed`);
      hash.update(data);
      const hdr = serializeArchiveHeader(header, BigInt(size));
      const z = zlib.deflateRawSync(data);
      fdOut = fs.openSync(tmp, 'wx', 0o644);
      fs.writeSync(fdOut, hdr);
      fs.writeSync(fdOut, z);
      fs.fchmodSync(fdOut, 0o644);
    } else {
      fdOut = fs.openSync(tmp, 'wx', 0o600);
      copyLoop(fdIn, fdOut, hash, buf, 0);
      if (ctx.mode === 'bare') {
        try { fs.fchownSync(fdOut, header.uid, header.gid); } catch (e) { bareNeedsRoot(e); }
        fs.fchmodSync(fdOut, header.mode & 0o7777);
        for (const [n, v] of header.xattrs) libc.lsetxattr(tmp, n, v);
      } else if (ctx.mode === 'bare-user') {
        fs.fchmodSync(fdOut, (header.mode & 0o775) | 0o400);
        libc.lsetxattr(tmp, BARE_USER_XATTR, serializeBareUserMeta(header));
      } else {
        fs.fchmodSync(fdOut, header.mode & 0o755);
      }
      fs.futimesSync(fdOut, 0, 0);
    }
    fs.closeSync(fdOut);
    fdOut = -1;
    const checksum = hash.digest('hex');
    linkIntoPlace(tmp, loosePath(ctx.repoPath, checksum, ctx.mode === 'archive' ? 'filez' : 'file'));
    return checksum;
  } catch (e) {
    if (fdOut >= 0) fs.closeSync(fdOut);
    try { fs.unlinkSync(tmp); } catch { /* not created */ }
    throw e;
  } finally {
    if (!handedOff) fs.closeSync(fdIn);
  }
}

async function writeArchiveStreaming(ctx: ContentWriteContext, fdIn: number, tmp: string, header: FileHeader, hash: Hash, size: number): Promise<string> {
  const hdr = serializeArchiveHeader(header, BigInt(size));
  const out = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  const deflate = zlib.createDeflateRaw();
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    deflate.on('error', reject);
  });
  out.write(hdr);
  deflate.pipe(out);
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let total = 0;
  try {
    for (;;) {
      const n = await new Promise<number>((res, rej) => fs.read(fdIn, buf, 0, buf.length, null, (err, n) => (err ? rej(err) : res(n))));
      if (n === 0) break;
      const chunk = Buffer.from(buf.subarray(0, n));
      hash.update(chunk);
      total += n;
      if (!deflate.write(chunk)) await new Promise((r) => deflate.once('drain', r));
    }
    deflate.end();
    await done;
    if (total !== size) throw new OstreeError('EIO', `a file changed size while being committed (expected ${size} bytes, read ${total})`);
    const checksum = hash.digest('hex');
    linkIntoPlace(tmp, loosePath(ctx.repoPath, checksum, 'filez'));
    return checksum;
  } catch (e) {
    out.destroy();
    try { fs.unlinkSync(tmp); } catch { /* ignore */ }
    throw e;
  }
}

function writeSymlinkSync(ctx: ContentWriteContext, src: string, st: SourceStat): string {
  const target = fs.readlinkSync(src);
  if (target === '') throw new OstreeError('EINVAL', `symlink '${src}' has an empty target`);
  const header = headerFor(ctx, src, st, target);
  const checksum = createHash('sha256').update(serializeFileHeader(header)).digest('hex');
  const final = loosePath(ctx.repoPath, checksum, ctx.mode === 'archive' ? 'filez' : 'file');
  if (fs.existsSync(final)) return checksum;
  const tmp = stagingName(ctx.repoPath);
  try {
    switch (ctx.mode) {
      case 'bare':
        fs.symlinkSync(target, tmp);
        try { fs.lchownSync(tmp, header.uid, header.gid); } catch (e) { bareNeedsRoot(e); }
        for (const [n, v] of header.xattrs) libc.lsetxattr(tmp, n, v);
        break;
      case 'bare-user-only':
        fs.symlinkSync(target, tmp);
        break;
      case 'bare-user': {
        // Symlinks are stored as regular files holding the target (NUL-terminated, as upstream).
        fs.writeFileSync(tmp, Buffer.concat([Buffer.from(target), Buffer.from([0])]), { flag: 'wx', mode: 0o644 });
        libc.lsetxattr(tmp, BARE_USER_XATTR, serializeBareUserMeta(header));
        fs.utimesSync(tmp, 0, 0);
        break;
      }
      case 'archive':
        fs.writeFileSync(tmp, serializeArchiveHeader(header, 0n), { flag: 'wx', mode: 0o644 });
        break;
    }
    linkIntoPlace(tmp, final);
  } catch (e) {
    try { fs.unlinkSync(tmp); } catch { /* ignore */ }
    throw e;
  }
  return checksum;
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface StoredContent {
  header: FileHeader;
  /** Uncompressed content size (0 for symlinks). */
  size: number;
  /** Path of the loose object. */
  objectPath: string;
  /** Where the raw data starts in the object file (archive: the deflate stream). */
  dataOffset: number;
  compressed: boolean;
}

/** Read a content object's header (without its data), synchronously. ENOENT if missing. */
export function readContentHeaderSync(repoPath: string, mode: RepoMode, checksum: string): StoredContent {
  const objName = `${checksum}.file`;
  const p = loosePath(repoPath, checksum, mode === 'archive' ? 'filez' : 'file');
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `object ${objName} not found in repository`, { path: p });
    throw e;
  }
  switch (mode) {
    case 'archive': {
      const fd = fs.openSync(p, 'r');
      try {
        const head = Buffer.alloc(8);
        if (fs.readSync(fd, head, 0, 8, 0) !== 8) throw new OstreeError('ECORRUPT', `${objName}: truncated archive object`);
        const len = head.readUInt32BE(0);
        if (len > 16 * 1024 * 1024 || 8 + len > st.size) throw new OstreeError('ECORRUPT', `${objName}: invalid archive header length ${len}`);
        const all = Buffer.alloc(8 + len);
        if (fs.readSync(fd, all, 0, 8 + len, 0) !== 8 + len) throw new OstreeError('ECORRUPT', `${objName}: truncated archive header`);
        const { header, size, headerLength } = parseArchiveHeader(all, objName);
        return { header, size: isSymlinkMode(header.mode) ? 0 : Number(size), objectPath: p, dataOffset: headerLength, compressed: true };
      } finally {
        fs.closeSync(fd);
      }
    }
    case 'bare': {
      const sym = st.isSymbolicLink();
      if (!sym && !st.isFile()) throw new OstreeError('ECORRUPT', `${objName}: not a regular file or symlink`);
      const header: FileHeader = {
        uid: st.uid, gid: st.gid, mode: st.mode, rdev: 0,
        symlinkTarget: sym ? fs.readlinkSync(p) : '',
        xattrs: sortXattrs(libc.lgetxattrs(p)),
      };
      return { header, size: sym ? 0 : st.size, objectPath: p, dataOffset: 0, compressed: false };
    }
    case 'bare-user-only': {
      const sym = st.isSymbolicLink();
      const header: FileHeader = { uid: 0, gid: 0, mode: st.mode, rdev: 0, symlinkTarget: sym ? fs.readlinkSync(p) : '', xattrs: [] };
      return { header, size: sym ? 0 : st.size, objectPath: p, dataOffset: 0, compressed: false };
    }
    case 'bare-user': {
      const raw = libc.lgetxattr(p, BARE_USER_XATTR);
      if (raw === null) throw new OstreeError('ECORRUPT', `${objName}: missing ${BARE_USER_XATTR} xattr (not a bare-user object)`);
      const m = parseBareUserMeta(raw, objName);
      if (isSymlinkMode(m.mode)) {
        let t = fs.readFileSync(p);
        if (t.length > 0 && t[t.length - 1] === 0) t = t.subarray(0, -1);
        return { header: { uid: m.uid, gid: m.gid, mode: m.mode, rdev: 0, symlinkTarget: t.toString(), xattrs: m.xattrs }, size: 0, objectPath: p, dataOffset: 0, compressed: false };
      }
      return { header: { uid: m.uid, gid: m.gid, mode: m.mode, rdev: 0, symlinkTarget: '', xattrs: m.xattrs }, size: st.size, objectPath: p, dataOffset: 0, compressed: false };
    }
  }
}

/** A readable stream of the (uncompressed) data of a stored content object. */
export function contentDataStream(c: StoredContent): NodeJS.ReadableStream {
  if (isSymlinkMode(c.header.mode)) {
    return Readable.from([]);
  }
  const raw = fs.createReadStream(c.objectPath, { start: c.dataOffset });
  if (!c.compressed) return raw;
  const inflate = zlib.createInflateRaw();
  raw.on('error', (e) => inflate.destroy(e));
  return raw.pipe(inflate);
}


/** Read a stored object's whole data into memory (for small files / `cat`). */
export function readContentDataSync(c: StoredContent): Buffer {
  if (isSymlinkMode(c.header.mode)) return Buffer.alloc(0);
  const raw = fs.readFileSync(c.objectPath);
  const body = raw.subarray(c.dataOffset);
  return c.compressed ? zlib.inflateRawSync(body) : body;
}
