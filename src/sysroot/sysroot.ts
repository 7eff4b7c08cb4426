/**
 * The sysroot: the physical root holding `/ostree` and `/boot`, and its ordered list of
 * deployments, compatible with upstream ostree 2022.7 (see docs in
 * /work/shared/reference/ostree-upstream-notes.md §1.8–§1.13).
 *
 * - `load()` reads the state back exactly as upstream does: the BLS entries of
 *   `boot/loader.<B>/entries` are the only record of the deployment list and its order; each
 *   entry's `ostree=` argument names a bootlink `ostree/boot.B/<os>/<bootcsum>/<bootserial>` that
 *   points at the deployment directory.
 * - `writeDeployments()` replaces the list with the atomic write order of upstream (§1.10):
 *   everything new is written under names the live configuration does not reference, then a
 *   full sync, then one symlink rename commits.
 * - `cleanup()` removes what the current list no longer references (§1.12).
 * - `lock()` takes the sysroot lock `ostree/lock`.
 *
 * Test-only knobs (defaults are the real paths):
 *   OSTREE_TS_RUN_DIR   directory used instead of `/run` (ostree-booted, ostree/staged-deployment…)
 *   OSTREE_TS_ROOT_DIR  directory used instead of `/` when deciding "booted" (same inode test)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import type { KeyFile } from '../glib/keyfile.js';
import { Origin } from './formats/origin.js';
import * as libc from '../native/libc.js';
import { BlsEntry, blsEntryFileName, readBlsEntries, parseOstreeBootlink } from './formats/bls.js';
import { KernelArgs } from './formats/kargs.js';
import type { Repo } from '../repo/repo.js';
import type { Variant } from '../glib/gvariant.js';
import type { Bootloader, BootMenuEntry } from './bootloader/index.js';
import {
  clearImmutable, copyTree, linkOrCopy, lstatOrNull, mkdirp, parseOsRelease, readTextOrNull,
  readlinkOrNull, rmrf, statOrNull, symlinkAtomic, touchNow, writeFileAtomic,
} from '../util/fs.js';
import { faultStep, withFaultOp } from './fault.js';

export type UnlockedState = 'none' | 'development' | 'transient' | 'hotfix';

const DEPLOY_NAME_RE = /^([0-9a-f]+)\.([0-9]+)$/;

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

  constructor(
    readonly stateroot: string,
    readonly csum: string,
    readonly deployserial: number,
    public bootcsum: string,
  ) {}

  /** `<csum>.<deployserial>` */
  get name(): string { return `${this.csum}.${this.deployserial}`; }
  /** Path relative to the sysroot. */
  get relpath(): string { return `ostree/deploy/${this.stateroot}/deploy/${this.name}`; }
  get originRelpath(): string { return `${this.relpath}.origin`; }
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
    return d;
  }
}

export interface WriteDeploymentsOptions {
  /** Run cleanup (§1.12, with repo prune) afterwards.  Default false. */
  cleanup?: boolean;
  /** Run prepare-cleanup (no prune) afterwards.  Default true when cleanup is false. */
  prepareCleanup?: boolean;
  /** Called with the user-visible messages (`Transaction complete; ...`). */
  log?: (msg: string) => void;
}

export interface WriteDeploymentsResult {
  bootconfigSwap: boolean;
  bootversion: number;
  subbootversion: number;
  countChange: number;
  message: string;
  noop: boolean;
}

export interface CleanupOptions { prune?: boolean; log?: (msg: string) => void }

export function runDir(): string { return process.env['OSTREE_TS_RUN_DIR'] ?? '/run'; }
function rootDir(): string { return process.env['OSTREE_TS_ROOT_DIR'] ?? '/'; }

/** `OSTREE_SYSROOT_DEBUG` contains `flag`. */
export function sysrootDebug(flag: string): boolean {
  return (process.env['OSTREE_SYSROOT_DEBUG'] ?? '').split(',').map((s) => s.trim()).includes(flag);
}

export class Sysroot {
  readonly path: string;
  booted = false;
  bootversion: 0 | 1 = 0;
  subbootversion: 0 | 1 = 0;
  deployments: Deployment[] = [];
  bootedDeployment: Deployment | null = null;
  stagedDeployment: Deployment | null = null;
  /** True when /run/ostree/staged-deployment-locked exists (finalization blocked). */
  stagedLocked = false;
  loaded = false;
  private repoCache: Repo | null = null;
  private commitCache = new Map<string, Array<[string, Variant]> | null>();
  private lockHandle: SysrootLock | null = null;

  private constructor(p: string) { this.path = path.resolve(p); }

  /** A sysroot handle for `p` (default `$OSTREE_SYSROOT` or `/`); call `load()` to read it. */
  static async open(p?: string): Promise<Sysroot> {
    return new Sysroot(p ?? process.env['OSTREE_SYSROOT'] ?? '/');
  }

