/**
 * Storing a content object into the destination repository, in the destination's mode, from a
 * source of any mode (a local repository, or a download staged in archive form): checksummed
 * on the way when the source is untrusted (downloads always are; a local repository only with
 * --untrusted, as upstream), always parsed within the sizes its header declares, written under
 * DEST/tmp with the mode's metadata, and renamed into place. Shared by HTTP pull and pull-local.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as libc from '../../native/libc.js';
import { OstreeError, isErrno } from '../../errors.js';
import { BARE_USER_XATTR, parseArchiveHeader, serializeArchiveHeader, serializeBareUserMeta, type FileHeader } from '../objects/file-header.js';
import { S_IFMT, S_IFREG, isSymlinkMode } from '../objects/common.js';
import { linkIntoPlace } from '../content.js';
import { objectPath, tmpName } from '../layout.js';
import { modeTraits, type RepoMode } from '../modes/mode.js';
import { checkContentFileType, readSourceObject, type SourceObject } from './source.js';
import { inflateBounded } from '../modes/archive.js';
import { corrupted, dataChunks, fitsInMemory, headerHash, readSmallData } from './verify.js';

export interface ContentImportContext {
  srcPath: string;
  srcMode: RepoMode;
  destPath: string;
  destMode: RepoMode;
  /** Verify each object's checksum (downloads, --untrusted); a trusted local source is taken
   *  as named, as upstream, its data still bounded by the size its header declares. */
  untrusted: boolean;
  bareUserOnlyFiles: boolean;
}

