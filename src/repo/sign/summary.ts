/**
 * Signed summaries. Signing (`summary -u --gpg-sign/--sign`): each key signs the bytes of
 * REPO/summary and the signature is appended to REPO/summary.sig under its type's key, GPG first
 * then the engine's, as upstream's ostree_repo_add_gpg_signature_summary and ostree_sign_summary
 * (the `ostree-metadata` commit of a collection repository is signed the same way). Verifying
 * (remotes with `gpg-verify-summary` / `sign-verify-summary`): the summary a client fetched
 * must carry a valid signature in the summary.sig fetched with it, checked against the
 * remote's keys, with upstream's errors. The files themselves are summary/local.ts's.
 */
import { OstreeError } from '../../errors.js';
import type { Variant } from '../../glib/gvariant.js';
import { getRemote, parseBool, type RemoteRepo } from '../remotes.js';
import type { RepoCore } from '../store.js';
import { parseSummarySignatures } from '../summary/format.js';
import { readLocalSummary, readSummarySignatures, writeSummarySignatures } from '../summary/local.js';
import { signCommitWithKeys } from './commit-sign.js';
import { GPG_SIGS_KEY, appendSignature } from './detached.js';
import type { SignEngine } from './engine.js';
import { describeSignature, requireValidSignature } from './gpg/describe.js';
import { gpgSignCommit, gpgVerifyWithMetadata, noGpgSignatures } from './gpg/commit.js';
import { gpgSignData } from './gpg/sign.js';
import type { GpgVerifyResult } from './gpg/verify.js';
import { DEFAULT_SIGN_TYPE, signEngine } from './registry.js';
import { signVerifiersFor, verifyWithEngines, type VerifyOverrides } from './remote-policy.js';

type SignRepo = RepoCore & RemoteRepo;

/** `summary -u`'s signing options. */
export interface SummarySigning { keys: string[]; signType?: string; gpgKeys: string[]; gpgHomedir: string | null }

/** What signs the summary and the metadata commit; null when nothing is asked. The engine is
 *  chosen now, so an unknown `--sign-type` fails before anything is written. */
export function summarySigners(repo: SignRepo, s: SummarySigning): { signCommit: (checksum: string) => Promise<void>; signSummary: () => Promise<void> } | null {
  if (s.keys.length === 0 && s.gpgKeys.length === 0) return null;
  const engine = s.keys.length > 0 || s.signType !== undefined ? signEngine(s.signType ?? DEFAULT_SIGN_TYPE) : null;
  return {
    signCommit: async (checksum) => {
      for (const k of s.gpgKeys) await gpgSignCommit(repo, checksum, k, s.gpgHomedir);
      if (engine !== null && s.keys.length > 0) signCommitWithKeys(repo, checksum, engine, s.keys);
    },
    signSummary: async () => {
      if (s.gpgKeys.length > 0) await gpgSignSummary(repo, s.gpgKeys, s.gpgHomedir);
      if (engine !== null && s.keys.length > 0) signSummaryWithEngine(repo, engine, s.keys);
    },
  };
}

/** Append a GPG signature of REPO/summary by each key to REPO/summary.sig. */
export async function gpgSignSummary(repo: SignRepo, keyIds: string[], homedir: string | null): Promise<void> {
  const summary = readLocalSummary(repo.path);
  let sigs = readSummarySignatures(repo.path);
  for (const k of keyIds) sigs = appendSignature(sigs, GPG_SIGS_KEY, await gpgSignData(summary, k, homedir));
  writeSummarySignatures(repo, sigs ?? []);
}

/** Append the engine's signature of REPO/summary by each secret key to REPO/summary.sig. */
export function signSummaryWithEngine(repo: SignRepo, engine: SignEngine, keys: string[]): void {
  if (keys.length === 0) throw new OstreeError('EINVAL', 'No keys passed for signing summary');
  const summary = readLocalSummary(repo.path);
  let sigs = readSummarySignatures(repo.path);
  for (const k of keys) {
    engine.setSecretKey(k);
    sigs = appendSignature(sigs, engine.metadataKey, engine.sign(summary));
  }
  writeSummarySignatures(repo, sigs ?? []);
}

