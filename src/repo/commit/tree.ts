/**
 * Committing a directory tree: walk it (iteratively: a tree 10,000 directories deep is fine),
 * hand its files to the content writers in batches, then write the dirtree and dirmeta objects
 * bottom-up and the commit object (commit.ts).
 *
 * Only regular files, symlinks and directories can be committed; anything else (FIFO, socket,
 * device) is refused naming its path during the walk, before any object is written. A missing
 * or unreadable directory is an error naming it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as libc from '../../native/libc.js';
import { OstreeError, isErrno } from '../../errors.js';
import { LongPaths } from '../../util/long-path.js';
import { S_IFMT } from '../objects/common.js';
import { sortXattrs } from '../objects/xattrs.js';
import { serializeDirMeta, type DirMeta } from '../objects/dirmeta.js';
import { serializeDirTree } from '../objects/dirtree.js';
import { fileKind } from '../modes/backend.js';
import { modeTraits } from '../modes/mode.js';
import { forgetStagingDirs, type ContentWriteContext } from '../content.js';
import { tmpDir } from '../layout.js';
import { writeMetadataObject, type RepoCore } from '../store.js';
import { ContentWriterPool, type PendingFile } from './pool.js';
import { findKernelVersion, writeCommit, type CommitTreeOptions, type CommitProgress } from './commit.js';

interface DirNode {
  meta: DirMeta;
  files: PendingFile[];
  dirs: Array<{ name: string; node: DirNode }>;
  tree?: string;
  metaChecksum?: string;
}

/** The dirmeta of a source directory, after the repo mode's and the caller's rules. */
function dirMetaFor(ctx: ContentWriteContext, p: string, st: fs.Stats): DirMeta {
  if (ctx.canonicalPermissions || modeTraits(ctx.mode).canonical) return { uid: 0, gid: 0, mode: st.mode & (S_IFMT | 0o755), xattrs: [] };
  return {
    uid: ctx.ownerUid ?? st.uid,
    gid: ctx.ownerGid ?? st.gid,
    mode: st.mode,
    xattrs: ctx.noXattrs ? [] : sortXattrs(libc.lgetxattrs(p)),
  };
}

function unreadable(p: string, e: unknown): OstreeError {
  if (e instanceof OstreeError) return e;
  return new OstreeError(isErrno(e, 'ENOENT') ? 'ENOENT' : 'EIO', `cannot commit '${p}': ${(e as Error).message.replace(/^\w+: /, '')}`, { path: p, cause: e });
}

/**
 * Walk `dir` depth-first with an explicit stack; returns the directories in pre-order (a parent
 * before its children) and every file. Directory listings give each entry's type, so only
 * directories are lstat'ed here; the writers read each file's own metadata when they open it.
 */
function walk(ctx: ContentWriteContext, dir: string, rootSt: fs.Stats, pool: ContentWriterPool, progress: CommitProgress, report?: (p: CommitProgress) => void): { order: DirNode[]; files: PendingFile[] } {
  const paths = new LongPaths();
  const order: DirNode[] = [];
  const files: PendingFile[] = [];
  try {
    const root: DirNode = { meta: dirMetaFor(ctx, dir, rootSt), files: [], dirs: [] };
    const stack: Array<{ node: DirNode; path: string }> = [{ node: root, path: dir }];
    while (stack.length > 0) {
      const { node, path: p } = stack.pop()!;
      order.push(node);
      let ents: fs.Dirent[];
      try { ents = fs.readdirSync(paths.short(p), { withFileTypes: true }); } catch (e) { throw unreadable(p, e); }
      for (const e of ents) {
        const cp = `${p}/${e.name}`;
        if (e.isDirectory()) {
          let cst: fs.Stats;
          try { cst = fs.lstatSync(paths.short(cp)); } catch (err) { throw unreadable(cp, err); }
          const child: DirNode = { meta: dirMetaFor(ctx, paths.short(cp), cst), files: [], dirs: [] };
          node.dirs.push({ name: e.name, node: child });
          stack.push({ node: child, path: cp });
        } else if (e.isFile() || e.isSymbolicLink()) {
          const f: PendingFile = { name: e.name, path: cp, kind: e.isFile() ? 'file' : 'symlink' };
          node.files.push(f);
          files.push(f);
          if (++progress.filesScanned % ContentWriterPool.BATCH === 0) {
            if (progress.filesScanned === ContentWriterPool.BATCH) pool.prepare();
            report?.(progress);
          }
        } else {
          throw new OstreeError('EINVAL', `cannot commit '${cp}': it is ${direntKind(e)} (only regular files, symlinks and directories can be committed)`, { path: cp });
        }
      }
    }
  } finally {
    paths.close();
  }
  return { order, files };
}

