/**
 * Writing the deployment list (upstream ostree_sysroot_write_deployments_with_options,
 * ostree-sysroot-deploy.c; notes §1.9–§1.10), in upstream's crash-safe order: everything new is
 * written under names the live configuration does not reference, then a full sync, then one
 * symlink rename commits.
 *
 * - Only the bootlinks change (same entries, same kernels): write `ostree/boot.B.(1-S)`, sync,
 *   swap the `ostree/boot.B` link.
 * - Otherwise a full bootswap to B' = 1 - B: kernels into /boot, BLS entries into
 *   `boot/loader.B'/entries` (names from formats/bls), bootlinks `ostree/boot.B'.S'`, the
 *   bootloader's own configuration, `boot/loader.tmp` -> `loader.B'`, sync, rename it over
 *   `boot/loader`, fsync /boot.
 *
 * Each step is a fault point (fault.ts): a crash at any of them leaves the old list bootable.
 */
import { repoConfig } from './sysroot-config.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import * as libc from '../native/libc.js';
import { bootCountingTries, counterToWrite, entryFileName } from './boot-counting/entry-name.js';
import { counterId } from './boot-counting/grub-counter.js';
import type { Bootloader, BootMenuEntry } from './bootloader/types.js';
import { selectBootloader } from './bootloader/registry.js';
import { assignBootserials, type Deployment } from './deployment.js';
import { installDeploymentKernel } from './boot-entry.js';
import {
  LOADER_TMP_REL, bootlinkDirRel, bootlinkTarget, bootlinksLinkRel, bootlinksRel, entriesRel, loaderLinkRel, rootDir, sysrootDebug, sysrootOpt,
} from './layout.js';
import type { SysrootState } from './state.js';
import { cleanupSysroot } from './cleanup.js';
import { faultStep, withFaultOp } from './fault.js';
import { freezeThawWithWatchdog, startFreezeWatchdog } from './freeze-watchdog.js';
import { lstatOrNull, mkdirp, readlinkOrNull, symlinkAtomic, writeFileAtomic } from '../util/fs.js';
import { rmrf } from '../util/tree.js';

export interface WriteDeploymentsOptions {
  /** Run cleanup (§1.12, with repo prune) afterwards.  Default false. */
  cleanup?: boolean;
  /** Run prepare-cleanup (no prune) afterwards.  Default true when cleanup is false. */
  prepareCleanup?: boolean;
  /** Called with the user-visible messages (`Transaction complete; ...`). */
  log?: (msg: string) => void;
  /** The number of deployments the reported count change is counted from, when the operation
   *  started with more than are listed now (an incremental deploy first writes the list without
   *  the deployment it recycles: deploy/recycle.ts). Default: the current list's. */
  countChangeBase?: number;
}

export interface WriteDeploymentsResult {
  bootconfigSwap: boolean;
  bootversion: number;
  subbootversion: number;
  countChange: number;
  message: string;
  noop: boolean;
}

/**
 * Make `newList` the deployment list.  Staged deployments: one that is not first in
 * `newList` is discarded (its /run record and directory); one that is first stays staged
 * (only in /run) and is not written to /boot.
 */
export async function writeDeployments(sysroot: SysrootState, newList: Deployment[], options: WriteDeploymentsOptions = {}): Promise<WriteDeploymentsResult> {
  return withFaultOp('write', () => writeDeploymentsImpl(sysroot, newList, options));
}

