/**
 * The real machine: this project's sysroot library. Staging is `ostree admin deploy --stage
 * --lock-finalization` (a shutdown meanwhile changes nothing), from the booted deployment's
 * remote, pulled by commit checksum (the remote's gpg-verify / sign-verify settings apply);
 * the new deployment keeps the booted one's origin. Rebooting unlocks the finalization and
 * runs the reboot command (`systemctl reboot`): ostree-finalize-staged.service finalizes at
 * shutdown. The health verdict is the boot-counting one (admin status shows the same).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { OstreeError } from '../../errors.js';
import { Sysroot } from '../../sysroot/sysroot.js';
import { parseRefspec } from '../../repo/refs.js';
import { runDir } from '../../sysroot/layout.js';
import { BootInfoReader } from '../../sysroot/boot-counting/status-info.js';
import type { Release } from '../graph/cincinnati.js';
import type { BootedRelease, HealthVerdict, NodeHost } from '../host.js';
import { countUserSessions } from '../sessions.js';
import { runBootId } from '../boot-id.js';

export interface OstreeHostOptions {
  sysrootPath?: string;
  /** argv of the reboot command (default systemctl reboot) */
  rebootCommand?: string[];
  sessionsDir?: string;
  log?: (line: string) => void;
}

export class OstreeHost implements NodeHost {
  constructor(private readonly o: OstreeHostOptions = {}) {}

  private async sysroot(): Promise<Sysroot> {
    const s = await Sysroot.open(this.o.sysrootPath);
    await s.load();
    return s;
  }

  private async bootedDeployment(s: Sysroot) {
    const d = s.bootedDeployment;
    if (!s.booted || !d) throw new OstreeError('ESTATE', 'not booted into an OSTree deployment: nothing to update');
    return d;
  }

  async booted(): Promise<BootedRelease> {
    const s = await this.sysroot();
    const d = await this.bootedDeployment(s);
    return { checksum: d.csum, version: null };
  }

  async staged(): Promise<string | null> {
    return (await this.sysroot()).stagedDeployment?.csum ?? null;
  }

  async stage(r: Release): Promise<void> {
    const s = await this.sysroot();
    const d = await this.bootedDeployment(s);
    const refspec = d.origin?.refspec;
    const [remote] = refspec ? parseRefspec(refspec) : [null];
    if (!remote) throw new OstreeError('ECONFIG', `the booted deployment's origin (${refspec ?? 'none'}) names no remote to pull ${r.version} from`);
    // Loaded when there is something to stage: the pull code (HTTP, verification, deltas) is
    // most of the agent's memory, and an idle agent does not need it.
    const [{ pullFromRemote }, { adminDeploy }] = await Promise.all([import('../../repo/pull/http.js'), import('../../sysroot/deploy/admin-deploy.js')]);
    const repo = await s.repo();
    await pullFromRemote(repo, remote, [r.payload]);
    await adminDeploy(s, r.payload, { stage: true, lockFinalization: true, originFile: s.originPath(d), stateroot: d.stateroot });
    this.o.log?.(`staged ${r.version} (${r.payload}) from remote ${remote}`);
  }

  async finalizeAndReboot(): Promise<void> {
    const s = await this.sysroot();
    fs.rmSync(s.stagedLockedPath, { force: true });
    const [cmd, ...args] = this.o.rebootCommand ?? ['systemctl', 'reboot'];
    try { await promisify(execFile)(cmd!, args); } catch (e) {
      throw new OstreeError('EIO', `reboot command ${[cmd, ...args].join(' ')} failed: ${(e as Error).message}`);
    }
  }

  async health(checksum: string): Promise<HealthVerdict> {
    const s = await this.sysroot();
    const d = await this.bootedDeployment(s);
    if (d.csum !== checksum) return { state: 'pending', why: 'not booted into it' };
    const info = new BootInfoReader(s).info(d);
    if (info.failure) return { state: 'bad', reason: info.failure };
    if (info.lastCheck?.result === 'red') return { state: 'bad', reason: info.lastCheck.failures.join('; ') || 'boot check failed' };
    if (info.lastCheck?.result === 'green' || info.counting.state === 'blessed') return { state: 'good' };
    if (info.counting.state === 'trial') return { state: 'pending', why: 'on trial: the boot check has not judged it yet' };
    if (info.counting.state === 'failed') return { state: 'bad', reason: 'no boot tries left' };
    return { state: 'good' }; // no boot counting here: booting is the check
  }

  async bootId(): Promise<string> { return runBootId(); }

  async activeSessions(): Promise<number> { return countUserSessions(this.o.sessionsDir ?? path.join(runDir(), 'systemd/sessions')); }
}
