/**
 * The dirmeta object, `(uuua(ayay))`: a directory's uid, gid, mode (with S_IFDIR) and xattrs.
 */
import { OstreeError } from '../../errors.js';
import { deserialize, serialize } from '../../glib/gvariant.js';
import { BE, S_IFDIR, S_IFMT, wrapParse } from './common.js';
import { xattrsFromWire, xattrsToWire, type Xattr } from './xattrs.js';

export interface DirMeta { uid: number; gid: number; mode: number; xattrs: Xattr[] }
export const DIRMETA_T = '(uuua(ayay))';

export function serializeDirMeta(m: DirMeta): Buffer {
  return serialize(DIRMETA_T, [m.uid, m.gid, m.mode, xattrsToWire(m.xattrs)], BE);
}

export function parseDirMeta(data: Buffer, objName = 'dirmeta'): DirMeta {
  return wrapParse(objName, () => {
    const [uid, gid, mode, x] = deserialize(DIRMETA_T, data, BE) as [number, number, number, Array<[Buffer, Buffer]>];
    if ((mode & S_IFMT) !== S_IFDIR) throw new OstreeError('ECORRUPT', `${objName}: mode 0${mode.toString(8)} is not a directory`);
    return { uid, gid, mode, xattrs: xattrsFromWire(x, objName) };
  });
}
