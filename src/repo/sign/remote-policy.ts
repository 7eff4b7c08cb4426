/**
 * What a remote demands of the commits pulled from it, as upstream decides it: GPG signatures
 * when `gpg-verify` is true (the default), checked against the remote's keys; signatures of the
 * engines `sign-verify` names (true: any engine with keys configured), checked against the keys
 * of `verification-NAME-key` / `verification-NAME-file`. A commit that fails is refused with
 * upstream's error before it is stored, so no ref moves.
 */
import { OstreeError } from '../../errors.js';
import { parseCommitMeta } from '../objects/commitmeta.js';
import { parseBool, type RemoteConfig, type RemoteRepo } from '../remotes.js';
import { signaturesIn, type Metadata } from './detached.js';
import type { SignEngine } from './engine.js';
import { requireValidSignature } from './gpg/describe.js';
import { gpgVerifyWithMetadata, noGpgSignatures } from './gpg/commit.js';
import { allSignEngines, signEngine } from './registry.js';

/** Load an engine's public keys from the remote's options; false when it has none configured. */
function loadRemoteKeys(engine: SignEngine, r: RemoteConfig, required: boolean): void {
  const file = r.options.get(`verification-${engine.name}-file`);
  const inline = r.options.get(`verification-${engine.name}-key`);
  if (file === undefined && inline === undefined) {
    if (required) throw new OstreeError('ECONFIG', `No keys found for required signapi type ${engine.name}`);
    return;
  }
  if (file !== undefined) {
    try { engine.loadPublicKeys({ filename: file }); } catch (e) {
      throw new OstreeError('ECONFIG', `Failed loading '${engine.name}' keys from '${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (inline !== undefined) {
    try { engine.addPublicKey(inline); } catch (e) {
      throw new OstreeError('ECONFIG', `Failed loading '${engine.name}' keys from inline \`verification-key\`: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** The engines `key` (sign-verify or sign-verify-summary) asks for, keys loaded; null: none. */
export function signVerifiersFor(r: RemoteConfig, key: string): SignEngine[] | null {
  const raw = r.options.get(key);
  if (raw === undefined || raw === '') return null;
  if (['true', '1', 'false', '0'].includes(raw)) {
    if (raw === 'false' || raw === '0') return null;
    const engines = allSignEngines();
    for (const e of engines) loadRemoteKeys(e, r, false);
    return engines;
  }
  const names = raw.split(/[;,]/).map((s) => s.trim()).filter((s) => s !== '');
  return names.map((n) => { const e = signEngine(n); loadRemoteKeys(e, r, true); return e; });
}

/** Upstream's _sign_verify_for_remote: the first valid signature of any engine wins. */
export function verifyWithEngines(engines: SignEngine[], data: Buffer, meta: Metadata): string {
  let firstError: unknown = null;
  let invalid = 0;
  for (const engine of engines) {
    const sigs = signaturesIn(meta, engine.metadataKey);
    if (sigs === null) continue;
    try { return engine.verify(data, sigs); } catch (e) { invalid++; firstError ??= e; }
  }
  if (firstError === null) throw new OstreeError('EPERM', 'No signatures found');
  const msg = (firstError as Error).message;
  throw new OstreeError('EPERM', invalid > 1 ? `(${invalid - 1} other invalid signatures): ${msg}` : msg, { cause: firstError });
}

export interface CommitVerifier {
  /** Throws unless the commit (its object's bytes, its detached metadata as fetched) is acceptable. */
  verify(checksum: string, data: Buffer, detached: Buffer | null): Promise<void>;
}

export interface VerifyOverrides {
  /** Overrides the remote's gpg-verify. */
  gpgVerify?: boolean;
  /** false: skip sign-verify (`--no-sign-verify`, pull-local). */
  signVerify?: boolean;
}

/** Remote `r`'s gpg-verify (default true). */
export function gpgVerifyOption(r: RemoteConfig): boolean {
  const v = r.options.get('gpg-verify');
  return v === undefined ? true : parseBool(v, `remote "${r.name}" (${r.file}): gpg-verify`);
}

/** The commit verifier of remote `r`, or null when it demands nothing. */
export function commitVerifierFor(repo: RemoteRepo, r: RemoteConfig, o: VerifyOverrides = {}): CommitVerifier | null {
  const gpg = o.gpgVerify ?? gpgVerifyOption(r);
  const engines = o.signVerify === false ? null : signVerifiersFor(r, 'sign-verify');
  if (!gpg && engines === null) return null;
  return {
    async verify(checksum, data, detached): Promise<void> {
      const meta = detached === null ? null : parseCommitMeta(detached, `${checksum}.commitmeta`);
      if (gpg) {
        try {
          const result = await gpgVerifyWithMetadata(repo, data, meta, { remote: r });
          if (result === null) throw noGpgSignatures();
          requireValidSignature(result);
        } catch (e) {
          throw new OstreeError('EPERM', `Commit ${checksum}: ${(e as Error).message}`, { cause: e });
        }
      }
      if (engines !== null) {
        if (meta === null) throw new OstreeError('EPERM', "Can't verify commit without detached metadata");
        try { verifyWithEngines(engines, data, meta); } catch (e) {
          throw new OstreeError('EPERM', `Can't verify commit: ${(e as Error).message}`, { cause: e });
        }
      }
    },
  };
}