/** Whether `p` exists (a dangling symlink does); a missing path costs no exception. */
function lexists(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

/** A canonical-permissions (bare-user-only) repository cannot store setuid/setgid/sticky or o+w bits. */
export function checkBareUserOnlyMode(h: FileHeader, checksum: string): void {
  if ((h.mode & S_IFMT) === S_IFREG) {
    const bad = (h.mode & ~S_IFMT) & ~0o775;
    if (bad) {
      throw new OstreeError('EINVAL', `Content object ${checksum}: invalid mode 0${h.mode.toString(8)} with bits 0${bad.toString(8).padStart(4, '0')} (not storable in a bare-user-only repository)`);
    }
  }
}

/** A bare-user regular file whose header bare-user-only would store as is (uid/gid 0, mode within 0755, no xattrs). */
function canonicalBareUserFile(ctx: ContentImportContext, h: FileHeader): boolean {
  return ctx.srcMode === 'bare-user' && ctx.destMode === 'bare-user-only' && (h.mode & S_IFMT) === S_IFREG
    && h.uid === 0 && h.gid === 0 && (h.mode & ~S_IFMT & ~0o755) === 0 && h.xattrs.length === 0;
}

/** Apply the destination mode's metadata to a freshly written regular tmp file (fd open). */
function finishRegular(destMode: RepoMode, fd: number, h: FileHeader): void {
  const t = modeTraits(destMode);
  if (t.realOwnership) {
    fs.fchownSync(fd, h.uid, h.gid);
    fs.fchmodSync(fd, h.mode & 0o7777);
    for (const [n, v] of h.xattrs) libc.fsetxattr(fd, n, v);
  } else if (t.metaInXattr) {
    libc.fsetxattr(fd, BARE_USER_XATTR, serializeBareUserMeta(h));
    fs.fchmodSync(fd, (h.mode & 0o775) | 0o400);
  } else if (t.canonical) {
    fs.fchmodSync(fd, h.mode & 0o775);
  } else {
    fs.fchmodSync(fd, 0o644); // archive: the header carries the metadata
  }
  if (!t.compressed) fs.futimesSync(fd, 0, 0);
}

/** Write a symlink object in the destination mode; returns the tmp path to link into place. */
function writeSymlinkTmp(destPath: string, destMode: RepoMode, h: FileHeader): string {
  const tmp = tmpName(destPath, 'pull');
  const t = modeTraits(destMode);
  if (t.compressed) {
    fs.writeFileSync(tmp, serializeArchiveHeader(h, 0n), { flag: 'wx', mode: 0o644 });
  } else if (t.metaInXattr) {
    // bare-user: a regular file holding the target, the metadata in its xattr
    const fd = fs.openSync(tmp, 'wx', 0o644);
    try {
      fs.writeSync(fd, Buffer.concat([Buffer.from(h.symlinkTarget, 'utf8'), Buffer.from([0])]));
      libc.fsetxattr(fd, BARE_USER_XATTR, serializeBareUserMeta(h));
      fs.futimesSync(fd, 0, 0);
    } finally { fs.closeSync(fd); }
  } else {
    fs.symlinkSync(h.symlinkTarget, tmp);
    if (t.realOwnership) {
      fs.lchownSync(tmp, h.uid, h.gid);
      for (const [n, v] of h.xattrs) libc.lsetxattr(tmp, n, v);
    }
  }
  return tmp;
}

function linkSymlinkObject(destPath: string, destMode: RepoMode, h: FileHeader, final: string): void {
  const tmp = writeSymlinkTmp(destPath, destMode, h);
  try { linkIntoPlace(tmp, final); } catch (e) { try { fs.unlinkSync(tmp); } catch { /* gone */ } throw e; }
}

/**
 * Hardlink the source object as is (same representation, trusted). Returns 0 when linked, -1
 * when already present, null when it must be copied instead (another filesystem, link limits).
 */
function linkAsIs(ctx: ContentImportContext, checksum: string, final: string): number | null {
  const src = objectPath(ctx.srcPath, checksum, 'file', ctx.srcMode);
  let st: fs.Stats;
  try { st = fs.lstatSync(src); } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new OstreeError('ENOENT', `Object missing in source repository ${ctx.srcPath}: ${checksum}.file`, { path: src });
    throw e;
  }
  checkContentFileType(st, ctx.srcMode, checksum, src); // never link a FIFO or device into the repository
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.linkSync(src, final);
      return 0;
    } catch (e) {
      if (isErrno(e, 'EEXIST')) return -1;
      if (isErrno(e, 'ENOENT') && attempt === 0) { fs.mkdirSync(path.dirname(final), { recursive: true, mode: 0o755 }); continue; }
      if (isErrno(e, 'EXDEV') || isErrno(e, 'EPERM') || isErrno(e, 'EMLINK')) return null;
      throw e;
    }
  }
  return null;
}

/** Whether the source object (small enough to read at once) has the checksum it is named by; throws when not. */
function verifiedInPlace(ctx: ContentImportContext, checksum: string): boolean {
  const o = readSourceObject(ctx.srcPath, ctx.srcMode, checksum);
  if (!isSymlinkMode(o.header.mode) && !fitsInMemory(o)) return false;
  const hash = headerHash(o);
  if (!isSymlinkMode(o.header.mode)) hash.update(readSmallData(o, checksum));
  const actual = hash.digest('hex');
  if (actual !== checksum) throw corrupted(checksum, actual);
  return true;
}

/**
 * Import one content object into the destination. Returns the number of content bytes
 * written (0 when hardlinked), or -1 when it was already there.
 */
