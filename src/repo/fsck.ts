/**
 * `ostree fsck`: verify every object reachable from every (non-partial) commit, as upstream
 * 2022.7 does, in phases:
 *   1. refs: each ref names a commit that is present and sound (refs.ts reads them);
 *   2. commits: every commit object, partial ones counted and skipped (layout.ts commitState);
 *   3. metadata: each reachable metadata object re-hashes, parses, is in normal form
 *      (fsck/metadata.ts), walking the trees once (traverse.ts);
 *   4. content: each content object re-hashes (fsck/content.ts) on the worker pool
 *      (util/pool.ts), fed while phase 3 is still walking;
 *   5. the report, in walk order, naming the commits each problem belongs to (fsck/report.ts);
 *   6. repairs asked for: --delete, partial markers, --add-tombstones (fsck/repair.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { commitState, objectsDir, parseLooseName } from './layout.js';
import { readRefContents } from './refs.js';
import { listRefFiles, type RefEntry } from './refs-list.js';
import { loadCommit } from './store.js';
import { repoCollectionId } from './collections.js';
import { verifyBackRefs, verifyBindings } from './bindings.js';
import { startPool } from '../util/pool.js';
import { spareCpus } from '../util/spare-cpus.js';
import type { FsckContentContext } from './fsck/content.js';
import { fsckMetadataObject, walkMetadata } from './fsck/metadata.js';
import { reportProblems } from './fsck/report.js';
import { deleteObject, tombstoneCommit } from './fsck/repair.js';
import type { Repo } from './repo.js';

export interface FsckOptions {
  /** Don't print progress/info lines. */
  quiet?: boolean;
  /** Delete corrupted objects (and mark their commits partial). */
  delete?: boolean;
  /** Report every corrupted object instead of stopping at the first. */
  all?: boolean;
  /** Replace commits whose parent is missing with tombstones (upstream semantics: deletes the commit). */
  addTombstones?: boolean;
  /** Check that the commit each ref points to is bound to that ref (and collection). */
  verifyBindings?: boolean;
  /** Check that every ref a commit is bound to points to it (implies verifyBindings after the
   *  ref phases, as upstream). */
  verifyBackRefs?: boolean;
  /** Threads hashing content objects, this one included (default: this one, and one more per
   *  idle CPU up to 4 in all when the repository is large). */
  workers?: number;
}

export interface FsckReporter {
  /** stdout lines (info and progress). */
  info(line: string): void;
  /** stderr lines (problems that don't stop the check). */
  warn(line: string): void;
}

export interface FsckResult {
  refsChecked: number;
  commitsVerified: number;
  objectsChecked: number;
  partialCommits: number;
  missing: string[];
  corrupted: Array<{ object: string; message: string }>;
  markedPartial: string[];
  deleted: string[];
  tombstoned: string[];
}

/** The pool job that hashes content objects (a module URL: workers import only that). */
const CONTENT_JOB = { module: new URL('./fsck/content.js', import.meta.url).href, name: 'fsckContentJob' };

/** Every commit object, in checksum order. */
function listCommitObjects(repo: Repo): string[] {
  const out: string[] = [];
  const objdir = objectsDir(repo.path);
  let subs: string[] = [];
  try { subs = fs.readdirSync(objdir); } catch { return out; }
  for (const sub of subs.sort()) {
    let files: string[];
    try { files = fs.readdirSync(path.join(objdir, sub)); } catch { continue; }
    for (const f of files.sort()) {
      if (!f.endsWith('.commit')) continue; // cheap filter first: most files are content
      const o = parseLooseName(sub, f, repo.mode);
      if (o !== null && o.type === 'commit') out.push(o.checksum);
    }
  }
  return out;
}

/** Below this many (estimated) objects a worker thread's start-up costs more than it saves. */
const PARALLEL_MIN_OBJECTS = 2000;

