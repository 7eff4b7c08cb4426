/**
 * `ostree.sizes`, the commit metadata `commit --generate-sizes` adds in archive repositories
 * (upstream's size index): type `aay`, one entry per file, dirtree and dirmeta object the
 * commit wrote, sorted by checksum. An entry is the 32-byte checksum, the archived (stored)
 * size and the unpacked size as unsigned LEB128 varints, then the object type as one byte
 * (1 file, 2 dirtree, 3 dirmeta). Serialized and parsed here, side by side.
 */
import { OstreeError } from '../../errors.js';
import { Variant } from '../../glib/gvariant.js';

export const SIZES_KEY = 'ostree.sizes';

export type SizedType = 'file' | 'dirtree' | 'dirmeta';
const TYPE_BYTE: Record<SizedType, number> = { file: 1, dirtree: 2, dirmeta: 3 };
const BYTE_TYPE: Record<number, SizedType> = { 1: 'file', 2: 'dirtree', 3: 'dirmeta' };

export interface SizeEntry { checksum: string; archived: number; unpacked: number; type: SizedType }

function writeVaruint(out: number[], n: number): void {
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
}

function readVaruint(buf: Buffer, pos: number): { value: number; next: number } {
  let v = 0n;
  for (let shift = 0n, i = pos; i < buf.length && shift < 70n; i++, shift += 7n) {
    const b = buf[i]!;
    v |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) break;
      return { value: Number(v), next: i + 1 };
    }
  }
  throw new OstreeError('ECORRUPT', `${SIZES_KEY}: bad size varint`);
}

/** One entry's bytes. */
export function serializeSizeEntry(e: SizeEntry): Buffer {
  const bytes: number[] = [];
  writeVaruint(bytes, e.archived);
  writeVaruint(bytes, e.unpacked);
  bytes.push(TYPE_BYTE[e.type]);
  return Buffer.concat([Buffer.from(e.checksum, 'hex'), Buffer.from(bytes)]);
}

/** One entry from its bytes (an entry without the type byte, as older writers made, is a file). */
export function parseSizeEntry(buf: Buffer): SizeEntry {
  if (buf.length < 34) throw new OstreeError('ECORRUPT', `${SIZES_KEY}: entry of ${buf.length} bytes is too short`);
  const checksum = buf.subarray(0, 32).toString('hex');
  const a = readVaruint(buf, 32);
  const u = readVaruint(buf, a.next);
  let type: SizedType = 'file';
  if (u.next < buf.length) {
    const t = BYTE_TYPE[buf[u.next]!];
    if (t === undefined) throw new OstreeError('ECORRUPT', `${SIZES_KEY}: unknown object type ${buf[u.next]}`);
    type = t;
  }
  return { checksum, archived: a.value, unpacked: u.value, type };
}

/** The metadata value: entries sorted by checksum, one per checksum. */
export function sizesVariant(entries: Iterable<SizeEntry>): Variant {
  const byChecksum = new Map<string, SizeEntry>();
  for (const e of entries) byChecksum.set(e.checksum, e);
  const sorted = [...byChecksum.values()].sort((x, y) => (x.checksum < y.checksum ? -1 : x.checksum > y.checksum ? 1 : 0));
  return new Variant('aay', sorted.map(serializeSizeEntry));
}
