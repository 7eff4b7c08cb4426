/**
 * GPG signatures of commits: `ostree.gpgsigs` in the detached metadata holds one binary
 * signature packet per element; verification concatenates them (packets concatenate into one
 * detached signature) and checks them against the keys of a scope (keyrings.ts). Signing
 * refuses a key that already signed the commit; deleting removes the signatures of the named
 * keys (upstream's ostree_repo_sign_commit and `gpg-sign --delete`).
 */
import { OstreeError } from '../../../errors.js';
import { writeDetachedMetadata } from '../../commit/commit.js';
import type { RemoteRepo } from '../../remotes.js';
import type { RepoCore } from '../../store.js';
import { GPG_SIGS_KEY, appendSignature, commitSignedData, replaceSignatures, signaturesIn, type Metadata } from '../detached.js';
import { gatherKeyrings, type KeyringOptions, type KeyringScope } from './keyrings.js';
import { gpgSignData } from './sign.js';
import { lookupSignature, verifyDetached, type GpgVerifyResult } from './verify.js';

type SignRepo = RepoCore & RemoteRepo;

/** Upstream's error when GPG verification finds no signature at all. */
export function noGpgSignatures(): OstreeError {
  return new OstreeError('EPERM', 'GPG verification enabled, but no signatures found (use gpg-verify=false in remote config to disable)');
}

/** Verify the `ostree.gpgsigs` of `meta` over `data`; null when there are none. */
export async function gpgVerifyWithMetadata(repo: RemoteRepo, data: Buffer, meta: Metadata | null, scope: KeyringScope, opts: KeyringOptions = {}): Promise<GpgVerifyResult | null> {
  const sigs = signaturesIn(meta, GPG_SIGS_KEY);
  if (sigs === null) return null;
  return verifyDetached(data, Buffer.concat(sigs), gatherKeyrings(repo, scope, opts));
}

/** A stored commit's GPG signatures, checked against every remote's keys (or the scope given). */
export async function gpgVerifyCommit(repo: SignRepo, checksum: string, scope: KeyringScope = { allRemotes: true }, opts: KeyringOptions = {}): Promise<GpgVerifyResult | null> {
  const { data, meta } = commitSignedData(repo, checksum);
  return gpgVerifyWithMetadata(repo, data, meta, scope, opts);
}

/** Add a signature by `keyId` (from `homedir`) unless that key already signed the commit. */
export async function gpgSignCommit(repo: SignRepo, checksum: string, keyId: string, homedir: string | null): Promise<void> {
  const { data, meta } = commitSignedData(repo, checksum);
  const existing = await gpgVerifyWithMetadata(repo, data, meta, { allRemotes: true }, homedir !== null ? { keyringDir: homedir } : {});
  if (existing !== null && lookupSignature(existing, keyId) >= 0) {
    throw new OstreeError('EEXIST', `Commit is already signed with GPG key ${keyId}`);
  }
  const sig = await gpgSignData(data, keyId, homedir);
  writeDetachedMetadata(repo, checksum, appendSignature(meta, GPG_SIGS_KEY, sig));
}

/** Remove the signatures made by any of `keyIds`; how many were removed. */
export async function gpgDeleteSignatures(repo: SignRepo, checksum: string, keyIds: string[]): Promise<number> {
  const { data, meta } = commitSignedData(repo, checksum);
  const sigs = signaturesIn(meta, GPG_SIGS_KEY);
  if (meta === null || sigs === null) return 0;
  const result = await gpgVerifyWithMetadata(repo, data, meta, { allRemotes: true });
  if (result === null || result.signatures.length !== sigs.length) {
    throw new OstreeError('ECORRUPT', `Commit ${checksum}: its ${sigs.length} GPG signature elements do not hold one signature each`);
  }
  const doomed = new Set(keyIds.map((k) => lookupSignature(result, k)).filter((i) => i >= 0));
  if (doomed.size === 0) return 0;
  writeDetachedMetadata(repo, checksum, replaceSignatures(meta, GPG_SIGS_KEY, sigs.filter((_, i) => !doomed.has(i))));
  return doomed.size;
}
