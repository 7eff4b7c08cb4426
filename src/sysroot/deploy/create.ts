/**
 * Creating one deployment (upstream ostree_sysroot_deploy_tree, notes §1.3), in two halves
 * that staging (stage.ts) splits across a reboot:
 *   initialize: checkout of the commit, its kernel and bootcsum, /etc from /usr/etc, origin;
 *   finalize:   kernel arguments from the merge deployment, the three-way /etc merge, /var
 *               stamps, the origin again, the immutable bit.
 * A failure removes what was made, so the sysroot can deploy again and is left as it was.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../errors.js';
import * as libc from '../../native/libc.js';
import { KernelArgs } from '../formats/kargs.js';
import type { Origin } from '../formats/origin.js';
import { Deployment } from '../deployment.js';
import type { Sysroot } from '../sysroot.js';
import {
  parseDeploymentName, staterootDeployRel, staterootRel, staterootVarRel, sysrootDebug, validateStateroot,
} from '../layout.js';
import { findKernel } from '../kernel-layout.js';
import { diffEtc, applyEtcMerge, formatEtcMergeSummary } from '../etc-merge.js';
import { checkoutDeployment } from './checkout.js';
import { takeSpare, type RecycleResult } from './recycle.js';
import { faultStep } from '../fault.js';
import { lstatOrNull, mkdirp, statOrNull, writeFileAtomic } from '../../util/fs.js';
import { rmrf } from '../../util/tree.js';
import { noLog, type Log } from './log.js';

export interface DeployTreeOptions {
  /** Explicit kernel arguments (replacing what would be inherited from the merge deployment). */
  kargs?: string[] | null;
  merge?: Deployment | null;
  log?: Log;
}

/** What the last initializeDeployment recycled (null: a fresh checkout), for tests and tracing. */
export let lastRecycle: RecycleResult | null = null;

function safeReaddir(p: string): string[] {
  try { return fs.readdirSync(p); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return []; throw e; }
}

/** Next deployserial for `csum` in `stateroot`: max over existing directories + 1, else 0. */
export function allocateDeployserial(sysroot: Sysroot, stateroot: string, csum: string): number {
  let max = -1;
  for (const n of safeReaddir(sysroot.abs(staterootDeployRel(validateStateroot(stateroot))))) {
    const p = parseDeploymentName(n);
    if (p && p.csum === csum) max = Math.max(max, p.serial);
  }
  return max + 1;
}

/** The stateroot name is valid and `ostree/deploy/<name>` (with its var) is a real directory. */
export function requireStateroot(sysroot: Sysroot, stateroot: string): void {
  validateStateroot(stateroot);
  if (!lstatOrNull(sysroot.abs(staterootRel(stateroot)))?.isDirectory()) {
    throw new OstreeError('ENOENT', `No such stateroot '${stateroot}': run 'ostree admin os-init ${stateroot}' first`);
  }
  if (!lstatOrNull(sysroot.abs(staterootVarRel(stateroot)))?.isDirectory()) {
    throw new OstreeError('ENOENT', `Stateroot '${stateroot}' has no var directory (${staterootVarRel(stateroot)})`);
  }
}

/** /etc: a tree with both /etc and /usr/etc is refused; only /etc → moved to /usr/etc; then
 * /etc is checked out again from it as plain copies (admins edit it). */
async function prepareEtc(sysroot: Sysroot, dir: string, csum: string): Promise<void> {
  const etc = path.join(dir, 'etc');
  const usrEtc = path.join(dir, 'usr/etc');
  const etcSt = lstatOrNull(etc), usrEtcSt = lstatOrNull(usrEtc);
  for (const [st, name] of [[etcSt, '/etc'], [usrEtcSt, '/usr/etc']] as const) {
    if (st && !st.isDirectory()) {
      throw new OstreeError('ECORRUPT', `Tree ${csum}: ${name} is not a directory (a symbolic link or file there is not supported)`);
    }
  }
  if (etcSt && usrEtcSt) throw new OstreeError('ECORRUPT', `Tree ${csum} contains both /etc and /usr/etc`);
  if (etcSt) fs.renameSync(etc, usrEtc);
  if (etcSt || usrEtcSt) {
    const repo = await sysroot.repo();
    await repo.checkout(csum, etc, { subpath: etcSt ? '/etc' : '/usr/etc', forceCopy: true });
  }
}

/** §1.3 steps 1–5 (+ origin): checkout (from the stateroot's spare when there is one:
 * recycle.ts), kernel, /etc from /usr/etc.  Returns the new deployment. */