/** Threads for the content phase, this one included. */
function contentThreads(options: FsckOptions, estimate: number): number {
  if (options.workers !== undefined) return Math.max(1, options.workers);
  if (estimate < PARALLEL_MIN_OBJECTS) return 1;
  return 1 + Math.min(3, spareCpus());
}

/** Rough number of loose objects (one sample fan-out directory x 256), to size the pool early. */
function estimateObjects(repoPath: string): number {
  for (const sub of ['00', '80', 'ff', '7f']) {
    try { return fs.readdirSync(path.join(objectsDir(repoPath), sub)).length * 256; } catch { /* try another */ }
  }
  return 0;
}

class FsckRun {
  readonly res: FsckResult = {
    refsChecked: 0, commitsVerified: 0, objectsChecked: 0, partialCommits: 0, missing: [], corrupted: [],
    markedPartial: [], deleted: [], tombstoned: [],
  };
  foundCorruption = false;

  constructor(readonly repo: Repo, readonly options: FsckOptions, readonly reporter: FsckReporter) {}

  info(l: string): void { if (!this.options.quiet) this.reporter.info(l); }

  /**
   * A corrupted object: stop (default), report and go on (--all), or delete it (--delete).
   * Returns true when the object must now be treated as missing.
   */
  onCorrupt(objName: string, message: string): boolean {
    this.res.corrupted.push({ object: objName, message });
    if (this.options.delete) {
      this.reporter.warn(message);
      if (deleteObject(this.repo, objName)) this.res.deleted.push(objName);
      return true;
    }
    if (this.options.all) { this.foundCorruption = true; this.reporter.warn(message); return false; }
    throw new OstreeError('ECORRUPT', message);
  }

  /** Phase 1: the commit each ref names is present, sound and (verifyBindings) bound to it;
   *  `collectionId` for a collection–ref. */
  checkRef(e: RefEntry, collectionId: string | null = null): void {
    const c = this.checkRefCommit(e);
    if (!this.options.verifyBindings) return;
    const ref = collectionId === null ? e.name.slice(e.name.indexOf(':') + 1) : e.name;
    try {
      verifyBindings(collectionId, ref, loadCommit(this.repo, c));
    } catch (err) {
      if (err instanceof OstreeError) throw new OstreeError(err.code, `Commit ${c}: ${err.message}`);
      throw err;
    }
  }

  private checkRefCommit(e: RefEntry): string {
    const r = readRefContents(e.file, e.name);
    if (r === null) throw new OstreeError('ENOENT', `Loading commit for ref ${e.name}: ref file ${e.file} disappeared while fsck ran`);
    if (r.checksum === null) {
      throw new OstreeError('ECORRUPT', `Loading commit for ref ${e.name}: ref file ${e.file} holds garbage, not a commit checksum: ${JSON.stringify(r.text)}`);
    }
    const c = r.checksum;
    this.res.refsChecked++;
    try {
      fsckMetadataObject(this.repo, c, 'commit');
    } catch (err) {
      const oe = err as OstreeError;
      if (oe.code === 'ENOENT') {
        this.reporter.warn(`Object missing: ${c}.commit`);
        throw new OstreeError('ENOENT', `Loading commit for ref ${e.collection ? `(${e.collection}, ${e.name})` : e.name}: No such metadata object ${c}.commit`);
      }
      if (this.onCorrupt(`${c}.commit`, oe.message)) {
        throw new OstreeError('ENOENT', `Loading commit for ref ${e.name}: No such metadata object ${c}.commit`);
      }
    }
    return c;
  }

  /** Phase 2: commits to verify (not partial), and those --add-tombstones replaces. */
  enumerateCommits(): { commits: string[]; fsckPartial: number; toTombstone: string[] } {
    const commits: string[] = [];
    const toTombstone: string[] = [];
    let fsckPartial = 0;
    for (const c of listCommitObjects(this.repo)) {
      if (this.options.verifyBackRefs) verifyBackRefs(this.repo, c, loadCommit(this.repo, c));
      const st = commitState(this.repo.path, c);
      if (this.options.addTombstones) {
        try {
          const obj = loadCommit(this.repo, c);
          if (obj.parent && !this.repo.hasObjectSync(obj.parent, 'commit')) toTombstone.push(c);
        } catch { /* reported by the verification */ }
      }
      if (st !== 'normal') {
        this.res.partialCommits++;
        if (st === 'fsck-partial') fsckPartial++;
      } else {
        commits.push(c);
      }
    }
    return { commits, fsckPartial, toTombstone };
  }
}

