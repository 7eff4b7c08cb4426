/**
 * The dirtree object, `(a(say)a(sayay))`: a directory's files (name, content checksum) and
 * subdirectories (name, dirtree checksum, dirmeta checksum), each list strictly sorted by name
 * in byte order. This is the one dirtree parser: every reader (checkout, fsck, prune, pull, ls)
 * goes through parseDirTree, which refuses entry names that could step outside the directory
 * ('', '.', '..', names with '/' or NUL).
 */
import { isUtf8 } from 'node:buffer';
import { OstreeError } from '../../errors.js';
import { offsetSizeFor, readOffset, totalSize, writeOffsetAt } from '../../glib/gvariant.js';
import { validateChecksum } from './checksum.js';

export interface DirTreeFile { name: string; checksum: string }
export interface DirTreeDir { name: string; treeChecksum: string; metaChecksum: string }
export interface DirTree { files: DirTreeFile[]; dirs: DirTreeDir[] }

/** Upstream's rule for a name inside a dirtree; the error ends with upstream's own words. */
export function validateFilename(name: string, objName = 'dirtree'): void {
  let why: string | null = null;
  if (name === '') why = 'Invalid empty filename';
  else if (name === '.') why = "Invalid self-referential filename '.'";
  else if (name === '..') why = "Invalid path uplink filename '..'";
  else if (name.includes('/')) why = `Invalid / in filename ${name}`;
  else if (name.includes('\0')) why = 'Invalid NUL in filename';
  // upstream's words right after the object's name, as its pull and fsck print them
  if (why !== null) throw new OstreeError('ECORRUPT', `${objName}: ${why} (an invalid file name)`);
}

/**
 * Byte order of the names' UTF-8. UTF-16 code units order the same way up to the first
 * difference when both differing units are below the surrogates (U+D800), so only names that
 * differ there are encoded.
 */
function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  return a.length - b.length;
}

export function sortDirTree(t: DirTree): DirTree {
  return {
    files: [...t.files].sort((a, b) => compareNames(a.name, b.name)),
    dirs: [...t.dirs].sort((a, b) => compareNames(a.name, b.name)),
  };
}

// The dirtree codec is written out by hand rather than through the generic GVariant codec: it is
// the hottest format (one per directory in every checkout, fsck, prune and pull) and the generic
// path costs ~0.3 ms per object. Parsing is strict: it accepts exactly the normal form (what
// serializing the parsed value gives back, checked arithmetically on every container), valid
// names, 32-byte checksums and strictly sorted entries; anything else is ECORRUPT naming `objName`.

/**
 * Write one `(s ay…)` entry at `pos`: the NUL-terminated name, the 32-byte checksums, then the
 * framing offsets (relative to the entry) of all but the last member, last-first; returns its end.
 */
function writeEntry(out: Buffer, pos: number, name: string, nameBytes: number, size: number, c0: string, c1?: string): number {
  const nameLen = nameBytes + 1;
  out.write(name, pos, nameBytes, 'utf8');
  out[pos + nameLen - 1] = 0;
  out.write(c0, pos + nameLen, 32, 'hex');
  let body = nameLen + 32;
  if (c1 === undefined) {
    writeOffsetAt(out, pos + body, size - body, nameLen);
    return pos + size;
  }
  out.write(c1, pos + body, 32, 'hex');
  body += 32;
  const os = (size - body) / 2;
  writeOffsetAt(out, pos + body, os, nameLen + 32);
  writeOffsetAt(out, pos + body + os, os, nameLen);
  return pos + size;
}

/**
 * Serialized in one buffer, sized first: each array is its entries' bodies, then their end
 * offsets (relative to the array); the struct ends with the end offset of the files array.
 */
