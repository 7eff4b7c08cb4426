/**
 * One layering transaction, as an rpm-ostree verb runs it: under the sysroot lock (a second
 * transaction at the same time gets EBUSY), from the merge deployment's origin to a new
 * deployment of base + packages. Until the new deployment list is written nothing the booted
 * system uses changes; any failure before that leaves no deployment behind (deploy/create.ts
 * removes a half-made one), and the booted deployment is never touched.
 */
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import type { Sysroot } from '../sysroot/sysroot.js';
import type { Deployment } from '../sysroot/deployment.js';
import { deployTree } from '../sysroot/deploy/create.js';
import { mergeFor, simpleWriteDeployment } from '../sysroot/deploy/list.js';
import { rmrf } from '../util/tree.js';
import type { Repo } from '../repo/repo.js';
import { baseOfCommit, checkoutBase, defaultStateroot, deployedTreeOf, syncBaseRefs } from './bases.js';
import { composeLayered, type ComposeResult } from './compose.js';
import { applyEdits, type SpecEdits } from './edit-spec.js';
import { LayerSpec } from './layer-origin.js';
import { aptCacheDir, loadLocalDebs } from './local-debs.js';
import { META_SYSUSERS } from './names.js';
import { diffPackages, packagesOfCommit, type PackageDiff } from './packages.js';
import { applyAccounts } from './sysusers.js';
import { workDir } from './workdir.js';
import { endTransaction, startTransaction } from './txn-record.js';

export interface LayerRequest extends SpecEdits {
  stateroot?: string;
  /** Pull the base refspec's newest commit (upgrade, rebase). */
  pullBase?: boolean;
  /** Deploy this base commit (`deploy CHECKSUM`). */
  baseRevision?: string;
  dryRun?: boolean;
  log?: (line: string) => void;
}

export interface LayerResult {
  /** The new deployment, or null (dry run, or nothing changed). */
  deployment: Deployment | null;
  spec: LayerSpec;
  base: string;
  checksum: string | null;
  /** Packages of the new tree against the merge deployment's. */
  diff: PackageDiff | null;
  timings: Partial<ComposeResult['timings']> & { deployMs?: number };
}

async function pullBase(sysroot: Sysroot, repo: Repo, refspec: string, log: (l: string) => void): Promise<void> {
  const i = refspec.indexOf(':');
  if (i < 0) return;
  log(`Pulling ${refspec}`);
  const { pullFromRemote } = await import('../repo/pull/http.js');
  await pullFromRemote(repo, refspec.slice(0, i), [refspec.slice(i + 1)], { sysroot: sysroot.path });
}

function sysusersOf(repo: Repo, csum: string): string[] {
  const v = repo.loadCommitSync(csum).metadata.find(([k]) => k === META_SYSUSERS)?.[1];
  return v && v.type === 'as' ? (v.value as string[]) : [];
}

async function resolveBase(sysroot: Sysroot, repo: Repo, merge: Deployment, spec: LayerSpec, req: LayerRequest, log: (l: string) => void): Promise<string> {
  if (req.baseRevision !== undefined) return repo.resolveRev(req.baseRevision);
  if (req.pullBase || req.rebase !== undefined) {
    await pullBase(sysroot, repo, spec.baseRefspec, log);
    return repo.resolveRev(spec.baseRefspec);
  }
  return baseOfCommit(repo, merge.csum);
}

/**
 * A requested package that the base now ships leaves the layer, with a message (rpm-ostree
 * refuses instead); asking to install one the base already has is an error.
 */
function dropShippedByBase(repo: Repo, base: string, spec: LayerSpec, req: LayerRequest, log: (l: string) => void): void {
  const inBase = new Set(packagesOfCommit(repo, base).map((p) => p.name));
  for (const name of req.install ?? []) {
    if (inBase.has(name)) throw new OstreeError('EEXIST', `Package '${name}' is already in the base commit ${base.slice(0, 12)}`);
  }
  const shipped = spec.requested.filter((n) => inBase.has(n));
  for (const n of shipped) log(`Package '${n}' is now part of the base; it is no longer layered`);
  spec.requested = spec.requested.filter((n) => !inBase.has(n));
}

