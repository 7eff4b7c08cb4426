/**
 * Key order of a GLib GVariantDict (GHashTable with g_str_hash) when it is ended into an
 * a{sv}. Upstream `ostree commit --bootable` builds the metadata through a GVariantDict, so to
 * produce byte-identical commits we reproduce GHashTable's bucket layout (GLib 2.74): 8 initial
 * buckets, index = (hash * 11) % prime, quadratic probing, in-place rehash on growth.
 * Checked against upstream commits with 3 and 13 keys.
 */
const PRIME_MOD = [1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];

/** GLib's g_str_hash (djb2 over the UTF-8 bytes, as signed chars). */
export function gStrHash(s: string): number {
  let h = 5381;
  for (const b of Buffer.from(s, 'utf8')) h = (Math.imul(h, 33) + (b > 127 ? b - 256 : b)) >>> 0;
  return h;
}

/** Iteration order of a GHashTable after inserting `keys` in this order (duplicates ignored);
 *  `hash` is the table's hash function over the key (default g_str_hash). */
export function glibHashTableOrder(keys: string[], hash: (k: string) => number = gStrHash): string[] {
  let shift = 3;
  let size = 8;
  let mod = 7;
  let mask = 7;
  let hashes: number[] = new Array<number>(8).fill(0);
  let ks: Array<string | null> = new Array<string | null>(8).fill(null);
  let nnodes = 0;
  let noccupied = 0;
  const toIndex = (h: number): number => (Math.imul(h, 11) >>> 0) % mod;
  for (const k of keys) {
    let h = hash(k);
    if (h <= 1) h = 2;
    let i = toIndex(h);
    let step = 0;
    let dup = false;
    while (hashes[i] !== 0) {
      if (hashes[i] === h && ks[i] === k) { dup = true; break; }
      step++;
      i = (i + step) & mask;
    }
    if (dup) continue;
    hashes[i] = h; ks[i] = k; nnodes++; noccupied++;
    if ((size > nnodes * 4 && size > 8) || size <= noccupied + Math.floor(noccupied / 16)) {
      const old = size;
      let n = Math.floor(nnodes * 1.333);
      let s = 0;
      while (n) { n >>= 1; s++; }
      shift = Math.max(s, 3);
      size = 1 << shift; mod = PRIME_MOD[shift]!; mask = size - 1;
      if (size > old) {
        hashes = hashes.concat(new Array<number>(size - old).fill(0));
        ks = ks.concat(new Array<string | null>(size - old).fill(null));
      }
      const placed = new Array<boolean>(Math.max(size, old)).fill(false);
      for (let j = 0; j < old; j++) {
        let nh = hashes[j]!;
        if (nh <= 1) { hashes[j] = 0; continue; }
        if (placed[j]) continue;
        hashes[j] = 0;
        let key = ks[j]!;
        ks[j] = null;
        for (;;) {
          let hv = toIndex(nh);
          let st = 0;
          while (placed[hv]) { st++; hv = (hv + st) & mask; }
          placed[hv] = true;
          const replaced = hashes[hv]!;
          hashes[hv] = nh;
          if (replaced <= 1) { ks[hv] = key; break; }
          nh = replaced;
          const k2 = ks[hv]!;
          ks[hv] = key;
          key = k2;
        }
      }
      if (size < old) { hashes = hashes.slice(0, size); ks = ks.slice(0, size); }
      noccupied = nnodes;
    }
  }
  return ks.filter((_, i) => hashes[i]! > 1) as string[];
}

/** Reorder a{sv} entries the way a GVariantDict built from them (in order) would end them. */
export function glibDictOrder<V>(entries: Array<[string, V]>): Array<[string, V]> {
  const last = new Map<string, V>();
  for (const [k, v] of entries) last.set(k, v);
  return glibHashTableOrder(entries.map(([k]) => k)).map((k) => [k, last.get(k)!]);
}
