/**
 * `ostree admin status` without commander: the one admin verb run on every login and by
 * monitoring, so main.ts dispatches the plain forms (`admin status [--json] [--sysroot P]`)
 * here directly and Node loads only the modules the status needs. The commander definition
 * (commands/admin/status.ts) calls the same adminStatus.
 */
import { Sysroot } from '../sysroot/sysroot.js';
import { statusJson, statusText } from '../sysroot/status.js';
import { sysrootFrom } from './context.js';
import { out } from './output.js';
import { runDir } from '../sysroot/layout.js';
import { driverStatusLines } from '../agent/driver-state.js';

export interface AdminStatusOptions { sysroot?: string | undefined; json?: boolean | undefined; verify?: boolean | undefined }

export async function adminStatus(opts: AdminStatusOptions): Promise<void> {
  const s = await Sysroot.open(sysrootFrom(opts.sysroot));
  await s.load();
  if (opts.json) { out(JSON.stringify(await statusJson(s), null, 2) + '\n'); return; }
  // The update agent's line (driver-state.ts), for the running system only: a file under /run
  // says nothing about another sysroot, and without the agent the output is upstream's.
  const driver = s.booted ? driverStatusLines(runDir()) : '';
  out(driver + await statusText(s, { verify: opts.verify === true }));
}

/**
 * The arguments of a plain `admin status` (after `admin`): `status`, `--json`,
 * `--sysroot=P` / `--sysroot P`, in any order (also `--sysroot` before `status`).  Anything
 * else (help, -v, unknown options, `--`) returns null and goes through commander.
 */
export function parsePlainStatus(afterAdmin: readonly string[]): AdminStatusOptions | null {
  const o: AdminStatusOptions = {};
  let sawStatus = false;
  for (let i = 0; i < afterAdmin.length; i++) {
    const a = afterAdmin[i]!;
    if (a === 'status' && !sawStatus) { sawStatus = true; continue; }
    if (a === '--json' && sawStatus && !o.json) { o.json = true; continue; }
    let value: string | undefined;
    if (a.startsWith('--sysroot=')) value = a.slice('--sysroot='.length);
    else if (a === '--sysroot' && i + 1 < afterAdmin.length) value = afterAdmin[++i]!;
    else return null;
    if (o.sysroot !== undefined) return null; // several: let commander decide which wins
    o.sysroot = value;
  }
  return sawStatus ? o : null;
}
