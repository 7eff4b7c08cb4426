/**
 * `ostree pull-local`: copy the closure of commits from another local repository, any mode to
 * any mode. Objects of the same storage representation are hardlinked (falling back to a copy
 * across filesystems); others are converted (archive <-> bare*), streamed for large files and
 * re-checksummed on the way. Everything is written under DEST/tmp first and linked into place,
 * each commit is marked `state/C.commitpartial` until all its objects are there, and refs are
 * set last.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import * as zlib from 'node:zlib';
import * as libc from '../../native/libc.js';
import { OstreeError, isErrno } from '../../errors.js';
import {
  BARE_USER_XATTR, S_IFLNK, S_IFMT, S_IFREG, isSymlinkMode, parseArchiveHeader, parseCommit,
  parseDirTree, serializeArchiveHeader, serializeBareUserMeta, serializeFileHeader, sha256hex,
  type FileHeader, type ObjectType,
} from '../objects.js';
import { linkIntoPlace, loosePath, readContentHeaderSync, tmpName, type RepoMode, type StoredContent } from '../content.js';
import { Repo, parseRefspec } from '../repo.js';
import { runPool } from '../../util/pool.js';

export interface PullLocalOptions {
  /** Refs (or commit checksums) to pull; default: every local ref of the source. */
  refs?: string[];
  /** Write the refs as `REMOTE:ref` (refs/remotes/REMOTE/...). */
  remote?: string;
  /** Parent commits to follow: 0 (default) only the named commits, -1 all. */
  depth?: number;
  /** Re-checksum objects even when they are hardlinked/copied as is. */
  untrusted?: boolean;
  /** Only the commit objects (and detached metadata), not their trees. */
  commitMetadataOnly?: boolean;
  /** Don't check that each pulled ref is listed in the commit's `ostree.ref-binding`. */
  disableVerifyBindings?: boolean;
  /** Skip the final syncfs. */
  disableFsync?: boolean;
  /** Reject regular files with mode bits outside 0775 (`--bareuseronly-files`). */
  bareUserOnlyFiles?: boolean;
  /** Worker threads for content conversion (default min(4, CPUs)); 0 or 1: in-process. */
  workers?: number;
}

export interface PullLocalResult {
  metadataObjects: number;
  contentObjects: number;
  /** Uncompressed bytes of converted/copied regular files (hardlinked ones count 0, as upstream). */
  contentBytes: number;
  /** refspec written in the destination -> commit. */
  refs: Map<string, string>;
  commits: string[];
}

import { formatSize } from '../../util/format-size.js';
export { formatSize };

/** The upstream status line printed after a pull. */
export function formatPullStatus(r: PullLocalResult): string {
  return `${r.metadataObjects} metadata, ${r.contentObjects} content objects imported; ${formatSize(r.contentBytes)} content written`;
}

// ---------------------------------------------------------------------------------------------
// Content objects: read from any mode, write to any mode.

export interface ContentImportContext {
  srcPath: string;
  srcMode: RepoMode;
  destPath: string;
  destMode: RepoMode;
  /** Verify the checksum of objects that are linked as is. Conversions are always verified. */
  untrusted: boolean;
  bareUserOnlyFiles: boolean;
}

/** Same bytes and metadata on disk, so the object file can be shared. */
function sameRepresentation(a: RepoMode, b: RepoMode): boolean {
  return a === b;
}

function lexists(p: string): boolean {
  try { fs.lstatSync(p); return true; } catch (e) { if (isErrno(e, 'ENOENT')) return false; throw e; }
}

/** Files up to this size are handled in memory; bigger ones are streamed. */
const INLINE_MAX = 8 * 1024 * 1024;

interface SourceObject {
  header: FileHeader;
  /** Uncompressed size of the data (0 for symlinks). */
  size: number;
  path: string;
  dataOffset: number;
  compressed: boolean;
}

