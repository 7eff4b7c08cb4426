/**
 * OSTree repository objects: one model per object type, parse and serialize side by side.
 * All integers inside these GVariants are big-endian (upstream byteswaps before serializing).
 *
 *   commit      (a{sv}aya(say)sstayay)
 *   dirtree     (a(say)a(sayay))
 *   dirmeta     (uuua(ayay))
 *   commitmeta  a{sv}
 *   file header (uuuusa(ayay))    content checksum = sha256(u32BE len ‖ 4×NUL ‖ header ‖ data)
 *   archive hdr (tuuuusa(ayay))   .filez = u32BE len ‖ 4×NUL ‖ header ‖ raw deflate(data)
 */
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { OstreeError } from '../errors.js';
import { deserialize, offsetSizeFor, readOffset, serialize, totalSize, Variant, writeOffsetAt } from '../glib/gvariant.js';

export type ObjectType = 'file' | 'dirtree' | 'dirmeta' | 'commit' | 'commitmeta' | 'tombstone-commit';
export const METADATA_TYPES: ObjectType[] = ['dirtree', 'dirmeta', 'commit', 'commitmeta', 'tombstone-commit'];

/** Loose object file extension per type; `file` depends on the repo mode. */
export function objectExtension(type: ObjectType, archive: boolean): string {
  switch (type) {
    case 'file': return archive ? 'filez' : 'file';
    case 'commit-tombstone' as ObjectType:
    case 'tombstone-commit': return 'commit-tombstone';
    default: return type;
  }
}

/** An extended attribute: name without the trailing NUL, raw value. */
export type Xattr = [name: string, value: Buffer];

export const BE = { bigEndian: true } as const;

const HEX64 = /^[0-9a-f]{64}$/;
export function isChecksum(s: string): boolean { return HEX64.test(s); }

export function validateChecksum(s: string, what = 'checksum'): string {
  if (!HEX64.test(s)) throw new OstreeError('EINVAL', `invalid ${what} '${s}': expected 64 lowercase hex characters`);
  return s;
}

export function checksumToBytes(s: string): Buffer {
  validateChecksum(s);
  return Buffer.from(s, 'hex');
}

function bytesToChecksum(b: Buffer, objName: string, field: string): string {
  if (b.length !== 32) throw new OstreeError('ECORRUPT', `${objName}: ${field} is ${b.length} bytes, expected a 32-byte checksum`);
  return b.toString('hex');
}

// node:crypto through require, on first use: its ESM import evaluates every export (~3 ms), which
// `admin status` (it parses commits, never hashes) should not pay.
let cryptoModule: typeof import('node:crypto') | null = null;
function nodeCrypto(): typeof import('node:crypto') {
  return (cryptoModule ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'));
}

export function sha256hex(...parts: Buffer[]): string {
  const h = nodeCrypto().createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function wrapParse<T>(objName: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'ECORRUPT' && e.message.startsWith(objName)) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new OstreeError('ECORRUPT', `${objName}: ${msg}`, { cause: e });
  }
}

// --- xattrs ----------------------------------------------------------------------------------

function xattrsToWire(x: Xattr[]): Array<[Buffer, Buffer]> {
  const sorted = [...x].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  return sorted.map(([n, v]) => [Buffer.concat([Buffer.from(n, 'utf8'), Buffer.from([0])]), v]);
}

function xattrsFromWire(w: Array<[Buffer, Buffer]>, objName: string): Xattr[] {
  return w.map(([n, v]) => {
    const name = n.length > 0 && n[n.length - 1] === 0 ? n.subarray(0, -1) : n;
    if (name.length === 0 || name.includes(0)) throw new OstreeError('ECORRUPT', `${objName}: invalid xattr name`);
    return [name.toString('utf8'), v];
  });
}

/** Sort xattrs by name (byte order), as upstream canonicalizes them. */
export function sortXattrs(x: Xattr[]): Xattr[] {
  return [...x].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
}

// --- dirmeta ---------------------------------------------------------------------------------

export interface DirMeta { uid: number; gid: number; mode: number; xattrs: Xattr[] }
const DIRMETA_T = '(uuua(ayay))';

export function serializeDirMeta(m: DirMeta): Buffer {
  return serialize(DIRMETA_T, [m.uid, m.gid, m.mode, xattrsToWire(m.xattrs)], BE);
}

