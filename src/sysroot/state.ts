/**
 * The sysroot's state as a program sees it (upstream OstreeSysroot without the deploy and
 * cleanup halves): where it is, its loaded deployment list (deployment.ts), the queries over
 * that list (merge, pending, rollback), the lock, and the small writes that do not swap the
 * boot configuration (origin files, the change stamp).  What `admin status` needs and nothing
 * more: writing the list (write.ts) and cleaning up (cleanup.ts) build on this class, and
 * `Sysroot` (sysroot.ts) joins them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError, isErrno } from '../errors.js';
import type { Variant } from '../glib/gvariant.js';
import type { Repo } from '../repo/repo.js';
import type { Origin } from './formats/origin.js';
import { Deployment, loadSysrootState } from './deployment.js';
import {
  DEPLOY_ROOT_REL, LOCK_REL, REPO_REL, runDir, stagedLockedPath, stagedRecordPath, staterootProblem, staterootRel,
} from './layout.js';
import type { SysrootLock } from './lock.js';
import { lstatOrNull, readFileBounded, touchNow, writeFileAtomic } from '../util/fs.js';
import { MAX_METADATA_SIZE } from '../repo/objects/common.js';


export class SysrootState {
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

  protected constructor(p: string) { this.path = path.resolve(p); }

  abs(rel: string): string { return path.join(this.path, rel); }
  deploymentDirectory(d: Deployment): string { return this.abs(d.relpath); }
  originPath(d: Deployment): string { return this.abs(d.originRelpath); }
  get runDir(): string { return runDir(); }
  get stagedRecordPath(): string { return stagedRecordPath(); }
  get stagedLockedPath(): string { return stagedLockedPath(); }

  async repo(): Promise<Repo> {
    if (!this.repoCache) {
      // Loaded on demand: `admin status` never needs the repository engine.
      const { Repo } = await import('../repo/repo.js');
      this.repoCache = await Repo.open(this.abs(REPO_REL));
    }
    return this.repoCache;
  }

  /** Drop the cached repo (its config may have changed). */
  invalidateRepo(): void { this.repoCache = null; this.commitCache.clear(); }

  /**
   * The metadata dictionary of a commit, for the status queries, or null when the commit is not
   * in the repo.  Commit objects have one path in every repo mode, so this reads just that
   * file, without opening the repository.
   */
  private async commitMetadataDict(csum: string): Promise<Array<[string, Variant]> | null> {
    const cached = this.commitCache.get(csum);
    if (cached !== undefined) return cached;
    if (!/^[0-9a-f]{64}$/.test(csum)) throw new OstreeError('EINVAL', `Invalid commit checksum '${csum}'`);
    const [{ loosePath }, { parseCommit }] = await Promise.all([import('../repo/layout.js'), import('../repo/objects/commit.js')]);
    const data = readFileBounded(loosePath(this.abs(REPO_REL), csum, 'commit'), MAX_METADATA_SIZE, { what: `Commit object ${csum}` });
    const meta = data === null ? null : parseCommit(data, `commit ${csum}`).metadata;
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
  // Loading (deployment.ts)

  async load(): Promise<void> {
    const s = await loadSysrootState(this.path);
    this.booted = s.booted;
    this.bootversion = s.bootversion;
    this.subbootversion = s.subbootversion;
    this.deployments = s.deployments;
    this.bootedDeployment = s.bootedDeployment;
    this.stagedDeployment = s.stagedDeployment;
    this.stagedLocked = s.stagedLocked;
    this.loaded = true;
  }

  /** Reload if anything changed (cheap enough to always reload). */
  async reload(): Promise<void> { this.commitCache.clear(); await this.load(); }

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

  /**
   * The deployment at list position `index`: only a non-negative integer below the number of
   * deployments is accepted (EINVAL otherwise), never a default.
   */
  deploymentAt(index: number): Deployment {
    if (typeof index !== 'number' || !Number.isSafeInteger(index)) {
      throw new OstreeError('EINVAL', `Invalid deployment index ${String(index)}: expected a whole number (see 'ostree admin status')`);
    }
    const n = this.deployments.length;
    // upstream's wording
    if (index < 0 || index >= n) throw new OstreeError('EINVAL', `Out of range deployment index ${index}, expected < ${n}`);
    return this.deployments[index]!;
  }

  /**
   * Stateroot names: the real directories under `ostree/deploy` whose names are valid
   * stateroots (a symlink there is never followed; other names are not ours to touch).
   */
  stateroots(): string[] {
    let names: string[];
    try { names = fs.readdirSync(this.abs(DEPLOY_ROOT_REL)); } catch { return []; }
    return names.filter((n) => staterootProblem(n) === null && lstatOrNull(this.abs(staterootRel(n)))?.isDirectory());
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
    try { touchNow(this.abs(DEPLOY_ROOT_REL)); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; }
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
    // Loaded here, not at the top: `admin status` never locks, and loads only what it needs.
    const { SysrootLock } = await import('./lock.js');
    this.lockHandle = await SysrootLock.acquire(this.abs(LOCK_REL), options);
  }

  unlock(): void {
    this.lockHandle?.release();
    this.lockHandle = null;
  }

  get locked(): boolean { return this.lockHandle !== null; }
}
