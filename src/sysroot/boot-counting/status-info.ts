/**
 * What `ostree admin status` shows of boot counting and the boot checks, per deployment: the
 * tries left of one on trial (GRUB's count from the grubenv when GRUB has started counting it,
 * else its entry name's), a failed verdict and why, and the last boot check's verdict under
 * the deployment it judged.  Nothing when none of it applies (upstream's format unchanged).
 */
import type { Deployment } from '../deployment.js';
import { BOOT_CHECK_RECORD_REL } from '../layout.js';
import type { SysrootState } from '../state.js';
import { counterId, grubCounterBackend, type CounterBackend } from './grub-counter.js';
import { readRecord, type BootCheckRecord, type BootVerdict } from './record.js';

export interface BootCountingJson {
  /** `trial` (tries left), `blessed` (GRUB counted it and its check passed), `failed` (no tries left), `off` (not on trial) */
  state: 'trial' | 'blessed' | 'failed' | 'off';
  'tries-left': number | null;
  tries: number | null;
}

export interface DeploymentBootInfo {
  counting: BootCountingJson;
  /** why it is known to fail, or null */
  failure: string | null;
  /** the last boot check, when it judged this deployment */
  lastCheck: BootVerdict | null;
}

export class BootInfoReader {
  private readonly record: BootCheckRecord | null;
  private readonly backend: CounterBackend | null;
  constructor(sysroot: SysrootState) {
    let record: BootCheckRecord | null = null;
    try { record = readRecord(sysroot.abs(BOOT_CHECK_RECORD_REL)); } catch { /* unreadable: status still works */ }
    this.record = record;
    let backend: CounterBackend | null = null;
    try { backend = grubCounterBackend(sysroot.path); } catch { /* no grubenv to read */ }
    this.backend = backend;
  }

  info(d: Deployment): DeploymentBootInfo {
    const id = counterId(d);
    return {
      counting: this.counting(d),
      failure: this.record?.failed[id]?.reason ?? null,
      lastCheck: this.record?.last?.deployment === id ? this.record.last : null,
    };
  }

  private counting(d: Deployment): BootCountingJson {
    const c = d.bootCounter;
    if (d.staged || c === undefined || c === null) return { state: 'off', 'tries-left': null, tries: null };
    const tries = c.left + c.done;
    if (c.left === 0) return { state: 'failed', 'tries-left': 0, tries };
    let left = c.left;
    let grub: ReturnType<CounterBackend['state']> = { kind: 'unknown' };
    try { grub = this.backend?.state(d) ?? grub; } catch { /* unreadable grubenv: the entry name's count */ }
    if (grub.kind === 'good') return { state: 'blessed', 'tries-left': null, tries };
    if (grub.kind === 'exhausted') left = 0;
    else if (grub.kind === 'counting') left = grub.left;
    return { state: left === 0 ? 'failed' : 'trial', 'tries-left': left, tries };
  }
}

/** The status lines under a deployment (empty when there is nothing to say). */
export function bootInfoLines(i: DeploymentBootInfo): string {
  let s = '';
  const c = i.counting;
  if (c.state === 'trial') s += `    Boot counting: ${c['tries-left']} of ${c.tries} tries left\n`;
  else if (c.state === 'failed') s += `    Boot counting: no tries left (of ${c.tries})\n`;
  if (i.failure) s += `    Boot check: failed: ${i.failure}\n`;
  const v = i.lastCheck;
  if (v) {
    const what = v.result === 'green' ? 'passed' : 'FAILED';
    s += `    Last boot check: ${what} (${v.time})${v.failures.length ? `: ${v.failures.join('; ')}` : ''}\n`;
    if (v.action) s += `      ${v.action}\n`;
  }
  return s;
}