export function importContentObject(ctx: ContentImportContext, checksum: string): number | Promise<number> {
  const final = objectPath(ctx.destPath, checksum, 'file', ctx.destMode);
  // --bareuseronly-files: every file's mode is checked, so none is linked as it is
  const sameMode = ctx.srcMode === ctx.destMode && !ctx.bareUserOnlyFiles;
  // Untrusted: still hardlinked as upstream does, once the source object checks out (small objects).
  if (sameMode && (!ctx.untrusted || (!lexists(final) && verifiedInPlace(ctx, checksum)))) {
    const linked = linkAsIs(ctx, checksum, final);
    if (linked !== null) return linked;
    // else copied through the conversion path (same result, verified)
  } else if (lexists(final)) return -1;
  const o = readSourceObject(ctx.srcPath, ctx.srcMode, checksum);
  const h = o.header;
  if (modeTraits(ctx.destMode).canonical || ctx.bareUserOnlyFiles) checkBareUserOnlyMode(h, checksum);
  if (!ctx.untrusted && canonicalBareUserFile(ctx, h)) {
    // As upstream: a bare-user regular file with canonical metadata is already what
    // bare-user-only stores, so it is hardlinked too.
    const linked = linkAsIs(ctx, checksum, final);
    if (linked !== null) return linked;
  }
  const hash = headerHash(o);
  if (isSymlinkMode(h.mode)) {
    const actual = hash.digest('hex');
    if (ctx.untrusted && actual !== checksum) throw corrupted(checksum, actual);
    linkSymlinkObject(ctx.destPath, ctx.destMode, h, final);
    return 0;
  }
  if (!fitsInMemory(o)) return importLarge(ctx, checksum, o, final);
  const data = readSmallData(o, checksum);
  const actual = hash.update(data).digest('hex');
  if (ctx.untrusted && actual !== checksum) throw corrupted(checksum, actual);
  const stored = modeTraits(ctx.destMode).compressed ? [serializeArchiveHeader(h, BigInt(data.length)), zlib.deflateRawSync(data)] : [data];
  storeVerifiedRegular(ctx, final, h, stored);
  return data.length;
}

/**
 * Import one content object held in memory in archive form (`.filez` bytes, e.g. just
 * downloaded): verify it against `checksum` and write it in the destination mode through
 * DEST/tmp. Returns the uncompressed bytes written, or -1 when the object was already there.
 * Only for objects whose header declares at most PULL_INFLATE_IN_MEMORY_MAX bytes.
 */
export function importArchiveObjectBuffer(ctx: Pick<ContentImportContext, 'destPath' | 'destMode' | 'bareUserOnlyFiles'>, checksum: string, filez: Buffer): number {
  const final = objectPath(ctx.destPath, checksum, 'file', ctx.destMode);
  if (lexists(final)) return -1;
  const { header: h, size, headerLength } = parseArchiveHeader(filez, `${checksum}.file`);
  if (modeTraits(ctx.destMode).canonical || ctx.bareUserOnlyFiles) checkBareUserOnlyMode(h, checksum);
  const hash = headerHash({ header: h });
  if (isSymlinkMode(h.mode)) {
    const actual = hash.digest('hex');
    if (actual !== checksum) throw corrupted(checksum, actual);
    linkSymlinkObject(ctx.destPath, ctx.destMode, h, final);
    return 0;
  }
  const data = inflateBounded(filez.subarray(headerLength), Number(size), `${checksum}.file`);
  const actual = hash.update(data).digest('hex');
  if (actual !== checksum) throw corrupted(checksum, actual);
  // archive: the verified bytes as they are; other modes: the data plus the mode's metadata
  storeVerifiedRegular(ctx, final, h, [modeTraits(ctx.destMode).compressed ? filez : data]);
  return data.length;
}

/**
 * Store an already verified regular-file object: its bytes (as the destination mode lays them
 * out) go to a temporary file under tmp/, get the mode's metadata, and are renamed into place.
 */
