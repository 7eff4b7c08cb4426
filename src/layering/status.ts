/**
 * What `apt-ostree status` reports, as a typed model whose JSON form uses rpm-ostree's key
 * names (docs/apt-ostree.md). Everything comes from the deployment list, the origin files and
 * commit metadata: no checkout is read.
 */
import type { Sysroot } from '../sysroot/sysroot.js';
import type { Deployment } from '../sysroot/deployment.js';
import { baseOfCommit, isLayeredCommit } from './bases.js';
import { LayerSpec } from './layer-origin.js';
import { diffPackages, packagesOfCommit, type PackageDiff } from './packages.js';
import { activeTransaction } from './txn-record.js';

export interface DeploymentStatus {
  id: string;
  osname: string;
  serial: number;
  checksum: string;
  'base-checksum'?: string;
  version: string | null;
  timestamp: number;
  origin: string | null;
  booted: boolean;
  staged: boolean;
  pinned: boolean;
  unlocked: string;
  /** Layered package names (requested from the sources, and local ones by name). */
  packages: string[];
  'requested-packages': string[];
  'requested-local-packages': string[];
  'base-removals': string[];
  'requested-base-removals': string[];
  'base-local-replacements': string[];
  'requested-base-local-replacements': string[];
  /** Package changes against the booted deployment (not part of rpm-ostree's JSON). */
  diff?: PackageDiff;
}

export interface StatusModel {
  deployments: DeploymentStatus[];
  transaction: [string, string] | null;
  'cached-update': null;
  'update-driver': null;
}

const nevraName = (nevra: string): string => nevra.replace(/-[^-]*(-[^-]*)?\.[^.]*$/, '');

async function oneDeployment(sysroot: Sysroot, d: Deployment, reference: Deployment | null): Promise<DeploymentStatus> {
  const repo = await sysroot.repo();
  const commit = repo.loadCommitSync(d.csum);
  let spec: LayerSpec | null = null;
  try { spec = LayerSpec.fromOrigin(d.origin); } catch { spec = null; }
  const layered = isLayeredCommit(repo, d.csum);
  const base = layered ? baseOfCommit(repo, d.csum) : null;
  const removals = spec?.removeBase ?? [];
  const basePkgs = base ? packagesOfCommit(repo, base) : [];
  const s: DeploymentStatus = {
    id: `${d.stateroot}-${d.csum}.${d.deployserial}`, osname: d.stateroot, serial: d.deployserial, checksum: d.csum,
    ...(base ? { 'base-checksum': base } : {}),
    version: await sysroot.commitVersion(d.csum), timestamp: Number(commit.timestamp),
    origin: spec?.baseRefspec ?? null, booted: d.sameAs(sysroot.bootedDeployment), staged: d.staged, pinned: d.pinned,
    unlocked: d.unlocked,
    packages: [...(spec?.requested ?? []), ...(spec?.requestedLocal ?? []).map((l) => nevraName(l.nevra))].sort(),
    'requested-packages': spec?.requested ?? [],
    'requested-local-packages': (spec?.requestedLocal ?? []).map((l) => l.nevra),
    'base-removals': basePkgs.filter((p) => removals.includes(p.name)).map((p) => `${p.name}-${p.version}.${p.arch}`),
    'requested-base-removals': removals,
    'base-local-replacements': (spec?.replaceLocal ?? []).map((l) => l.nevra),
    'requested-base-local-replacements': (spec?.replaceLocal ?? []).map((l) => l.nevra),
  };
  if (reference && !reference.sameAs(d)) s.diff = await diffPackages(packagesOfCommit(repo, reference.csum), packagesOfCommit(repo, d.csum));
  return s;
}

export async function layerStatus(sysroot: Sysroot, opts: { bootedOnly?: boolean } = {}): Promise<StatusModel> {
  if (!sysroot.loaded) await sysroot.load();
  // The diff is shown for what comes before the booted deployment (pending), against it; on a
  // sysroot that is not booted, for the first deployment against the second.
  const reference = sysroot.bootedDeployment ?? sysroot.deployments[1] ?? null;
  const refIndex = reference ? sysroot.deployments.findIndex((d) => d.sameAs(reference)) : -1;
  const list = opts.bootedOnly ? sysroot.deployments.filter((d) => d.sameAs(sysroot.bootedDeployment)) : sysroot.deployments;
  const deployments: DeploymentStatus[] = [];
  for (const d of list) deployments.push(await oneDeployment(sysroot, d, sysroot.deployments.indexOf(d) < refIndex ? reference : null));
  const pid = activeTransaction(sysroot);
  return { deployments, transaction: pid === null ? null : ['layering', String(pid)], 'cached-update': null, 'update-driver': null };
}
