/**
 * Checking OpenPGP detached signatures with gpg in a temporary home holding only the trusted
 * keys (keyrings.ts), and reading the verdict the way GPGME reads it: gpg's `--status-fd`
 * lines per signature (GOODSIG, EXPSIG, EXPKEYSIG, REVKEYSIG, BADSIG, ERRSIG, VALIDSIG), and the
 * signing key's user ID and expiry from a key listing of that home. Each signature gets the
 * attributes of upstream's OstreeGpgVerifyResult.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findKey, keyByFingerprint, parseKeyListing, type GpgKey } from './keys.js';
import { runGpg, withTempHome } from './home.js';
import type { KeyringSet } from './keyrings.js';

export interface GpgSignature {
  valid: boolean;
  sigExpired: boolean;
  keyExpired: boolean;
  keyRevoked: boolean;
  keyMissing: boolean;
  /** Fingerprint of the signing (sub)key (the long key ID when the key is missing). */
  fingerprint: string;
  /** The primary key's fingerprint ('' when the key is missing). */
  fingerprintPrimary: string;
  timestamp: number;
  expTimestamp: number;
  pubkeyAlgo: string;
  userName: string;
  userEmail: string;
  keyExpTimestamp: number;
  keyExpTimestampPrimary: number;
}

export interface GpgVerifyResult {
  signatures: GpgSignature[];
  /** The keys the verification knew (for lookups by key ID). */
  keys: GpgKey[];
}

/** GPGME's names of OpenPGP public key algorithms. */
const ALGO_NAMES: Record<string, string> = { 1: 'RSA', 2: 'RSA-E', 3: 'RSA-S', 16: 'ELG-E', 17: 'DSA', 18: 'ECDH', 19: 'ECDSA', 20: 'ELG', 22: 'EdDSA' };

type Verdict = 'good' | 'sigexpired' | 'keyexpired' | 'revoked' | 'bad' | 'missing' | 'error';

interface RawSignature { verdict: Verdict; fingerprint: string; primary: string; timestamp: number; expires: number; algo: string }

function gpgTime(field: string | undefined): number {
  if (field === undefined || field === '') return 0;
  if (/^\d+$/.test(field)) return Number(field);
  const t = Date.parse(field.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/, '$1-$2-$3T$4:$5:$6Z'));
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

const VERDICTS: Record<string, Verdict> = { GOODSIG: 'good', EXPSIG: 'sigexpired', EXPKEYSIG: 'keyexpired', REVKEYSIG: 'revoked', BADSIG: 'bad' };

/** One record per signature from gpg's status lines. */
export function parseVerifyStatus(text: string): RawSignature[] {
  const sigs: RawSignature[] = [];
  let cur: RawSignature | null = null;
  const fresh = (): RawSignature => { cur = { verdict: 'error', fingerprint: '', primary: '', timestamp: 0, expires: 0, algo: '' }; sigs.push(cur); return cur; };
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[0] !== '[GNUPG:]') continue;
    const kw = f[1]!;
    if (kw === 'NEWSIG') { fresh(); continue; }
    const verdict = VERDICTS[kw];
    if (verdict !== undefined) {
      const s: RawSignature = cur ?? fresh();
      s.verdict = verdict;
      s.fingerprint = f[2] ?? '';
    } else if (kw === 'ERRSIG') {
      const s: RawSignature = cur ?? fresh();
      s.verdict = f[7] === '9' ? 'missing' : 'error';
      s.fingerprint = f[8] && f[8] !== '-' ? f[8] : (f[2] ?? '');
      s.algo = ALGO_NAMES[f[3] ?? ''] ?? '[unknown name]';
      s.timestamp = gpgTime(f[6]);
    } else if (kw === 'VALIDSIG' && cur !== null) {
      const s: RawSignature = cur;
      s.fingerprint = f[2] ?? s.fingerprint;
      s.timestamp = gpgTime(f[4]);
      s.expires = gpgTime(f[5]);
      s.algo = ALGO_NAMES[f[8] ?? ''] ?? '[unknown name]';
      s.primary = f[11] ?? '';
    }
  }
  return sigs;
}

function describeSignature(raw: RawSignature, keys: GpgKey[]): GpgSignature {
  const key = raw.verdict === 'missing' ? null : keyByFingerprint(keys, raw.fingerprint) ?? findKey(keys, raw.fingerprint);
  const signing = key?.subkeys.find((s) => s.fingerprint === raw.fingerprint.toUpperCase());
  return {
    valid: raw.verdict === 'good',
    sigExpired: raw.verdict === 'sigexpired',
    keyExpired: raw.verdict === 'keyexpired',
    keyRevoked: raw.verdict === 'revoked',
    keyMissing: raw.verdict === 'missing',
    fingerprint: raw.fingerprint,
    fingerprintPrimary: key?.subkeys[0]?.fingerprint ?? '',
    timestamp: raw.timestamp,
    expTimestamp: raw.expires,
    pubkeyAlgo: raw.algo || '[unknown name]',
    userName: key?.uids[0]?.name ?? '[unknown name]',
    userEmail: key?.uids[0]?.email ?? '[unknown email]',
    keyExpTimestamp: signing?.expires ?? 0,
    keyExpTimestampPrimary: key?.subkeys[0]?.expires ?? 0,
  };
}

/** Fill a temporary home with the trusted keys. */
export async function loadKeys(home: string, set: KeyringSet): Promise<void> {
  fs.writeFileSync(path.join(home, 'pubring.gpg'), Buffer.concat(set.keyrings), { mode: 0o600 });
  for (const f of set.keyFiles) await runGpg(home, ['--import', f]);
}

/** The keys of a home, parsed from its colon listing. */
export async function listHomeKeys(home: string | null, ids: string[] = []): Promise<GpgKey[]> {
  const r = await runGpg(home, ['--with-colons', '--fixed-list-mode', '--list-keys', ...ids]);
  return parseKeyListing(r.stdout.toString('utf8'));
}

/** Verify `signatures` (concatenated detached signature packets) over `data` against `set`. */
export async function verifyDetached(data: Buffer, signatures: Buffer, set: KeyringSet): Promise<GpgVerifyResult> {
  return withTempHome(async (home) => {
    await loadKeys(home, set);
    const sigFile = path.join(home, 'signatures.sig');
    const dataFile = path.join(home, 'signed.data');
    fs.writeFileSync(sigFile, signatures);
    fs.writeFileSync(dataFile, data);
    const r = await runGpg(home, ['--status-fd', '1', '--verify', sigFile, dataFile]);
    const raw = parseVerifyStatus(r.stdout.toString('utf8'));
    const keys = await listHomeKeys(home);
    return { signatures: raw.map((s) => describeSignature(s, keys)), keys };
  });
}

/** Index of the signature made by the key `keyId` names (compared by primary key), or -1. */
export function lookupSignature(result: GpgVerifyResult, keyId: string): number {
  const key = findKey(result.keys, keyId);
  if (key === null) return -1;
  const primary = key.subkeys[0]!.fingerprint;
  return result.signatures.findIndex((s) => !s.keyMissing && s.fingerprintPrimary === primary);
}
