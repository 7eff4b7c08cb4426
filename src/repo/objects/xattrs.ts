/**
 * Extended attributes as objects store them, `a(ayay)`: each name NUL-terminated, sorted by
 * name in byte order (upstream's canonical form).
 */
import { OstreeError } from '../../errors.js';

/** An extended attribute: name without the trailing NUL, raw value. */
export type Xattr = [name: string, value: Buffer];

/** Sort xattrs by name (byte order), as upstream canonicalizes them. */
export function sortXattrs(x: Xattr[]): Xattr[] {
  return [...x].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
}

export function xattrsToWire(x: Xattr[]): Array<[Buffer, Buffer]> {
  return sortXattrs(x).map(([n, v]) => [Buffer.concat([Buffer.from(n, 'utf8'), Buffer.from([0])]), v]);
}

export function xattrsFromWire(w: Array<[Buffer, Buffer]>, objName: string): Xattr[] {
  return w.map(([n, v]) => {
    const name = n.length > 0 && n[n.length - 1] === 0 ? n.subarray(0, -1) : n;
    if (name.length === 0 || name.includes(0)) throw new OstreeError('ECORRUPT', `${objName}: invalid xattr name`);
    return [name.toString('utf8'), v];
  });
}
