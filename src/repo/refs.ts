/**
 * Refs: the one owner of REPO/refs. A ref file holds a commit checksum and a newline:
 *
 *   refs/heads/<ref>                local refs (`ref`); a symlink there is an alias of another
 *                                   local ref (`refs --alias`), relative to its own directory
 *   refs/remotes/<remote>/<ref>     a remote's refs (`remote:ref`)
 *   refs/mirrors/<collection>/<ref> refs of other collections (collections.ts names them)
 *
 * Names are checked here, at every entry point (upstream's ostree_validate_rev and
 * ostree_validate_remote_name): components of letters, digits, '_', '-', '.', not starting
 * with '-' or '.', separated by single '/' — so '..', a leading or trailing '/', empty
 * components, NUL and newlines are all refused and no name reaches outside refs/. Ref files
 * are read without blocking (a FIFO in their place is an error) and with a size bound.
 * Listing (refs-list.ts) skips names that are not valid components (`.rsync_info` and the
 * like, as upstream since issue 1285).
 *
 * Revisions (`resolveRev`): a checksum, a unique partial checksum of a commit, a ref,
 * `remote:ref`, `remote/ref`, or a ref some remote has, each optionally followed by `^`
 * (parent), any number of times.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import { isChecksum, validateChecksum } from './objects/checksum.js';
import { readFileBounded } from '../util/fs.js';
import { refPath, refsDir, tmpName } from './layout.js';
import { commitsWithPrefix, fsyncEnabled, loadCommit, type RepoCore } from './store.js';

const REF_COMPONENT = /^[\w\d][-._\w\d]*$/;

/** Upstream's _ostree_validate_ref_fragment: one component of a ref name. */
export function isRefFragment(name: string): boolean { return REF_COMPONENT.test(name); }

/** Upstream's ostree_validate_rev rule (and its message). */
export function validateRefName(ref: string): void {
  if (ref === '' || !ref.split('/').every((c) => REF_COMPONENT.test(c))) {
    throw new OstreeError('EINVAL', `Invalid ref name ${ref} (components must match [A-Za-z0-9_][-._A-Za-z0-9_]*, separated by '/')`);
  }
}

/** Upstream's ostree_validate_remote_name rule (one component). */
export function validateRemoteName(name: string): void {
  if (!REF_COMPONENT.test(name)) {
    throw new OstreeError('EINVAL', `Invalid remote name ${name} (it must match [A-Za-z0-9_][-._A-Za-z0-9_]*)`);
  }
}

/** Split `remote:ref` into [remote | null, ref], both validated (upstream's ostree_parse_refspec). */
export function parseRefspec(refspec: string): [string | null, string] {
  const i = refspec.indexOf(':');
  if (i < 0) { validateRefName(refspec); return [null, refspec]; }
  const remote = refspec.slice(0, i);
  const ref = refspec.slice(i + 1);
  validateRemoteName(remote);
  validateRefName(ref);
  return [remote, ref];
}

/** A ref file holds 65 bytes; only this much of a larger one is read (it is garbage anyway). */
const REF_READ_MAX = 4096;

/** What a ref file holds: the checksum (null when it holds anything else) and its text,
 *  shortened for messages. */
export interface RefContents { checksum: string | null; text: string }

/**
 * THE ref file reader: what the ref file `file` (named `name` in errors) holds, or null when
 * there is no such ref (missing, or a directory: a prefix of other refs). Symlinks are followed
 * (upstream's `refs --alias` makes them); anything else that is not a regular file (a FIFO, a
 * device, a socket) is ECORRUPT, never opened for a blocking read.
 */
export function readRefContents(file: string, name: string = file): RefContents | null {
  const data = readFileBounded(file, REF_READ_MAX, {
    what: `ref ${name}: ref file`, directoryIsMissing: true, truncate: true,
    advice: `remove it (ostree refs --delete ${name}) or restore the ref`,
  });
  if (data === null) return null;
  const text = data.toString('utf8');
  const c = text.trim();
  if (isChecksum(c)) return { checksum: c, text };
  return { checksum: null, text: text.length > 80 ? `${text.slice(0, 80)}…` : text.replace(/\n$/, '') };
}

