/**
 * The vocabulary of the VM scenarios: the results list (checks and boots), one boot with its
 * progress line, reading the guest's framed sections from the serial log, the shell snippets the
 * scenario scripts are made of, and the checks several scenarios share.
 */
import * as path from 'node:path';
import { WORK_DIR, log, writeFile } from './common.js';
import { UPDATE_LABEL } from './names.js';
import { boot, sections, type BootOptions, type BootResult } from './launch.js';
import { phase, seconds } from './progress.js';

export const RUNS = path.join(WORK_DIR, 'runs');
export const BOOT_TIMEOUT_MS = Number(process.env['VM_BOOT_TIMEOUT'] ?? 300) * 1000;

export interface Check { scenario: string; what: string; ok: boolean; detail?: string }

export class Results {
  checks: Check[] = [];
  boots: BootResult[] = [];
  check(scenario: string, what: string, ok: boolean, detail?: string): boolean {
    this.checks.push({ scenario, what, ok, detail });
    log(`${ok ? 'PASS' : 'FAIL'} [${scenario}] ${what}${!ok && detail ? `\n    ${detail.split('\n').join('\n    ')}` : ''}`);
    return ok;
  }
}

export function script(name: string, body: string): string {
  const f = path.join(RUNS, `${name}.sh`);
  writeFile(f, `#!/bin/sh\n${body}`);
  return f;
}

export type RunBootOptions = Omit<BootOptions, 'serialLog' | 'timeoutMs' | 'onMilestone'> & { timeoutMs?: number };

/** One boot, shown as a phase whose stages are the guest's boot milestones. */
export async function runBoot(res: Results, o: RunBootOptions): Promise<BootResult> {
  const serialLog = path.join(RUNS, `${o.name}.log`);
  const r = await phase(`boot ${o.name}`, (p) => boot({ ...o, serialLog, timeoutMs: o.timeoutMs ?? BOOT_TIMEOUT_MS, onMilestone: (t) => p.note(t) }));
  res.boots.push(r);
  log(`  ${o.name}: ${r.bootedMs !== null ? `booted marker after ${seconds(r.bootedMs)}` : 'no booted marker'}; ` +
    `VM ran ${seconds(r.totalMs)}${r.timedOut ? ' (TIMEOUT)' : ''}; serial log ${serialLog}`);
  return r;
}

/** The deployment marked booted (`* ` line) in `ostree admin status` output: "<checksum>.<serial>". */
function bootedFromStatus(status: string): string | null {
  const m = /^\* \S+ ([0-9a-f]{64}\.\d+)/m.exec(status);
  return m ? m[1]! : null;
}

export function statusDeployments(status: string): string[] {
  return [...status.matchAll(/^[* ] \S+ ([0-9a-f]{64}\.\d+)(.*)$/gm)].map((m) => `${m[1]}${m[2]}`);
}

export function sec(r: BootResult, name: string): { text: string; rc: number } {
  return sections(r.log).get(name) ?? { text: '', rc: -1 };
}

/** Common first-boot style checks. */
export function checkBooted(res: Results, sc: string, r: BootResult, expectCommit: string): void {
  if (!res.check(sc, 'guest reached the booted marker', r.bootedMs !== null, r.timedOut ? 'timed out' : r.log.slice(-1500))) return;
  const st = sec(r, 'status');
  res.check(sc, '`ostree admin status` succeeds in the guest', st.rc === 0, st.text);
  const booted = bootedFromStatus(st.text);
  res.check(sc, `booted deployment (*) is commit ${expectCommit.slice(0, 12)}`, booted?.startsWith(expectCommit) === true, st.text);
}

/** Mount the update disk (a second drive holding an archive repo) and pull `branch` from it. */
export const PULL_FROM_UPDATE_DISK = (branch: string): string[] => [
  'mkdir -p /run/update',
  `mount -o ro LABEL=${UPDATE_LABEL} /run/update || mount -o ro /dev/vdb /run/update`,
  `ostree pull-local /run/update/repo ${branch}`,
];
export const STATUS_SNIPPET = (tag: string) => `echo "@@OSTREE-TEST BEGIN ${tag}"; ostree admin status; echo "@@OSTREE-TEST END ${tag} rc=$?"\n`;
export const CAT = (tag: string, cmd: string) => `echo "@@OSTREE-TEST BEGIN ${tag}"; ${cmd}; echo "@@OSTREE-TEST END ${tag} rc=$?"\n`;
/** After staging: wait for the .path unit to start ostree-finalize-staged.service and its hold unit, show them. */
export const HOLD_SNIPPET = [
  'for i in $(seq 1 100); do systemctl -q is-active ostree-finalize-staged-hold.service && systemctl -q is-active ostree-finalize-staged.service && break; sleep 0.2; done',
  CAT('hold', 'systemctl show -p ActiveState -p ExecStart ostree-finalize-staged-hold.service ostree-finalize-staged.service; ' +
    'tr "\\0" " " < /proc/$(systemctl show -p MainPID --value ostree-finalize-staged-hold.service)/cmdline; echo'),
].join('\n');
/** End the boot as an administrator would: `systemctl reboot` (the marker leaves the shutdown to it). */
export const REBOOT = [
  CAT('bus', 'systemctl is-active dbus.service systemd-logind.service'),
  'touch /run/ostree-test-keep-running',
  'echo "@@OSTREE-TEST BEGIN systemctl-reboot"',
  'systemctl reboot',
  'echo "@@OSTREE-TEST END systemctl-reboot rc=$?"',
];

/** The console without terminal escapes and carriage returns. */
export function clean(t: string): string {
  return t.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

/** Lines of the serial log printed by the finalize-staged process (journal+console). */
export function finalizeLines(logText: string): string {
  return clean(logText).split('\n').filter((l) => /\bostree\[\d+\]: /.test(l)).join('\n');
}

/** The hold unit runs our `ostree admin finalize-staged --hold` next to the started finalize unit. */
export function checkHold(res: Results, sc: string, r: BootResult): void {
  const h = sec(r, 'hold').text;
  res.check(sc, 'after staging: ostree-finalize-staged.service and ostree-finalize-staged-hold.service are active; the hold is `ostree admin finalize-staged --hold`',
    (h.match(/^ActiveState=active$/gm) ?? []).length === 2 && /path=\/usr\/bin\/ostree ; argv\[\]=\/usr\/bin\/ostree admin finalize-staged --hold/.test(h) &&
    // the process is our CLI: the bundled launcher (tree.ts) or, without a bundle, main.js
    /(?:dist\/bundle\/ostree\.cjs|dist\/src\/cli\/main\.js) admin finalize-staged --hold/.test(h), h);
}

/** `systemctl reboot` was accepted (through logind on the system bus) and the guest rebooted. */
export function checkSystemctlReboot(res: Results, sc: string, r: BootResult): void {
  const c = clean(r.log);
  const rb = sec(r, 'systemctl-reboot');
  res.check(sc, '`systemctl reboot` reboots the guest (dbus + systemd-logind active, no "Failed to connect to bus")',
    !r.timedOut && (sec(r, 'bus').text.match(/^active$/gm) ?? []).length === 2 && !c.includes('Failed to connect to bus') && (rb.rc === 0 || rb.rc === -1) && /reboot: Restarting system/.test(c) &&
    c.lastIndexOf('@@OSTREE-TEST BEGIN systemctl-reboot') >= 0 && !c.includes('@@OSTREE-TEST POWEROFF'),
    `bus: ${sec(r, 'bus').text}\nsystemctl reboot section rc=${rb.rc}: ${rb.text}\n${c.slice(-1500)}`);
}
