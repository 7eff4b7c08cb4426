#!/usr/bin/env node
/**
 * Start-up times of a few commands, compared (how bench/README.md's start-up figures were made):
 * each iteration runs every command once for wall time (spawnSync, hrtime), once under
 * `perf stat -e task-clock` (CPU time, children included) and once under GNU time (peak RSS),
 * the commands alternating so that a change of load touches them all alike. Prints medians
 * (and minimums) and the difference to the first command. Run it under `flock -x /tmp/heavy.lock`.
 *
 * Usage: N=30 node tools/startup-times.mjs COMMANDS.json
 *   COMMANDS.json: [["label", "argv0", "arg", ...], ...]   e.g. [["node -e 0", "node", "-e", "0"], ...]
 * Needs perf and GNU time (/usr/bin/time).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const tmp = join(tmpdir(), `startup-times-${process.pid}`);
const N = Number(process.env.N ?? 30);
const cmds = JSON.parse(readFileSync(process.argv[2], 'utf8')); // [[label, argv...], ...]
const res = cmds.map(() => ({ wall: [], cpu: [], rss: [] }));
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
for (let w = 0; w < 3; w++) for (const [, ...argv] of cmds) spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
for (let i = 0; i < N; i++) {
  cmds.forEach(([, ...argv], k) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    res[k].wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status} ${r.stderr}`);
    spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '-o', `${tmp}-perf`, '--', ...argv], { stdio: 'ignore' });
    const line = readFileSync(`${tmp}-perf`, 'utf8').split('\n').find((l) => l.includes('task-clock'));
    res[k].cpu.push(Number(line.split(',')[0]));
    spawnSync('/usr/bin/time', ['-f', '%M', '-o', `${tmp}-rss`, ...argv], { stdio: 'ignore' });
    res[k].rss.push(Number(readFileSync(`${tmp}-rss`, 'utf8').trim().split('\n').pop()));
  });
}
rmSync(`${tmp}-perf`, { force: true }); rmSync(`${tmp}-rss`, { force: true });
const base = res[0];
console.log(`N=${N} runs each, alternating; medians (min); delta vs first line`);
cmds.forEach(([label], k) => {
  const r = res[k];
  const d = (a, b) => (med(a) - med(b)).toFixed(1);
  console.log(`${label.padEnd(28)} wall ${med(r.wall).toFixed(1).padStart(6)} (${Math.min(...r.wall).toFixed(1)}) ms  cpu ${med(r.cpu).toFixed(1).padStart(6)} (${Math.min(...r.cpu).toFixed(1)}) ms  rss ${(med(r.rss) / 1024).toFixed(1)} MiB   Δwall ${d(r.wall, base.wall)}  Δcpu ${d(r.cpu, base.cpu)}  Δrss ${((med(r.rss) - med(base.rss)) / 1024).toFixed(1)}`);
});