async function compose(sysroot: Sysroot, repo: Repo, stateroot: string, merge: Deployment, spec: LayerSpec, base: string, log: (l: string) => void): Promise<ComposeResult> {
  let scratch: string | null = null;
  try {
    let lower = deployedTreeOf(sysroot, base);
    if (lower === null) {
      scratch = workDir(repo, 'base');
      log(`Checking out base ${base}`);
      lower = await checkoutBase(repo, base, scratch);
    }
    const mergeDir = sysroot.deploymentDirectory(merge);
    return await composeLayered(repo, {
      base, lower, mergeEtc: path.join(mergeDir, 'etc'),
      apt: { etcApt: path.join(mergeDir, 'etc/apt'), status: path.join(lower, 'usr/lib/dpkg-db/status'), cacheDir: aptCacheDir(sysroot, stateroot) },
      names: spec.requested, local: await loadLocalDebs(sysroot, stateroot, spec.requestedLocal),
      removeBase: spec.removeBase, replaceBase: await loadLocalDebs(sysroot, stateroot, spec.replaceLocal), log,
    });
  } finally {
    if (scratch !== null) rmrf(scratch);
  }
}

async function run(sysroot: Sysroot, req: LayerRequest): Promise<LayerResult> {
  const log = req.log ?? (() => {});
  const merge = mergeFor(sysroot, defaultStateroot(sysroot, req.stateroot));
  const stateroot = merge.stateroot;
  // As rpm-ostree: requests build on the default deployment (a pending one, if any), while /etc
  // comes from the merge (booted) deployment.
  const current = sysroot.deployments.find((d) => d.stateroot === stateroot) ?? merge;
  const spec = LayerSpec.fromOrigin(current.origin);
  await applyEdits(sysroot, stateroot, spec, req);
  const repo = await sysroot.repo();
  const base = await resolveBase(sysroot, repo, current, spec, req, log);
  dropShippedByBase(repo, base, spec, req, log);
  if (req.dryRun) return { deployment: null, spec, base, checksum: null, diff: null, timings: {} };
  const composed = spec.layered ? await compose(sysroot, repo, stateroot, merge, spec, base, log) : null;
  const checksum = composed?.checksum ?? base;
  const diff = await diffPackages(packagesOfCommit(repo, current.csum), packagesOfCommit(repo, checksum));
  const origin = spec.toOrigin(current.origin);
  if (checksum === current.csum && origin.toString() === current.origin?.toString()) {
    return { deployment: null, spec, base, checksum, diff, timings: composed?.timings ?? {} };
  }
  const t0 = Date.now();
  await syncBaseRefs(repo, sysroot.deployments, [checksum]);
  const d = await deployTree(sysroot, stateroot, checksum, origin, { merge, log });
  applyAccounts(sysroot.deploymentDirectory(d), sysusersOf(repo, checksum));
  await simpleWriteDeployment(sysroot, stateroot, d, merge, { log, park: true });
  await sysroot.reload();
  await syncBaseRefs(repo, sysroot.deployments);
  return { deployment: d, spec, base, checksum, diff, timings: { ...composed?.timings, deployMs: Date.now() - t0 } };
}

/** Run one transaction under the sysroot lock. */
export async function layerTransaction(sysroot: Sysroot, req: LayerRequest): Promise<LayerResult> {
  if (!sysroot.loaded) await sysroot.load();
  try {
    await sysroot.lock({ wait: false });
  } catch (e) {
    if (e instanceof OstreeError && e.code === 'EBUSY') throw new OstreeError('EBUSY', 'Another transaction is in progress (the sysroot is locked); wait for it or run \'apt-ostree cancel\'');
    throw e;
  }
  startTransaction(sysroot);
  try {
    await sysroot.reload();
    return await run(sysroot, req);
  } finally {
    endTransaction(sysroot);
    sysroot.unlock();
  }
}
