/**
 * Content (file) objects, whatever the repository mode: writing one from a source path
 * (synchronous, used by the commit workers so each file costs only a handful of cheap
 * syscalls) and reading one back (header, then data), through the mode's backend
 * (src/repo/modes/).
 *
 * Every object is first written under REPO/tmp and then linked to its final name, so a final
 * name never holds a partial object. Every read opens objects without blocking and without
 * following symlinks, and refuses anything but a regular file (or a symlink, where the mode
 * stores symlinks as symlinks): a FIFO or device planted in objects/ is an error, never a hang.
 * Reading archive objects is bounded by their declared size (modes/archive.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as libc from '../native/libc.js';
import { OstreeError, isErrno } from '../errors.js';
import { S_IFLNK, S_IFMT, S_IFREG } from './objects/common.js';
import { GatheringSha256, newSha256, validateChecksum } from './objects/checksum.js';
import { sortXattrs, type Xattr } from './objects/xattrs.js';
import { BARE_USER_XATTR, serializeFileHeader, type FileHeader } from './objects/file-header.js';
import { loosePath, stagingName, tmpName } from './layout.js';
import { contentExtension, type RepoMode } from './modes/mode.js';
import { backendFor } from './modes/registry.js';
import type { ContentWriteContext, SourceStat, StoredContent } from './modes/backend.js';
import { applyRules, type CommonRules, type ModeAdjust } from './commit/modifier.js';
import { parentRepos } from './parent-repos.js';

export type { ContentWriteContext, RepoMode, SourceStat, StoredContent };
export { forgetStagingDirs, loosePath, stagingName, tmpName } from './layout.js';
export { INFLATE_IN_MEMORY_MAX, inflateBounded, inflateStream } from './modes/archive.js';

const CHUNK = 256 * 1024;

/**
 * Move a fully written `tmp` to the object's final name, keeping an existing object (content
 * addressed: same name, same content), and consume `tmp` either way. True when `tmp` became
 * the object (it was new).
 */
export function linkIntoPlace(tmp: string, final: string): boolean {
  if (fs.lstatSync(final, { throwIfNoEntry: false })) { fs.unlinkSync(tmp); return false; }
  try {
    fs.renameSync(tmp, final);
  } catch (e) {
    if (!isErrno(e, 'ENOENT') || !fs.lstatSync(tmp, { throwIfNoEntry: false })) throw e;
    fs.mkdirSync(path.dirname(final), { recursive: true, mode: 0o755 });
    fs.renameSync(tmp, final);
  }
  return true;
}

/** Whether renameat2(RENAME_NOREPLACE) works here (unknown until first tried). */
let noReplaceRename: boolean | undefined;

/**
 * linkIntoPlace in one system call where the filesystem can: a rename that refuses to replace
 * (EEXIST: the object was there, `tmp` is dropped), creating the object's directory if missing.
 */
function placeNew(tmp: string, final: string): boolean {
  if (noReplaceRename === false) return linkIntoPlace(tmp, final);
  try {
    libc.renameNoReplace(tmp, final);
    noReplaceRename = true;
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) { fs.unlinkSync(tmp); return false; }
    if (isErrno(e, 'EINVAL') || isErrno(e, 'ENOSYS') || isErrno(e, 'EOPNOTSUPP')) { noReplaceRename = false; return linkIntoPlace(tmp, final); }
    if (!isErrno(e, 'ENOENT')) throw e;
  }
  return linkIntoPlace(tmp, final);
}

/** Content objects this thread has newly stored (for `commit --table-output`); read and reset by the writers. */
export const contentWrites = { objects: 0, bytes: 0 };

/** The canonical header for a source file, after the repo mode's and the caller's rules. */
export function headerFor(ctx: ContentWriteContext, src: string, st: SourceStat, symlinkTarget: string, adjust?: ModeAdjust): FileHeader {
  const rules = rulesOf(ctx);
  const { uid, gid, mode } = applyRules(st, rules, adjust);
  let xattrs: Xattr[] = [];
  if (!rules.canonical && !ctx.noXattrs) {
    const found = libc.lgetxattrs(src);
    if (found.length > 0) xattrs = sortXattrs(found.filter(([n]) => n !== BARE_USER_XATTR));
  }
  return { uid, gid, mode, rdev: 0, symlinkTarget, xattrs };
}

/** The rules of a writers' context (made once per context: headerFor runs once per file). */
const contextRules = new WeakMap<ContentWriteContext, CommonRules & { canonical: boolean }>();
function rulesOf(ctx: ContentWriteContext): CommonRules & { canonical: boolean } {
  let r = contextRules.get(ctx);
  if (r === undefined) {
    r = {
      ...(ctx.ownerUid !== undefined ? { ownerUid: ctx.ownerUid } : {}),
      ...(ctx.ownerGid !== undefined ? { ownerGid: ctx.ownerGid } : {}),
      roExecutables: ctx.roExecutables === true,
      canonical: ctx.canonicalPermissions === true || backendFor(ctx.mode).traits.canonical,
    };
    contextRules.set(ctx, r);
  }
  return r;
}

