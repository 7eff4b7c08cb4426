/**
 * Signing and verifying commits with a signature engine (`ostree sign`, `commit --sign`):
 * the engine signs the commit object's bytes and the signature is appended to the commit's
 * detached metadata under the engine's key, as upstream's ostree_sign_commit; verification
 * reads them back (ostree_sign_commit_verify).
 */
import { OstreeError } from '../../errors.js';
import { writeDetachedMetadata } from '../commit/commit.js';
import type { RepoCore } from '../store.js';
import { appendSignature, commitSignedData, signaturesIn } from './detached.js';
import type { PublicKeySource, SignEngine } from './engine.js';
import { readKeyLines } from './keyfiles.js';
import { gpgSignCommit } from './gpg/commit.js';
import { DEFAULT_SIGN_TYPE, signEngine } from './registry.js';
import type { RemoteRepo } from '../remotes.js';

/** Sign `checksum` with the engine's secret key; its detached metadata gains the signature. */
export function signCommit(repo: RepoCore, checksum: string, engine: SignEngine): void {
  const { data, meta } = commitSignedData(repo, checksum);
  let sig: Buffer;
  try { sig = engine.sign(data); } catch (e) {
    throw new OstreeError(e instanceof OstreeError ? e.code : 'EINVAL', `Not able to sign the cobject: ${(e as Error).message}`, { cause: e });
  }
  writeDetachedMetadata(repo, checksum, appendSignature(meta, engine.metadataKey, sig));
}

/** Verify `checksum`'s signatures of the engine's type; the success message, or an error. */
export function verifyCommit(repo: RepoCore, checksum: string, engine: SignEngine): string {
  const { data, meta } = commitSignedData(repo, checksum);
  return engine.verify(data, signaturesIn(meta, engine.metadataKey));
}

/**
 * `ostree sign --verify`: each key given is tried alone; then, when no key was given or a keys
 * file was, the keys file or key directories are loaded (added to the last key tried). The
 * first success message, or the last verification error, or "No valid signatures found".
 */
export function verifyCommitWithKeys(repo: RepoCore, checksum: string, engine: SignEngine, keys: string[], source: PublicKeySource | null): string {
  for (const k of keys) {
    try { engine.setPublicKey(k); } catch { continue; }
    try { return verifyCommit(repo, checksum, engine); } catch { /* try the next key */ }
  }
  if (source !== null) {
    engine.loadPublicKeys(source);
    return verifyCommit(repo, checksum, engine);
  }
  throw new OstreeError('EPERM', 'No valid signatures found');
}

/** `ostree sign`: a signature by each secret key given, then by each line of `keysFile`. */
export function signCommitWithKeys(repo: RepoCore, checksum: string, engine: SignEngine, keys: string[], keysFile?: string): void {
  const all = [...keys, ...(keysFile !== undefined ? readKeyLines(keysFile) : [])];
  for (const k of all) {
    engine.setSecretKey(k);
    signCommit(repo, checksum, engine);
  }
}

export interface CommitSigning {
  /** Secret keys for the engine `signType` (default ed25519). */
  keys: string[];
  signType?: string;
  gpgKeys: string[];
  gpgHomedir: string | null;
}

/**
 * What `commit --sign/--gpg-sign` does to the new commit, in upstream's order (engine
 * signatures, then GPG), or null when nothing is asked. The engine is chosen now, so an unknown
 * `--sign-type` fails before anything is written.
 */
export function commitSigner(repo: RepoCore & RemoteRepo, s: CommitSigning): ((checksum: string) => Promise<void>) | null {
  if (s.keys.length === 0 && s.gpgKeys.length === 0) return null;
  const engine = s.keys.length > 0 ? signEngine(s.signType ?? DEFAULT_SIGN_TYPE) : null;
  return async (checksum) => {
    if (engine !== null) signCommitWithKeys(repo, checksum, engine, s.keys);
    for (const k of s.gpgKeys) await gpgSignCommit(repo, checksum, k, s.gpgHomedir);
  };
}
