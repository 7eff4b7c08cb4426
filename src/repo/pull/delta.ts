/**
 * Pulling through static deltas (upstream's initiate_request / get_best_static_delta_start_for /
 * process_one_static_delta), for any source that can hand over the remote's files by path
 * (HTTP, file://, or a local repository for `pull-local --require-static-deltas`).
 *
 * Choosing a delta for a target commit: the remote's delta index for that commit when it has
 * indexes (`core.indexed-deltas` / `ostree.summary.indexed-deltas`), else the deltas its
 * summary lists, else the delta from the ref's current local commit (or from scratch). Among
 * deltas to the target, the one from the newest complete commit we have wins; a delta from
 * scratch is used only when we have no commit of the ref yet.
 *
 * Applying one: the superblock is checked against the digest the summary or index lists, each
 * part not already present is fetched (bounded by the size its header declares), checked
 * against its checksum, and executed (deltas/apply.ts); then the target commit is written,
 * marked partial. Fallback objects are left to the object pull that follows, which checks
 * the commit (bindings, signatures) and clears the partial mark once everything is in.
 */
import { OstreeError } from '../../errors.js';
import { deserialize, type Variant } from '../../glib/gvariant.js';
import { formatSize } from '../../util/format-size.js';
import type { DeltaTotals } from './options.js';
import { sha256hex } from '../objects/checksum.js';
import { deltaIndexPath, deltaPartPath, deltaSuperblockPath, isCommitPartial } from '../layout.js';
import type { Repo } from '../repo.js';
import { hasObject, loadCommit } from '../store.js';
import { SUMMARY_KEYS, parseSummaryFile, summaryExtension } from '../summary/format.js';
import { applyPart, checkPartVersion, haveAllObjects, inlinePart, writeTargetCommit } from '../deltas/apply.js';
import { SUPERBLOCK_MAX_SIZE, deltaNameString, parseDeltaName } from '../deltas/catalog.js';
import { PART_MAX_SIZE } from '../deltas/part.js';
import { trace } from './trace.js';
import { readSuperblockBytes, type SignedSuperblock, type Superblock } from '../deltas/superblock.js';

/** The remote's files by path relative to the repository; null when absent. */
export interface DeltaSource {
  fetch(rel: string, maxSize: number, what: string): Promise<Buffer | null>;
}

/** What the remote says about its deltas. */
export interface RemoteDeltas {
  /** Delta name → superblock sha256, from the summary (or, per target, its index). */
  listed: Map<string, Buffer>;
  /** The summary lists deltas. */
  inSummary: boolean;
  /** The remote keeps delta indexes. */
  indexed: boolean;
}

export interface DeltaPullOptions {
  require: boolean;
  /** Check a signed superblock (sign-verify-deltas); throws when it does not verify. */
  verifySignature?: (signed: SignedSuperblock) => void;
  /** Signatures are required on every superblock. */
  requireSignature?: boolean;
}

function digestMap(v: Variant | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (v === undefined || v.type !== 'a{sv}') return out;
  for (const [name, d] of v.value as Array<[string, Variant]>) {
    parseDeltaName(name);
    if (d.type !== 'ay' || (d.value as Buffer).length !== 32) throw new OstreeError('ECORRUPT', `Invalid checksum variant for static delta ${name}`);
    out.set(name, d.value as Buffer);
  }
  return out;
}

/** The deltas a summary lists (and whether the remote has indexes), from summary bytes. */
export function remoteDeltasFromSummary(summary: Buffer | null, configIndexed: boolean): RemoteDeltas {
  if (summary === null) return { listed: new Map(), inSummary: false, indexed: configIndexed };
  const s = parseSummaryFile(summary);
  const listed = digestMap(summaryExtension(s, SUMMARY_KEYS.staticDeltas));
  return { listed, inSummary: listed.size > 0, indexed: configIndexed || summaryExtension(s, SUMMARY_KEYS.indexedDeltas)?.value === true };
}

export type DeltaChoice = { kind: 'objects' } | { kind: 'unchanged' } | { kind: 'delta'; from: string | null };

function requiredError(refName: string | null, from: string | null, to: string): OstreeError {
  return new OstreeError('ENOENT', `Static deltas required, but none found for ${refName ?? from ?? ''} to ${to}`);
}

function completeCommit(repo: Repo, c: string): boolean {
  return hasObject(repo, c, 'commit') && !isCommitPartial(repo.path, c);
}

/** Upstream's search among listed deltas for the best one to `to`. */
function bestListed(repo: Repo, listed: Map<string, Buffer>, to: string, localFrom: string | null, refName: string | null, require: boolean): DeltaChoice {
  if (completeCommit(repo, to)) return { kind: 'unchanged' };
  let scratch = false;
  let best: { from: string; ts: bigint } | null = null;
  for (const name of listed.keys()) {
    const d = parseDeltaName(name);
    if (d.to !== to) continue;
    if (d.from === null) { scratch = true; continue; }
    if (!completeCommit(repo, d.from)) continue;
    const ts = loadCommit(repo, d.from).timestamp;
    if (best === null || ts > best.ts) best = { from: d.from, ts };
  }
  if (best !== null) return { kind: 'delta', from: best.from };
  if (scratch) return localFrom !== null ? { kind: 'objects' } : { kind: 'delta', from: null };
  if (require) throw requiredError(refName, null, to);
  return { kind: 'objects' };
}

