/**
 * Staged deployments (notes §5): `admin deploy --stage` makes the deployment's first half now
 * and records it in `/run/ostree/staged-deployment` (formats/staged-record); at shutdown
 * `admin finalize-staged` makes the second half and writes the new list; `admin
 * boot-complete` reports a finalization that failed on the previous boot.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { KernelArgs } from '../formats/kargs.js';
import type { Origin } from '../formats/origin.js';
import { encodeStagedRecord, readStagedRecord, type StagedRecord } from '../formats/staged-record.js';
import type { Deployment } from '../deployment.js';
import type { Sysroot } from '../sysroot.js';
import { BOOT_OSTREE_REL, FINALIZE_FAILURE_STAMP_REL, bootedFlagPath, runDir } from '../layout.js';
import { faultStep, withFaultOp } from '../fault.js';
import { finalizeDeployment, initializeDeployment } from './create.js';
import { simpleWriteDeployment } from './list.js';
import { journal, noLog, type Log } from './log.js';
import { lstatOrNull, mkdirp, readFileBounded, writeFileAtomic } from '../../util/fs.js';
import { rmrf } from '../../util/tree.js';

export interface StageOptions { merge: Deployment | null; kargs: string[] | null; lockFinalization?: boolean; log?: Log }

export async function stageTree(sysroot: Sysroot, stateroot: string, csum: string, origin: Origin | null, options: StageOptions): Promise<Deployment> {
  return withFaultOp('stage', async () => {
    if (!sysroot.loaded) await sysroot.load();
    if (!sysroot.booted) throw new OstreeError('ESTATE', 'Cannot stage deployment: Not currently booted into an OSTree system');
    mkdirp(path.join(runDir(), 'ostree'), 0o755);
    if (options.lockFinalization) {
      writeFileAtomic(sysroot.stagedLockedPath, '', { mode: 0o640 });
    }
    const old = sysroot.stagedDeployment;
    const d = await initializeDeployment(sysroot, stateroot, csum, origin, options.kargs);
    const rec: StagedRecord = {
      target: { name: d.name, osname: d.stateroot, bootcsum: d.bootcsum },
      ...(options.merge ? { mergeDeployment: { name: options.merge.name, osname: options.merge.stateroot, bootcsum: options.merge.bootcsum } } : {}),
      ...(options.kargs ? { kargs: options.kargs } : {}),
    };
    writeFileAtomic(sysroot.stagedRecordPath, encodeStagedRecord(rec), { mode: 0o644 });
    faultStep('staged-record-written');
    if (old && !old.sameAs(d)) {
      rmrf(sysroot.deploymentDirectory(old));
      fs.rmSync(sysroot.originPath(old), { force: true });
    }
    sysroot.bumpMtime();
    await sysroot.reload();
    await sysroot.cleanup({ prune: false });
    return d;
  });
}

type FinalizeResult = 'not-booted' | 'none' | 'locked' | 'finalized';

/** The finalization proper (the caller records a failure). */
async function finalizeStagedImpl(sysroot: Sysroot, log: Log): Promise<FinalizeResult> {
  if (!sysroot.loaded) await sysroot.load();
  const staged = sysroot.stagedDeployment;
  // These go to the journal upstream, not to stdout.
  if (!staged) { journal('No deployment staged for finalization'); return 'none'; }
  if (sysroot.stagedLocked) { journal(`Not finalizing; found ${sysroot.stagedLockedPath}`); return 'locked'; }
  const rec = readStagedRecord(sysroot.stagedRecordPath);
  if (rec === null) throw new OstreeError('ESTATE', `${sysroot.stagedRecordPath} disappeared before finalization`);
  let merge: Deployment | null = null;
  if (rec.mergeDeployment) {
    const { name, osname } = rec.mergeDeployment;
    merge = sysroot.deployments.find((x) => !x.staged && x.name === name && x.stateroot === osname) ?? null;
    if (!merge) throw new OstreeError('ESTATE', `Failed to find merge deployment ${name} for staged deployment ${staged.name}`);
  }
  journal('Finalizing staged deployment');
  // Unlink the record first: an interrupted finalization must not be retried.
  fs.rmSync(sysroot.stagedRecordPath, { force: true });
  faultStep('record-unlinked');
  const d = staged.clone();
  d.staged = false;
  if (rec.kargs) d.bootconfig.options = KernelArgs.fromArray(rec.kargs).toString();
  await finalizeDeployment(sysroot, d, merge, log);
  // The staged deployment is no longer in /run: treat the list as not containing it.
  sysroot.deployments = sysroot.deployments.filter((x) => !x.staged);
  sysroot.stagedDeployment = null;
  await simpleWriteDeployment(sysroot, d.stateroot, d, merge, { cleanup: false, log, park: true });
  return 'finalized';
}

/**
 * `ostree admin finalize-staged`: turn the staged deployment into a real one (at shutdown).
 * On failure the message is written to /boot/ostree/finalize-failure.stamp.
 */
export async function finalizeStaged(sysroot: Sysroot, log: Log = noLog): Promise<FinalizeResult> {
  if (!lstatOrNull(bootedFlagPath())) return 'not-booted';
  return withFaultOp('finalize', async () => {
    try {
      return await finalizeStagedImpl(sysroot, log);
    } catch (e) {
      if (e instanceof OstreeError && e.code === 'EFAULT_INJECTED') throw e;
      try {
        mkdirp(sysroot.abs(BOOT_OSTREE_REL), 0o755);
        writeFileAtomic(sysroot.abs(FINALIZE_FAILURE_STAMP_REL), `${(e as Error).message}\n`);
      } catch { /* best effort */ }
      throw e;
    }
  });
}

/** `ostree admin boot-complete`: report (and clear) a finalization failure of the previous boot. */
export function bootComplete(sysroot: Sysroot): void {
  const stamp = sysroot.abs(FINALIZE_FAILURE_STAMP_REL);
  const data = readFileBounded(stamp, 64 * 1024, { what: 'Finalization failure stamp' });
  if (data === null) return;
  fs.rmSync(stamp, { force: true });
  throw new OstreeError('ESTATE', `ostree-finalize-staged.service failed on previous boot: ${data.toString('utf8').trim()}`);
}
