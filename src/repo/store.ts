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
import { readFileBounded } from '../util/fs.js';
import { linkIntoPlace } from './content.js';
import { objectExtension, objectPath, objectsDir, parseLooseName, tmpName } from './layout.js';
import { parentRepos } from './parent-repos.js';
import type { RepoMode } from './modes/mode.js';

/** Where a repository is and how its objects are stored: all the object readers need (the
 *  walkers, fsck, prune and pull take this, not the Repo class). */
export interface RepoLocation { readonly path: string; readonly mode: RepoMode }

/** What the modules under the facade need to know about a repository. */
export interface RepoCore extends RepoLocation {
  readonly config: KeyFile;
  /** Called by the ref writer after a ref changed; the Repo facade regenerates the summary
   *  there when configured to (upstream's _ostree_repo_maybe_regenerate_summary). */
  refsChanged?(): Promise<void>;
}

/** `core.fsync` (default true): whether writes are flushed before they are renamed into place. */
export function fsyncEnabled(repo: RepoCore): boolean { return repo.config.getBoolean('core', 'fsync', true); }

/** Flush the repo's filesystem, as upstream does at the end of a transaction (unless core.fsync=false). */
export function syncRepo(repo: RepoCore): void {
  if (fsyncEnabled(repo)) libc.syncfs(repo.path);
}

/** Whether the object is in the repository itself (its parents not consulted). */
export function hasLooseObject(repo: RepoLocation, checksum: string, type: ObjectType): boolean {
  // no exception for a missing object: a pull asks this of every object it may fetch, and a
  // thrown ENOENT (an Error with its stack) cost more than the lstat itself
  try {
    return fs.lstatSync(objectPath(repo.path, checksum, type, repo.mode), { throwIfNoEntry: false }) !== undefined;
  } catch (e) {
    if (isErrno(e, 'ENOTDIR')) return false;
    throw e;
  }
}

/** Whether the object is in the repository or one of its `core.parent` repositories (upstream's
 *  ostree_repo_has_object: a pull skips what a parent holds). */
export function hasObject(repo: RepoLocation, checksum: string, type: ObjectType): boolean {
  if (hasLooseObject(repo, checksum, type)) return true;
  return parentRepos(repo.path).some((p) => hasLooseObject(p, checksum, type));
}

/** After this many checks in one `objects/XX/` directory, it is listed once instead. */
const LIST_AFTER_CHECKS = 4;

/**
 * hasObject for one operation that asks it of many objects, each once (a pull). The
 * `core.parent` chain is read once, not checked against the config file on every miss. A
 * directory `objects/XX/` asked about often is read once (one getdents for its hundreds of
 * names instead of an lstat each: a 30k-file update asks about every object it already has).
 * A listing stays true for the caller's purpose under the repository lock: objects are not
 * deleted meanwhile, and one written since by someone else only costs a redundant fetch,
 * which storing tolerates.
 */
export function objectPresence(repo: RepoLocation): (checksum: string, type: ObjectType) => boolean {
  const parents = parentRepos(repo.path);
  const base = objectsDir(repo.path);
  const checks = new Map<string, number>();
  const listed = new Map<string, Set<string>>();
  const own = (checksum: string, type: ObjectType): boolean => {
    const prefix = checksum.slice(0, 2);
    let names = listed.get(prefix);
    if (names === undefined) {
      const n = (checks.get(prefix) ?? 0) + 1;
      checks.set(prefix, n);
      if (n <= LIST_AFTER_CHECKS) return hasLooseObject(repo, checksum, type);
      names = listDirectory(`${base}/${prefix}`);
      listed.set(prefix, names);
    }
    return names.has(`${checksum.slice(2)}.${objectExtension(type, repo.mode)}`);
  };
  if (parents.length === 0) return own;
  return (checksum, type) => own(checksum, type) || parents.some((p) => hasLooseObject(p, checksum, type));
}

