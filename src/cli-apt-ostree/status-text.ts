/**
 * `status` as rpm-ostree prints it: `State:`, `AutomaticUpdates:`, `Deployments:`, then one
 * block per deployment headed by its refspec (`●` for the booted one) with right-aligned labels.
 */
import type { PackageDiff } from '../layering/packages.js';
import type { DeploymentStatus, StatusModel } from '../layering/status.js';
import { driverStatusLines } from '../agent/driver-state.js';
import { runDir } from '../sysroot/layout.js';

/** Labels end at column 26, as rpm-ostree aligns them. */
export function kv(key: string, value: string): string {
  return `${key.padStart(26)}: ${value}\n`;
}

function isoTime(t: number): string {
  return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function diffSummary(d: PackageDiff): string {
  const parts: string[] = [];
  if (d.upgraded.length) parts.push(`${d.upgraded.length} upgraded`);
  if (d.downgraded.length) parts.push(`${d.downgraded.length} downgraded`);
  if (d.removed.length) parts.push(`${d.removed.length} removed`);
  if (d.added.length) parts.push(`${d.added.length} added`);
  return parts.join(', ');
}

function block(s: DeploymentStatus, verbose: boolean): string {
  let out = `${s.booted ? '●' : ' '} ${s.origin ?? '<unknown origin>'}\n`;
  if (s.version !== null) out += kv('Version', `${s.version} (${isoTime(s.timestamp)})`);
  else if (verbose) out += kv('Timestamp', isoTime(s.timestamp));
  if (s['base-checksum'] !== undefined) {
    out += kv('BaseCommit', s['base-checksum']);
    if (verbose) out += kv('Commit', s.checksum);
  } else {
    out += kv('Commit', s.checksum);
  }
  if (verbose) out += kv('StateRoot', s.osname);
  if (s.diff && !s.booted && diffSummary(s.diff) !== '') out += kv('Diff', diffSummary(s.diff));
  if (s['requested-base-removals'].length) out += kv('RemovedBasePackages', s['base-removals'].join(' ') || s['requested-base-removals'].join(' '));
  if (s['requested-base-local-replacements'].length) out += kv('LocalReplacedBasePackages', s['requested-base-local-replacements'].join(' '));
  if (s['requested-packages'].length) out += kv('LayeredPackages', s['requested-packages'].join(' '));
  if (s['requested-local-packages'].length) out += kv('LocalPackages', s['requested-local-packages'].join(' '));
  if (s.unlocked !== 'none') out += kv('Unlocked', s.unlocked);
  if (s.staged) out += kv('Staged', 'yes');
  if (s.pinned) out += kv('Pinned', 'yes');
  return out;
}

/**
 * `driver`: the update agent's lines (driver-state.ts) in place of `AutomaticUpdates: disabled`,
 * as rpm-ostree prints Zincati's; by default read for the running system only.
 */
export function formatStatus(m: StatusModel, verbose: boolean, driver = m.deployments.some((d) => d.booted) ? driverStatusLines(runDir()) : ''): string {
  let out = `State: ${m.transaction ? 'busy' : 'idle'}\n`;
  if (m.transaction) out += `Transaction: ${m.transaction[0]} (pid ${m.transaction[1]})\n`;
  out += (driver || 'AutomaticUpdates: disabled\n') + 'Deployments:\n';
  out += m.deployments.map((d) => block(d, verbose)).join('\n');
  return out;
}
