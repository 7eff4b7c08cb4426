/**
 * What fsck changes in a repository, and only when asked: `--delete` removes a corrupted
 * object; a commit whose objects are missing or deleted is marked partial with upstream's
 * "fsck detected corruption" marker (state/<commit>.commitpartial holding 'f');
 * `--add-tombstones` replaces a commit whose parent is missing by a tombstone object and turns
 * on core.tombstone-commits. Each write goes through a temporary name.
 */
import * as fs from 'node:fs';
import { isErrno } from '../../errors.js';
import type { ObjectType } from '../objects/common.js';
import { markCommitPartial, objectPath } from '../layout.js';
import { writeTombstone } from '../prune.js';
import type { RepoLocation } from '../store.js';
import type { Repo } from '../repo.js';

/** `<checksum>.<type>` into its parts. */
export function splitName(name: string): { checksum: string; type: ObjectType } {
  const i = name.indexOf('.');
  return { checksum: name.slice(0, i), type: name.slice(i + 1) as ObjectType };
}

/** Remove a corrupted object (`--delete`); false when it was already gone. */
export function deleteObject(repo: RepoLocation, objName: string): boolean {
  const { checksum, type } = splitName(objName);
  try {
    fs.unlinkSync(objectPath(repo.path, checksum, type, repo.mode));
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
}

/** Mark `commit` partial because fsck found damage; false if it already was. */
export function markFsckPartial(repo: RepoLocation, commit: string): boolean {
  return markCommitPartial(repo.path, commit, 'fsck');
}

/**
 * Replace `commit` by a tombstone (upstream's a{sv} {'commit': <checksum as bytestring>}),
 * turning tombstones on in the config first.
 */
export async function tombstoneCommit(repo: Repo, commit: string): Promise<void> {
  repo.config.set('core', 'tombstone-commits', 'true');
  await repo.saveConfig();
  writeTombstone(repo, commit);
  fs.unlinkSync(objectPath(repo.path, commit, 'commit', repo.mode));
}

