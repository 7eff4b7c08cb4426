/**
 * Listing refs (the reading half of refs.ts, as upstream's ostree_repo_list_refs_ext): walks
 * refs/heads, refs/remotes/* and, for fsck and prune, refs/mirrors/* without recursion, in
 * directory order (as upstream inserts them into its hash table) unless sorted. Names that are
 * not valid ref components are skipped at every level (issue 1285: tools drop `.rsync_info`
 * files into each directory). Symlinks are refs too: they are aliases.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { refsDir } from './layout.js';
import { aliasTarget, isRefFragment, parseRefspec, readRefContents, readRefFile, validateRemoteName } from './refs.js';
import type { RepoLocation } from './store.js';

/** A ref file found under refs/: its name as a refspec (`ref`, `remote:ref`; for mirrors the
 *  ref alone, with `collection` set), its path, and what the directory entry is. */
export interface RefEntry { name: string; file: string; collection?: string; type: 'file' | 'symlink' | 'other' }

type Located = Pick<RepoLocation, 'path'>;

export function listDir(dir: string, sorted: boolean): fs.Dirent[] {
  const ents: fs.Dirent[] = [];
  let dh: fs.Dir;
  try { dh = fs.opendirSync(dir); } catch { return ents; }
  // opendir keeps the filesystem's enumeration order (readdirSync sorts), like upstream.
  try {
    for (let e = dh.readSync(); e !== null; e = dh.readSync()) if (isRefFragment(e.name)) ents.push(e);
  } finally { dh.closeSync(); }
  if (sorted) ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return ents;
}

/** Depth-first, in directory order, with an explicit stack: (relative name, file) per entry
 *  that is not a directory. */
export function walkRefs(root: string, sorted: boolean, push: (rel: string, file: string, type: RefEntry['type']) => void): void {
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
 * Every file under refs/heads and refs/remotes/* (and, with `mirrors`, refs/mirrors/*).
 * Entries that are neither files nor directories are listed too: readRefFile says what they are.
 */
export function listRefFiles(repo: Located, options: { sorted?: boolean; mirrors?: boolean } = {}): RefEntry[] {
  const out: RefEntry[] = [];
  const sorted = options.sorted === true;
  walkRefs(refsDir(repo.path, 'heads'), sorted, (r, file, type) => out.push({ name: r, file, type }));
  // As upstream, a repository without refs/remotes is broken, not empty.
  if (!fs.existsSync(refsDir(repo.path, 'remotes'))) {
    throw new OstreeError('ENOENT', `Listing refs: opendir(refs/remotes): No such file or directory (in ${repo.path}; recreate the directory)`);
  }
  for (const rm of listDir(refsDir(repo.path, 'remotes'), true)) {
    if (!rm.isDirectory()) continue;
    walkRefs(path.join(refsDir(repo.path, 'remotes'), rm.name), sorted, (r, file, type) => out.push({ name: `${rm.name}:${r}`, file, type }));
  }
  if (options.mirrors) {
    for (const c of listDir(refsDir(repo.path, 'mirrors'), true)) {
      if (!c.isDirectory()) continue;
      walkRefs(path.join(refsDir(repo.path, 'mirrors'), c.name), sorted, (r, file, type) => out.push({ name: r, file, collection: c.name, type }));
    }
  }
  return out;
}

export interface ListRefsOptions {
  /** Name order (default); false: directory order, as upstream inserts them. */
  sorted?: boolean;
  /** Names relative to the prefix (upstream's ostree_repo_list_refs; `refs PREFIX`). */
  cut?: boolean;
  /** Only aliases, each mapped to the ref it names (`refs --alias`). */
  aliases?: boolean;
}

/** The value listRefs maps a ref entry to: its checksum, or for an alias the ref it names. */
function entryValue(file: string, name: string, type: RefEntry['type'], aliases: boolean): string | null {
  if (aliases) return type === 'symlink' ? aliasTarget(fs.readlinkSync(file)) : null;
  return type === 'other' ? null : readRefFile(file, name);
}

/** Where a prefix's refs are: [remote | null, ref prefix]. `remote:` and `remote:.` list a
 *  whole remote (`.`), as upstream's special case for flatpak. */
function splitPrefix(prefix: string): [string | null, string] {
  const m = /^(.*):\.?$/.exec(prefix);
  if (m) {
    try { validateRemoteName(m[1]!); return [m[1]!, '.']; } catch { /* an ordinary refspec, then */ }
  }
  return parseRefspec(prefix);
}

/**
 * refspec → checksum for local and remote refs, as ostree_repo_list_refs_ext: with a `prefix`
 * (a ref, a directory of refs, `remote:`, `remote:dir`), only the refs at or below it, named in
 * full (`cut`: relative to it). Garbage in a listed ref file is ECORRUPT.
 */
export function listRefs(repo: Located, prefix?: string, options: ListRefsOptions = {}): Map<string, string> {
  const all: Array<[string, string]> = [];
  const aliases = options.aliases === true;
  const add = (name: string, file: string, type: RefEntry['type']): void => {
    const v = entryValue(file, name, type, aliases);
    if (v !== null) all.push([name, v]);
  };
  if (prefix === undefined || prefix === '') {
    for (const e of listRefFiles(repo, { sorted: false })) add(e.name, e.file, e.type);
  } else {
    let remote: string | null;
    let refPrefix: string;
    try { [remote, refPrefix] = splitPrefix(prefix); } catch (e) {
      throw e instanceof OstreeError ? new OstreeError(e.code, `Listing refs: ${e.message}`) : e;
    }
    const base = remote === null ? refsDir(repo.path, 'heads') : path.join(refsDir(repo.path, 'remotes'), remote);
    const at = path.join(base, refPrefix);
    const st = fs.lstatSync(at, { throwIfNoEntry: false });
    const head = remote === null ? '' : `${remote}:`;
    if (st?.isDirectory()) {
      const under = options.cut ? '' : `${refPrefix}/`;
      walkRefs(at, false, (rel, file, type) => add(`${head}${under}${rel}`, file, type));
    } else if (st !== undefined) {
      add(`${head}${refPrefix}`, at, st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other');
    }
  }
  if (options.sorted !== false) all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(all);
}

/**
 * The commit every ref (local, remote and collection) points to, in name order: the roots
 * prune keeps. `garbage(entry)` is thrown for a ref file that holds anything but a checksum.
 */
export function refCommits(repo: Located, garbage: (e: RefEntry) => Error): string[] {
  const out: string[] = [];
  for (const e of listRefFiles(repo, { sorted: true, mirrors: true })) {
    const r = readRefContents(e.file, e.name);
    if (r === null) continue; // removed since it was listed
    if (r.checksum === null) throw garbage(e);
    out.push(r.checksum);
  }
  return out;
}
