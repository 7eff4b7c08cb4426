/**
 * The one owner of every path under a repository (upstream: `_ostree_loose_path`,
 * `_ostree_get_commitpartial_path` and the directory names in ostree-repo.c):
 *
 *   REPO/config                          GKeyFile, `core.mode` and remotes
 *   REPO/objects/XX/YYYY….<ext>          loose objects, XX = first two hex digits of the checksum
 *   REPO/refs/heads/<ref>                local refs
 *   REPO/refs/remotes/<remote>/<ref>     refs pulled from a remote
 *   REPO/refs/mirrors/<collection>/<ref> refs of other collections
 *   REPO/state/<checksum>.commitpartial  a commit whose objects are not all present yet
 *   REPO/tmp/                            temporary names; everything is renamed into place
 *   REPO/summary, REPO/summary.sig       the summary file and its signatures
 *   REPO/tmp/cache/summaries/<remote>    a remote's summary (and .sig) as last fetched
 *                                        (the cache directory can be elsewhere: --cache-dir)
 *   REPO/<remote>.trustedkeys.gpg        GPG keyring of a remote (`remote gpg-import`)
 *   REPO/deltas/XX/YYYY…[-TO]/           a static delta: superblock and parts 0, 1, …
 *   REPO/delta-indexes/XX/YYYY….index    the deltas to one commit
 *
 * Nothing else in the code builds these paths by hand.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { isErrno } from '../errors.js';
import { contentExtension, type RepoMode } from './modes/mode.js';
import type { ObjectType } from './objects/common.js';

/** Loose object file extension for an object type in a repository of `mode`. */
export function objectExtension(type: ObjectType, mode: RepoMode): string {
  switch (type) {
    case 'file': return contentExtension(mode);
    case 'tombstone-commit': return 'tombstone-commit';
    default: return type;
  }
}

const EXTENSION_TYPES: Record<string, ObjectType> = {
  file: 'file', filez: 'file', dirtree: 'dirtree', dirmeta: 'dirmeta', commit: 'commit',
  commitmeta: 'commitmeta', 'tombstone-commit': 'tombstone-commit',
};

/**
 * The object named by a loose file `YYYY….ext` inside `objects/XX/`, or null when the name is
 * not an object of a repository of `mode` (foreign extensions, the other mode's content files,
 * stray temporary files).
 */
export function parseLooseName(subdir: string, file: string, mode: RepoMode): { checksum: string; type: ObjectType } | null {
  const dot = file.indexOf('.');
  if (dot !== 62 || !/^[0-9a-f]{2}$/.test(subdir)) return null;
  const ext = file.slice(dot + 1);
  const type = EXTENSION_TYPES[ext];
  if (type === undefined || (type === 'file' && ext !== contentExtension(mode))) return null;
  const checksum = subdir + file.slice(0, dot);
  return /^[0-9a-f]{64}$/.test(checksum) ? { checksum, type } : null;
}

/** `objects/XX/YYYY….ext`, relative to the repository (also the URL path in an archive repo). */
export function objectRelPath(checksum: string, type: ObjectType, mode: RepoMode): string {
  return `objects/${checksum.slice(0, 2)}/${checksum.slice(2)}.${objectExtension(type, mode)}`;
}

export function objectPath(repoPath: string, checksum: string, type: ObjectType, mode: RepoMode): string {
  return path.join(repoPath, objectRelPath(checksum, type, mode));
}

/**
 * Paths of loose objects of one type in one repository, for hot loops (fsck opens every content
 * object; path.join per object is measurable at 30k objects): the base is normalized once, then
 * each path is one concatenation.
 */
export function objectPathBuilder(repoPath: string, type: ObjectType, mode: RepoMode): (checksum: string) => string {
  const base = objectsDir(repoPath);
  const ext = objectExtension(type, mode);
  return (checksum) => `${base}/${checksum.slice(0, 2)}/${checksum.slice(2)}.${ext}`;
}

/** Path of a loose object given its extension directly (`file`, `filez`, `dirtree`, …). */
export function loosePath(repoPath: string, checksum: string, ext: string): string {
  return path.join(repoPath, 'objects', checksum.slice(0, 2), `${checksum.slice(2)}.${ext}`);
}

export function objectsDir(repoPath: string): string { return path.join(repoPath, 'objects'); }
/** Where user-mode checkouts of an archive repository keep inflated files to hardlink (REPO/uncompressed-objects-cache/XX/REST.file). */
export function uncompressedCachePath(repoPath: string, checksum: string): string {
  return path.join(repoPath, 'uncompressed-objects-cache', checksum.slice(0, 2), `${checksum.slice(2)}.file`);
}
export function configPath(repoPath: string): string { return path.join(repoPath, 'config'); }
export function stateDir(repoPath: string): string { return path.join(repoPath, 'state'); }
export function tmpDir(repoPath: string): string { return path.join(repoPath, 'tmp'); }
export function summaryPath(repoPath: string): string { return path.join(repoPath, 'summary'); }
/** The GPG keyring file name of a remote (in the repository, or in remotes.d for system remotes). */
export function remoteKeyringName(remote: string): string { return `${remote}.trustedkeys.gpg`; }
export function summarySigPath(repoPath: string): string { return path.join(repoPath, 'summary.sig'); }
/** REPO/tmp/cache: the default cache directory (`--cache-dir` picks another). */
export function cacheDir(repoPath: string): string { return path.join(repoPath, 'tmp', 'cache'); }
/** `CACHE/summaries/REMOTE[.sig]`: the last summary (and signatures) fetched from a remote. */
export function summaryCachePath(cache: string, remote: string, sig = false): string {
  return path.join(cache, 'summaries', sig ? `${remote}.sig` : remote);
}

