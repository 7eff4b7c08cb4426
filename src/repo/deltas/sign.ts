/**
 * Signed static deltas (upstream's OSTREE_STATIC_DELTA_SIGNED_FORMAT): the superblock's bytes
 * wrapped with the signatures of one engine (src/repo/sign) under `ostree.sign.TYPE` (aay), and
 * their verification: `static-delta verify`, `apply-offline` with keys, and
 * `core.sign-verify-deltas`.
 */
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { Variant } from '../../glib/gvariant.js';
import type { SignEngine } from '../sign/engine.js';
import { readKeyLines } from '../sign/keyfiles.js';
import { deltaSuperblockPath } from '../layout.js';
import { parseDeltaName, readSuperblockFile } from './catalog.js';
import { parseSigned, serializeSigned, type SignedSuperblock } from './superblock.js';

/** The key ids to sign with: `--sign` ones, then each line of `--keys-file`. */
export function signingKeys(keys: string[], keysFile: string | undefined): string[] {
  return keysFile === undefined ? keys : [...keys, ...readKeyLines(keysFile)];
}

/** Wraps superblock bytes with a signature by each key (generate's `sign` option). */
export function superblockSigner(engine: SignEngine, keys: string[]): (superblock: Buffer) => Buffer {
  return (superblock) => {
    const sigs = keys.map((k) => { engine.setSecretKey(k); return engine.sign(superblock); });
    return serializeSigned({ superblock, signatures: [[engine.metadataKey, new Variant('aay', sigs)]] });
  };
}

/** Check a signed superblock with `engine`; the engine's success message, or an error. */
export function verifySignedSuperblock(signed: SignedSuperblock, engine: SignEngine): string {
  const v = signed.signatures.find(([k]) => k === engine.metadataKey)?.[1];
  if (v === undefined || v.type !== 'aay') throw new OstreeError('EINVAL', `no signature for '${engine.metadataKey}' in static-delta superblock`);
  return engine.verify(signed.superblock, v.value as Buffer[]);
}

/** `static-delta verify ID`: ID is a delta name or a superblock path (has '/'). */
export function verifyDelta(repoPath: string, id: string, engine: SignEngine): string {
  let file: string;
  if (id.includes('/')) file = id;
  else {
    const n = parseDeltaName(id);
    file = path.join(repoPath, deltaSuperblockPath(n.from, n.to));
  }
  const signed = parseSigned(readSuperblockFile(file));
  const hasSignatures = signed !== null && signed.signatures.some(([k]) => k.startsWith('ostree.sign.'));
  if (!hasSignatures) throw new OstreeError('EINVAL', 'no signatures in static-delta');
  return verifySignedSuperblock(signed, engine);
}
