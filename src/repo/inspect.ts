/**
 * Reading a repository for people, beyond the walks of traverse.ts (`log` uses its
 * parentChain, `ls` its walkTree): `cat` following symbolic links inside a commit, and
 * `rev-parse --single`, `show --print-sizes`. Printing stays in the CLI (src/cli/commands/inspect.ts).
 */
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { isSymlinkMode } from './objects/common.js';
import type { Repo } from './repo.js';
import { parseSizeEntry, SIZES_KEY } from './commit/sizes.js';

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

/** What `show --print-sizes` prints: totals of the commit's `ostree.sizes`, and the part not in this repository. */
export interface SizesSummary { archived: number; unpacked: number; objects: number; neededArchived: number; neededUnpacked: number; neededObjects: number }

export async function commitSizesSummary(repo: Repo, checksum: string): Promise<SizesSummary> {
  const c = await repo.loadCommit(checksum);
  const v = c.metadata.find(([k]) => k === SIZES_KEY)?.[1];
  if (!v) throw new OstreeError('ENOENT', `No metadata key ${SIZES_KEY} in commit ${checksum}`);
  if (v.type !== 'aay') throw new OstreeError('ECORRUPT', `${SIZES_KEY} in commit ${checksum} is of type '${v.type}', not 'aay'`);
  const s: SizesSummary = { archived: 0, unpacked: 0, objects: 0, neededArchived: 0, neededUnpacked: 0, neededObjects: 0 };
  for (const raw of v.value as Buffer[]) {
    const e = parseSizeEntry(Buffer.from(raw));
    s.archived += e.archived;
    s.unpacked += e.unpacked;
    s.objects++;
    if (!repo.hasObjectSync(e.checksum, e.type)) {
      s.neededArchived += e.archived;
      s.neededUnpacked += e.unpacked;
      s.neededObjects++;
    }
  }
  return s;
}
