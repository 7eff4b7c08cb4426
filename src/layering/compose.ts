/**
 * Composing a layered commit: the base commit's tree plus the requested packages, at object
 * level. apt resolves (apt.ts), each .deb is imported as its own commit (import-deb.ts), the
 * real dpkg installs them in the sandbox on an overlay of the base (sandbox.ts), and the commit
 * is the base's stored tree + the package commits' trees + the overlay's upper directory (what
 * dpkg and the scripts changed: its database, /usr/etc/passwd...). Nothing of the base is read
 * or rewritten beyond the directories that change.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { Variant, type Repo } from '../repo/repo.js';
import { MutableTree, overlayStored, writeMutableTree } from '../repo/commit/mtree.js';
import { rmrf } from '../util/tree.js';
import { aptUpdate, resolveAndFetch, type AptContext } from './apt.js';
import { nevra, type DebInfo } from './deb.js';
import { importDeb } from './import-deb.js';
import { DPKG_DB_REL, META_CLIENT_LAYER, META_PACKAGES, META_SYSUSERS } from './names.js';
import { encodePackages, parseDpkgStatus, type PackageEntry } from './packages.js';
import { SANDBOX_DEBS, SANDBOX_SEED, prepareOverlay, runInSandbox } from './sandbox.js';
import { foldAccounts, seedAccounts, seedScript } from './sysusers.js';
import { cleanUpper } from './upper.js';
import { workDir } from './workdir.js';

export interface ComposeRequest {
  base: string;
  /** The base tree on disk (a deployment of it, or a checkout): the overlay's lower layer. */
  lower: string;
  /** The merge deployment's /etc (accounts seed), or null. */
  mergeEtc: string | null;
  apt: AptContext;
  /** Package names from the apt sources. */
  names: string[];
  /** Local .debs to layer. */
  local: DebInfo[];
  /** Base packages to remove (`override remove`). */
  removeBase: string[];
  /** Local .debs replacing base packages (`override replace`). */
  replaceBase: DebInfo[];
  log?: (line: string) => void;
}

export interface ComposeResult {
  checksum: string;
  packages: PackageEntry[];
  installed: DebInfo[];
  timings: { aptMs: number; importMs: number; dpkgMs: number; commitMs: number };
}

function stringMeta(repo: Repo, csum: string, key: string): string | null {
  const v = repo.loadCommitSync(csum).metadata.find(([k]) => k === key)?.[1];
  return v && v.type === 's' ? (v.value as string) : null;
}

/** A commit of the base tree minus `removals` (what dpkg deleted), written at object level. */
async function baseWithout(repo: Repo, base: string, removals: string[]): Promise<string> {
  if (removals.length === 0) return base;
  const c = repo.loadCommitSync(base);
  const root = new MutableTree(repo);
  overlayStored(repo, root, c.rootTree, c.rootMeta);
  for (const r of removals) {
    const parent = root.lookup(path.posix.dirname(r) === '.' ? '' : path.posix.dirname(r));
    if (parent && 'dir' in parent) parent.dir.remove(path.posix.basename(r));
  }
  const w = repo.withLock(false, async () => writeMutableTree(repo, root));
  const { tree, meta } = await w;
  return repo.writeCommit(tree, meta, { parent: null, subject: 'apt-ostree: base without removed files' });
}

function linkInto(dir: string, debs: DebInfo[]): string[] {
  return debs.map((d, i) => {
    const name = `${String(i).padStart(3, '0')}-${path.basename(d.path)}`;
    try { fs.linkSync(d.path, path.join(dir, name)); } catch { fs.copyFileSync(d.path, path.join(dir, name)); }
    return `${SANDBOX_DEBS}/${name}`;
  });
}

function shellWord(s: string): string { return `'${s.replace(/'/g, `'\\''`)}'`; }

export async function composeLayered(repo: Repo, req: ComposeRequest): Promise<ComposeResult> {
  const log = req.log ?? (() => {});
  const t0 = Date.now();
  if (req.names.length > 0) await aptUpdate(req.apt);
  const { plan, debs } = await resolveAndFetch(req.apt, req.names, [...req.local, ...req.replaceBase]);
  const replacing = new Set(req.replaceBase.map((d) => d.name));
  for (const p of plan) {
    if (p.upgradesFrom !== null && !replacing.has(p.name)) {
      throw new OstreeError('ESTATE', `Installing would upgrade the base package ${p.name} (${p.upgradesFrom} -> ${p.version}); use 'override replace' for base packages`);
    }
  }
  const t1 = Date.now();
  const pkgSources: Array<{ kind: 'ref'; rev: string }> = [];
  for (const d of debs) {
    const r = await importDeb(repo, d);
    log(`${r.imported ? 'Imported' : 'Reusing'} ${nevra(d)} as ${r.ref}`);
    pkgSources.push({ kind: 'ref', rev: r.checksum });
  }
  const t2 = Date.now();
  const dir = workDir(repo, 'compose');
  try {
    const ov = prepareOverlay(dir, req.lower);
    const debDir = path.join(dir, 'debs'), seedDir = path.join(dir, 'seed');
    fs.mkdirSync(debDir); fs.mkdirSync(seedDir);
    seedAccounts(req.mergeEtc, seedDir);
    const inSandbox = linkInto(debDir, debs);
    const script = [seedScript(SANDBOX_SEED),
      ...(req.removeBase.length ? [`dpkg --purge ${req.removeBase.map(shellWord).join(' ')}`] : []),
      ...(inSandbox.length ? [`dpkg --force-confdef --force-confold --install ${inSandbox.join(' ')}`] : [])].join('\n');
    await runInSandbox(ov, debDir, seedDir, script, (l) => { if (l.trim() !== '') log(l); });
    const t3 = Date.now();
    const { removals } = cleanUpper(ov.upper);
    const sysusers = foldAccounts(ov.upper, ov.lower, seedDir);
    const statusFile = [ov.upper, ov.lower].map((r) => path.join(r, DPKG_DB_REL, 'status')).find((p) => fs.existsSync(p));
    if (!statusFile) throw new OstreeError('ECORRUPT', `The base tree has no dpkg database at /${DPKG_DB_REL}`);
    const packages = parseDpkgStatus(fs.readFileSync(statusFile, 'utf8'));
    const start = await baseWithout(repo, req.base, removals);
    const version = stringMeta(repo, req.base, 'version');
    const { checksum } = await repo.commit([...pkgSources, { kind: 'dir', path: ov.upper }], {
      base: start, parent: req.base, subject: `apt-ostree: ${[...req.names, ...req.local.map(nevra)].join(' ') || 'overrides'}`,
      metadata: [
        ...(version !== null ? [['version', new Variant('s', version)] as [string, Variant]] : []),
        [META_CLIENT_LAYER, new Variant('b', true)],
        [META_PACKAGES, new Variant('as', encodePackages(packages))],
        [META_SYSUSERS, new Variant('as', sysusers)],
      ],
    });
    const t4 = Date.now();
    return { checksum, packages, installed: debs, timings: { aptMs: t1 - t0, importMs: t2 - t1, dpkgMs: t3 - t2, commitMs: t4 - t3 } };
  } finally {
    rmrf(dir);
  }
}