export async function initializeDeployment(
  sysroot: Sysroot, stateroot: string, csum: string, origin: Origin | null, kargs: string[] | null | undefined,
): Promise<Deployment> {
  requireStateroot(sysroot, stateroot);
  const repo = await sysroot.repo();
  const serial = allocateDeployserial(sysroot, stateroot, csum);
  mkdirp(sysroot.abs(staterootDeployRel(stateroot)), 0o775);
  const tmp = new Deployment(stateroot, csum, serial, '');
  const dir = sysroot.deploymentDirectory(tmp);
  rmrf(dir);
  try {
    lastRecycle = await takeSpare(sysroot, repo, stateroot, csum, dir);
    if (lastRecycle === null) await checkoutDeployment(repo, csum, dir);
    faultStep('checkout-done');
    const k = await findKernel(dir, { noDtb: sysrootDebug('no-dtb') });
    const d = new Deployment(stateroot, csum, serial, k.bootcsum);
    if (kargs) d.bootconfig.options = KernelArgs.fromArray(kargs).toString();
    await prepareEtc(sysroot, dir, csum);
    faultStep('etc-prepared');
    // Lint: content in the tree's /var is ignored.
    for (const n of safeReaddir(path.join(dir, 'var'))) {
      process.stderr.write(`note: Deploying commit ${csum} which contains content in /var/${n} that will be ignored.\n`);
    }
    if (origin) writeFileAtomic(sysroot.originPath(d), origin.toString(), { mode: 0o644 });
    d.origin = origin;
    faultStep('origin-written');
    return d;
  } catch (e) {
    // Nothing of a failed deployment stays behind: the next deploy must not trip over it.
    rmrf(dir);
    fs.rmSync(sysroot.originPath(tmp), { force: true });
    throw e;
  }
}

/** The three-way /etc merge from `merge` into the new deployment `dir`. */
async function mergeEtcFrom(sysroot: Sysroot, merge: Deployment, dir: string, log: Log): Promise<void> {
  const mergeDir = sysroot.deploymentDirectory(merge);
  const diff = await diffEtc(path.join(mergeDir, 'usr/etc'), path.join(mergeDir, 'etc'));
  log(formatEtcMergeSummary(diff));
  await applyEtcMerge(diff, path.join(mergeDir, 'etc'), path.join(dir, 'etc'));
}

/** /var: the live /var when booted into this stateroot, else the stateroot's var. */
function prepareVar(sysroot: Sysroot, d: Deployment, dir: string, log: Log): void {
  const varDir = sysroot.booted && sysroot.bootedDeployment?.stateroot === d.stateroot && process.env['OSTREE_TS_ROOT_DIR'] === undefined
    ? '/var' : sysroot.abs(staterootVarRel(d.stateroot));
  if (!statOrNull(varDir)?.isDirectory()) throw new OstreeError('ENOENT', `${varDir} does not exist`);
  fs.rmSync(path.join(dir, 'etc/.updated'), { force: true });
  fs.rmSync(path.join(varDir, '.updated'), { force: true });
  const stamp = path.join(sysroot.abs(staterootVarRel(d.stateroot)), '.ostree-selabeled');
  if (!lstatOrNull(stamp)) {
    log(`Relabeling /var (no stamp file 'var/.ostree-selabeled' found)`);
    writeFileAtomic(stamp, '', { mode: 0o644 });
  }
}

/** §1.3 steps 6–12: kargs from merge, /etc merge, /var stamps, origin, immutable bit. */
export async function finalizeDeployment(sysroot: Sysroot, d: Deployment, merge: Deployment | null, log: Log): Promise<void> {
  const dir = sysroot.deploymentDirectory(d);
  if (d.bootconfig.options === undefined && merge) {
    const opts = merge.bootconfig.options;
    if (opts !== undefined) d.bootconfig.options = opts;
  }
  faultStep('kargs-set');
  if (merge) await mergeEtcFrom(sysroot, merge, dir, log);
  faultStep('etc-merged');
  prepareVar(sysroot, d, dir, log);
  faultStep('var-prepared');

  if (d.origin) writeFileAtomic(sysroot.originPath(d), d.origin.toString(), { mode: 0o644 });
  if (!sysrootDebug('mutable-deployments')) {
    try {
      libc.setImmutable(dir, true);
    } catch (e) {
      if (!(isErrno(e, 'ENOTTY') || isErrno(e, 'EOPNOTSUPP') || isErrno(e, 'ENOSYS') || isErrno(e, 'EINVAL'))) throw e;
    }
  }
  faultStep('finalized');
}

/** Create a complete (non-staged) deployment of `csum` in `stateroot`. */
export async function deployTree(sysroot: Sysroot, stateroot: string, csum: string, origin: Origin | null, options: DeployTreeOptions = {}): Promise<Deployment> {
  const log = options.log ?? noLog;
  const d = await initializeDeployment(sysroot, stateroot, csum, origin, options.kargs);
  try {
    await finalizeDeployment(sysroot, d, options.merge ?? null, log);
  } catch (e) {
    // Not in any list yet: a deployment that could not be finalized is removed at once.
    rmrf(sysroot.deploymentDirectory(d));
    fs.rmSync(sysroot.originPath(d), { force: true });
    throw e;
  }
  return d;
}
