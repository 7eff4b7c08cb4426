/**
 * `rollback`: make the rollback deployment (the one after the booted one; without a booted
 * deployment, the second) the default, keeping every deployment, as rpm-ostree does.
 */
import { OstreeError } from '../errors.js';
import type { Sysroot } from '../sysroot/sysroot.js';
import type { Deployment } from '../sysroot/deployment.js';
import { diffPackages, packagesOfCommit, type PackageDiff } from './packages.js';

export interface RollbackResult { moved: Deployment; from: Deployment; diff: PackageDiff }

export async function rollback(sysroot: Sysroot, log: (l: string) => void = () => {}): Promise<RollbackResult> {
  if (!sysroot.loaded) await sysroot.load();
  await sysroot.lock({ wait: false });
  try {
    await sysroot.reload();
    const list = sysroot.deployments.filter((d) => !d.staged);
    const booted = sysroot.bootedDeployment;
    const from = booted ?? list[0];
    const target = booted ? sysroot.queryDeploymentsFor(booted.stateroot).rollback : list[1] ?? null;
    if (!from || !target) throw new OstreeError('ENOENT', 'No rollback deployment found');
    log(`Moving '${target.name}' to be first deployment`);
    const newList = [target, ...list.filter((d) => !d.sameAs(target))];
    await sysroot.writeDeployments(newList, { cleanup: false, log });
    const repo = await sysroot.repo();
    const diff = await diffPackages(packagesOfCommit(repo, from.csum), packagesOfCommit(repo, target.csum));
    return { moved: target, from, diff };
  } finally {
    sysroot.unlock();
  }
}
