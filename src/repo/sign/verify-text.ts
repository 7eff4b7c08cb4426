/**
 * Signature reports of deployed commits (`ostree admin status`): the GPG lines printed under a
 * deployment whose remote has gpg-verify, and `--verify`'s report, upstream's
 * ostree_repo_signature_verify_commit_data (GPG, then the sign-verify engines; an error when
 * the remote demands nothing or a signature does not verify).
 */
import { OstreeError } from '../../errors.js';
import { findRemote, type RemoteRepo } from '../remotes.js';
import type { RepoCore } from '../store.js';
import { commitSignedData } from './detached.js';
import { describeSignature, requireValidSignature } from './gpg/describe.js';
import { gpgVerifyWithMetadata, noGpgSignatures } from './gpg/commit.js';
import { gpgVerifyOption, signVerifiersFor, verifyWithEngines } from './remote-policy.js';

type VerifyRepo = RepoCore & RemoteRepo;

/** The remote's gpg-verify (default true); false when there is no such remote. */
export function remoteGpgVerify(repo: RemoteRepo, remote: string): boolean {
  let r;
  try { r = findRemote(repo, remote); } catch { return false; }
  return gpgVerifyOption(r);
}

/** Each GPG signature of the commit described with `prefix` ('' when it has none), checked
 *  against the keys of remote `keyringRemote`. */
export async function gpgSignatureLines(repo: VerifyRepo, checksum: string, keyringRemote: string, prefix: string): Promise<string> {
  const { data, meta } = commitSignedData(repo, checksum);
  const result = await gpgVerifyWithMetadata(repo, data, meta, { remote: keyringRemote });
  return result === null ? '' : result.signatures.map((s) => describeSignature(s, prefix)).join('');
}

/** `admin status --verify`: what verified the commit for `remote`, or why it does not verify. */
export async function verifyCommitForRemote(repo: VerifyRepo, remote: string, checksum: string): Promise<string> {
  const { data, meta } = commitSignedData(repo, checksum);
  if (meta === null) throw new OstreeError('EPERM', "Can't verify commit without detached metadata");
  const gpg = remoteGpgVerify(repo, remote);
  const engines = signVerifiersFor(findRemote(repo, remote), 'sign-verify');
  if (!gpg && engines === null) {
    throw new OstreeError('EPERM', `Cannot verify commit for remote ${remote}; GPG verification disabled, and no signapi verifiers configured`);
  }
  let text = '';
  if (gpg) {
    const result = await gpgVerifyWithMetadata(repo, data, meta, { remote });
    if (result === null) throw noGpgSignatures();
    requireValidSignature(result);
    text += result.signatures.map((s) => describeSignature(s, 'GPG: ')).join('');
  }
  if (engines !== null) {
    let msg: string;
    try { msg = verifyWithEngines(engines, data, meta); } catch (e) {
      throw new OstreeError('EPERM', `Can't verify commit: ${(e as Error).message}`, { cause: e });
    }
    text += (gpg ? '\n' : '') + msg;
  }
  return text;
}