async function writeDeploymentsImpl(sysroot: SysrootState, newListIn: Deployment[], options: WriteDeploymentsOptions): Promise<WriteDeploymentsResult> {
  if (!sysroot.loaded) await sysroot.load();
  const log = options.log ?? (() => {});
  ensureWritable(sysroot);
  const newList = prepareList(sysroot, newListIn);
  const oldList = sysroot.deployments.filter((d) => !d.staged);

  const countChange = newList.length - oldList.length;
  const config = await repoConfig(sysroot);
  const tries = bootCountingTries(config);
  const requiresNewBootversion = countChange !== 0 || !(await sameBootconfigs(sysroot, oldList, newList)) ||
    (tries > 0 && !sameCounters(oldList, newList));
  const identical = !requiresNewBootversion && newList.every((d, i) => d.sameAs(oldList[i]) && d.bootserial === oldList[i]!.bootserial);
  if (identical && oldList.length > 0) {
    // No change at all.  (An empty → empty write is not a no-op upstream either.)
    sysroot.bumpMtime();
    await sysroot.reload();
    return { bootconfigSwap: false, bootversion: sysroot.bootversion, subbootversion: sysroot.subbootversion, countChange: 0, message: '', noop: true };
  }

  const bootloader = selectBootloader(sysroot.path, config);
  const [bootversion, subbootversion] = requiresNewBootversion
    ? await fullBootswap(sysroot, newList, bootloader, tries)
    : await swapBootlinks(sysroot, newList);

  // Upstream: a sub-bootversion swap is always atomic; a bootswap is if the backend says so.
  const prefix = !requiresNewBootversion || bootloader.isAtomic() ? 'Transaction complete' : 'Bootloader updated';
  const reportedChange = newList.length - (options.countChangeBase ?? oldList.length);
  const message = `${prefix}; bootconfig swap: ${requiresNewBootversion ? 'yes' : 'no'}; bootversion: boot.${bootversion}.${subbootversion}, deployment count change: ${reportedChange}`;
  log(message);

  sysroot.bumpMtime();
  faultStep('mtime-bumped');
  await sysroot.reload();
  if (options.cleanup) await cleanupSysroot(sysroot, { prune: true, log });
  else if (options.prepareCleanup !== false) await cleanupSysroot(sysroot, { prune: false, log });
  return { bootconfigSwap: requiresNewBootversion, bootversion, subbootversion, countChange, message, noop: false };
}

/** When booted, remount /sysroot and /boot read-write if they are read-only (sysroot.readonly). */
function ensureWritable(sysroot: SysrootState): void {
  if (!sysroot.booted || rootDir() !== '/') return;
  let mountinfo = '';
  try { mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return; }
  for (const target of ['/sysroot', '/boot']) {
    const line = mountinfo.split('\n').reverse().find((l) => l.split(' ')[4] === target);
    if (!line) continue;
    const opts = line.split(' ')[5] ?? '';
    if (!opts.split(',').includes('ro')) continue;
    libc.remount(target, libc.MS_REMOUNT | libc.MS_RELATIME);
  }
}

/** Remove a staged deployment: its /run record, lock file, directory and origin. */
export function discardStaged(sysroot: SysrootState, d: Deployment): void {
  fs.rmSync(sysroot.stagedRecordPath, { force: true });
  fs.rmSync(sysroot.stagedLockedPath, { force: true });
  rmrf(sysroot.deploymentDirectory(d));
  fs.rmSync(sysroot.originPath(d), { force: true });
}

/** Staged handling, sanity checks, bootserials and indexes; returns the non-staged list. */
function prepareList(sysroot: SysrootState, newListIn: Deployment[]): Deployment[] {
  const staged = sysroot.stagedDeployment;
  if (staged && !newListIn[0]?.sameAs(staged)) {
    discardStaged(sysroot, staged);
    faultStep('staged-handled');
  }
  const newList = newListIn.filter((d) => !d.staged);
  // The booted deployment must stay; every directory must exist; no duplicates.
  if (sysroot.bootedDeployment && !newList.some((d) => d.sameAs(sysroot.bootedDeployment))) {
    throw new OstreeError('ESTATE', 'Attempting to remove booted deployment');
  }
  const seen = new Set<string>();
  for (const d of newList) {
    const key = `${d.stateroot}/${d.name}`;
    if (seen.has(key)) throw new OstreeError('EINVAL', `Deployment ${d.name} appears twice in the new deployment list`);
    seen.add(key);
    if (!lstatOrNull(sysroot.deploymentDirectory(d))?.isDirectory()) {
      throw new OstreeError('ENOENT', `Deployment directory ${d.relpath} does not exist`);
    }
  }
  assignBootserials(newList);
  newList.forEach((d, i) => { d.index = i; });
  return newList;
}

