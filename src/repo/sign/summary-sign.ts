/**
 * Signed summaries: `ostree summary -u --gpg-sign/--sign` appends signatures over the exact
 * bytes of REPO/summary to REPO/summary.sig (an a{sv} keyed as detached metadata is), GPG
 * first then the engine, as upstream; and a pull from a remote with `gpg-verify-summary` or
 * `sign-verify-summary` checks the summary it fetched against the summary.sig served with it.
 */
import { OstreeError } from '../../errors.js';
import { parseBool, type RemoteConfig, type RemoteRepo } from '../remotes.js';
import type { RepoCore } from '../store.js';
import { parseSummarySignatures } from '../summary/format.js';
import { readLocalSummary, readSummarySignatures, writeSummarySignatures } from '../summary/local.js';
import { appendSignature, GPG_SIGS_KEY, type Metadata } from './detached.js';
import { describeSignature, requireValidSignature } from './gpg/describe.js';
import { gpgVerifyWithMetadata, noGpgSignatures } from './gpg/commit.js';
import { gpgSignData } from './gpg/sign.js';
import { DEFAULT_SIGN_TYPE, signEngine } from './registry.js';
import { signVerifiersFor, verifyWithEngines, type VerifyOverrides } from './remote-policy.js';

export interface SummarySigning {
  gpgKeys: string[];
  gpgHomedir: string | null;
  /** Secret keys of the engine `signType` (default ed25519). */
  keys: string[];
  signType?: string;
}

/** What signs the new summary, or null when nothing is asked (the engine is chosen now). */
export function summarySigner(repo: RepoCore, s: SummarySigning): (() => Promise<void>) | null {
  if (s.gpgKeys.length === 0 && s.keys.length === 0) return null;
  const engine = s.keys.length > 0 ? signEngine(s.signType ?? DEFAULT_SIGN_TYPE) : null;
  return async () => {
    const data = readLocalSummary(repo.path);
    let sigs = readSummarySignatures(repo.path);
    for (const k of s.gpgKeys) sigs = appendSignature(sigs, GPG_SIGS_KEY, await gpgSignData(data, k, s.gpgHomedir));
    if (engine !== null) {
      for (const k of s.keys) {
        engine.setSecretKey(k);
        sigs = appendSignature(sigs, engine.metadataKey, engine.sign(data));
      }
    }
    writeSummarySignatures(repo, sigs ?? []);
  };
}

/** summary.sig as GLib reads an untrusted one: malformed means no signatures (so none verify). */
function lenientSignatures(sig: Buffer): Metadata {
  try { return parseSummarySignatures(sig); } catch { return []; }
}

export type SummaryCheck = (summary: Buffer | null, sig: Buffer | null) => Promise<void>;

function optionTrue(r: RemoteConfig, key: string): boolean {
  const v = r.options.get(key);
  return v !== undefined && parseBool(v, `remote "${r.name}" (${r.file}): ${key}`);
}

/** The summary checks remote `r` demands (gpg-verify-summary, sign-verify-summary), or null. */
export function summaryVerifierFor(repo: RemoteRepo, r: RemoteConfig, o: VerifyOverrides = {}): SummaryCheck | null {
  const gpg = o.gpgVerify ?? optionTrue(r, 'gpg-verify-summary');
  const engines = o.signVerify === false ? null : signVerifiersFor(r, 'sign-verify-summary');
  if (!gpg && engines === null) return null;
  return async (summary, sig) => {
    if (gpg) {
      if (summary === null) throw new OstreeError('ENOENT', 'GPG verification enabled, but no summary found (use gpg-verify-summary=false in remote config to disable)');
      if (sig === null) throw new OstreeError('EPERM', 'GPG verification enabled, but no summary.sig found (use gpg-verify-summary=false in remote config to disable)');
      const result = await gpgVerifyWithMetadata(repo, summary, lenientSignatures(sig), { remote: r });
      if (result === null) throw noGpgSignatures();
      requireValidSignature(result);
    }
    if (engines !== null) {
      if (sig === null) throw new OstreeError('EPERM', 'Signatures verification enabled, but no summary.sig found (use sign-verify-summary=false in remote config to disable)');
      if (summary !== null) verifyWithEngines(engines, summary, lenientSignatures(sig));
    }
  };
}

/**
 * `remote summary`'s signature block (upstream prints it after the summary, not with --raw):
 * the summary.sig's GPG signatures checked against the remote's keys, when the remote has
 * gpg-verify-summary; null otherwise.
 */
export async function summarySignatureReport(repo: RemoteRepo, r: RemoteConfig, summary: Buffer, sig: Buffer | null): Promise<string | null> {
  if (sig === null || !optionTrue(r, 'gpg-verify-summary')) return null;
  const result = await gpgVerifyWithMetadata(repo, summary, lenientSignatures(sig), { remote: r });
  if (result === null) throw noGpgSignatures();
  const n = result.signatures.length;
  return `\nGPG: Verification enabled, found ${n} signature${n === 1 ? '' : 's'}:\n` + result.signatures.map((s) => `\n${describeSignature(s, '  ')}`).join('');
}
