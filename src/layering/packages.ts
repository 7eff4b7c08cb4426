/**
 * The package list of a tree: parsed from the dpkg status file (the tree's own database under
 * /usr, names.ts), or read from a layered commit's metadata (no checkout needed), and the
 * rpm-ostree-style difference between two lists (Upgraded / Downgraded / Removed / Added).
 */
import { OstreeError } from '../errors.js';
import type { Repo, Variant } from '../repo/repo.js';
import { DPKG_DB_REL, META_PACKAGES } from './names.js';
import { run } from './exec.js';

export interface PackageEntry { name: string; version: string; arch: string }

/** Installed packages of a dpkg status file's text (state `installed`), sorted by name. */
export function parseDpkgStatus(text: string): PackageEntry[] {
  const out: PackageEntry[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const m of para.matchAll(/^([A-Za-z-]+):[ \t]*(.*)$/gm)) f.set(m[1]!.toLowerCase(), m[2]!.trim());
    const name = f.get('package');
    if (!name || !/\binstalled$/.test(f.get('status') ?? '')) continue;
    out.push({ name, version: f.get('version') ?? '', arch: f.get('architecture') ?? '' });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function encodePackages(list: PackageEntry[]): string[] {
  return list.map((p) => `${p.name}\t${p.version}\t${p.arch}`);
}

function decodePackages(lines: string[]): PackageEntry[] {
  return lines.map((l) => { const [name = '', version = '', arch = ''] = l.split('\t'); return { name, version, arch }; });
}

/** The status file of a stored commit, read through the repository (no checkout). */
function statusFromCommit(repo: Repo, csum: string): string | null {
  try {
    const p = repo.lookupPathSync(csum, `/${DPKG_DB_REL}/status`);
    if (p.kind !== 'file') return null;
    return repo.readFileContentSync(p.checksum).data.toString('utf8');
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'ENOENT') return null;
    throw e;
  }
}

/** Packages of a commit: its metadata list when layered, else its dpkg database; [] if neither. */
export function packagesOfCommit(repo: Repo, csum: string): PackageEntry[] {
  const v = repo.loadCommitSync(csum).metadata.find(([k]) => k === META_PACKAGES)?.[1] as Variant | undefined;
  if (v && v.type === 'as') return decodePackages(v.value as string[]);
  const text = statusFromCommit(repo, csum);
  return text === null ? [] : parseDpkgStatus(text);
}

export interface PackageDiff {
  upgraded: Array<{ name: string; arch: string; from: string; to: string }>;
  downgraded: Array<{ name: string; arch: string; from: string; to: string }>;
  removed: PackageEntry[];
  added: PackageEntry[];
}

/** Order two Debian versions with the real dpkg (`dpkg --compare-versions`). */
async function versionLess(a: string, b: string): Promise<boolean> {
  return (await run('dpkg', ['--compare-versions', a, 'lt', b], { timeoutMs: 30_000 })).code === 0;
}

export async function diffPackages(from: PackageEntry[], to: PackageEntry[]): Promise<PackageDiff> {
  const key = (p: PackageEntry): string => `${p.name}:${p.arch}`;
  const a = new Map(from.map((p) => [key(p), p]));
  const b = new Map(to.map((p) => [key(p), p]));
  const d: PackageDiff = { upgraded: [], downgraded: [], removed: [], added: [] };
  for (const [k, p] of a) {
    const q = b.get(k);
    if (!q) { d.removed.push(p); continue; }
    if (q.version === p.version) continue;
    const entry = { name: p.name, arch: p.arch, from: p.version, to: q.version };
    if (await versionLess(p.version, q.version)) d.upgraded.push(entry); else d.downgraded.push(entry);
  }
  for (const [k, q] of b) if (!a.has(k)) d.added.push(q);
  return d;
}

/** rpm-ostree's diff text (`Upgraded:`, `  name old -> new`, ...); '' when nothing changed. */
export function formatPackageDiff(d: PackageDiff): string {
  const lines: string[] = [];
  if (d.upgraded.length) lines.push('Upgraded:', ...d.upgraded.map((u) => `  ${u.name} ${u.from} -> ${u.to}`));
  if (d.downgraded.length) lines.push('Downgraded:', ...d.downgraded.map((u) => `  ${u.name} ${u.from} -> ${u.to}`));
  if (d.removed.length) lines.push('Removed:', ...d.removed.map((p) => `  ${p.name}-${p.version}.${p.arch}`));
  if (d.added.length) lines.push('Added:', ...d.added.map((p) => `  ${p.name}-${p.version}.${p.arch}`));
  return lines.length ? lines.join('\n') + '\n' : '';
}