export function serializeDirTree(t: DirTree): Buffer {
  const s = sortDirTree(t);
  const files = s.files;
  const dirs = s.dirs;
  const fileName = new Array<number>(files.length);
  const fileSize = new Array<number>(files.length);
  let filesBody = 0;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    validateFilename(f.name);
    validateChecksum(f.checksum, `checksum of '${f.name}'`);
    if (i > 0 && compareNames(files[i - 1]!.name, f.name) >= 0) throw new OstreeError('ECORRUPT', `dirtree: entries not sorted or duplicated at '${f.name}'`);
    fileName[i] = Buffer.byteLength(f.name, 'utf8');
    fileSize[i] = totalSize(fileName[i]! + 33, 1);
    filesBody += fileSize[i]!;
  }
  const dirName = new Array<number>(dirs.length);
  const dirSize = new Array<number>(dirs.length);
  let dirsBody = 0;
  for (let i = 0; i < dirs.length; i++) {
    const d = dirs[i]!;
    validateFilename(d.name);
    validateChecksum(d.treeChecksum, `tree checksum of '${d.name}'`);
    validateChecksum(d.metaChecksum, `meta checksum of '${d.name}'`);
    if (i > 0 && compareNames(dirs[i - 1]!.name, d.name) >= 0) throw new OstreeError('ECORRUPT', `dirtree: entries not sorted or duplicated at '${d.name}'`);
    dirName[i] = Buffer.byteLength(d.name, 'utf8');
    dirSize[i] = totalSize(dirName[i]! + 65, 2);
    dirsBody += dirSize[i]!;
  }
  const filesSize = totalSize(filesBody, files.length);
  const dirsSize = totalSize(dirsBody, dirs.length);
  const body = filesSize + dirsSize;
  const size = totalSize(body, 1);
  const out = Buffer.allocUnsafe(size);
  const fos = files.length === 0 ? 0 : (filesSize - filesBody) / files.length;
  for (let i = 0, at = 0; i < files.length; i++) {
    at = writeEntry(out, at, files[i]!.name, fileName[i]!, fileSize[i]!, files[i]!.checksum);
    writeOffsetAt(out, filesBody + i * fos, fos, at);
  }
  const dos = dirs.length === 0 ? 0 : (dirsSize - dirsBody) / dirs.length;
  for (let i = 0, at = 0; i < dirs.length; i++) {
    at = writeEntry(out, filesSize + at, dirs[i]!.name, dirName[i]!, dirSize[i]!, dirs[i]!.treeChecksum, dirs[i]!.metaChecksum) - filesSize;
    writeOffsetAt(out, filesSize + dirsBody + i * dos, dos, at);
  }
  writeOffsetAt(out, body, size - body, filesSize);
  return out;
}

function badDirTree(objName: string, why: string): OstreeError {
  return new OstreeError('ECORRUPT', `${objName}: malformed dirtree (${why})`);
}

function notNormalForm(objName: string): OstreeError {
  return new OstreeError('ECORRUPT', `${objName}: Not normal form`);
}

/** Element bounds [start0, end0, start1, end1, …] (absolute) of a normal-form GVariant array of
 *  variable-size, alignment-1 elements stored in data[from, to). */
function varArrayBounds(data: Buffer, from: number, to: number, objName: string): number[] {
  const len = to - from;
  if (len === 0) return [];
  const os = offsetSizeFor(len);
  const lastEnd = readOffset(data, to - os, os);
  if (lastEnd > len - os || (len - lastEnd) % os !== 0) throw badDirTree(objName, 'bad array framing');
  const n = (len - lastEnd) / os;
  if (totalSize(lastEnd, n) !== len) throw notNormalForm(objName);
  const out: number[] = new Array(2 * n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = readOffset(data, from + lastEnd + i * os, os);
    if (end < start || end > lastEnd) throw badDirTree(objName, 'bad array element offset');
    out[2 * i] = from + start;
    out[2 * i + 1] = from + end;
    start = end;
  }
  if (start !== lastEnd) throw badDirTree(objName, 'bad array element offsets');
  return out;
}

