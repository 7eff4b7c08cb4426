/**
 * The deployment model and the loading of the sysroot's state, as upstream 2022.7 reads it
 * (ostree-sysroot.c; notes §1.8):
 *
 * - the BLS entries of `boot/loader.<B>/entries` are the only record of the deployment list
 *   and its order; each entry's `ostree=` argument names a bootlink
 *   `ostree/boot.B/<os>/<bootcsum>/<bootserial>` that points at the deployment directory;
 * - a deployment's `.origin` file and `/run/ostree/deployment-state/<name>/` give its origin,
 *   pin and unlock state;
 * - when booted, `/run/ostree/staged-deployment` adds a staged deployment in front.
 *
 * Every name read back from disk (stateroot, deployment name, bootcsum) is validated by
 * layout.ts before a path is built from it, and every file parsed here is size-bounded before
 * it is read (formats/*).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import { BlsEntry, parseBlsEntryFileName, readBlsEntries } from './formats/bls.js';
import { parseCounterSuffix, type CounterState } from './boot-counting/entry-name.js';
import { Origin, readOriginFile } from './formats/origin.js';
import {
  DEPLOY_ROOT_REL, bootedFlagPath, bootlinksLinkRel, deploymentName, deploymentRel, deploymentStateDir, entriesRel, isChecksum,
  loaderLinkRel, originRel, parseDeploymentName, rootDir, stagedLockedPath, stagedRecordPath, validateStateroot,
} from './layout.js';
import { lstatOrNull, readlinkOrNull, statOrNull } from '../util/fs.js';

export type UnlockedState = 'none' | 'development' | 'transient' | 'hotfix';

/** One deployment: a checked-out commit in `ostree/deploy/<stateroot>/deploy/<csum>.<serial>`. */
export class Deployment {
  /** Position in the list (0 = default boot entry); -1 until placed in a list. */
  index = -1;
  /** Per-bootcsum counter (see bootlinks); -1 until assigned by writeDeployments. */
  bootserial = -1;
  /** The BLS entry (parsed from disk for existing deployments; unknown keys survive). */
  bootconfig: BlsEntry = new BlsEntry();
  /** The `.origin` file, or null when the deployment has none. */
  origin: Origin | null = null;
  unlocked: UnlockedState = 'none';
  staged = false;
  /** Staged deployments: the kernel arguments given explicitly when staging (else null). */
  stagedKargs: string[] | null = null;
  /** sha256 ids of overlay initrds. */
  overlayInitrds: string[] = [];
  /** Boot counting in the entry's file name (boot-counting/entry-name.ts): undefined until written. */
  bootCounter: CounterState = undefined;

  /** The stateroot is validated here too: no Deployment can name a path outside the sysroot. */
  constructor(
    readonly stateroot: string,
    readonly csum: string,
    readonly deployserial: number,
    public bootcsum: string,
  ) {
    validateStateroot(stateroot);
    if (!isChecksum(csum)) throw new OstreeError('EINVAL', `Invalid commit checksum '${csum}' for a deployment`);
    if (!Number.isSafeInteger(deployserial) || deployserial < 0) throw new OstreeError('EINVAL', `Invalid deployment serial ${deployserial}`);
  }

  /** `<csum>.<deployserial>` */
  get name(): string { return deploymentName(this.csum, this.deployserial); }
  /** Path relative to the sysroot. */
  get relpath(): string { return deploymentRel(this.stateroot, this.name); }
  get originRelpath(): string { return originRel(this.stateroot, this.name); }
  get pinned(): boolean { return this.origin?.pinned ?? false; }
  /** `[origin] refspec`, or null. */
  get refspec(): string | null { return this.origin?.refspec ?? null; }

  /** Same deployment (stateroot, commit and serial). */
  sameAs(o: Deployment | null | undefined): boolean {
    return !!o && o.stateroot === this.stateroot && o.csum === this.csum && o.deployserial === this.deployserial;
  }

