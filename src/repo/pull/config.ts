/**
 * Remotes as the repository configuration describes them: `[remote "NAME"]` groups of
 * REPO/config and, for a system repository, of `<sysroot>/etc/ostree/remotes.d/*.conf`
 * (upstream's add-remotes-config-dir), and what a remote's options mean for a pull (signature
 * policy, branches, TLS and the content URL).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../errors.js';
import { KeyFile } from '../../glib/keyfile.js';
import { Repo, validateRemoteName } from '../repo.js';
import { configPath, refsDir } from '../layout.js';
import type { FetcherOptions } from './transport.js';

export interface RemoteConfig {
  name: string;
  url: string;
  /** Every key of the `[remote "NAME"]` group (url included), in file order. */
  options: Map<string, string>;
  /** The file that defines it (REPO/config or a remotes.d/*.conf file). */
  file: string;
}

export interface RemoteLookupOptions {
  /** Sysroot whose `etc/ostree/remotes.d` holds system remotes (default: derived from a repo at
   *  `SYSROOT/ostree/repo`). */
  sysroot?: string;
}

export function parseBool(v: string, where: string): boolean {
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  throw new OstreeError('ECONFIG', `${where}: invalid boolean '${v}' (expected true or false)`);
}

/** Where system remotes live for this repo (`core.add-remotes-config-dir`), or null. */
export function remotesConfigDir(repo: Repo, opts: RemoteLookupOptions = {}): string | null {
  let sysroot = opts.sysroot;
  if (sysroot === undefined && repo.path.endsWith(`${path.sep}ostree${path.sep}repo`)) {
    sysroot = repo.path.slice(0, -'/ostree/repo'.length) || '/';
  }
  const explicit = repo.config.get('core', 'add-remotes-config-dir');
  const enabled = explicit === undefined ? sysroot !== undefined : parseBool(explicit, `${repo.path}/config: core.add-remotes-config-dir`);
  if (!enabled) return null;
  return path.join(sysroot ?? '/', 'etc/ostree/remotes.d');
}

const REMOTE_GROUP = /^remote "(.+)"$/;

function remotesOf(kf: KeyFile, file: string): RemoteConfig[] {
  const out: RemoteConfig[] = [];
  for (const g of kf.groupNames()) {
    const m = REMOTE_GROUP.exec(g);
    if (!m) continue;
    const options = new Map<string, string>();
    for (const k of kf.keys(g)) options.set(k, kf.get(g, k) ?? '');
    out.push({ name: m[1]!, url: options.get('url') ?? '', options, file });
  }
  return out;
}

/** The remotes.d files, in name order (none when the directory is missing). */
function remotesDFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort().map((n) => path.join(dir, n));
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return [];
    throw e;
  }
}

/** All remotes: the repo config's first, then remotes.d files in name order. */
export function listRemotes(repo: Repo, opts: RemoteLookupOptions = {}): RemoteConfig[] {
  const out = remotesOf(repo.config, configPath(repo.path));
  const dir = remotesConfigDir(repo, opts);
  if (dir === null) return out;
  for (const p of remotesDFiles(dir)) {
    let text: string;
    try { text = fs.readFileSync(p, 'utf8'); } catch (e) { if (isErrno(e, 'ENOENT')) continue; throw e; }
    for (const r of remotesOf(KeyFile.parse(text, p), p)) {
      const dup = out.find((o) => o.name === r.name);
      if (dup) throw new OstreeError('ECONFIG', `Multiple remotes exist with the same name '${r.name}' (${dup.file} and ${p}); remove one of them`);
      out.push(r);
    }
  }
  return out;
}

export function getRemote(repo: Repo, name: string, opts: RemoteLookupOptions = {}): RemoteConfig {
  const all = listRemotes(repo, opts);
  const r = all.find((x) => x.name === name);
  if (!r) throw new OstreeError('ENOENT', `Remote "${name}" not found (configured remotes: ${all.map((x) => x.name).join(', ') || 'none'}; add one with 'ostree remote add')`);
  if (r.url === '') throw new OstreeError('ECONFIG', `Remote "${name}" in ${r.file} has no url= key`);
  return r;
}

/** `ostree remote add`: written to the repo config (EEXIST unless ifNotExists). */
export async function addRemote(repo: Repo, name: string, url: string, options: Array<[string, string]> = [], opts: RemoteLookupOptions & { ifNotExists?: boolean } = {}): Promise<void> {
  validateRemoteName(name);
  if (url === '') throw new OstreeError('EINVAL', `empty URL for remote "${name}"`);
  const existing = listRemotes(repo, opts).find((x) => x.name === name);
  if (existing) {
    if (opts.ifNotExists) return;
    throw new OstreeError('EEXIST', `Remote configuration for "${name}" already exists: (in ${existing.file === configPath(repo.path) ? 'config' : existing.file})`);
  }
  const group = `remote "${name}"`;
  repo.config.set(group, 'url', url);
  for (const [k, v] of options) repo.config.set(group, k, v);
  await repo.saveConfig();
}

