/**
 * Signed static deltas (`static-delta generate --sign`, `static-delta verify`): the superblock's
 * bytes are wrapped with the signatures over them, upstream's `(taya{sv})` with the OSTSGNDT
 * magic (format in deltas/superblock.ts), under the engine's key (`ostree.sign.ed25519`, ...).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { Variant } from '../../glib/gvariant.js';
import { deltaSuperblockPath } from '../layout.js';
import { parseDeltaName, readSuperblockFile } from '../deltas/catalog.js';
import { parseSigned, serializeSigned } from '../deltas/superblock.js';
import { signaturesIn } from './detached.js';
import type { PublicKeySource } from './engine.js';
import { readKeyLines } from './keyfiles.js';
import { DEFAULT_SIGN_TYPE, signEngine } from './registry.js';

export interface DeltaSigning { keys: string[]; keysFile?: string; signType?: string }

/** What wraps a new superblock with its signatures (one per secret key: given, then the keys file's lines). */
export function deltaSigner(s: DeltaSigning): (superblock: Buffer) => Buffer {
  const engine = signEngine(s.signType ?? DEFAULT_SIGN_TYPE);
  const keys = [...s.keys, ...(s.keysFile !== undefined ? readKeyLines(s.keysFile) : [])];
  return (superblock) => {
    const sigs = keys.map((k) => { engine.setSecretKey(k); return engine.sign(superblock); });
    return serializeSigned({ superblock, signatures: [[engine.metadataKey, new Variant('aay', sigs)]] });
  };
}

/**
 * `static-delta verify DELTA [KEY...]`: the keys given are added; without any, or with a keys
 * file, the keys file or key directories are loaded. The engine's success message, or an error.
 */
export function verifyDeltaSignature(repoPath: string, deltaId: string, signType: string | undefined, keys: string[], source: PublicKeySource | null): string {
  const name = parseDeltaName(deltaId);
  return verifyDeltaFile(path.join(repoPath, deltaSuperblockPath(name.from, name.to)), signType, keys, source);
}

/** The same check of a superblock file (or a delta directory holding one), as `apply-offline`
 *  with keys does before applying. */
export function verifyDeltaFile(superblockPath: string, signType: string | undefined, keys: string[], source: PublicKeySource | null): string {
  const engine = signEngine(signType ?? DEFAULT_SIGN_TYPE);
  for (const k of keys) engine.addPublicKey(k);
  if (source !== null) engine.loadPublicKeys(source);
  const file = fs.statSync(superblockPath, { throwIfNoEntry: false })?.isDirectory() ? path.join(superblockPath, 'superblock') : superblockPath;
  const signed = parseSigned(readSuperblockFile(file));
  if (signed === null) throw new OstreeError('EPERM', 'no signatures in static-delta');
  const sigs = signaturesIn(signed.signatures, engine.metadataKey);
  if (sigs === null) throw new OstreeError('EPERM', `no signature for '${engine.metadataKey}' in static-delta superblock`);
  return engine.verify(signed.superblock, sigs);
}
