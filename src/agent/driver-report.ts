/**
 * The agent's side of the driver state (driver-state.ts owns the format): after every cycle,
 * one line saying what the agent is doing or waiting for, in the spirit of Zincati's status
 * text ("periodically polling for updates (last checked ...)"), written atomically.
 */
import { mkdirp, readFileBounded, writeFileAtomic } from '../util/fs.js';
import type { CycleReport } from './agent.js';
import { DRIVER_NAME, driverStatePath, parseDriverState, serializeDriverState } from './driver-state.js';
import * as path from 'node:path';

/** `Sun 2026-12-06 17:40:00 UTC`: the form rpm-ostree users see for Zincati's last check. */
function humanUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]!;
  return `${day} ${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function driverText(r: CycleReport): string {
  const checked = `(last checked ${humanUtc(r.time)})`;
  const wait = r.waitingFor ? `; waiting for ${r.waitingFor}` : '';
  const dead = r.deadend ? '; the booted release is a dead end' : '';
  let t: string;
  switch (r.phase) {
    case 'disabled': t = `updates disabled by the configuration ${checked}`; break;
    case 'staged': t = `update ${r.target?.version ?? '?'} staged${wait || '; reboot pending'} ${checked}`; break;
    case 'rebooting': t = `rebooting into ${r.target?.version ?? 'the update'}${wait}`; break;
    case 'awaiting-verdict': t = `booted an update${wait} ${checked}`; break;
    case 'error': t = `last check failed: ${r.error ?? 'unknown error'} ${checked}`; break;
    default: t = `periodically polling for updates${wait}${dead} ${checked}`;
  }
  return t.replace(/[\r\n]+/g, ' ');
}

/**
 * Write the driver state for `rep`. `pid` is the daemon's own; a one-shot command passes
 * 'keep', so the line it writes still names the daemon that may be running beside it.
 */
export function writeDriverState(runDir: string, rep: CycleReport, pid: number | 'keep'): void {
  const file = driverStatePath(runDir);
  let daemon: number | null = null;
  if (pid === 'keep') {
    try {
      const old = readFileBounded(file, 64 * 1024, { what: 'Agent driver state' });
      const s = old ? parseDriverState(old.toString('utf8')) : null;
      if (s && !('invalid' in s)) daemon = s.pid;
    } catch { /* unreadable: rewritten below */ }
  } else daemon = pid;
  mkdirp(path.dirname(file), 0o755);
  writeFileAtomic(file, serializeDriverState({ version: 1, driver: DRIVER_NAME, pid: daemon, phase: rep.phase, text: driverText(rep), last_checked: rep.time }), { mode: 0o644 });
}
