/** The text form of a cycle report (`status`, `check`, `update-now`). */
import type { CycleReport } from '../agent/agent.js';

export function formatStatus(r: CycleReport): string {
  const lines = [`last cycle: ${r.time}`, `phase: ${r.phase}`, `booted: ${r.booted}`];
  if (r.target) lines.push(`target: ${r.target.version} (${r.target.payload})`);
  if (r.waitingFor) lines.push(`waiting for: ${r.waitingFor}`);
  if (r.deadend) lines.push(`the booted release is a dead end: ${r.deadend}`);
  for (const s of r.skipped) lines.push(`skipped ${s.version}: ${s.why}`);
  if (r.denylist.length) lines.push(`denied here: ${r.denylist.join(', ')}`);
  for (const e of r.events) lines.push(`event: ${e}`);
  if (r.error) lines.push(`error: ${r.error}`);
  return lines.join('\n') + '\n';
}
