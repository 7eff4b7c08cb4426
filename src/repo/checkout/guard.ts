/**
 * What keeps a checkout of a corrupt tree finite. A dirtree cannot list itself, directly or
 * through its subdirectories: its checksum would have to be part of its own content. So a tree
 * that goes on forever has a dirtree whose content does not hash to its name. Real trees are a
 * few dozen levels deep; from VERIFY_DEPTH on, each dirtree a checkout enters is hashed and a
 * mismatch is reported as corruption — which ends any loop within one cycle of it — while the
 * shallow part of every tree costs nothing extra.
 */
import { OstreeError } from '../../errors.js';
import { sha256hex } from '../objects/checksum.js';

export const VERIFY_DEPTH = 256;

/** Throw ECORRUPT if `data`, the dirtree `checksum` found at `depth`, is past VERIFY_DEPTH and
 *  does not hash to its checksum. */
export function checkDeepTree(data: Buffer, checksum: string, depth: number, where: string): void {
  if (depth < VERIFY_DEPTH) return;
  const actual = sha256hex(data);
  if (actual !== checksum) {
    const at = where.length > 160 ? `…${where.slice(-160)}` : where;
    throw new OstreeError('ECORRUPT', `dirtree ${checksum} (at '${at}', ${depth} levels deep) is corrupt: its content hashes to ${actual} (a dirtree that contains itself loops forever); run 'ostree fsck'`);
  }
}
