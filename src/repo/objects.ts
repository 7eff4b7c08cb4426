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
import { createHash } from 'node:crypto';
import { OstreeError } from '../errors.js';
import { deserialize, serialize, Variant } from '../gvariant.js';

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

export function sha256hex(...parts: Buffer[]): string {
  const h = createHash('sha256');
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
const DIRTREE_T = '(a(say)a(sayay))';

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

export function serializeDirTree(t: DirTree): Buffer {
  const s = sortDirTree(t);
  for (const f of s.files) validateFilename(f.name);
  for (const d of s.dirs) validateFilename(d.name);
  checkSorted(s.files.map((f) => f.name), 'dirtree');
  checkSorted(s.dirs.map((f) => f.name), 'dirtree');
  return serialize(DIRTREE_T, [
    s.files.map((f) => [f.name, checksumToBytes(f.checksum)]),
    s.dirs.map((d) => [d.name, checksumToBytes(d.treeChecksum), checksumToBytes(d.metaChecksum)]),
  ], BE);
}

export function parseDirTree(data: Buffer, objName = 'dirtree'): DirTree {
  return wrapParse(objName, () => {
    const [f, d] = deserialize(DIRTREE_T, data, BE) as [Array<[string, Buffer]>, Array<[string, Buffer, Buffer]>];
    const files = f.map(([name, c]) => {
      validateFilename(name, objName);
      return { name, checksum: bytesToChecksum(c, objName, `checksum of '${name}'`) };
    });
    const dirs = d.map(([name, t, m]) => {
      validateFilename(name, objName);
      return {
        name,
        treeChecksum: bytesToChecksum(t, objName, `tree checksum of '${name}'`),
        metaChecksum: bytesToChecksum(m, objName, `meta checksum of '${name}'`),
      };
    });
    checkSorted(files.map((x) => x.name), objName);
    checkSorted(dirs.map((x) => x.name), objName);
    return { files, dirs };
  });
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
  return frame(serialize(FILEHDR_T, [h.uid, h.gid, h.mode, h.rdev, h.symlinkTarget, xattrsToWire(h.xattrs)], BE));
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
