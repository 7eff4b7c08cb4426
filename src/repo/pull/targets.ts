/**
 * What a pull is asked for and the checks every target commit must pass before any ref moves:
 * the requested refs (names, `REF@CHECKSUM` overrides, bare commit checksums), the ref binding
 * a commit carries (`ostree.ref-binding`), and the timestamp checks against a local revision.
 */
import { OstreeError } from '../../errors.js';
import { verifyBindings } from '../bindings.js';
import { isChecksum } from '../objects/checksum.js';
import { type CommitObject } from '../objects/commit.js';
import { Repo, parseRefspec, validateRefName } from '../repo.js';
import type { PullOptions } from './options.js';
import type { CommitVerifier } from '../sign/remote-policy.js';
import type { SummaryVerifier } from './summary.js';

/** A requested ref (null for a bare checksum) and, if given, the commit to pull for it. */
export interface RefRequest { ref: string | null; override?: string }

/** A resolved target: the ref to write (null: none) and its commit. */
export interface Wanted { ref: string | null; commit: string }

/** Resolve the requested refs (names, `REF@CSUM` handled by the caller, or bare checksums). */
export function normalizeRefs(refs: string[], opts: PullOptions): RefRequest[] {
  if (opts.overrideCommit !== undefined && refs.length !== 1) {
    throw new OstreeError('EINVAL', `an override commit needs exactly one ref (got ${refs.length})`);
  }
  return refs.map((r, i) => {
    const override = opts.overrideCommit ?? opts.overrideCommits?.[i];
    if (isChecksum(r)) return { ref: null, override: r };
    const [remote, name] = parseRefspec(r);
    if (remote !== null) throw new OstreeError('EINVAL', `Invalid ref name '${r}' (give the ref without the remote)`);
    validateRefName(name);
    if (override !== undefined && override !== '') {
      if (!isChecksum(override)) throw new OstreeError('EINVAL', `Invalid override commit '${override}' for ${r} (expected a 64-character checksum)`);
      return { ref: name, override };
    }
    return { ref: name };
  });
}

/** `%c` in the C locale, as upstream's timestamp errors. */
function cTime(ts: bigint): string {
  const d = new Date(Number(ts) * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export function checkTimestamps(currentRev: string, currentTs: bigint, newRev: string, newTs: bigint): void {
  if (newTs > currentTs) return;
  if (newTs === currentTs || currentRev === newRev) return;
  throw new OstreeError('ESTATE', `Upgrade target revision '${newRev}' with timestamp '${cTime(newTs)}' is chronologically older than current revision '${currentRev}' with timestamp '${cTime(currentTs)}'; use --allow-downgrade to permit`);
}

/** A target commit's bindings (bindings.ts verifyBindings): bound to `ref` when it has a ref
 *  binding, and to collection `collectionId` (the remote's) when that is known. */
export function checkBinding(c: CommitObject, checksum: string, ref: string | null, collectionId: string | null = null): void {
  try {
    verifyBindings(collectionId, ref, c);
  } catch (e) {
    if (e instanceof OstreeError) throw new OstreeError(e.code, `Commit ${checksum}: ${e.message} (pull with --disable-verify-bindings to accept it)`);
    throw e;
  }
}

/** The check each target commit must pass, given the target's ref. */
export type CommitCheck = (w: { ref: string | null }, checksum: string, c: CommitObject) => void;

/** What every pull (HTTP or file://) is asked to do, decided by the caller from the remote and the options. */
export interface PullRequestBase {
  repo: Repo;
  remoteName: string;
  requests: RefRequest[];
  /** `--mirror` without refs: every ref the source has. */
  allRefs: boolean;
  depth: number;
  opts: PullOptions;
  /** Checks each target commit must pass (timestamps). */
  check: CommitCheck;
  /** The signatures the remote demands of every pulled commit (null: none). */
  verifier: CommitVerifier | null;
  /** Checks the summary against summary.sig (remotes with gpg-/sign-verify-summary). */
  summaryVerifier?: SummaryVerifier;
  /** Where a pulled ref is written. */
  refSpec: (ref: string) => string;
}

/**
 * The timestamp checks of a pull (`--timestamp-check-from-rev` resolved now, before anything is
 * fetched; `--timestamp-check` against the ref's current local target `refSpec(ref)`).
 */
export async function timestampChecks(repo: Repo, opts: PullOptions, refSpec: (ref: string) => string): Promise<CommitCheck> {
  let fromRev: { rev: string; ts: bigint } | null = null;
  if (opts.timestampCheckFromRev !== undefined) {
    const rev = await repo.resolveRev(opts.timestampCheckFromRev);
    try {
      fromRev = { rev, ts: repo.loadCommitSync(rev).timestamp };
    } catch (e) {
      throw new OstreeError('ENOENT', `Reading ${opts.timestampCheckFromRev} for timestamp-check-from-rev: ${(e as Error).message}`, { cause: e });
    }
  }
  return (w, checksum, c) => {
    if (fromRev) checkTimestamps(fromRev.rev, fromRev.ts, checksum, c.timestamp);
    if (opts.timestampCheck && w.ref !== null) {
      const orig = repo.resolveRevSync(refSpec(w.ref));
      if (orig !== null) checkTimestamps(orig, repo.loadCommitSync(orig).timestamp, checksum, c.timestamp);
    }
  };
}
