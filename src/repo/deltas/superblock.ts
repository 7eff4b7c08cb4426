/**
 * The static delta superblock (upstream's OSTREE_STATIC_DELTA_SUPERBLOCK_FORMAT), parse and
 * serialize side by side:
 *
 *   (a{sv}  metadata: ostree.endianness 'l'/'B', inline parts ("deltas/…/N" → (yay)),
 *           detached metadata of the target ("deltas/…/commitmeta" → a{sv}), user keys
 *    t      timestamp, stored big-endian whatever the delta's byte order
 *    ay ay  from (empty: from scratch) and to checksums
 *    (a{sv}aya(say)sstayay)  the target commit object itself
 *    ay     "recursive" deltas (always empty)
 *    a(uayttay)  part headers: version, part checksum, compressed size, uncompressed size,
 *                objects as 33-byte (type, checksum) records
 *    a(yaytt))   fallback objects, fetched individually: type, checksum, sizes
 *
 * The integers of part headers and fallbacks are in the byte order of the machine that made
 * the delta (ostree.endianness, or guessed for deltas older than that key, as upstream does).
 * A signed superblock wraps the bytes of this one: (t magic "OSTSGNDT", ay superblock,
 * a{sv} signatures "ostree.sign.TYPE").
 */
import { deserialize, serialize, Variant } from '../../glib/gvariant.js';
import { OstreeError } from '../../errors.js';
import { COMMIT_T } from '../objects/commit.js';
import { sha256hex } from '../objects/checksum.js';
import { METADATA_TYPES, type ObjectType } from '../objects/common.js';

export const SUPERBLOCK_T = `(a{sv}tayay${COMMIT_T}aya(uayttay)a(yaytt))`;
export const SIGNED_T = '(taya{sv})';
export const SIGNED_MAGIC = 0x4f535453474e4454n; // "OSTSGNDT"
/** The part format version this implementation reads and writes. */
export const DELTAPART_VERSION = 0;

const OBJTYPE_CODES: ObjectType[] = ['file', 'dirtree', 'dirmeta', 'commit', 'tombstone-commit', 'commitmeta'];

/** OSTree's object type number (1 file … 6 commitmeta). */
export function objectTypeCode(t: ObjectType): number { return OBJTYPE_CODES.indexOf(t) + 1; }

export function objectTypeFromCode(n: number): ObjectType {
  const t = OBJTYPE_CODES[n - 1];
  if (t === undefined) throw new OstreeError('ECORRUPT', `Invalid object type '${n}' in static delta`);
  return t;
}

export function isMetadataType(t: ObjectType): boolean { return METADATA_TYPES.includes(t); }

export interface DeltaObject { type: ObjectType; checksum: string }

export interface PartHeader {
  version: number;
  checksum: string;
  size: bigint;
  usize: bigint;
  objects: DeltaObject[];
}

export interface FallbackEntry { type: ObjectType; checksum: string; size: bigint; usize: bigint }

export interface Superblock {
  metadata: Array<[string, Variant]>;
  timestamp: bigint;
  from: string | null;
  to: string;
  /** The target commit object's bytes (its checksum is `to`). */
  commit: Buffer;
  parts: PartHeader[];
  fallbacks: FallbackEntry[];
  /** Whether the integers of parts and fallbacks were byteswapped when reading (or are to be). */
  swapped: boolean;
}

function swap64(v: bigint): bigint {
  const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b.readBigUInt64BE(0);
}
function swap32(v: number): number {
  const b = Buffer.alloc(4); b.writeUInt32LE(v); return b.readUInt32BE(0);
}

function corrupt(why: string): OstreeError {
  return new OstreeError('ECORRUPT', `Invalid static delta superblock: ${why}`);
}

function checksumField(b: Buffer, what: string): string {
  if (b.length !== 32) throw corrupt(`${what} is ${b.length} bytes, not a 32-byte checksum`);
  return b.toString('hex');
}

/** The (type, checksum) records of a part header. */
export function parseObjectRecords(b: Buffer): DeltaObject[] {
  if (b.length % 33 !== 0) throw corrupt(`Invalid checksum array length ${b.length}`);
  const out: DeltaObject[] = [];
  for (let p = 0; p < b.length; p += 33) {
    out.push({ type: objectTypeFromCode(b[p]!), checksum: b.subarray(p + 1, p + 33).toString('hex') });
  }
  return out;
}

export function serializeObjectRecords(objects: DeltaObject[]): Buffer {
  const b = Buffer.alloc(objects.length * 33);
  objects.forEach((o, i) => { b[i * 33] = objectTypeCode(o.type); Buffer.from(o.checksum, 'hex').copy(b, i * 33 + 1); });
  return b;
}

type RawPart = [number, Buffer, bigint, bigint, Buffer];
type RawFallback = [number, Buffer, bigint, bigint];
type RawSuperblock = [Array<[string, Variant]>, bigint, Buffer, Buffer, unknown, Buffer, RawPart[], RawFallback[]];