/** The checksum in the ref file `file` (see readRefContents), or null when there is no such
 *  ref. ECORRUPT when it holds anything but a checksum. */
export function readRefFile(file: string, name: string = file): string | null {
  const r = readRefContents(file, name);
  if (r === null) return null;
  if (r.checksum === null) throw new OstreeError('ECORRUPT', `ref file '${file}' does not contain a checksum`, { path: file });
  return r.checksum;
}

/** The checksum a local ref (remote null) or remote ref points to, or null. */
export function readRef(repo: Pick<RepoCore, 'path'>, remote: string | null, ref: string): string | null {
  if (remote !== null) validateRemoteName(remote);
  validateRefName(ref);
  return readRefFile(refPath(repo.path, remote, ref), remote === null ? ref : `${remote}:${ref}`);
}

export interface ResolveOptions {
  /** Also look a plain `ref` up as refs/remotes/<ref> and in every remote (default true, as
   *  ostree_repo_resolve_rev; `refs --create` checks without it, as resolve_rev_ext). */
  fallbackRemote?: boolean;
}

/** Resolve a revision (see the header). null if no such ref; ENOENT for a missing parent. */
export function resolveRev(repo: RepoCore, rev: string, options: ResolveOptions = {}): string | null {
  if (rev === '') throw new OstreeError('EINVAL', 'empty revision');
  let base = rev;
  while (base.endsWith('^')) base = base.slice(0, -1);
  let csum = resolveBase(repo, base, rev, options.fallbackRemote !== false);
  for (let n = rev.length - base.length; n > 0 && csum !== null; n--) {
    const parent: string | null = loadCommit(repo, csum).parent;
    if (parent === null) throw new OstreeError('ENOENT', `Commit ${csum} has no parent`);
    csum = parent;
  }
  return csum;
}

function resolveBase(repo: RepoCore, rev: string, whole: string, fallbackRemote: boolean): string | null {
  if (rev === '') throw new OstreeError('EINVAL', `Invalid refspec ${whole}`);
  if (isChecksum(rev)) return rev;
  if (/^[0-9a-f]{1,63}$/.test(rev)) {
    const found = commitsWithPrefix(repo, rev);
    if (found.length > 1) throw new OstreeError('EINVAL', `Refspec ${rev} not unique (it matches ${found.length} commits)`);
    if (found.length === 1) return found[0]!;
  }
  const [remote, ref] = parseRefspec(rev);
  if (remote !== null) return readRef(repo, remote, ref);
  const local = readRefFile(refPath(repo.path, null, ref), ref);
  if (local !== null || !fallbackRemote) return local;
  return readRefFile(path.join(refsDir(repo.path, 'remotes'), ref), ref) ?? findRefInRemotes(repo, ref);
}

/** The ref `ref` of the first remote (directory order) that has it, as upstream. */
function findRefInRemotes(repo: Pick<RepoCore, 'path'>, ref: string): string | null {
  const dir = refsDir(repo.path, 'remotes');
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return null; }
  for (const remote of names) {
    if (!isRefFragment(remote)) continue;
    const c = readRefFile(path.join(dir, remote, ref), `${remote}:${ref}`);
    if (c !== null) return c;
  }
  return null;
}

/** Write a small file at a temporary name, flushed unless fsync is disabled, then rename it. */
async function replaceFile(repo: RepoCore, final: string, data: string): Promise<void> {
  const tmp = tmpName(repo.path, 'ref');
  try {
    const fh = await fsp.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      if (fsyncEnabled(repo)) await fh.datasync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, final);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** Create the directories above ref `name` inside `base` (EEXIST when a ref is in the way). */
async function mkdirsFor(base: string, name: string, shown: string): Promise<string> {
  const p = path.join(base, name);
  try {
    await fsp.mkdir(path.dirname(p), { recursive: true, mode: 0o755 });
  } catch (e) {
    if (isErrno(e, 'ENOTDIR') || isErrno(e, 'EEXIST')) throw new OstreeError('EEXIST', `cannot create ref '${shown}': a ref is a prefix of it`);
    throw e;
  }
  return p;
}

/** The first ref file (or alias) below directory `dir`, or null when it holds none. */
function firstRefBelow(dir: string): string | null {
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    let ents: fs.Dirent[];
    try { ents = fs.readdirSync(path.join(dir, rel), { withFileTypes: true }); } catch { continue; }
    for (const e of ents) {
      if (!isRefFragment(e.name)) continue;
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) stack.push(r); else return r;
    }
  }
  return null;
}

