/**
 * A tombstone commit object (`.tombstone-commit`, upstream's `a{sv}` {'commit': <checksum as a
 * NUL-terminated bytestring>}, big endian): left in place of a deleted commit when
 * `core.tombstone-commits` is on, so pulls know it was removed on purpose.
 */
import { deserialize, serialize, Variant } from '../../glib/gvariant.js';
import { BE } from './common.js';

export function serializeTombstone(commit: string): Buffer {
  return serialize('a{sv}', [['commit', new Variant('ay', Buffer.from(`${commit}\0`))]], BE);
}

/** The commit a tombstone names, or null when it names none. */
export function parseTombstone(data: Buffer): string | null {
  const entries = deserialize('a{sv}', data, BE) as Array<[string, Variant]>;
  const v = entries.find(([k]) => k === 'commit')?.[1];
  if (!v || !Buffer.isBuffer(v.value)) return null;
  return (v.value as Buffer).toString('latin1').replace(/\0$/, '');
}
