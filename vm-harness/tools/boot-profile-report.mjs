// node boot-profile-report.mjs results.json...: per-phase means of boot-profile.mjs runs, and paired
// deltas (ostreeX - plainX of the same round) with their spread.
import * as fs from 'node:fs';
const rs = process.argv.slice(2).flatMap((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const kinds = [...new Set(rs.map((r) => r.kind))];
const phases = {
  'GRUB->kernel (host)': (r) => r.kernelHost - r.grubHost,
  'kernel->/init': (r) => r.runInit,
  '/init->root mounted': (r) => r.ext4 - r.runInit,
  'root mounted->systemd': (r) => r.systemd - r.ext4,
  'systemd->local-fs': (r) => r.localfs - r.systemd,
  'local-fs->sysinit': (r) => r.sysinit - r.localfs,
  'sysinit->multi-user': (r) => r.multiuser - r.sysinit,
  'multi-user->marker': (r) => r.booted - r.multiuser,
  'kernel->marker (guest)': (r) => r.booted,
  'QEMU->marker (host)': (r) => r.bootedHost,
  'prepare-root ms': (r) => r.prepareRootMs,
};
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
console.log(['phase'.padEnd(24), ...kinds.map((k) => k.padStart(9))].join(' '));
for (const [name, f] of Object.entries(phases)) {
  console.log([name.padEnd(24), ...kinds.map((k) => { const v = rs.filter((r) => r.kind === k).map(f).filter((x) => x != null && !Number.isNaN(x)); return v.length ? mean(v).toFixed(2).padStart(9) : '        -'; })].join(' '));
}
// paired deltas per round: ostree<S> - plain<S>
for (const suf of ['', 'A', 'B']) {
  const o = rs.filter((r) => r.kind === 'ostree' + suf), p = rs.filter((r) => r.kind === 'plain' + suf);
  const pairs = o.map((x) => [x, p.find((y) => y.round === x.round && y.file === x.file)]).filter(([, y]) => y);
  if (!pairs.length) continue;
  console.log(`\npaired delta ostree${suf} - plain${suf} (n=${pairs.length}): mean ± sd`);
  for (const [name, f] of Object.entries(phases)) {
    if (name === 'prepare-root ms') continue;
    const d = pairs.map(([x, y]) => f(x) - f(y));
    console.log(`  ${name.padEnd(24)} ${mean(d).toFixed(2).padStart(7)} ± ${sd(d).toFixed(2)}   [${d.map((v) => v.toFixed(1)).join(' ')}]`);
  }
}
