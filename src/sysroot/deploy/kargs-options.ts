/**
 * The kernel arguments `admin deploy` gives a new deployment (notes §6.2): `--karg`,
 * `--karg-append`, `--karg-delete`, `--karg-proc-cmdline`, `--karg-none`, applied with the
 * KernelArgs operations of formats/kargs on the merge deployment's arguments.
 */
import * as fs from 'node:fs';
import { OstreeError } from '../../errors.js';
import { KernelArgs } from '../formats/kargs.js';
import type { Deployment } from '../deployment.js';

export interface KargOptions {
  karg?: string[];
  kargAppend?: string[];
  kargDelete?: string[];
  kargProcCmdline?: boolean;
  kargNone?: boolean;
}

/** The running kernel's arguments without those that only make sense for this boot
 * (BOOT_IMAGE=, initrd=), as upstream ostree_kernel_args_append_proc_cmdline. */
export function procCmdlineKargs(): KernelArgs {
  // /proc/cmdline reports size 0: read as the kernel gives it (at most a page or so).
  const cmdline = fs.readFileSync(process.env['OSTREE_TS_PROC_CMDLINE'] ?? '/proc/cmdline', 'utf8').trim();
  const k = KernelArgs.parse(cmdline);
  k.deleteIfPresent('BOOT_IMAGE');
  k.deleteIfPresent('initrd');
  return k;
}

/** The explicit kargs for a new deployment, or null to inherit the merge deployment's at finalize. */
export function computeKargs(opts: KargOptions, merge: Deployment | null, noMerge: boolean): string[] | null {
  const replace = opts.karg ?? [], append = opts.kargAppend ?? [], del = opts.kargDelete ?? [];
  if (opts.kargProcCmdline && opts.kargNone) throw new OstreeError('EINVAL', 'Can\'t specify both --karg-proc-cmdline and --karg-none');
  if (opts.kargNone && del.length > 0) throw new OstreeError('EINVAL', 'Can\'t specify both --karg-none and --karg-delete');
  if (noMerge && del.length > 0) throw new OstreeError('EINVAL', 'Cannot use --no-merge and --karg-delete');
  let k: KernelArgs | null = null;
  if (opts.kargNone) k = new KernelArgs();
  else if (opts.kargProcCmdline) {
    k = procCmdlineKargs();
  } else if ((replace.length || append.length || del.length) && merge) {
    k = merge.bootconfig.kernelArgs();
  }
  if (replace.length || append.length || del.length) {
    if (!k) k = new KernelArgs();
    for (const r of replace) k.replace(r);
    for (const a of append) k.append(a);
    for (const x of del) k.delete(x);
  }
  return k ? k.toArray() : null;
}
