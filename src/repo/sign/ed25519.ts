/**
 * The `ed25519` signature engine with node:crypto, in libsodium's key formats as upstream: a
 * secret key is base64 of 64 bytes (seed || public key), a public key base64 of 32 bytes; a
 * signature is 64 bytes. Keys files hold one base64 key per line. Without explicit keys, the
 * verifier reads trusted.ed25519 and trusted.ed25519.d/* (and the revoked.* counterparts) in
 * /etc/ostree and /usr/share/ostree, or in one `basedir` instead.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import type { PublicKeySource, SignEngine } from './engine.js';
import { readKeyLines } from './keyfiles.js';

const SECRET_BYTES = 64;
const PUBLIC_BYTES = 32;
const SIGNATURE_BYTES = 64;
const SYSTEM_KEY_DIRS = ['/etc/ostree', '/usr/share/ostree'];
// DER prefixes that wrap a raw 32-byte seed (PKCS#8) or public key (SPKI) for node:crypto.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function decodeKey(text: string, size: number, what: string): Buffer {
  const b = Buffer.from(text, 'base64');
  if (b.length !== size) throw new OstreeError('EINVAL', `Incorrect ed25519 ${what} key`);
  return b;
}

export function publicKeyObject(raw: Buffer): crypto.KeyObject {
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export class Ed25519Sign implements SignEngine {
  readonly name = 'ed25519';
  readonly metadataKey = 'ostree.sign.ed25519';
  private secret: crypto.KeyObject | null = null;
  /** Newest first, as upstream (its list is prepended to). */
  private trusted: Buffer[] = [];
  private revoked: Buffer[] = [];

  private clear(): void { this.secret = null; this.trusted = []; this.revoked = []; }

  setSecretKey(key: string): void {
    this.clear();
    const seed = decodeKey(key, SECRET_BYTES, 'secret').subarray(0, 32);
    this.secret = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  }

  setPublicKey(key: string): void {
    this.clear();
    this.addPublicKey(key);
  }

  addPublicKey(key: string): void {
    const raw = decodeKey(key, PUBLIC_BYTES, 'public');
    if (!this.trusted.some((k) => k.equals(raw))) this.trusted.unshift(raw);
  }

  private addRevoked(key: string): void {
    const raw = decodeKey(key, PUBLIC_BYTES, 'revoked');
    if (!this.revoked.some((k) => k.equals(raw))) this.revoked.unshift(raw);
  }

  /** Add every valid key of a file; an error if it is not a regular file or holds none. */
  private loadFile(file: string, add: (k: string) => void): void {
    let added = 0;
    let firstError: unknown = null;
    for (const line of readKeyLines(file)) {
      try { add(line); added++; } catch (e) { firstError ??= e; }
    }
    if (added > 0) return;
    if (firstError !== null) throw firstError;
    throw new OstreeError('EINVAL', `signature: ed25519: no valid keys in file '${file}'`);
  }

  /** trusted.ed25519 and trusted.ed25519.d/* (or revoked.*) of each directory; true if any loaded. */
  private loadDirs(dirs: string[], kind: 'trusted' | 'revoked'): boolean {
    const files: string[] = [];
    for (const dir of dirs) {
      const base = path.join(dir, `${kind}.ed25519`);
      files.push(base);
      try { for (const n of fs.readdirSync(`${base}.d`)) files.push(path.join(`${base}.d`, n)); } catch { /* no such directory */ }
    }
    let loaded = false;
    const add = kind === 'trusted' ? (k: string) => this.addPublicKey(k) : (k: string) => this.addRevoked(k);
    for (const f of files) {
      try { this.loadFile(f, add); loaded = true; } catch { /* upstream skips unreadable or empty files */ }
    }
    return loaded;
  }

  loadPublicKeys(source: PublicKeySource): void {
    if (source.filename !== undefined) { this.loadFile(source.filename, (k) => this.addPublicKey(k)); return; }
    const dirs = source.basedir !== undefined ? [source.basedir] : SYSTEM_KEY_DIRS;
    if (!this.loadDirs(dirs, 'trusted')) throw new OstreeError('ENOENT', 'signature: ed25519: no keys loaded');
    this.loadDirs(dirs, 'revoked');
  }

  sign(data: Buffer): Buffer {
    if (this.secret === null) throw new OstreeError('EINVAL', 'Not able to sign: secret key is not set');
    return crypto.sign(null, data, this.secret);
  }

  verify(data: Buffer, signatures: Buffer[] | null): string {
    if (signatures === null) throw new OstreeError('EINVAL', 'ed25519: commit have no signatures of my type');
    if (this.trusted.length === 0) this.loadPublicKeys({});
    const failed: string[] = [];
    for (const sig of signatures) {
      if (sig.length !== SIGNATURE_BYTES) throw new OstreeError('EINVAL', `Invalid signature length of ${sig.length} bytes, expected ${SIGNATURE_BYTES}`);
      for (const pk of this.trusted) {
        if (this.revoked.some((r) => r.equals(pk))) continue;
        if (crypto.verify(null, data, publicKeyObject(pk), sig)) return `ed25519: Signature verified successfully with key '${pk.toString('hex')}'`;
        failed.push(`key '${pk.toString('hex')}'`);
      }
    }
    if (failed.length > 3) throw new OstreeError('EINVAL', `ed25519: Signature couldn't be verified; tried ${failed.length} keys`);
    if (failed.length > 0) throw new OstreeError('EINVAL', `ed25519: Signature couldn't be verified with: ${failed.join('; ')}`);
    throw new OstreeError('EINVAL', 'ed25519: no signatures found');
  }
}