export type RefKind = 'heads' | 'remotes' | 'mirrors';
export function refsDir(repoPath: string, kind: RefKind): string { return path.join(repoPath, 'refs', kind); }

/** The file of a local ref (remote null) or of a remote's ref. Names must be validated first. */
export function refPath(repoPath: string, remote: string | null, ref: string): string {
  return remote === null ? path.join(repoPath, 'refs', 'heads', ref) : path.join(repoPath, 'refs', 'remotes', remote, ref);
}

// ---------------------------------------------------------------------------------------------
// state/<checksum>.commitpartial: present while a commit's closure is incomplete. Pull writes
// it empty; fsck --repair writes 'f' (upstream: "fsck detected corruption").

export type CommitState = 'normal' | 'partial' | 'fsck-partial';

export function commitPartialPath(repoPath: string, checksum: string): string {
  return path.join(repoPath, 'state', `${checksum}.commitpartial`);
}

export function isCommitPartial(repoPath: string, checksum: string): boolean {
  return fs.existsSync(commitPartialPath(repoPath, checksum));
}

export function commitState(repoPath: string, checksum: string): CommitState {
  let fd: number;
  try { fd = fs.openSync(commitPartialPath(repoPath, checksum), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW); } catch { return 'normal'; }
  try {
    const b = Buffer.alloc(1);
    return fs.fstatSync(fd).isFile() && fs.readSync(fd, b, 0, 1, 0) === 1 && b[0] === 0x66 /* 'f' */ ? 'fsck-partial' : 'partial';
  } finally { fs.closeSync(fd); }
}

/** Mark a commit partial (`reason` 'fsck' writes upstream's 'f'); false if it already was. */
export function markCommitPartial(repoPath: string, checksum: string, reason: 'pull' | 'fsck' = 'pull'): boolean {
  fs.mkdirSync(stateDir(repoPath), { recursive: true });
  try {
    const fd = fs.openSync(commitPartialPath(repoPath, checksum), 'wx', 0o644);
    try { if (reason === 'fsck') fs.writeSync(fd, 'f'); } finally { fs.closeSync(fd); }
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    throw e;
  }
}

export function clearCommitPartial(repoPath: string, checksum: string): void {
  fs.rmSync(commitPartialPath(repoPath, checksum), { force: true });
}

// ---------------------------------------------------------------------------------------------
// Temporary names under REPO/tmp

let tmpCounter = 0;
/** A unique temporary name under REPO/tmp (renamed into place or removed by its writer). */
export function tmpName(repoPath: string, tag: string): string {
  return path.join(repoPath, 'tmp', `${tag}-${process.pid}-${threadId}-${Date.now().toString(36)}-${tmpCounter++}`);
}

const stagingDirs = new Set<string>();
/** Forget created staging directories (after the committer removed them). */
export function forgetStagingDirs(): void { stagingDirs.clear(); }
/**
 * A temporary name for a commit writer: each thread writes in its own directory under REPO/tmp
 * (`commit-<pid>-<thread>-staging/`), so parallel writers do not contend on one directory's lock.
 */
export function stagingName(repoPath: string): string {
  // (called once per file written: the directory's path is joined once per repository)
  if (repoPath !== lastStaging.repoPath) {
    const d = path.join(repoPath, 'tmp', `commit-${process.pid}-${threadId}-staging`);
    lastStaging = { repoPath, dir: d, prefix: `${d}/o` };
  }
  const dir = lastStaging.dir;
  if (!stagingDirs.has(dir)) { fs.mkdirSync(dir, { recursive: true, mode: 0o700 }); stagingDirs.add(dir); }
  return `${lastStaging.prefix}${tmpCounter++}`;
}
let lastStaging = { repoPath: '', dir: '', prefix: '' };

// ---------------------------------------------------------------------------------------------
// Static deltas (REPO/deltas/, REPO/delta-indexes/): named by the modified base64 of checksums
// ('/' becomes '_', no '=' padding), split after two characters like objects.

function deltaB64(csum: string): string {
  return Buffer.from(csum, 'hex').toString('base64').replace(/=+$/, '').replace(/\//g, '_');
}

/** `deltas/XX/YYYY…[-TO][/TARGET]`: a delta's directory, or a file in it (`superblock`, a part
 *  number, `commitmeta` as a key of the superblock's metadata) — relative to the repository. */
export function deltaRelPath(from: string | null, to: string, target?: string): string {
  const t = deltaB64(to);
  const dir = from === null ? `deltas/${t.slice(0, 2)}/${t.slice(2)}` : (() => {
    const f = deltaB64(from);
    return `deltas/${f.slice(0, 2)}/${f.slice(2)}-${t}`;
  })();
  return target === undefined ? dir : `${dir}/${target}`;
}

/** `deltas/XX/YYYY…[-TO]/superblock` for a delta from `from` (null: from scratch) to `to`. */
export function deltaSuperblockPath(from: string | null, to: string): string {
  return deltaRelPath(from, to, 'superblock');
}

/** `deltas/…/N`: part N of a delta (the same string names an inline part in the superblock). */
export function deltaPartPath(from: string | null, to: string, part: number): string {
  return deltaRelPath(from, to, String(part));
}

/** `delta-indexes/XX/YYYY….index`: the deltas leading to commit `to`. */
export function deltaIndexPath(to: string): string {
  const t = deltaB64(to);
  return `delta-indexes/${t.slice(0, 2)}/${t.slice(2)}.index`;
}

