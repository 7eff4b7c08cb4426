/**
 * The agent on this machine: configuration from the fragment directories, identity, the real
 * sysroot, the state directory; one cycle at a time (an exclusive lock on STATE_DIR/lock, so
 * `check` and `update-now` wait for the daemon's cycle and the other way round).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flock, LOCK_EX, LOCK_NB, LOCK_UN } from '../native/lock.js';
import { OstreeError, isErrno } from '../errors.js';
import { mkdirp } from '../util/fs.js';
import { UpdateAgent, type CycleOptions, type CycleReport } from './agent.js';
import { checkUsable, mergeConfig, type AgentConfig } from './config/config.js';
import { readFragments } from './config/fragments.js';
import { OstreeHost } from './hosts/ostree-host.js';
import { resolveIdentity, type Identity } from './identity.js';
import { StateFile } from './state.js';
import { DEFAULT_STATE_DIR } from './paths.js';
import { writeDriverState } from './driver-report.js';
import { runDir } from '../sysroot/layout.js';

export interface SystemOptions {
  /** where the config.d directories and /etc/machine-id are looked up (default /) */
  root?: string;
  stateDir?: string;
  sysroot?: string;
  rebootCommand?: string[];
  log?: (line: string) => void;
}

export { DEFAULT_STATE_DIR };

export function loadConfig(root = '/'): AgentConfig {
  return mergeConfig(readFragments(root));
}

export interface SystemAgent { agent: UpdateAgent; config: AgentConfig; identity: Identity; state: StateFile }

export function systemAgent(o: SystemOptions = {}): SystemAgent {
  const root = o.root ?? '/';
  const config = loadConfig(root);
  checkUsable(config);
  const identity = resolveIdentity(config, path.join(root, 'etc/machine-id'));
  const state = new StateFile(o.stateDir ?? DEFAULT_STATE_DIR);
  const host = new OstreeHost({ ...(o.sysroot ? { sysrootPath: o.sysroot } : {}), ...(o.rebootCommand ? { rebootCommand: o.rebootCommand } : {}), ...(o.log ? { log: o.log } : {}) });
  const agent = new UpdateAgent({ config, identity, host, state, ...(o.log ? { log: o.log } : {}) });
  return { agent, config, identity, state };
}

/** Wait for the lock without blocking the event loop (signals and timers keep working). */
async function lockWithoutBlocking(fd: number, what: string): Promise<void> {
  for (;;) {
    try { flock(fd, LOCK_EX | LOCK_NB); return; } catch (e) {
      if (!isErrno(e, 'EWOULDBLOCK') && !isErrno(e, 'EAGAIN')) throw new OstreeError('EIO', `cannot lock ${what}: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * One cycle under the state directory's lock; the report is kept for `status`, and its one-line
 * summary for `ostree admin status` (driver-state.ts). `daemonPid` is given by the daemon only.
 */
export async function lockedCycle(sa: SystemAgent, o: CycleOptions = {}, daemonPid?: number): Promise<CycleReport> {
  return withStateLock(sa.state, async () => {
    const rep = await sa.agent.cycle(o);
    sa.state.saveStatus({ ...rep, node_uuid: sa.identity.nodeUuid, group: sa.identity.group, wariness: sa.identity.wariness, strategies: sa.config.strategies });
    writeDriverState(runDir(), rep, daemonPid ?? 'keep');
    return rep;
  });
}

/** Run `f` holding the state directory's lock: no cycle of the daemon or of `check` meanwhile. */
export async function withStateLock<T>(state: StateFile, f: () => Promise<T>): Promise<T> {
  mkdirp(state.dir, 0o755);
  const fd = fs.openSync(path.join(state.dir, 'lock'), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    await lockWithoutBlocking(fd, `${state.dir}/lock`);
    return await f();
  } finally {
    try { flock(fd, LOCK_UN); } catch { /* closing releases it */ }
    fs.closeSync(fd);
  }
}

/**
 * One cycle of the daemon, run in its own process by daemon.ts (the daemon is this process's
 * parent: the driver state names it). The first logs the agent's identity and strategy.
 * Returns the steady interval for daemon.ts to wait.
 */
export async function daemonCycle(sa: SystemAgent, first: boolean, log: (line: string) => void): Promise<number> {
  if (first) log(`ostree-agent: node ${sa.identity.nodeUuid}, group ${sa.identity.group}, strategy ${sa.config.strategies.join('+')}, every ${sa.config.steadyIntervalSecs} s`);
  try {
    const rep = await lockedCycle(sa, {}, process.ppid);
    log(`cycle: ${rep.phase}${rep.target ? ` target ${rep.target.version}` : ''}${rep.waitingFor ? `, waiting for ${rep.waitingFor}` : ''}`);
  } finally { sa.agent.close(); }
  return sa.config.steadyIntervalSecs;
}
