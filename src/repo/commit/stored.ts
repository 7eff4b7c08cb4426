/**
 * `--tree=ref=REV` when the commit has a modifier (upstream creates one for --owner-uid/gid,
 * --statoverride, --skip-list, --mode-ro-executables, --no-xattrs, --canonical-permissions,
 * --consume, -I, --generate-sizes, and always in a bare-user-only repository): the stored tree
 * is walked entry by entry as upstream walks a commit's OstreeRepoFile, and every file and
 * directory is written again with the rules applied to the stored ownership, mode and xattrs.
 * The data stays; the checksums change with the metadata, exactly as upstream's do. Without a
 * modifier the stored tree is laid over as it is (mtree.ts's overlayStored).
 *
 * Entries are visited as upstream enumerates a stored directory: its files, then its
 * subdirectories, each in dirtree order. Iterative (an explicit stack).
 */
import { readContentHeaderSync, writeStoredContent } from '../content.js';
import type { DirMeta } from '../objects/dirmeta.js';
import type { FileHeader } from '../objects/file-header.js';
import type { Xattr } from '../objects/xattrs.js';
import { hasLooseObject, loadDirMeta, loadDirTree, type RepoCore } from '../store.js';
import type { EntryInfo } from './modifier.js';
import type { MutableTree } from './mtree.js';
import type { WalkSession } from './tree.js';

/** The xattrs an entry keeps: none under --no-xattrs, canonical permissions or core.disable-xattrs. */
function keptXattrs(s: WalkSession, stored: Xattr[]): Xattr[] {
  return s.ctx.noXattrs === true || s.modifier.rules.canonical === true ? [] : stored;
}

function dirMeta(s: WalkSession, stored: DirMeta, info: EntryInfo): DirMeta {
  return { uid: info.uid, gid: info.gid, mode: info.mode, xattrs: keptXattrs(s, stored.xattrs) };
}

function sameHeader(a: FileHeader, b: FileHeader): boolean {
  if (a.uid !== b.uid || a.gid !== b.gid || a.mode !== b.mode || a.rdev !== b.rdev || a.symlinkTarget !== b.symlinkTarget) return false;
  if (a.xattrs.length !== b.xattrs.length) return false;
  return a.xattrs.every(([n, v], i) => n === b.xattrs[i]![0] && v.equals(b.xattrs[i]![1]));
}

/** The file `checksum` at commit path `rel`, stored again under the rules; its new checksum. */
async function rewriteFile(s: WalkSession, repo: RepoCore, checksum: string, rel: string): Promise<string> {
  const stored = readContentHeaderSync(repo.path, repo.mode, checksum);
  const info = s.modifier.apply(rel, stored.header);
  const header: FileHeader = { ...stored.header, ...info, xattrs: keptXattrs(s, stored.header.xattrs) };
  // Unchanged and already here: the same object (upstream would write the same bytes again).
  const same = sameHeader(header, stored.header) && hasLooseObject(repo, checksum, 'file');
  const out = same ? checksum : await writeStoredContent(s.ctx, stored, header);
  s.storedDirect.push(out);
  return out;
}

/**
 * Lay the stored tree `rootTree`/`rootMeta` over `root` with the commit modifier applied to
 * every entry (its skip-list and statoverride paths are the commit's own, from `/`).
 */
export async function overlayStoredModified(s: WalkSession, repo: RepoCore, root: MutableTree, rootTree: string, rootMeta: string): Promise<void> {
  if (s.modifier.skips('/')) return;
  const rootStored = loadDirMeta(repo, rootMeta);
  root.meta = dirMeta(s, rootStored, s.modifier.apply('/', rootStored));
  const stack: Array<{ node: MutableTree; tree: string; rel: string }> = [{ node: root, tree: rootTree, rel: '' }];
  while (stack.length > 0) {
    const { node, tree, rel } = stack.pop()!;
    const dt = loadDirTree(repo, tree);
    for (const f of dt.files) {
      const crel = `${rel}/${f.name}`;
      if (s.modifier.skips(crel)) continue;
      node.replaceFile(f.name, { checksum: await rewriteFile(s, repo, f.checksum, crel) });
      s.progress.filesScanned++;
    }
    const subdirs: typeof stack = [];
    for (const d of dt.dirs) {
      const crel = `${rel}/${d.name}`;
      if (s.modifier.skips(crel)) continue;
      const child = node.ensureDir(d.name);
      const stored = loadDirMeta(repo, d.metaChecksum);
      child.meta = dirMeta(s, stored, s.modifier.applyDir(crel, stored));
      subdirs.push({ node: child, tree: d.treeChecksum, rel: crel });
    }
    // depth-first, in dirtree order
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}
