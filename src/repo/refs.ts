/**
 * Refs: the one owner of REPO/refs. A ref file holds a commit checksum and a newline:
 *
 *   refs/heads/<ref>                local refs (`ref`)
 *   refs/remotes/<remote>/<ref>     a remote's refs (`remote:ref`)
 *   refs/mirrors/<collection>/<ref> refs of other collections
 *
 * Names are checked here, at every entry point (upstream's ostree_validate_rev and
 * ostree_validate_remote_name): components of letters, digits, '_', '-', '.', not starting
 * with '-' or '.', separated by single '/' — so '..', a leading or trailing '/', empty
 * components, NUL and newlines are all refused and no name reaches outside refs/. Ref files
 * are read without blocking (a FIFO in their place is an error) and with a size bound.
 *
 * Revisions (`resolveRev`): a checksum, a unique partial checksum of a commit, a ref,
 * `remote:ref`, `remote/ref`, each optionally followed by `^` (parent), any number of times.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import { isChecksum, validateChecksum } from './objects/checksum.js';
import { readFileBounded } from '../util/fs.js';
import { refPath, refsDir, tmpName } from './layout.js';
import { commitsWithPrefix, fsyncEnabled, loadCommit, type RepoCore, type RepoLocation } from './store.js';

const REF_COMPONENT = /^[\w\d][-._\w\d]*$/;

/** Upstream's ostree_validate_rev rule. */
export function validateRefName(ref: string): void {
  if (ref === '' || !ref.split('/').every((c) => REF_COMPONENT.test(c))) {
    throw new OstreeError('EINVAL', `invalid ref name ${JSON.stringify(ref)} (components must match [A-Za-z0-9_][-._A-Za-z0-9_]*, separated by '/')`);
  }
}

/** Upstream's ostree_validate_remote_name rule (one component). */
export function validateRemoteName(name: string): void {
  if (!REF_COMPONENT.test(name)) {
    throw new OstreeError('EINVAL', `invalid remote name ${JSON.stringify(name)} (it must match [A-Za-z0-9_][-._A-Za-z0-9_]*)`);
  }
}

/** Split `remote:ref` into [remote | null, ref], both validated. */
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
export function readRef(repo: RepoCore, remote: string | null, ref: string): string | null {
  if (remote !== null) validateRemoteName(remote);
  validateRefName(ref);
  return readRefFile(refPath(repo.path, remote, ref), remote === null ? ref : `${remote}:${ref}`);
}

/** Resolve a revision (see the header). null if no such ref; ENOENT for a missing parent. */
export function resolveRev(repo: RepoCore, rev: string): string | null {
  if (rev === '') throw new OstreeError('EINVAL', 'empty revision');
  let base = rev;
  while (base.endsWith('^')) base = base.slice(0, -1);
  let csum = resolveBase(repo, base, rev);
  for (let n = rev.length - base.length; n > 0 && csum !== null; n--) {
    const parent: string | null = loadCommit(repo, csum).parent;
    if (parent === null) throw new OstreeError('ENOENT', `Commit ${csum} has no parent`);
    csum = parent;
  }
  return csum;
}

function resolveBase(repo: RepoCore, rev: string, whole: string): string | null {
  if (rev === '') throw new OstreeError('EINVAL', `invalid revision '${whole}'`);
  if (isChecksum(rev)) return rev;
  if (/^[0-9a-f]{1,63}$/.test(rev)) {
    const found = commitsWithPrefix(repo, rev);
    if (found.length > 1) throw new OstreeError('EINVAL', `Refspec ${rev} matches multiple objects`);
    if (found.length === 1) return found[0]!;
  }
  const [remote, ref] = parseRefspec(rev);
  if (remote !== null) return readRef(repo, remote, ref);
  return readRefFile(refPath(repo.path, null, ref), ref) ?? readRefFile(path.join(refsDir(repo.path, 'remotes'), ref), ref)
    ?? findRefInRemotes(repo, ref);
}

