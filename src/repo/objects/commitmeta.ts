/**
 * The commitmeta object (detached metadata, not covered by the commit's checksum), `a{sv}`.
 */
import { deserialize, serialize, type Variant } from '../../glib/gvariant.js';
import { BE, wrapParse } from './common.js';

export function serializeCommitMeta(m: Array<[string, Variant]>): Buffer {
  return serialize('a{sv}', m, BE);
}

export function parseCommitMeta(data: Buffer, objName = 'commitmeta'): Array<[string, Variant]> {
  return wrapParse(objName, () => deserialize('a{sv}', data, BE) as Array<[string, Variant]>);
}
