/**
 * Applying a static delta to a repository: writing the target commit from the superblock and
 * executing each part whose objects are not all present (upstream's
 * ostree_repo_static_delta_execute_offline; pull/delta.ts uses the same steps for fetched
 * parts). Every object is verified against its checksum before it is stored; a part file's
 * checksum is verified before it is even decompressed. The target commit is written last,
 * once every part is in (marked partial when fallback objects are still to be fetched), so an
 * interrupted or failed apply leaves only verified loose objects and no commit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import type { Variant } from '../../glib/gvariant.js';
import { readFileBounded } from '../../util/fs.js';
import { sha256hex } from '../objects/checksum.js';
import type { Repo } from '../repo.js';
import { hasObject, objectPresence, writeMetadataObject } from '../store.js';
import { clearCommitPartial, deltaPartPath, deltaRelPath, isCommitPartial, markCommitPartial } from '../layout.js';
import { importContentFromMemory } from '../pull/import.js';
import { executePart, type PartSink } from './ops.js';
import { PART_MAX_SIZE, openPart } from './part.js';
import { DELTAPART_VERSION, type PartHeader, type Superblock } from './superblock.js';
import { readSuperblockFile } from './catalog.js';
import { readSuperblockBytes, type SignedSuperblock } from './superblock.js';

/** Writes a part's objects into `repo`, each verified first. */
export function repoSink(repo: Repo): PartSink {
  const ctx = { destPath: repo.path, destMode: repo.mode, bareUserOnlyFiles: false };
  // the parent chain read once, not its config stat'ed on every object missing here
  const has = objectPresence(repo);
  return {
    has: (o) => has(o.checksum, o.type),
    writeMetadata: (o, data) => {
      if (o.type === 'commitmeta') throw new OstreeError('ECORRUPT', `static delta part carries detached metadata ${o.checksum} as an object`);
      const actual = sha256hex(data);
      if (actual !== o.checksum) throw new OstreeError('ECORRUPT', `Corrupted ${o.type} object in static delta; checksum expected='${o.checksum}' actual='${actual}'`);
      writeMetadataObject(repo, o.type, data, o.checksum); // named by the checksum just verified: not hashed again
    },
    writeContent: (o, header, data) => { importContentFromMemory(ctx, o.checksum, header, data); },
    readContent: (checksum) => {
      const c = repo.readFileContentSync(checksum);
      if (c.header.symlinkTarget !== '') throw new OstreeError('ECORRUPT', `static delta read source ${checksum} is a symlink`);
      return c.data;
    },
  };
}

/** The stored bytes of an inline part (the superblock's "deltas/…/N" → (yay)), or null. */
export function inlinePart(sb: Superblock, index: number): Buffer | null {
  const key = deltaPartPath(sb.from, sb.to, index);
  const v = sb.metadata.find(([k]) => k === key)?.[1];
  if (v === undefined || v.type !== '(yay)') return null;
  const [type, data] = v.value as [number, Buffer];
  return Buffer.concat([Buffer.from([type]), data]);
}

export function checkPartVersion(h: PartHeader): void {
  if (h.version > DELTAPART_VERSION) throw new OstreeError('ECORRUPT', `Delta part has too new version ${h.version}`);
}

export function haveAllObjects(repo: Repo, h: PartHeader): boolean {
  return h.objects.every((o) => hasObject(repo, o.checksum, o.type));
}

/** Execute part `index` given its stored bytes (`checksum` null for an inline part). */
export function applyPart(repo: Repo, h: PartHeader, index: number, stored: Buffer, verifyChecksum: boolean): void {
  const part = openPart(stored, verifyChecksum ? h.checksum : null, `delta part ${index}`);
  try {
    executePart(part, h.objects, repoSink(repo));
  } catch (e) {
    if (e instanceof OstreeError) throw new OstreeError(e.code, `Executing delta part ${index}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Write the target commit (and its detached metadata) of a delta once its parts are in;
 * `partial` marks it incomplete (fallback objects still to come). Nothing is rewritten when
 * the commit is already here and complete.
 */
export function writeTargetCommit(repo: Repo, sb: Superblock, partial: boolean): void {
  const present = hasObject(repo, sb.to, 'commit');
  if (present && !isCommitPartial(repo.path, sb.to)) return;
  if (partial) markCommitPartial(repo.path, sb.to);
  const key = deltaRelPath(sb.from, sb.to, 'commitmeta');
  const detached = sb.metadata.find(([k]) => k === key)?.[1];
  if (detached !== undefined && detached.type === 'a{sv}') repo.writeCommitDetachedMetadataSync(sb.to, detached.value as Array<[string, Variant]>);
  if (!present) writeMetadataObject(repo, 'commit', sb.commit);
  if (!partial) clearCommitPartial(repo.path, sb.to);
}

export interface OfflineOptions {
  /** Check the signatures of a signed superblock; throws when they do not verify. */
  verifySignature?: (signed: SignedSuperblock) => void;
}

function locate(target: string): { dir: string; superblock: string } {
  const st = fs.statSync(target, { throwIfNoEntry: false });
  if (st === undefined) throw new OstreeError('ENOENT', `openat(${target}): No such file or directory`, { path: target });
  if (st.isDirectory()) return { dir: target, superblock: path.join(target, 'superblock') };
  return { dir: path.dirname(target), superblock: target };
}

/** `static-delta apply-offline PATH`: apply the delta in directory PATH (or superblock file PATH). */
export function applyOffline(repo: Repo, target: string, options: OfflineOptions = {}): { from: string | null; to: string } {
  const where = locate(target);
  const { superblock: sb, signed } = readSuperblockBytes(readSuperblockFile(where.superblock));
  if (signed !== null && signed.signatures.some(([k]) => k.startsWith('ostree.sign.'))) {
    const mandatory = repo.config.getBoolean('core', 'sign-verify-deltas', false);
    if (options.verifySignature) options.verifySignature(signed);
    else if (mandatory) throw new OstreeError('EINVAL', 'Key is mandatory to check delta signature');
  }
  if (sb.from !== null && !hasObject(repo, sb.from, 'commit')) {
    throw new OstreeError('ENOENT', `Commit ${sb.from}, which is the delta source, is not in repository`);
  }
  if (sb.fallbacks.length > 0) throw new OstreeError('EINVAL', 'Cannot execute delta offline: contains nonempty http fallback entries');
  sb.parts.forEach((h, i) => {
    checkPartVersion(h);
    if (haveAllObjects(repo, h)) return;
    const inline = inlinePart(sb, i);
    if (inline !== null) { applyPart(repo, h, i, inline, false); return; }
    const p = path.join(where.dir, String(i));
    const stored = readFileBounded(p, PART_MAX_SIZE, { what: 'static delta part', follow: true });
    if (stored === null) throw new OstreeError('ENOENT', `Opening deltapart '${i}': No such file or directory`, { path: p });
    applyPart(repo, h, i, stored, true);
  });
  writeTargetCommit(repo, sb, false);
  return { from: sb.from, to: sb.to };
}
