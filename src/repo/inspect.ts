/**
 * Reading a repository for people: the walks behind `ostree log`, `ls`, `cat` and
 * `rev-parse --single`. Each walk is iterative (an explicit stack, never recursion, so a
 * 10,000-level tree or history costs heap, not call stack) and refuses the shapes that only a
 * corrupt repository can hold: a parent chain that comes back to a commit already seen, and a
 * dirtree that contains itself. Printing stays in the CLI (src/cli/commands/inspect.ts).
 *
 * Kept small and in one file on purpose: when src/repo/traverse.ts (the one commit/tree walker)
 * lands, commitHistory and walkTree become thin calls to it.
 */
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { isSymlinkMode, type CommitObject } from './objects.js';
import type { Repo } from './repo.js';

/** One step of a history: the commit, or null when the object is not in the repository. */
export interface HistoryEntry { checksum: string; commit: CommitObject | null }

/**
 * A commit and its ancestors, newest first. A commit whose object is missing is yielded once
 * with `commit: null` and ends the walk (history not fetched). A parent chain that returns to
 * a commit already seen is an ECORRUPT error naming both commits.
 */
export async function* commitHistory(repo: Repo, start: string): AsyncGenerator<HistoryEntry> {
  const seen = new Set<string>();
  let cur: string | null = start;
  while (cur !== null) {
    seen.add(cur);
    if (!(await repo.hasObject(cur, 'commit'))) { yield { checksum: cur, commit: null }; return; }
    const commit = await repo.loadCommit(cur);
    yield { checksum: cur, commit };
    const parent: string | null = commit.parent;
    if (parent !== null && seen.has(parent)) {
      throw new OstreeError('ECORRUPT', `commit ${cur}: its parent chain loops back to commit ${parent}; the repository is corrupt (check it with 'ostree fsck')`);
    }
    cur = parent;
  }
}

export type TreeEntry =
  | { kind: 'dir'; path: string; tree: string; meta: string }
  | { kind: 'file'; path: string; checksum: string };

interface Frame { path: string; tree: string; entries: TreeEntry[]; next: number }

function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The entries of one dirtree in upstream `ls` order: its files, then its directories, each in tree order. */
function entriesOf(repo: Repo, dirPath: string, tree: string): TreeEntry[] {
  const t = repo.loadDirTreeSync(tree);
  return [
    ...t.files.map((f): TreeEntry => ({ kind: 'file', path: childPath(dirPath, f.name), checksum: f.checksum })),
    ...t.dirs.map((d): TreeEntry => ({ kind: 'dir', path: childPath(dirPath, d.name), tree: d.treeChecksum, meta: d.metaChecksum })),
  ];
}

/**
 * The entries below the directory `rootPath` (dirtree `rootTree`), not the root itself, in
 * upstream `ls` order; with `recursive`, each directory is followed at once by its own entries.
 * A dirtree that appears among its own ancestors is an ECORRUPT error (identical sibling
 * subtrees are fine: only the path from the root is checked).
 */
export function* walkTree(repo: Repo, rootPath: string, rootTree: string, opts: { recursive: boolean }): Generator<TreeEntry> {
  const onPath = new Set<string>([rootTree]);
  const stack: Frame[] = [{ path: rootPath, tree: rootTree, entries: entriesOf(repo, rootPath, rootTree), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.entries.length) {
      stack.pop();
      onPath.delete(top.tree);
      continue;
    }
    const e = top.entries[top.next++]!;
    yield e;
    if (e.kind !== 'dir' || !opts.recursive) continue;
    if (onPath.has(e.tree)) {
      throw new OstreeError('ECORRUPT', `dirtree ${e.tree} contains itself (again at ${e.path}); the repository is corrupt (check it with 'ostree fsck')`);
    }
    onPath.add(e.tree);
    stack.push({ path: e.path, tree: e.tree, entries: entriesOf(repo, e.path, e.tree), next: 0 });
  }
}

/** Symbolic links followed by `cat` before giving up, as the kernel's limit (ELOOP). */
const MAX_SYMLINK_HOPS = 40;

/**
 * Open the regular file at `p` inside a commit, following symbolic links within the commit
 * (relative to the link's directory, or from the commit's root when absolute).
 */
export async function openFileInCommit(repo: Repo, commit: string, p: string): Promise<{ path: string; stream: NodeJS.ReadableStream }> {
  let cur = '/' + p.split('/').filter((x) => x !== '').join('/');
  for (let hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
    const found = repo.lookupPathSync(commit, cur);
    if (found.kind === 'dir') throw new OstreeError('EINVAL', `Can't open directory: ${cur}`);
    const { header, stream } = await repo.openFileContent(found.checksum);
    if (!isSymlinkMode(header.mode)) return { path: cur, stream };
    const t = header.symlinkTarget;
    cur = path.posix.normalize(t.startsWith('/') ? t : path.posix.join(path.posix.dirname(cur), t));
  }
  throw new OstreeError('EINVAL', `Too many levels of symbolic links: ${p}`);
}

/** The checksum of the repository's only commit (`rev-parse --single`). */
export async function onlyCommit(repo: Repo): Promise<string> {
  const commits = [...(await repo.listObjects())].filter((o) => o.endsWith('.commit')).map((o) => o.slice(0, 64));
  if (commits.length !== 1) throw new OstreeError('EINVAL', `Repository has ${commits.length} commits, expected exactly one`);
  return commits[0]!;
}