/** The GVariant string in data[from, to): NUL-terminated, no inner NUL, valid UTF-8, and a valid
 *  dirtree entry name. */
function entryName(data: Buffer, from: number, to: number, objName: string): string {
  if (to <= from || data[to - 1] !== 0) throw badDirTree(objName, 'unterminated string');
  if (data.indexOf(0, from) !== to - 1) throw badDirTree(objName, 'NUL inside a string');
  if (!isUtf8(data.subarray(from, to - 1))) throw badDirTree(objName, 'string is not valid UTF-8');
  const name = data.toString('utf8', from, to - 1);
  if (name.length <= 2 || name.indexOf('/') >= 0) validateFilename(name, objName);
  return name;
}

/** One `(s ay…)` entry of `nChecksums` 32-byte checksums in data[s0, e1): the name and where
 *  the checksums start. */
function dirTreeEntry(data: Buffer, s0: number, e1: number, nChecksums: number, prev: [number, number], objName: string): { name: string; at: number } {
  const len = e1 - s0;
  const os = offsetSizeFor(len);
  if (len < nChecksums * os) throw badDirTree(objName, 'short entry');
  const nameEnd = readOffset(data, e1 - os, os);
  let end = nameEnd;
  for (let i = 1; i < nChecksums; i++) {
    const next = readOffset(data, e1 - (i + 1) * os, os);
    if (next < end) throw badDirTree(objName, 'bad entry framing');
    end = next;
  }
  if (end > len - nChecksums * os) throw badDirTree(objName, 'bad entry framing');
  if (totalSize(len - nChecksums * os, nChecksums) !== len) throw notNormalForm(objName);
  const name = entryName(data, s0, s0 + nameEnd, objName);
  for (let i = 0, at = nameEnd; i < nChecksums; i++, at += 32) {
    const memberEnd = i === nChecksums - 1 ? len - nChecksums * os : readOffset(data, e1 - (i + 2) * os, os);
    if (memberEnd - at !== 32) throw new OstreeError('ECORRUPT', `${objName}: checksum of '${name}' is ${memberEnd - at} bytes, expected 32`);
  }
  // Strictly increasing byte order (strcmp), compared in place.
  if (prev[0] >= 0 && data.compare(data, s0, s0 + nameEnd - 1, prev[0], prev[1]) >= 0) {
    throw new OstreeError('ECORRUPT', `${objName}: entries not sorted or duplicated at '${name}'`);
  }
  prev[0] = s0; prev[1] = s0 + nameEnd - 1;
  return { name, at: s0 + nameEnd };
}

export function parseDirTree(data: Buffer, objName = 'dirtree'): DirTree {
  if (data.length === 0) throw badDirTree(objName, 'empty');
  const os = offsetSizeFor(data.length);
  const filesEnd = readOffset(data, data.length - os, os);
  if (filesEnd > data.length - os) throw badDirTree(objName, 'bad framing');
  if (totalSize(data.length - os, 1) !== data.length) throw notNormalForm(objName);
  const fb = varArrayBounds(data, 0, filesEnd, objName);
  const files: DirTreeFile[] = new Array(fb.length / 2);
  let prev: [number, number] = [-1, -1];
  for (let i = 0; i < fb.length; i += 2) {
    const { name, at } = dirTreeEntry(data, fb[i]!, fb[i + 1]!, 1, prev, objName);
    files[i / 2] = { name, checksum: data.toString('hex', at, at + 32) };
  }
  const db = varArrayBounds(data, filesEnd, data.length - os, objName);
  const dirs: DirTreeDir[] = new Array(db.length / 2);
  prev = [-1, -1];
  for (let i = 0; i < db.length; i += 2) {
    const { name, at } = dirTreeEntry(data, db[i]!, db[i + 1]!, 2, prev, objName);
    dirs[i / 2] = { name, treeChecksum: data.toString('hex', at, at + 32), metaChecksum: data.toString('hex', at + 32, at + 64) };
  }
  return { files, dirs };
}
