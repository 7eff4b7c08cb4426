/**
 * Deployment operations (`ostree admin deploy/upgrade/switch/...` behaviour, upstream 2022.7):
 *
 * - `deployTree`: create a deployment (§1.3): "initialize" (checkout, kernel, /etc copy,
 *   origin) then "finalize" (kargs, 3-way /etc merge, /var, immutable bit).
 * - `stageTree` / `finalizeStaged`: the same split across a reboot (§5).
 * - `simpleWriteDeployment`: the new list per §1.11 (retain / pending / rollback / not-as-default).
 * - `adminDeploy`, `upgrade`, `switchRef`, `rollback`, `undeploy`, `setPinned`, `setOrigin`,
 *   `kargsEditInPlace`, `configDiff`, `bootComplete`, `unlock`, `initFs`, `osInit`.
 *
 * User-visible messages go through `log` (the CLI prints them on stdout), errors are
 * OstreeError with upstream's wording where upstream has one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../../errors.js';
import { Repo } from '../../repo/repo.js';
import * as libc from '../../native/libc.js';
import { KernelArgs } from '../formats/kargs.js';
import { checkoutDeployment } from './checkout.js';
import { findKernel } from '../kernel-layout.js';
import { Origin } from '../formats/origin.js';
import { diffEtc, applyEtcMerge, formatConfigDiff } from '../etc-merge.js';
const stagedRecord = () => import('../formats/staged-record.js');
import { writeBlsEntry } from '../formats/bls.js';
import { Deployment, Sysroot, runDir, sysrootDebug } from '../sysroot.js';
import { faultStep, withFaultOp } from '../fault.js';
import { lstatOrNull, mkdirp, rmrf, statOrNull, touchNow, writeFileAtomic } from '../../util/fs.js';

export type Log = (msg: string) => void;
const noLog: Log = () => {};
/** Messages upstream sends to the journal only: stderr here. */
const journal: Log = (m) => { process.stderr.write(`${m}\n`); };

// ---------------------------------------------------------------------------------------------
// init-fs / os-init (§1.1, §1.2)

/** `ostree admin init-fs [--modern] PATH`: PATH must exist. */
export async function initFs(p: string, options: { modern?: boolean } = {}): Promise<void> {
  const st = statOrNull(p);
  if (!st?.isDirectory()) throw new OstreeError('ENOENT', `${p}: not an existing directory (init-fs needs the target directory to exist)`);
  mkdirp(path.join(p, 'boot'), 0o755);
  if (!options.modern) {
    for (const d of ['dev', 'home', 'proc', 'run', 'sys']) mkdirp(path.join(p, d), 0o755);
    mkdirp(path.join(p, 'root'), 0o700);
    mkdirp(path.join(p, 'tmp'), 0o1777);
    fs.chmodSync(path.join(p, 'tmp'), 0o1777);
  }
  await ensureInitialized(p);
}

async function ensureInitialized(p: string): Promise<void> {
  mkdirp(path.join(p, 'ostree/deploy'), 0o755);
  mkdirp(path.join(p, 'ostree/repo'), 0o755);
  await Repo.create(path.join(p, 'ostree/repo'), 'bare');
}

/** `ostree admin os-init NAME` (2022.7 var layout). */
export async function osInit(sysrootPath: string, name: string, log: Log = noLog): Promise<void> {
  if (!/^[^/\s]+$/.test(name) || name === '.' || name === '..') throw new OstreeError('EINVAL', `Invalid stateroot name '${name}'`);
  await ensureInitialized(sysrootPath);
  const dir = path.join(sysrootPath, 'ostree/deploy', name);
  try {
    fs.mkdirSync(dir, 0o777);
  } catch (e) {
    if (isErrno(e, 'EEXIST')) throw new OstreeError('EEXIST', `Creating ostree/deploy/${name}: File exists`);
    throw e;
  }
  const v = path.join(dir, 'var');
  mkdirp(v, 0o755);
  fs.mkdirSync(path.join(v, 'tmp'), { recursive: true });
  fs.chmodSync(path.join(v, 'tmp'), 0o1777);
  mkdirp(path.join(v, 'lib'), 0o755);
  mkdirp(path.join(v, 'log'), 0o755);
  if (!lstatOrNull(path.join(v, 'run'))) fs.symlinkSync('../run', path.join(v, 'run'));
  if (!lstatOrNull(path.join(v, 'lock'))) fs.symlinkSync('../run/lock', path.join(v, 'lock'));
  touchNow(path.join(sysrootPath, 'ostree/deploy'));
  log(`ostree/deploy/${name} initialized as OSTree root`);
}