export function parseDirMeta(data: Buffer, objName = 'dirmeta'): DirMeta {
  return wrapParse(objName, () => {
    const [uid, gid, mode, x] = deserialize(DIRMETA_T, data, BE) as [number, number, number, Array<[Buffer, Buffer]>];
    if ((mode & 0o170000) !== 0o040000) throw new OstreeError('ECORRUPT', `${objName}: mode 0${mode.toString(8)} is not a directory`);
    return { uid, gid, mode, xattrs: xattrsFromWire(x, objName) };
  });
}

// --- dirtree ---------------------------------------------------------------------------------

export interface DirTreeFile { name: string; checksum: string }
export interface DirTreeDir { name: string; treeChecksum: string; metaChecksum: string }
export interface DirTree { files: DirTreeFile[]; dirs: DirTreeDir[] }

/** Upstream's rule for a name inside a dirtree. */
export function validateFilename(name: string, objName = 'dirtree'): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new OstreeError('ECORRUPT', `${objName}: invalid file name '${name}' (empty, '.', '..' or containing '/')`);
  }
}

function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function sortDirTree(t: DirTree): DirTree {
  return {
    files: [...t.files].sort((a, b) => compareNames(a.name, b.name)),
    dirs: [...t.dirs].sort((a, b) => compareNames(a.name, b.name)),
  };
}

function checkSorted(names: string[], objName: string): void {
  for (let i = 1; i < names.length; i++) {
    if (compareNames(names[i - 1]!, names[i]!) >= 0) {
      throw new OstreeError('ECORRUPT', `${objName}: entries not sorted or duplicated at '${names[i]}'`);
    }
  }
}

// The dirtree codec is written out by hand rather than through the generic GVariant codec: it is
// the hottest format (one per directory in every checkout, fsck, prune and pull) and the generic
// path costs ~0.3 ms per object. Parsing is strict: it accepts exactly the normal form (what
// serializing the parsed value gives back, checked arithmetically on every container), valid
// names, 32-byte checksums and strictly sorted entries; anything else is ECORRUPT naming `objName`.

/** A GVariant array of `elems` (variable-size, alignment 1): bodies, then their end offsets. */
function serializeVarArray(elems: Buffer[]): Buffer {
  let body = 0;
  for (const e of elems) body += e.length;
  const size = totalSize(body, elems.length);
  const os = elems.length === 0 ? 0 : (size - body) / elems.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  elems.forEach((e, i) => { e.copy(out, at); at += e.length; writeOffsetAt(out, body + i * os, os, at); });
  return out;
}

/** A `(s ay…)` struct whose `ay` members are 32-byte checksums: the framing offsets of all but
 *  the last member follow the body, last-first. */
function serializeDirTreeEntry(name: string, checksums: string[]): Buffer {
  const nameLen = Buffer.byteLength(name, 'utf8') + 1;
  const body = nameLen + 32 * checksums.length;
  const size = totalSize(body, checksums.length);
  const os = (size - body) / checksums.length;
  const out = Buffer.allocUnsafe(size);
  out.write(name, 0, 'utf8');
  out[nameLen - 1] = 0;
  checksums.forEach((c, i) => out.write(c, nameLen + 32 * i, 'hex'));
  for (let i = checksums.length - 1, at = body; i >= 0; i--, at += os) writeOffsetAt(out, at, os, nameLen + 32 * i);
  return out;
}

export function serializeDirTree(t: DirTree): Buffer {
  const s = sortDirTree(t);
  for (const f of s.files) { validateFilename(f.name); validateChecksum(f.checksum, `checksum of '${f.name}'`); }
  for (const d of s.dirs) {
    validateFilename(d.name);
    validateChecksum(d.treeChecksum, `tree checksum of '${d.name}'`);
    validateChecksum(d.metaChecksum, `meta checksum of '${d.name}'`);
  }
  checkSorted(s.files.map((f) => f.name), 'dirtree');
  checkSorted(s.dirs.map((f) => f.name), 'dirtree');
  const files = serializeVarArray(s.files.map((f) => serializeDirTreeEntry(f.name, [f.checksum])));
  const dirs = serializeVarArray(s.dirs.map((d) => serializeDirTreeEntry(d.name, [d.treeChecksum, d.metaChecksum])));
  const body = files.length + dirs.length;
  const size = totalSize(body, 1);
  const out = Buffer.allocUnsafe(size);
  files.copy(out, 0);
  dirs.copy(out, files.length);
  writeOffsetAt(out, body, size - body, files.length);
  return out;
}

function badDirTree(objName: string, why: string): OstreeError {
  return new OstreeError('ECORRUPT', `${objName}: malformed dirtree (${why})`);
}

