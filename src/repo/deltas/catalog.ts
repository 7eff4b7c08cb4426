/**
 * The static deltas a repository holds: names (`FROM-TO`, or `TO` for a delta from scratch),
 * listing `deltas/`, existence, deletion, reading a superblock (bounded), and the delta
 * indexes (`delta-indexes/XX/YYYY….index`: an a{sv} whose `ostree.static-deltas` maps each
 * delta to that commit to the sha256 of its superblock, as upstream's reindex writes them).
 *
 * listDeltaNames() and superblockDigest() are also what summary generation uses for the
 * summary's `ostree.static-deltas`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../errors.js';
import { Variant, serialize } from '../../glib/gvariant.js';
import { glibDictOrder } from '../../glib/ghash-order.js';
import { readFileBounded, writeFileAtomic } from '../../util/fs.js';
import { sha256hex } from '../objects/checksum.js';
import { MAX_METADATA_SIZE } from '../objects/common.js';
import {
  checksumFromDeltaB64, deltaIndexPath, deltaIndexesDir, deltaNameFromDir, deltaRelPath, deltaSuperblockPath, deltasDir,
} from '../layout.js';
import { readSuperblockBytes, type Superblock, type SignedSuperblock } from './superblock.js';

/** The largest superblock read (upstream reads them as metadata). */
export const SUPERBLOCK_MAX_SIZE = MAX_METADATA_SIZE;

export interface DeltaName { from: string | null; to: string }

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

export function formatDeltaName(from: string | null, to: string): string {
  return from === null ? to : `${from}-${to}`;
}

function readDirOrEmpty(p: string): fs.Dirent[] {
  try { return fs.readdirSync(p, { withFileTypes: true }); } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
}

/** Every delta in the repository with a superblock, in directory order (as upstream lists them). */
export function listDeltaNames(repoPath: string): string[] {
  const out: string[] = [];
  for (const d of readDirOrEmpty(deltasDir(repoPath))) {
    if (!d.isDirectory()) continue;
    for (const sub of readDirOrEmpty(path.join(deltasDir(repoPath), d.name))) {
      if (!sub.isDirectory()) continue;
      if (!fs.existsSync(path.join(deltasDir(repoPath), d.name, sub.name, 'superblock'))) continue;
      const name = deltaNameFromDir(d.name, sub.name);
      if (name !== null) out.push(name);
    }
  }
  return out;
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

/** sha256 of the superblock file of a delta (the digest the summary and indexes carry). */
export function superblockDigest(repoPath: string, name: DeltaName): Buffer {
  const file = readSuperblockFile(path.join(repoPath, deltaSuperblockPath(name.from, name.to)));
  return Buffer.from(sha256hex(file), 'hex');
}

/** The commits that have a delta index. */
export function listDeltaIndexes(repoPath: string): string[] {
  const out: string[] = [];
  for (const d of readDirOrEmpty(deltaIndexesDir(repoPath))) {
    if (!d.isDirectory() || d.name.length !== 2) continue;
    for (const f of readDirOrEmpty(path.join(deltaIndexesDir(repoPath), d.name))) {
      if (!f.isFile() || f.name.length !== 41 + 6 || !f.name.endsWith('.index')) continue;
      const c = checksumFromDeltaB64(d.name + f.name.slice(0, 41));
      if (c !== null) out.push(c);
    }
  }
  return out;
}

/** An index's bytes: { 'ostree.static-deltas': { NAME: <digest ay> } } in GLib's dict order. */
export function serializeDeltaIndex(entries: Array<[string, Buffer]>): Buffer {
  const deltas = glibDictOrder(entries.map(([n, d]): [string, Variant] => [n, new Variant('ay', d)]));
  return serialize('a{sv}', [['ostree.static-deltas', new Variant('a{sv}', deltas)]]);
}

/**
 * Regenerate the delta indexes (all, or only the one of commit `to`): each commit that a
 * delta leads to gets an index listing them; indexes of commits without deltas are removed.
 * Unchanged indexes are not rewritten.
 */
export function reindexDeltas(repoPath: string, to?: string): void {
  const byTarget = new Map<string, Array<string | null>>();
  if (to === undefined) for (const c of listDeltaIndexes(repoPath)) byTarget.set(c, []);
  else byTarget.set(validRev(to), []);
  for (const n of listDeltaNames(repoPath)) {
    const d = parseDeltaName(n);
    if (to !== undefined && d.to !== to) continue;
    const froms = byTarget.get(d.to) ?? [];
    froms.push(d.from);
    byTarget.set(d.to, froms);
  }
  for (const [target, froms] of byTarget) {
    const p = path.join(repoPath, deltaIndexPath(target));
    if (froms.length === 0) { fs.rmSync(p, { force: true }); continue; }
    froms.sort((a, b) => (a ?? '').localeCompare(b ?? ''));
    const data = serializeDeltaIndex(froms.map((f) => [formatDeltaName(f, target), superblockDigest(repoPath, { from: f, to: target })]));
    const old = readFileBounded(p, SUPERBLOCK_MAX_SIZE, { what: 'delta index', follow: false });
    if (old !== null && old.equals(data)) continue;
    fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
    writeFileAtomic(p, data, { mode: 0o644 });
  }
}
