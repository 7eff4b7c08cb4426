/**
 * OpenPGP keys as `gpg --with-colons --fixed-list-mode --list-keys` describes them: the primary
 * key, its subkeys and user IDs, with creation, expiry and revocation; and GPGME's split of a
 * user ID into name, comment and email. Lookup by key ID or fingerprint follows gpg's (a hex
 * ID matches the end of the primary key's or a subkey's fingerprint).
 */
export interface GpgSubkey { fingerprint: string; created: number; expires: number; revoked: boolean; expired: boolean; invalid: boolean }

export interface GpgUserId { uid: string; name: string; comment: string; email: string; revoked: boolean; invalid: boolean }

export interface GpgKey {
  /** subkeys[0] is the primary key, as in GPGME. */
  subkeys: GpgSubkey[];
  uids: GpgUserId[];
}

/** A colon listing field: C-style \xHH escapes undone. */
function unescape(field: string): string {
  return Buffer.from(field.replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

/** GPGME's split of `Name (Comment) <email>`. */
export function splitUserId(uid: string): { name: string; comment: string; email: string } {
  let rest = uid;
  let email = '';
  const m = /<([^>]*)>\s*$/.exec(rest);
  if (m) { email = m[1]!; rest = rest.slice(0, m.index); }
  let comment = '';
  const c = /\(([^)]*)\)\s*$/.exec(rest.trimEnd());
  if (c) { comment = c[1]!; rest = rest.trimEnd().slice(0, c.index); }
  return { name: rest.trim(), comment, email };
}

function subkeyFrom(f: string[]): GpgSubkey {
  const validity = f[1] ?? '';
  return {
    fingerprint: '', created: Number(f[5] || 0), expires: Number(f[6] || 0),
    revoked: validity === 'r', expired: validity === 'e', invalid: validity === 'i',
  };
}

/** Keys of a colon listing, in listing order. */
export function parseKeyListing(text: string): GpgKey[] {
  const keys: GpgKey[] = [];
  let current: GpgKey | null = null;
  let last: GpgSubkey | null = null;
  for (const line of text.split('\n')) {
    const f = line.split(':');
    switch (f[0]) {
      case 'pub':
        current = { subkeys: [], uids: [] };
        keys.push(current);
        last = subkeyFrom(f);
        current.subkeys.push(last);
        break;
      case 'sub':
        if (!current) break;
        last = subkeyFrom(f);
        current.subkeys.push(last);
        break;
      case 'fpr':
        if (last && last.fingerprint === '') last.fingerprint = (f[9] ?? '').toUpperCase();
        break;
      case 'uid': {
        if (!current) break;
        const uid = unescape(f[9] ?? '');
        current.uids.push({ uid, ...splitUserId(uid), revoked: f[1] === 'r', invalid: f[1] === 'i' });
        break;
      }
      default:
        break;
    }
  }
  return keys;
}

/** gpg's lookup of a key by hex key ID or fingerprint (optionally `0x`-prefixed). */
export function findKey(keys: GpgKey[], id: string): GpgKey | null {
  const want = id.replace(/^0x/i, '').toUpperCase();
  if (!/^[0-9A-F]{8,40}$/.test(want)) return null;
  return keys.find((k) => k.subkeys.some((s) => s.fingerprint.endsWith(want))) ?? null;
}

/** The key one of whose (sub)keys has this fingerprint. */
export function keyByFingerprint(keys: GpgKey[], fpr: string): GpgKey | null {
  const want = fpr.toUpperCase();
  return keys.find((k) => k.subkeys.some((s) => s.fingerprint === want)) ?? null;
}
