/**
 * Remotes: `[remote "NAME"]` groups in REPO/config and, for a system repository, in
 * SYSROOT/etc/ostree/remotes.d/*.conf (upstream's core.add-remotes-config-dir). The one
 * implementation of remote add / delete / list / get-url, with one set of checks: a remote name
 * is one ref component (no '/', '..', NUL, newline, nor empty), option keys are plain key
 * names, and no URL or value holds a NUL or line break (which would forge other keys).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import { KeyFile } from '../glib/keyfile.js';
import { readKeyFileText, writeKeyFile } from './config.js';
import { configPath, refsDir, remoteKeyringName } from './layout.js';
import { validateRemoteName } from './refs.js';

export { validateRemoteName };

/** What the remote functions need of a repository (Repo has it). */
export interface RemoteRepo {
  readonly path: string;
  config: KeyFile;
  saveConfig(): Promise<void>;
}

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

const REMOTE_GROUP = /^remote "(.+)"$/;
const OPTION_KEY = /^[A-Za-z0-9][-._A-Za-z0-9@]*$/;
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** A remote option key must be a plain key name; its value a single line without NUL. */
export function validateRemoteOption(remote: string, key: string, value: string): void {
  if (!OPTION_KEY.test(key) || key.includes('..')) {
    throw new OstreeError('EINVAL', `invalid option name ${JSON.stringify(key)} for remote "${remote}" (letters, digits, '-', '.', '_', '@')`);
  }
  if (CONTROL.test(value)) throw new OstreeError('EINVAL', `invalid value for option ${key} of remote "${remote}": it contains a line break or control character`);
}

export function validateRemoteUrl(remote: string, url: string): void {
  if (url === '') throw new OstreeError('EINVAL', `empty URL for remote "${remote}"`);
  if (CONTROL.test(url)) throw new OstreeError('EINVAL', `invalid URL for remote "${remote}": it contains a line break or control character`);
}

export function parseBool(v: string, where: string): boolean {
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  throw new OstreeError('ECONFIG', `${where}: invalid boolean '${v}' (expected true or false)`);
}

/**
 * A physical sysroot (the disk's root, seen from outside any deployment) keeps its remotes in
 * the repo config; a deployment's root (it has `/sysroot`, or is the booted `/`) keeps them in
 * its /etc/ostree/remotes.d, as upstream decides for `remote add --sysroot`.
 */
function isPhysicalSysroot(sysroot: string): boolean {
  if (path.resolve(sysroot) === '/' && fs.existsSync('/run/ostree-booted')) return false;
  try { fs.lstatSync(path.join(sysroot, 'sysroot')); return false; } catch { return true; }
}

/** Where system remotes live for this repo (`core.add-remotes-config-dir`), or null. */
export function remotesConfigDir(repo: RemoteRepo, opts: RemoteLookupOptions = {}): string | null {
  let sysroot = opts.sysroot;
  if (sysroot === undefined && repo.path.endsWith(`${path.sep}ostree${path.sep}repo`)) {
    sysroot = repo.path.slice(0, -'/ostree/repo'.length) || '/';
  }
  const explicit = repo.config.get('core', 'add-remotes-config-dir');
  const enabled = explicit === undefined
    ? sysroot !== undefined && !isPhysicalSysroot(sysroot)
    : parseBool(explicit, `${repo.path}/config: core.add-remotes-config-dir`);
  if (!enabled) return null;
  return path.join(sysroot ?? '/', 'etc/ostree/remotes.d');
}

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

/** All remotes: the repo config's first, then remotes.d files in name order; with `inherit`,
 *  then those of the parent repositories (`core.parent`) not shadowed, as upstream's lookups. */
export function listRemotes(repo: RemoteRepo, opts: RemoteLookupOptions & { inherit?: boolean } = {}): RemoteConfig[] {
  const out = remotesOf(repo.config, configPath(repo.path));
  const dir = remotesConfigDir(repo, opts);
  if (dir !== null) {
    let names: string[] = [];
    try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort(); } catch (e) { if (!isErrno(e, 'ENOENT') && !isErrno(e, 'ENOTDIR')) throw e; }
    for (const n of names) {
      const p = path.join(dir, n);
      const text = readKeyFileText(p);
      if (text === null) continue;
      for (const r of remotesOf(KeyFile.parse(text, p), p)) {
        const dup = out.find((o) => o.name === r.name);
        if (dup) throw new OstreeError('ECONFIG', `Multiple remotes exist with the same name '${r.name}' (${dup.file} and ${p}); remove one of them`);
        out.push(r);
      }
    }
  }
  if (opts.inherit) {
    for (const r of parentRemotes(repo)) if (!out.some((o) => o.name === r.name)) out.push(r);
  }
  return out;
}

/** A chain of `core.parent` repositories longer than this is refused (it is a loop). */
const MAX_PARENT_DEPTH = 16;

/** The remotes of the parent repositories (`core.parent`), nearest first. */
function parentRemotes(repo: RemoteRepo): RemoteConfig[] {
  const out: RemoteConfig[] = [];
  let parent = repo.config.get('core', 'parent');
  for (let depth = 0; parent !== undefined && parent !== ''; depth++) {
    if (depth >= MAX_PARENT_DEPTH) throw new OstreeError('ECONFIG', `${repo.path}/config: core.parent chain is longer than ${MAX_PARENT_DEPTH} repositories (a loop?)`);
    const text = readKeyFileText(configPath(parent));
    if (text === null) throw new OstreeError('ENOENT', `parent repository '${parent}' (core.parent of ${repo.path}) has no config`);
    const kf = KeyFile.parse(text, configPath(parent));
    out.push(...remotesOf(kf, configPath(parent)));
    parent = kf.get('core', 'parent');
  }
  return out;
}