let sharedBuf: Buffer | null = null;

/**
 * Write the content object for `src` and return its checksum. `st` is its lstat fields, or just
 * its kind as a directory listing gave it (the fields are then read here, from the open file:
 * the walk of a commit need not lstat every file). Synchronous, except archive-mode files
 * larger than 4 MiB.
 */
export function writeContentSync(ctx: ContentWriteContext, src: string, st: SourceStat | 'file' | 'symlink', adjust?: ModeAdjust): string | Promise<string> {
  if (st === 'symlink') return writeSymlinkSync(ctx, src, fs.lstatSync(src), adjust);
  if (st !== 'file') {
    const ft = st.mode & S_IFMT;
    if (ft === S_IFLNK) return writeSymlinkSync(ctx, src, st, adjust);
    if (ft !== S_IFREG) throw new OstreeError('EINVAL', `cannot commit '${src}': unsupported file type 0${ft.toString(8)} (only regular files, symlinks and directories can be committed)`);
  }
  const fdIn = fs.openSync(src, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  const tmp = stagingName(ctx.repoPath);
  const hash = new GatheringSha256();
  let stored: void | Promise<void>;
  // (the uncompressed modes store the data as it is: the object's size is the file's)
  let plainSize: number | undefined;
  try {
    const fst = fs.fstatSync(fdIn);
    if (ctx.mode !== 'archive') plainSize = fst.size;
    if (!fst.isFile()) throw new OstreeError('EINVAL', `cannot commit '${src}': it is no longer a regular file (it changed while being committed)`);
    const header = headerFor(ctx, src, st === 'file' ? fst : st, '', adjust);
    hash.update(serializeFileHeader(header));
    stored = backendFor(ctx.mode).storeRegular({ src, fdIn, tmp, header, hash, buf: (sharedBuf ??= Buffer.allocUnsafe(CHUNK)) });
  } catch (e) {
    fs.closeSync(fdIn);
    try { fs.unlinkSync(tmp); } catch { /* not created */ }
    throw e;
  }
  if (stored === undefined) {
    fs.closeSync(fdIn);
    return placeObject(ctx, tmp, hash.digest('hex'), plainSize);
  }
  return stored.then(
    () => { fs.closeSync(fdIn); return placeObject(ctx, tmp, hash.digest('hex')); },
    (e: unknown) => { fs.closeSync(fdIn); try { fs.unlinkSync(tmp); } catch { /* not created */ } throw e; },
  );
}

/**
 * `commit --consume` into a bare or bare-user-only repository (upstream's adoption): the source
 * file itself becomes the object (checksummed, given the mode's permissions, renamed into
 * objects/), instead of being copied. Falls back to writeContentSync when the file's own
 * metadata is not what the object needs (bare) or it is on another filesystem.
 */
export function adoptContentSync(ctx: ContentWriteContext, src: string, adjust?: ModeAdjust): string | Promise<string> {
  const fd = fs.openSync(src, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  let checksum: string;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new OstreeError('EINVAL', `cannot commit '${src}': it is no longer a regular file (it changed while being committed)`);
    const header = headerFor(ctx, src, st, '', adjust);
    const canonical = backendFor(ctx.mode).traits.canonical;
    if (!canonical && (ctx.mode !== 'bare' || header.uid !== st.uid || header.gid !== st.gid || header.mode !== st.mode)) {
      fs.closeSync(fd);
      return writeContentSync(ctx, src, 'file', adjust);
    }
    const hash = newSha256().update(serializeFileHeader(header));
    const buf = (sharedBuf ??= Buffer.allocUnsafe(CHUNK));
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) hash.update(buf.subarray(0, n));
    checksum = hash.digest('hex');
    if (canonical) fs.fchmodSync(fd, header.mode & 0o7777);
  } finally {
    try { fs.closeSync(fd); } catch { /* closed for the fallback */ }
  }
  const final = loosePath(ctx.repoPath, checksum, contentExtension(ctx.mode));
  if (fs.lstatSync(final, { throwIfNoEntry: false })) return checksum;
  try {
    fs.mkdirSync(path.dirname(final), { recursive: true, mode: 0o755 });
    fs.renameSync(src, final);
  } catch (e) {
    if (isErrno(e, 'EXDEV')) return writeContentSync(ctx, src, 'file', adjust);
    throw e;
  }
  contentWrites.objects++;
  return checksum;
}

/** Link the written `tmp` into place as the object `checksum` (`size` bytes, when known);
 *  returns the checksum. */