// ---------------------------------------------------------------------------------------------
// Creating deployments

export interface DeployTreeOptions {
  /** Explicit kernel arguments (replacing what would be inherited from the merge deployment). */
  kargs?: string[] | null;
  merge?: Deployment | null;
  log?: Log;
}

/** Next deployserial for `csum` in `stateroot`: max over existing directories + 1, else 0. */
export function allocateDeployserial(sysroot: Sysroot, stateroot: string, csum: string): number {
  let max = -1;
  let names: string[] = [];
  try { names = fs.readdirSync(sysroot.abs(`ostree/deploy/${stateroot}/deploy`)); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; }
  for (const n of names) {
    const m = /^([0-9a-f]+)\.([0-9]+)$/.exec(n);
    if (m && m[1] === csum) max = Math.max(max, Number(m[2]));
  }
  return max + 1;
}

function requireStateroot(sysroot: Sysroot, stateroot: string): void {
  if (!statOrNull(sysroot.abs(`ostree/deploy/${stateroot}`))?.isDirectory()) {
    throw new OstreeError('ENOENT', `No such stateroot '${stateroot}': run 'ostree admin os-init ${stateroot}' first`);
  }
  if (!statOrNull(sysroot.abs(`ostree/deploy/${stateroot}/var`))?.isDirectory()) {
    throw new OstreeError('ENOENT', `Stateroot '${stateroot}' has no var directory (ostree/deploy/${stateroot}/var)`);
  }
}

/** §1.3 steps 1–5 (+ origin): checkout, kernel, /etc from /usr/etc.  Returns the new deployment. */
async function initializeDeployment(sysroot: Sysroot, stateroot: string, csum: string, origin: Origin | null, kargs: string[] | null | undefined, log: Log): Promise<Deployment> {
  requireStateroot(sysroot, stateroot);
  const repo = await sysroot.repo();
  const serial = allocateDeployserial(sysroot, stateroot, csum);
  const deployParent = sysroot.abs(`ostree/deploy/${stateroot}/deploy`);
  mkdirp(deployParent, 0o775);
  const tmp = new Deployment(stateroot, csum, serial, '');
  const dir = sysroot.deploymentDirectory(tmp);
  rmrf(dir);
  await checkoutDeployment(repo, csum, dir);
  faultStep('checkout-done');

  let k;
  try {
    k = await findKernel(dir, { noDtb: sysrootDebug('no-dtb') });
  } catch (e) {
    rmrf(dir);
    throw e;
  }
  const d = new Deployment(stateroot, csum, serial, k.bootcsum);
  if (kargs) d.bootconfig.options = KernelArgs.fromArray(kargs).toString();

  // /etc: tree with both /etc and /usr/etc → error; only /etc → move to /usr/etc; copy to /etc.
  const etc = path.join(dir, 'etc');
  const usrEtc = path.join(dir, 'usr/etc');
  const hasEtc = lstatOrNull(etc) !== null;
  const hasUsrEtc = lstatOrNull(usrEtc) !== null;
  let etcSubpath: string | null = hasUsrEtc ? '/usr/etc' : null;
  if (hasEtc && hasUsrEtc) {
    rmrf(dir);
    throw new OstreeError('ECORRUPT', `Tree ${csum} contains both /etc and /usr/etc`);
  }
  if (hasEtc) {
    fs.renameSync(etc, usrEtc);
    etcSubpath = '/etc';
  }
  if (etcSubpath !== null) {
    await repo.checkout(csum, etc, { subpath: etcSubpath, forceCopy: true });
  }
  faultStep('etc-prepared');

  // Lint: content in the tree's /var is ignored.
  for (const n of safeReaddir(path.join(dir, 'var'))) {
    process.stderr.write(`note: Deploying commit ${csum} which contains content in /var/${n} that will be ignored.\n`);
  }

  if (origin) writeFileAtomic(sysroot.originPath(d), origin.toString(), { mode: 0o644 });
  d.origin = origin;
  faultStep('origin-written');
  void log;
  return d;
}

