/**
 * The three-way /etc merge done when deploying on top of a merge deployment (upstream
 * merge_configuration_from + ostree_diff_dirs), and the `ostree admin config-diff` listing.
 *
 * diff(orig = merge deployment's usr/etc → modified = its etc):
 *   - every entry of orig (recursively, symlinks never followed): missing in modified → removed;
 *     different file type → modified; same type → compared by (uid, gid, st_mode, rdev, symlink
 *     target or file bytes) — xattrs ignored — and different → modified; directories present in
 *     both are recursed into whatever their own comparison said;
 *   - then every entry of modified missing in orig → added (a directory with all its
 *     descendants, parent first).
 *   Walk order is GIO's: readdir order, each batch of 1000 names sorted by inode number.  The
 *   added entries of a directory are listed after everything found while walking orig's entries
 *   of that directory (which includes the added entries of its subdirectories).
 * apply(to new = the new deployment's etc): rm -rf every removed path; then copy every modified
 * and then every added path from modified ("modified always wins").  See applyEtcMerge.
 */
import { promises as fsp, constants as fsc } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { OstreeError, isErrno } from '../errors.js';
import * as libc from '../native/libc.js';

export interface EtcDiff {
  /** relative paths (no leading '/') */
  modified: string[];
  removed: string[];
  added: string[];
}

type Kind = 'file' | 'dir' | 'symlink' | 'special';

function kindOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): Kind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'special';
}