function placeObject(ctx: ContentWriteContext, tmp: string, checksum: string, size?: number): string {
  try {
    const bytes = size ?? fs.lstatSync(tmp).size;
    if (placeNew(tmp, loosePath(ctx.repoPath, checksum, contentExtension(ctx.mode)))) {
      contentWrites.objects++;
      contentWrites.bytes += bytes;
    }
  } catch (e) {
    try { fs.unlinkSync(tmp); } catch { /* already consumed */ }
    throw e;
  }
  return checksum;
}

function writeSymlinkSync(ctx: ContentWriteContext, src: string, st: SourceStat, adjust?: ModeAdjust): string {
  const target = fs.readlinkSync(src);
  if (target === '') throw new OstreeError('EINVAL', `symlink '${src}' has an empty target`);
  return storeSymlinkHeader(ctx, headerFor(ctx, src, st, target, adjust));
}

/** Store the symlink object with `header` (its target included); returns the checksum. */
function storeSymlinkHeader(ctx: ContentWriteContext, header: FileHeader): string {
  const target = header.symlinkTarget;
  const checksum = newSha256().update(serializeFileHeader(header)).digest('hex');
  const final = loosePath(ctx.repoPath, checksum, contentExtension(ctx.mode));
  if (fs.lstatSync(final, { throwIfNoEntry: false })) return checksum;
  const tmp = stagingName(ctx.repoPath);
  try {
    backendFor(ctx.mode).storeSymlink(tmp, target, header);
    if (linkIntoPlace(tmp, final)) contentWrites.objects++;
  } catch (e) {
    try { fs.unlinkSync(tmp); } catch { /* ignore */ }
    throw e;
  }
  return checksum;
}

/**
 * Store the data of the existing object `stored` (this repository's, a parent's) under a new
 * `header` and return the new object's checksum: how commit modifiers rewrite the files of a
 * `--tree=ref=` tree (ownership, mode, xattrs change; the data stays). An uncompressed object
 * is read in place; a compressed one is inflated into a scratch file in REPO/tmp first.
 */
export async function writeStoredContent(ctx: ContentWriteContext, stored: StoredContent, header: FileHeader): Promise<string> {
  if ((header.mode & S_IFMT) === S_IFLNK) return storeSymlinkHeader(ctx, header);
  let scratch: string | null = null;
  let dataPath = stored.objectPath;
  if (stored.compressed || stored.dataOffset !== 0) {
    scratch = tmpName(ctx.repoPath, 'rewrite');
    await pipeline(contentDataStream(stored), fs.createWriteStream(scratch, { flags: 'wx', mode: 0o600 }));
    dataPath = scratch;
  }
  try {
    const fdIn = fs.openSync(dataPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const tmp = stagingName(ctx.repoPath);
    const hash = newSha256().update(serializeFileHeader(header));
    try {
      await backendFor(ctx.mode).storeRegular({ src: dataPath, fdIn, tmp, header, hash, buf: (sharedBuf ??= Buffer.allocUnsafe(CHUNK)) });
    } catch (e) {
      try { fs.unlinkSync(tmp); } catch { /* not created */ }
      throw e;
    } finally {
      fs.closeSync(fdIn);
    }
    return placeObject(ctx, tmp, hash.digest('hex'));
  } finally {
    if (scratch !== null) fs.rmSync(scratch, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Read a content object's header (without its data), synchronously: from the repository, else
 * from the nearest `core.parent` repository holding it (as upstream's ostree_repo_load_file).
 * ENOENT if none has it.
 */
export function readContentHeaderSync(repoPath: string, mode: RepoMode, checksum: string): StoredContent {
  validateChecksum(checksum, 'file checksum');
  const objName = `${checksum}.file`;
  const own = readLooseHeader(repoPath, mode, checksum);
  if (own !== null) return own;
  for (const p of parentRepos(repoPath)) {
    const found = readLooseHeader(p.path, p.mode, checksum);
    if (found !== null) return found;
  }
  throw new OstreeError('ENOENT', `Couldn't find file object '${checksum}' (${objName} is not in the repository)`, { path: loosePath(repoPath, checksum, contentExtension(mode)) });
}

/** The header of a content object in this one repository, null if it is not there. */
function readLooseHeader(repoPath: string, mode: RepoMode, checksum: string): StoredContent | null {
  try {
    return backendFor(mode).readHeader(loosePath(repoPath, checksum, contentExtension(mode)), `${checksum}.file`);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
}

/** A readable stream of the (uncompressed) data of a stored content object (bounded by the
 *  size its header declares; a FIFO or device in its place is refused). */
export function contentDataStream(c: StoredContent): Readable {
  return backendFor(c.mode).openData(c);
}

/** A stored object's whole data in memory (small files; archive objects inflate at most their
 *  declared size, and at most INFLATE_IN_MEMORY_MAX). */
export function readContentDataSync(c: StoredContent): Buffer {
  return backendFor(c.mode).readData(c);
}
