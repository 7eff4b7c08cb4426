/**
 * The static deltas of a repository as named things: names (`FROM-TO`, or `TO` for a delta
 * from scratch), existence, deletion and reading a superblock (bounded). Listing `deltas/`
 * and the delta indexes are summary/delta-index.ts's (the summary lists deltas too).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { readFileBounded } from '../../util/fs.js';
import { MAX_METADATA_SIZE } from '../objects/common.js';
import { deltaRelPath, deltaSuperblockPath } from '../layout.js';
import { deltaNameString, listStaticDeltas, type DeltaName } from '../summary/delta-index.js';
import { readSuperblockBytes, type Superblock, type SignedSuperblock } from './superblock.js';

export type { DeltaName };
export { deltaNameString };

/** The largest superblock read (upstream reads them as metadata). */
export const SUPERBLOCK_MAX_SIZE = MAX_METADATA_SIZE;

function validRev(s: string): string {
  if (!/^[0-9a-f]{64}$/.test(s)) throw new OstreeError('EINVAL', `Invalid rev ${s}`);
  return s;
}

/** `FROM-TO` or `TO` (upstream's _ostree_parse_delta_name: both must be checksums). */
export function parseDeltaName(name: string): DeltaName {
  const dash = name.indexOf('-');
  if (dash < 0) return { from: null, to: validRev(name) };
  return { from: validRev(name.slice(0, dash)), to: validRev(name.slice(dash + 1)) };
}

/** Every delta with a superblock, as names, in directory order (upstream's list). */
export function listDeltaNames(repoPath: string): string[] {
  return listStaticDeltas(repoPath).map(deltaNameString);
}

export function deltaExists(repoPath: string, name: DeltaName): boolean {
  return fs.existsSync(path.join(repoPath, deltaSuperblockPath(name.from, name.to)));
}

export function deleteDelta(repoPath: string, nameText: string): void {
  const name = parseDeltaName(nameText);
  const dir = path.join(repoPath, deltaRelPath(name.from, name.to));
  if (!fs.existsSync(dir)) throw new OstreeError('ENOENT', `Can't find delta ${nameText}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A superblock file's bytes, bounded. */
export function readSuperblockFile(p: string): Buffer {
  const data = readFileBounded(p, SUPERBLOCK_MAX_SIZE, { what: 'static delta superblock', follow: true });
  if (data === null) throw new OstreeError('ENOENT', `opening ${p}: No such file or directory`, { path: p });
  return data;
}

export interface LoadedSuperblock { superblock: Superblock; bytes: Buffer; signed: SignedSuperblock | null; file: Buffer }

/** The superblock of delta `name` in the repository, parsed (its commit checked against TO). */
export function loadSuperblock(repoPath: string, name: DeltaName): LoadedSuperblock {
  const file = readSuperblockFile(path.join(repoPath, deltaSuperblockPath(name.from, name.to)));
  return { ...readSuperblockBytes(file), file };
}