  clone(): Deployment {
    const d = new Deployment(this.stateroot, this.csum, this.deployserial, this.bootcsum);
    d.index = this.index;
    d.bootserial = this.bootserial;
    d.bootconfig = this.bootconfig.clone();
    d.origin = this.origin ? this.origin.clone() : null;
    d.unlocked = this.unlocked;
    d.staged = this.staged;
    d.stagedKargs = this.stagedKargs ? [...this.stagedKargs] : null;
    d.overlayInitrds = [...this.overlayInitrds];
    d.bootCounter = this.bootCounter === undefined || this.bootCounter === null ? this.bootCounter : { ...this.bootCounter };
    return d;
  }
}

/** Walk the list keeping a counter per bootcsum (not per stateroot), as upstream. */
export function assignBootserials(list: Deployment[]): void {
  const counters = new Map<string, number>();
  for (const d of list) {
    const n = counters.get(d.bootcsum) ?? 0;
    d.bootserial = n;
    counters.set(d.bootcsum, n + 1);
  }
}

/** bootversion from the `boot/loader` symlink (missing → 0). */
export function readBootversion(sysrootPath: string): 0 | 1 {
  const p = path.join(sysrootPath, loaderLinkRel());
  const st = lstatOrNull(p);
  if (!st) return 0;
  if (!st.isSymbolicLink()) throw new OstreeError('ECORRUPT', `${p} is not a symlink (expected loader.0 or loader.1)`, { path: p });
  const t = fs.readlinkSync(p);
  if (t === 'loader.0') return 0;
  if (t === 'loader.1') return 1;
  throw new OstreeError('ECORRUPT', `Invalid target '${t}' of symlink ${p} (expected loader.0 or loader.1)`, { path: p });
}

