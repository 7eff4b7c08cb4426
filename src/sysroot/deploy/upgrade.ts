/**
 * Following an origin (notes §6.3–§6.5): `admin upgrade` deploys the newest commit of the
 * merge deployment's refspec (pulled from its remote first, as upstream), `admin switch`
 * deploys another ref and rewrites the origin, and `rollback` makes the previous deployment
 * the default again. The pull-and-compare half is the Upgrader (upgrader.ts).
 */
import { spawnSync } from 'node:child_process';
import { OstreeError } from '../../errors.js';
import { Origin } from '../formats/origin.js';
import type { Deployment } from '../deployment.js';
import type { Sysroot } from '../sysroot.js';
import { withFaultOp } from '../fault.js';
import { Upgrader } from './upgrader.js';
import { noLog, type Log } from './log.js';

export interface UpgradeOptions {
  stateroot?: string;
  /** `--pull-only`: fetch, do not deploy. */
  pullOnly?: boolean;
  /** `--deploy-only`: deploy what the repo has, do not fetch. */
  deployOnly?: boolean;
  overrideCommit?: string;
  allowDowngrade?: boolean;
  stage?: boolean;
  log?: Log;
}

/** What an upgrade did: nothing new, pulled only, or a new deployment. */
export type UpgradeResult = { changed: false } | { changed: true; deployment: Deployment | null };

export async function upgrade(sysroot: Sysroot, opts: UpgradeOptions = {}): Promise<UpgradeResult> {
  if (opts.pullOnly && opts.deployOnly) throw new OstreeError('EINVAL', 'Cannot simultaneously specify --pull-only and --deploy-only');
  return withFaultOp('deploy', async () => {
    const log = opts.log ?? noLog;
    const u = await Upgrader.open(sysroot, opts.stateroot, { stage: !!opts.stage });
    const origin = u.dupOrigin().withoutTransientState();
    if (opts.overrideCommit !== undefined) origin.setOverrideCommit(opts.overrideCommit);
    u.setOrigin(origin);
    let changed: boolean;
    try {
      changed = await u.pull({ synthetic: !!opts.deployOnly, allowOlder: !!opts.allowDowngrade });
    } catch (e) {
      // --pull-only: drop what a failed pull left partial before the next try (upstream's rule).
      if (opts.pullOnly) await sysroot.cleanup({ prune: true }).catch(() => undefined);
      throw e;
    }
    if (!changed) { log('No update available.'); return { changed: false }; }
    return { changed: true, deployment: opts.pullOnly ? null : await u.deploy(log) };
  });
}

export async function switchRef(sysroot: Sysroot, newRefspecArg: string, opts: { stateroot?: string; stage?: boolean; log?: Log } = {}): Promise<Deployment> {
  return withFaultOp('deploy', async () => {
    const log = opts.log ?? noLog;
    const u = await Upgrader.open(sysroot, opts.stateroot, { ignoreUnconfigured: true, stage: !!opts.stage });
    const oldOrigin = u.dupOrigin();
    const oldRefspec = oldOrigin.refspec!;
    const oldRemote = oldOrigin.remote;
    const oldRef = oldOrigin.ref!;
    let newRemote: string | null;
    let newRef: string;
    if (newRefspecArg.endsWith(':')) {
      // Only the remote changes.
      newRemote = newRefspecArg.slice(0, -1);
      newRef = oldRef;
    } else {
      const colon = newRefspecArg.indexOf(':');
      newRemote = colon < 0 ? null : newRefspecArg.slice(0, colon);
      newRef = colon < 0 ? newRefspecArg : newRefspecArg.slice(colon + 1);
    }
    const remote = newRemote ?? oldRemote;
    const newRefspec = remote ? `${remote}:${newRef}` : newRef;
    if (newRefspec === oldRefspec) throw new OstreeError('EINVAL', `Old and new refs are equal: ${newRefspec}`);
    u.setOrigin(Origin.forRefspec(newRefspec));
    // No chronological relation between two refs: older commits are allowed.
    await u.pull({ allowOlder: true });
    const d = await u.deploy(log);
    const repo = await sysroot.repo();
    log(`Deleting ref '${oldRemote ?? '(null)'}:${oldRef}'`);
    await repo.setRef(oldRemote ? `${oldRemote}:${oldRef}` : oldRef, null);
    return d;
  });
}

/**
 * `--reboot` after an upgrade or switch: `systemctl reboot`, only when booted into this
 * sysroot (a build script that passes it by mistake must not reboot the build host).
 */
export function rebootIfBooted(sysroot: Sysroot): void {
  if (!sysroot.bootedDeployment) return;
  const r = spawnSync('systemctl', ['reboot'], { stdio: 'inherit' });
  if (r.error) throw new OstreeError('EIO', `execve(systemctl reboot): ${r.error.message}`);
  if (r.status !== 0) throw new OstreeError('EIO', `systemctl reboot exited with status ${r.status ?? 'signal'}`);
}

/**
 * Roll back (like `rpm-ostree rollback`): when booted and a pending deployment is ahead of the
 * booted one, the booted one moves back to the top; otherwise the rollback deployment (first
 * after the booted one, or index 1 offline) moves to index 0.  Nothing is deleted.
 */
export async function rollback(sysroot: Sysroot, log: Log = noLog): Promise<Deployment> {
  if (!sysroot.loaded) await sysroot.load();
  const list = sysroot.deployments.filter((d) => !d.staged);
  if (sysroot.stagedDeployment) {
    // A staged deployment is discarded by any non-staged write; say so.
    log(`Discarding staged deployment ${sysroot.stagedDeployment.name}`);
  }
  let target: Deployment | null = null;
  const booted = sysroot.bootedDeployment;
  if (booted) {
    const { pending, rollback: rb } = sysroot.queryDeploymentsFor(booted.stateroot);
    if (pending && !pending.staged) target = booted;
    else target = rb;
  } else {
    target = list[1] ?? null;
  }
  if (!target) throw new OstreeError('ENOENT', 'No rollback deployment found');
  const newList = [target, ...list.filter((d) => !d.sameAs(target))];
  await sysroot.writeDeployments(newList, { cleanup: false, log });
  log(`Moving '${target.name}' to be first deployment`);
  return target;
}