/** Run the check. Throws OstreeError (ECORRUPT) on corruption, after reporting what it found. */
export async function fsckRepo(repo: Repo, options: FsckOptions = {}, reporter: FsckReporter = { info: () => {}, warn: () => {} }): Promise<FsckResult> {
  const run = new FsckRun(repo, options, reporter);
  const res = run.res;
  // Content workers start now: their start-up overlaps the ref and metadata checks. This thread
  // joins them once it has walked the trees.
  const estimate = estimateObjects(repo.path);
  const threads = contentThreads(options, estimate);
  const pool = startPool<{ checked: number }>({
    job: CONTENT_JOB, ctx: { repoPath: repo.path, mode: repo.mode } satisfies FsckContentContext, workers: threads - 1, callerJoins: true,
    init: () => ({ checked: 0 }), merge: (a, b) => ({ checked: a.checked + b.checked }),
  }, threads > 1 ? estimate : 0);
  try {
    run.info('Validating refs...');
    const all = listRefFiles(repo, { sorted: true, mirrors: true });
    for (const e of all) if (e.collection === undefined) run.checkRef(e);
    run.info('Validating refs in collections...');
    // The repository's own refs are collection–refs too when it has a collection ID.
    const own = repoCollectionId(repo);
    if (own !== null) for (const e of all) if (e.collection === undefined && !e.name.includes(':')) run.checkRef({ ...e, collection: own }, own);
    for (const e of all) if (e.collection !== undefined) run.checkRef(e, e.collection);

    run.info('Enumerating commits...');
    const { commits, fsckPartial, toTombstone } = run.enumerateCommits();

    run.info(`Verifying content integrity of ${commits.length} commit objects...`);
    const walk = walkMetadata(repo, commits, (items) => pool.push(items));
    const { total, problems, files, filePos } = walk;
    if (total > 0) reporter.info(`fsck objects (1/${total}) ${Math.floor(100 / total)}%`); // printed even with --quiet, as upstream

    pool.push(files.slice(walk.pushed));
    const checked = await pool.finish();
    for (const f of checked.failures) {
      problems.push({ name: `${files[f.index]}.file`, code: f.code ?? 'EIO', message: f.message, pos: f.index >= 0 ? filePos[f.index]! : -1 });
    }
    res.objectsChecked = total;
    res.commitsVerified = commits.length;

    const sink = { warn: (l: string) => reporter.warn(l), onCorrupt: (n: string, m: string) => run.onCorrupt(n, m), missing: res.missing, markedPartial: res.markedPartial };
    if (reportProblems(repo, commits, problems, sink)) run.foundCorruption = true;
    if (total > 0) reporter.info(`fsck objects (${total}/${total}) 100%`);

    if (options.addTombstones) {
      for (const c of toTombstone) {
        reporter.info(`Adding tombstone for commit ${c}`);
        await tombstoneCommit(repo, c);
        res.tombstoned.push(c);
      }
    } else if (res.partialCommits > 0) {
      reporter.info(`${res.partialCommits} partial commits not verified`);
    }
    if (run.foundCorruption) throw new OstreeError('ECORRUPT', 'Repository corruption encountered');
    if (fsckPartial > 0) throw new OstreeError('ECORRUPT', `${res.partialCommits} partial commits from fsck-detected corruption`);
    reporter.info(`object fsck of ${commits.length} commits completed successfully - no errors found.`);
    return res;
  } finally {
    await pool.cancel(); // error paths: no worker may outlive the check
  }
}