/** Which delta (if any) to use for `to`; `localFrom` is the ref's current commit here. */
export async function chooseDelta(repo: Repo, source: DeltaSource, remote: RemoteDeltas, to: string, refName: string | null, localFrom: string | null, require: boolean): Promise<DeltaChoice> {
  if (remote.indexed) {
    const index = await source.fetch(deltaIndexPath(to), SUPERBLOCK_MAX_SIZE, 'static delta index');
    if (index !== null) {
      const v = (deserialize('a{sv}', index) as Array<[string, Variant]>).find(([k]) => k === SUMMARY_KEYS.staticDeltas)?.[1];
      for (const [k, d] of digestMap(v)) remote.listed.set(k, d);
    }
    return bestListed(repo, remote.listed, to, localFrom, refName, require);
  }
  if (remote.inSummary) return bestListed(repo, remote.listed, to, localFrom, refName, require);
  const from = localFrom !== null && completeCommit(repo, localFrom) ? localFrom : null;
  if (from === to) return { kind: 'objects' };
  return { kind: 'delta', from };
}

/** The superblock of `from` → `to` from the remote (checked against its listed digest), or null. */
export async function fetchSuperblock(source: DeltaSource, remote: RemoteDeltas, from: string | null, to: string): Promise<{ sb: Superblock; signed: SignedSuperblock | null } | null> {
  const file = await source.fetch(deltaSuperblockPath(from, to), SUPERBLOCK_MAX_SIZE, 'static delta superblock');
  if (file === null) return null;
  const name = deltaNameString({ from, to });
  const expected = remote.listed.get(name);
  if (expected !== undefined && sha256hex(file) !== expected.toString('hex')) throw new OstreeError('ECORRUPT', `Invalid checksum for static delta ${name}`);
  const { superblock, signed } = readSuperblockBytes(file);
  if (superblock.to !== to || superblock.from !== from) throw new OstreeError('ECORRUPT', `static delta ${name}: its superblock is for ${deltaNameString(superblock)}`);
  return { sb: superblock, signed };
}

export interface DeltaPullResult { parts: number; partBytes: number; fallbacks: string[] }

/**
 * Fetch and apply the delta `from` → `to`. Returns null when the remote has no such delta (an
 * error instead when deltas are required).
 */
export async function pullDelta(repo: Repo, source: DeltaSource, remote: RemoteDeltas, from: string | null, to: string, options: DeltaPullOptions): Promise<DeltaPullResult | null> {
  const got = await fetchSuperblock(source, remote, from, to);
  if (got === null) {
    if (options.require) throw requiredError(null, from, to);
    return null;
  }
  const { sb, signed } = got;
  trace('delta superblock');
  if (signed !== null && options.verifySignature) options.verifySignature(signed);
  else if (options.requireSignature) throw new OstreeError('ECORRUPT', `static delta ${deltaNameString(sb)} is not signed, but signatures are required`);
  const result: DeltaPullResult = { parts: 0, partBytes: 0, fallbacks: sb.fallbacks.filter((f) => !hasObject(repo, f.checksum, f.type)).map((f) => f.checksum) };
  for (const f of sb.fallbacks) if (f.type !== 'file') throw new OstreeError('ECORRUPT', `Found metadata object as fallback: ${f.checksum}.${f.type}`);
  for (let i = 0; i < sb.parts.length; i++) {
    const h = sb.parts[i]!;
    checkPartVersion(h);
    if (haveAllObjects(repo, h)) continue;
    const inline = inlinePart(sb, i);
    if (inline !== null) { applyPart(repo, h, i, inline, false); continue; }
    if (h.size > BigInt(PART_MAX_SIZE)) throw new OstreeError('ECORRUPT', `static delta part ${i} declares ${h.size} bytes, more than the ${PART_MAX_SIZE} allowed`);
    trace(`delta part ${i} requested`);
    const stored = await source.fetch(deltaPartPath(from, to, i), Number(h.size), 'static delta part');
    trace(`delta part ${i} fetched`);
    if (stored === null) throw new OstreeError('ENOENT', `static delta part ${deltaPartPath(from, to, i)} not found on the remote`);
    applyPart(repo, h, i, stored, true);
    trace(`delta part ${i} applied`);
    result.parts++;
    result.partBytes += stored.length;
  }
  // partial either way: the object pull that follows checks the commit and completes it
  writeTargetCommit(repo, sb, true);
  trace('delta target commit');
  return result;
}

/** Upstream's "Delta update" line of `pull --dry-run`. */
export function formatDeltaUpdate(t: DeltaTotals): string {
  return `Delta update: ${t.fetchedParts}/${t.totalParts} parts, ${formatSize(Number(t.fetchedSize))}/${formatSize(Number(t.totalSize))}, ${formatSize(Number(t.totalUsize))} total uncompressed`;
}