/**
 * The byte order of a delta: its ostree.endianness key, else upstream's heuristic (a part
 * "compressed" to more than 1.2× its size, or objects averaging over 4 GiB, means the sizes
 * were written in the other byte order). Returns 'little' | 'big' | 'invalid', and whether guessed.
 */
export function deltaEndianness(metadata: Array<[string, Variant]>, parts: RawPart[]): { endian: 'little' | 'big' | 'invalid'; heuristic: boolean } {
  const key = metadata.find(([k]) => k === 'ostree.endianness')?.[1];
  if (key && key.type === 'y') {
    const c = key.value as number;
    return { endian: c === 0x6c ? 'little' : c === 0x42 ? 'big' : 'invalid', heuristic: false };
  }
  let total = 0n; let objects = 0n; let swapped = false;
  for (const [, , size, usize, recs] of parts) {
    objects += BigInt(Math.floor(recs.length / 33));
    total += size;
    if (size > usize && Number(size) / Number(usize) > 1.2) { swapped = true; break; }
  }
  if (!swapped && objects > 0n && total / objects > 0xffffffffn) swapped = true;
  return { endian: swapped ? 'big' : 'invalid', heuristic: true };
}

/** Parse superblock bytes (unsigned form). */
export function parseSuperblock(data: Buffer): Superblock {
  const raw = deserialize(SUPERBLOCK_T, data) as RawSuperblock;
  const [metadata, ts, from, to, commit, , rawParts, rawFallbacks] = raw;
  const swapped = deltaEndianness(metadata, rawParts).endian === 'big';
  const s32 = (v: number): number => (swapped ? swap32(v) : v);
  const s64 = (v: bigint): bigint => (swapped ? swap64(v) : v);
  return {
    metadata,
    timestamp: swap64(ts),
    from: from.length === 0 ? null : checksumField(from, 'from checksum'),
    to: checksumField(to, 'to checksum'),
    commit: serialize(COMMIT_T, commit),
    parts: rawParts.map(([version, csum, size, usize, recs]) => ({
      version: s32(version), checksum: checksumField(csum, 'part checksum'), size: s64(size), usize: s64(usize), objects: parseObjectRecords(recs),
    })),
    fallbacks: rawFallbacks.map(([type, csum, size, usize]) => ({
      type: objectTypeFromCode(type), checksum: checksumField(csum, 'fallback checksum'), size: s64(size), usize: s64(usize),
    })),
    swapped,
  };
}

/** Serialize a superblock (unsigned form); integers are swapped when `sb.swapped`. */
export function serializeSuperblock(sb: Superblock): Buffer {
  const s32 = (v: number): number => (sb.swapped ? swap32(v) : v);
  const s64 = (v: bigint): bigint => (sb.swapped ? swap64(v) : v);
  return serialize(SUPERBLOCK_T, [
    sb.metadata,
    swap64(sb.timestamp),
    sb.from === null ? Buffer.alloc(0) : Buffer.from(sb.from, 'hex'),
    Buffer.from(sb.to, 'hex'),
    deserialize(COMMIT_T, sb.commit),
    Buffer.alloc(0),
    sb.parts.map((p) => [s32(p.version), Buffer.from(p.checksum, 'hex'), s64(p.size), s64(p.usize), serializeObjectRecords(p.objects)]),
    sb.fallbacks.map((f) => [objectTypeCode(f.type), Buffer.from(f.checksum, 'hex'), s64(f.size), s64(f.usize)]),
  ]);
}

export interface SignedSuperblock { superblock: Buffer; signatures: Array<[string, Variant]> }

/** The signed wrapper, if `data` is one (magic, superblock bytes, signatures); else null. */
export function parseSigned(data: Buffer): SignedSuperblock | null {
  if (data.length < 8 || data.readBigUInt64BE(0) !== SIGNED_MAGIC) return null;
  try {
    const [, superblock, signatures] = deserialize(SIGNED_T, data) as [bigint, Buffer, Array<[string, Variant]>];
    return { superblock, signatures };
  } catch { return null; }
}

export function serializeSigned(s: SignedSuperblock): Buffer {
  return serialize(SIGNED_T, [swap64(SIGNED_MAGIC), s.superblock, s.signatures]);
}

/** The superblock inside a file's bytes, signed or not, and the signatures if any. */
export function readSuperblockBytes(data: Buffer): { superblock: Superblock; bytes: Buffer; signed: SignedSuperblock | null } {
  const signed = parseSigned(data);
  const bytes = signed ? signed.superblock : data;
  const superblock = parseSuperblock(bytes);
  if (sha256hex(superblock.commit) !== superblock.to) throw corrupt(`its commit object does not have the checksum ${superblock.to}`);
  return { superblock, bytes, signed };
}

export { Variant };