/** Upstream's bootconfig equality, position by position: bootcsum, overlay initrds, kernel
 * arguments other than ostree=, commit version.  Lists of the same length only. */
async function sameBootconfigs(sysroot: SysrootState, oldList: Deployment[], newList: Deployment[]): Promise<boolean> {
  for (let i = 0; i < newList.length; i++) {
    const a = oldList[i]!, b = newList[i]!;
    if (a.bootcsum !== b.bootcsum) return false;
    if ([...a.overlayInitrds].sort().join(',') !== [...b.overlayInitrds].sort().join(',')) return false;
    if (a.bootconfig.optionsWithoutOstree() !== b.bootconfig.optionsWithoutOstree()) return false;
    if ((await sysroot.commitVersion(a.csum)) !== (await sysroot.commitVersion(b.csum))) return false;
  }
  return true;
}

/**
 * With boot counting, the entries name the deployments they count (file name and the GRUB
 * counter's id): a list in another order, or with another counter, needs new entries even
 * when the boot configurations are the same.
 */
function sameCounters(oldList: Deployment[], newList: Deployment[]): boolean {
  return newList.every((b, i) => {
    const a = oldList[i]!;
    return a.sameAs(b) && JSON.stringify(a.bootCounter) === JSON.stringify(b.bootCounter);
  });
}

/** `ostree/boot.B.S/<os>/<bootcsum>/<bootserial>` -> the deployment, for every deployment. */
function writeBootlinks(sysroot: SysrootState, bootversion: number, subbootversion: number, list: Deployment[]): void {
  const dir = sysroot.abs(bootlinksRel(bootversion, subbootversion));
  rmrf(dir);
  mkdirp(dir, 0o755);
  for (const d of list) {
    const parent = sysroot.abs(bootlinkDirRel(bootversion, subbootversion, d.stateroot, d.bootcsum));
    mkdirp(parent, 0o755);
    symlinkAtomic(bootlinkTarget(d.stateroot, d.name), path.join(parent, String(d.bootserial)));
  }
}

/** Same entries and kernels: new bootlinks only, swapped by one symlink rename. */
async function swapBootlinks(sysroot: SysrootState, newList: Deployment[]): Promise<[0 | 1, 0 | 1]> {
  const bootversion = sysroot.bootversion;
  const subbootversion = (1 - sysroot.subbootversion) as 0 | 1;
  writeBootlinks(sysroot, bootversion, subbootversion, newList);
  faultStep('bootlinks-written');
  await fullSync(sysroot.path);
  faultStep('synced');
  symlinkAtomic(`boot.${bootversion}.${subbootversion}`, sysroot.abs(bootlinksLinkRel(bootversion)));
  faultStep('bootlinks-swapped');
  return [bootversion, subbootversion];
}

/** Kernels and BLS entries of the new bootversion; returns the bootloader's menu. */
async function writeEntries(sysroot: SysrootState, newList: Deployment[], bootversion: 0 | 1, tries: number): Promise<BootMenuEntry[]> {
  const entriesDir = sysroot.abs(entriesRel(bootversion));
  rmrf(entriesDir);
  mkdirp(entriesDir, 0o755);
  faultStep('entries-dir-created');
  const showStateroot = new Set(newList.map((d) => d.stateroot)).size > 1;
  const menu: BootMenuEntry[] = [];
  for (const d of newList) {
    await installDeploymentKernel(sysroot, d, bootversion, newList.length, showStateroot);
    faultStep('kernel-installed');
    const bc = d.bootconfig;
    const counter = counterToWrite(d.bootCounter, tries);
    writeFileAtomic(path.join(entriesDir, entryFileName(newList.length - d.index, d.stateroot, tries, counter)), bc.serialize(), { mode: 0o644 });
    menu.push({
      ...(counter !== null && counter.left > 0 ? { counter: { id: counterId(d), tries: counter.left } } : {}),
      title: bc.title ?? '',
      linux: bc.linux ?? '',
      initrds: [bc.initrd, ...bc.overlayInitrds].filter((x): x is string => !!x),
      ...(bc.devicetree ? { devicetree: bc.devicetree } : {}),
      ...(bc.get('fdtdir') ? { fdtdir: bc.get('fdtdir')! } : {}),
      options: bc.options ?? '',
    });
  }
  faultStep('entries-written');
  return menu;
}