function storeVerifiedRegular(ctx: { destPath: string; destMode: RepoMode }, final: string, h: FileHeader, chunks: Buffer[]): void {
  const tmp = tmpName(ctx.destPath, 'pull');
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    writeAllPieces(fd, chunks);
    finishRegular(ctx.destMode, fd, h);
    fs.closeSync(fd);
  } catch (e) {
    try { fs.closeSync(fd); } catch { /* closed */ }
    try { fs.unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
  try { linkIntoPlace(tmp, final); } catch (e) { try { fs.unlinkSync(tmp); } catch { /* gone */ } throw e; }
}

/** `pieces` in order, in one writev when the kernel takes them all (a delta's object comes in
 *  dozens of slices). */
function writeAllPieces(fd: number, pieces: Buffer[]): void {
  if (pieces.length === 1) { writeAll(fd, pieces[0]!); return; }
  let rest = pieces.filter((p) => p.length > 0);
  while (rest.length > 0) {
    let n = fs.writevSync(fd, rest);
    let i = 0;
    while (i < rest.length && n >= rest[i]!.length) n -= rest[i++]!.length;
    rest = rest.slice(i);
    if (n > 0) rest[0] = rest[0]!.subarray(n);
  }
}

function writeAll(fd: number, b: Buffer): void {
  let off = 0;
  while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
}

/** A large object: streamed from the source through the checksum into the destination file. */
async function importLarge(ctx: ContentImportContext, checksum: string, o: SourceObject, final: string): Promise<number> {
  const hash = headerHash(o);
  const tmp = tmpName(ctx.destPath, 'pull');
  const fd = fs.openSync(tmp, 'wx', 0o600);
  let total = 0;
  let deflate: zlib.DeflateRaw | null = null;
  let deflated: Promise<void> | null = null;
  try {
    if (modeTraits(ctx.destMode).compressed) {
      writeAll(fd, serializeArchiveHeader(o.header, BigInt(o.size)));
      const d = deflate = zlib.createDeflateRaw();
      deflated = new Promise<void>((resolve, reject) => {
        d.on('data', (c: Buffer) => { try { writeAll(fd, c); } catch (e) { reject(e); } });
        d.on('end', resolve);
        d.on('error', reject);
      });
      deflated.catch(() => { /* awaited below; on failure the error that stopped us is reported */ });
    }
    for await (const chunk of dataChunks(o, checksum)) {
      hash.update(chunk);
      total += chunk.length;
      if (deflate) { if (!deflate.write(chunk)) await new Promise((r) => deflate!.once('drain', r)); } else writeAll(fd, chunk);
    }
    if (deflate) { deflate.end(); await deflated; }
    const actual = hash.digest('hex');
    if (ctx.untrusted && actual !== checksum) throw corrupted(checksum, actual);
    finishRegular(ctx.destMode, fd, o.header);
    fs.closeSync(fd);
  } catch (e) {
    (deflate as zlib.DeflateRaw | null)?.destroy(); // nothing more is written to the closed file
    try { fs.closeSync(fd); } catch { /* closed */ }
    try { fs.unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
  linkIntoPlace(tmp, final);
  return total;
}

/**
 * Store a content object given as its header and plain data in memory, in pieces (what a
 * static delta part rebuilds): verified against `checksum` first, then written in the destination mode.
 * Returns the data bytes written, or -1 when the object was already there.
 */
export function importContentFromMemory(ctx: Pick<ContentImportContext, 'destPath' | 'destMode' | 'bareUserOnlyFiles'>, checksum: string, h: FileHeader, data: Buffer[]): number {
  const final = objectPath(ctx.destPath, checksum, 'file', ctx.destMode);
  if (lexists(final)) return -1;
  if (modeTraits(ctx.destMode).canonical) checkBareUserOnlyMode(h, checksum);
  const hash = headerHash({ header: h });
  let size = 0;
  for (const piece of data) { hash.update(piece); size += piece.length; }
  const actual = hash.digest('hex');
  if (actual !== checksum) throw corrupted(checksum, actual);
  if (isSymlinkMode(h.mode)) { linkSymlinkObject(ctx.destPath, ctx.destMode, h, final); return 0; }
  const stored = modeTraits(ctx.destMode).compressed ? [serializeArchiveHeader(h, BigInt(size)), zlib.deflateRawSync(Buffer.concat(data, size))] : data;
  storeVerifiedRegular(ctx, final, h, stored);
  return size;
}
