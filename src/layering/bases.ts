/**
 * Base commits: which commit a deployment is layered on (the layered commit's parent, marked
 * by apt-ostree.clientlayer), a directory holding that base tree for the overlay (a deployment
 * of it when there is one, else a hardlink checkout), and the `apt-ostree/base/N` refs that
 * keep every layered deployment's base from being pruned.
 */
import * as path from 'node:path';
import type { Repo } from '../repo/repo.js';
import type { Sysroot } from '../sysroot/sysroot.js';
import type { Deployment } from '../sysroot/deployment.js';
import { BASE_REF_PREFIX, META_CLIENT_LAYER, baseRef } from './names.js';

/** True when `csum` is a commit apt-ostree layered. */
export function isLayeredCommit(repo: Repo, csum: string): boolean {
  const v = repo.loadCommitSync(csum).metadata.find(([k]) => k === META_CLIENT_LAYER)?.[1];
  return v !== undefined && v.type === 'b' && v.value === true;
}

/** The base commit of a deployment's commit (itself when not layered). */
export function baseOfCommit(repo: Repo, csum: string): string {
  if (!isLayeredCommit(repo, csum)) return csum;
  const parent = repo.loadCommitSync(csum).parent;
  return parent ?? csum;
}

/** A deployment directory whose tree is exactly `base`, or null. */
export function deployedTreeOf(sysroot: Sysroot, base: string): string | null {
  const d = sysroot.deployments.find((x) => x.csum === base && !x.staged);
  return d ? sysroot.deploymentDirectory(d) : null;
}

/** Check `base` out into `dir/base` with hardlinks (the overlay's lower layer). */
export async function checkoutBase(repo: Repo, base: string, dir: string): Promise<string> {
  const dest = path.join(dir, 'base');
  await repo.checkout(base, dest, { hardlink: true });
  return dest;
}

/** Point `apt-ostree/base/0..N-1` at the bases of these deployments (+ extra), drop the rest. */
export async function syncBaseRefs(repo: Repo, deployments: Deployment[], extra: string[] = []): Promise<void> {
  const bases: string[] = [];
  for (const c of [...extra, ...deployments.map((d) => d.csum)]) {
    if (!repo.hasObjectSync(c, 'commit')) continue;
    const b = isLayeredCommit(repo, c) ? baseOfCommit(repo, c) : null;
    if (b !== null && !bases.includes(b)) bases.push(b);
  }
  const existing = await repo.listRefs(BASE_REF_PREFIX);
  for (let i = 0; i < bases.length; i++) await repo.setRef(baseRef(i), bases[i]!);
  for (const name of existing.keys()) {
    const full = name.startsWith(`${BASE_REF_PREFIX}/`) ? name : `${BASE_REF_PREFIX}/${name}`;
    const n = Number(full.slice(BASE_REF_PREFIX.length + 1));
    if (!(Number.isInteger(n) && n < bases.length)) await repo.setRef(full, null);
  }
}

/** The stateroot to act on: the given one, else the booted one, else the first deployment's. */
export function defaultStateroot(sysroot: Sysroot, given: string | undefined): string | undefined {
  return given ?? sysroot.bootedDeployment?.stateroot ?? sysroot.deployments[0]?.stateroot;
}