/** `ostree remote delete`: removes the group (from the repo config or its remotes.d file) and
 *  the remote's refs (refs/remotes/NAME), as upstream. */
export async function deleteRemote(repo: Repo, name: string, opts: RemoteLookupOptions & { ifExists?: boolean } = {}): Promise<void> {
  validateRemoteName(name);
  const r = listRemotes(repo, opts).find((x) => x.name === name);
  if (!r) {
    if (opts.ifExists) return;
    throw new OstreeError('ENOENT', `Remote "${name}" not found`);
  }
  const group = `remote "${name}"`;
  if (r.file === configPath(repo.path)) {
    repo.config.removeGroup(group);
    await repo.saveConfig();
  } else {
    const kf = KeyFile.parse(fs.readFileSync(r.file, 'utf8'), r.file);
    kf.removeGroup(group);
    if (kf.groupNames().length === 0) fs.unlinkSync(r.file);
    else {
      const tmp = `${r.file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, kf.toString(), { mode: 0o644 });
      fs.renameSync(tmp, r.file);
    }
  }
  fs.rmSync(path.join(refsDir(repo.path, 'remotes'), name), { recursive: true, force: true });
}

/** Refuse remotes that require signature verification (not implemented here). */
export function checkVerificationSupported(r: RemoteConfig): void {
  const where = `remote "${r.name}" (${r.file})`;
  const gpg = r.options.get('gpg-verify');
  if (gpg === undefined || parseBool(gpg, `${where}: gpg-verify`)) {
    throw new OstreeError('ECONFIG', `Remote "${r.name}" requires GPG verification (gpg-verify=${gpg ?? 'true, the default'}), which this implementation does not support; `
      + `if you trust the transport, set gpg-verify=false for the remote (ostree config set 'remote "${r.name}".gpg-verify' false, or add it with 'ostree remote add --no-gpg-verify')`);
  }
  checkSummaryVerificationSupported(r);
  const sign = r.options.get('sign-verify');
  if (sign !== undefined && sign !== 'false') {
    throw new OstreeError('ECONFIG', `Remote "${r.name}" requires signature verification (sign-verify=${sign}), which this implementation does not support; set sign-verify=false for it`);
  }
}

/** Refuse a remote whose summary must be signed (`gpg-verify-summary=true`). */
export function checkSummaryVerificationSupported(r: RemoteConfig): void {
  const gpgSummary = r.options.get('gpg-verify-summary');
  if (gpgSummary !== undefined && parseBool(gpgSummary, `remote "${r.name}" (${r.file}): gpg-verify-summary`)) {
    throw new OstreeError('ECONFIG', `Remote "${r.name}" requires GPG verification of the summary (gpg-verify-summary=true), which this implementation does not support; set gpg-verify-summary=false for it`);
  }
}

/** The remote's configured `branches=` (a `;`-separated list). */
export function remoteBranches(r: RemoteConfig): string[] {
  return (r.options.get('branches') ?? '').split(';').map((s) => s.trim()).filter((s) => s !== '');
}

export type RemoteUrlKind = 'file' | 'http';

/** What a remote URL names: a local repository (file://) or an HTTP one (http(s)://, mirrorlist=). */
export function remoteUrlKind(remoteName: string, url: string): RemoteUrlKind {
  if (url.startsWith('file://')) return 'file';
  if (/^(https?:\/\/|mirrorlist=)/.test(url)) return 'http';
  throw new OstreeError('EINVAL', `Remote "${remoteName}" has unsupported URL '${url}' (expected file://, http:// or https:// or mirrorlist=http(s)://)`);
}

/** The local path of a `file://` URL. */
export function fileUrlPath(url: string): string {
  return decodeURIComponent(new URL(url).pathname);
}

/** HTTP client options from the remote's TLS keys (and a refusal of proxy=, not supported). */
export function remoteFetcherOptions(r: RemoteConfig, base: FetcherOptions): FetcherOptions {
  if (r.options.get('proxy')) throw new OstreeError('EINVAL', `Remote "${r.name}" sets proxy=, which this implementation does not support`);
  const fo: FetcherOptions = { ...base };
  const permissive = r.options.get('tls-permissive');
  if (permissive !== undefined && parseBool(permissive, `remote "${r.name}": tls-permissive`)) fo.tlsPermissive = true;
  const ca = r.options.get('tls-ca-path'); if (ca) fo.tlsCaPath = ca;
  const cert = r.options.get('tls-client-cert-path'); if (cert) fo.tlsClientCertPath = cert;
  const key = r.options.get('tls-client-key-path'); if (key) fo.tlsClientKeyPath = key;
  return fo;
}