/** Full bootswap to B' = 1 - B (see the file comment). */
async function fullBootswap(sysroot: SysrootState, newList: Deployment[], bootloader: Bootloader, tries: number): Promise<[0 | 1, 0 | 1]> {
  const bootversion = (1 - sysroot.bootversion) as 0 | 1;
  const existingSub = readlinkOrNull(sysroot.abs(bootlinksLinkRel(bootversion)));
  const subbootversion = (existingSub !== null && existingSub.endsWith('.1') ? 0 : 1) as 0 | 1;

  const menu = await writeEntries(sysroot, newList, bootversion, tries);
  writeBootlinks(sysroot, bootversion, subbootversion, newList);
  symlinkAtomic(`boot.${bootversion}.${subbootversion}`, sysroot.abs(bootlinksLinkRel(bootversion)));
  faultStep('bootlinks-swapped');

  bootloader.writeConfig(sysroot.path, bootversion, menu);
  faultStep('bootloader-config-written');

  if (!lstatOrNull(sysroot.abs('boot/boot'))) fs.symlinkSync('.', sysroot.abs('boot/boot'));
  const tmpLink = sysroot.abs(LOADER_TMP_REL);
  fs.rmSync(tmpLink, { force: true });
  fs.symlinkSync(`loader.${bootversion}`, tmpLink);
  faultStep('loader-tmp-link');

  await fullSync(sysroot.path);
  faultStep('synced');

  fs.renameSync(tmpLink, sysroot.abs(loaderLinkRel()));
  faultStep('loader-swapped');
  libc.fsyncPath(sysroot.abs('boot'));
  faultStep('boot-dir-synced');
  bootloader.postSwap(sysroot.path);
  return [bootversion, subbootversion];
}

/**
 * Full sync (2022.7): syncfs on the sysroot filesystem, then a FIFREEZE/FITHAW cycle on /boot
 * (under upstream's watchdog, freeze-watchdog.ts) so the journal is flushed for bootloaders
 * that cannot replay it.  EOPNOTSUPP (tmpfs), ENOSYS, EPERM (also our refusal to freeze the
 * host root fs) and EBUSY fall back to syncfs.
 */
/** statfs f_type of filesystems without FIFREEZE: tmpfs, ramfs. */
const UNFREEZABLE = new Set([0x01021994, 0x858458f6]);

export async function fullSync(sysrootPath: string): Promise<void> {
  if (sysrootOpt('skip-sync')) return;
  const boot = path.join(sysrootPath, 'boot');
  const trace = process.env['OSTREE_TS_SYNC_TRACE'] ? (m: string) => process.stderr.write(`sync: ${m}\n`) : () => {};
  // (a tmpfs or ramfs cannot be frozen: no watchdog process for a FIFREEZE bound to fail)
  const canFreeze = (process.env['OSTREE_TS_ALLOW_ROOT_FREEZE'] === '1' || !libc.isOnRootFilesystem(boot)) && !UNFREEZABLE.has(fs.statfsSync(boot).type);
  // The watchdog process starts while syncfs runs.
  const watchdog = canFreeze && !sysrootDebug('test-fifreeze') ? startFreezeWatchdog(boot) : null;
  libc.syncfs(sysrootPath);
  try {
    await freezeThawWithWatchdog(boot, canFreeze, watchdog);
    trace('FIFREEZE/FITHAW /boot');
  } catch (e) {
    const fallback = ['EOPNOTSUPP', 'ENOTSUP', 'ENOSYS', 'EPERM', 'EBUSY', 'ENOTTY', 'EINVAL'].some((c) => isErrno(e, c));
    if (!fallback) throw e;
    trace(`FIFREEZE unavailable (${(e as NodeJS.ErrnoException).code}), syncfs /boot`);
    libc.syncfs(boot);
  }
}
