/**
 * The static-delta phase of a pull from a remote (HTTP or file://), before its commits are
 * scanned: upstream's rules for when deltas are used (not into an archive repository, not for
 * --commit-metadata-only, not with --disable-static-deltas; required with
 * --require-static-deltas), one delta chosen and applied per target (delta.ts), or with
 * --dry-run only their sizes added up. The object pull that follows fetches what a delta left
 * out (fallbacks) and finishes the commits; targets a required delta found already complete
 * are not scanned.
 */
import { OstreeError } from '../../errors.js';
import { KeyFile } from '../../glib/keyfile.js';
import type { Repo } from '../repo.js';
import { hasObject } from '../store.js';
import { modeTraits } from '../modes/mode.js';
import { deltaNameString } from '../deltas/catalog.js';
import { chooseDelta, fetchSuperblock, pullDelta, remoteDeltasFromSummary, type DeltaSource, type RemoteDeltas } from './delta.js';
import type { DeltaTotals } from './options.js';

export { formatDeltaUpdate } from './delta.js';
import type { Wanted } from './targets.js';

export interface DeltaPhaseInput {
  repo: Repo;
  source: DeltaSource;
  /** The remote's summary bytes (null: it has none). */
  summary: Buffer | null;
  /** The remote's `config` (read for core.indexed-deltas when there is no summary). */
  remoteConfig: () => Promise<Buffer | null>;
  targets: Wanted[];
  /** Where a target's ref lives here (`REMOTE:REF`, or `REF` when mirroring). */
  refSpec: (ref: string) => string;
  disable: boolean;
  require: boolean;
  dryRun: boolean;
  commitMetadataOnly: boolean;
}

export interface DeltaPhaseResult {
  /** Targets not to scan afterwards. */
  skip: Set<string>;
  /** Set with --dry-run: nothing was written. */
  dryRun: DeltaTotals | null;
  /** The deltas applied (`FROM-TO`, or `TO` from scratch) and the parts fetched for them. */
  applied: string[];
  partsFetched: number;
}


async function remoteDeltas(input: DeltaPhaseInput): Promise<RemoteDeltas> {
  let indexed = false;
  if (input.summary === null) {
    const cfg = await input.remoteConfig();
    indexed = cfg !== null && KeyFile.parse(cfg.toString('utf8'), 'remote config').getBoolean('core', 'indexed-deltas', false);
  }
  return remoteDeltasFromSummary(input.summary, indexed);
}

async function addDryRun(input: DeltaPhaseInput, remote: RemoteDeltas, from: string | null, to: string, t: DeltaTotals): Promise<void> {
  const got = await fetchSuperblock(input.source, remote, from, to);
  if (got === null) throw new OstreeError('ENOENT', `Static deltas required, but none found for ${from ?? ''} to ${to}`);
  const sb = got.sb;
  for (const f of sb.fallbacks) {
    t.totalParts++; t.totalSize += f.size; t.totalUsize += f.usize;
    if (hasObject(input.repo, f.checksum, f.type)) { t.fetchedParts++; t.fetchedSize += f.size; }
  }
  for (const h of sb.parts) {
    t.totalParts++; t.totalSize += h.size; t.totalUsize += h.usize;
    if (h.objects.every((o) => hasObject(input.repo, o.checksum, o.type))) { t.fetchedParts++; t.fetchedSize += h.size; }
  }
}

/** Run the delta phase of a pull (see the file comment). */
export async function runDeltaPhase(input: DeltaPhaseInput): Promise<DeltaPhaseResult> {
  const result: DeltaPhaseResult = { skip: new Set(), dryRun: input.dryRun ? { fetchedParts: 0, totalParts: 0, fetchedSize: 0n, totalSize: 0n, totalUsize: 0n } : null, applied: [], partsFetched: 0 };
  if (input.dryRun && !input.require) throw new OstreeError('EINVAL', '--dry-run requires --require-static-deltas');
  if (input.disable && input.require) throw new OstreeError('EINVAL', 'Cannot use --disable-static-deltas and --require-static-deltas together');
  if (modeTraits(input.repo.mode).compressed) {
    if (input.require) throw new OstreeError('EINVAL', "Can't use static deltas in an archive repo");
    return result;
  }
  if (input.disable || input.commitMetadataOnly) return result;
  const remote = await remoteDeltas(input);
  if (input.require && !remote.indexed && !remote.inSummary) {
    throw new OstreeError('ENOENT', 'Fetch configured to require static deltas, but no summary deltas or delta index found');
  }
  for (const t of input.targets) {
    const localFrom = t.ref === null ? null : input.repo.resolveRevSync(input.refSpec(t.ref));
    const choice = await chooseDelta(input.repo, input.source, remote, t.commit, t.ref, localFrom, input.require);
    if (choice.kind === 'unchanged') { if (input.require) result.skip.add(t.commit); continue; }
    if (choice.kind !== 'delta') continue;
    if (result.dryRun !== null) { await addDryRun(input, remote, choice.from, t.commit, result.dryRun); continue; }
    const applied = await pullDelta(input.repo, input.source, remote, choice.from, t.commit, { require: input.require });
    if (applied === null && input.require) throw new OstreeError('ENOENT', `Static deltas required, but none found for ${deltaNameString({ from: choice.from, to: t.commit })}`);
    if (applied !== null) { result.applied.push(deltaNameString({ from: choice.from, to: t.commit })); result.partsFetched += applied.parts; }
  }
  return result;
}