/** As upstream, a plain ref name found under any remote (`test` → refs/remotes/origin/test), in directory order. */
function findRefInRemotes(repo: RepoCore, ref: string): string | null {
  for (const rm of listDir(refsDir(repo.path, 'remotes'), false)) {
    if (!rm.isDirectory()) continue;
    const c = readRefFile(path.join(refsDir(repo.path, 'remotes'), rm.name, ref), ref);
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

/** Create/update (checksum) or delete (null; no-op if absent) a ref; `remote:ref` writes refs/remotes. */
export async function setRef(repo: RepoCore, refspec: string, checksum: string | null): Promise<void> {
  const [remote, ref] = parseRefspec(refspec);
  const p = refPath(repo.path, remote, ref);
  if (checksum === null) {
    // Deleting a missing ref is not an error (as upstream's ref writer).
    try { await fsp.unlink(p); } catch (e) { if (!isErrno(e, 'ENOENT') && !isErrno(e, 'ENOTDIR')) throw e; }
    return;
  }
  validateChecksum(checksum, 'commit checksum');
  try {
    await fsp.mkdir(path.dirname(p), { recursive: true, mode: 0o755 });
  } catch (e) {
    if (isErrno(e, 'ENOTDIR') || isErrno(e, 'EEXIST')) throw new OstreeError('EEXIST', `cannot create ref '${refspec}': a ref is a prefix of it`);
    throw e;
  }
  const st = await fsp.lstat(p).catch(() => null);
  if (st?.isDirectory()) throw new OstreeError('EEXIST', `cannot create ref '${refspec}': refs exist below it`);
  await replaceFile(repo, p, checksum + '\n');
}

// ---------------------------------------------------------------------------------------------
// Listing

/** A ref file found under refs/: its name as a refspec (`ref`, `remote:ref`; for mirrors the
 *  ref alone, with `collection` set), its path, and what the directory entry is. */
export interface RefEntry { name: string; file: string; collection?: string; type: 'file' | 'symlink' | 'other' }

/**
 * Every file under refs/heads and refs/remotes/* (and, with `mirrors`, refs/mirrors/*), walked
 * without recursion; directory enumeration order (as upstream inserts them) unless `sorted`.
 * Entries that are neither files nor directories are listed too: readRefFile says what they are.
 */
export function listRefFiles(repo: Pick<RepoLocation, 'path'>, options: { sorted?: boolean; mirrors?: boolean } = {}): RefEntry[] {
  const out: RefEntry[] = [];
  walkRefs(refsDir(repo.path, 'heads'), options.sorted === true, (r, file, type) => out.push({ name: r, file, type }));
  const remotes = refsDir(repo.path, 'remotes');
  // As upstream, a repository without refs/remotes is broken, not empty.
  if (!fs.existsSync(remotes)) throw new OstreeError('ENOENT', `Listing refs: opendir(${path.relative(repo.path, remotes)}): No such file or directory`);
  for (const rm of listDir(remotes, true)) {
    if (!rm.isDirectory()) continue;
    walkRefs(path.join(refsDir(repo.path, 'remotes'), rm.name), options.sorted === true, (r, file, type) => out.push({ name: `${rm.name}:${r}`, file, type }));
  }
  if (options.mirrors) {
    for (const c of listDir(refsDir(repo.path, 'mirrors'), true)) {
      if (!c.isDirectory()) continue;
      walkRefs(path.join(refsDir(repo.path, 'mirrors'), c.name), options.sorted === true, (r, file, type) => out.push({ name: r, file, collection: c.name, type }));
    }
  }
  return out;
}

/** refspec → checksum for local and remote refs under `prefix` (a ref, a `remote:` or a
 *  directory of refs), sorted unless `sorted: false`. Symlinks (aliases) are left out. */
export function listRefs(repo: RepoCore, prefix?: string, options: { sorted?: boolean } = {}): Map<string, string> {
  const all: Array<[string, string]> = [];
  for (const e of listRefFiles(repo, { sorted: false })) {
    if (e.type !== 'file') continue;
    const c = readRefFile(e.file, e.name);
    if (c !== null) all.push([e.name, c]);
  }
  if (options.sorted !== false) all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out = new Map<string, string>();
  const under = prefix === undefined || prefix === '' ? '' : prefix.endsWith('/') || prefix.endsWith(':') ? prefix : `${prefix}/`;
  for (const [k, v] of all) if (under === '' || k === prefix || k.startsWith(under)) out.set(k, v);
  return out;
}

function listDir(dir: string, sorted: boolean): fs.Dirent[] {
  const ents: fs.Dirent[] = [];
  let dh: fs.Dir;
  try { dh = fs.opendirSync(dir); } catch { return ents; }
  // opendir keeps the filesystem's enumeration order (readdirSync sorts), like upstream.
  try { for (let e = dh.readSync(); e !== null; e = dh.readSync()) ents.push(e); } finally { dh.closeSync(); }
  if (sorted) ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return ents;
}

/** Depth-first, in directory order, with an explicit stack: (relative name, file) per entry
 *  that is not a directory. */
function walkRefs(root: string, sorted: boolean, push: (rel: string, file: string, type: RefEntry['type']) => void): void {
  const stack: Array<{ dir: string; rel: string; ents: fs.Dirent[]; i: number }> = [{ dir: root, rel: '', ents: listDir(root, sorted), i: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.ents.length) { stack.pop(); continue; }
    const e = top.ents[top.i++]!;
    const rel = top.rel ? `${top.rel}/${e.name}` : e.name;
    const file = path.join(top.dir, e.name);
    if (e.isDirectory()) stack.push({ dir: file, rel, ents: listDir(file, sorted), i: 0 });
    else push(rel, file, e.isFile() ? 'file' : e.isSymbolicLink() ? 'symlink' : 'other');
  }
}

/**
 * The commit every ref (local, remote and collection) points to, in name order: the roots
 * prune keeps. `garbage(entry)` is thrown for a ref file that holds anything but a checksum.
 */
export function refCommits(repo: Pick<RepoLocation, 'path'>, garbage: (e: RefEntry) => Error): string[] {
  const out: string[] = [];
  for (const e of listRefFiles(repo, { sorted: true, mirrors: true })) {
    const r = readRefContents(e.file, e.name);
    if (r === null) continue; // removed since it was listed
    if (r.checksum === null) throw garbage(e);
    out.push(r.checksum);
  }
  return out;
}

/**
 * `ostree reset`: point the existing ref `refspec` at `rev` (any commit, as upstream: no
 * ancestry check). An unknown ref is an error, not a creation.
 */
export async function resetRef(repo: RepoCore, refspec: string, rev: string): Promise<void> {
  if (!listRefs(repo, refspec).has(refspec)) throw new OstreeError('ENOENT', `Invalid ref '${refspec}'`);
  const checksum = resolveRev(repo, rev);
  if (checksum === null) throw new OstreeError('ENOENT', `Refspec '${rev}' not found`);
  await setRef(repo, refspec, checksum);
}