function notNormalForm(objName: string): OstreeError {
  return new OstreeError('ECORRUPT', `${objName}: Not normal form`);
}

/** Element bounds [start0, end0, start1, end1, …] (absolute) of a normal-form GVariant array of
 *  variable-size, alignment-1 elements stored in data[from, to). */
function varArrayBounds(data: Buffer, from: number, to: number, objName: string): number[] {
  const len = to - from;
  if (len === 0) return [];
  const os = offsetSizeFor(len);
  const lastEnd = readOffset(data, to - os, os);
  if (lastEnd > len - os || (len - lastEnd) % os !== 0) throw badDirTree(objName, 'bad array framing');
  const n = (len - lastEnd) / os;
  if (totalSize(lastEnd, n) !== len) throw notNormalForm(objName);
  const out: number[] = new Array(2 * n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = readOffset(data, from + lastEnd + i * os, os);
    if (end < start || end > lastEnd) throw badDirTree(objName, 'bad array element offset');
    out[2 * i] = from + start;
    out[2 * i + 1] = from + end;
    start = end;
  }
  if (start !== lastEnd) throw badDirTree(objName, 'bad array element offsets');
  return out;
}

/** The GVariant string in data[from, to): NUL-terminated, no inner NUL, valid UTF-8, and a valid
 *  dirtree entry name. */
function entryName(data: Buffer, from: number, to: number, objName: string): string {
  if (to <= from || data[to - 1] !== 0) throw badDirTree(objName, 'unterminated string');
  if (data.indexOf(0, from) !== to - 1) throw badDirTree(objName, 'NUL inside a string');
  if (!isUtf8(data.subarray(from, to - 1))) throw badDirTree(objName, 'string is not valid UTF-8');
  const name = data.toString('utf8', from, to - 1);
  if (name.length <= 2 || name.indexOf('/') >= 0) validateFilename(name, objName);
  return name;
}

/** One `(s ay…)` entry of `nChecksums` 32-byte checksums in data[s0, e1): the name and where
 *  the checksums start. */
function dirTreeEntry(data: Buffer, s0: number, e1: number, nChecksums: number, prev: [number, number], objName: string): { name: string; at: number } {
  const len = e1 - s0;
  const os = offsetSizeFor(len);
  if (len < nChecksums * os) throw badDirTree(objName, 'short entry');
  const nameEnd = readOffset(data, e1 - os, os);
  let end = nameEnd;
  for (let i = 1; i < nChecksums; i++) {
    const next = readOffset(data, e1 - (i + 1) * os, os);
    if (next < end) throw badDirTree(objName, 'bad entry framing');
    end = next;
  }
  if (end > len - nChecksums * os) throw badDirTree(objName, 'bad entry framing');
  if (totalSize(len - nChecksums * os, nChecksums) !== len) throw notNormalForm(objName);
  const name = entryName(data, s0, s0 + nameEnd, objName);
  for (let i = 0, at = nameEnd; i < nChecksums; i++, at += 32) {
    const memberEnd = i === nChecksums - 1 ? len - nChecksums * os : readOffset(data, e1 - (i + 2) * os, os);
    if (memberEnd - at !== 32) throw new OstreeError('ECORRUPT', `${objName}: checksum of '${name}' is ${memberEnd - at} bytes, expected 32`);
  }
  // Strictly increasing byte order (strcmp), compared in place.
  if (prev[0] >= 0 && data.compare(data, s0, s0 + nameEnd - 1, prev[0], prev[1]) >= 0) {
    throw new OstreeError('ECORRUPT', `${objName}: entries not sorted or duplicated at '${name}'`);
  }
  prev[0] = s0; prev[1] = s0 + nameEnd - 1;
  return { name, at: s0 + nameEnd };
}

export function parseDirTree(data: Buffer, objName = 'dirtree'): DirTree {
  if (data.length === 0) throw badDirTree(objName, 'empty');
  const os = offsetSizeFor(data.length);
  const filesEnd = readOffset(data, data.length - os, os);
  if (filesEnd > data.length - os) throw badDirTree(objName, 'bad framing');
  if (totalSize(data.length - os, 1) !== data.length) throw notNormalForm(objName);
  const fb = varArrayBounds(data, 0, filesEnd, objName);
  const files: DirTreeFile[] = new Array(fb.length / 2);
  let prev: [number, number] = [-1, -1];
  for (let i = 0; i < fb.length; i += 2) {
    const { name, at } = dirTreeEntry(data, fb[i]!, fb[i + 1]!, 1, prev, objName);
    files[i / 2] = { name, checksum: data.toString('hex', at, at + 32) };
  }
  const db = varArrayBounds(data, filesEnd, data.length - os, objName);
  const dirs: DirTreeDir[] = new Array(db.length / 2);
  prev = [-1, -1];
  for (let i = 0; i < db.length; i += 2) {
    const { name, at } = dirTreeEntry(data, db[i]!, db[i + 1]!, 2, prev, objName);
    dirs[i / 2] = { name, treeChecksum: data.toString('hex', at, at + 32), metaChecksum: data.toString('hex', at + 32, at + 64) };
  }
  return { files, dirs };
}

