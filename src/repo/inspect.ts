/**
 * Reading a repository for people, beyond the walks of traverse.ts (`log` uses its
 * parentChain, `ls` its walkTree): `cat` following symbolic links inside a commit, and
 * `rev-parse --single`. Printing stays in the CLI (src/cli/commands/inspect.ts).
 */
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { isSymlinkMode } from './objects/common.js';
import type { Repo } from './repo.js';

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
  // (upstream's messages)
  if (commits.length === 0) throw new OstreeError('ENOENT', 'No commit objects found');
  if (commits.length > 1) throw new OstreeError('EINVAL', 'Multiple commit objects found');
  return commits[0]!;
}