/** §1.3 steps 6–12: kargs from merge, /etc merge, /var stamps, origin, immutable bit. */
async function finalizeDeployment(sysroot: Sysroot, d: Deployment, merge: Deployment | null, log: Log): Promise<void> {
  const dir = sysroot.deploymentDirectory(d);
  if (d.bootconfig.options === undefined && merge) {
    const opts = merge.bootconfig.options;
    if (opts !== undefined) d.bootconfig.options = opts;
  }
  faultStep('kargs-set');

  if (merge) {
    const mergeDir = sysroot.deploymentDirectory(merge);
    const diff = await diffEtc(path.join(mergeDir, 'usr/etc'), path.join(mergeDir, 'etc'));
    log(`Copying /etc changes: ${diff.modified.length} modified, ${diff.removed.length} removed, ${diff.added.length} added`);
    await applyEtcMerge(diff, path.join(mergeDir, 'etc'), path.join(dir, 'etc'));
  }
  faultStep('etc-merged');

  // /var: live /var when booted into this stateroot, else the stateroot's var.
  const varDir = sysroot.booted && sysroot.bootedDeployment?.stateroot === d.stateroot && process.env['OSTREE_TS_ROOT_DIR'] === undefined
    ? '/var' : sysroot.abs(`ostree/deploy/${d.stateroot}/var`);
  if (!statOrNull(varDir)?.isDirectory()) throw new OstreeError('ENOENT', `${varDir} does not exist`);
  fs.rmSync(path.join(dir, 'etc/.updated'), { force: true });
  fs.rmSync(path.join(varDir, '.updated'), { force: true });
  const stamp = path.join(sysroot.abs(`ostree/deploy/${d.stateroot}/var`), '.ostree-selabeled');
  if (!lstatOrNull(stamp)) {
    log(`Relabeling /var (no stamp file 'var/.ostree-selabeled' found)`);
    fs.writeFileSync(stamp, '', { mode: 0o644 });
  }
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
  const d = await initializeDeployment(sysroot, stateroot, csum, origin, options.kargs, log);
  await finalizeDeployment(sysroot, d, options.merge ?? null, log);
  return d;
}

// ---------------------------------------------------------------------------------------------
// New deployment list (§1.11)

export interface SimpleWriteFlags {
  retain?: boolean;
  retainPending?: boolean;
  retainRollback?: boolean;
  notAsDefault?: boolean;
}