// --- commit ----------------------------------------------------------------------------------

export interface CommitObject {
  metadata: Array<[string, Variant]>;
  parent: string | null;
  related: unknown[];
  subject: string;
  body: string;
  timestamp: bigint; // seconds since the epoch, UTC
  rootTree: string;
  rootMeta: string;
}
const COMMIT_T = '(a{sv}aya(say)sstayay)';

export function serializeCommit(c: CommitObject): Buffer {
  return serialize(COMMIT_T, [
    c.metadata,
    c.parent ? checksumToBytes(c.parent) : Buffer.alloc(0),
    c.related,
    c.subject,
    c.body,
    c.timestamp,
    checksumToBytes(c.rootTree),
    checksumToBytes(c.rootMeta),
  ], BE);
}

export function parseCommit(data: Buffer, objName = 'commit'): CommitObject {
  return wrapParse(objName, () => {
    const [metadata, parent, related, subject, body, timestamp, rootTree, rootMeta] =
      deserialize(COMMIT_T, data, BE) as [Array<[string, Variant]>, Buffer, unknown[], string, string, bigint, Buffer, Buffer];
    return {
      metadata,
      parent: parent.length === 0 ? null : bytesToChecksum(parent, objName, 'parent'),
      related,
      subject,
      body,
      timestamp,
      rootTree: bytesToChecksum(rootTree, objName, 'root tree'),
      rootMeta: bytesToChecksum(rootMeta, objName, 'root dirmeta'),
    };
  });
}

export function commitMetadataValue(c: CommitObject, key: string): Variant | undefined {
  return c.metadata.find(([k]) => k === key)?.[1];
}

/** A string metadata value ('version', 'ostree.source-title', ...), undefined if absent or not a string. */
export function commitMetadataString(c: CommitObject, key: string): string | undefined {
  const v = commitMetadataValue(c, key);
  return v && v.type === 's' ? (v.value as string) : undefined;
}

/** ContentChecksum as shown by `ostree log/show`: sha256(root dirtree csum ‖ root dirmeta csum). */
export function commitContentChecksum(c: CommitObject): string {
  return sha256hex(checksumToBytes(c.rootTree), checksumToBytes(c.rootMeta));
}

// --- commitmeta (detached metadata) -----------------------------------------------------------

export function serializeCommitMeta(m: Array<[string, Variant]>): Buffer {
  return serialize('a{sv}', m, BE);
}

export function parseCommitMeta(data: Buffer, objName = 'commitmeta'): Array<[string, Variant]> {
  return wrapParse(objName, () => deserialize('a{sv}', data, BE) as Array<[string, Variant]>);
}

// --- file headers ----------------------------------------------------------------------------

export interface FileHeader {
  uid: number;
  gid: number;
  mode: number; // includes S_IFREG / S_IFLNK
  rdev: number;
  symlinkTarget: string; // '' for regular files
  xattrs: Xattr[];
}
const FILEHDR_T = '(uuuusa(ayay))';
const ARCHIVEHDR_T = '(tuuuusa(ayay))';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;

export function isSymlinkMode(mode: number): boolean { return (mode & S_IFMT) === S_IFLNK; }
export function isRegularMode(mode: number): boolean { return (mode & S_IFMT) === S_IFREG; }

function frame(v: Buffer): Buffer {
  const out = Buffer.alloc(8 + v.length);
  out.writeUInt32BE(v.length, 0);
  v.copy(out, 8);
  return out;
}

