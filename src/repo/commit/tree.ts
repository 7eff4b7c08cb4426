/**
 * `--tree=dir=PATH` of a commit: walk the directory (iteratively: a tree 10,000 directories
 * deep is fine) into the commit's MutableTree, applying the commit modifier (skip-list,
 * statoverride, ownership, canonical permissions) to every entry. Files become slots that the
 * content writers (pool.ts) fill once every source is walked, except hardlinks into the
 * repository that `--link-checkout-speedup` recognizes unchanged (devino cache hits).
 *
 * Only regular files, symlinks and directories can be committed; anything else (FIFO, socket,
 * device) is refused naming its path during the walk, before any object is written. A missing
 * or unreadable directory is an error naming it; a file name that is not UTF-8 is refused
 * (GVariant strings must be UTF-8), as upstream.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as libc from '../../native/libc.js';
import { OstreeError, isErrno } from '../../errors.js';
import { LongPaths } from '../../util/long-path.js';
import { sortXattrs } from '../objects/xattrs.js';
import type { DirMeta } from '../objects/dirmeta.js';
import { fileKind } from '../modes/backend.js';
import { readContentHeaderSync, type ContentWriteContext } from '../content.js';
import { tmpDir } from '../layout.js';
import { ContentWriterPool, type PendingFile } from './pool.js';
import { devinoKey, type DevinoCache } from './devino.js';
import { applyRules, type CommitModifier, type ModeAdjust } from './modifier.js';
import type { MutableTree } from './mtree.js';
import type { CommitProgress } from './commit.js';

/** What the walks of one commit share: the writers' context, the rules, the counters. */
export interface WalkSession {
  ctx: ContentWriteContext;
  modifier: CommitModifier;
  /** `--link-checkout-speedup`: loose objects by device and inode. */
  devino?: DevinoCache;
  /** `-I, --devino-canonical`: a devino hit is taken as is, whatever the modifier says. */
  devinoCanonical?: boolean;
  pool: ContentWriterPool;
  progress: CommitProgress;
  report?: (p: CommitProgress) => void;
  /** Files that still need a content object (every walk appends). */
  files: PendingFile[];
  /** Content objects stored on the way (tar entries), for `--generate-sizes`. */
  storedDirect: string[];
  /** `--consume` where the mode allows adopting the source files as objects. */
  adopt?: boolean;
  /** Devino cache hits (upstream's "Content Cache Hits"). */
  cacheHits: number;
}

/** The dirmeta of a source directory at commit path `rel` ('/': the root), after the modifier. */
function dirMetaFor(s: WalkSession, p: string, rel: string, st: fs.Stats): DirMeta {
  const own = { uid: st.uid, gid: st.gid, mode: st.mode };
  const info = rel === '/' ? s.modifier.apply(rel, own) : s.modifier.applyDir(rel, own);
  const noXattrs = s.ctx.noXattrs === true || s.modifier.rules.canonical === true;
  return { ...info, xattrs: noXattrs ? [] : sortXattrs(libc.lgetxattrs(p)) };
}

function unreadable(p: string, e: unknown): OstreeError {
  if (e instanceof OstreeError) return e;
  return new OstreeError(isErrno(e, 'ENOENT') ? 'ENOENT' : 'EIO', `cannot commit '${p}': ${(e as Error).message.replace(/^\w+: /, '')}`, { path: p, cause: e });
}

