/**
 * May the node reboot now? Every strategy the configuration names must agree (strategies
 * compose: a periodic window AND a FleetLock slot). The cheap local checks come first so a
 * slot is only taken when the node will use it at once.
 */
import type { AgentConfig } from './config/config.js';
import type { FleetLockClient } from './fleetlock/client.js';
import { FleetLockError } from './fleetlock/protocol.js';
import { inWindow, nextWindowStart } from './schedule/weekly.js';

export type RebootGate = { allowed: true } | { allowed: false; waitingFor: string };

export interface GateInputs {
  config: AgentConfig;
  timeZone: string;
  now: Date;
  /** update-now: the window does not apply (the lock and sessions still do) */
  ignoreWindow: boolean;
  sessions: () => Promise<number>;
  lock: FleetLockClient | null;
}

export async function rebootGate(g: GateInputs): Promise<RebootGate> {
  const { config: c } = g;
  if (c.strategies.includes('periodic') && !g.ignoreWindow && !inWindow(g.now, g.timeZone, c.windows)) {
    const next = nextWindowStart(g.now, g.timeZone, c.windows);
    return { allowed: false, waitingFor: `the next update window (${next?.toISOString() ?? 'none'})` };
  }
  if (!c.rebootWithActiveSessions) {
    const n = await g.sessions();
    if (n > 0) return { allowed: false, waitingFor: `${n} login session${n === 1 ? '' : 's'} to end` };
  }
  if (c.strategies.includes('fleet_lock')) {
    if (!g.lock) return { allowed: false, waitingFor: 'a FleetLock server (none configured)' };
    try { await g.lock.preReboot(); } catch (e) {
      const why = e instanceof FleetLockError ? `${e.kind}: ${e.value}` : (e as Error).message;
      return { allowed: false, waitingFor: `a reboot slot (${why})` };
    }
  }
  return { allowed: true };
}
