/** Small file-tree helpers shared by tests that build trees and compare them before/after. */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as libc from '../../src/native/libc.js';

/** Write `content` at `p`, creating parent directories; optionally chmod it. */
export async function writeFileAt(p: string, content: string, mode?: number): Promise<void> {
  await fsp.mkdir(path.dirname(p), { recursive: true });
  await fsp.writeFile(p, content);
  if (mode !== undefined) await fsp.chmod(p, mode);
}

/**
 * Sorted listing of a tree, one line per entry: `relpath d|f|l|special mode uid:gid`, file
 * contents for regular files and targets for symlinks. Two trees are equal (names, types,
 * modes, owners, contents, link targets) when their listings are.
 */
export async function treeSnapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await fsp.readdir(path.join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(root, r);
      const st = await fsp.lstat(p);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) { out.push(`${r} d ${meta}`); await walk(r); }
      else if (st.isSymbolicLink()) out.push(`${r} l ${st.uid}:${st.gid} -> ${await fsp.readlink(p)}`);
      else if (st.isFile()) out.push(`${r} f ${meta} ${await fsp.readFile(p, 'utf8')}`);
      else out.push(`${r} special ${meta}`);
    }
  };
  await walk('');
  return out.sort();
}

/**
 * Everything observable about a checked-out tree, one line per entry in walk order: mode, owner,
 * `user.` xattrs, symlink target, device number, directory mtime, and for files and symlinks
 * which repository object they are hardlinks of (`obj=COPY` when none): `<objects dir>/xx/yyy`.
 */
export function checkoutSnapshot(root: string, repoPath: string): string[] {
  const out: string[] = [];
  const objInodes = new Map<number, string>();
  const objdir = path.join(repoPath, 'objects');
  for (const sub of fs.readdirSync(objdir)) {
    for (const f of fs.readdirSync(path.join(objdir, sub))) objInodes.set(fs.lstatSync(path.join(objdir, sub, f)).ino, `${sub}${f}`);
  }
  const walk = (rel: string): void => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    const xattrs = libc.llistxattr(p).filter((n) => n.startsWith('user.')).sort().map((n) => `${n}=${libc.lgetxattr(p, n)!.toString('hex')}`);
    let line = `${rel} mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} xattrs=[${xattrs.join(',')}]`;
    if (st.isSymbolicLink()) line += ` -> ${fs.readlinkSync(p)}`;
    if (st.isCharacterDevice()) line += ` rdev=${st.rdev}`;
    if (st.isFile() || st.isSymbolicLink()) line += ` obj=${objInodes.get(st.ino) ?? 'COPY'}`;
    if (st.isDirectory()) line += ` mtime=${st.mtimeMs}`;
    out.push(line);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(rel, n));
  };
  walk('.');
  return out;
}

/** A checkoutSnapshot line without which object it links to and without a directory mtime: what a
 *  copying checkout (which keeps directory mtimes, as upstream's force-copy) must match. */
export function withoutLinksAndMtimes(line: string): string {
  return line.replace(/ obj=\S+/, '').replace(/ mtime=\S+/, '');
}

/** The paths of a checkoutSnapshot that are not hardlinks of a repository object. */
export function copiedEntries(lines: string[]): string[] {
  return lines.filter((l) => l.includes('obj=COPY')).map((l) => l.split(' ')[0]!);
}

/** The distinct directory mtimes of a checkoutSnapshot. */
export function dirMtimes(lines: string[]): string[] {
  return [...new Set(lines.filter((l) => l.includes(' mode=4')).map((l) => / mtime=(\S+)/.exec(l)![1]!))];
}
