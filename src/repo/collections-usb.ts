/**
 * `ostree create-usb` (upstream's ot-builtin-create-usb.c): copy collection–refs into an
 * archive repository on a mounted volume (MOUNT/.ostree/repo by default), as a mirror: the refs
 * keep their collection IDs (refs/mirrors/COLLECTION/REF), the repository gets a summary (the
 * mount finder reads it), and a repository at a non-standard place gets a symlink
 * MOUNT/.ostree/repos.d/NN-generated so finders find it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { verifyBindings } from './bindings.js';
import { repoCollectionId, resolveCollectionRef, setCollectionRef, formatCollectionRef, type CollectionRef } from './collections.js';
import { pullLocal } from './pull/local.js';
import { Repo } from './repo.js';
import { loadCommit } from './store.js';
import { regenerateSummary } from './summary/generate.js';

export interface CreateUsbOptions {
  /** Where the repository goes, relative to the mount (default `.ostree/repo`). */
  destinationRepo?: string;
  /** Copy this commit for the (single) ref instead of the ref's current one. */
  commit?: string;
  disableFsync?: boolean;
}

/** The repository paths finders look at without a repos.d symlink. */
const WELL_KNOWN = ['ostree/repo', '.ostree/repo'];
const MAX_SYMLINK_ATTEMPTS = 100;

/** The destination repository, created (archive mode) if missing; it must be on the mount's
 *  filesystem and must not be the source. */
async function openDestination(src: Repo, mount: string, rel: string): Promise<Repo> {
  const mountSt = fs.statSync(mount);
  if (!mountSt.isDirectory()) throw new OstreeError('ENOENT', `${mount} is not a directory (MOUNT-PATH must be the mounted volume)`);
  if (path.isAbsolute(rel) || path.normalize(rel).split(path.sep)[0] === '..') throw new OstreeError('EINVAL', '--destination-repo must be a descendent of MOUNT-PATH');
  const destPath = path.join(mount, rel);
  fs.mkdirSync(destPath, { recursive: true, mode: 0o755 });
  const dest = await Repo.create(destPath, 'archive');
  const destSt = fs.statSync(dest.path);
  if (destSt.dev !== mountSt.dev) throw new OstreeError('EINVAL', '--destination-repo must be a descendent of MOUNT-PATH');
  const srcSt = fs.statSync(src.path);
  if (srcSt.dev === destSt.dev && srcSt.ino === destSt.ino) throw new OstreeError('EINVAL', '--destination-repo must not be the source repository');
  return dest;
}

/** MOUNT/.ostree/repos.d/NN-generated → ../../REL, unless one already leads to the repository. */
function linkInReposD(mount: string, rel: string, dest: Repo): void {
  const dir = path.join(mount, '.ostree/repos.d');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const destSt = fs.statSync(dest.path);
  for (const name of fs.readdirSync(dir)) {
    const st = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
    if (st !== undefined && st.dev === destSt.dev && st.ino === destSt.ino) return;
  }
  const target = path.join('..', '..', rel);
  for (let i = 0; i < MAX_SYMLINK_ATTEMPTS; i++) {
    try {
      fs.symlinkSync(target, path.join(dir, `${String(i).padStart(2, '0')}-generated`));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new OstreeError('EEXIST', `Could not find an unused symlink name for the repository in ${dir}`);
}

/** The commits to copy: each collection–ref as the source resolves it (or `commit`). */
function resolveSources(src: Repo, refs: CollectionRef[], commit: string | undefined): string[] {
  return refs.map((r) => {
    const c = commit ?? resolveCollectionRef(src, r);
    if (c === null) throw new OstreeError('ENOENT', `Collection–ref ${formatCollectionRef(r)} not found in ${src.path}`);
    return c;
  });
}

/** Copy `refs` of `src` to the volume mounted at `mount`; returns the repository's path relative to it. */
export async function createUsb(src: Repo, mount: string, refs: CollectionRef[], options: CreateUsbOptions = {}): Promise<string> {
  if (options.commit !== undefined && refs.length > 1) throw new OstreeError('EINVAL', 'The --commit option can only be used when a single COLLECTION-ID REF pair is specified');
  const rel = options.destinationRepo ?? '.ostree/repo';
  const dest = await openDestination(src, mount, rel);
  if (options.disableFsync) dest.config.set('core', 'fsync', 'false');
  const commits = resolveSources(src, refs, options.commit !== undefined ? await src.resolveRev(options.commit) : undefined);
  const srcCollection = repoCollectionId(src);
  refs.forEach((r, i) => verifyBindings(srcCollection, r.ref, loadCommit(src, commits[i]!)));
  await pullLocal(dest, src.path, { refs: commits, depth: 0, ...(options.disableFsync ? { disableFsync: true } : {}) });
  for (let i = 0; i < refs.length; i++) await setCollectionRef(dest, refs[i]!, commits[i]!);
  await regenerateSummary(dest);
  if (!WELL_KNOWN.includes(path.normalize(rel))) linkInReposD(mount, rel, dest);
  return rel;
}