/** Compute the new list for `newDep` (pure; see §1.11). */
export function computeSimpleDeploymentList(sysroot: Sysroot, stateroot: string | null, newDep: Deployment, merge: Deployment | null, flags: SimpleWriteFlags): Deployment[] {
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

export async function simpleWriteDeployment(sysroot: Sysroot, stateroot: string | null, newDep: Deployment, merge: Deployment | null, flags: SimpleWriteFlags & { cleanup?: boolean; log?: Log }): Promise<void> {
  const list = computeSimpleDeploymentList(sysroot, stateroot, newDep, merge, flags);
  await sysroot.writeDeployments(list, { cleanup: flags.cleanup ?? true, log: flags.log ?? noLog });
}

// ---------------------------------------------------------------------------------------------
// Kernel arguments for deploy (§6.2)

export interface KargOptions {
  karg?: string[];
  kargAppend?: string[];
  kargDelete?: string[];
  kargProcCmdline?: boolean;
  kargNone?: boolean;
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
    const cmdline = fs.readFileSync(process.env['OSTREE_TS_PROC_CMDLINE'] ?? '/proc/cmdline', 'utf8').trim();
    k = KernelArgs.parse(cmdline);
    // drop what only makes sense for the running boot
    k.deleteIfPresent('BOOT_IMAGE');
    k.deleteIfPresent('initrd');
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

// ---------------------------------------------------------------------------------------------
// ostree admin deploy

export interface AdminDeployOptions extends KargOptions, SimpleWriteFlags {
  stateroot?: string;
  originFile?: string;
  noMerge?: boolean;
  noPrune?: boolean;
  stage?: boolean;
  lockFinalization?: boolean;
  log?: Log;
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
    if (!stateroot) throw new OstreeError('EINVAL', 'Not currently booted into an OSTree system and no --os= argument given');
    requireStateroot(sysroot, stateroot);
    let origin: Origin;
    if (opts.originFile) {
      let text: string;
      try { text = fs.readFileSync(opts.originFile, 'utf8'); } catch (e) { throw new OstreeError('ENOENT', `Reading origin file ${opts.originFile}: ${(e as Error).message}`, { cause: e }); }
      origin = Origin.parse(text, opts.originFile);
    } else {
      origin = Origin.forRefspec(refspec);
    }
    const repo = await sysroot.repo();
    const csum = await repo.resolveRev(refspec);
    const merge = opts.noMerge ? null : sysroot.mergeDeployment(stateroot);
    const kargs = computeKargs(opts, merge, !!opts.noMerge);

    if (opts.stage) {
      const d = await stageTree(sysroot, stateroot, csum, origin, { merge, kargs, lockFinalization: !!opts.lockFinalization, log });
      return d;
    }
    await sysroot.cleanup({ prune: false });
    const d = await deployTree(sysroot, stateroot, csum, origin, { merge, kargs, log });
    await simpleWriteDeployment(sysroot, stateroot, d, merge, {
      retain: opts.retain, retainPending: opts.retainPending, retainRollback: opts.retainRollback,
      notAsDefault: opts.notAsDefault, cleanup: !opts.noPrune, log,
    });
    return d;
  });
}

// ---------------------------------------------------------------------------------------------
// Staging (§5.1) and finalization (§5.2)

export interface StageOptions { merge: Deployment | null; kargs: string[] | null; lockFinalization?: boolean; log?: Log }