async function lstatOrNull(p: string): Promise<BigIntStats | null> {
  try {
    return await fsp.lstat(p, { bigint: true });
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
}

const GIO_CHUNK = 1000;

/** map with at most `limit` calls in flight; results in input order */
async function mapLimit<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const PARALLEL = 32;

/** Directory entries in the order GLib's local file enumerator returns them. */
async function listDirGio(dir: string): Promise<Array<{ name: string; st: BigIntStats }>> {
  const names: string[] = [];
  const d = await fsp.opendir(dir);
  for await (const ent of d) names.push(ent.name);
  const out: Array<{ name: string; st: BigIntStats }> = [];
  for (let i = 0; i < names.length; i += GIO_CHUNK) {
    const batch = names.slice(i, i + GIO_CHUNK);
    const stats = await mapLimit(batch, PARALLEL, (name) => lstatOrNull(path.join(dir, name)));
    const chunk: Array<{ name: string; st: BigIntStats }> = [];
    // vanished between readdir and stat: skipped, as GIO does
    batch.forEach((name, j) => { const st = stats[j]; if (st) chunk.push({ name, st }); });
    // GLib's comparator returns the inode difference truncated to an int
    chunk.sort((a, b) => Number(BigInt.asIntN(32, a.st.ino - b.st.ino)));
    out.push(...chunk);
  }
  return out;
}

async function sameFileBytes(a: string, b: string, size: bigint): Promise<boolean> {
  if (size <= 16n * 1024n * 1024n) {
    const [x, y] = await Promise.all([fsp.readFile(a), fsp.readFile(b)]);
    return x.equals(y);
  }
  const hash = async (p: string): Promise<string> => {
    const h = createHash('sha256');
    const fh = await fsp.open(p, 'r');
    try {
      for await (const chunk of fh.createReadStream()) h.update(chunk as Buffer);
    } finally { await fh.close().catch(() => undefined); }
    return h.digest('hex');
  };
  return (await hash(a)) === (await hash(b));
}

/** Same "content checksum" (ostree file/dirmeta checksum without xattrs)? Both of kind k. */
async function sameContent(k: Kind, pa: string, a: BigIntStats, pb: string, b: BigIntStats): Promise<boolean> {
  if (a.uid !== b.uid || a.gid !== b.gid || a.mode !== b.mode) return false;
  switch (k) {
    case 'dir': return true;
    case 'symlink': return (await fsp.readlink(pa, { encoding: 'buffer' })).equals(await fsp.readlink(pb, { encoding: 'buffer' }));
    case 'special': return a.rdev === b.rdev;
    case 'file': return a.size === b.size && sameFileBytes(pa, pb, a.size);
  }
}

async function addAllBelow(root: string, rel: string, added: string[]): Promise<void> {
  for (const { name, st } of await listDirGio(path.join(root, rel))) {
    const r = `${rel}/${name}`;
    added.push(r);
    if (st.isDirectory()) await addAllBelow(root, r, added);
  }
}

async function diffRecurse(origRoot: string, modRoot: string, rel: string, out: EtcDiff): Promise<void> {
  const join = (n: string): string => (rel === '' ? n : `${rel}/${n}`);
  const origDir = path.join(origRoot, rel);
  const modDir = path.join(modRoot, rel);
  const origEntries = await listDirGio(origDir);
  // stat and compare concurrently, then report and recurse in walk order
  const verdicts = await mapLimit(origEntries, PARALLEL, async ({ name, st: a }) => {
    const b = await lstatOrNull(path.join(modDir, name));
    if (!b) return { removed: true, modified: false, recurse: false };
    const ka = kindOf(a);
    if (ka !== kindOf(b)) return { removed: false, modified: true, recurse: false };
    const same = await sameContent(ka, path.join(origDir, name), a, path.join(modDir, name), b);
    return { removed: false, modified: !same, recurse: ka === 'dir' };
  });
  for (let i = 0; i < origEntries.length; i++) {
    const r = join(origEntries[i]!.name);
    const v = verdicts[i]!;
    if (v.removed) { out.removed.push(r); continue; }
    if (v.modified) out.modified.push(r);
    if (v.recurse) await diffRecurse(origRoot, modRoot, r, out);
  }
  const modEntries = await listDirGio(modDir);
  const inOrig = await mapLimit(modEntries, PARALLEL, async ({ name }) => (await lstatOrNull(path.join(origDir, name))) !== null);
  for (let i = 0; i < modEntries.length; i++) {
    if (inOrig[i]) continue;
    const { name, st: b } = modEntries[i]!;
    const r = join(name);
    out.added.push(r);
    if (b.isDirectory()) await addAllBelow(modRoot, r, out.added);
  }
}

/** Compute the configuration diff from `origDir` (defaults, usr/etc) to `modifiedDir` (etc). */
export async function diffEtc(origDir: string, modifiedDir: string): Promise<EtcDiff> {
  for (const d of [origDir, modifiedDir]) {
    const st = await lstatOrNull(d);
    if (!st) throw new OstreeError('ENOENT', `While computing configuration diff: ${d} does not exist`, { path: d });
    if (!st.isDirectory()) throw new OstreeError('ESTATE', `While computing configuration diff: ${d} is not a directory`, { path: d });
  }
  const out: EtcDiff = { modified: [], removed: [], added: [] };
  await diffRecurse(origDir, modifiedDir, '', out);
  return out;
}

/** `ostree admin config-diff` output: `M    path` lines, then `D`, then `A`. */
export function formatConfigDiff(diff: EtcDiff): string {
  let s = '';
  for (const p of diff.modified) s += `M    ${p}\n`;
  for (const p of diff.removed) s += `D    ${p}\n`;
  for (const p of diff.added) s += `A    ${p}\n`;
  return s;
}

/** The message printed before applying: `Copying /etc changes: M modified, R removed, A added`. */
export function formatEtcMergeSummary(diff: EtcDiff): string {
  return `Copying /etc changes: ${diff.modified.length} modified, ${diff.removed.length} removed, ${diff.added.length} added`;
}

export interface EtcMergeOptions {
  /** do not copy xattrs (OSTREE_SYSROOT_DEBUG=no-xattrs) */
  noXattrs?: boolean;
  /** journal-style messages (skipped special files); default: ignore */
  log?: (message: string) => void;
}

function parentOf(rel: string): string | null {
  const i = rel.lastIndexOf('/');
  return i < 0 ? null : rel.slice(0, i);
}

function ancestorsOf(rel: string): string[] {
  const parts = rel.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out; // top first
}

function isSameOrBelow(p: string, root: string): boolean {
  return p === root || p.startsWith(root + '/');
}

type SimEvent =
  | { op: 'absent-tree'; at: string }          // rm -rf
  | { op: 'mirror-tree'; at: string }          // recursive copy of a modified directory
  | { op: 'point'; at: string; kind: Kind | 'absent' }; // single entry now of that kind

/**
 * Walk the planned operations without touching anything and throw ESTATE on the conflicts that
 * would make upstream abort half-way: a modified/added non-directory whose path is a directory
 * in the new defaults, or a needed parent directory that is a non-directory there.
 */
async function preflight(diff: EtcDiff, modifiedDir: string, newDir: string): Promise<void> {
  const events: SimEvent[] = diff.removed.map((r) => ({ op: 'absent-tree', at: r }));
  const modKind = async (rel: string): Promise<Kind | 'absent'> => {
    const st = await lstatOrNull(path.join(modifiedDir, rel));
    return st ? kindOf(st) : 'absent';
  };
  /** kind of `rel` in new after the events so far ('dir' for a symlink to a directory only
   * when asked to follow) */
  const newKind = async (rel: string, follow: boolean): Promise<Kind | 'absent'> => {
    for (let i = events.length - 1; i >= 0; i--) {
      const ev = events[i]!;
      if (ev.op === 'point') { if (ev.at === rel) return ev.kind; continue; }
      if (!isSameOrBelow(rel, ev.at)) continue;
      if (ev.op === 'absent-tree') return 'absent';
      const k = await modKind(rel);
      return k === 'special' && rel !== ev.at ? 'absent' : k;
    }
    const p = path.join(newDir, rel);
    const st = await lstatOrNull(p);
    if (!st) return 'absent';
    const k = kindOf(st);
    if (k === 'symlink' && follow) {
      try { if ((await fsp.stat(p)).isDirectory()) return 'dir'; } catch { /* dangling */ }
    }
    return k;
  };
  for (const rel of [...diff.modified, ...diff.added]) {
    const mk = await modKind(rel);
    if (mk === 'absent') {
      throw new OstreeError('ESTATE', `During /etc merge: Reading modified config file: ${rel} no longer exists`, { path: path.join(modifiedDir, rel) });
    }
    for (const a of ancestorsOf(rel)) {
      const k = await newKind(a, true);
      if (k === 'absent') { events.push({ op: 'point', at: a, kind: 'dir' }); continue; }
      if (k !== 'dir') {
        throw new OstreeError('ESTATE',
          `During /etc merge: Modified config file '${rel}' needs directory '${a}', but it newly defaults to a non-directory, cannot merge`,
          { path: path.join(newDir, a) });
      }
    }
    const nk = await newKind(rel, false);
    if (nk === 'dir') {
      if (mk !== 'dir') {
        throw new OstreeError('ESTATE', `Modified config file newly defaults to directory '${rel}', cannot merge`,
          { path: path.join(newDir, rel) });
      }
      continue;
    }
    if (mk === 'dir') events.push({ op: 'mirror-tree', at: rel });
    else events.push({ op: 'point', at: rel, kind: mk === 'special' ? 'absent' : mk });
  }
}

function copyXattrs(src: string, dest: string): void {
  for (const name of libc.llistxattr(src)) {
    const v = libc.lgetxattr(src, name);
    if (v !== null) libc.lsetxattr(dest, name, v);
  }
}

/** Copy xattrs (unless disabled), then owner, then permission bits of directory `src` onto
 * directory `dest` (a symlink to a directory at dest is followed, as upstream's fd-based
 * calls do). */
async function applyDirAttributes(src: string, dest: string, opts: EtcMergeOptions): Promise<void> {
  const st = await fsp.stat(src, { bigint: true });
  const d = (await fsp.lstat(dest)).isSymbolicLink() ? `${dest}/.` : dest;
  if (!opts.noXattrs) copyXattrs(src, d);
  await fsp.chown(d, Number(st.uid), Number(st.gid));
  await fsp.chmod(d, Number(st.mode & 0o7777n));
}

async function ensureDirectoryFromTemplate(modifiedDir: string, newDir: string, rel: string, opts: EtcMergeOptions): Promise<void> {
  const dest = path.join(newDir, rel);
  for (;;) {
    try {
      await fsp.mkdir(dest, 0o700);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) {
        const parent = parentOf(rel);
        if (parent !== null) {
          await ensureDirectoryFromTemplate(modifiedDir, newDir, parent, opts);
          continue;
        }
        throw e;
      }
      if (!isErrno(e, 'EEXIST')) throw e;
    }
    break;
  }
  await applyDirAttributes(path.join(modifiedDir, rel), dest, opts);
}

