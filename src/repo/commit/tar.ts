/**
 * `commit --tree=tar=FILE` (FILE may be '-' for standard input): an archive read by libarchive
 * (native/libarchive.ts: tar, cpio, with any compression) laid over the commit's MutableTree,
 * as upstream's importer does it:
 *
 * - entry names are made relative (`./`, leading `/` and `..` at the root dropped; `.` is the
 *   root itself) and passed through `--tar-pathname-filter` when given;
 * - the modifier (skip-list, statoverride, ownership) sees `/`-rooted paths;
 * - a missing parent directory is an error unless `--tar-autocreate-parents` makes it (0755,
 *   owned like the entry that needed it);
 * - hardlinks are resolved once the whole archive is read (cpio puts the data on the last
 *   link, tar on the first);
 * - each file is written to REPO/tmp and stored by the usual content writer, so the rules of
 *   the repository mode apply as for a directory commit.
 */
import * as fs from 'node:fs';
import { OstreeError } from '../../errors.js';
import { ArchiveReader, type ArchiveEntryInfo } from '../../native/libarchive.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../objects/common.js';
import { sortXattrs } from '../objects/xattrs.js';
import { tmpName, writeContentSync } from '../content.js';
import type { RepoLocation } from '../store.js';
import type { MutableTree } from './mtree.js';
import type { WalkSession } from './tree.js';

export interface TarImportOptions {
  autocreateParents: boolean;
  /** `--tar-pathname-filter=REGEX,REPLACEMENT`, applied to every relative entry name. */
  pathnameFilter?: { regex: RegExp; replacement: string };
}

const DEFAULT_DIRMODE = S_IFDIR | 0o755;

/** An entry name made relative as upstream does ('' is the root). */
export function relativeEntryPath(p: string): string {
  let s = p;
  while (s.startsWith('/')) {
    s = s.slice(1);
    if (s.startsWith('../')) s = s.slice(2);
  }
  for (;;) {
    if (s.startsWith('./')) s = s.slice(2);
    else if (s.startsWith('/')) s = s.slice(1);
    else break;
  }
  if (s === '.') s = '';
  const parts = s.split('/').filter((x) => x !== '');
  for (const c of parts) {
    if (c === '.' || c === '..') throw new OstreeError('EINVAL', `While making relative path "${s}": Invalid path component '${c}'`);
  }
  return parts.join('/');
}

interface Deferred { parent: MutableTree; name: string; size: number }

class TarImport {
  private readonly deferred = new Map<string, Deferred[]>();
  private readonly reader: ArchiveReader;

  constructor(private readonly repo: RepoLocation, file: string, private readonly root: MutableTree,
    private readonly s: WalkSession, private readonly o: TarImportOptions) {
    this.reader = new ArchiveReader(file);
  }

  private finalPath(p: string): string {
    const rel = relativeEntryPath(p);
    const f = this.o.pathnameFilter;
    return (f ? rel.replace(f.regex, f.replacement) : rel).replace(/\/+$/, '');
  }

  run(): void {
    try {
      for (let e = this.reader.next(); e !== null; e = this.reader.next()) this.entry(e);
    } finally {
      this.reader.close();
    }
    for (const [target, links] of this.deferred) this.resolveHardlinks(target, links);
    if (this.o.autocreateParents && this.root.meta === undefined) {
      this.root.meta = this.dirMeta('/', { uid: 0, gid: 0, mode: DEFAULT_DIRMODE }, []);
    }
  }

  private dirMeta(path: string, info: { uid: number; gid: number; mode: number }, xattrs: Array<[string, Buffer]>): { uid: number; gid: number; mode: number; xattrs: Array<[string, Buffer]> } {
    const m = this.s.modifier.apply(path, info);
    const keep = !this.s.ctx.noXattrs && !this.s.modifier.rules.canonical;
    return { ...m, xattrs: keep ? sortXattrs(xattrs) : [] };
  }

