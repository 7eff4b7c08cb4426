/**
 * The signature engines of upstream's "signapi" (`ostree sign`, `commit --sign`, remote
 * `sign-verify`): each signs bytes with a secret key and verifies detached signatures stored in
 * the commit's detached metadata under `ostree.sign.NAME` (type `aay`, one signature per element).
 * GPG is not one of them: it has its own key (`ostree.gpgsigs`) and its own verbs (gpg.ts).
 */
import { OstreeError } from '../../errors.js';

/** Where a verifier looks for public keys when none were given (upstream's load_pk options). */
export interface PublicKeySource {
  /** One file, one base64 key per line. */
  filename?: string;
  /** A directory holding trusted.NAME(.d) and revoked.NAME(.d), instead of the system ones. */
  basedir?: string;
}

export interface SignEngine {
  readonly name: string;
  /** Detached metadata key holding this engine's signatures (`aay`). */
  readonly metadataKey: string;
  /** Replace the secret key (upstream's set_sk). */
  setSecretKey(key: string): void;
  /** Replace the public keys with this one (set_pk). */
  setPublicKey(key: string): void;
  /** Add a public key (add_pk). */
  addPublicKey(key: string): void;
  /** Load public keys from a file or the key directories (load_pk). */
  loadPublicKeys(source: PublicKeySource): void;
  /** Sign `data` with the secret key. */
  sign(data: Buffer): Buffer;
  /** Verify `signatures` (null: the metadata has none of this type) over `data`; the success
   *  message, or an OstreeError saying why none verified. */
  verify(data: Buffer, signatures: Buffer[] | null): string;
}

/** Upstream's error for an unknown engine name (scripts match it). */
export function notImplemented(): OstreeError {
  return new OstreeError('EINVAL', 'Requested signature type is not implemented');
}
