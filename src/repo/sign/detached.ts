/**
 * Signatures inside a commit's detached metadata (`.commitmeta`, a{sv}) and summary.sig: each
 * signature type keeps an `aay` under its key (`ostree.gpgsigs`, `ostree.sign.ed25519`,
 * `ostree.sign.dummy`). Upstream edits the dictionary through a GVariantDict, whose end
 * reorders the keys in GHashTable order; glibDictOrder reproduces that, so a commitmeta we
 * write is byte-identical to upstream's. The file itself is read and written by the commitmeta
 * owners (store.ts, commit/commit.ts).
 */
import { Variant } from '../../glib/gvariant.js';
import { glibDictOrder, glibHashTableOrder } from '../../glib/ghash-order.js';
import { parseCommitMeta } from '../objects/commitmeta.js';
import { readMetadataObject, readMetadataObjectIfPresent, type RepoLocation } from '../store.js';

export type Metadata = Array<[string, Variant]>;

export const GPG_SIGS_KEY = 'ostree.gpgsigs';

/** The signatures stored under `key` (null: none of that key, or not an `aay`). */
export function signaturesIn(meta: Metadata | null, key: string): Buffer[] | null {
  const v = meta?.find(([k]) => k === key)?.[1];
  if (!v || v.type !== 'aay') return null;
  return v.value as Buffer[];
}

/** The metadata with `sig` appended to the array under `key` (as a GVariantDict would end it). */
export function appendSignature(meta: Metadata | null, key: string, sig: Buffer): Metadata {
  const existing = signaturesIn(meta, key) ?? [];
  return glibDictOrder([...(meta ?? []), [key, new Variant('aay', [...existing, sig])]]);
}

/** The metadata with the array under `key` replaced by `sigs`, or removed when empty. */
export function replaceSignatures(meta: Metadata, key: string, sigs: Buffer[]): Metadata {
  if (sigs.length > 0) return glibDictOrder([...meta, [key, new Variant('aay', sigs)]]);
  // A removed key leaves its slot behind: the others keep the places they had with it.
  const order = glibHashTableOrder(meta.map(([k]) => k)).filter((k) => k !== key);
  const byKey = new Map(meta);
  return order.map((k) => [k, byKey.get(k)!]);
}

/** What a commit's signatures cover (its object's bytes) and its detached metadata (or null). */
export function commitSignedData(repo: RepoLocation, checksum: string): { data: Buffer; meta: Metadata | null } {
  const data = readMetadataObject(repo, checksum, 'commit');
  const raw = readMetadataObjectIfPresent(repo, checksum, 'commitmeta');
  return { data, meta: raw === null ? null : parseCommitMeta(raw, `${checksum}.commitmeta`) };
}