function direntKind(e: fs.Dirent): string {
  if (e.isFIFO()) return 'a FIFO';
  if (e.isSocket()) return 'a socket';
  if (e.isCharacterDevice()) return 'a character device';
  if (e.isBlockDevice()) return 'a block device';
  return 'of an unknown type';
}

/** Write the dirtree and dirmeta of every directory, children first (reverse pre-order). */
function writeTrees(repo: RepoCore, order: DirNode[]): { tree: string; meta: string } {
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    node.tree = writeMetadataObject(repo, 'dirtree', serializeDirTree({
      files: node.files.map((f) => ({ name: f.name, checksum: f.checksum! })),
      dirs: node.dirs.map((d) => ({ name: d.name, treeChecksum: d.node.tree!, metaChecksum: d.node.metaChecksum! })),
    }));
    node.metaChecksum = writeMetadataObject(repo, 'dirmeta', serializeDirMeta(node.meta));
    // What the parent needs is kept; the rest can go.
    node.files = [];
    node.dirs = [];
  }
  return { tree: order[0]!.tree!, meta: order[0]!.metaChecksum! };
}

/** Remove REPO/tmp entries left by this process's dead writers, and the writers' staging dirs. */
export function cleanStaleTmp(repoPath: string): void {
  const dir = tmpDir(repoPath);
  let names: string[] = [];
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const n of names) {
    const m = /^(?:commit|meta|ref)-(\d+)-/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try { process.kill(pid, 0); } catch (e) { alive = !isErrno(e, 'ESRCH'); }
    if (!alive) fs.rmSync(path.join(dir, n), { force: true, recursive: true });
  }
}

/**
 * Commit the directory tree `dir` and return the commit checksum (updating `options.branch`).
 * The caller holds the repository lock.
 */
export async function commitTree(repo: RepoCore, dirArg: string, options: CommitTreeOptions = {}): Promise<string> {
  // Absolute and normalized: the writer threads open the files by these paths.
  const dir = path.resolve(dirArg);
  const ctx: ContentWriteContext = {
    repoPath: repo.path, mode: repo.mode,
    noXattrs: options.noXattrs === true || repo.config.getBoolean('core', 'disable-xattrs', false),
    canonicalPermissions: options.canonicalPermissions === true,
  };
  if (options.ownerUid !== undefined) ctx.ownerUid = options.ownerUid;
  if (options.ownerGid !== undefined) ctx.ownerGid = options.ownerGid;
  let rootSt: fs.Stats;
  try { rootSt = fs.lstatSync(dir); } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw new OstreeError('ENOENT', `cannot commit '${dir}': no such directory`, { path: dir });
    throw unreadable(dir, e);
  }
  if (!rootSt.isDirectory()) throw new OstreeError('EINVAL', `cannot commit '${dir}': it is ${fileKind(rootSt)}, not a directory`, { path: dir });
  fs.mkdirSync(tmpDir(repo.path), { recursive: true });
  cleanStaleTmp(repo.path);

  const nWorkers = options.workers ?? Math.min(4, Math.max(1, os.availableParallelism()));
  const progress: CommitProgress = { filesScanned: 0, filesWritten: 0, walkDone: false };
  const report = options.progress;
  const pool = new ContentWriterPool(ctx, nWorkers, (n) => {
    progress.filesWritten += n;
    report?.(progress);
  });
  let order: DirNode[];
  try {
    let files: PendingFile[];
    try {
      ({ order, files } = walk(ctx, dir, rootSt, pool, progress, report));
    } catch (e) {
      await pool.abort();
      throw e;
    }
    progress.walkDone = true;
    report?.(progress);
    for (let i = 0; i < files.length; i += ContentWriterPool.BATCH) pool.submit(files.slice(i, i + ContentWriterPool.BATCH));
    await pool.finish();
  } finally {
    // the writers' staging directories (empty unless a writer failed mid-file)
    for (const n of fs.readdirSync(tmpDir(repo.path))) {
      if (n.startsWith(`commit-${process.pid}-`) && n.endsWith('-staging')) fs.rmSync(path.join(tmpDir(repo.path), n), { recursive: true, force: true });
    }
    forgetStagingDirs();
  }
  const root = writeTrees(repo, order);
  return writeCommit(repo, root.tree, root.meta, options, options.bootable ? findKernelVersion(dir) : undefined);
}
