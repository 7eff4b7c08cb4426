/**
 * `ostree admin instutil set-kargs` (upstream ot-admin-instutil-builtin-set-kargs.c and
 * ostree_sysroot_deployment_set_kargs): replace the kernel arguments of the first deployment
 * and write the list again (a new bootversion, so the bootloader configuration follows).
 */
import { OstreeError } from '../../errors.js';
import { KernelArgs } from '../formats/kargs.js';
import type { Deployment } from '../deployment.js';
import type { Sysroot } from '../sysroot.js';
import { procCmdlineKargs } from './kargs-options.js';
import { noLog, type Log } from './log.js';

export interface SetKargsOptions {
  /** Start from the running kernel's arguments. */
  importProcCmdline?: boolean;
  /** Start from the first deployment's arguments (ignored with importProcCmdline). */
  merge?: boolean;
  replace?: string[];
  append?: string[];
  /** Appended last, as given. */
  args?: string[];
  log?: Log;
}

/** Give deployment `d` (not staged) the arguments `kargs` and write the deployment list. */
export async function deploymentSetKargs(sysroot: Sysroot, d: Deployment, kargs: readonly string[], log: Log = noLog): Promise<void> {
  if (d.staged) throw new OstreeError('EINVAL', `Deployment ${d.name} is staged: change its arguments with 'ostree admin kargs edit-in-place'`);
  const changed = d.clone();
  changed.bootconfig.options = KernelArgs.fromArray(kargs).toString();
  await sysroot.writeDeployments(sysroot.deployments.map((x) => (x.sameAs(d) ? changed : x)), { log });
}

export async function setKargs(sysroot: Sysroot, opts: SetKargsOptions): Promise<void> {
  if (!sysroot.loaded) await sysroot.load();
  const first = sysroot.deployments[0];
  if (!first) throw new OstreeError('ENOENT', 'Unable to find a deployment in sysroot');
  let k = new KernelArgs();
  if (opts.importProcCmdline) k = procCmdlineKargs();
  else if (opts.merge) k = KernelArgs.parse(first.bootconfig.options ?? '');
  for (const r of opts.replace ?? []) k.replace(r);
  for (const a of opts.append ?? []) k.append(a);
  for (const a of opts.args ?? []) k.append(a);
  await deploymentSetKargs(sysroot, first, k.toArray(), opts.log ?? noLog);
}
