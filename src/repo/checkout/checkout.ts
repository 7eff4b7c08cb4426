/**
 * `ostree checkout` (Repo.checkout): resolve the revision and the subpath, then hand the tree to
 * the hardlink engine (hardlink.ts: a fresh destination from a bare or bare-user-only
 * repository, nothing to merge) or to the general engine (copy.ts). A checkout into a fresh
 * destination that fails leaves nothing behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../errors.js';
import { modeTraits } from '../modes/mode.js';
import { resolveRev } from '../refs.js';
import { hasLooseObject, loadCommit, loadDirTree, type RepoCore } from '../store.js';
import { readRepoConfig } from '../config.js';
import { CopyCheckout, type CheckoutOptions } from './copy.js';
import { NeedCopyFallback, hardlinkCheckout, hardlinkCheckoutPossible, removePartialTree } from './hardlink.js';

export type { CheckoutOptions };

/** A path inside a commit: a directory (tree + meta) or a file (checksum). ENOENT if absent. */
export type CommitPath = { kind: 'dir'; tree: string; meta: string } | { kind: 'file'; checksum: string };

/** Find `p` in commit `commitChecksum`, one dirtree per path component. */
export function lookupPath(repo: RepoCore, commitChecksum: string, p: string): CommitPath {
  const c = loadCommit(repo, commitChecksum);
  let tree = c.rootTree;
  let meta = c.rootMeta;
  const parts = p.split('/').filter((x) => x !== '');
  for (let i = 0; i < parts.length; i++) {
    const dt = loadDirTree(repo, tree);
    const d = dt.dirs.find((x) => x.name === parts[i]);
    if (d) { tree = d.treeChecksum; meta = d.metaChecksum; continue; }
    const f = dt.files.find((x) => x.name === parts[i]);
    if (f && i === parts.length - 1) return { kind: 'file', checksum: f.checksum };
    if (f) throw new OstreeError('ENOENT', `Not a directory: ${p}`);
    throw new OstreeError('ENOENT', `No such file or directory: ${p}`);
  }
  return { kind: 'dir', tree, meta };
}

/** Parent repositories followed at most (a `core.parent` loop must not hang us). */
const MAX_PARENT_DEPTH = 32;

/**
 * The repository that holds commit `csum`: this one, or the nearest `core.parent` that does
 * (upstream looks objects up in the parent chain; a checkout reads the whole tree from there).
 */
function repoHolding(repo: RepoCore, csum: string): RepoCore {
  let cur = repo;
  for (let i = 0; i < MAX_PARENT_DEPTH; i++) {
    if (hasLooseObject(cur, csum, 'commit')) return cur;
    const parent = cur.config.get('core', 'parent');
    if (parent === undefined || parent === '') return repo;
    const p = path.resolve(cur.path, parent);
    const { config, mode } = readRepoConfig(p);
    cur = { path: p, mode, config };
  }
  return repo;
}

/** As upstream: a checkout that must hardlink (-H) fails before anything is made when the
 *  destination is on another filesystem than the repository. */
function refuseCrossDeviceHardlinks(repo: RepoCore, dest: string, st: fs.Stats | undefined): void {
  const src = fs.statSync(repo.path).dev;
  const target = (st ?? fs.statSync(path.dirname(dest))).dev;
  if (src !== target) throw new OstreeError('EINVAL', `Unable to do hardlink checkout across devices (src=${src} destination=${target})`);
}

/** Check out `rev` (any revision) into `destination` (must not exist unless union). */
export async function checkout(repo: RepoCore, rev: string, destination: string, opts: CheckoutOptions = {}): Promise<void> {
  // As upstream: bare-user-only repositories are always checked out in user mode.
  const options: CheckoutOptions = {
    ...opts, union: opts.union === true || opts.unionAdd === true || opts.unionIdentical === true, userMode: opts.userMode === true || modeTraits(repo.mode).canonical,
  };
  const csum = resolveRev(repo, rev);
  if (csum === null) throw new OstreeError('ENOENT', `Refspec '${rev}' not found`);
  const holder = repoHolding(repo, csum);
  if (holder !== repo) return checkout(holder, csum, destination, opts);
  const dest = path.resolve(destination);
  let found: CommitPath;
  try {
    found = lookupPath(repo, csum, options.subpath ?? '/');
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'ENOENT' && /^(No such file|Not a directory)/.test(e.message)) throw new OstreeError('ENOENT', `${(e as Error).message} (in commit ${csum})`);
    throw e;
  }
  const st = fs.lstatSync(dest, { throwIfNoEntry: false });
  if (options.hardlink) refuseCrossDeviceHardlinks(repo, dest, st);
  if (found.kind === 'file') {
    // As upstream: a file subpath lands in the destination directory (made if missing) under its own name.
    const name = path.basename(options.subpath ?? '');
    if (st && !st.isDirectory()) throw new OstreeError('EEXIST', `checkout destination '${dest}' exists and is not a directory`);
    if (!st) fs.mkdirSync(dest, { mode: 0o700 }); // upstream's mode: a file carries no directory metadata
    // (a file is made whole under a temporary name or removed by the engine)
    await new CopyCheckout(repo, options).file(found.checksum, path.join(dest, name), name);
    return;
  }
  if (st && !options.union) throw new OstreeError('EEXIST', `checkout destination '${dest}' already exists (use union mode to merge into it)`);
  if (st && !st.isDirectory()) throw new OstreeError('EEXIST', `checkout destination '${dest}' exists and is not a directory`);
  const plain = !options.forceCopy && !options.dockerWhiteouts && options.skipList === undefined && !options.bareuseronlyDirs;
  if (!st && plain && hardlinkCheckoutPossible(repo.mode, options.userMode === true)) {
    // A fresh tree from a bare or bare-user-only repository: nothing but mkdir and link.
    try {
      await hardlinkCheckout(repo, found.tree, found.meta, dest, { whiteouts: options.whiteouts === true, userMode: options.userMode === true });
      return;
    } catch (e) {
      // (hardlinkCheckout removed what it had made)
      if (!(e instanceof NeedCopyFallback)) throw e;
      if (options.hardlink) throw new OstreeError('EIO', `cannot hardlink into '${dest}' from the repository (${e.errno}) and copies were not allowed`, { cause: e });
    }
  }
  const engine = new CopyCheckout(repo, options);
  try {
    await engine.tree(found.tree, found.meta, dest, st !== undefined);
  } catch (e) {
    // A fresh destination that the checkout made goes again; a union target keeps what it had.
    if (engine.madeRoot) {
      try { removePartialTree(dest); } catch (e2) { if (!isErrno(e2, 'ENOENT')) throw e; }
    }
    throw e;
  }
}
