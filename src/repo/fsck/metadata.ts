/**
 * fsck's metadata phase: every metadata object reachable from the commits being verified
 * re-hashes to its name, parses, passes upstream's structure checks (dirtree names and order,
 * checksum sizes, dirmeta mode bits) and is in normal form (upstream: fsck_one_object for
 * metadata). The walk (traverse.ts walkDirTrees) visits each object once, in a fixed order
 * whose positions order the final report, and hands the content objects it meets to the
 * content phase as it goes.
 */
import { OstreeError } from '../../errors.js';
import { parseCommit, serializeCommit, type CommitObject } from '../objects/commit.js';
import { parseCommitMeta } from '../objects/commitmeta.js';
import { parseDirMeta, serializeDirMeta } from '../objects/dirmeta.js';
import { parseDirTree, type DirTree } from '../objects/dirtree.js';
import { S_IFMT } from '../objects/common.js';
import { sha256hex } from '../objects/checksum.js';
import { CorruptGraphError, walkDirTrees } from '../traverse.js';
import { readMetadataObject, type RepoLocation } from '../store.js';

export type MetadataType = 'commit' | 'dirtree' | 'dirmeta' | 'commitmeta';

/** A problem met during the check; `pos` is the object's position in the walk. */
export interface Problem { name: string; code: string; message: string; pos: number }

const OTHER_DIR_BITS = ~(S_IFMT | 0o7777) >>> 0;

function readForFsck(repo: RepoLocation, checksum: string, type: MetadataType): Buffer {
  try {
    return readMetadataObject(repo, checksum, type);
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'ENOENT') throw new OstreeError('ENOENT', `Object missing: ${checksum}.${type}`);
    throw e;
  }
}

/**
 * Verify a metadata object's checksum, structure and normal form; return the parsed object.
 * Throws ENOENT if missing, ECORRUPT otherwise (message prefixed like upstream's).
 */
export function fsckMetadataObject(repo: RepoLocation, checksum: string, type: MetadataType): CommitObject | DirTree | null {
  const name = `${checksum}.${type}`;
  let data: Buffer;
  try {
    data = readForFsck(repo, checksum, type);
  } catch (e) {
    // Not a regular file (a FIFO posing as the object), or too large to be metadata.
    if (e instanceof OstreeError && e.code === 'ECORRUPT') throw new OstreeError('ECORRUPT', `fsck ${name}: ${e.message}`, { cause: e });
    throw e;
  }
  try {
    if (type === 'commitmeta') { parseCommitMeta(data, name); return null; }
    const actual = sha256hex(data);
    if (actual !== checksum) throw new OstreeError('ECORRUPT', `Corrupted ${type} object; checksum expected='${checksum}' actual='${actual}'`);
    let re: Buffer;
    let parsed: CommitObject | DirTree | null;
    if (type === 'commit') {
      const c = parseCommit(data, name);
      if (c.metadata.some(([k]) => k === '')) throw new OstreeError('ECORRUPT', `${name}: Empty metadata key`);
      re = serializeCommit(c);
      parsed = c;
    } else if (type === 'dirtree') {
      return parseDirTree(data, name);
    } else {
      const m = parseDirMeta(data, name);
      if ((m.mode & OTHER_DIR_BITS) !== 0) throw new OstreeError('ECORRUPT', `${name}: Invalid mode ${m.mode}; invalid bits in mode`);
      re = serializeDirMeta(m);
      parsed = null;
    }
    if (!re.equals(data)) throw new OstreeError('ECORRUPT', `${name}: Not normal form`);
    return parsed;
  } catch (e) {
    throw new OstreeError('ECORRUPT', `fsck ${name}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * fsck hands content objects to the pool while it walks the trees, in chunks that start small
 * (the workers get going as soon as the walk reaches the first files) and grow to this size.
 */
const STREAM_CHUNK = 256;
const STREAM_FIRST_CHUNK = 16;

export interface MetadataWalkResult {
  /** Objects visited, metadata and content: the next walk position. */
  total: number;
  problems: Problem[];
  /** Content objects met, each once, in walk order; filePos[i] is files[i]'s position. */
  files: string[];
  filePos: number[];
}

/**
 * Check the metadata of `commits` (each object once) and collect their content objects,
 * streaming them to `sink` as they are found; the last chunk is left for the caller
 * (files[pushed...]), returned as `pushed`.
 */
export function walkMetadata(repo: RepoLocation, commits: string[], sink: (items: string[]) => void): MetadataWalkResult & { pushed: number } {
  // Walk order positions (for reporting problems in traversal order) are counted, not stored
  // as names: 30k `<checksum>.file` strings and their hashing were a good part of the walk.
  const seenMeta = new Set<string>();   // `<checksum>.<type>` of metadata objects
  const seenFiles = new Set<string>();  // content checksums
  const r: MetadataWalkResult = { total: 0, problems: [], files: [], filePos: [] };
  const { files, filePos } = r;
  let pushed = 0; // files[0, pushed) are with the sink already
  let chunk = STREAM_FIRST_CHUNK;
  const visitMeta = (checksum: string, type: 'commit' | 'dirtree' | 'dirmeta'): CommitObject | DirTree | null | undefined => {
    const name = `${checksum}.${type}`;
    if (seenMeta.has(name)) return undefined;
    seenMeta.add(name);
    const pos = r.total++;
    try {
      return fsckMetadataObject(repo, checksum, type);
    } catch (e) {
      const oe = e as OstreeError;
      r.problems.push({ name, code: oe.code ?? 'EIO', message: oe.message, pos });
      return undefined;
    }
  };
  const hooks = {
    tree: (tree: string): DirTree | null => {
      const t = visitMeta(tree, 'dirtree') as DirTree | undefined;
      if (!t) return null;
      for (const f of t.files) {
        const cs = f.checksum;
        if (!seenFiles.has(cs)) { seenFiles.add(cs); files.push(cs); filePos.push(r.total++); }
      }
      if (files.length - pushed >= chunk) {
        sink(files.slice(pushed));
        pushed = files.length;
        chunk = Math.min(STREAM_CHUNK, chunk * 2);
      }
      return t;
    },
    dirmeta: (m: string): void => { visitMeta(m, 'dirmeta'); },
  };
  for (const c of commits) {
    const obj = visitMeta(c, 'commit') as CommitObject | undefined;
    if (!obj) continue;
    visitMeta(obj.rootMeta, 'dirmeta');
    try {
      walkDirTrees(obj.rootTree, hooks);
    } catch (e) {
      if (!(e instanceof CorruptGraphError)) throw e;
      r.problems.push({ name: e.objectName, code: 'ECORRUPT', message: e.message, pos: r.total++ });
    }
  }
  return { ...r, pushed };
}
