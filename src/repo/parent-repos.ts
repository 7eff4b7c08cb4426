/**
 * `core.parent`: a repository may name a parent repository whose objects it shares (upstream:
 * OstreeRepo's parent_repo). Upstream consults the parent chain whenever an object is not in the
 * repository itself: ostree_repo_has_object, loading metadata and loading content all fall back
 * to the parent, so a pull skips what a parent already holds and prune, fsck and checkout read
 * trees through it. Listing objects for deletion never does (prune deletes only its own).
 *
 * The chain is read from the configs on disk, so every reader that has only a path and a mode
 * (RepoLocation) sees it; it is cached per repository and re-read when the config file changes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { readRepoConfig } from './config.js';
import { configPath } from './layout.js';
import type { RepoMode } from './modes/mode.js';

/** A parent repository: where it is and how it stores objects. */
export interface ParentRepo { readonly path: string; readonly mode: RepoMode }

/** A chain longer than this is refused: it loops. */
const MAX_PARENT_DEPTH = 32;

interface Cached { stamp: string; parents: ParentRepo[] }
const cache = new Map<string, Cached>();

/** What identifies one version of a config file (null: there is none). */
function configStamp(repoPath: string): string | null {
  const st = fs.statSync(configPath(repoPath), { throwIfNoEntry: false, bigint: true });
  return st ? `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : null;
}

/** The `core.parent` value of the repository at `repoPath` ('' or missing: none). */
function parentOf(repoPath: string): string | null {
  const v = readRepoConfig(repoPath).config.get('core', 'parent');
  return v === undefined || v === '' ? null : path.resolve(v);
}

function readChain(repoPath: string): ParentRepo[] {
  const out: ParentRepo[] = [];
  let next = parentOf(repoPath);
  while (next !== null) {
    if (out.length >= MAX_PARENT_DEPTH || next === path.resolve(repoPath) || out.some((p) => p.path === next)) {
      throw new OstreeError('ECONFIG', `${configPath(repoPath)}: the core.parent chain loops (through '${next}'); fix core.parent`);
    }
    let mode: RepoMode;
    try {
      mode = readRepoConfig(next).mode;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new OstreeError('ENOENT', `While checking parent repository '${next}' (core.parent of ${repoPath}): ${why}`, { cause: e });
    }
    out.push({ path: next, mode });
    next = parentOf(next);
  }
  return out;
}

/**
 * The parent repositories of the repository at `repoPath`, nearest first (empty for a
 * repository without `core.parent`, or a path that holds no repository).
 */
export function parentRepos(repoPath: string): ParentRepo[] {
  const stamp = configStamp(repoPath);
  if (stamp === null) return [];
  const hit = cache.get(repoPath);
  if (hit && hit.stamp === stamp) return hit.parents;
  const parents = readChain(repoPath);
  cache.set(repoPath, { stamp, parents });
  return parents;
}
