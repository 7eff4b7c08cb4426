/**
 * The agent's driver state: what `ostree admin status` and `apt-ostree status` print about the
 * update agent, the way `rpm-ostree status` shows Zincati:
 *
 *   AutomaticUpdatesDriver: ostree-agent
 *     DriverState: active; update 2 staged; waiting for the next update window (...) (last checked ...)
 *
 * The file is RUN_DIR/ostree-agent/driver-state.json (RUN_DIR is /run, or OSTREE_TS_RUN_DIR in
 * tests), JSON with these keys:
 *   version      1
 *   driver       "ostree-agent"
 *   pid          the daemon's process id, or null when only one-shot commands (`check`) ran
 *   phase        the last cycle's phase (idle, no-update, staged, rebooting, ...)
 *   text         one line: what the agent is doing or waiting for
 *   last_checked when that cycle ran (ISO 8601)
 * The agent rewrites it atomically (temporary name, then rename) after every cycle. It is under
 * /run: a boot starts without it, so a machine where the agent never ran prints nothing and
 * upstream-compatible output stays byte for byte the same. "active" means the daemon named by
 * `pid` is still running; a stopped daemon's file reads "inactive", as systemd's unit state
 * does for rpm-ostree.
 *
 * Both sides of the format live here, and only the light fs helpers are imported: the status
 * commands read this on every call and must not load the agent library (start-up time).
 */
import * as path from 'node:path';
import { readFileBounded } from '../util/fs.js';

export const DRIVER_NAME = 'ostree-agent';
/** A one-line summary is far below this; a larger file is not ours. */
const MAX_BYTES = 64 * 1024;

export interface DriverState {
  version: 1;
  driver: string;
  pid: number | null;
  phase: string;
  text: string;
  last_checked: string;
}

export function driverStatePath(runDir: string): string {
  return path.join(runDir, 'ostree-agent', 'driver-state.json');
}

export function serializeDriverState(s: DriverState): string {
  const v: DriverState = { version: 1, driver: s.driver, pid: s.pid, phase: s.phase, text: s.text, last_checked: s.last_checked };
  return JSON.stringify(v) + '\n';
}

/** Parse the file's text; a message (not an exception) for anything malformed, so a status command never fails on it. */
export function parseDriverState(text: string): DriverState | { invalid: string } {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { return { invalid: `not JSON: ${(e as Error).message}` }; }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { invalid: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (o['version'] !== 1) return { invalid: `unknown version ${JSON.stringify(o['version'])}` };
  const str = (k: string): string | null => (typeof o[k] === 'string' && !/[\n\r]/.test(o[k] as string) ? o[k] as string : null);
  const pid = o['pid'];
  if (pid !== null && !(Number.isSafeInteger(pid) && (pid as number) > 0)) return { invalid: 'pid is neither null nor a process id' };
  const driver = str('driver'); const phase = str('phase'); const t = str('text'); const last = str('last_checked');
  if (driver === null || phase === null || t === null || last === null) return { invalid: 'driver, phase, text and last_checked must be one-line strings' };
  return { version: 1, driver, pid: pid as number | null, phase, text: t, last_checked: last };
}

/** True while process `pid` exists (EPERM: it exists, owned by someone else). */
function running(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * The two status lines for the driver state under `runDir`, or '' when the agent left no file
 * (it never ran since boot). `isRunning` is for tests.
 */
export function driverStatusLines(runDir: string, isRunning: (pid: number) => boolean = running): string {
  const file = driverStatePath(runDir);
  let data: Buffer | null;
  try { data = readFileBounded(file, MAX_BYTES, { what: 'Agent driver state', code: 'ECORRUPT' }); } catch (e) {
    return `AutomaticUpdatesDriver: ${DRIVER_NAME}\n  DriverState: unknown (${file}: ${(e as Error).message})\n`;
  }
  if (data === null) return '';
  const s = parseDriverState(data.toString('utf8'));
  if ('invalid' in s) return `AutomaticUpdatesDriver: ${DRIVER_NAME}\n  DriverState: unknown (${file}: ${s.invalid})\n`;
  const active = s.pid !== null && isRunning(s.pid);
  return `AutomaticUpdatesDriver: ${s.driver}\n  DriverState: ${active ? 'active' : 'inactive'}; ${s.text}\n`;
}
