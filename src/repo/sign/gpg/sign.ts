/**
 * Making OpenPGP signatures: a binary detached signature of the data by the secret key `keyId`
 * names in the GnuPG home `homedir` (default: GnuPG's own), as upstream's sign_data. gpg
 * chooses the signing subkey as it does for `--local-user`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../../errors.js';
import { runGpg, withTempHome } from './home.js';
import { findKey, parseKeyListing } from './keys.js';

export async function gpgSignData(data: Buffer, keyId: string, homedir: string | null): Promise<Buffer> {
  const where = homedir ?? '<default>';
  const secret = await runGpg(homedir, ['--with-colons', '--fixed-list-mode', '--list-secret-keys']);
  // gpg lists secret keys as sec/ssb records: read them as a key listing
  const listing = secret.stdout.toString('utf8').replace(/^sec:/gm, 'pub:').replace(/^ssb:/gm, 'sub:');
  const keys = parseKeyListing(listing);
  if (findKey(keys, keyId) === null) throw new OstreeError('ENOENT', `No gpg key found with ID ${keyId} (homedir: ${where})`);
  return withTempHome(async (scratch) => {
    const out = path.join(scratch, 'signature.sig');
    const r = await runGpg(homedir, ['--detach-sign', '--local-user', keyId, '--output', out], data);
    if (r.exitCode !== 0 || !fs.existsSync(out)) {
      throw new OstreeError('EIO', `Failure signing commit file: ${r.stderr.trim() || `gpg exited with status ${r.exitCode}`}`);
    }
    return fs.readFileSync(out);
  });
}
