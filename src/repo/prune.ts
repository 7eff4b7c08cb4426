/**
 * `ostree prune`: delete loose objects not reachable from the kept commits, as upstream 2022.7
 * (ostree_repo_prune): without --refs-only every commit object in the repository is a root;
 * with it, only the refs (local, remote and collection refs). `depth` parents of each root are
 * kept (-1: all). Deleting a commit also deletes its detached metadata and commitpartial
 * marker. Runs under the exclusive repository lock. Reachability comes from traverse.ts and is
 * complete before the first deletion: a loop, a dirtree containing itself or an unreadable
 * object in a kept commit refuses the whole prune and deletes nothing. Cached summaries of
 * remotes that no longer exist are removed too, as upstream does.
 */
import * as fs from 'node:fs';
import { OstreeError, isErrno } from '../errors.js';
import { clearCommitPartial, objectPath, objectsDir, parseLooseName, tmpDir, tmpName } from './layout.js';
import { serializeTombstone } from './objects/tombstone.js';
import type { KeyFile } from '../glib/keyfile.js';
import { Reachable, parentChain } from './traverse.js';
import type { RepoLocation } from './store.js';
import { refCommits } from './refs-list.js';
import { listRemotes, type RemoteRepo } from './remotes.js';
import { pruneSummaryCache } from './summary/cache.js';
import { pruneStaticDeltas } from './deltas/catalog.js';
import { formatSize } from '../util/format-size.js';
import { branchRoots, usesBranchRules } from './prune-branches.js';

/**
 * What prune needs of a repository. Structural, not the Repo class: repo.ts must not be
 * imported from here (Repo.prune imports this file; a type import would close the cycle).
 */
export interface PruneTarget extends RepoLocation, RemoteRepo {
  withLock<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T>;
  resolveRev(rev: string): Promise<string>;
  listRefs(): Promise<Map<string, string>>;
  /** syncfs after deleting, as upstream does before reporting. */
  syncRepo(): void;
}

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
  /** Keep each ref's commits younger than this (seconds since the epoch); only refs are roots. */
  keepYoungerThan?: bigint;
  /** `--retain-branch-depth`: ref -> parents to keep (-1: all); only refs are roots. */
  retainBranchDepth?: ReadonlyMap<string, number>;
  /** `--only-branch`: prune only these refs (each must exist), keep every other ref whole. */
  onlyBranches?: readonly string[];
  /** Only consider commit objects for deletion (`--commit-only`). */
  commitOnly?: boolean;
  /** `--static-deltas-only`: `deleteCommit` removes only the deltas leading to it. */
  staticDeltasOnly?: boolean;
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

interface LooseObject { name: string; checksum: string; isCommit: boolean; file: string }

/**
 * Loose objects as upstream lists them for prune: content, dirtrees, dirmetas, commits and
 * payload links (not detached metadata or tombstones, which go with their commit). `name` is
 * `<checksum>.<type>`, the type as traverse.ts names reachable objects.
 */
function listLooseObjects(repo: RepoLocation): LooseObject[] {
  const out: LooseObject[] = [];
  const objdir = objectsDir(repo.path);
  let subs: string[] = [];
  try { subs = fs.readdirSync(objdir); } catch { return out; }
  for (const sub of subs) {
    if (sub.length !== 2) continue;
    let files: string[];
    try { files = fs.readdirSync(`${objdir}/${sub}`); } catch (e) { if (isErrno(e, 'ENOTDIR')) continue; throw e; }
    for (const f of files) {
      const file = `${objdir}/${sub}/${f}`;
      const o = parseLooseName(sub, f, repo.mode);
      if (o !== null) {
        if (o.type === 'commitmeta' || o.type === 'tombstone-commit') continue;
        out.push({ name: `${o.checksum}.${o.type}`, checksum: o.checksum, isCommit: o.type === 'commit', file });
      } else if (f.endsWith('.payload-link') && f.length === 62 + '.payload-link'.length && /^[0-9a-f]{2}[0-9a-f]{62}$/.test(sub + f.slice(0, 62))) {
        // Upstream's payload links (never reachable from a commit; we write none).
        out.push({ name: `${sub}${f}`, checksum: sub + f.slice(0, 62), isCommit: false, file });
      }
    }
  }
  return out;
}

/**
 * Reachable-object names (`<checksum>.<type>`: the commit, its root dirmeta and every dirtree,
 * dirmeta and file under it) of commits whose whole tree this process has just read, so a prune
 * right after (admin deploy: checkout, then cleanup) need not read and decode every dirtree
 * again. Commits are immutable, so an entry stays true while the objects exist.
 */
const knownClosures = new Map<string, ReadonlySet<string>>();

/** Record the complete closure of `commit` in `repo` (see knownClosures). */
export function rememberCommitClosure(repo: RepoLocation, commit: string, names: ReadonlySet<string>): void {
  knownClosures.set(`${repo.path}\0${commit}`, names);
}

function reachableIn(repo: RepoLocation, commitOnly = false): Reachable {
  return new Reachable(repo, { commitOnly, known: (c) => knownClosures.get(`${repo.path}\0${c}`) });
}

function notFound(repo: RepoLocation, commit: string, e: unknown): unknown {
  if (e instanceof OstreeError && e.code === 'ENOENT' && e.path === objectPath(repo.path, commit, 'commit', repo.mode)) return new OstreeError('ENOENT', `Commit ${commit} not found (referenced by a ref) in ${repo.path}`);
  return e;
}