/** The framed header whose sha256 (followed by the data) is the content checksum. */
export function serializeFileHeader(h: FileHeader): Buffer {
  if (h.xattrs.length > 0) return frame(serialize(FILEHDR_T, [h.uid, h.gid, h.mode, h.rdev, h.symlinkTarget, xattrsToWire(h.xattrs)], BE));
  // Without xattrs (the common case, hashed once per file by commit, fsck and diff) the layout is
  // fixed enough to write directly: four u32, the NUL-terminated target, an empty array (no
  // bytes), and one framing offset (the string's end).
  const targetLen = Buffer.byteLength(h.symlinkTarget, 'utf8');
  const body = 16 + targetLen + 1;
  const size = totalSize(body, 1);
  const out = Buffer.alloc(8 + size);
  out.writeUInt32BE(size, 0);
  out.writeUInt32BE(h.uid >>> 0, 8);
  out.writeUInt32BE(h.gid >>> 0, 12);
  out.writeUInt32BE(h.mode >>> 0, 16);
  out.writeUInt32BE(h.rdev >>> 0, 20);
  out.write(h.symlinkTarget, 24, 'utf8');
  writeOffsetAt(out, 8 + body, size - body, body);
  return out;
}

function checkFileHeader(h: FileHeader, objName: string): FileHeader {
  const t = h.mode & S_IFMT;
  if (t !== S_IFREG && t !== S_IFLNK) throw new OstreeError('ECORRUPT', `${objName}: unsupported file mode 0${h.mode.toString(8)}`);
  if (t === S_IFLNK && h.symlinkTarget === '') throw new OstreeError('ECORRUPT', `${objName}: symlink with an empty target`);
  if (t === S_IFREG && h.symlinkTarget !== '') throw new OstreeError('ECORRUPT', `${objName}: regular file with a symlink target`);
  return h;
}

function unframe(data: Buffer, objName: string): { v: Buffer; rest: Buffer } {
  if (data.length < 8) throw new OstreeError('ECORRUPT', `${objName}: file header truncated`);
  const len = data.readUInt32BE(0);
  if (data.readUInt32BE(4) !== 0 || 8 + len > data.length) throw new OstreeError('ECORRUPT', `${objName}: invalid file header length ${len}`);
  return { v: data.subarray(8, 8 + len), rest: data.subarray(8 + len) };
}

/** Parse a framed file header; `rest` is whatever follows it. */
export function parseFileHeader(data: Buffer, objName = 'file'): { header: FileHeader; rest: Buffer } {
  return wrapParse(objName, () => {
    const { v, rest } = unframe(data, objName);
    const [uid, gid, mode, rdev, symlinkTarget, x] = deserialize(FILEHDR_T, v, BE) as [number, number, number, number, string, Array<[Buffer, Buffer]>];
    return { header: checkFileHeader({ uid, gid, mode, rdev, symlinkTarget, xattrs: xattrsFromWire(x, objName) }, objName), rest };
  });
}

export function serializeArchiveHeader(h: FileHeader, size: bigint): Buffer {
  return frame(serialize(ARCHIVEHDR_T, [size, h.uid, h.gid, h.mode, h.rdev, h.symlinkTarget, xattrsToWire(h.xattrs)], BE));
}

/** Parse the header of a `.filez` object; `headerLength` is where the deflate stream starts. */
export function parseArchiveHeader(data: Buffer, objName = 'filez'): { header: FileHeader; size: bigint; headerLength: number } {
  return wrapParse(objName, () => {
    const { v } = unframe(data, objName);
    const [size, uid, gid, mode, rdev, symlinkTarget, x] = deserialize(ARCHIVEHDR_T, v, BE) as [bigint, number, number, number, number, string, Array<[Buffer, Buffer]>];
    return { header: checkFileHeader({ uid, gid, mode, rdev, symlinkTarget, xattrs: xattrsFromWire(x, objName) }, objName), size, headerLength: 8 + v.length };
  });
}

// --- bare-user metadata xattr -------------------------------------------------------------------

export const BARE_USER_XATTR = 'user.ostreemeta';

/** `user.ostreemeta` value: (uuua(ayay)) uid, gid, mode, xattrs. */
export function serializeBareUserMeta(h: { uid: number; gid: number; mode: number; xattrs: Xattr[] }): Buffer {
  return serialize(DIRMETA_T, [h.uid, h.gid, h.mode, xattrsToWire(h.xattrs)], BE);
}

export function parseBareUserMeta(data: Buffer, objName = 'file'): { uid: number; gid: number; mode: number; xattrs: Xattr[] } {
  return wrapParse(objName, () => {
    const [uid, gid, mode, x] = deserialize(DIRMETA_T, data, BE) as [number, number, number, Array<[Buffer, Buffer]>];
    return { uid, gid, mode, xattrs: xattrsFromWire(x, objName) };
  });
}

export { Variant };
