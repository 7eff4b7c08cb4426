/**
 * The `dummy` signature engine (upstream's test engine): the "signature" is the secret key's
 * text and it verifies when it equals the public key's text. Usable only with
 * OSTREE_DUMMY_SIGN_ENABLED=1, as upstream, so it can never protect anything by accident.
 */
import { OstreeError } from '../../errors.js';
import type { PublicKeySource, SignEngine } from './engine.js';

function requireEnabled(): void {
  if (process.env['OSTREE_DUMMY_SIGN_ENABLED'] !== '1') {
    throw new OstreeError('EPERM', 'dummy signature type is only for ostree testing (set OSTREE_DUMMY_SIGN_ENABLED=1)');
  }
}

export class DummySign implements SignEngine {
  readonly name = 'dummy';
  readonly metadataKey = 'ostree.sign.dummy';
  private secret: string | null = null;
  private publicKey: string | null = null;

  setSecretKey(key: string): void {
    requireEnabled();
    this.secret = key;
  }

  setPublicKey(key: string): void { this.publicKey = key; }
  addPublicKey(key: string): void { this.publicKey = key; }

  loadPublicKeys(_source: PublicKeySource): void {
    throw new OstreeError('EINVAL', 'dummy: loading keys from files is not supported');
  }

  sign(_data: Buffer): Buffer {
    requireEnabled();
    if (this.secret === null) throw new OstreeError('EINVAL', 'Not able to sign: secret key is not set');
    return Buffer.from(this.secret, 'utf8');
  }

  verify(_data: Buffer, signatures: Buffer[] | null): string {
    requireEnabled();
    if (signatures === null) throw new OstreeError('EINVAL', 'signature: dummy: commit have no signatures of my type');
    for (const s of signatures) {
      // compared as C strings, as upstream (the text up to a NUL)
      const nul = s.indexOf(0);
      const text = nul >= 0 ? s.subarray(0, nul) : s;
      if (this.publicKey !== null && text.equals(Buffer.from(this.publicKey, 'utf8'))) return 'dummy: Signature verified';
    }
    if (signatures.length > 0) throw new OstreeError('EINVAL', `signature: dummy: incorrect signatures found: ${signatures.length}`);
    throw new OstreeError('EINVAL', 'signature: dummy: no signatures');
  }
}
