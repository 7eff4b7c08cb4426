/**
 * The agent's persistent state, `STATE_DIR/state.json` (default /var/lib/ostree-agent: /var is
 * shared by all deployments and untouched by ostree's garbage collection, so the denylist
 * outlives the deployments it names): the local denylist (releases rolled back or judged bad
 * here, never applied again), the update being applied, and the last fleet-wide bad-release
 * list (used while the lock server is unreachable). Replaced atomically on every change.
 * `STATE_DIR/status.json` is what `ostree-agent status` shows: the last cycle's report.
 */
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { mkdirp, readFileBounded, writeFileAtomic } from '../util/fs.js';

export interface DenyEntry { version: string; reason: string; time: string }

export interface Attempt {
  payload: string;
  version: string;
  /** the release booted when the attempt started */
  from: string;
  /** staged: waiting for the strategy; rebooting: the reboot was asked for; judged-bad: booted and failed its checks */
  phase: 'staged' | 'rebooting' | 'judged-bad';
  /** the boot the reboot was asked from */
  bootId?: string;
  since: string;
}

export interface AgentState {
  version: 1;
  denylist: Record<string, DenyEntry>;
  attempt: Attempt | null;
  /** this node may hold a FleetLock slot: report steady state once healthy */
  mayHoldSlot: boolean;
  fleetBad: Record<string, DenyEntry>;
}

const STATE_MAX = 4 * 1024 * 1024;

export function emptyState(): AgentState {
  return { version: 1, denylist: {}, attempt: null, mayHoldSlot: true, fleetBad: {} };
}

export class StateFile {
  constructor(readonly dir: string) {}
  get file(): string { return path.join(this.dir, 'state.json'); }
  get statusFile(): string { return path.join(this.dir, 'status.json'); }

  load(): AgentState {
    const data = readFileBounded(this.file, STATE_MAX, { what: 'Agent state', code: 'ECONFIG', advice: 'remove it to start afresh (the local denylist is lost)' });
    if (data === null) return emptyState();
    let v: Partial<AgentState>;
    try { v = JSON.parse(data.toString('utf8')) as Partial<AgentState>; } catch (e) {
      throw new OstreeError('ECORRUPT', `${this.file}: invalid agent state: ${(e as Error).message}`, { path: this.file });
    }
    if (v.version !== 1 || typeof v.denylist !== 'object' || v.denylist === null) {
      throw new OstreeError('ECORRUPT', `${this.file}: invalid agent state: expected version 1 with a denylist`, { path: this.file });
    }
    return { ...emptyState(), ...v } as AgentState;
  }

  save(s: AgentState): void {
    mkdirp(this.dir, 0o755);
    writeFileAtomic(this.file, JSON.stringify(s, null, 1) + '\n', { mode: 0o644, sync: true });
  }

  saveStatus(report: unknown): void {
    mkdirp(this.dir, 0o755);
    writeFileAtomic(this.statusFile, JSON.stringify(report, null, 1) + '\n', { mode: 0o644 });
  }

  loadStatus(): unknown {
    const data = readFileBounded(this.statusFile, STATE_MAX, { what: 'Agent status', code: 'ECONFIG' });
    return data === null ? null : JSON.parse(data.toString('utf8')) as unknown;
  }
}