  private entry(e: ArchiveEntryInfo): void {
    const rel = this.finalPath(e.pathname);
    const abs = `/${rel}`;
    if (this.s.modifier.skips(abs)) { this.skipData(); return; }
    const mode = e.hardlink !== null ? e.mode | S_IFREG : e.mode;
    const parent = this.parentDir(rel, e);
    const name = rel === '' ? '' : rel.slice(rel.lastIndexOf('/') + 1);
    const fmt = mode & S_IFMT;
    if (fmt === S_IFDIR) {
      const dir = name === '' ? parent : parent.ensureDir(name);
      dir.meta = this.dirMeta(abs, { uid: e.uid, gid: e.gid, mode }, e.xattrs);
      return;
    }
    if (fmt !== S_IFREG && fmt !== S_IFLNK) throw new OstreeError('EINVAL', `ostree-tar: Failed to handle file: Unsupported file type for path "${rel}"`);
    const hardlink = e.hardlink !== null ? this.finalPath(e.hardlink) : null;
    if (hardlink === null || e.size > 0) parent.replaceFile(name, { checksum: this.store(abs, e, mode) });
    if (hardlink !== null) {
      const list = this.deferred.get(hardlink) ?? [];
      list.push({ parent, name, size: e.size });
      this.deferred.set(hardlink, list);
    }
  }

  private skipData(): void {
    for (const _ of this.reader.data()) { /* drain */ }
  }

  /** The directory holding `rel` (made, with upstream's defaults, under --tar-autocreate-parents). */
  private parentDir(rel: string, e: ArchiveEntryInfo): MutableTree {
    const parts = rel === '' ? [] : rel.split('/');
    let cur = this.root;
    const fixRoot = (): void => {
      if (this.o.autocreateParents && cur.meta === undefined) cur.meta = this.dirMeta('/', { uid: e.uid, gid: e.gid, mode: DEFAULT_DIRMODE }, []);
    };
    if (parts.length > 1) fixRoot();
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i]!;
      const sub = cur.dirs.get(name);
      if (sub) { cur = sub; continue; }
      if (!this.o.autocreateParents) throw new OstreeError('ENOENT', `No such file or directory: ${parts.slice(0, i + 1).join('/')}`);
      cur = cur.ensureDir(name);
      cur.meta = this.dirMeta(`/${parts.slice(0, i + 1).join('/')}`, { uid: e.uid, gid: e.gid, mode: DEFAULT_DIRMODE }, []);
    }
    return cur;
  }

  /** Store one file or symlink through the content writer (via a file in REPO/tmp). */
  private store(abs: string, e: ArchiveEntryInfo, mode: number): string {
    const tmp = tmpName(this.repo.path, 'tar');
    const adjust = this.s.modifier.adjustFor(abs);
    try {
      if ((mode & S_IFMT) === S_IFLNK) {
        fs.symlinkSync(e.symlink ?? '', tmp);
      } else {
        const fd = fs.openSync(tmp, 'wx', 0o600);
        try { for (const chunk of this.reader.data()) fs.writeSync(fd, chunk); } finally { fs.closeSync(fd); }
      }
      const r = writeContentSync(this.s.ctx, tmp, { mode, uid: e.uid, gid: e.gid }, adjust);
      if (typeof r !== 'string') throw new OstreeError('EIO', 'internal: asynchronous write of a tar entry');
      this.s.storedDirect.push(r);
      return r;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Point every hardlink of `target` at the object that carries the data. */
  private resolveHardlinks(target: string, links: Deferred[]): void {
    const payload = links.find((l) => l.size > 0);
    const parts = target.split('/');
    const name = parts.pop()!;
    const found = this.root.lookup(parts.join('/'));
    if (!found || !('dir' in found)) throw new OstreeError('ENOENT', `ostree-tar: Processing deferred hardlink ${target}: No such file or directory`);
    if (payload) found.dir.replaceFile(name, { checksum: payload.parent.files.get(payload.name)!.checksum! });
    const t = found.dir.files.get(name);
    if (!t) throw new OstreeError('ENOENT', `ostree-tar: Processing deferred hardlink ${target}: Failed to find object`);
    for (const l of links) if (l !== payload) l.parent.replaceFile(l.name, { checksum: t.checksum! });
  }
}

/** Lay the archive `file` ('-': standard input) over `root`. */
export async function importTarArchive(repo: RepoLocation, file: string, root: MutableTree, s: WalkSession, o: TarImportOptions): Promise<void> {
  new TarImport(repo, file, root, s, o).run();
  return Promise.resolve();
}
