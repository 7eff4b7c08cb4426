/**
 * Upstream's text for GPG verification results (ostree_gpg_verify_result_describe, modelled on
 * gpg's own output): "Signature made ... using ALGO key ID ...", then Good/BAD/Expired
 * signature, key missing or revoked, the primary key ID for a subkey, and expiry lines; dates
 * in `%c` of the C locale in local time. Also the error a pull or deploy raises when no
 * signature is valid (ostree_gpg_verify_result_require_valid_signature).
 */
import { OstreeError } from '../../../errors.js';
import type { GpgSignature, GpgVerifyResult } from './verify.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `%c` of the C locale, local time: `Sun Dec  6 07:19:18 2026`. */
export function cLocaleTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, '\u2007')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

const keyId = (fpr: string): string => (fpr.length > 16 ? fpr.slice(-16) : fpr);

function expireLine(prefix: string, what: string, ts: number, expired: boolean): string {
  return `${prefix}${what} ${expired ? 'expired' : 'expires'} ${cLocaleTime(ts)}\n`;
}

/** One signature as upstream describes it, each line starting with `prefix`. */
export function describeSignature(s: GpgSignature, prefix = ''): string {
  let out = `${prefix}Signature made ${cLocaleTime(s.timestamp)} using ${s.pubkeyAlgo} key ID ${keyId(s.fingerprint)}\n${prefix}`;
  const who = `"${s.userName} <${s.userEmail}>"`;
  if (s.keyMissing) out += "Can't check signature: public key not found\n";
  else if (s.valid) out += `Good signature from ${who}\n`;
  else if (s.keyRevoked) out += 'Key revoked\n';
  else if (s.sigExpired) out += `Expired signature from ${who}\n`;
  else out += `BAD signature from ${who}\n`;
  const subkey = s.fingerprint !== s.fingerprintPrimary;
  if (!s.keyMissing && subkey) out += `${prefix}Primary key ID ${keyId(s.fingerprintPrimary)}\n`;
  if (s.expTimestamp > 0) out += expireLine(prefix, 'Signature', s.expTimestamp, s.sigExpired);
  if (s.keyExpTimestamp > 0) out += expireLine(prefix, 'Key', s.keyExpTimestamp, s.keyExpired);
  if (s.keyExpTimestampPrimary > 0 && subkey) out += expireLine(prefix, 'Primary key', s.keyExpTimestampPrimary, s.keyExpired);
  return out;
}

export function countValid(r: GpgVerifyResult): number {
  return r.signatures.filter((s) => s.valid).length;
}

/** Throws upstream's error (every signature described, newest first) unless one is valid. */
export function requireValidSignature(r: GpgVerifyResult): void {
  if (countValid(r) > 0) return;
  if (r.signatures.length === 0) throw new OstreeError('EPERM', 'No GPG signatures found');
  const text = [...r.signatures].reverse().map((s) => describeSignature(s)).join('');
  throw new OstreeError('EPERM', text.replace(/\s+$/, ''));
}

/** `show`'s block: "Found N signature(s):" and each signature indented. */
export function describeResult(r: GpgVerifyResult): string {
  const n = r.signatures.length;
  return `Found ${n} signature${n === 1 ? '' : 's'}:\n` + r.signatures.map((s) => `\n${describeSignature(s, '  ')}`).join('');
}
