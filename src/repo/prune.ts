/**
 * `ostree prune`: delete loose objects not reachable from the kept commits, as upstream 2022.7
 * (ostree_repo_prune): without --refs-only every commit object in the repository is a root;
 * with it, only the refs (local, remote and collection refs). `depth` parents of each root are
 * kept (-1: all). Deleting a commit also deletes its detached metadata and commitpartial
 * marker. Runs under the exclusive repository lock.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import { parseCommit, parseDirTree, type CommitObject, type DirTree } from './objects.js';
import { loosePath } from './content.js';
import { formatSize } from '../util/format-size.js';
import type { Repo } from './repo.js';

export interface PruneOptions {
  /** Only keep what refs reach (default: every commit object is kept, with `depth` parents). */
  refsOnly?: boolean;
  /** Parents to keep per root commit: -1 (default) all, 0 none. */
  depth?: number;
  /** Extra commits to keep (with `depth` parents), e.g. deployments without refs. */
  keepCommits?: string[];
  /** Only report what would be deleted. */
  noPrune?: boolean;
  /** Delete this commit first (`--delete-commit`), then prune. */
  deleteCommit?: string;
  /** With refsOnly: keep commits younger than this (seconds since the epoch), per ref. */
  keepYoungerThan?: bigint;
  /** Only consider commit objects for deletion (`--commit-only`). */
  commitOnly?: boolean;
}

export interface PruneResult {
  objectsTotal: number;
  objectsPruned: number;
  bytesFreed: number;
}

/** The upstream summary lines of `ostree prune`. */
export function formatPruneResult(r: PruneResult, o: { noPrune?: boolean; commitOnly?: boolean } = {}): string[] {
  const lines = [o.commitOnly ? `Total (commit only) objects: ${r.objectsTotal}` : `Total objects: ${r.objectsTotal}`];
  if (r.objectsPruned === 0) lines.push('No unreachable objects');
  else if (o.noPrune) lines.push(`Would delete: ${r.objectsPruned} objects, freeing ${formatSize(r.bytesFreed)}`);
  else lines.push(`Deleted ${r.objectsPruned} objects, ${formatSize(r.bytesFreed)} freed`);
  return lines;
}

const EXT_TYPES: Record<string, string> = {
  dirtree: 'dirtree', dirmeta: 'dirmeta', commit: 'commit', 'payload-link': 'payload-link',
};

interface LooseObject { name: string; sub: string; file: string }

/**
 * Loose objects as upstream lists them for prune: files, dirtrees, dirmetas, commits.  `name`
 * is `<checksum>.<type>`; the path is `objects/<sub>/<file>` (built only for deletions).
 */
function listLooseObjects(repo: Repo): LooseObject[] {
  const out: LooseObject[] = [];
  const objdir = `${repo.path}/objects`;
  const fileExt = repo.mode === 'archive' ? 'filez' : 'file';
  let subs: string[] = [];
  try { subs = fs.readdirSync(objdir); } catch { return out; }
  for (const sub of subs) {
    if (sub.length !== 2 || !/^[0-9a-f]{2}$/.test(sub)) continue;
    for (const f of fs.readdirSync(`${objdir}/${sub}`)) {
      if (f.length < 64 || f.indexOf('.') !== 62) continue;
      const ext = f.slice(63);
      if (ext === fileExt) out.push({ name: fileExt === 'file' ? sub + f : `${sub}${f.slice(0, 62)}.file`, sub, file: f });
      else if (Object.hasOwn(EXT_TYPES, ext)) out.push({ name: sub + f, sub, file: f });
    }
  }
  return out;
}

function loosePathOf(repo: Repo, o: LooseObject): string {
  return `${repo.path}/objects/${o.sub}/${o.file}`;
}

/**
 * Reachable-object names (`<checksum>.<type>`: the commit, its root dirmeta and every dirtree,
 * dirmeta and file under it) of commits whose whole tree this process has just read, so a prune
 * right after (admin deploy: checkout, then cleanup) need not read and decode every dirtree
 * again.  Commits are immutable, so an entry stays true while the objects exist.
 */
const knownClosures = new Map<string, ReadonlySet<string>>();

/** Record the complete closure of `commit` in `repo` (see knownClosures). */
export function rememberCommitClosure(repo: Repo, commit: string, names: ReadonlySet<string>): void {
  knownClosures.set(`${repo.path}\0${commit}`, names);
}