function listDirectory(dir: string): Set<string> {
  try {
    return new Set(fs.readdirSync(dir));
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return new Set();
    throw e;
  }
}

/**
 * Raw bytes of a metadata object: THE metadata reader (the walkers, fsck, prune, pull and
 * checkout all read through it). Read by util/fs.ts's bounded reader without following a
 * symlink: ENOENT if missing; ECORRUPT if something other than a regular file is in its place
 * (a FIFO is never opened for a blocking read) or if it is larger than MAX_METADATA_SIZE
 * (checked before reading).
 */
export function readMetadataObject(repo: RepoLocation, checksum: string, type: ObjectType): Buffer {
  const data = readMetadataObjectIfPresent(repo, checksum, type);
  if (data === null) {
    throw new OstreeError('ENOENT', `No such metadata object ${objectName(checksum, type)} in repository ${repo.path}`, { path: objectPath(repo.path, checksum, type, repo.mode) });
  }
  return data;
}

/** readMetadataObject, null when the object is neither in the repository nor in one of its
 *  `core.parent` repositories (upstream loads metadata through the parent chain). */
export function readMetadataObjectIfPresent(repo: RepoLocation, checksum: string, type: ObjectType): Buffer | null {
  if (type === 'file') throw new OstreeError('EINVAL', 'readMetadataObject is for metadata objects; content objects are read through content.ts');
  const own = readLooseMetadata(repo, checksum, type);
  if (own !== null) return own;
  for (const p of parentRepos(repo.path)) {
    const data = readLooseMetadata(p, checksum, type);
    if (data !== null) return data;
  }
  return null;
}

function readLooseMetadata(repo: RepoLocation, checksum: string, type: ObjectType): Buffer | null {
  return readFileBounded(objectPath(repo.path, checksum, type, repo.mode), MAX_METADATA_SIZE, {
    what: `Object ${objectName(checksum, type)}`, follow: false, advice: "the repository is corrupt: remove it and run 'ostree fsck'",
  });
}

/** Store a metadata object (bytes as serialized) and return its checksum. Crash-safe. */
export function writeMetadataObject(repo: RepoCore, type: ObjectType, data: Buffer, trustedName?: string): string {
  if (data.length > MAX_METADATA_SIZE) throw new OstreeError('EINVAL', `a ${type} object of ${data.length} bytes is larger than the ${MAX_METADATA_SIZE} allowed`);
  // A trusted local copy (pull-local without --untrusted) keeps the source's name unhashed, as upstream.
  const checksum = trustedName ?? sha256hex(data);
  const final = objectPath(repo.path, checksum, type, repo.mode);
  // A commit that is back makes its tombstone stale (as upstream's write of a commit).
  if (type === 'commit') fs.rmSync(objectPath(repo.path, checksum, 'tombstone-commit', repo.mode), { force: true });
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

export function loadCommit(repo: RepoLocation, checksum: string): CommitObject {
  validateChecksum(checksum, 'commit checksum');
  return parseCommit(readMetadataObject(repo, checksum, 'commit'), `${checksum}.commit`);
}

/** A commit, or null when its object is not in the repository (a parent beyond a shallow pull). */
export function loadCommitIfPresent(repo: RepoLocation, checksum: string): CommitObject | null {
  validateChecksum(checksum, 'commit checksum');
  const data = readMetadataObjectIfPresent(repo, checksum, 'commit');
  return data === null ? null : parseCommit(data, `${checksum}.commit`);
}

export function loadDirTree(repo: RepoLocation, checksum: string): DirTree {
  return parseDirTree(readMetadataObject(repo, checksum, 'dirtree'), `${checksum}.dirtree`);
}

export function loadDirMeta(repo: RepoLocation, checksum: string): DirMeta {
  return parseDirMeta(readMetadataObject(repo, checksum, 'dirmeta'), `${checksum}.dirmeta`);
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
