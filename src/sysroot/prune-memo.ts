/**
 * When the cleanup's prune (cleanup.ts) can be skipped because it cannot delete anything.
 *
 * A prune deletes the loose objects that its roots (every ref, the deployments, the spares) do
 * not reach. Right after a prune, every object is reached. If since then no object was added or
 * removed and no root was dropped, every object is still reached (objects never change, so
 * what a commit reaches never changes), and the next prune would delete nothing: its cost (a
 * listing of every object and a walk of every kept commit's tree) buys nothing. That is the
 * common case of a deploy, undeploy, rollback or kargs change without a pull in between.
 *
 * After each prune the memo `REPO/.ostree-ts-pruned` records the roots and the identity of the
 * object directories (`objects/` and each `objects/XX/`: device, inode, mtime and ctime in
 * nanoseconds): adding or removing an entry changes its directory's mtime and ctime, whoever
 * does it. The next prune is skipped only when the directories are unchanged and the roots
 * are a superset. Both ends run under the exclusive repository lock, which every writer of
 * objects (ours and upstream's) takes shared, so no write falls between a prune and its memo.
 * A directory changed less than RACY_NS before the memo is written might be changed again
 * within the same clock tick without its times moving: then no memo is written. A memo that
 * cannot be read or parsed means a full prune. Skipping a prune never deletes anything: the
 * worst a wrong memo can do is leave an unreachable object for a later prune.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isErrno } from '../errors.js';
import { objectsDir } from '../repo/layout.js';
import { writeFileAtomic } from '../util/fs.js';

const MEMO = '.ostree-ts-pruned';
const VERSION = 1;
/** Directories modified this recently are not trusted to show a later change (2 s). */
const RACY_NS = 2_000_000_000n;

interface Memo { version: number; roots: string[]; dirs: Record<string, string> }

function memoPath(repoPath: string): string { return path.join(repoPath, MEMO); }

/** `objects/` and its `XX` directories -> identity; null with a racily new one when `strict`. */
function objectDirs(repoPath: string, strict: boolean): Record<string, string> | null {
  const dir = objectsDir(repoPath);
  const now = BigInt(Date.now()) * 1_000_000n;
  const out: Record<string, string> = {};
  const add = (name: string, p: string): boolean => {
    const st = fs.lstatSync(p, { bigint: true });
    if (strict && (now - st.mtimeNs < RACY_NS || now - st.ctimeNs < RACY_NS)) return false;
    out[name] = `${st.dev}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}:${st.isDirectory() ? 'd' : 'x'}`;
    return true;
  };
  if (!add('.', dir)) return null;
  for (const n of fs.readdirSync(dir)) if (!add(n, path.join(dir, n))) return null;
  return out;
}

function readMemo(repoPath: string): Memo | null {
  try {
    const m = JSON.parse(fs.readFileSync(memoPath(repoPath), 'utf8')) as Memo;
    if (m.version !== VERSION || !Array.isArray(m.roots) || typeof m.dirs !== 'object' || m.dirs === null) return null;
    return m;
  } catch {
    return null;
  }
}

/** Whether a prune of `repoPath` keeping `roots` would delete nothing (see the file comment). */
export function pruneWouldFreeNothing(repoPath: string, roots: readonly string[]): boolean {
  const memo = readMemo(repoPath);
  if (memo === null) return false;
  const now = new Set(roots);
  if (!memo.roots.every((r) => now.has(r))) return false;
  let dirs: Record<string, string> | null;
  try { dirs = objectDirs(repoPath, false); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return false; throw e; }
  if (dirs === null) return false;
  const names = Object.keys(dirs);
  return names.length === Object.keys(memo.dirs).length && names.every((n) => memo.dirs[n] === dirs![n]);
}

/** After a complete prune keeping `roots`: record them and the object directories. */
export function rememberPrune(repoPath: string, roots: readonly string[]): void {
  forgetPrune(repoPath);
  let dirs: Record<string, string> | null;
  try { dirs = objectDirs(repoPath, true); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return; throw e; }
  if (dirs === null) return;
  const memo: Memo = { version: VERSION, roots: [...new Set(roots)].sort(), dirs };
  writeFileAtomic(memoPath(repoPath), JSON.stringify(memo), { mode: 0o644 });
}

/** Drop the memo (before a prune: one that fails half-way must not leave an old memo valid). */
export function forgetPrune(repoPath: string): void {
  fs.rmSync(memoPath(repoPath), { force: true });
}
