/**
 * The loose object store below the Repo facade: reading metadata objects (bounded, without
 * blocking on whatever sits in an object's place), writing them crash-safely, existence tests,
 * listing, and the repository handle (`RepoCore`) the commit, checkout, refs and remotes
 * modules take instead of the Repo class.
 */
import * as fs from 'node:fs';
import { OstreeError, isErrno } from '../errors.js';
import * as libc from '../native/libc.js';
import type { KeyFile } from '../glib/keyfile.js';
import { MAX_METADATA_SIZE, objectName, type ObjectType } from './objects/common.js';
import { sha256hex, validateChecksum } from './objects/checksum.js';
import { parseCommit, type CommitObject } from './objects/commit.js';
import { parseDirTree, type DirTree } from './objects/dirtree.js';
import { parseDirMeta, type DirMeta } from './objects/dirmeta.js';
import { fileKind, OPEN_OBJECT, readExactly } from './modes/backend.js';
import { linkIntoPlace } from './content.js';
import { objectPath, objectsDir, parseLooseName, tmpName } from './layout.js';
import type { RepoMode } from './modes/mode.js';

/** What the modules under the facade need to know about a repository. */
export interface RepoCore {
  readonly path: string;
  readonly mode: RepoMode;
  readonly config: KeyFile;
}

/** `core.fsync` (default true): whether writes are flushed before they are renamed into place. */
export function fsyncEnabled(repo: RepoCore): boolean { return repo.config.getBoolean('core', 'fsync', true); }

/** Flush the repo's filesystem, as upstream does at the end of a transaction (unless core.fsync=false). */
export function syncRepo(repo: RepoCore): void {
  if (fsyncEnabled(repo)) libc.syncfs(repo.path);
}

export function hasObject(repo: RepoCore, checksum: string, type: ObjectType): boolean {
  try {
    fs.lstatSync(objectPath(repo.path, checksum, type, repo.mode));
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return false;
    throw e;
  }
}

/**
 * Raw bytes of a metadata object. ENOENT if missing; ECORRUPT if something other than a regular
 * file is in its place (a FIFO is never opened for a blocking read) or if it is larger than
 * MAX_METADATA_SIZE (checked before reading).
 */
export function readMetadataObject(repo: RepoCore, checksum: string, type: ObjectType): Buffer {
  if (type === 'file') throw new OstreeError('EINVAL', 'readMetadataObject is for metadata objects; content objects are read through content.ts');
  return readMetadataFile(objectPath(repo.path, checksum, type, repo.mode), objectName(checksum, type), repo.path);
}

/** readMetadataObject for the object file `p` named `name` (of the repository `repoPath`). */
export function readMetadataFile(p: string, name: string, repoPath: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(p, OPEN_OBJECT);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw new OstreeError('ENOENT', `object ${name} not found in repository ${repoPath}`, { path: p });
    if (isErrno(e, 'ELOOP')) throw new OstreeError('ECORRUPT', `object ${name} is a symbolic link, not a regular file (${p})`, { path: p });
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new OstreeError('ECORRUPT', `object ${name} is ${fileKind(st)}, not a regular file (${p}); the repository is corrupt: remove it and run 'ostree fsck'`, { path: p });
    if (st.size > MAX_METADATA_SIZE) throw new OstreeError('ECORRUPT', `object ${name} is ${st.size} bytes, more than the ${MAX_METADATA_SIZE} a metadata object may have (${p})`, { path: p });
    return readExactly(fd, st.size, 0, name);
  } finally {
    fs.closeSync(fd);
  }
}

/** Store a metadata object (bytes as serialized) and return its checksum. Crash-safe. */
export function writeMetadataObject(repo: RepoCore, type: ObjectType, data: Buffer): string {
  if (data.length > MAX_METADATA_SIZE) throw new OstreeError('EINVAL', `a ${type} object of ${data.length} bytes is larger than the ${MAX_METADATA_SIZE} allowed`);
  const checksum = sha256hex(data);
  const final = objectPath(repo.path, checksum, type, repo.mode);
  if (fs.lstatSync(final, { throwIfNoEntry: false })) return checksum;
  const tmp = tmpName(repo.path, 'meta');
  fs.writeFileSync(tmp, data, { mode: 0o644, flag: 'wx' });
  try {
    linkIntoPlace(tmp, final);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  return checksum;
}

export function loadCommit(repo: RepoCore, checksum: string): CommitObject {
  validateChecksum(checksum, 'commit checksum');
  return parseCommit(readMetadataObject(repo, checksum, 'commit'), `commit ${checksum}`);
}

export function loadDirTree(repo: RepoCore, checksum: string): DirTree {
  return parseDirTree(readMetadataObject(repo, checksum, 'dirtree'), `dirtree ${checksum}`);
}

export function loadDirMeta(repo: RepoCore, checksum: string): DirMeta {
  return parseDirMeta(readMetadataObject(repo, checksum, 'dirmeta'), `dirmeta ${checksum}`);
}

/** All loose objects of the repository as `checksum.type` names. */
export function listObjects(repo: RepoCore): Set<string> {
  const out = new Set<string>();
  const dir = objectsDir(repo.path);
  for (const sub of fs.readdirSync(dir)) {
    let names: string[];
    try { names = fs.readdirSync(`${dir}/${sub}`); } catch (e) { if (isErrno(e, 'ENOTDIR')) continue; throw e; }
    for (const f of names) {
      const o = parseLooseName(sub, f, repo.mode);
      if (o !== null) out.add(objectName(o.checksum, o.type));
    }
  }
  return out;
}

/** Full checksums of the commit objects whose checksum starts with `prefix` (1–63 hex digits). */
export function commitsWithPrefix(repo: RepoCore, prefix: string): string[] {
  const out: string[] = [];
  const dir = objectsDir(repo.path);
  let subs: string[];
  try { subs = fs.readdirSync(dir); } catch { return out; }
  for (const sub of subs) {
    if (!sub.startsWith(prefix.slice(0, 2))) continue;
    let names: string[];
    try { names = fs.readdirSync(`${dir}/${sub}`); } catch { continue; }
    for (const n of names) {
      const o = parseLooseName(sub, n, repo.mode);
      if (o !== null && o.type === 'commit' && o.checksum.startsWith(prefix)) out.push(o.checksum);
    }
  }
  return out;
}
