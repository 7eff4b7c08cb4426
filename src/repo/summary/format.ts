/**
 * The summary file (REPO/summary), `(a(s(taya{sv}))a{sv})`, parse and serialize side by side:
 * refs in name order, each with its commit's size, checksum and a little metadata (timestamp,
 * version), then repository-wide extensions (`ostree.summary.*`, `ostree.static-deltas`, the
 * collection map, whatever `summary --add-metadata` added). The container is in host order
 * (little-endian); the integers upstream stores inside it (timestamps, last-modified, expires)
 * are big-endian, so their Variant values here are the byteswapped numbers (beU64/fromBeU64).
 *
 * Also the summary's signature file (REPO/summary.sig): an a{sv} keyed by signature kind
 * (`ostree.gpgsigs` → aay, `ostree.sign.ed25519` → aay, ...), in host order.
 */
import { OstreeError } from '../../errors.js';
import { deserialize, serialize, Variant } from '../../glib/gvariant.js';
import { isValidType } from '../../glib/gvariant-type.js';

export const SUMMARY_T = '(a(s(taya{sv}))a{sv})';
export const SUMMARY_REFS_T = 'a(s(taya{sv}))';
export const SUMMARY_SIG_T = 'a{sv}';

/** The extension keys upstream reads and writes. */
export const SUMMARY_KEYS = {
  staticDeltas: 'ostree.static-deltas',
  lastModified: 'ostree.summary.last-modified',
  expires: 'ostree.summary.expires',
  collectionId: 'ostree.summary.collection-id',
  collectionMap: 'ostree.summary.collection-map',
  mode: 'ostree.summary.mode',
  tombstoneCommits: 'ostree.summary.tombstone-commits',
  indexedDeltas: 'ostree.summary.indexed-deltas',
} as const;

/** Per-ref metadata keys. */
export const REF_KEYS = { timestamp: 'ostree.commit.timestamp', version: 'ostree.commit.version' } as const;

/** One ref of a summary: name, size of the commit object, its checksum (hex), metadata. */
export interface SummaryRefEntry { name: string; size: bigint; checksum: string; metadata: Array<[string, Variant]> }

/** A whole summary, in file order. */
export interface SummaryFile { refs: SummaryRefEntry[]; extensions: Array<[string, Variant]> }

type RawRefs = Array<[string, [bigint, Buffer, Array<[string, Variant]>]]>;

/** A uint64 as upstream stores it inside the summary (GUINT64_TO_BE). */
export function beU64(v: bigint): Variant {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, v));
  return new Variant('t', b.readBigUInt64LE());
}

/** The number inside a big-endian uint64 (GUINT64_FROM_BE); undefined if not a `t`. */
export function fromBeU64(v: Variant | undefined): bigint | undefined {
  if (v === undefined || v.type !== 't') return undefined;
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v.value as bigint);
  return b.readBigUInt64BE();
}

function refsToRaw(refs: SummaryRefEntry[]): RawRefs {
  return refs.map((r) => [r.name, [r.size, Buffer.from(r.checksum, 'hex'), r.metadata]]);
}

function refsFromRaw(raw: RawRefs, source: string): SummaryRefEntry[] {
  return raw.map(([name, [size, csum, metadata]]) => {
    if (csum.length !== 32) throw new OstreeError('ECORRUPT', `${source}: ref '${name}' has a ${csum.length}-byte checksum (expected 32)`);
    return { name, size, checksum: csum.toString('hex'), metadata };
  });
}

export function serializeSummary(s: SummaryFile): Buffer {
  return serialize(SUMMARY_T, [refsToRaw(s.refs), s.extensions]);
}

/** Parse a summary (ECORRUPT, naming `source`, when it is not one). */
export function parseSummaryFile(data: Buffer, source = 'summary'): SummaryFile {
  let v: [RawRefs, Array<[string, Variant]>];
  try {
    v = deserialize(SUMMARY_T, data) as [RawRefs, Array<[string, Variant]>];
  } catch (e) {
    throw new OstreeError('ECORRUPT', `${source}: not a valid summary file: ${(e as Error).message}`, { cause: e });
  }
  return { refs: refsFromRaw(v[0], source), extensions: v[1] };
}

/** An extension's value: the first entry with the key, as g_variant_lookup reads it. */
export function summaryExtension(s: SummaryFile, key: string): Variant | undefined {
  return s.extensions.find(([k]) => k === key)?.[1];
}

/** `ostree.summary.collection-map`: collection ID → its refs (empty when absent or mistyped). */
export function summaryCollectionMap(s: SummaryFile, source = 'summary'): Array<[string, SummaryRefEntry[]]> {
  const v = summaryExtension(s, SUMMARY_KEYS.collectionMap);
  if (v === undefined || v.type !== `a{s${SUMMARY_REFS_T}}`) return [];
  return (v.value as Array<[string, RawRefs]>).map(([c, refs]) => [c, refsFromRaw(refs, source)]);
}

/** Build the collection-map extension value. */
export function collectionMapVariant(map: Array<[string, SummaryRefEntry[]]>): Variant {
  return new Variant(`a{s${SUMMARY_REFS_T}}`, map.map(([c, refs]) => [c, refsToRaw(refs)]));
}

// ---------------------------------------------------------------------------------------------
// summary.sig

export function serializeSummarySignatures(sigs: Array<[string, Variant]>): Buffer {
  for (const [k, v] of sigs) if (!isValidType(v.type)) throw new OstreeError('EINVAL', `summary signature '${k}' has an invalid type '${v.type}'`);
  return serialize(SUMMARY_SIG_T, sigs);
}

/** Parse summary.sig (ECORRUPT, naming `source`, when it is not an a{sv}). */
export function parseSummarySignatures(data: Buffer, source = 'summary.sig'): Array<[string, Variant]> {
  try {
    return deserialize(SUMMARY_SIG_T, data) as Array<[string, Variant]>;
  } catch (e) {
    throw new OstreeError('ECORRUPT', `${source}: not a valid summary signature file: ${(e as Error).message}`, { cause: e });
  }
}