/** subbootversion from `ostree/boot.<B>` (missing → 0). */
export function readSubbootversion(sysrootPath: string, bootversion: number): 0 | 1 {
  const p = path.join(sysrootPath, bootlinksLinkRel(bootversion));
  let t: string | null;
  try {
    t = fs.readlinkSync(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return 0;
    if (isErrno(e, 'EINVAL')) throw new OstreeError('ECORRUPT', `${p} is not a symlink`, { path: p });
    throw e;
  }
  if (t.endsWith('.0')) return 0;
  if (t.endsWith('.1')) return 1;
  throw new OstreeError('ECORRUPT', `Invalid target '${t}' of symlink ${p} (expected boot.${bootversion}.0 or boot.${bootversion}.1)`, { path: p });
}

/** Origin file and unlock state of a deployment. */
export function loadDeploymentState(sysrootPath: string, d: Deployment): void {
  d.origin = readOriginFile(path.join(sysrootPath, d.originRelpath));
  const stateDir = deploymentStateDir(d.name);
  if (lstatOrNull(path.join(stateDir, 'unlocked-development'))) d.unlocked = 'development';
  else if (lstatOrNull(path.join(stateDir, 'unlocked-transient'))) d.unlocked = 'transient';
  else if (d.origin?.isHotfix) d.unlocked = 'hotfix';
  else d.unlocked = 'none';
}

/** The deployment a BLS entry's bootlink points at (names validated; the directory must exist). */
function deploymentFromEntry(sysrootPath: string, bootlink: { stateroot: string; bootcsum: string }, ostreeArg: string, source: string): Deployment {
  validateStateroot(bootlink.stateroot, source);
  if (!isChecksum(bootlink.bootcsum)) {
    throw new OstreeError('ECORRUPT', `${source}: invalid boot checksum '${bootlink.bootcsum}' in ostree=${ostreeArg}`, { path: source });
  }
  const linkRel = ostreeArg.replace(/^\//, '');
  const target = readlinkOrNull(path.join(sysrootPath, linkRel));
  if (target === null) {
    throw new OstreeError('ECORRUPT', `Failed to find deployment of ${source}: bootlink ${linkRel} does not exist`, { path: source });
  }
  const base = path.basename(target);
  const parsed = parseDeploymentName(base);
  if (!parsed) throw new OstreeError('ECORRUPT', `Invalid deployment name '${base}' (bootlink ${linkRel} in ${source}), expected CHECKSUM.SERIAL`, { path: source });
  return new Deployment(bootlink.stateroot, parsed.csum, parsed.serial, bootlink.bootcsum);
}

export interface LoadedState {
  booted: boolean;
  bootversion: 0 | 1;
  subbootversion: 0 | 1;
  /** staged first (when there is one), then the BLS entries in order; indexes assigned */
  deployments: Deployment[];
  bootedDeployment: Deployment | null;
  stagedDeployment: Deployment | null;
  stagedLocked: boolean;
}

function sameInode(a: fs.Stats | null, b: fs.Stats | null): boolean {
  return !!a && !!b && a.dev === b.dev && a.ino === b.ino;
}

/** Read the deployment list of the sysroot at `sysrootPath` (see the file comment). */
export async function loadSysrootState(sysrootPath: string): Promise<LoadedState> {
  const sysrootSt = statOrNull(sysrootPath);
  if (!sysrootSt || !sysrootSt.isDirectory()) {
    throw new OstreeError('ENOENT', `Sysroot ${sysrootPath} does not exist or is not a directory`, { path: sysrootPath });
  }
  const deployRoot = path.join(sysrootPath, DEPLOY_ROOT_REL);
  if (!lstatOrNull(deployRoot)?.isDirectory()) {
    throw new OstreeError('ENOENT', `${deployRoot} not found: ${sysrootPath} is not an OSTree sysroot (run 'ostree admin init-fs ${sysrootPath}')`, { path: sysrootPath });
  }
  const rootSt = statOrNull(rootDir());
  const booted = lstatOrNull(bootedFlagPath()) !== null && sameInode(rootSt, sysrootSt);
  const bootversion = readBootversion(sysrootPath);
  const subbootversion = readSubbootversion(sysrootPath, bootversion);

  const list: Deployment[] = [];
  let bootedDeployment: Deployment | null = null;
  for (const ef of await readBlsEntries(path.join(sysrootPath, entriesRel(bootversion)))) {
    const d = deploymentFromEntry(sysrootPath, ef.bootlink, ef.ostreeArg, ef.path);
    d.bootconfig = ef.entry;
    d.overlayInitrds = ef.overlayInitrdIds;
    d.bootserial = ef.bootlink.bootserial;
    d.bootCounter = parseCounterSuffix(parseBlsEntryFileName(ef.fileName)?.counter);
    const dirSt = lstatOrNull(path.join(sysrootPath, d.relpath));
    if (!dirSt?.isDirectory()) {
      throw new OstreeError('ECORRUPT', `Deployment directory ${d.relpath} named by ${ef.path} is missing or not a directory`, { path: ef.path });
    }
    if (booted && sameInode(dirSt, rootSt)) bootedDeployment = d;
    loadDeploymentState(sysrootPath, d);
    list.push(d);
  }
  let stagedDeployment: Deployment | null = null;
  let stagedLocked = false;
  if (booted) {
    const staged = await loadStaged(sysrootPath);
    if (staged) {
      stagedDeployment = staged.deployment;
      stagedLocked = staged.locked;
      list.unshift(staged.deployment);
    }
  }
  list.forEach((d, i) => { d.index = i; });
  return { booted, bootversion, subbootversion, deployments: list, bootedDeployment, stagedDeployment, stagedLocked };
}

async function loadStaged(sysrootPath: string): Promise<{ deployment: Deployment; locked: boolean } | null> {
  const { readStagedRecord } = await import('./formats/staged-record.js');
  const rec = readStagedRecord(stagedRecordPath());
  if (rec === null) return null;
  const source = stagedRecordPath();
  const parsed = parseDeploymentName(rec.target.name);
  if (!parsed) throw new OstreeError('ECORRUPT', `${source}: invalid deployment name '${rec.target.name}'`, { path: source });
  validateStateroot(rec.target.osname, source);
  if (!isChecksum(rec.target.bootcsum)) throw new OstreeError('ECORRUPT', `${source}: invalid boot checksum '${rec.target.bootcsum}'`, { path: source });
  const d = new Deployment(rec.target.osname, parsed.csum, parsed.serial, rec.target.bootcsum);
  d.staged = true;
  d.stagedKargs = rec.kargs ?? null;
  d.overlayInitrds = rec.overlayInitrds ?? [];
  if (!lstatOrNull(path.join(sysrootPath, d.relpath))?.isDirectory()) {
    throw new OstreeError('ECORRUPT', `Staged deployment ${d.relpath} named by ${source} is missing`, { path: source });
  }
  loadDeploymentState(sysrootPath, d);
  return { deployment: d, locked: lstatOrNull(stagedLockedPath()) !== null || rec.locked === true };
}
