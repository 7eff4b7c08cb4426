/**
 * The headers of content objects (upstream's file header, archive header and bare-user meta):
 *
 *   file header  (uuuusa(ayay))   uid, gid, mode, rdev, symlink target, xattrs; the content
 *                                 checksum is sha256(u32BE len ‖ 4×NUL ‖ header ‖ data)
 *   archive hdr  (tuuuusa(ayay))  the same preceded by the uncompressed size; a `.filez` object
 *                                 is u32BE len ‖ 4×NUL ‖ header ‖ raw deflate(data)
 *   bare-user    (uuua(ayay))     uid, gid, mode, xattrs in the `user.ostreemeta` xattr
 */
import { OstreeError } from '../../errors.js';
import { deserialize, serialize, totalSize, writeOffsetAt } from '../../glib/gvariant.js';
import { BE, S_IFLNK, S_IFMT, S_IFREG, wrapParse } from './common.js';
import { DIRMETA_T } from './dirmeta.js';
import { xattrsFromWire, xattrsToWire, type Xattr } from './xattrs.js';

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