  abs(rel: string): string { return path.join(this.path, rel); }
  deploymentDirectory(d: Deployment): string { return this.abs(d.relpath); }
  originPath(d: Deployment): string { return this.abs(d.originRelpath); }
  get runDir(): string { return runDir(); }
  get stagedRecordPath(): string { return path.join(runDir(), 'ostree/staged-deployment'); }
  get stagedLockedPath(): string { return path.join(runDir(), 'ostree/staged-deployment-locked'); }

  async repo(): Promise<Repo> {
    if (!this.repoCache) {
      // Loaded on demand: `admin status` never needs the repository engine.
      const { Repo } = await import('../repo/repo.js');
      this.repoCache = await Repo.open(this.abs('ostree/repo'));
    }
    return this.repoCache;
  }

  /** Drop the cached repo (its config may have changed). */
  invalidateRepo(): void { this.repoCache = null; this.commitCache.clear(); }

  /**
   * The metadata dictionary of a commit, for the status queries, or null when the commit is not
   * in the repo.  Commit objects sit at `objects/XX/REST.commit` in every repo mode, so this reads
   * just that file, without opening the repository.
   */
  private async commitMetadataDict(csum: string): Promise<Array<[string, Variant]> | null> {
    const cached = this.commitCache.get(csum);
    if (cached !== undefined) return cached;
    if (!/^[0-9a-f]{64}$/.test(csum)) throw new OstreeError('EINVAL', `Invalid commit checksum '${csum}'`);
    let meta: Array<[string, Variant]> | null = null;
    let data: Buffer | null = null;
    try {
      data = fs.readFileSync(this.abs(`ostree/repo/objects/${csum.slice(0, 2)}/${csum.slice(2)}.commit`));
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    if (data !== null) {
      const { parseCommit } = await import('../repo/objects.js');
      meta = parseCommit(data, `commit ${csum}`).metadata;
    }
    this.commitCache.set(csum, meta);
    return meta;
  }

  private async commitMetadata(csum: string, key: string): Promise<string | null> {
    const meta = await this.commitMetadataDict(csum);
    const v = meta?.find(([k]) => k === key)?.[1];
    return v && v.type === 's' ? (v.value as string) : null;
  }

  /** The commit's `version` metadata (cached), null if none or the commit is missing. */
  async commitVersion(csum: string): Promise<string | null> {
    return this.commitMetadata(csum, 'version');
  }

  async commitSourceTitle(csum: string): Promise<string | null> {
    return this.commitMetadata(csum, 'ostree.source-title');
  }

  // -------------------------------------------------------------------------------------------
  // Loading (§1.8)

  async load(): Promise<void> {
    const sysrootSt = statOrNull(this.path);
    if (!sysrootSt || !sysrootSt.isDirectory()) {
      throw new OstreeError('ENOENT', `Sysroot ${this.path} does not exist or is not a directory`, { path: this.path });
    }
    if (!statOrNull(this.abs('ostree/deploy'))?.isDirectory()) {
      throw new OstreeError('ENOENT', `${this.abs('ostree/deploy')} not found: ${this.path} is not an OSTree sysroot (run 'ostree admin init-fs ${this.path}')`, { path: this.path });
    }
    const rootSt = statOrNull(rootDir());
    const bootedFlag = lstatOrNull(path.join(runDir(), 'ostree-booted')) !== null;
    this.booted = bootedFlag && !!rootSt && rootSt.dev === sysrootSt.dev && rootSt.ino === sysrootSt.ino;

    this.bootversion = readBootversion(this.path);
    this.subbootversion = readSubbootversion(this.path, this.bootversion);

    const entries = await readBlsEntries(this.abs(`boot/loader.${this.bootversion}/entries`));
    const list: Deployment[] = [];
    let booted: Deployment | null = null;
    for (const ef of entries) {
      const d = this.deploymentFromBootlink(ef.ostreeArg, ef.path);
      d.bootconfig = ef.entry;
      d.overlayInitrds = ef.overlayInitrdIds;
      d.bootserial = ef.bootlink.bootserial;
      const dirSt = statOrNull(this.deploymentDirectory(d));
      if (!dirSt) {
        throw new OstreeError('ECORRUPT', `Deployment directory ${d.relpath} named by ${ef.path} is missing`, { path: ef.path });
      }
      if (this.booted && rootSt && dirSt.dev === rootSt.dev && dirSt.ino === rootSt.ino) booted = d;
      this.loadDeploymentState(d);
      list.push(d);
    }
    if (this.booted && !booted) {
      // /run/ostree-booted and / is the sysroot: the booted deployment must be / itself.
      const rs = rootSt!;
      booted = list.find((d) => { const s = statOrNull(this.deploymentDirectory(d)); return !!s && s.dev === rs.dev && s.ino === rs.ino; }) ?? null;
    }
    this.stagedDeployment = null;
    this.stagedLocked = false;
    if (this.booted) {
      const staged = await this.loadStaged();
      if (staged) list.unshift(staged);
    }
    list.forEach((d, i) => { d.index = i; });
    this.deployments = list;
    this.bootedDeployment = booted;
    this.loaded = true;
  }

  /** Reload if anything changed (cheap enough to always reload). */
  async reload(): Promise<void> { this.commitCache.clear(); await this.load(); }

  private deploymentFromBootlink(ostreeArg: string, source: string): Deployment {
    const bl = parseOstreeBootlink(ostreeArg);
    const linkRel = ostreeArg.replace(/^\//, '');
    const target = readlinkOrNull(this.abs(linkRel));
    if (target === null) {
      throw new OstreeError('ECORRUPT', `Failed to find deployment of ${source}: bootlink ${linkRel} does not exist`, { path: source });
    }
    const base = path.basename(target);
    const m = DEPLOY_NAME_RE.exec(base);
    if (!m) throw new OstreeError('ECORRUPT', `Invalid deployment name '${base}' (bootlink ${linkRel} in ${source}), expected CHECKSUM.SERIAL`, { path: source });
    return new Deployment(bl.stateroot, m[1]!, Number(m[2]), bl.bootcsum);
  }

  /** Origin file and unlock state of a deployment. */
  private loadDeploymentState(d: Deployment): void {
    const op = this.originPath(d);
    const text = readTextOrNull(op);
    d.origin = null;
    if (text !== null) {
      d.origin = Origin.parse(text, op);
    }
    const stateDir = path.join(runDir(), 'ostree/deployment-state', d.name);
    if (lstatOrNull(path.join(stateDir, 'unlocked-development'))) d.unlocked = 'development';
    else if (lstatOrNull(path.join(stateDir, 'unlocked-transient'))) d.unlocked = 'transient';
    else if (d.origin?.isHotfix) d.unlocked = 'hotfix';
    else d.unlocked = 'none';
  }

  private async loadStaged(): Promise<Deployment | null> {
    let data: Buffer;
    try { data = fs.readFileSync(this.stagedRecordPath); } catch (e) { if (isErrno(e, 'ENOENT')) return null; throw e; }
    const { decodeStagedRecord } = await import('./formats/staged-record.js');
    const rec = decodeStagedRecord(data);
    const m = DEPLOY_NAME_RE.exec(rec.target.name);
    if (!m) throw new OstreeError('ECORRUPT', `${this.stagedRecordPath}: invalid deployment name '${rec.target.name}'`);
    const d = new Deployment(rec.target.osname, m[1]!, Number(m[2]), rec.target.bootcsum);
    d.staged = true;
    d.stagedKargs = rec.kargs ?? null;
    d.overlayInitrds = rec.overlayInitrds ?? [];
    if (!statOrNull(this.deploymentDirectory(d))) {
      throw new OstreeError('ECORRUPT', `Staged deployment ${d.relpath} named by ${this.stagedRecordPath} is missing`);
    }
    this.loadDeploymentState(d);
    this.stagedDeployment = d;
    this.stagedLocked = lstatOrNull(this.stagedLockedPath) !== null || rec.locked === true;
    return d;
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  /** Pending and rollback deployments of a stateroot (only meaningful when booted). */
  queryDeploymentsFor(stateroot: string | null): { pending: Deployment | null; rollback: Deployment | null } {
    const os = stateroot ?? this.bootedDeployment?.stateroot ?? null;
    let pending: Deployment | null = null;
    let rollback: Deployment | null = null;
    let foundBooted = false;
    for (const d of this.deployments) {
      if (d.stateroot !== os) continue;
      if (d.sameAs(this.bootedDeployment)) { foundBooted = true; continue; }
      if (!foundBooted && !pending) pending = d;
      else if (foundBooted && !rollback) rollback = d;
    }
    return { pending, rollback };
  }

  /** The merge deployment: the booted one if it belongs to `stateroot`, else the first of it. */
  mergeDeployment(stateroot: string): Deployment | null {
    if (this.bootedDeployment && this.bootedDeployment.stateroot === stateroot) return this.bootedDeployment;
    return this.deployments.find((d) => d.stateroot === stateroot && !d.staged) ?? null;
  }

  /** Stateroot names (`ostree/deploy/*`). */
  stateroots(): string[] {
    try { return fs.readdirSync(this.abs('ostree/deploy')).filter((n) => statOrNull(this.abs(`ostree/deploy/${n}`))?.isDirectory()); } catch { return []; }
  }

  requireBooted(what = 'perform this operation'): Deployment {
    if (!this.booted || !this.bootedDeployment) {
      throw new OstreeError('ESTATE', `Not currently booted into an OSTree system; cannot ${what}`);
    }
    return this.bootedDeployment;
  }

  /** Write a deployment's origin file atomically (null removes it) and bump the change mtime. */
  writeOrigin(d: Deployment, origin: Origin | null, bump = true): void {
    const p = this.originPath(d);
    if (origin === null) fs.rmSync(p, { force: true });
    else writeFileAtomic(p, origin.toString(), { mode: 0o644 });
    d.origin = origin;
    if (bump) this.bumpMtime();
  }

  bumpMtime(): void {
    try { touchNow(this.abs('ostree/deploy')); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; }
  }

  // -------------------------------------------------------------------------------------------
  // Locking (§1.13)

  /**
   * Take the exclusive sysroot lock `ostree/lock`.  If it is held, `onWait` is called (the CLI
   * prints `Waiting for sysroot lock...`) every 3 s until it is free, or, with `wait: false`,
   * an EBUSY error is thrown.
   */
  async lock(options: { wait?: boolean; onWait?: () => void } = {}): Promise<void> {
    if (this.lockHandle) return;
    this.lockHandle = await SysrootLock.acquire(this.abs('ostree/lock'), options);
  }

  unlock(): void {
    this.lockHandle?.release();
    this.lockHandle = null;
  }

  get locked(): boolean { return this.lockHandle !== null; }

  /** When booted, remount /sysroot and /boot read-write if they are read-only (sysroot.readonly). */
  ensureWritable(): void {
    if (!this.booted || rootDir() !== '/') return;
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

  // -------------------------------------------------------------------------------------------
  // Writing the deployment list (§1.9, §1.10)

  /** Bootloader backend per repo config. */
  async bootloader(): Promise<Bootloader> {
    let config: KeyFile | undefined;
    try { config = (await this.repo()).config; } catch (e) { if (!(e instanceof OstreeError && e.code === 'ENOENT')) throw e; }
    const { selectBootloader } = await import('./bootloader/index.js');
    return selectBootloader(this.path, config);
  }

  /**
   * Make `newList` the deployment list.  Staged deployments: one that is not first in
   * `newList` is discarded (its /run record and directory); one that is first stays staged
   * (only in /run) and is not written to /boot.
   */
  async writeDeployments(newList: Deployment[], options: WriteDeploymentsOptions = {}): Promise<WriteDeploymentsResult> {
    return withFaultOp('write', () => this.writeDeploymentsImpl(newList, options));
  }

  private async writeDeploymentsImpl(newListIn: Deployment[], options: WriteDeploymentsOptions): Promise<WriteDeploymentsResult> {
    if (!this.loaded) await this.load();
    const log = options.log ?? (() => {});
    this.ensureWritable();

    // 1. Staged handling.
    let keepStaged = false;
    if (this.stagedDeployment) {
      const first = newListIn[0];
      if (first && first.sameAs(this.stagedDeployment)) {
        keepStaged = true;
      } else {
        this.discardStaged(this.stagedDeployment);
        faultStep('staged-handled');
      }
    }
    const newList = newListIn.filter((d) => !d.staged).map((d) => d);
    const oldList = this.deployments.filter((d) => !d.staged);

    // Sanity: the booted deployment must stay; every directory must exist; no duplicates.
    if (this.bootedDeployment && !newList.some((d) => d.sameAs(this.bootedDeployment))) {
      throw new OstreeError('ESTATE', 'Attempting to remove booted deployment');
    }
    const seen = new Set<string>();
    for (const d of newList) {
      const key = `${d.stateroot}/${d.name}`;
      if (seen.has(key)) throw new OstreeError('EINVAL', `Deployment ${d.name} appears twice in the new deployment list`);
      seen.add(key);
      if (!statOrNull(this.deploymentDirectory(d))?.isDirectory()) {
        throw new OstreeError('ENOENT', `Deployment directory ${d.relpath} does not exist`);
      }
    }

    // 2. Bootserials, indexes.
    assignBootserials(newList);
    newList.forEach((d, i) => { d.index = i; });

    // 3. New bootversion needed?
    const countChange = newList.length - oldList.length;
    let requiresNewBootversion = countChange !== 0;
    if (!requiresNewBootversion) {
      for (let i = 0; i < newList.length; i++) {
        if (!(await this.bootconfigEqual(oldList[i]!, newList[i]!))) { requiresNewBootversion = true; break; }
      }
    }
    const identical = !requiresNewBootversion && newList.every((d, i) => d.sameAs(oldList[i]) && d.bootserial === oldList[i]!.bootserial);
    if (identical && oldList.length > 0) {
      // No change at all.  (An empty → empty write is not a no-op upstream either.)
      this.bumpMtime();
      await this.reload();
      return { bootconfigSwap: false, bootversion: this.bootversion, subbootversion: this.subbootversion, countChange: 0, message: '', noop: true };
    }

    let newBootversion: 0 | 1;
    let newSubbootversion: 0 | 1;
    const bootloader: Bootloader = await this.bootloader();
    if (!requiresNewBootversion) {
      // 5a. Only the bootlinks change: write boot.B.(1-S) and swap ostree/boot.B.
      newBootversion = this.bootversion;
      newSubbootversion = (1 - this.subbootversion) as 0 | 1;
      this.writeBootlinks(newBootversion, newSubbootversion, newList);
      faultStep('bootlinks-written');
      this.fullSync();
      faultStep('synced');
      symlinkAtomic(`boot.${newBootversion}.${newSubbootversion}`, this.abs(`ostree/boot.${newBootversion}`));
      faultStep('bootlinks-swapped');
    } else {
      // 5b. Full bootswap to B' = 1 - B.
      newBootversion = (1 - this.bootversion) as 0 | 1;
      const existingSub = readlinkOrNull(this.abs(`ostree/boot.${newBootversion}`));
      const curSub = existingSub === null ? 0 : (existingSub.endsWith('.1') ? 1 : 0);
      newSubbootversion = (1 - curSub) as 0 | 1;

      const loaderDir = this.abs(`boot/loader.${newBootversion}`);
      const entriesDir = path.join(loaderDir, 'entries');
      rmrf(entriesDir);
      mkdirp(entriesDir, 0o755);
      faultStep('entries-dir-created');

      const showStateroot = new Set(newList.map((d) => d.stateroot)).size > 1;
      const menu: BootMenuEntry[] = [];
      for (const d of newList) {
        await this.installDeploymentKernel(d, newBootversion, newList.length, showStateroot);
        faultStep('kernel-installed');
        const fileName = blsEntryFileName(newList.length - d.index, d.stateroot);
        writeFileAtomic(path.join(entriesDir, fileName), d.bootconfig.serialize(), { mode: 0o644 });
        menu.push({
          title: d.bootconfig.title ?? '',
          linux: d.bootconfig.linux ?? '',
          initrds: [d.bootconfig.initrd, ...d.bootconfig.overlayInitrds].filter((x): x is string => !!x),
          ...(d.bootconfig.devicetree ? { devicetree: d.bootconfig.devicetree } : {}),
          options: d.bootconfig.options ?? '',
        });
      }
      faultStep('entries-written');

      this.writeBootlinks(newBootversion, newSubbootversion, newList);
      symlinkAtomic(`boot.${newBootversion}.${newSubbootversion}`, this.abs(`ostree/boot.${newBootversion}`));
      faultStep('bootlinks-swapped');

      bootloader.writeConfig(this.path, newBootversion, menu);
      faultStep('bootloader-config-written');

      if (!lstatOrNull(this.abs('boot/boot'))) fs.symlinkSync('.', this.abs('boot/boot'));
      const tmpLink = this.abs('boot/loader.tmp');
      fs.rmSync(tmpLink, { force: true });
      fs.symlinkSync(`loader.${newBootversion}`, tmpLink);
      faultStep('loader-tmp-link');

      this.fullSync();
      faultStep('synced');

      fs.renameSync(tmpLink, this.abs('boot/loader'));
      faultStep('loader-swapped');
      libc.fsyncPath(this.abs('boot'));
      faultStep('boot-dir-synced');
      bootloader.postSwap(this.path);
    }

    // Upstream: a sub-bootversion swap is always atomic; a bootswap is if the backend says so.
    const prefix = !requiresNewBootversion || bootloader.isAtomic() ? 'Transaction complete' : 'Bootloader updated';
    const message = `${prefix}; bootconfig swap: ${requiresNewBootversion ? 'yes' : 'no'}; bootversion: boot.${newBootversion}.${newSubbootversion}, deployment count change: ${countChange}`;
    log(message);

    this.bumpMtime();
    faultStep('mtime-bumped');
    await this.reload();
    if (keepStaged && !this.stagedDeployment) {
      // Not booted (cannot happen for a real staged deployment); nothing to keep.
    }
    if (options.cleanup) await this.cleanup({ prune: true, log });
    else if (options.prepareCleanup !== false) await this.cleanup({ prune: false, log });
    return { bootconfigSwap: requiresNewBootversion, bootversion: newBootversion, subbootversion: newSubbootversion, countChange, message, noop: false };
  }

  /** Upstream's bootconfig equality: bootcsum, overlay initrds, kargs without ostree=, version. */
  private async bootconfigEqual(a: Deployment, b: Deployment): Promise<boolean> {
    if (a.bootcsum !== b.bootcsum) return false;
    if ([...a.overlayInitrds].sort().join(',') !== [...b.overlayInitrds].sort().join(',')) return false;
    if (kargsWithoutOstree(a.bootconfig.options) !== kargsWithoutOstree(b.bootconfig.options)) return false;
    if ((await this.commitVersion(a.csum)) !== (await this.commitVersion(b.csum))) return false;
    return true;
  }

  private writeBootlinks(bootversion: number, subbootversion: number, list: Deployment[]): void {
    const dir = this.abs(`ostree/boot.${bootversion}.${subbootversion}`);
    rmrf(dir);
    mkdirp(dir, 0o755);
    for (const d of list) {
      const parent = path.join(dir, d.stateroot, d.bootcsum);
      mkdirp(parent, 0o755);
      symlinkAtomic(`../../../deploy/${d.stateroot}/deploy/${d.name}`, path.join(parent, String(d.bootserial)));
    }
  }

  /**
   * Copy (hardlink) the kernel/initramfs/devicetree of `d` into /boot/ostree/<os>-<bootcsum>/
   * and fill its BLS entry (title, version, options with ostree=, linux, initrd).
   */
  private async installDeploymentKernel(d: Deployment, bootversion: number, count: number, showStateroot: boolean): Promise<void> {
    const deployDir = this.deploymentDirectory(d);
    const { findKernel } = await import('./kernel-layout.js');
    const k = await findKernel(deployDir, { noDtb: sysrootDebug('no-dtb') });
    if (k.bootcsum !== d.bootcsum) {
      throw new OstreeError('ECORRUPT', `Deployment ${d.name}: kernel checksum ${k.bootcsum} does not match its boot checksum ${d.bootcsum}`);
    }
    const bootRel = `ostree/${d.stateroot}-${d.bootcsum}`;
    const bootDir = this.abs(`boot/${bootRel}`);
    mkdirp(bootDir, 0o775);
    linkOrCopy(k.kernelSrc, path.join(bootDir, k.kernelDestName));
    if (k.initramfsSrc && k.initramfsDestName) linkOrCopy(k.initramfsSrc, path.join(bootDir, k.initramfsDestName));
    if (k.devicetreeSrc && k.devicetreeDestName) linkOrCopy(k.devicetreeSrc, path.join(bootDir, k.devicetreeDestName));
    if (k.dtbDir) copyTree(k.dtbDir, path.join(bootDir, 'dtb'));
    if (k.hmacSrc && k.hmacDestName) linkOrCopy(k.hmacSrc, path.join(bootDir, k.hmacDestName));

    const bc = d.bootconfig;
    // Title: PRETTY_NAME (usr/lib/os-release, else etc/os-release), else ID; + version; + (ostree[:os]:i)
    const osrel = readTextOrNull(path.join(deployDir, 'usr/lib/os-release')) ?? readTextOrNull(path.join(deployDir, 'etc/os-release'));
    if (osrel === null) {
      throw new OstreeError('ENOENT', `Deployment ${d.name} has no usr/lib/os-release or etc/os-release; cannot name its boot entry`);
    }
    const rel = parseOsRelease(osrel);
    let title = rel.get('PRETTY_NAME') ?? rel.get('ID');
    if (title === undefined) throw new OstreeError('ECORRUPT', `No PRETTY_NAME or ID in os-release of deployment ${d.name}`);
    const version = await this.commitVersion(d.csum);
    if (version && !title.includes(version)) title += ` ${version}`;
    title += ` (ostree${showStateroot ? ':' + d.stateroot : ''}:${d.index})`;
    bc.title = title;
    bc.version = String(count - d.index);
    bc.linux = `/${bootRel}/${k.kernelDestName}`;
    if (k.initramfsDestName) bc.initrd = `/${bootRel}/${k.initramfsDestName}`;
    else bc.initrd = undefined;
    if (k.devicetreeDestName) bc.devicetree = `/${bootRel}/${k.devicetreeDestName}`;
    if (k.dtbDir) bc.set('fdtdir', `/${bootRel}/dtb`);
    bc.overlayInitrds = d.overlayInitrds.map((id) => `/ostree/initramfs-overlays/${id}.img`);
    const kargs = KernelArgs.parse(bc.options ?? '');
    const bootlink = `/ostree/boot.${bootversion}/${d.stateroot}/${d.bootcsum}/${d.bootserial}`;
    kargs.replace(`ostree=${bootlink}`);
    if (!k.initramfsDestName) kargs.replace(`init=${bootlink}/usr/lib/ostree/ostree-prepare-root`);
    bc.options = kargs.toString();
    // sysroot.bls-append-except-default
    const cfg = await this.repo().then((r) => r.config).catch(() => undefined);
    const extra = cfg?.get('sysroot', 'bls-append-except-default');
    if (extra && d.index !== 0) {
      for (const kv of extra.split(';').filter((s) => s !== '')) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new OstreeError('ECONFIG', `Invalid sysroot.bls-append-except-default entry '${kv}', expected KEY=VALUE`);
        bc.set(kv.slice(0, eq), kv.slice(eq + 1));
      }
    }
  }

  /** Remove a staged deployment: its /run record, lock file and directory. */
  discardStaged(d: Deployment): void {
    fs.rmSync(this.stagedRecordPath, { force: true });
    fs.rmSync(this.stagedLockedPath, { force: true });
    rmrf(this.deploymentDirectory(d));
    fs.rmSync(this.originPath(d), { force: true });
  }

  /**
   * Full sync (2022.7): syncfs on the sysroot filesystem, then a FIFREEZE/FITHAW cycle on /boot
   * so the journal is flushed for bootloaders that cannot replay it.  EOPNOTSUPP (tmpfs),
   * ENOSYS, EPERM (also our refusal to freeze the host root fs) and EBUSY fall back to syncfs.
   */
  fullSync(): void {
    if ((process.env['OSTREE_SYSROOT_OPTS'] ?? '').split(',').includes('skip-sync')) return;
    libc.syncfs(this.path);
    const boot = this.abs('boot');
    const trace = process.env['OSTREE_TS_SYNC_TRACE'] ? (m: string) => process.stderr.write(`sync: ${m}\n`) : () => {};
    try {
      libc.fsFreezeThawCycle(boot);
      trace('FIFREEZE/FITHAW /boot');
    } catch (e) {
      if (isErrno(e, 'EOPNOTSUPP') || isErrno(e, 'ENOTSUP') || isErrno(e, 'ENOSYS') || isErrno(e, 'EPERM') || isErrno(e, 'EBUSY') || isErrno(e, 'ENOTTY') || isErrno(e, 'EINVAL')) {
        trace(`FIFREEZE unavailable (${(e as NodeJS.ErrnoException).code}), syncfs /boot`);
        libc.syncfs(boot);
      } else {
        throw e;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Cleanup (§1.12)

  async cleanup(options: CleanupOptions = {}): Promise<{ deletedDeployments: string[]; freedBytes: number }> {
    return withFaultOp('cleanup', () => this.cleanupImpl(options));
  }

  private async cleanupImpl(options: CleanupOptions): Promise<{ deletedDeployments: string[]; freedBytes: number }> {
    if (!this.loaded) await this.load();
    const B = this.bootversion, S = this.subbootversion;
    // 1. Old boot versions.
    rmrf(this.abs(`boot/loader.${1 - B}`));
    rmrf(this.abs(`ostree/boot.${1 - B}`));
    rmrf(this.abs(`ostree/boot.${1 - B}.0`));
    rmrf(this.abs(`ostree/boot.${1 - B}.1`));
    rmrf(this.abs(`ostree/boot.${B}.${1 - S}`));
    fs.rmSync(this.abs('boot/loader.tmp'), { force: true });
    faultStep('old-bootversions-removed');

    // 2. Unreferenced deployment directories (never the booted one).
    const active = new Set(this.deployments.map((d) => `${d.stateroot}/${d.name}`));
    const rootSt = statOrNull(rootDir());
    const deleted: string[] = [];
    for (const os of this.stateroots()) {
      const deployDir = this.abs(`ostree/deploy/${os}/deploy`);
      let names: string[] = [];
      try { names = fs.readdirSync(deployDir); } catch { continue; }
      for (const n of names) {
        const full = path.join(deployDir, n);
        const st = lstatOrNull(full);
        if (!st) continue;
        if (st.isDirectory()) {
          if (!DEPLOY_NAME_RE.test(n) || active.has(`${os}/${n}`)) continue;
          if (rootSt && st.dev === rootSt.dev && st.ino === rootSt.ino) continue;
          rmrf(full);
          fs.rmSync(`${full}.origin`, { force: true });
          deleted.push(n);
          faultStep('deployment-deleted');
        } else if (n.endsWith('.origin')) {
          const base = n.slice(0, -'.origin'.length);
          if (DEPLOY_NAME_RE.test(base) && !active.has(`${os}/${base}`) && !lstatOrNull(path.join(deployDir, base))) fs.rmSync(full, { force: true });
        }
      }
    }

    // 3. Unreferenced /boot/ostree/<os>-<bootcsum> directories (keyed on bootcsum only).
    const bootcsums = new Set(this.deployments.map((d) => d.bootcsum));
    const bootOstree = this.abs('boot/ostree');
    for (const n of safeReaddir(bootOstree)) {
      const dash = n.lastIndexOf('-');
      if (dash < 0) continue;
      const csum = n.slice(dash + 1);
      if (!/^[0-9a-f]{64}$/.test(csum)) continue;
      if (bootcsums.has(csum)) continue;
      rmrf(path.join(bootOstree, n));
    }
    // 4. Unreferenced overlay initrds.
    const overlays = new Set(this.deployments.flatMap((d) => d.overlayInitrds));
    const ovDir = path.join(bootOstree, 'initramfs-overlays');
    for (const n of safeReaddir(ovDir)) {
      if (n.endsWith('.img') && !overlays.has(n.slice(0, -4))) fs.rmSync(path.join(ovDir, n), { force: true });
    }
    faultStep('boot-dirs-removed');

    // 5. Deployment refs ostree/<B>/<S>/<i>.
    const repo = await this.repo();
    const refs = await repo.listRefs('ostree');
    const want = new Map<string, string>();
    this.deployments.forEach((d, i) => want.set(`ostree/${B}/${S}/${i}`, d.csum));
    for (const ref of refs.keys()) {
      if (!/^ostree\/[01]\/[01]\/[0-9]+$/.test(ref)) continue;
      if (!want.has(ref)) await repo.setRef(ref, null);
    }
    for (const [ref, csum] of want) {
      if (refs.get(ref) !== csum) await repo.setRef(ref, csum);
    }
    faultStep('refs-written');

    // 6. Prune.
    let freed = 0;
    if (options.prune) {
      const { pruneRepo } = await import('../repo/prune.js');
      const res = await pruneRepo(repo, { refsOnly: true, depth: 0, keepCommits: this.deployments.map((d) => d.csum) });
      freed = res.bytesFreed;
      if (res.objectsPruned > 0) options.log?.(`Freed objects: ${formatSize(res.bytesFreed)}`);
      faultStep('pruned');
    }
    return { deletedDeployments: deleted, freedBytes: freed };
  }

  /** Clear the immutable bit of a deployment root (before modifying its top level). */
  makeMutable(d: Deployment): void { clearImmutable(this.deploymentDirectory(d)); }
}

/** bootversion from the `boot/loader` symlink (missing → 0). */
export function readBootversion(sysrootPath: string): 0 | 1 {
  const p = path.join(sysrootPath, 'boot/loader');
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
  const p = path.join(sysrootPath, `ostree/boot.${bootversion}`);
  const t = (() => { try { return fs.readlinkSync(p); } catch (e) { if (isErrno(e, 'ENOENT')) return null; if (isErrno(e, 'EINVAL')) throw new OstreeError('ECORRUPT', `${p} is not a symlink`, { path: p }); throw e; } })();
  if (t === null) return 0;
  if (t.endsWith('.0')) return 0;
  if (t.endsWith('.1')) return 1;
  throw new OstreeError('ECORRUPT', `Invalid target '${t}' of symlink ${p}`, { path: p });
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

function kargsWithoutOstree(options: string | undefined): string {
  const k = KernelArgs.parse(options ?? '');
  return k.toArray().filter((a) => !a.startsWith('ostree=')).join(' ');
}

function safeReaddir(p: string): string[] {
  try { return fs.readdirSync(p); } catch (e) { if (isErrno(e, 'ENOENT')) return []; throw e; }
}

/** GLib g_format_size: SI units, `N bytes` below 1000, else one decimal and U+00A0 `kB`/`MB`/`GB`. */
export function formatSize(n: number): string {
  if (n < 1000) return `${n} byte${n === 1 ? '' : 's'}`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  // GLib puts a NO-BREAK SPACE (U+00A0) between the number and the unit.
  return `${v.toFixed(1)}\u00a0${units[i]}`;
}

/**
 * The sysroot lock: exclusive OFD lock (fcntl F_OFD_SETLK; flock(2) fallback) on `ostree/lock` (created 0600).  If the previous holder
 * unlinked the file while we waited (st_nlink == 0), reopen and retry.  The holder unlinks
 * the file on release, as upstream does.
 */
export class SysrootLock {
  private constructor(private readonly lockPath: string, private fd: number, private readonly kind: 'ofd' | 'flock') {}

  /**
   * As upstream (libglnx glnx_make_lock_file): an exclusive OFD lock on the whole of
   * `ostree/lock` (flock(2) only where the kernel lacks OFD locks), so ours and upstream's
   * `ostree admin` exclude each other.  Non-blocking attempts every 100 ms; `onWait` every 3 s.
   */
  static async acquire(lockPath: string, options: { wait?: boolean; onWait?: () => void }): Promise<SysrootLock> {
    const wait = options.wait ?? true;
    let lastNotice = 0;
    for (;;) {
      const fd = fs.openSync(lockPath, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_NOFOLLOW, 0o600);
      let kind: 'ofd' | 'flock' | null = null;
      try {
        kind = libc.lockFd(fd, { exclusive: true, wait: false });
      } catch (e) {
        if (!(isErrno(e, 'EWOULDBLOCK') || isErrno(e, 'EAGAIN'))) { fs.closeSync(fd); throw e; }
      }
      if (kind !== null) {
        // The previous holder unlinked the file while we waited: lock the new one instead.
        if (fs.fstatSync(fd).nlink === 0) { fs.closeSync(fd); continue; }
        return new SysrootLock(lockPath, fd, kind);
      }
      fs.closeSync(fd);
      if (!wait) throw new OstreeError('EBUSY', `The sysroot lock ${lockPath} is held by another process; try again when it finishes`);
      const now = Date.now();
      if (now - lastNotice >= 3000) { options.onWait?.(); lastNotice = now; }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  release(): void {
    if (this.fd < 0) return;
    // Exclusive holder: unlink first (waiters see nlink 0 and retry), then unlock.
    try { fs.unlinkSync(this.lockPath); } catch { /* already gone */ }
    try { libc.unlockFd(this.fd, this.kind); } catch { /* closing drops it anyway */ }
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}
