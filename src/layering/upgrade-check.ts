/**
 * `upgrade --check` / `--preview`: is there a newer base on the origin's refspec? `--check`
 * pulls only the commit metadata; `--preview` pulls the commit and diffs the package lists.
 * Nothing is deployed.
 */
import type { Sysroot } from '../sysroot/sysroot.js';
import { mergeFor } from '../sysroot/deploy/list.js';
import { baseOfCommit, defaultStateroot } from './bases.js';
import { LayerSpec } from './layer-origin.js';
import { diffPackages, packagesOfCommit, type PackageDiff } from './packages.js';

export interface UpdateCheck {
  current: string;
  available: { checksum: string; version: string | null; timestamp: number } | null;
  diff: PackageDiff | null;
}

export async function checkUpgrade(sysroot: Sysroot, opts: { preview?: boolean; stateroot?: string } = {}): Promise<UpdateCheck> {
  if (!sysroot.loaded) await sysroot.load();
  const merge = mergeFor(sysroot, defaultStateroot(sysroot, opts.stateroot));
  const spec = LayerSpec.fromOrigin(merge.origin);
  const repo = await sysroot.repo();
  const current = baseOfCommit(repo, merge.csum);
  const i = spec.baseRefspec.indexOf(':');
  if (i >= 0) {
    const { pullFromRemote } = await import('../repo/pull/http.js');
    await pullFromRemote(repo, spec.baseRefspec.slice(0, i), [spec.baseRefspec.slice(i + 1)], {
      sysroot: sysroot.path, ...(opts.preview ? {} : { commitMetadataOnly: true }),
    });
  }
  const latest = await repo.resolveRev(spec.baseRefspec);
  if (latest === current) return { current, available: null, diff: null };
  const c = repo.loadCommitSync(latest);
  const v = c.metadata.find(([k]) => k === 'version')?.[1];
  const available = { checksum: latest, version: v && v.type === 's' ? (v.value as string) : null, timestamp: Number(c.timestamp) };
  const diff = opts.preview ? await diffPackages(packagesOfCommit(repo, current), packagesOfCommit(repo, latest)) : null;
  return { current, available, diff };
}
