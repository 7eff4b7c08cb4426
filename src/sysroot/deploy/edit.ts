/**
 * Changing existing deployments (notes §6.6–§6.9): `admin undeploy`, `admin pin`,
 * `admin set-origin`, `admin kargs edit-in-place` and `admin config-diff`.  Every entry point
 * that takes a deployment index refuses anything but an in-range integer (SysrootState
 * deploymentAt), and a pinned deployment is never undeployed: it must be unpinned first
 * (upstream deletes it anyway).
 */
import * as path from 'node:path';
import { OstreeError } from '../../errors.js';
import { blsEntryFileName, readBlsEntries, writeBlsEntry } from '../formats/bls.js';
import { KernelArgs } from '../formats/kargs.js';
import { Origin } from '../formats/origin.js';
import { encodeStagedRecord, readStagedRecord } from '../formats/staged-record.js';
import type { Deployment } from '../deployment.js';
import type { Sysroot } from '../sysroot.js';
import { entriesRel } from '../layout.js';
import { diffEtc, formatConfigDiff } from '../etc-merge.js';
import { withFaultOp } from '../fault.js';
import { discardStaged } from '../write.js';
import { mergeFor } from './list.js';
import { noLog, type Log } from './log.js';
import { validateRefName, validateRemoteName } from '../../repo/repo.js';
import { writeFileAtomic } from '../../util/fs.js';

export async function undeploy(sysroot: Sysroot, index: number, log: Log = noLog): Promise<Deployment> {
  return withFaultOp('undeploy', async () => {
    if (!sysroot.loaded) await sysroot.load();
    const target = sysroot.deploymentAt(index);
    if (target.sameAs(sysroot.bootedDeployment)) throw new OstreeError('ESTATE', `Cannot undeploy currently booted deployment ${index}`);
    if (target.pinned) {
      throw new OstreeError('ESTATE', `Cannot undeploy deployment ${index} (${target.name}): it is pinned; unpin it first with 'ostree admin pin --unpin ${index}'`);
    }
    if (target.staged) {
      discardStaged(sysroot, target);
      sysroot.bumpMtime();
      await sysroot.reload();
      log(`Deleted deployment ${target.name}`);
      return target;
    }
    const newList = sysroot.deployments.filter((d) => !d.sameAs(target));
    await sysroot.writeDeployments(newList, { cleanup: false, prepareCleanup: false, log });
    log(`Deleted deployment ${target.name}`);
    await sysroot.cleanup({ prune: true, log });
    return target;
  });
}

export async function setPinned(sysroot: Sysroot, index: number, pin: boolean, log: Log = noLog): Promise<void> {
  if (!sysroot.loaded) await sysroot.load();
  const d = sysroot.deploymentAt(index);
  if (d.staged) throw new OstreeError('ESTATE', 'Cannot pin staged deployment');
  const word = pin ? 'pinned' : 'unpinned';
  if (d.pinned === pin) { log(`Deployment ${index} is already ${word}`); return; }
  const o = d.origin ? d.origin.clone() : Origin.parse('', sysroot.originPath(d));
  o.setPinned(pin);
  sysroot.writeOrigin(d, o);
  log(`Deployment ${index} is now ${word}`);
}

/** `--set KEY=VALUE` options of set-origin. */
function parseSetOptions(set: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const kv of set) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new OstreeError('EINVAL', `Invalid --set '${kv}', expected KEY=VALUE`);
    options[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return options;
}

export async function setOrigin(sysroot: Sysroot, remote: string, url: string, branch: string | undefined, opts: { index?: number; set?: string[] } = {}): Promise<void> {
  if (!sysroot.loaded) await sysroot.load();
  let d: Deployment;
  if (opts.index !== undefined) d = sysroot.deploymentAt(opts.index);
  else if (sysroot.bootedDeployment) d = sysroot.bootedDeployment;
  else throw new OstreeError('EINVAL', 'Not currently booted into an OSTree system; use --index to choose a deployment');
  const ref = branch ?? d.origin?.ref;
  if (!ref) throw new OstreeError('EINVAL', `Deployment ${d.index} has no origin ref; give BRANCH explicitly`);
  // Everything is checked before anything is written: remote and ref names, the origin text.
  validateRemoteName(remote);
  validateRefName(ref);
  const origin = Origin.forRefspec(`${remote}:${ref}`);
  const repo = await sysroot.repo();
  await repo.addRemote(remote, url, parseSetOptions(opts.set ?? []), true);
  sysroot.writeOrigin(d, origin);
}

/** `kargs edit-in-place --append-if-missing=...`: the staged record's kernel arguments. */
function appendToStagedRecord(sysroot: Sysroot, d: Deployment, appendIfMissing: readonly string[]): void {
  const rec = readStagedRecord(sysroot.stagedRecordPath);
  if (rec === null) throw new OstreeError('ESTATE', `${sysroot.stagedRecordPath} disappeared`);
  const k = KernelArgs.fromArray(rec.kargs ?? KernelArgs.parse(sysroot.mergeDeployment(d.stateroot)?.bootconfig.options ?? '').toArray());
  for (const a of appendIfMissing) k.appendIfMissing(a);
  rec.kargs = k.toArray();
  writeFileAtomic(sysroot.stagedRecordPath, encodeStagedRecord(rec), { mode: 0o644 });
}

/** `kargs edit-in-place --append-if-missing=...`: rewrite every BLS entry in place (no swap). */
export async function kargsEditInPlace(sysroot: Sysroot, appendIfMissing: string[]): Promise<void> {
  if (!sysroot.loaded) await sysroot.load();
  const entriesDir = sysroot.abs(entriesRel(sysroot.bootversion));
  // The file holding each deployment's entry, found by its ostree= argument.
  const files = new Map((await readBlsEntries(entriesDir)).map((e) => [e.ostreeArg, e.fileName] as const));
  const n = sysroot.deployments.filter((d) => !d.staged).length;
  const offset = sysroot.stagedDeployment ? 1 : 0;
  for (const d of sysroot.deployments) {
    if (d.staged) { appendToStagedRecord(sysroot, d, appendIfMissing); continue; }
    const k = d.bootconfig.kernelArgs();
    for (const a of appendIfMissing) k.appendIfMissing(a);
    const arg = d.bootconfig.ostreeArg();
    d.bootconfig.options = k.toString();
    const file = (arg !== undefined ? files.get(arg) : undefined) ?? blsEntryFileName(n - (d.index - offset), d.stateroot);
    await writeBlsEntry(entriesDir, file, d.bootconfig);
  }
  sysroot.bumpMtime();
}

export async function configDiff(sysroot: Sysroot, stateroot?: string): Promise<string> {
  if (!sysroot.loaded) await sysroot.load();
  const merge = mergeFor(sysroot, stateroot);
  const dir = sysroot.deploymentDirectory(merge);
  const diff = await diffEtc(path.join(dir, 'usr/etc'), path.join(dir, 'etc'));
  return formatConfigDiff(diff);
}