// ---------------------------------------------------------------------------------------------
// Verification

/** summary.sig as GLib reads untrusted bytes: data that is no a{sv} reads as an empty one. */
function lenientSignatures(sig: Buffer): Array<[string, Variant]> {
  try { return parseSummarySignatures(sig); } catch { return []; }
}

/** The remote's `gpg-verify-summary` (default false). */
export function remoteGpgVerifySummary(repo: RemoteRepo, remote: string): boolean {
  const r = getRemote(repo, remote);
  const v = r.options.get('gpg-verify-summary');
  return v !== undefined && parseBool(v, `remote "${remote}" (${r.file}): gpg-verify-summary`);
}

/** GPG signatures of `summary` in `sig`, checked against the remote's keys. */
export async function gpgVerifySummary(repo: RemoteRepo, remote: string, summary: Buffer, sig: Buffer): Promise<GpgVerifyResult> {
  const result = await gpgVerifyWithMetadata(repo, summary, lenientSignatures(sig), { remote });
  if (result === null) throw noGpgSignatures();
  return result;
}

/** Checks a fetched summary against the summary.sig fetched with it (either may be absent). */
export type SummaryCheck = (summary: Buffer | null, sig: Buffer | null) => Promise<void>;

/**
 * The check a fetched summary must pass for remote `remote` (null: it demands none), with the
 * messages of a pull (`pull`) or of `remote summary`/`remote refs` (`fetch`).
 */
export function summaryVerifierFor(
  repo: RemoteRepo, remote: string, context: 'pull' | 'fetch', o: VerifyOverrides = {},
): SummaryCheck | null {
  const gpg = o.gpgVerify ?? remoteGpgVerifySummary(repo, remote);
  const engines = o.signVerify === false ? null : signVerifiersFor(getRemote(repo, remote), 'sign-verify-summary');
  if (!gpg && engines === null) return null;
  return async (summary, sig) => {
    if (gpg) {
      if (summary === null) throw new OstreeError('ENOENT', context === 'pull' ? 'GPG verification enabled, but no summary found (use gpg-verify-summary=false in remote config to disable)' : 'GPG verification enabled, but no summary found (check that the configured URL in remote config is correct)');
      if (sig === null) throw new OstreeError('EPERM', context === 'pull' ? 'GPG verification enabled, but no summary.sig found (use gpg-verify-summary=false in remote config to disable)' : 'GPG verification enabled, but no summary signatures found (use gpg-verify-summary=false in remote config to disable)');
      requireValidSignature(await gpgVerifySummary(repo, remote, summary, sig));
    }
    if (engines !== null) {
      if (sig === null) throw new OstreeError('EPERM', context === 'pull' ? 'Signatures verification enabled, but no summary.sig found (use sign-verify-summary=false in remote config to disable)' : 'Signature verification enabled, but no summary signatures found (use sign-verify-summary=false in remote config to disable)');
      if (summary === null) {
        if (context === 'pull') return;
        throw new OstreeError('ENOENT', 'Signature verification enabled, but no summary found (check that the configured URL in remote config is correct)');
      }
      verifyWithEngines(engines, summary, lenientSignatures(sig));
    }
  };
}

/** `remote summary`'s block after the summary: "GPG: Verification enabled, found N signature(s):"
 *  and each signature described (empty when the remote does not verify its summary). */
export async function summaryGpgReport(repo: RemoteRepo, remote: string, summary: Buffer, sig: Buffer | null): Promise<string> {
  if (sig === null || !remoteGpgVerifySummary(repo, remote)) return '';
  const r = await gpgVerifySummary(repo, remote, summary, sig);
  const n = r.signatures.length;
  return `\nGPG: Verification enabled, found ${n} signature${n === 1 ? '' : 's'}:\n` + r.signatures.map((s) => `\n${describeSignature(s, '  ')}`).join('');
}
