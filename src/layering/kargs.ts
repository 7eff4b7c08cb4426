/**
 * `kargs`: a new deployment of the same commit and origin with edited kernel arguments
 * (rpm-ostree makes a new deployment too; the booted one keeps its arguments).
 */
import { OstreeError } from '../errors.js';
import type { Sysroot } from '../sysroot/sysroot.js';
import type { Deployment } from '../sysroot/deployment.js';
import { KernelArgs } from '../sysroot/formats/kargs.js';
import { deployTree } from '../sysroot/deploy/create.js';
import { mergeFor, simpleWriteDeployment } from '../sysroot/deploy/list.js';
import { defaultStateroot } from './bases.js';

export interface KargsEdit { append?: string[]; delete?: string[]; replace?: string[] }

/** The merge deployment's kernel arguments. */
export async function currentKargs(sysroot: Sysroot, stateroot?: string): Promise<string> {
  if (!sysroot.loaded) await sysroot.load();
  return mergeFor(sysroot, defaultStateroot(sysroot, stateroot)).bootconfig.options ?? '';
}

export async function editKargs(sysroot: Sysroot, edit: KargsEdit, stateroot?: string, log: (l: string) => void = () => {}): Promise<Deployment | null> {
  if (!sysroot.loaded) await sysroot.load();
  await sysroot.lock({ wait: false });
  try {
    await sysroot.reload();
    const merge = mergeFor(sysroot, defaultStateroot(sysroot, stateroot));
    const before = KernelArgs.parse(merge.bootconfig.options ?? '');
    const k = before.clone();
    for (const a of edit.append ?? []) k.append(a);
    for (const a of edit.replace ?? []) k.newReplace(a);
    for (const a of edit.delete ?? []) k.delete(a);
    if (k.equals(before)) return null;
    if (!merge.origin) throw new OstreeError('ENOENT', `Deployment ${merge.name} has no origin`);
    const d = await deployTree(sysroot, merge.stateroot, merge.csum, merge.origin.withoutTransientState(), { merge, kargs: k.toArray(), log });
    await simpleWriteDeployment(sysroot, merge.stateroot, d, merge, { log, park: true });
    return d;
  } finally {
    sysroot.unlock();
  }
}
