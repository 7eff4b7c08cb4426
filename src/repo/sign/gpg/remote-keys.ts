/**
 * A remote's GPG keys: `remote gpg-import` merges keys into REPO/NAME.trustedkeys.gpg (a
 * binary keyring, as upstream keeps it), and `remote gpg-list-keys` prints the keys a remote
 * (or, without one, the global keyrings) trusts, in upstream's layout with its WKD URLs.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../../errors.js';
import { writeFileAtomic } from '../../../util/fs.js';
import { remoteKeyringName } from '../../layout.js';
import { findRemote, type RemoteRepo } from '../../remotes.js';
import { cLocaleTime } from './describe.js';
import { runGpg, withTempHome } from './home.js';
import { gatherKeyrings } from './keyrings.js';
import { findKey, type GpgKey, type GpgSubkey } from './keys.js';
import { listHomeKeys, loadKeys } from './verify.js';

/** Keys of `source` (armored or binary OpenPGP data): all, or those `keyIds` name (each must exist). */
async function selectKeys(home: string, source: Buffer, keyIds: string[]): Promise<string[]> {
  fs.writeFileSync(path.join(home, 'pubring.gpg'), Buffer.alloc(0), { mode: 0o600 });
  if (source.length > 0) await runGpg(home, ['--import'], source);
  const keys = await listHomeKeys(home);
  if (keyIds.length === 0) return keys.map((k) => k.subkeys[0]!.fingerprint);
  return keyIds.map((id) => {
    const k = findKey(keys, id);
    if (k === null) throw new OstreeError('ENOENT', `GPG: Unable to find key "${id}": GPGME: End of file`);
    return k.subkeys[0]!.fingerprint;
  });
}

/** Import keys from `source` into the remote's keyring; how many were new to it. */
export async function importRemoteKeys(repo: RemoteRepo, remote: string, source: Buffer, keyIds: string[], fsync = true): Promise<number> {
  findRemote(repo, remote);
  return withTempHome((src) => withTempHome(async (dst) => {
    const fprs = await selectKeys(src, source, keyIds);
    const exported = fprs.length > 0 ? (await runGpg(src, ['--export', ...fprs])).stdout : Buffer.alloc(0);
    const keyringPath = path.join(repo.path, remoteKeyringName(remote));
    const pubring = path.join(dst, 'pubring.gpg');
    if (fs.existsSync(keyringPath)) fs.copyFileSync(keyringPath, pubring);
    else fs.writeFileSync(pubring, Buffer.alloc(0), { mode: 0o600 });
    let imported = 0;
    if (exported.length > 0) {
      const r = await runGpg(dst, ['--status-fd', '1', '--import'], exported);
      const res = /^\[GNUPG:\] IMPORT_RES (\d+) (\d+) (\d+)/m.exec(r.stdout.toString('utf8'));
      if (res === null) throw new OstreeError('EIO', `GPG: Unable to import keys: ${r.stderr.trim()}`);
      imported = Number(res[3]);
    }
    writeFileAtomic(keyringPath, fs.readFileSync(pubring), { mode: 0o644, sync: fsync });
    return imported;
  }));
}

/** The keys a remote trusts (null: the global keyrings). */
export async function listRemoteKeys(repo: RemoteRepo, remote: string | null): Promise<GpgKey[]> {
  const set = gatherKeyrings(repo, remote === null ? { none: true } : { remote }, { global: remote === null });
  return withTempHome(async (home) => {
    await loadKeys(home, set);
    return listHomeKeys(home);
  });
}

const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';

function zbase32(data: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of data) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) { out += ZBASE32[(value >>> (bits - 5)) & 31]; bits -= 5; }
  }
  if (bits > 0) out += ZBASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Web Key Directory URLs of an address (advanced and direct), or null for no/odd addresses. */
export function wkdUrls(email: string): { advanced: string; direct: string } | null {
  const parts = email.split('@');
  if (email === '' || parts.length !== 2) return null;
  const [local, domain] = parts as [string, string];
  const hash = zbase32(createHash('sha1').update(local.toLowerCase()).digest());
  const escaped = encodeURIComponent(local).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return {
    advanced: `https://openpgpkey.${domain}/.well-known/openpgpkey/${domain.toLowerCase()}/hu/${hash}?l=${escaped}`,
    direct: `https://${domain}/.well-known/openpgpkey/hu/${hash}?l=${escaped}`,
  };
}

function formatSubkey(s: GpgSubkey, primary: boolean): string {
  const ind = primary ? '  ' : '    ';
  let out = `${primary ? 'Key' : '  Subkey'}: ${s.fingerprint}${s.revoked ? ' (revoked)' : ''}${s.invalid ? ' (invalid)' : ''}\n`;
  out += `${ind}Created: ${cLocaleTime(s.created)}\n`;
  if (s.expires > 0) out += `${ind}${s.expired ? 'Expired' : 'Expires'}: ${cLocaleTime(s.expires)}\n`;
  return out;
}

/** One key as `remote gpg-list-keys` prints it. */
export function formatKey(k: GpgKey): string {
  let out = formatSubkey(k.subkeys[0]!, true);
  for (const u of k.uids) {
    out += `  UID: ${u.uid}${u.revoked ? ' (revoked)' : ''}${u.invalid ? ' (invalid)' : ''}\n`;
    const urls = wkdUrls(u.email);
    out += `  Advanced update URL: ${urls?.advanced ?? ''}\n  Direct update URL: ${urls?.direct ?? ''}\n`;
  }
  for (const s of k.subkeys.slice(1)) out += formatSubkey(s, false);
  return out;
}