/** The remote `name`, with or without a url (ENOENT naming the configured ones if there is none). */
export function findRemote(repo: RemoteRepo, name: string, opts: RemoteLookupOptions = {}): RemoteConfig {
  // as upstream's lookups (ostree_repo_get_remote_inherited): a parent repository's remotes count
  const all = listRemotes(repo, { ...opts, inherit: true });
  const r = all.find((x) => x.name === name);
  if (!r) throw new OstreeError('ENOENT', `Remote "${name}" not found (configured remotes: ${all.map((x) => x.name).join(', ') || 'none'}; add one with 'ostree remote add')`);
  return r;
}

/** The remote `name` (ENOENT naming the configured ones if there is none; ECONFIG without url). */
export function getRemote(repo: RemoteRepo, name: string, opts: RemoteLookupOptions = {}): RemoteConfig {
  const r = findRemote(repo, name, opts);
  if (r.url === '') throw new OstreeError('ECONFIG', `No "url" option in remote "${name}" (${r.file})`);
  return r;
}

/** `ostree remote show-url`. */
export function remoteUrl(repo: RemoteRepo, name: string, opts: RemoteLookupOptions = {}): string {
  return getRemote(repo, name, opts).url;
}

/** The remote's configured `branches=` (a `;`-separated list). */
export function remoteBranches(r: RemoteConfig): string[] {
  return (r.options.get('branches') ?? '').split(';').map((s) => s.trim()).filter((s) => s !== '');
}

export interface AddRemoteOptions extends RemoteLookupOptions {
  /** An existing remote of that name is kept as it is (`--if-not-exists`). */
  ifNotExists?: boolean;
  /** An existing remote of that name is replaced, group and all, where it is defined (`--force`). */
  replace?: boolean;
}

/** Write group `group` of `kf` into key file `file` (created if missing), as the only change. */
function writeGroupTo(file: string, group: string, pairs: Array<[string, string]>, sync: boolean): void {
  const kf = KeyFile.parse(readKeyFileText(file) ?? '', file);
  kf.removeGroup(group);
  for (const [k, v] of pairs) kf.set(group, k, v);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  writeKeyFile(file, kf, sync);
}

/**
 * `ostree remote add`: `url` then the options, in the order given. A new remote goes to the
 * repo config, or to SYSROOT/etc/ostree/remotes.d/NAME.conf when a sysroot is given and its
 * remotes.d is in use (upstream's add-remotes-config-dir). EEXIST when it exists, unless
 * `ifNotExists` (nothing changes) or `replace` (its group is rewritten in the file defining it).
 */
export async function addRemote(
  repo: RemoteRepo, name: string, url: string | null, options: Array<[string, string]> | Record<string, string> = [],
  opts: AddRemoteOptions = {},
): Promise<void> {
  validateRemoteName(name);
  const pairs = Array.isArray(options) ? options : Object.entries(options);
  if (url !== null) validateRemoteUrl(name, url);
  else if (!pairs.some(([k]) => k === 'custom-backend')) throw new OstreeError('EINVAL', `remote "${name}" needs a URL (only a custom-backend remote may have none)`);
  for (const [k, v] of pairs) validateRemoteOption(name, k, v);
  if (pairs.some(([k]) => k === 'url')) throw new OstreeError('EINVAL', `the URL of remote "${name}" is given as an argument, not as an option`);
  const existing = listRemotes(repo, opts).find((x) => x.name === name);
  if (existing && opts.ifNotExists) return;
  if (existing && !opts.replace) {
    throw new OstreeError('EEXIST', `Remote configuration for "${name}" already exists: ${existing.file === configPath(repo.path) ? '(in config)' : existing.file}`);
  }
  const group = `remote "${name}"`;
  const all: Array<[string, string]> = [...(url !== null ? [['url', url] as [string, string]] : []), ...pairs];
  const dir = opts.sysroot !== undefined ? remotesConfigDir(repo, opts) : null;
  const file = existing?.file ?? (dir !== null ? path.join(dir, `${name}.conf`) : configPath(repo.path));
  if (file !== configPath(repo.path)) { writeGroupTo(file, group, all, repo.config.getBoolean('core', 'fsync', true)); return; }
  const saved = repo.config.clone();
  repo.config.removeGroup(group);
  for (const [k, v] of all) repo.config.set(group, k, v);
  try {
    await repo.saveConfig();
  } catch (e) {
    repo.config = saved;
    throw e;
  }
}

/** `ostree remote delete`: removes the group (from the repo config or its remotes.d file) and
 *  the remote's refs (refs/remotes/NAME), as upstream. */
export async function removeRemote(repo: RemoteRepo, name: string, opts: RemoteLookupOptions & { ifExists?: boolean } = {}): Promise<void> {
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
    const kf = KeyFile.parse(readKeyFileText(r.file) ?? '', r.file);
    kf.removeGroup(group);
    if (kf.groupNames().length === 0) fs.unlinkSync(r.file);
    else writeKeyFile(r.file, kf, repo.config.getBoolean('core', 'fsync', true));
  }
  fs.rmSync(path.join(refsDir(repo.path, 'remotes'), name), { recursive: true, force: true });
  fs.rmSync(path.join(repo.path, remoteKeyringName(name)), { force: true }); // its GPG keys go with it, as upstream
}
