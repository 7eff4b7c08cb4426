/**
 * `db list` and `db diff`: package lists of commits (from metadata or the tree's own dpkg
 * database, no checkout) and their differences; `deploy VERSION` finds a base commit by its
 * `version` metadata along the base ref's history.
 */
import { OstreeError } from '../errors.js';
import type { Sysroot } from '../sysroot/sysroot.js';
import type { Repo } from '../repo/repo.js';
import { diffPackages, packagesOfCommit, type PackageDiff, type PackageEntry } from './packages.js';

export interface DbList { rev: string; checksum: string; packages: PackageEntry[] }

export async function dbList(sysroot: Sysroot, revs: string[]): Promise<DbList[]> {
  if (!sysroot.loaded) await sysroot.load();
  const repo = await sysroot.repo();
  const wanted = revs.length ? revs : [sysroot.bootedDeployment?.csum ?? sysroot.deployments[0]?.csum].filter((x): x is string => !!x);
  const out: DbList[] = [];
  for (const rev of wanted) {
    const checksum = await repo.resolveRev(rev);
    out.push({ rev, checksum, packages: packagesOfCommit(repo, checksum) });
  }
  return out;
}

export interface DbDiff { from: { label: string; checksum: string }; to: { label: string; checksum: string }; diff: PackageDiff }

/** Between two revisions, or by default the booted (else first) and the pending (else second) deployment. */
export async function dbDiff(sysroot: Sysroot, fromRev?: string, toRev?: string): Promise<DbDiff> {
  if (!sysroot.loaded) await sysroot.load();
  const repo = await sysroot.repo();
  const booted = sysroot.bootedDeployment;
  const pending = booted ? sysroot.queryDeploymentsFor(booted.stateroot).pending : sysroot.deployments[0] ?? null;
  const fromDep = booted ?? sysroot.deployments[1] ?? null;
  const from = fromRev !== undefined ? { label: fromRev, checksum: await repo.resolveRev(fromRev) }
    : fromDep ? { label: booted ? 'booted deployment' : 'rollback deployment', checksum: fromDep.csum } : null;
  const to = toRev !== undefined ? { label: toRev, checksum: await repo.resolveRev(toRev) }
    : pending ? { label: 'pending deployment', checksum: pending.csum } : null;
  if (!from || !to) throw new OstreeError('ENOENT', 'No pending deployment to compare with; give two revisions');
  return { from, to, diff: await diffPackages(packagesOfCommit(repo, from.checksum), packagesOfCommit(repo, to.checksum)) };
}

/** The newest commit on `rev`'s history whose `version` metadata is `version`. */
export async function commitOfVersion(repo: Repo, rev: string, version: string): Promise<string> {
  let c: string | null = await repo.resolveRev(rev);
  while (c !== null && repo.hasObjectSync(c, 'commit')) {
    const commit = repo.loadCommitSync(c);
    const v = commit.metadata.find(([k]) => k === 'version')?.[1];
    if (v && v.type === 's' && v.value === version) return c;
    c = commit.parent;
  }
  throw new OstreeError('ENOENT', `No commit with version '${version}' in the history of ${rev}`);
}