function direntKind(e: fs.Dirent): string {
  if (e.isFIFO()) return 'a FIFO';
  if (e.isSocket()) return 'a socket';
  if (e.isCharacterDevice()) return 'a character device';
  if (e.isBlockDevice()) return 'a block device';
  return 'of an unknown type';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Refuse names that are not UTF-8 (Node shows their bad bytes as U+FFFD). */
function checkUtf8Names(dir: string, ents: fs.Dirent[]): void {
  if (!ents.some((e) => e.name.includes('\uFFFD'))) return;
  for (const raw of fs.readdirSync(dir, { encoding: 'buffer' })) {
    try { utf8.decode(raw); } catch {
      throw new OstreeError('EINVAL', `Invalid UTF-8 in filename '${raw.toString('latin1')}' in '${dir}'`);
    }
  }
}

/**
 * A devino hit that the modifier leaves as it is keeps its checksum (upstream compares the
 * object's ownership and mode before and after the rules).
 */
function reusableHit(s: WalkSession, checksum: string, adjust: ModeAdjust | undefined): boolean {
  if (s.devinoCanonical) return true;
  if (!s.modifier.changesEntries && !s.ctx.noXattrs) return true;
  const h = readContentHeaderSync(s.ctx.repoPath, s.ctx.mode, checksum).header;
  const after = applyRules(h, s.modifier.rules, adjust);
  if (s.ctx.noXattrs && h.xattrs.length > 0) return false;
  return after.uid === h.uid && after.gid === h.gid && after.mode === h.mode;
}

/** One file or symlink of the walk: a cache hit, or a slot for the writers. */
function addFile(s: WalkSession, mtree: MutableTree, e: fs.Dirent, cp: string, shortPath: string, rel: string): void {
  // (the statoverride is looked up once: an addition is used up by the entry it applies to)
  const adjust = s.modifier.adjustFor(rel);
  if (s.devino) {
    const st = fs.lstatSync(shortPath, { bigint: true });
    const hit = s.devino.get(devinoKey(st));
    if (hit !== undefined && reusableHit(s, hit, adjust)) {
      mtree.replaceFile(e.name, { checksum: hit });
      s.cacheHits++;
      return;
    }
  }
  const f: PendingFile = { name: e.name, path: cp, kind: e.isFile() ? 'file' : 'symlink', ...(adjust ? { adjust } : {}), ...(s.adopt && e.isFile() ? { adopt: true } : {}) };
  mtree.replaceFile(e.name, f);
  s.files.push(f);
  const progress = s.progress;
  if (++progress.filesScanned % ContentWriterPool.BATCH === 0) {
    if (progress.filesScanned === ContentWriterPool.MIN_FILES_FOR_WORKERS) s.pool.prepare();
    s.report?.(progress);
  }
}

/**
 * Walk the directory `dir` into `root` depth-first with an explicit stack. Directory listings
 * give each entry's type, so only directories are lstat'ed (and files when the devino cache
 * is on); the writers read each file's own metadata when they open it.
 */
export function walkDirectory(s: WalkSession, dir: string, root: MutableTree): void {
  let rootSt: fs.Stats;
  try { rootSt = fs.lstatSync(dir); } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw new OstreeError('ENOENT', `cannot commit '${dir}': no such directory`, { path: dir });
    throw unreadable(dir, e);
  }
  if (!rootSt.isDirectory()) throw new OstreeError('EINVAL', `cannot commit '${dir}': it is ${fileKind(rootSt)}, not a directory`, { path: dir });
  const paths = new LongPaths();
  try {
    root.meta = dirMetaFor(s, dir, '/', rootSt);
    const stack: Array<{ node: MutableTree; path: string; rel: string }> = [{ node: root, path: dir, rel: '' }];
    while (stack.length > 0) {
      const { node, path: p, rel: prel } = stack.pop()!;
      let ents: fs.Dirent[];
      try { ents = fs.readdirSync(paths.short(p), { withFileTypes: true }); } catch (e) { throw unreadable(p, e); }
      checkUtf8Names(paths.short(p), ents);
      for (const e of ents) {
        const cp = `${p}/${e.name}`;
        const rel = `${prel}/${e.name}`;
        if (s.modifier.skips(rel)) continue;
        if (e.isDirectory()) {
          let cst: fs.Stats;
          try { cst = fs.lstatSync(paths.short(cp)); } catch (err) { throw unreadable(cp, err); }
          const child = node.ensureDir(e.name);
          child.meta = dirMetaFor(s, paths.short(cp), rel, cst);
          stack.push({ node: child, path: cp, rel });
        } else if (e.isFile() || e.isSymbolicLink()) {
          addFile(s, node, e, cp, paths.short(cp), rel);
        } else {
          throw new OstreeError('EINVAL', `cannot commit '${cp}': it is ${direntKind(e)} (only regular files, symlinks and directories can be committed)`, { path: cp });
        }
      }
    }
  } finally {
    paths.close();
  }
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
