/**
 * Following an origin (notes §6.3–§6.5): `admin upgrade` deploys the newest commit of the
 * merge deployment's refspec (after an optional pull), `admin switch` deploys another ref and
 * rewrites the origin, and `rollback` makes the previous deployment the default again.
 */
import { OstreeError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { Sysroot } from '../sysroot.js';
import { withFaultOp } from '../fault.js';
import { deployTree } from './create.js';
import { mergeFor, simpleWriteDeployment } from './list.js';
import { stageTree } from './stage.js';
import { noLog, type Log } from './log.js';

export interface UpgradeOptions {
  stateroot?: string;
  pull?: boolean;
  overrideCommit?: string;
  allowDowngrade?: boolean;
  stage?: boolean;
  log?: Log;
}

/** URL of a configured remote (repo config `[remote "NAME"] url`, or the sysroot's remotes.d). */
async function remoteUrl(sysroot: Sysroot, remote: string): Promise<string> {
  const { remoteUrl: urlOf } = await import('../../repo/remotes.js');
  return urlOf(await sysroot.repo(), remote, { sysroot: sysroot.path });
}

/** Pull `ref` from a configured remote (file://, http://, https://; refs written as `remote:ref`).
 *  As upstream's upgrader: an override commit is pulled and the ref set to it, and commits older
 *  than `timestampCheckFromRev` are refused before any ref moves. */
async function pullFromRemote(sysroot: Sysroot, remote: string, ref: string, extra: { overrideCommit?: string; timestampCheckFromRev?: string } = {}): Promise<void> {
  const pull = await import('../../repo/pull/http.js');
  await pull.pullFromRemote(await sysroot.repo(), remote, [ref], {
    sysroot: sysroot.path,
    ...(extra.overrideCommit !== undefined && /^[0-9a-f]{64}$/.test(extra.overrideCommit) ? { overrideCommit: extra.overrideCommit } : {}),
    ...(extra.timestampCheckFromRev !== undefined ? { timestampCheckFromRev: extra.timestampCheckFromRev } : {}),
  });
}

export async function upgrade(sysroot: Sysroot, opts: UpgradeOptions = {}): Promise<Deployment | null> {
  return withFaultOp('deploy', async () => {
    const log = opts.log ?? noLog;
    if (!sysroot.loaded) await sysroot.load();
    const merge = mergeFor(sysroot, opts.stateroot);
    if (!merge.origin) throw new OstreeError('ENOENT', `No origin known for deployment ${merge.name}`);
    const unconf = merge.origin.unconfiguredState;
    if (unconf !== undefined) throw new OstreeError('ESTATE', `origin unconfigured-state: ${unconf}`);
    const refspec = merge.origin.refspec;
    if (!refspec) throw new OstreeError('ECORRUPT', `Origin of deployment ${merge.name} has no refspec`);
    const origin = merge.origin.withoutTransientState();
    if (opts.overrideCommit) origin.setOverrideCommit(opts.overrideCommit);
    const remote = origin.remote;
    const ref = origin.ref!;
    if (opts.pull && remote) {
      await pullFromRemote(sysroot, remote, ref, {
        ...(opts.overrideCommit ? { overrideCommit: opts.overrideCommit } : {}),
        ...(opts.allowDowngrade ? {} : { timestampCheckFromRev: merge.csum }),
      });
    }
    const repo = await sysroot.repo();
    const newRev = opts.overrideCommit ? await repo.resolveRev(opts.overrideCommit) : await repo.resolveRev(refspec);
    if (newRev === merge.csum) { log('No update available.'); return null; }
    if (!opts.allowDowngrade) {
      const oldC = await repo.loadCommit(merge.csum).catch(() => null);
      const newC = await repo.loadCommit(newRev);
      if (oldC && newC.timestamp < oldC.timestamp) {
        throw new OstreeError('ESTATE', `Upgrade target revision '${newRev}' with timestamp '${fmtTs(newC.timestamp)}' is chronologically older than current revision '${merge.csum}' with timestamp '${fmtTs(oldC.timestamp)}'; use --allow-downgrade to permit`);
      }
    }
    if (opts.stage) return stageTree(sysroot, merge.stateroot, newRev, origin, { merge, kargs: null, log });
    const d = await deployTree(sysroot, merge.stateroot, newRev, origin, { merge, log });
    await simpleWriteDeployment(sysroot, merge.stateroot, d, merge, { cleanup: true, log });
    return d;
  });
}

function fmtTs(t: bigint): string { return new Date(Number(t) * 1000).toUTCString(); }

export async function switchRef(sysroot: Sysroot, newRefspecArg: string, opts: { stateroot?: string; pull?: boolean; stage?: boolean; log?: Log } = {}): Promise<Deployment> {
  return withFaultOp('deploy', async () => {
    const log = opts.log ?? noLog;
    if (!sysroot.loaded) await sysroot.load();
    const merge = mergeFor(sysroot, opts.stateroot);
    const oldOrigin = merge.origin;
    const oldRefspec = oldOrigin?.refspec;
    if (!oldOrigin || !oldRefspec) throw new OstreeError('ENOENT', `No origin known for deployment ${merge.name}`);
    const oldRemote = oldOrigin.remote;
    const oldRef = oldOrigin.ref!;
    let newRemote: string | null;
    let newRef: string;
    const colon = newRefspecArg.indexOf(':');
    if (colon >= 0) {
      newRemote = newRefspecArg.slice(0, colon) || null;
      newRef = newRefspecArg.slice(colon + 1) || oldRef;
    } else {
      newRemote = oldRemote;
      newRef = newRefspecArg;
    }
    const newRefspec = newRemote ? `${newRemote}:${newRef}` : newRef;
    if (newRefspec === oldRefspec) throw new OstreeError('EINVAL', `Old and new refs are equal: ${newRefspec}`);
    const origin = oldOrigin.withoutTransientState();
    origin.setRefspec(newRefspec);
    // Like upstream, switch pulls the new ref from its remote (file:// remotes only here; for
    // other URLs the ref must already be in the repo).
    if (newRemote && (opts.pull || (await remoteUrl(sysroot, newRemote)).startsWith('file://'))) await pullFromRemote(sysroot, newRemote, newRef);
    const repo = await sysroot.repo();
    const newRev = await repo.resolveRev(newRefspec);
    let d: Deployment;
    if (opts.stage) {
      d = await stageTree(sysroot, merge.stateroot, newRev, origin, { merge, kargs: null, log });
    } else {
      d = await deployTree(sysroot, merge.stateroot, newRev, origin, { merge, log });
      await simpleWriteDeployment(sysroot, merge.stateroot, d, merge, { cleanup: true, log });
    }
    // Upstream deletes the old ref once the switch is done (only when it was a remote ref).
    if (oldRemote) {
      log(`Deleting ref '${oldRemote}:${oldRef}'`);
      await repo.setRef(`${oldRemote}:${oldRef}`, null);
    }
    return d;
  });
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