/** Read a content object's header from a repository of any mode (ENOENT OstreeError if missing). */
export function readSourceObject(repoPath: string, mode: RepoMode, checksum: string): SourceObject {
  let stored: StoredContent;
  try {
    stored = readContentHeaderSync(repoPath, mode, checksum);
  } catch (e) {
    // Name the source repository: the object is missing there, not in the destination.
    if (e instanceof OstreeError && e.code === 'ENOENT') {
      throw new OstreeError('ENOENT', `Object missing: ${checksum}.file (in ${repoPath})`, e.path !== undefined ? { path: e.path } : undefined);
    }
    throw e;
  }
  const { objectPath, ...rest } = stored;
  return { ...rest, path: objectPath };
}

/** Whole data of a small source object, uncompressed. */
function readSourceDataSync(o: SourceObject): Buffer {
  if (isSymlinkMode(o.header.mode)) return Buffer.alloc(0);
  if (!o.compressed) return fs.readFileSync(o.path);
  const raw = fs.readFileSync(o.path);
  return zlib.inflateRawSync(raw.subarray(o.dataOffset));
}

/** Async iterator over a source object's uncompressed data in chunks. */
async function* sourceChunks(o: SourceObject): AsyncGenerator<Buffer> {
  if (isSymlinkMode(o.header.mode)) return;
  const raw = fs.createReadStream(o.path, { start: o.dataOffset, highWaterMark: 1024 * 1024 });
  const s: AsyncIterable<Buffer> = o.compressed ? raw.pipe(zlib.createInflateRaw()) : raw;
  for await (const c of s) yield c as Buffer;
}

function corrupted(expected: string, actual: string): OstreeError {
  return new OstreeError('ECORRUPT', `Corrupted file object; checksum expected='${expected}' actual='${actual}'`);
}

function checkBareUserOnlyMode(h: FileHeader, checksum: string): void {
  if ((h.mode & S_IFMT) === S_IFREG) {
    const bad = (h.mode & ~S_IFMT) & ~0o775;
    if (bad) {
      throw new OstreeError('EINVAL', `Content object ${checksum}: invalid mode 0${h.mode.toString(8)} with bits 0${bad.toString(8).padStart(4, '0')} (not storable in a bare-user-only repository)`);
    }
  }
}

/** Apply the destination mode's metadata to a freshly written regular tmp file (fd open). */
function finishRegular(destMode: RepoMode, fd: number, tmp: string, h: FileHeader): void {
  switch (destMode) {
    case 'bare':
      fs.fchownSync(fd, h.uid, h.gid);
      fs.fchmodSync(fd, h.mode & 0o7777);
      for (const [n, v] of h.xattrs) libc.fsetxattr(fd, n, v);
      break;
    case 'bare-user':
      libc.fsetxattr(fd, BARE_USER_XATTR, serializeBareUserMeta(h));
      fs.fchmodSync(fd, (h.mode & 0o775) | 0o400);
      break;
    case 'bare-user-only':
      fs.fchmodSync(fd, h.mode & 0o775);
      break;
    case 'archive':
      fs.fchmodSync(fd, 0o644);
      break;
  }
  if (destMode !== 'archive') fs.futimesSync(fd, 0, 0);
  void tmp;
}

/** Write a symlink object in the destination mode; returns the tmp path to link into place. */
function writeSymlinkTmp(ctx: ContentImportContext, h: FileHeader): string {
  const tmp = tmpName(ctx.destPath, 'pull');
  switch (ctx.destMode) {
    case 'bare':
      fs.symlinkSync(h.symlinkTarget, tmp);
      fs.lchownSync(tmp, h.uid, h.gid);
      for (const [n, v] of h.xattrs) libc.lsetxattr(tmp, n, v);
      break;
    case 'bare-user-only':
      fs.symlinkSync(h.symlinkTarget, tmp);
      break;
    case 'bare-user': {
      const fd = fs.openSync(tmp, 'wx', 0o644);
      try {
        fs.writeSync(fd, Buffer.concat([Buffer.from(h.symlinkTarget, 'utf8'), Buffer.from([0])]));
        libc.fsetxattr(fd, BARE_USER_XATTR, serializeBareUserMeta(h));
        fs.futimesSync(fd, 0, 0);
      } finally { fs.closeSync(fd); }
      break;
    }
    case 'archive':
      fs.writeFileSync(tmp, serializeArchiveHeader(h, 0n), { flag: 'wx', mode: 0o644 });
      break;
  }
  return tmp;
}