/** Add everything reachable from `commit` (and `depth` parents) to `out`; missing parents end the walk. */
export function traverseReachable(repo: RepoLocation, commit: string, depth: number, out: Set<string>, commitOnly = false): void {
  const r = reachableIn(repo, commitOnly);
  try { r.addCommit(commit, depth); } catch (e) { throw notFound(repo, commit, e); }
  for (const n of r.names) out.add(n);
}

/** The roots prune keeps and everything they reach. */
async function computeReachable(repo: PruneTarget, objects: LooseObject[], options: PruneOptions): Promise<Reachable> {
  const depth = options.depth ?? -1;
  const reachable = reachableIn(repo, options.commitOnly);
  const add = (c: string, d: number): void => {
    try { reachable.addCommit(c, d); } catch (e) { throw notFound(repo, c, e); }
  };
  for (const c of options.keepCommits ?? []) add(c, depth);
  if (usesBranchRules(options)) {
    for (const root of await branchRoots(repo, { ...options, depth })) {
      if ('depth' in root) add(root.commit, root.depth);
      else keepYoungerThan(repo, root.commit, root.youngerThan, add);
    }
  } else if (options.refsOnly) {
    const refs = refCommits(repo, (e) => new OstreeError('ECORRUPT', `ref file ${e.file} does not contain a commit checksum; refusing to prune (fix or delete the ref)`));
    for (const c of refs) add(c, depth);
  } else {
    for (const o of objects) if (o.isCommit) add(o.checksum, depth);
  }
  return reachable;
}

/** A ref's commit, and each ancestor while it is not older than `cutoff` (a missing one ends it). */
function keepYoungerThan(repo: PruneTarget, commit: string, cutoff: bigint, add: (c: string, d: number) => void): void {
  try {
    for (const link of parentChain(repo, commit)) {
      if (link.commit === null || (link.depth > 0 && link.commit.timestamp < cutoff)) break;
      add(link.checksum, 0);
    }
  } catch (e) { throw notFound(repo, commit, e); }
}

/**
 * Prune `repo`. Takes the exclusive repository lock.
 * Returns the counts upstream prints: total objects seen, objects deleted, bytes freed.
 */
export async function pruneRepo(repo: PruneTarget, options: PruneOptions = {}): Promise<PruneResult> {
  return repo.withLock(true, async () => {
    if (options.deleteCommit !== undefined && options.staticDeltasOnly) {
      pruneStaticDeltas(repo.path, options.deleteCommit, () => true);
    } else if (options.deleteCommit !== undefined) {
      const c = await repo.resolveRev(options.deleteCommit);
      for (const [ref, v] of await repo.listRefs()) {
        if (v === c) throw new OstreeError('EBUSY', `Commit '${c}' is referenced by '${ref}'`);
      }
      deleteCommit(repo, c, tombstones(repo));
    }
    const objects = listLooseObjects(repo);
    const reachable = await computeReachable(repo, objects, options);

    const res: PruneResult = { objectsTotal: 0, objectsPruned: 0, bytesFreed: 0 };
    for (const o of objects) {
      if (options.commitOnly && !o.isCommit) continue;
      res.objectsTotal++;
      if (reachable.has(o.name)) continue;
      let size = 0;
      try { size = fs.lstatSync(o.file).size; } catch { continue; }
      res.bytesFreed += size;
      res.objectsPruned++;
      if (options.noPrune) continue;
      if (o.isCommit) deleteCommit(repo, o.checksum, tombstones(repo));
      else unlinkIfPresent(o.file);
    }
    if (!options.noPrune && res.objectsPruned > 0) repo.syncRepo();
    pruneStaticDeltas(repo.path, null, (c) => fs.existsSync(objectPath(repo.path, c, 'commit', repo.mode)));
    pruneSummaryCache(repo.path, new Set(listRemotes(repo).map((r) => r.name)));
    return res;
  });
}

function unlinkIfPresent(p: string): void {
  try { fs.unlinkSync(p); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; }
}

/** Write the tombstone of `commit` (crash-safe), as upstream does when tombstones are on. */
export function writeTombstone(repo: RepoLocation, commit: string): void {
  fs.mkdirSync(tmpDir(repo.path), { recursive: true });
  const tmp = tmpName(repo.path, 'tombstone');
  try {
    fs.writeFileSync(tmp, serializeTombstone(commit), { mode: 0o644, flag: 'wx' });
    fs.renameSync(tmp, objectPath(repo.path, commit, 'tombstone-commit', repo.mode));
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** `core.tombstone-commits`: a deleted commit leaves a tombstone. */
function tombstones(repo: PruneTarget): boolean { return repo.config.getBoolean('core', 'tombstone-commits', false); }

/** Delete a commit object with its detached metadata and partial marker (leaving a tombstone when asked). */
function deleteCommit(repo: RepoLocation, checksum: string, tombstone: boolean): void {
  if (tombstone) writeTombstone(repo, checksum);
  clearCommitPartial(repo.path, checksum);
  unlinkIfPresent(objectPath(repo.path, checksum, 'commitmeta', repo.mode));
  unlinkIfPresent(objectPath(repo.path, checksum, 'commit', repo.mode));
}