/** Add everything reachable from `commit` (and `depth` parents) to `out`; missing objects are skipped. */
export function traverseReachable(repo: Repo, commit: string, depth: number, out: Set<string>, commitOnly = false): void {
  let cur: string | null = commit;
  let level = 0;
  const loadTree = (t: string): DirTree | null => {
    let data: Buffer;
    try { data = fs.readFileSync(repo.objectPath(t, 'dirtree')); } catch (e) { if (isErrno(e, 'ENOENT')) return null; throw e; }
    return parseDirTree(data, `${t}.dirtree`);
  };
  const walk = (t: string): void => {
    const n = `${t}.dirtree`;
    if (out.has(n)) return;
    out.add(n);
    const dt = loadTree(t);
    if (!dt) return;
    for (const f of dt.files) out.add(`${f.checksum}.file`);
    for (const d of dt.dirs) { out.add(`${d.metaChecksum}.dirmeta`); walk(d.treeChecksum); }
  };
  while (cur) {
    const name = `${cur}.commit`;
    if (out.has(name) && level === 0) {
      // Already kept as a root; its parents may still need a deeper walk, so continue.
    }
    let c: CommitObject;
    try {
      c = parseCommit(fs.readFileSync(repo.objectPath(cur, 'commit')), name);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) { if (level === 0) throw new OstreeError('ENOENT', `Commit ${cur} not found (referenced by a ref) in ${repo.path}`); break; }
      throw e;
    }
    out.add(name);
    if (!commitOnly) {
      const known = knownClosures.get(`${repo.path}\0${cur}`);
      if (known) {
        for (const n of known) out.add(n);
      } else {
        out.add(`${c.rootMeta}.dirmeta`);
        walk(c.rootTree);
      }
    }
    if (depth >= 0 && level >= depth) break;
    cur = c.parent;
    level++;
  }
}

function refFiles(repo: Repo): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let ents: fs.Dirent[];
    try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const c = fs.readFileSync(p, 'utf8').trim();
        if (!/^[0-9a-f]{64}$/.test(c)) throw new OstreeError('ECORRUPT', `ref file ${p} does not contain a commit checksum; refusing to prune (fix or delete the ref)`);
        out.push(c);
      }
    }
  };
  for (const d of ['heads', 'remotes', 'mirrors']) walk(path.join(repo.path, 'refs', d));
  return out;
}

/**
 * Prune `repo` (the `Repo.prune` contract). Takes the exclusive repository lock.
 * Returns the counts upstream prints: total objects seen, objects deleted, bytes freed.
 */
export async function pruneRepo(repo: Repo, options: PruneOptions = {}): Promise<PruneResult> {
  const depth = options.depth ?? -1;
  return repo.withLock(true, async () => {
    if (options.deleteCommit !== undefined) {
      const c = await repo.resolveRev(options.deleteCommit);
      for (const [ref, v] of await repo.listRefs()) {
        if (v === c) throw new OstreeError('EBUSY', `Commit '${c}' is referenced by '${ref}'`);
      }
      deleteCommit(repo, c);
    }
    const reachable = new Set<string>();
    const roots = new Set<string>(options.keepCommits ?? []);
    const objects = listLooseObjects(repo);
    if (options.refsOnly || options.keepYoungerThan !== undefined) {
      for (const c of refFiles(repo)) {
        if (options.keepYoungerThan !== undefined) {
          // Keep the ref's commit and every ancestor younger than the cut-off.
          let cur: string | null = c;
          let first = true;
          while (cur && repo.hasObjectSync(cur, 'commit')) {
            const obj = repo.loadCommitSync(cur);
            if (!first && obj.timestamp < options.keepYoungerThan) break;
            traverseReachable(repo, cur, 0, reachable, options.commitOnly);
            first = false;
            cur = obj.parent;
          }
        } else {
          roots.add(c);
        }
      }
    } else {
      for (const o of objects) if (o.name.endsWith('.commit')) roots.add(o.name.slice(0, 64));
    }
    for (const c of roots) traverseReachable(repo, c, depth, reachable, options.commitOnly);

    const res: PruneResult = { objectsTotal: 0, objectsPruned: 0, bytesFreed: 0 };
    for (const o of objects) {
      const isCommit = o.name.endsWith('.commit');
      if (options.commitOnly && !isCommit) continue;
      res.objectsTotal++;
      if (reachable.has(o.name)) continue;
      let size = 0;
      const file = loosePathOf(repo, o);
      try { size = fs.lstatSync(file).size; } catch { continue; }
      res.bytesFreed += size;
      res.objectsPruned++;
      if (options.noPrune) continue;
      if (isCommit) deleteCommit(repo, o.name.slice(0, 64));
      else unlinkIfPresent(file);
    }
    if (!options.noPrune && res.objectsPruned > 0) repo.syncRepo();
    return res;
  });
}

function unlinkIfPresent(p: string): void {
  try { fs.unlinkSync(p); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; }
}

/** Delete a commit object with its detached metadata and partial marker (tombstone if configured). */
function deleteCommit(repo: Repo, checksum: string): void {
  unlinkIfPresent(path.join(repo.path, 'state', `${checksum}.commitpartial`));
  unlinkIfPresent(loosePath(repo.path, checksum, 'commitmeta'));
  unlinkIfPresent(repo.objectPath(checksum, 'commit'));
}