/**
 * Import one content object into the destination. Returns the number of content bytes
 * written (0 when hardlinked or already present), or -1 when it was already there.
 */
export function importContentObject(ctx: ContentImportContext, checksum: string): number | Promise<number> {
  const destExt = ctx.destMode === 'archive' ? 'filez' : 'file';
  const final = loosePath(ctx.destPath, checksum, destExt);
  if (lexists(final)) return -1;
  if (sameRepresentation(ctx.srcMode, ctx.destMode) && !ctx.untrusted && !(ctx.destMode === 'bare-user-only' && ctx.bareUserOnlyFiles)) {
    const src = loosePath(ctx.srcPath, checksum, destExt);
    try {
      fs.linkSync(src, final);
      return 0;
    } catch (e) {
      if (isErrno(e, 'EEXIST')) return -1;
      if (isErrno(e, 'ENOENT')) {
        if (!lexists(src)) throw new OstreeError('ENOENT', `Object missing in source repository ${ctx.srcPath}: ${checksum}.file`);
        fs.mkdirSync(path.dirname(final), { recursive: true, mode: 0o755 });
        try { fs.linkSync(src, final); return 0; } catch (e2) { if (isErrno(e2, 'EEXIST')) return -1; if (!isErrno(e2, 'EXDEV') && !isErrno(e2, 'EPERM') && !isErrno(e2, 'EMLINK')) throw e2; }
      } else if (!isErrno(e, 'EXDEV') && !isErrno(e, 'EPERM') && !isErrno(e, 'EMLINK')) {
        throw e;
      }
      // Fall through: copy through the conversion path (same result, verified).
    }
  }
  const o = readSourceObject(ctx.srcPath, ctx.srcMode, checksum);
  const h = o.header;
  if (ctx.destMode === 'bare-user-only') checkBareUserOnlyMode(h, checksum);
  const hash = createHash('sha256').update(serializeFileHeader(h));
  if (isSymlinkMode(h.mode)) {
    const actual = hash.digest('hex');
    if (actual !== checksum) throw corrupted(checksum, actual);
    const tmp = writeSymlinkTmp(ctx, h);
    try { linkIntoPlace(tmp, final); } catch (e) { try { fs.unlinkSync(tmp); } catch { /* gone */ } throw e; }
    return 0;
  }
  if (o.size > INLINE_MAX) return importLarge(ctx, checksum, o, hash, final);
  const data = readSourceDataSync(o);
  if (o.compressed && data.length !== o.size) {
    throw new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: archive header says ${o.size} bytes, data has ${data.length}`);
  }
  hash.update(data);
  const actual = hash.digest('hex');
  if (actual !== checksum) throw corrupted(checksum, actual);
  const stored = ctx.destMode === 'archive' ? [serializeArchiveHeader(h, BigInt(data.length)), zlib.deflateRawSync(data)] : [data];
  storeVerifiedRegular(ctx, final, h, stored);
  return data.length;
}

/**
 * Import one content object held in memory in archive form (`.filez` bytes, e.g. just
 * downloaded): verify it against `checksum` and write it in the destination mode through
 * DEST/tmp. Returns the uncompressed bytes written, or -1 when the object was already there.
 * Meant for small objects (the data is inflated in memory).
 */
export function importArchiveObjectBuffer(ctx: Pick<ContentImportContext, 'destPath' | 'destMode' | 'bareUserOnlyFiles'>, checksum: string, filez: Buffer): number {
  const objName = `${checksum}.file`;
  const final = loosePath(ctx.destPath, checksum, ctx.destMode === 'archive' ? 'filez' : 'file');
  if (lexists(final)) return -1;
  const { header: h, size, headerLength } = parseArchiveHeader(filez, objName);
  if (ctx.destMode === 'bare-user-only') checkBareUserOnlyMode(h, checksum);
  const hash = createHash('sha256').update(serializeFileHeader(h));
  const full: ContentImportContext = { srcPath: '', srcMode: 'archive', untrusted: true, ...ctx };
  if (isSymlinkMode(h.mode)) {
    const actual = hash.digest('hex');
    if (actual !== checksum) throw corrupted(checksum, actual);
    const tmp = writeSymlinkTmp(full, h);
    try { linkIntoPlace(tmp, final); } catch (e) { try { fs.unlinkSync(tmp); } catch { /* gone */ } throw e; }
    return 0;
  }
  let data: Buffer;
  try {
    data = zlib.inflateRawSync(filez.subarray(headerLength));
  } catch (e) {
    throw new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: bad compressed data: ${(e as Error).message}`);
  }
  if (data.length !== Number(size)) {
    throw new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: archive header says ${size} bytes, data has ${data.length}`);
  }
  hash.update(data);
  const actual = hash.digest('hex');
  if (actual !== checksum) throw corrupted(checksum, actual);
  // archive: the verified bytes as they are; other modes: the data plus the mode's metadata
  storeVerifiedRegular(ctx, final, h, [ctx.destMode === 'archive' ? filez : data]);
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
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
    }
    finishRegular(ctx.destMode, fd, tmp, h);
    fs.closeSync(fd);
  } catch (e) {
    try { fs.closeSync(fd); } catch { /* closed */ }
    try { fs.unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
  try { linkIntoPlace(tmp, final); } catch (e) { try { fs.unlinkSync(tmp); } catch { /* gone */ } throw e; }
}

async function importLarge(ctx: ContentImportContext, checksum: string, o: SourceObject, hash: Hash, final: string): Promise<number> {
  const tmp = tmpName(ctx.destPath, 'pull');
  const fd = fs.openSync(tmp, 'wx', 0o600);
  let total = 0;
  try {
    const write = (b: Buffer): void => { let off = 0; while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off); };
    let deflate: zlib.DeflateRaw | null = null;
    let deflated: Promise<void> | null = null;
    if (ctx.destMode === 'archive') {
      write(serializeArchiveHeader(o.header, BigInt(o.size)));
      deflate = zlib.createDeflateRaw();
      const d = deflate;
      deflated = new Promise<void>((resolve, reject) => {
        d.on('data', (c: Buffer) => { try { write(c); } catch (e) { reject(e); } });
        d.on('end', resolve);
        d.on('error', reject);
      });
    }
    for await (const chunk of sourceChunks(o)) {
      hash.update(chunk);
      total += chunk.length;
      if (deflate) { if (!deflate.write(chunk)) await new Promise((r) => deflate!.once('drain', r)); } else write(chunk);
    }
    if (deflate) { deflate.end(); await deflated; }
    if (total !== o.size) throw new OstreeError('ECORRUPT', `Corrupted file object ${checksum}: expected ${o.size} bytes of data, found ${total}`);
    const actual = hash.digest('hex');
    if (actual !== checksum) throw corrupted(checksum, actual);
    finishRegular(ctx.destMode, fd, tmp, o.header);
    fs.closeSync(fd);
  } catch (e) {
    try { fs.closeSync(fd); } catch { /* closed */ }
    try { fs.unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
  linkIntoPlace(tmp, final);
  return total;
}

// ---------------------------------------------------------------------------------------------
// The pull

function commitPartialPath(repoPath: string, checksum: string): string {
  return path.join(repoPath, 'state', `${checksum}.commitpartial`);
}

/** Pull `options.refs` (default: all local refs) of the repository at `srcPath` into `dest`. */
export async function pullLocal(dest: Repo, srcPath: string, options: PullLocalOptions = {}): Promise<PullLocalResult> {
  let src: Repo;
  try {
    src = await Repo.open(srcPath);
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'ENOENT') {
      throw new OstreeError('ENOENT', `opening source repository: '${path.resolve(srcPath)}' is not an OSTree repository (no config file)`, { path: srcPath });
    }
    throw e;
  }
  if (src.path === dest.path) throw new OstreeError('EINVAL', `source and destination are the same repository '${src.path}'`);
  if (options.remote !== undefined) parseRefspec(`${options.remote}:x`);

  // 1. What to pull: [destination refspec | null, commit].
  const wanted: Array<{ ref: string | null; commit: string }> = [];
  if (options.refs && options.refs.length > 0) {
    for (const r of options.refs) {
      if (/^[0-9a-f]{64}$/.test(r)) { wanted.push({ ref: null, commit: r }); continue; }
      const [remote, name] = parseRefspec(r);
      if (remote !== null) throw new OstreeError('EINVAL', `Invalid ref name ${r}`);
      const c = await src.resolveRevOptional(name);
      if (c === null) throw new OstreeError('ENOENT', `Refspec '${r}' not found in ${src.path}`);
      wanted.push({ ref: name, commit: c });
    }
  } else {
    for (const [spec, c] of await src.listRefs()) {
      if (spec.includes(':')) continue; // only local refs, as a list of refspecs to pull
      wanted.push({ ref: spec, commit: c });
    }
  }

  // 2. Bindings: each pulled ref must be listed in the commit's ostree.ref-binding (when present).
  for (const w of wanted) {
    if (!src.hasObjectSync(w.commit, 'commit')) throw new OstreeError('ENOENT', `Object missing: ${w.commit}.commit (in ${src.path})`);
    const c = src.loadCommitSync(w.commit);
    if (w.ref !== null && !options.disableVerifyBindings) {
      const b = c.metadata.find(([k]) => k === 'ostree.ref-binding')?.[1];
      if (b && Array.isArray(b.value) && !(b.value as string[]).includes(w.ref)) {
        throw new OstreeError('EINVAL', `Commit ${w.commit}: Commit has no requested ref ‘${w.ref}’ in ref binding metadata (${(b.value as string[]).map((x) => `‘${x}’`).join(', ')})`);
      }
    }
  }

  const result: PullLocalResult = { metadataObjects: 0, contentObjects: 0, contentBytes: 0, refs: new Map(), commits: [] };
  const depth = options.depth ?? 0;

  await dest.withLock(false, async () => {
    fs.mkdirSync(path.join(dest.path, 'tmp'), { recursive: true });
    fs.mkdirSync(path.join(dest.path, 'state'), { recursive: true });
    const seenMeta = new Set<string>();
    const files = new Set<string>();
    const partials: string[] = [];

    const copyMeta = (checksum: string, type: ObjectType): Buffer => {
      let data: Buffer;
      try {
        data = src.readObjectBytesSync(checksum, type);
      } catch (e) {
        if (e instanceof OstreeError && e.code === 'ENOENT') throw new OstreeError('ENOENT', `Object missing in source repository ${src.path}: ${checksum}.${type}`);
        throw e;
      }
      const actual = sha256hex(data);
      if (actual !== checksum) throw new OstreeError('ECORRUPT', `Corrupted ${type} object; checksum expected='${checksum}' actual='${actual}' (in ${src.path})`);
      if (!dest.hasObjectSync(checksum, type)) {
        dest.writeMetadataObjectSync(type, data);
        result.metadataObjects++;
      }
      return data;
    };

    const walkTree = (tree: string, meta: string): void => {
      const mk = `${meta}.dirmeta`;
      if (!seenMeta.has(mk)) { seenMeta.add(mk); copyMeta(meta, 'dirmeta'); }
      const tk = `${tree}.dirtree`;
      if (seenMeta.has(tk)) return;
      seenMeta.add(tk);
      const dt = parseDirTree(copyMeta(tree, 'dirtree'), `dirtree ${tree}`);
      for (const f of dt.files) files.add(f.checksum);
      for (const d of dt.dirs) walkTree(d.treeChecksum, d.metaChecksum);
    };

    for (const w of wanted) {
      let cur: string | null = w.commit;
      let level = 0;
      while (cur !== null) {
        if (seenMeta.has(`${cur}.commit`)) break;
        if (level > 0 && !src.hasObjectSync(cur, 'commit')) break; // history ends in the source
        seenMeta.add(`${cur}.commit`);
        const partialMark = commitPartialPath(dest.path, cur);
        const complete = dest.hasObjectSync(cur, 'commit') && !fs.existsSync(partialMark);
        let parent: string | null;
        if (complete) {
          parent = dest.loadCommitSync(cur).parent;
        } else {
          // Marked before anything is written; removed once every object is in (never for
          // --commit-metadata-only, whose commits stay partial as upstream's do).
          fs.writeFileSync(partialMark, '');
          if (!options.commitMetadataOnly) partials.push(cur);
          const c = parseCommit(copyMeta(cur, 'commit'), `commit ${cur}`);
          parent = c.parent;
          if (src.hasObjectSync(cur, 'commitmeta')) {
            const tmp = tmpName(dest.path, 'pull');
            fs.writeFileSync(tmp, src.readObjectBytesSync(cur, 'commitmeta'), { mode: 0o644 });
            fs.renameSync(tmp, dest.objectPath(cur, 'commitmeta'));
          }
          if (!options.commitMetadataOnly) walkTree(c.rootTree, c.rootMeta);
        }
        result.commits.push(cur);
        if (depth >= 0 && level >= depth) break;
        cur = parent;
        level++;
      }
    }

    // 3. Content objects, in parallel.
    const ctx: ContentImportContext = {
      srcPath: src.path, srcMode: src.mode, destPath: dest.path, destMode: dest.mode,
      untrusted: options.untrusted === true, bareUserOnlyFiles: options.bareUserOnlyFiles === true,
    };
    const todo = [...files].filter((c) => !lexists(loosePath(dest.path, c, dest.mode === 'archive' ? 'filez' : 'file')));
    const stats = await runPool<{ written: number; bytes: number }>({
      job: { module: import.meta.url, name: 'pullJob' }, ctx, items: todo, workers: options.workers,
      init: () => ({ written: 0, bytes: 0 }),
      merge: (a, b) => ({ written: a.written + b.written, bytes: a.bytes + b.bytes }),
    });
    if (stats.failures.length > 0) {
      const f = stats.failures[0]!;
      throw new OstreeError(f.code as never ?? 'EIO', `importing ${todo[f.index]}.file: ${f.message}`);
    }
    result.contentObjects += stats.result.written;
    result.contentBytes += stats.result.bytes;

    // 4. Durable, then complete, then refs.
    if (!options.disableFsync) dest.syncRepo();
    for (const c of partials) { try { fs.unlinkSync(commitPartialPath(dest.path, c)); } catch { /* gone */ } }
    for (const w of wanted) {
      if (w.ref === null) continue;
      const spec = options.remote !== undefined ? `${options.remote}:${w.ref}` : w.ref;
      await dest.setRef(spec, w.commit);
      result.refs.set(spec, w.commit);
    }
  });
  return result;
}

/** Worker/in-process job body for one content object of a pull. */
export async function pullJob(ctx: ContentImportContext, checksum: string, acc: { written: number; bytes: number }): Promise<void> {
  const r = importContentObject(ctx, checksum);
  const n = typeof r === 'number' ? r : await r;
  if (n >= 0) { acc.written++; acc.bytes += n; }
}

export { S_IFLNK };
