/**
 * `rollback`: make the previous deployment the default, keeping every deployment, as
 * rpm-ostree does: the booted one when a pending deployment is before it, else the rollback
 * deployment (the one after the booted one; on a sysroot not booted, the second).
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
    // As rpm-ostree: with a pending deployment before the booted one, the booted one becomes
    // the default again; else the rollback (the one after it) does.
    const pendingFirst = booted && list[0] && !list[0].sameAs(booted);
    const target = booted ? (pendingFirst ? booted : sysroot.queryDeploymentsFor(booted.stateroot).rollback) : list[1] ?? null;
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
