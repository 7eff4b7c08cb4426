/**
 * `pull-local --require-static-deltas`: the source repository read as a remote would be (its
 * summary, config, delta indexes, superblocks and parts by path), so deltas are tested
 * without a server, as upstream's pull-local does when deltas are required. Fallback objects
 * and anything else missing are then copied by the ordinary local pull.
 */
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { KeyFile } from '../../glib/keyfile.js';
import { readFileBounded } from '../../util/fs.js';
import { MAX_KEYFILE_SIZE } from '../config.js';
import type { Repo } from '../repo.js';
import { SUMMARY_MAX_SIZE } from '../summary/limits.js';
import { chooseDelta, pullDelta, remoteDeltasFromSummary, type DeltaSource } from './delta.js';
import type { Wanted } from './targets.js';

/** A local repository's files, read as a remote's (bounded). */
export function localSource(srcPath: string): DeltaSource {
  return { fetch: async (rel, maxSize, what) => readFileBounded(path.join(srcPath, rel), maxSize, { what, follow: true }) };
}

/** The summary of the repository at `srcPath`, or null. */
export function localSummary(srcPath: string): Buffer | null {
  return readFileBounded(path.join(srcPath, 'summary'), SUMMARY_MAX_SIZE, { what: 'summary', follow: true });
}

/** Apply deltas for each wanted commit from the repository at `srcPath` (deltas required). */
export async function pullLocalDeltas(dest: Repo, srcPath: string, wanted: Wanted[], remote: string | undefined): Promise<void> {
  if (dest.mode === 'archive') throw new OstreeError('EINVAL', "Can't use static deltas in an archive repo");
  const source = localSource(srcPath);
  const config = readFileBounded(path.join(srcPath, 'config'), MAX_KEYFILE_SIZE, { what: 'remote config', follow: true });
  const indexed = config !== null && KeyFile.parse(config.toString('utf8')).getBoolean('core', 'indexed-deltas', false);
  const summary = localSummary(srcPath);
  const deltas = remoteDeltasFromSummary(summary, indexed);
  if (!deltas.indexed && !deltas.inSummary) {
    throw new OstreeError('ENOENT', 'Fetch configured to require static deltas, but no summary deltas or delta index found');
  }
  for (const w of wanted) {
    const localFrom = w.ref === null ? null : dest.resolveRevSync(remote !== undefined ? `${remote}:${w.ref}` : w.ref);
    const choice = await chooseDelta(dest, source, deltas, w.commit, w.ref, localFrom, true);
    if (choice.kind === 'delta') await pullDelta(dest, source, deltas, choice.from, w.commit, { require: true });
  }
}
