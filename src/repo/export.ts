/**
 * `ostree export`: a commit's tree (or a subpath of it) as a GNU tar archive, as upstream
 * writes it through libarchive (native/libarchive.ts): each directory's entry, then its files
 * (dirtree order), then its subdirectories depth-first; names relative to the exported root
 * (`.` for the root itself), with `prefix` prepended as is; every time is the commit's
 * timestamp; ownership, mode and (unless disabled) xattrs from the objects.
 */
import { OstreeError } from '../errors.js';
import { GnuTarWriter } from '../native/libarchive.js';
import { S_IFDIR, isSymlinkMode } from './objects/common.js';
import { contentDataStream, readContentHeaderSync } from './content.js';
import { loadCommit, loadDirMeta, loadDirTree, type RepoCore } from './store.js';
import { resolveRev } from './refs.js';
import { lookupPath } from './checkout/checkout.js';

export interface ExportOptions {
  subpath?: string;
  /** Prepended to every name as given (`the-prefix/`). */
  prefix?: string;
  noXattrs?: boolean;
  /** Output file; standard output when absent. */
  output?: string;
}

interface Job { tree: string; meta: string; rel: string }

export async function exportTree(repo: RepoCore, rev: string, o: ExportOptions = {}): Promise<void> {
  const csum = resolveRev(repo, rev);
  if (csum === null) throw new OstreeError('ENOENT', `Refspec '${rev}' not found`);
  const mtime = Number(BigInt.asIntN(64, loadCommit(repo, csum).timestamp));
  const found = lookupPath(repo, csum, o.subpath ?? '/');
  const w = new GnuTarWriter(o.output !== undefined ? { file: o.output } : { fd: 1 });
  const name = (rel: string): string => {
    const p = (o.prefix ?? '') + rel;
    return p === '' ? '.' : p;
  };
  try {
    if (found.kind === 'file') {
      await writeFile(repo, w, found.checksum, name(''), mtime, o);
    } else {
      const stack: Job[] = [{ tree: found.tree, meta: found.meta, rel: '' }];
      while (stack.length > 0) {
        const j = stack.pop()!;
        const m = loadDirMeta(repo, j.meta);
        w.header({ pathname: name(j.rel), mode: S_IFDIR | (m.mode & 0o7777), uid: m.uid, gid: m.gid, mtime, ...(o.noXattrs ? {} : { xattrs: m.xattrs }) });
        const dt = loadDirTree(repo, j.tree);
        for (const f of dt.files) await writeFile(repo, w, f.checksum, name(j.rel === '' ? f.name : `${j.rel}/${f.name}`), mtime, o);
        for (let i = dt.dirs.length - 1; i >= 0; i--) {
          const d = dt.dirs[i]!;
          stack.push({ tree: d.treeChecksum, meta: d.metaChecksum, rel: j.rel === '' ? d.name : `${j.rel}/${d.name}` });
        }
      }
    }
  } finally {
    w.close();
  }
}

async function writeFile(repo: RepoCore, w: GnuTarWriter, checksum: string, pathname: string, mtime: number, o: ExportOptions): Promise<void> {
  const c = readContentHeaderSync(repo.path, repo.mode, checksum);
  const h = c.header;
  const common = { pathname, mode: h.mode, uid: h.uid, gid: h.gid, mtime, ...(o.noXattrs ? {} : { xattrs: h.xattrs }) };
  if (isSymlinkMode(h.mode)) { w.header({ ...common, symlink: h.symlinkTarget }); return; }
  w.header({ ...common, size: c.size });
  for await (const chunk of contentDataStream(c)) w.data(chunk as Buffer);
  w.finishEntry();
}
