/**
 * Which deployments a new one joins (upstream ostree_sysroot_simple_write_deployment, notes
 * §1.11): the retain / pending / rollback / not-as-default rules, and the merge deployment a
 * new deployment takes its configuration from.
 */
import { OstreeError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { SysrootState } from '../state.js';
import type { Sysroot } from '../sysroot.js';
import { validateStateroot } from '../layout.js';
import { noLog, type Log } from './log.js';
import { deploymentToPark, parkDeployment } from './spare.js';

export interface SimpleWriteFlags {
  retain?: boolean;
  retainPending?: boolean;
  retainRollback?: boolean;
  notAsDefault?: boolean;
}

/** Compute the new list for `newDep` (pure; see §1.11). */
export function computeSimpleDeploymentList(sysroot: SysrootState, stateroot: string | null, newDep: Deployment, merge: Deployment | null, flags: SimpleWriteFlags): Deployment[] {
  const booted = sysroot.bootedDeployment;
  let retain = !!flags.retain;
  const retainPending = !!flags.retainPending;
  const retainRollback = !!flags.retainRollback;
  if (!booted && !merge && (retainPending || retainRollback)) retain = true;
  const out: Deployment[] = [];
  let addedNew = false;
  if (!flags.notAsDefault) { out.push(newDep); addedNew = true; }
  let beforeBooted = true;
  let beforeMerge = true;
  for (const d of sysroot.deployments) {
    const osMatches = stateroot === null || d.stateroot === stateroot;
    const isBooted = d.sameAs(booted);
    const isMerge = d.sameAs(merge);
    if (isBooted) beforeBooted = false;
    if (isMerge) beforeMerge = false;
    const passedCrossover = booted ? !beforeBooted : !beforeMerge;
    if (retain || d.pinned || !osMatches || (retainPending && !passedCrossover) || isBooted || isMerge || (retainRollback && passedCrossover)) {
      out.push(d);
    }
    if (!addedNew && passedCrossover) { out.push(newDep); addedNew = true; }
  }
  if (!addedNew) out.push(newDep);
  return out;
}

/**
 * Write the list with `newDep`, then clean up (with a prune when `cleanup`, the default).
 * `park`: a deploy's write, whose dropped deployment becomes the stateroot's spare for the next
 * deploy (spare.ts, recycle.ts): between the swap and the cleanup that would delete it.
 */
export async function simpleWriteDeployment(
  sysroot: Sysroot, stateroot: string | null, newDep: Deployment, merge: Deployment | null,
  flags: SimpleWriteFlags & { cleanup?: boolean; log?: Log; countChangeBase?: number; park?: boolean },
): Promise<void> {
  const list = computeSimpleDeploymentList(sysroot, stateroot, newDep, merge, flags);
  const log = flags.log ?? noLog;
  const toPark = flags.park ? deploymentToPark(sysroot, newDep.stateroot, list) : null;
  if (toPark === null) {
    await sysroot.writeDeployments(list, { cleanup: flags.cleanup ?? true, log, countChangeBase: flags.countChangeBase });
    return;
  }
  const res = await sysroot.writeDeployments(list, { cleanup: false, prepareCleanup: false, log, countChangeBase: flags.countChangeBase });
  if (res.noop) return;
  parkDeployment(sysroot, toPark);
  await sysroot.cleanup({ prune: flags.cleanup ?? true, log });
}

/** The merge deployment of `stateroot` (validated), else of the booted stateroot; ENOENT if none. */
export function mergeFor(sysroot: SysrootState, stateroot: string | undefined): Deployment {
  if (stateroot !== undefined) validateStateroot(stateroot);
  const os = stateroot ?? sysroot.bootedDeployment?.stateroot;
  if (!os) throw new OstreeError('EINVAL', 'Not currently booted into an OSTree system and no OS specified');
  const merge = sysroot.mergeDeployment(os);
  if (!merge) throw new OstreeError('ENOENT', `No previous deployment for OS '${os}'`);
  return merge;
}
