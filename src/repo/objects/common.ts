/**
 * What every object model shares: the object types and their `checksum.type` names, the byte
 * order (all integers inside OSTree's GVariants are big-endian; upstream byteswaps before
 * serializing), the file type bits of a mode, the size bound on metadata objects, and the way a
 * parse failure is reported (ECORRUPT naming the object).
 */
import { OstreeError } from '../../errors.js';

export type ObjectType = 'file' | 'dirtree' | 'dirmeta' | 'commit' | 'commitmeta' | 'tombstone-commit';
export const METADATA_TYPES: ObjectType[] = ['dirtree', 'dirmeta', 'commit', 'commitmeta', 'tombstone-commit'];

/** Serialization options for every object: big-endian integers. */
export const BE = { bigEndian: true } as const;

/**
 * Largest metadata object (commit, dirtree, dirmeta, commitmeta) read or accepted, checked before
 * a file is read whole; upstream's OSTREE_MAX_METADATA_SIZE (128 MiB since 2020).
 */
export const MAX_METADATA_SIZE = 128 * 1024 * 1024;

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;

export function isSymlinkMode(mode: number): boolean { return (mode & S_IFMT) === S_IFLNK; }
export function isRegularMode(mode: number): boolean { return (mode & S_IFMT) === S_IFREG; }

/** `checksum.type`, upstream's object name string. */
export function objectName(checksum: string, type: ObjectType): string {
  return `${checksum}.${type}`;
}

export function parseObjectName(name: string): { checksum: string; type: ObjectType } {
  const i = name.indexOf('.');
  return { checksum: name.slice(0, i), type: name.slice(i + 1) as ObjectType };
}

/** Run a parser; any failure becomes ECORRUPT prefixed with the object's name. */
export function wrapParse<T>(objName: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'ECORRUPT' && e.message.startsWith(objName)) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new OstreeError('ECORRUPT', `${objName}: ${msg}`, { cause: e });
  }
}