export async function stageTree(sysroot: Sysroot, stateroot: string, csum: string, origin: Origin | null, options: StageOptions): Promise<Deployment> {
  return withFaultOp('stage', async () => {
    if (!sysroot.loaded) await sysroot.load();
    if (!sysroot.booted) throw new OstreeError('ESTATE', 'Cannot stage deployment: Not currently booted into an OSTree system');
    const runOstree = path.join(runDir(), 'ostree');
    mkdirp(runOstree, 0o755);
    if (options.lockFinalization) {
      fs.writeFileSync(sysroot.stagedLockedPath, '', { mode: 0o640 });
    }
    const old = sysroot.stagedDeployment;
    const d = await initializeDeployment(sysroot, stateroot, csum, origin, options.kargs, options.log ?? noLog);
    const rec = {
      target: { name: d.name, osname: d.stateroot, bootcsum: d.bootcsum },
      ...(options.merge ? { mergeDeployment: { name: options.merge.name, osname: options.merge.stateroot, bootcsum: options.merge.bootcsum } } : {}),
      ...(options.kargs ? { kargs: options.kargs } : {}),
    };
    writeFileAtomic(sysroot.stagedRecordPath, (await stagedRecord()).encodeStagedRecord(rec), { mode: 0o644 });
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

/**
 * `ostree admin finalize-staged`: turn the staged deployment into a real one (at shutdown).
 * On failure the message is written to /boot/ostree/finalize-failure.stamp.
 */
export async function finalizeStaged(sysroot: Sysroot, log: Log = noLog): Promise<'not-booted' | 'none' | 'locked' | 'finalized'> {
  if (!lstatOrNull(path.join(runDir(), 'ostree-booted'))) return 'not-booted';
  return withFaultOp('finalize', async () => {
    try {
      if (!sysroot.loaded) await sysroot.load();
      const staged = sysroot.stagedDeployment;
      // These go to the journal upstream, not to stdout.
      if (!staged) { journal('No deployment staged for finalization'); return 'none'; }
      if (sysroot.stagedLocked) { journal(`Not finalizing; found ${sysroot.stagedLockedPath}`); return 'locked'; }
      const rec = (await stagedRecord()).decodeStagedRecord(fs.readFileSync(sysroot.stagedRecordPath));
      let merge: Deployment | null = null;
      if (rec.mergeDeployment) {
        const mname = rec.mergeDeployment.name;
        merge = sysroot.deployments.find((x) => !x.staged && x.name === mname && x.stateroot === rec.mergeDeployment!.osname) ?? null;
        if (!merge) throw new OstreeError('ESTATE', `Failed to find merge deployment ${mname} for staged deployment ${staged.name}`);
      }
      journal('Finalizing staged deployment');
      // Unlink the record first: an interrupted finalization must not be retried.
      fs.rmSync(sysroot.stagedRecordPath, { force: true });
      faultStep('record-unlinked');
      const d = staged.clone();
      d.staged = false;
      d.bootconfig = d.bootconfig.clone();
      if (rec.kargs) d.bootconfig.options = KernelArgs.fromArray(rec.kargs).toString();
      await finalizeDeployment(sysroot, d, merge, log);
      // The staged deployment is no longer in /run: treat the list as not containing it.
      sysroot.deployments = sysroot.deployments.filter((x) => !x.staged);
      sysroot.stagedDeployment = null;
      await simpleWriteDeployment(sysroot, d.stateroot, d, merge, { cleanup: false, log });
      return 'finalized';
    } catch (e) {
      if (e instanceof OstreeError && e.code === 'EFAULT_INJECTED') throw e;
      try {
        mkdirp(sysroot.abs('boot/ostree'), 0o755);
        writeFileAtomic(sysroot.abs('boot/ostree/finalize-failure.stamp'), `${(e as Error).message}\n`);
      } catch { /* best effort */ }
      throw e;
    }
  });
}

/** `ostree admin boot-complete`: report (and clear) a finalization failure of the previous boot. */
export function bootComplete(sysroot: Sysroot): void {
  const stamp = sysroot.abs('boot/ostree/finalize-failure.stamp');
  let msg: string;
  try { msg = fs.readFileSync(stamp, 'utf8').trim(); } catch (e) { if (isErrno(e, 'ENOENT')) return; throw e; }
  fs.rmSync(stamp, { force: true });
  throw new OstreeError('ESTATE', `ostree-finalize-staged.service failed on previous boot: ${msg}`);
}

// ---------------------------------------------------------------------------------------------
// upgrade / switch / rollback

export interface UpgradeOptions {
  stateroot?: string;
  pull?: boolean;
  overrideCommit?: string;
  allowDowngrade?: boolean;
  stage?: boolean;
  log?: Log;
}

function mergeFor(sysroot: Sysroot, stateroot: string | undefined): Deployment {
  const os = stateroot ?? sysroot.bootedDeployment?.stateroot;
  if (!os) throw new OstreeError('EINVAL', 'Not currently booted into an OSTree system and no OS specified');
  const merge = sysroot.mergeDeployment(os);
  if (!merge) throw new OstreeError('ENOENT', `No previous deployment for OS '${os}'`);
  return merge;
}

/** URL of a configured remote (repo config `[remote "NAME"] url`, or the sysroot's remotes.d). */
async function remoteUrl(sysroot: Sysroot, remote: string): Promise<string> {
  const pull = await import('../../repo/pull/http.js');
  return pull.getRemote(await sysroot.repo(), remote, { sysroot: sysroot.path }).url;
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

// ---------------------------------------------------------------------------------------------
// undeploy / pin / set-origin / kargs / config-diff

/** Parse an index argument the way upstream's pin does. */
export function parseIndex(s: string): number {
  if (!/^[0-9]+$/.test(s)) throw new OstreeError('EINVAL', `Invalid index: ${s}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n > 0x7fffffff) throw new OstreeError('EINVAL', `Index too large: ${s}`);
  return n;
}

function deploymentAt(sysroot: Sysroot, index: number): Deployment {
  const d = sysroot.deployments[index];
  if (!d) throw new OstreeError('EINVAL', `Out of range deployment index ${index}, expected < ${sysroot.deployments.length}`);
  return d;
}

export async function undeploy(sysroot: Sysroot, index: number, log: Log = noLog): Promise<Deployment> {
  return withFaultOp('undeploy', async () => {
    if (!sysroot.loaded) await sysroot.load();
    const target = deploymentAt(sysroot, index);
    if (target.sameAs(sysroot.bootedDeployment)) throw new OstreeError('ESTATE', `Cannot undeploy currently booted deployment ${index}`);
    if (target.staged) {
      sysroot.discardStaged(target);
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
  const d = deploymentAt(sysroot, index);
  if (d.staged) throw new OstreeError('ESTATE', 'Cannot pin staged deployment');
  const word = pin ? 'pinned' : 'unpinned';
  if (d.pinned === pin) { log(`Deployment ${index} is already ${word}`); return; }
  const o = d.origin ? d.origin.clone() : Origin.parse('', sysroot.originPath(d));
  o.setPinned(pin);
  sysroot.writeOrigin(d, o);
  log(`Deployment ${index} is now ${word}`);
}

export async function setOrigin(sysroot: Sysroot, remote: string, url: string, branch: string | undefined, opts: { index?: number; set?: string[] } = {}): Promise<void> {
  if (!sysroot.loaded) await sysroot.load();
  let d: Deployment;
  if (opts.index !== undefined) d = deploymentAt(sysroot, opts.index);
  else if (sysroot.bootedDeployment) d = sysroot.bootedDeployment;
  else throw new OstreeError('EINVAL', 'Not currently booted into an OSTree system; use --index to choose a deployment');
  const options: Record<string, string> = {};
  for (const kv of opts.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new OstreeError('EINVAL', `Invalid --set '${kv}', expected KEY=VALUE`);
    options[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const repo = await sysroot.repo();
  await repo.addRemote(remote, url, options, true);
  const oldRef = d.origin?.ref;
  const ref = branch ?? oldRef;
  if (!ref) throw new OstreeError('EINVAL', `Deployment ${d.index} has no origin ref; give BRANCH explicitly`);
  sysroot.writeOrigin(d, Origin.forRefspec(`${remote}:${ref}`));
}

/** `kargs edit-in-place --append-if-missing=...`: rewrite every BLS entry in place (no swap). */
export async function kargsEditInPlace(sysroot: Sysroot, appendIfMissing: string[]): Promise<void> {
  if (!sysroot.loaded) await sysroot.load();
  const entriesDir = sysroot.abs(`boot/loader.${sysroot.bootversion}/entries`);
  const n = sysroot.deployments.filter((d) => !d.staged).length;
  for (const d of sysroot.deployments) {
    if (d.staged) {
      const rec = (await stagedRecord()).decodeStagedRecord(fs.readFileSync(sysroot.stagedRecordPath));
      const k = KernelArgs.fromArray(rec.kargs ?? KernelArgs.parse(sysroot.mergeDeployment(d.stateroot)?.bootconfig.options ?? '').toArray());
      for (const a of appendIfMissing) k.appendIfMissing(a);
      rec.kargs = k.toArray();
      writeFileAtomic(sysroot.stagedRecordPath, (await stagedRecord()).encodeStagedRecord(rec), { mode: 0o644 });
      continue;
    }
    const k = d.bootconfig.kernelArgs();
    for (const a of appendIfMissing) k.appendIfMissing(a);
    d.bootconfig.options = k.toString();
    const file = findEntryFile(entriesDir, d) ?? `ostree-${n - (d.index - (sysroot.stagedDeployment ? 1 : 0))}-${d.stateroot}.conf`;
    await writeBlsEntry(entriesDir, file, d.bootconfig);
  }
  sysroot.bumpMtime();
}

/** The file in `entriesDir` whose `ostree=` argument equals that of `d`. */
function findEntryFile(entriesDir: string, d: Deployment): string | null {
  const arg = d.bootconfig.ostreeArg();
  for (const n of safeReaddir(entriesDir)) {
    if (!n.startsWith('ostree-') || !n.endsWith('.conf')) continue;
    const text = fs.readFileSync(path.join(entriesDir, n), 'utf8');
    const m = /^options\s.*$/m.exec(text);
    if (m && arg && m[0].split(/\s+/).includes(`ostree=${arg}`)) return n;
  }
  return null;
}

export async function configDiff(sysroot: Sysroot, stateroot?: string): Promise<string> {
  if (!sysroot.loaded) await sysroot.load();
  const merge = mergeFor(sysroot, stateroot);
  const dir = sysroot.deploymentDirectory(merge);
  const diff = await diffEtc(path.join(dir, 'usr/etc'), path.join(dir, 'etc'));
  return formatConfigDiff(diff);
}

// ---------------------------------------------------------------------------------------------
// unlock (§6.10)

export type UnlockMode = 'development' | 'transient' | 'hotfix';

export async function unlock(sysroot: Sysroot, mode: UnlockMode, log: Log = noLog): Promise<void> {
  if (!sysroot.loaded) await sysroot.load();
  const booted = sysroot.requireBooted('unlock');
  if (booted.unlocked !== 'none') throw new OstreeError('ESTATE', `Deployment is already in unlocked state: ${booted.unlocked}`);
  const deployDir = sysroot.deploymentDirectory(booted);
  const rootUsr = path.join(process.env['OSTREE_TS_ROOT_DIR'] ?? '/', 'usr');
  const usrMode = fs.statSync(rootUsr).mode & 0o7777;
  if (mode === 'hotfix') {
    // Non-default clone of the booted deployment as the rollback target.
    const clone = await deployTree(sysroot, booted.stateroot, booted.csum, booted.origin?.withoutTransientState() ?? null, {
      merge: booted, kargs: booted.bootconfig.kernelArgs().toArray().filter((a) => !a.startsWith('ostree=')), log,
    });
    await simpleWriteDeployment(sysroot, booted.stateroot, clone, booted, { notAsDefault: true, cleanup: false, log });
    sysroot.makeMutable(booted);
    const upper = path.join(deployDir, '.usr-ovl-upper');
    const work = path.join(deployDir, '.usr-ovl-work');
    mkdirp(upper, usrMode); mkdirp(work, usrMode);
    libc.mount('overlay', rootUsr, 'overlay', 0, `lowerdir=${rootUsr},upperdir=${upper},workdir=${work}`);
    const cur = sysroot.deployments.find((d) => d.sameAs(booted)) ?? booted;
    const o = cur.origin ? cur.origin.clone() : Origin.parse('', sysroot.originPath(cur));
    o.setUnlocked('hotfix');
    sysroot.writeOrigin(cur, o);
    log('Hotfix mode enabled.  A writable overlayfs is now mounted on /usr\nfor this booted deployment.  A non-hotfixed clone has been created\nas the non-default rollback target.');
    return;
  }
  const varTmp = path.join(process.env['OSTREE_TS_ROOT_DIR'] ?? '/', 'var/tmp');
  mkdirp(varTmp, 0o1777);
  const ovl = fs.mkdtempSync(path.join(varTmp, 'ostree-unlock-ovl.'));
  const upper = path.join(ovl, 'upper');
  const work = path.join(ovl, 'work');
  fs.mkdirSync(upper, usrMode); fs.mkdirSync(work, usrMode);
  libc.mount('overlay', rootUsr, 'overlay', mode === 'transient' ? libc.MS_RDONLY : 0, `lowerdir=${rootUsr},upperdir=${upper},workdir=${work}`);
  const stateDir = path.join(runDir(), 'ostree/deployment-state', booted.name);
  mkdirp(stateDir, 0o755);
  fs.writeFileSync(path.join(stateDir, mode === 'transient' ? 'unlocked-transient' : 'unlocked-development'), ovl);
  sysroot.bumpMtime();
  if (mode === 'transient') {
    log('A writable overlayfs is prepared for /usr, but is mounted read-only by default.\nAll changes there will be discarded on reboot.');
  } else {
    log('Development mode enabled.  A writable overlayfs is now mounted on /usr.\nAll changes there will be discarded on reboot.');
  }
}

function safeReaddir(p: string): string[] {
  try { return fs.readdirSync(p); } catch (e) { if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return []; throw e; }
}
