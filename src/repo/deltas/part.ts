/**
 * A static delta part (upstream's OSTREE_STATIC_DELTA_PART_PAYLOAD_FORMAT_V0), parse and
 * serialize side by side. On disk (file `N` beside the superblock, or inline in the
 * superblock's metadata as a (yay)) a part is one compression byte — 0 none, 'x' xz — then
 * the payload:
 *
 *   (a(uuu)    modes: uid, gid, mode, each stored big-endian
 *    aa(ayay)  xattr sets
 *    ay        the raw data the operations copy from
 *    ay)       the operations (ops.ts)
 *
 * The checksum in the part header is the sha256 of the bytes as stored (compression byte
 * included). Decompressed payloads are bounded by PART_MAX_SIZE.
 */
import { deserialize, serialize } from '../../glib/gvariant.js';
import { OstreeError } from '../../errors.js';
import { xzCompress, xzDecompress } from '../../native/lzma.js';
import { sha256hex } from '../objects/checksum.js';
import type { Xattr } from '../objects/xattrs.js';
import { xattrsFromWire, xattrsToWire } from '../objects/xattrs.js';

export const PART_PAYLOAD_T = '(a(uuu)aa(ayay)ayay)';

/**
 * The largest part payload we hold in memory (upstream's default part size is 32 MB, and a
 * single object larger than that gets a part of its own). A hostile part cannot make us
 * allocate more than this.
 */
export const PART_MAX_SIZE = 1024 * 1024 * 1024;

export interface PartMode { uid: number; gid: number; mode: number }

export interface PartPayload {
  modes: PartMode[];
  xattrs: Xattr[][];
  data: Buffer;
  ops: Buffer;
}

export type Compression = 'none' | 'xz';

function swap32(v: number): number { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b.readUInt32BE(0); }

export function parsePartPayload(b: Buffer, what: string): PartPayload {
  const [modes, xattrs, data, ops] = deserialize(PART_PAYLOAD_T, b) as [Array<[number, number, number]>, Array<Array<[Buffer, Buffer]>>, Buffer, Buffer];
  return {
    modes: modes.map(([uid, gid, mode]) => ({ uid: swap32(uid), gid: swap32(gid), mode: swap32(mode) })),
    xattrs: xattrs.map((x) => xattrsFromWire(x, what)),
    data,
    ops,
  };
}

export function serializePartPayload(p: PartPayload): Buffer {
  return serialize(PART_PAYLOAD_T, [
    p.modes.map((m) => [swap32(m.uid), swap32(m.gid), swap32(m.mode)]),
    p.xattrs.map((x) => xattrsToWire(x)),
    p.data,
    p.ops,
  ]);
}

/** A part as stored: the compression byte, then the (compressed) payload. */
export function encodePart(payload: Buffer, compression: Compression): Buffer {
  if (compression === 'none') return Buffer.concat([Buffer.from([0]), payload]);
  return Buffer.concat([Buffer.from('x'), xzCompress(payload)]);
}

/**
 * The payload of a stored part. `expectedChecksum` (null: not checked, as for inline parts,
 * which the superblock carries) is compared with the sha256 of the stored bytes first, so
 * nothing unverified is decompressed or parsed.
 */
export function openPart(stored: Buffer, expectedChecksum: string | null, what: string): PartPayload {
  if (expectedChecksum !== null) {
    const actual = sha256hex(stored);
    if (actual !== expectedChecksum) throw new OstreeError('ECORRUPT', `Checksum mismatch in static delta part; expected=${expectedChecksum} actual=${actual} (${what})`);
  }
  if (stored.length === 0) throw new OstreeError('ECORRUPT', `${what}: empty static delta part (no compression byte)`);
  const type = stored[0]!;
  let payload: Buffer;
  if (type === 0) payload = stored.subarray(1);
  else if (type === 0x78) payload = xzDecompress(stored.subarray(1), PART_MAX_SIZE, what);
  else throw new OstreeError('ECORRUPT', `Invalid compression type '${type}' (${what})`);
  return parsePartPayload(payload, what);
}
