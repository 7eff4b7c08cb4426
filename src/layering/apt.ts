/**
 * Dependency resolution by the real apt-get, run outside the sandbox with its directories
 * pointed at this transaction (nothing of the running system's apt state is used or changed):
 *   Dir::Etc            the merge deployment's /etc/apt (its sources, keys, preferences),
 *   Dir::State::status  the base tree's dpkg status (what the base already has installed),
 *   Dir::State/Cache    the stateroot's /var/cache/apt-ostree (lists and downloaded .debs).
 * `install -s` says what would be installed; `install --download-only` fetches it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { mkdirp } from '../util/fs.js';
import { readDeb, type DebInfo } from './deb.js';
import { run, tail } from './exec.js';

export interface AptContext {
  /** The deployment's /etc/apt. */
  etcApt: string;
  /** The base tree's dpkg status file. */
  status: string;
  /** Persistent cache (lists, archives). */
  cacheDir: string;
  onLine?: (line: string) => void;
}

export interface Planned { name: string; version: string; arch: string; upgradesFrom: string | null }

function aptArgs(c: AptContext): string[] {
  const o = (k: string, v: string): string[] => ['-o', `${k}=${v}`];
  return [
    '-q', '-y',
    ...o('Dir::Etc', c.etcApt), ...o('Dir::State', path.join(c.cacheDir, 'state')),
    ...o('Dir::State::status', c.status), ...o('Dir::Cache', path.join(c.cacheDir, 'cache')),
    ...o('Dir::Log', path.join(c.cacheDir, 'log')), ...o('Debug::NoLocking', '1'),
    ...o('APT::Sandbox::User', 'root'), ...o('APT::Install-Recommends', 'false'),
  ];
}

function aptEnv(c: AptContext): NodeJS.ProcessEnv {
  // The host's own apt.conf must not leak in: the deployment's configuration is Dir::Etc's.
  const empty = path.join(c.cacheDir, 'apt.conf');
  if (!fs.existsSync(empty)) fs.writeFileSync(empty, '');
  return { ...process.env, APT_CONFIG: empty, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
}

function aptError(what: string, out: string): OstreeError {
  const missing = /Unable to locate package (\S+)/.exec(out) ?? /Package '?(\S+?)'? has no installation candidate/.exec(out);
  if (missing) return new OstreeError('ENOENT', `Packages not found: ${missing[1]} (not in the deployment's apt sources)`);
  if (/unmet dependencies|Unable to correct problems|held broken packages/.test(out)) {
    return new OstreeError('ESTATE', `Cannot satisfy the dependencies (${what}):\n  ${tail(out, 10)}`);
  }
  return new OstreeError('EIO', `${what} failed:\n  ${tail(out, 8)}`);
}

async function apt(c: AptContext, args: string[], what: string): Promise<string> {
  for (const d of ['state/lists/partial', 'cache/archives/partial', 'log']) mkdirp(path.join(c.cacheDir, d));
  const r = await run('apt-get', [...aptArgs(c), ...args], { env: aptEnv(c), timeoutMs: 900_000, ...(c.onLine ? { onLine: c.onLine } : {}) });
  if (r.code !== 0) throw aptError(what, `${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Refresh the package lists from the deployment's sources. */
export async function aptUpdate(c: AptContext): Promise<void> {
  await apt(c, ['update'], 'apt-get update');
}

/** apt's `Inst` lines: what `install` would add or upgrade. */
export function parseSimulation(out: string): { install: Planned[]; remove: string[] } {
  const install: Planned[] = [], remove: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^Inst (\S+?)(?::\S+)? (?:\[([^\]]*)\] )?\((\S+) .*\[([^\]]+)\]\)/.exec(line);
    if (m) { install.push({ name: m[1]!, version: m[3]!, arch: m[4]!, upgradesFrom: m[2] ?? null }); continue; }
    const r = /^Remv (\S+?)(?::\S+)? /.exec(line);
    if (r) remove.push(r[1]!);
  }
  return { install, remove };
}

/** `name_version_arch.deb` as apt names its downloads (`:` in the version as `%3a`). */
function archiveName(p: Planned): string {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.arch}.deb`;
}

/**
 * Resolve `names` (from the sources) plus the local .debs against the base, download what is
 * needed, and return every .deb to install (local ones as given).
 */
export async function resolveAndFetch(c: AptContext, names: string[], localDebs: DebInfo[]): Promise<{ plan: Planned[]; debs: DebInfo[] }> {
  const targets = [...names, ...localDebs.map((d) => path.resolve(d.path))];
  if (targets.length === 0) return { plan: [], debs: [] };
  const sim = parseSimulation(await apt(c, ['install', '-s', ...targets], 'Resolving packages'));
  if (sim.remove.length > 0) {
    throw new OstreeError('ESTATE', `Installing these packages would remove base packages: ${sim.remove.join(', ')} (use 'override remove' to remove base packages)`);
  }
  // file: sources are used in place (apt copies nothing for them): their paths come from --print-uris
  const local = new Map<string, string>();
  let remote = 0;
  for (const m of (await apt(c, ['install', '--print-uris', ...targets], 'Listing downloads')).matchAll(/^'([a-z0-9+]+):([^']+)' (\S+\.deb) /gm)) {
    if (m[1] === 'file') local.set(m[3]!, decodeURIComponent(m[2]!)); else remote++;
  }
  if (remote > 0) await apt(c, ['install', '--download-only', ...targets], 'Downloading packages');
  const byName = new Map(localDebs.map((d) => [d.name, d]));
  const debs: DebInfo[] = [];
  for (const p of sim.install) {
    const l = byName.get(p.name);
    if (l && l.version === p.version) { debs.push(l); continue; }
    const fetched = path.join(c.cacheDir, 'cache/archives', archiveName(p));
    const file = fs.existsSync(fetched) ? fetched : local.get(archiveName(p)) ?? fetched;
    if (!fs.existsSync(file)) throw new OstreeError('EIO', `apt-get did not download ${archiveName(p)}`);
    debs.push(await readDeb(file));
  }
  return { plan: sim.install, debs };
}