/** Copy a regular file or symlink (data, owner, mode, timestamps, xattrs), never following. */
async function copyFileOrLink(src: string, dest: string, st: BigIntStats, opts: EtcMergeOptions): Promise<void> {
  await fsp.rm(dest, { force: true });
  if (st.isSymbolicLink()) {
    const target = await fsp.readlink(src, { encoding: 'buffer' });
    await fsp.symlink(target, dest);
    await fsp.lchown(dest, Number(st.uid), Number(st.gid));
    if (!opts.noXattrs) copyXattrs(src, dest);
    return;
  }
  await fsp.copyFile(src, dest, fsc.COPYFILE_EXCL);
  await fsp.chown(dest, Number(st.uid), Number(st.gid));
  await fsp.chmod(dest, Number(st.mode & 0o7777n));
  const toDate = (ns: bigint): Date => new Date(Number(ns / 1000000n));
  await fsp.utimes(dest, toDate(st.atimeNs), toDate(st.mtimeNs)).catch(() => undefined);
  if (!opts.noXattrs) copyXattrs(src, dest);
}

async function copyDirRecurse(src: string, dest: string, rel: string, opts: EtcMergeOptions): Promise<void> {
  try {
    await fsp.mkdir(dest, 0o700);
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw e;
    if (!(await fsp.lstat(dest)).isDirectory()) throw e;
  }
  await applyDirAttributes(src, dest, opts);
  for (const ent of await fsp.readdir(src)) {
    const s = path.join(src, ent);
    const st = await fsp.lstat(s, { bigint: true });
    const r = `${rel}/${ent}`;
    if (st.isDirectory()) await copyDirRecurse(s, path.join(dest, ent), r, opts);
    else if (st.isFile() || st.isSymbolicLink()) await copyFileOrLink(s, path.join(dest, ent), st, opts);
    else opts.log?.(`Ignoring non-regular/non-symlink file found during /etc merge: ${r}`);
  }
}

