/**
 * The end of `make vm-test`: boot times per boot, OSTree against plain root, the checks that
 * failed, and the closing line CI runners read ("vm-checks: N passed, N failed"); the same data
 * as JSON in runs/summary.json.
 */
import * as path from 'node:path';
import { writeFile } from './common.js';
import { RUNS, type Results } from './checks.js';
import type { BootTimes } from './timing.js';

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length / 1000;
const fmt = (a: number[]) => a.map((x) => (x / 1000).toFixed(1)).join(', ');

function bootTimes(res: Results, times: BootTimes[]): string[] {
  const lines = ['', 'Boot times (QEMU start -> booted marker, TCG, -smp 2):'];
  for (const b of res.boots) {
    lines.push(`  ${b.name.padEnd(24)} ${b.bootedMs !== null ? `${(b.bootedMs / 1000).toFixed(1)} s` : '   -   '}   (VM ran ${(b.totalMs / 1000).toFixed(1)} s${b.timedOut ? ', TIMEOUT' : ''}; ${b.backend})`);
  }
  for (const t of times.filter((x) => x.plain.length > 0 && x.ostree.length > 0)) {
    const d = mean(t.ostree) - mean(t.plain);
    lines.push(`  first boot, fresh disk, ${t.firmware.toUpperCase()}, mean: OSTree ${mean(t.ostree).toFixed(1)} s [${fmt(t.ostree)}] vs plain root ${mean(t.plain).toFixed(1)} s [${fmt(t.plain)}] (${d >= 0 ? '+' : ''}${d.toFixed(1)} s)`);
  }
  const prep = res.boots.map((b) => /ostree-prepare-root: done in (\d+) ms/.exec(b.log)?.[1]).filter((x): x is string => !!x);
  if (prep.length > 0) lines.push(`  ostree-prepare-root in the initramfs: ${prep.join(', ')} ms`);
  return lines;
}

/** Print the report, write summary.json; the exit code (0 when every check passed). */
export function report(res: Results, times: BootTimes[], t0: number): number {
  const lines = bootTimes(res, times);
  const failed = res.checks.filter((c) => !c.ok);
  lines.push('', `vm-test: ${res.checks.length - failed.length}/${res.checks.length} checks passed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const f of failed) lines.push(`  FAILED [${f.scenario}] ${f.what}`);
  lines.push(`vm-checks: ${res.checks.length - failed.length} passed, ${failed.length} failed`);
  process.stdout.write(lines.join('\n') + '\n');
  writeFile(path.join(RUNS, 'summary.json'), JSON.stringify({ checks: res.checks, times, boots: res.boots.map(({ log: _l, ...b }) => b) }, null, 2) + '\n');
  return failed.length === 0 ? 0 : 1;
}
