/**
 * Where the time of a boot goes (scenario i5): the guest prints its own clocks after the booted
 * marker (PROFILE_SCRIPT, run by the marker unit through fw_cfg), and the harness splits the
 * boot into phases:
 *   firmware+GRUB  QEMU start → kernel start: host time to the marker minus the guest's uptime
 *                  then (GRUB reading the kernel and the initramfs through the BIOS under TCG)
 *   kernel         kernel start → /init (unpacking the initramfs is in it, shown apart)
 *   initramfs      /init → the real root's systemd (switch root)
 *   real root      → the booted marker (multi-user.target)
 * and lists the units of the boot with their durations from the journal (Starting → Finished),
 * the initramfs's (Ignition's stages, udev, dracut's hooks, prepare-root) and the real root's.
 */
import { clean } from './checks.js';
import type { BootResult } from './launch.js';

/** The guest's side: kernel lines, systemd-analyze, the journal's unit start/finish lines. */
export const PROFILE_SCRIPT = [
  'echo "@@OSTREE-TEST BEGIN profile-dmesg"',
  'dmesg | grep -E "Trying to unpack rootfs|Freeing initrd memory|Run /init as init process|systemd\\[1\\]: systemd [0-9.]+.* running in system mode"',
  'echo "@@OSTREE-TEST END profile-dmesg rc=$?"',
  'echo "@@OSTREE-TEST BEGIN profile-analyze"; systemd-analyze time; echo "@@OSTREE-TEST END profile-analyze rc=$?"',
  'echo "@@OSTREE-TEST BEGIN profile-journal"',
  'journalctl -b 0 -o short-monotonic --no-pager | grep -E "systemd\\[1\\]: (Starting|Finished|Started|Mounting|Mounted|Stopping|Stopped) |ostree-prepare-root: done"',
  'echo "@@OSTREE-TEST END profile-journal rc=$?"',
  '',
].join('\n');

export interface BootProfile {
  name: string;
  /** seconds, phase → duration; a phase the boot has not is absent */
  phases: Record<string, number>;
  /** unit → seconds from its Starting line to its Finished/Started/Mounted line (first occurrence) */
  units: Record<string, number>;
  /** `systemd-analyze time`, as printed */
  analyze: string;
}

const section = (log: string, name: string): string => {
  const m = new RegExp(`@@OSTREE-TEST BEGIN ${name}\\n([\\s\\S]*?)@@OSTREE-TEST END ${name} rc=`).exec(log);
  return m ? m[1]! : '';
};

/** The boot's phases and units, or null when the guest did not print its profile. */
export function parseProfile(r: BootResult): BootProfile | null {
  const log = clean(r.log);
  const uptime = /@@OSTREE-TEST BOOTED uptime=([\d.]+)/.exec(log);
  const dmesg = section(log, 'profile-dmesg');
  if (!uptime || r.bootedMs === null || dmesg === '') return null;
  const at = (re: RegExp, text: string): number[] => [...text.matchAll(re)].map((m) => Number(m[1]));
  const marker = Number(uptime[1]);
  const runInit = at(/^\[\s*([\d.]+)\] Run \/init/gm, dmesg)[0];
  const unpack = at(/^\[\s*([\d.]+)\] Trying to unpack rootfs/gm, dmesg)[0];
  const freed = at(/^\[\s*([\d.]+)\] Freeing initrd memory/gm, dmesg)[0];
  // systemd's "running in system mode": once in a dracut initramfs, once more in the real root.
  const systemds = at(/^\[\s*([\d.]+)\] systemd\[1\]: systemd \S+ running in system mode/gm, dmesg);
  const realRoot = systemds.at(-1);
  const phases: Record<string, number> = {};
  phases['firmware + GRUB (QEMU start → kernel)'] = r.bootedMs / 1000 - marker;
  if (runInit !== undefined) phases['kernel (→ /init)'] = runInit;
  if (unpack !== undefined && freed !== undefined) phases['  of which: initramfs unpacked'] = freed - unpack;
  if (runInit !== undefined && realRoot !== undefined) phases['initramfs (/init → real root systemd)'] = realRoot - runInit;
  if (systemds.length > 1 && runInit !== undefined) phases['  of which: /init → initrd systemd'] = systemds[0]! - runInit;
  if (realRoot !== undefined) phases['real root (→ booted marker)'] = marker - realRoot;
  phases['total (QEMU start → booted marker)'] = r.bootedMs / 1000;
  const units: Record<string, number> = {};
  const started: Record<string, number> = {};
  for (const m of section(log, 'profile-journal').matchAll(/^\[\s*([\d.]+)\] \S+ systemd\[1\]: (Starting|Mounting|Finished|Started|Mounted) (\S+?)(?: - |\.{3}$|\.$)/gm)) {
    const t = Number(m[1]);
    const verb = m[2]!;
    // The same unit may run in both (journald, udev): name where.
    const unit = `${realRoot !== undefined && t >= realRoot ? 'root' : 'initrd'}: ${m[3]!}`;
    if (verb === 'Starting' || verb === 'Mounting') started[unit] ??= t;
    else if (started[unit] !== undefined && units[unit] === undefined) units[unit] = t - started[unit]!;
  }
  const prep = /ostree-prepare-root: done in (\d+) ms/.exec(section(log, 'profile-journal'));
  if (prep) units['ostree-prepare-root (its own figure)'] = Number(prep[1]) / 1000;
  return { name: r.name, phases, units, analyze: section(log, 'profile-analyze').trim() };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * A table of the mean of each phase per kind of boot (columns), then the units that take at
 * least `minUnit` seconds in any kind, each kind's mean.
 */
export function breakdownTable(kinds: Array<{ label: string; profiles: BootProfile[] }>, minUnit = 0.3): string {
  const used = kinds.filter((k) => k.profiles.length > 0);
  const cell = (xs: number[]) => (xs.length === 0 ? '-' : mean(xs).toFixed(2));
  const rows: string[] = [];
  const head = `| phase (s, mean of ${used.map((k) => `${k.profiles.length} ${k.label}`).join(', ')}) | ${used.map((k) => k.label).join(' | ')} |`;
  rows.push(head, `|---|${used.map(() => '---:').join('|')}|`);
  const phaseNames = [...new Set(used.flatMap((k) => k.profiles.flatMap((p) => Object.keys(p.phases))))];
  for (const ph of phaseNames) rows.push(`| ${ph} | ${used.map((k) => cell(k.profiles.flatMap((p) => (p.phases[ph] !== undefined ? [p.phases[ph]!] : [])))).join(' | ')} |`);
  const unitNames = [...new Set(used.flatMap((k) => k.profiles.flatMap((p) => Object.keys(p.units))))]
    .filter((u) => used.some((k) => k.profiles.some((p) => (p.units[u] ?? 0) >= minUnit)))
    .sort();
  rows.push(`| **units ≥ ${minUnit} s (Starting → Finished)** |${used.map(() => '').join('|')}|`);
  for (const u of unitNames) rows.push(`| ${u} | ${used.map((k) => cell(k.profiles.flatMap((p) => (p.units[u] !== undefined ? [p.units[u]!] : [])))).join(' | ')} |`);
  return rows.join('\n');
}