async function copyModifiedConfigFile(modifiedDir: string, newDir: string, rel: string, opts: EtcMergeOptions): Promise<void> {
  const src = path.join(modifiedDir, rel);
  const dest = path.join(newDir, rel);
  const st = await fsp.lstat(src, { bigint: true });
  const parent = parentOf(rel);
  if (parent !== null) await ensureDirectoryFromTemplate(modifiedDir, newDir, parent, opts);
  const existing = await lstatOrNull(dest);
  if (existing) {
    if (existing.isDirectory()) {
      if (!st.isDirectory()) {
        throw new OstreeError('ESTATE', `Modified config file newly defaults to directory '${rel}', cannot merge`, { path: dest });
      }
      return; // children are handled by their own diff entries
    }
    await fsp.unlink(dest);
  }
  if (st.isDirectory()) await copyDirRecurse(src, dest, rel, opts);
  else if (st.isFile() || st.isSymbolicLink()) await copyFileOrLink(src, dest, st, opts);
  else opts.log?.(`Ignoring non-regular/non-symlink file found during /etc merge: ${rel}`);
}

/**
 * Apply a diff (from diffEtc(orig, modifiedDir)) to `newDir`: rm -rf every removed path, then
 * copy every modified, then every added path from `modifiedDir`.  Copying a path first makes
 * sure its parent chain exists in newDir (missing directories created) and gives the immediate
 * parent and every created ancestor the owner, mode and xattrs of the directory in modifiedDir.
 * A path that is a directory in newDir is left alone when the modified item is a directory too,
 * and is a conflict (ESTATE `Modified config file newly defaults to directory '<path>', cannot
 * merge`) otherwise; conflicts are detected before anything is changed.  Fifos, sockets and
 * devices are skipped with a log message (also inside copied directories, as upstream HEAD does).
 */
export async function applyEtcMerge(diff: EtcDiff, modifiedDir: string, newDir: string, opts: EtcMergeOptions = {}): Promise<void> {
  await preflight(diff, modifiedDir, newDir);
  for (const rel of diff.removed) await fsp.rm(path.join(newDir, rel), { recursive: true, force: true });
  for (const rel of diff.modified) await copyModifiedConfigFile(modifiedDir, newDir, rel, opts);
  for (const rel of diff.added) await copyModifiedConfigFile(modifiedDir, newDir, rel, opts);
}

/** diffEtc + summary message + applyEtcMerge, as the deploy finalization does. */
export async function mergeEtc(origDir: string, modifiedDir: string, newDir: string,
  opts: EtcMergeOptions & { print?: (message: string) => void } = {}): Promise<EtcDiff> {
  const diff = await diffEtc(origDir, modifiedDir);
  opts.print?.(formatEtcMergeSummary(diff));
  await applyEtcMerge(diff, modifiedDir, newDir, opts);
  return diff;
}