/**
 * Write (checksum) or delete (null; no-op if absent) the ref file `name` under the refs
 * directory `base` (refs/heads, refs/remotes/R or refs/mirrors/C); `shown` names it in errors.
 * A directory in its place that holds no refs is replaced, as upstream; one that does is a
 * conflict.
 */
export async function writeRefAt(repo: RepoCore, base: string, name: string, checksum: string | null, shown = name): Promise<void> {
  validateRefName(name);
  const p = path.join(base, name);
  if (checksum === null) {
    // Deleting a missing ref is not an error (as upstream's ref writer).
    try { await fsp.unlink(p); } catch (e) { if (!isErrno(e, 'ENOENT') && !isErrno(e, 'ENOTDIR')) throw e; }
    await repo.refsChanged?.();
    return;
  }
  validateChecksum(checksum, 'commit checksum');
  if (isChecksum(name)) throw new OstreeError('EINVAL', `Rev name '${name}' looks like a checksum`);
  await mkdirsFor(base, name, shown);
  const st = await fsp.lstat(p).catch(() => null);
  if (st?.isDirectory()) {
    const below = firstRefBelow(p);
    if (below !== null) throw new OstreeError('EEXIST', `Conflict: ${below} exists under ${name} when attempting write (refs exist below ref '${shown}')`);
    await fsp.rm(p, { recursive: true, force: true });
  }
  await replaceFile(repo, p, checksum + '\n');
  await repo.refsChanged?.();
}

/** Create/update (checksum) or delete (null; no-op if absent) a ref; `remote:ref` writes refs/remotes. */
export async function setRef(repo: RepoCore, refspec: string, checksum: string | null): Promise<void> {
  const [remote, ref] = parseRefspec(refspec);
  const base = remote === null ? refsDir(repo.path, 'heads') : path.join(refsDir(repo.path, 'remotes'), remote);
  if (checksum === null && !fs.existsSync(base)) return;
  await writeRefAt(repo, base, ref, checksum, refspec);
}

/**
 * Make local ref `ref` an alias of local ref `target` (upstream's set_alias_ref_immediate): a
 * symlink relative to the alias's directory, made at a temporary name and renamed over any
 * alias already there. `target` must be a local ref that exists.
 */
export async function setAliasRef(repo: RepoCore, ref: string, target: string): Promise<void> {
  validateRefName(ref);
  validateRefName(target);
  const heads = refsDir(repo.path, 'heads');
  const p = await mkdirsFor(heads, ref, ref);
  const rel = `${'../'.repeat(ref.split('/').length - 1)}${target}`;
  const tmp = tmpName(repo.path, 'alias');
  await fsp.symlink(rel, tmp);
  try {
    await fsp.rename(tmp, p);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    if (isErrno(e, 'EISDIR') || isErrno(e, 'ENOTEMPTY')) throw new OstreeError('EEXIST', `cannot create alias '${ref}': refs exist below it`);
    throw e;
  }
  await repo.refsChanged?.();
}

/** The local ref an alias symlink's text names (its leading `../` removed, as upstream lists it). */
export function aliasTarget(link: string): string {
  let t = link;
  while (t.startsWith('../')) t = t.slice(3);
  return t;
}

/**
 * `ostree reset`: point the existing ref `refspec` at `rev` (any commit, as upstream: no
 * ancestry check). An unknown ref is an error, not a creation.
 */
export async function resetRef(repo: RepoCore, refspec: string, rev: string): Promise<void> {
  const [remote, ref] = parseRefspec(refspec);
  if (readRef(repo, remote, ref) === null) throw new OstreeError('ENOENT', `Invalid ref '${refspec}'`);
  const checksum = resolveRev(repo, rev);
  if (checksum === null) throw new OstreeError('ENOENT', `Refspec '${rev}' not found`);
  await setRef(repo, refspec, checksum);
}
