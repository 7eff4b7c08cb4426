/**
 * The content step of pull-local: the content objects the walk found that neither the
 * destination nor one of its `core.parent` repositories holds (upstream's
 * ostree_repo_has_object), imported in parallel (import.ts on the worker pool) from whichever
 * of the source and its own parents holds each.
 */
import { OstreeError } from '../../errors.js';
import { runPool } from '../../util/pool.js';
import { parentRepos } from '../parent-repos.js';
import type { Repo } from '../repo.js';
import { hasLooseObject, hasObject } from '../store.js';
import type { ContentImportContext } from './import.js';

/** pull-local's options that the content step reads (see PullLocalOptions). */
export interface ContentOptions { untrusted?: boolean; bareUserOnlyFiles?: boolean; workers?: number }

/**
 * The source repositories holding `files`: the source itself, else the nearest of its
 * `core.parent` repositories that has the object (upstream reads a source's objects through
 * its parent chain).
 */
function groupBySourceHolder(src: Repo, files: string[]): Array<{ path: string; mode: Repo['mode']; files: string[] }> {
  const groups = [{ path: src.path, mode: src.mode, files: [] as string[] }];
  const parents = parentRepos(src.path).map((p) => ({ path: p.path, mode: p.mode, files: [] as string[] }));
  for (const c of files) {
    if (parents.length === 0 || hasLooseObject(src, c, 'file')) { groups[0]!.files.push(c); continue; }
    // (not found anywhere: the source's import reports it missing)
    (parents.find((p) => hasLooseObject(p, c, 'file')) ?? groups[0]!).files.push(c);
  }
  return [...groups, ...parents].filter((g) => g.files.length > 0);
}

/** The content objects missing in the destination, imported in parallel. */
export async function importContent(src: Repo, dest: Repo, files: Set<string>, options: ContentOptions): Promise<{ written: number; bytes: number }> {
  // What the destination or one of its core.parent repositories holds is not copied (as upstream).
  const todo = [...files].filter((c) => !hasObject(dest, c, 'file'));
  const total = { written: 0, bytes: 0 };
  for (const holder of groupBySourceHolder(src, todo)) {
    const ctx: ContentImportContext = {
      srcPath: holder.path, srcMode: holder.mode, destPath: dest.path, destMode: dest.mode,
      untrusted: options.untrusted === true, bareUserOnlyFiles: options.bareUserOnlyFiles === true,
    };
    const stats = await runPool<{ written: number; bytes: number }>({
      job: { module: new URL('./job.js', import.meta.url).href, name: 'pullJob' }, ctx, items: holder.files, workers: options.workers,
      init: () => ({ written: 0, bytes: 0 }),
      merge: (a, b) => ({ written: a.written + b.written, bytes: a.bytes + b.bytes }),
    });
    if (stats.failures.length > 0) {
      const f = stats.failures[0]!;
      throw new OstreeError(f.code as never ?? 'EIO', `importing ${holder.files[f.index]}.file: ${f.message}`);
    }
    total.written += stats.result.written;
    total.bytes += stats.result.bytes;
  }
  return total;
}
