/**
 * Which OpenPGP keys a verification trusts, as upstream gathers them
 * (_ostree_repo_gpg_prepare_verifier): for a remote, its keyring REPO/NAME.trustedkeys.gpg (or
 * the same name in remotes.d) and the files of its `gpgkeypath`; for an already pulled commit,
 * every `*.gpg` keyring in the repository; unless a remote has its own keyring, the global
 * keyrings in $OSTREE_GPG_HOME or /usr/share/ostree/trusted.gpg.d; plus a `--gpg-homedir`.
 * Binary keyrings are concatenated into the temporary home's pubring.gpg; armored key files
 * are imported with gpg.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../../errors.js';
import { remoteKeyringName } from '../../layout.js';
import { findRemote, remotesConfigDir, type RemoteConfig, type RemoteRepo } from '../../remotes.js';
import { KEY_FILE_MAX } from '../keyfiles.js';
import { readFileBounded } from '../../../util/fs.js';

export const GLOBAL_KEYRING_DIR = '/usr/share/ostree/trusted.gpg.d/';

export interface KeyringSet {
  /** Binary keyrings (OpenPGP packets), concatenated into pubring.gpg. */
  keyrings: Buffer[];
  /** Key files (armored or binary) imported one by one. */
  keyFiles: string[];
}

/** Whose keys: one remote's, every remote's (an already pulled commit), or none but the extras. */
export type KeyringScope = { remote: string | RemoteConfig } | { allRemotes: true } | { none: true };

export interface KeyringOptions {
  /** `--gpg-homedir`: its *.gpg keyrings are added. */
  keyringDir?: string;
  /** Whether the global keyrings apply (upstream: yes, unless the remote has its own keyring). */
  global?: boolean;
}

function readKeyring(p: string): Buffer | null {
  return readFileBounded(p, KEY_FILE_MAX, { what: 'GPG keyring', code: 'ECONFIG' });
}

/** The `*.gpg` keyrings of a directory (not trustdb.gpg nor secring.gpg), in directory order. */
export function keyringsInDir(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!d.isFile() || !d.name.endsWith('.gpg') || d.name === 'trustdb.gpg' || d.name === 'secring.gpg') continue;
    const data = readKeyring(path.join(dir, d.name));
    if (data !== null) out.push(data);
  }
  return out;
}

/** A remote's own keyring, in the repository or in remotes.d (the one defining it, else the repo's). */
export function remoteKeyring(repo: RemoteRepo, remote: RemoteConfig): Buffer | null {
  const name = remoteKeyringName(remote.name);
  const own = readKeyring(path.join(repo.path, name));
  if (own !== null) return own;
  const dir = path.basename(remote.file).endsWith('.conf') ? path.dirname(remote.file) : remotesConfigDir(repo);
  return dir === null ? null : readKeyring(path.join(dir, name));
}

/** `gpgkeypath`: a list split on ';' or ',' (not both, as upstream). */
export function splitKeyPathList(value: string): string[] {
  const seps = [';', ','].filter((s) => value.includes(s));
  if (seps.length > 1) throw new OstreeError('ECONFIG', 'key value list contains more than one separator');
  if (seps.length === 0) return [value];
  const parts = value.split(seps[0]!);
  if (parts[parts.length - 1] === '') parts.pop(); // GKeyFile ignores a trailing separator
  return parts;
}

/** A gpgkeypath entry: the regular files of a directory, or the file itself. */
function keyPathFiles(p: string): string[] {
  try {
    return fs.readdirSync(p, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(p, d.name));
  } catch (e) {
    if (isErrno(e, 'ENOTDIR')) return [p];
    const reason = isErrno(e, 'ENOENT') ? 'No such file or directory' : (e as Error).message;
    throw new OstreeError('ECONFIG', `opendir(${p}): ${reason}`, { cause: e });
  }
}

function globalKeyrings(): Buffer[] {
  const dir = process.env['OSTREE_GPG_HOME'] ?? GLOBAL_KEYRING_DIR;
  let st: fs.Stats | undefined;
  try { st = fs.statSync(dir); } catch { return []; }
  if (!st.isDirectory()) return [];
  try { return keyringsInDir(dir); } catch (e) {
    throw new OstreeError('ECONFIG', `Reading keyring directory '${dir}': ${(e as Error).message}`, { cause: e });
  }
}

/** The keys that apply for `scope` (see the file comment). */
export function gatherKeyrings(repo: RemoteRepo, scope: KeyringScope, opts: KeyringOptions = {}): KeyringSet {
  const set: KeyringSet = { keyrings: [], keyFiles: [] };
  let global = opts.global ?? true;
  if ('allRemotes' in scope) {
    set.keyrings.push(...keyringsInDir(repo.path));
  } else if ('remote' in scope) {
    const remote = typeof scope.remote === 'string' ? findRemote(repo, scope.remote) : scope.remote;
    const own = remoteKeyring(repo, remote);
    if (own !== null) { set.keyrings.push(own); global = false; }
    const keyPath = remote.options.get('gpgkeypath');
    if (keyPath !== undefined) for (const p of splitKeyPathList(keyPath)) set.keyFiles.push(...keyPathFiles(p));
  }
  if (global) set.keyrings.push(...globalKeyrings());
  if (opts.keyringDir !== undefined) set.keyrings.push(...keyringsInDir(opts.keyringDir));
  return set;
}
