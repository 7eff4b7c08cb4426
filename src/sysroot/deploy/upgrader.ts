/**
 * Following a deployment's origin (upstream OstreeSysrootUpgrader, ostree-sysroot-upgrader.c):
 * the merge deployment of a stateroot and its origin; `pull` fetches the origin's ref from its
 * remote (unless synthetic), follows an end-of-life rebase (`ostree.endoflife-rebase` in the new
 * commit's metadata), applies an override commit and the timestamp check, and says whether the
 * target differs from the merge deployment; `deploy` then creates (or stages) it.
 * `admin upgrade` and `admin switch` drive it (upgrade.ts).
 */
import { OstreeError } from '../../errors.js';
import { isChecksum } from '../layout.js';
import type { Origin } from '../formats/origin.js';
import type { Deployment } from '../deployment.js';
import type { Sysroot } from '../sysroot.js';
import { deployTree } from './create.js';
import { mergeFor, simpleWriteDeployment } from './list.js';
import { stageTree } from './stage.js';
import { noLog, type Log } from './log.js';

/** Commit metadata key naming the ref that replaces an end-of-life ref. */
export const ENDOFLIFE_REBASE_KEY = 'ostree.endoflife-rebase';

export interface UpgraderFlags {
  /** Do not refuse an origin with `unconfigured-state` (switch sets it). */
  ignoreUnconfigured?: boolean;
  /** Stage the deployment (also when $OSTREE_EX_STAGE_DEPLOYMENTS is set, as upstream). */
  stage?: boolean;
}

export interface UpgraderPullFlags {
  /** `--deploy-only`: use what the repo has, pull nothing. */
  synthetic?: boolean;
  /** `--allow-downgrade`: no timestamp check. */
  allowOlder?: boolean;
}

export class Upgrader {
  private origin!: Origin;
  private originRemote: string | null = null;
  private originRef = '';
  private overrideCsum: string | undefined;
  private newRevision: string | null = null;

  private constructor(
    private readonly sysroot: Sysroot,
    readonly stateroot: string,
    readonly merge: Deployment,
    private readonly flags: UpgraderFlags,
  ) {}

  /** The upgrader for `stateroot` (default: the booted one), from its merge deployment. */
  static async open(sysroot: Sysroot, stateroot: string | undefined, flags: UpgraderFlags = {}): Promise<Upgrader> {
    if (!sysroot.loaded) await sysroot.load();
    if (stateroot === '') throw new OstreeError('EINVAL', 'Invalid empty osname');
    const merge = mergeFor(sysroot, stateroot);
    if (!merge.origin) throw new OstreeError('ENOENT', `No origin known for deployment ${merge.csum}.${merge.deployserial}`);
    const u = new Upgrader(sysroot, merge.stateroot, merge, flags);
    u.setOrigin(merge.origin.clone());
    return u;
  }

  /** A copy of the origin the new deployment will carry. */
  dupOrigin(): Origin { return this.origin.clone(); }

  /** Replace the origin (re-reading its refspec and override commit). */
  setOrigin(origin: Origin): void {
    if (!this.flags.ignoreUnconfigured) {
      const unconf = origin.unconfiguredState;
      if (unconf !== undefined) throw new OstreeError('ESTATE', `origin unconfigured-state: ${unconf}`);
    }
    const refspec = origin.refspec;
    if (refspec === undefined) throw new OstreeError('ECORRUPT', 'No origin/refspec in current deployment origin; cannot upgrade via ostree');
    const colon = refspec.indexOf(':');
    this.originRemote = colon < 0 ? null : refspec.slice(0, colon);
    this.originRef = colon < 0 ? refspec : refspec.slice(colon + 1);
    const csum = origin.overrideCommit;
    if (csum !== undefined && !isChecksum(csum)) throw new OstreeError('EINVAL', `Invalid checksum '${csum}' in origin override-commit`);
    this.overrideCsum = csum;
    this.origin = origin;
  }

  private refspec(): string { return this.originRemote ? `${this.originRemote}:${this.originRef}` : this.originRef; }

  private async pullRef(ref: string, timestampFrom: string | undefined): Promise<void> {
    const { pullFromRemote } = await import('../../repo/pull/http.js');
    await pullFromRemote(await this.sysroot.repo(), this.originRemote!, [ref], {
      sysroot: this.sysroot.path,
      ...(timestampFrom !== undefined ? { timestampCheckFromRev: timestampFrom } : {}),
    });
  }

  /** The new commit's end-of-life rebase target: follow it (pull it, track it in the origin). */
  private async followEndOfLife(pulling: boolean): Promise<void> {
    const repo = await this.sysroot.repo();
    const rev = await repo.resolveRev(this.refspec());
    const meta = (await repo.loadCommit(rev)).metadata;
    const rebase = meta.find(([k]) => k === ENDOFLIFE_REBASE_KEY)?.[1];
    if (!rebase || rebase.type !== 's') return;
    const newRef = rebase.value as string;
    if (pulling) await this.pullRef(newRef, undefined);
    this.originRef = newRef;
    this.origin.setRefspec(this.refspec());
  }

  /** Pull (see the file comment); true when the target differs from the merge deployment. */
  async pull(flags: UpgraderPullFlags = {}): Promise<boolean> {
    const from = this.merge.csum;
    const pulling = this.originRemote !== null && !flags.synthetic;
    if (pulling) await this.pullRef(this.overrideCsum ?? this.originRef, flags.allowOlder ? undefined : from);
    await this.followEndOfLife(pulling);
    const repo = await this.sysroot.repo();
    if (this.overrideCsum !== undefined) {
      await repo.setRef(this.refspec(), this.overrideCsum);
      this.newRevision = this.overrideCsum;
    } else {
      this.newRevision = await repo.resolveRev(this.refspec());
    }
    if (this.newRevision === from) return false;
    if (!flags.allowOlder) {
      const { checkTimestamps } = await import('../../repo/pull/http.js');
      const [oldC, newC] = [await repo.loadCommit(from), await repo.loadCommit(this.newRevision)];
      checkTimestamps(from, oldC.timestamp, this.newRevision, newC.timestamp);
    }
    return true;
  }

  /** Create (or stage) the deployment of the pulled revision and make it the default. */
  async deploy(log: Log = noLog): Promise<Deployment> {
    if (this.newRevision === null) throw new OstreeError('ESTATE', 'Upgrader: deploy called before pull');
    const stage = !!this.flags.stage || process.env['OSTREE_EX_STAGE_DEPLOYMENTS'] !== undefined;
    if (stage) return stageTree(this.sysroot, this.stateroot, this.newRevision, this.origin, { merge: this.merge, kargs: null, log });
    const d = await deployTree(this.sysroot, this.stateroot, this.newRevision, this.origin, { merge: this.merge, log });
    await simpleWriteDeployment(this.sysroot, this.stateroot, d, this.merge, { cleanup: true, log, park: true });
    return d;
  }
}
