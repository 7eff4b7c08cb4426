/**
 * `ostree admin deploy REFSPEC` (notes §1.3, §1.11, §6.2): resolve the refspec, pick the
 * stateroot (validated: `--os` names one path component) and merge deployment, compute the
 * kernel arguments, then either stage the new deployment or create it and write the new list.
 */
import { OstreeError } from '../../errors.js';
import { Origin, readOriginFile } from '../formats/origin.js';
import type { Deployment } from '../deployment.js';
import type { Sysroot } from '../sysroot.js';
import { withFaultOp } from '../fault.js';
import { deployTree, requireStateroot } from './create.js';
import { computeKargs, type KargOptions } from './kargs-options.js';
import { simpleWriteDeployment, type SimpleWriteFlags } from './list.js';
import { stageTree } from './stage.js';
import { noLog, type Log } from './log.js';

export interface AdminDeployOptions extends KargOptions, SimpleWriteFlags {
  stateroot?: string;
  originFile?: string;
  noMerge?: boolean;
  noPrune?: boolean;
  stage?: boolean;
  lockFinalization?: boolean;
  log?: Log;
}

function originFor(refspec: string, originFile: string | undefined): Origin {
  if (originFile === undefined) return Origin.forRefspec(refspec);
  const o = readOriginFile(originFile);
  if (o === null) throw new OstreeError('ENOENT', `Reading origin file ${originFile}: No such file or directory`);
  return o;
}

export async function adminDeploy(sysroot: Sysroot, refspec: string, opts: AdminDeployOptions = {}): Promise<Deployment> {
  return withFaultOp('deploy', async () => {
    const log = opts.log ?? noLog;
    if (!sysroot.loaded) await sysroot.load();
    if (opts.lockFinalization) opts.stage = true;
    if (opts.stage && (opts.retainPending || opts.retainRollback || opts.notAsDefault)) {
      throw new OstreeError('EINVAL', '--stage cannot be combined with --retain-pending, --retain-rollback or --not-as-default');
    }
    const stateroot = opts.stateroot ?? sysroot.bootedDeployment?.stateroot;
    if (stateroot === undefined) throw new OstreeError('EINVAL', 'Not currently booted into an OSTree system and no --os= argument given');
    requireStateroot(sysroot, stateroot);
    const origin = originFor(refspec, opts.originFile);
    const repo = await sysroot.repo();
    const csum = await repo.resolveRev(refspec);
    const merge = opts.noMerge ? null : sysroot.mergeDeployment(stateroot);
    const kargs = computeKargs(opts, merge, !!opts.noMerge);

    if (opts.stage) {
      return stageTree(sysroot, stateroot, csum, origin, { merge, kargs, lockFinalization: !!opts.lockFinalization, log });
    }
    await sysroot.cleanup({ prune: false });
    const flags = { retain: opts.retain, retainPending: opts.retainPending, retainRollback: opts.retainRollback, notAsDefault: opts.notAsDefault };
    const d = await deployTree(sysroot, stateroot, csum, origin, { merge, kargs, log });
    await simpleWriteDeployment(sysroot, stateroot, d, merge, { ...flags, cleanup: !opts.noPrune, log, park: true });
    return d;
  });
}
