// Boot-time profile (developer tool, not part of vm-test): fresh-overlay first boots of several
// disks, alternated, with the guest printing its kernel and systemd timestamps; then per-phase
// means.  Needs `make vm-image` and the compiled harness (dist/vm-harness).
// usage: node vm-harness/tools/boot-profile.mjs ROUNDS OUTDIR
//   DISKS="name=path,..."  (default: plain and ostree disks of vm-harness/out)
//   BOOT_GROUPS="a,b;c,d"  disks of one group boot at the same time (same host load)
//   FIRMWARE=bios|uefi|secureboot  the guests' firmware (default bios)
// Per-phase deltas: node vm-harness/tools/boot-profile-report.mjs OUTDIR/results.json
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
const WT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { boot, createOverlay } = await import(`${WT}/dist/vm-harness/launch.js`);

const rounds = Number(process.argv[2] ?? 3);
const out = process.argv[3] ?? '/tmp/boottime/runs';
fs.mkdirSync(out, { recursive: true });
const work = `${WT}/vm-harness/out`;
// DISKS="name=path,name=path" (default: plain and ostree of the worktree's build)
const disks = Object.fromEntries((process.env.DISKS ?? `plain=${work}/plain-disk.qcow2,ostree=${work}/ostree-disk.qcow2`).split(',').map((x) => x.split('=')));
const only = Object.keys(disks);

const guestScript = path.join(out, 'guest.sh');
fs.writeFileSync(guestScript, `#!/bin/sh
echo "@@OSTREE-TEST BEGIN dmesg"; dmesg | grep -E 'Run /init|EXT4-fs|systemd 252|Hostname set|Queued start|tomoyo'; echo "@@OSTREE-TEST END dmesg rc=$?"
echo "@@OSTREE-TEST BEGIN journal"; journalctl -b -o short-monotonic --no-pager | grep -E 'Reached target|var.mount|ostree-remount|remount-fs|journal-flush|tmpfiles-setup|random-seed|udevd.service|prepare-root'; echo "@@OSTREE-TEST END journal rc=$?"
echo "@@OSTREE-TEST BEGIN units"; for u in systemd-journald.service var.mount ostree-remount.service systemd-remount-fs.service local-fs.target sysinit.target basic.target multi-user.target ostree-test-marker.service systemd-tmpfiles-setup.service systemd-journal-flush.service systemd-random-seed.service; do echo "$u $(systemctl show -p ActiveEnterTimestampMonotonic -p InactiveExitTimestampMonotonic --value $u | tr '\\n' ' ')"; done; echo "@@OSTREE-TEST END units rc=$?"
echo "@@OSTREE-TEST BEGIN generators"; for g in /usr/lib/systemd/system-generators/* ; do [ -x "$g" ] || continue; d=$(mktemp -d); for i in 1 2 3; do a=$(cut -d' ' -f1 /proc/uptime); SYSTEMD_LOG_LEVEL=err "$g" $d/n $d/e $d/l >/dev/null 2>&1; b=$(cut -d' ' -f1 /proc/uptime); echo "gen $(basename $g) run$i $(echo "$a $b" | awk '{printf "%d", ($2-$1)*1000}') ms"; done; rm -rf $d; done; echo "@@OSTREE-TEST END generators rc=$?"
echo "@@OSTREE-TEST BEGIN fulljournal"; journalctl -b -o short-monotonic --no-pager | sed -n 1,400p; echo "@@OSTREE-TEST END fulljournal rc=$?"
echo "@@OSTREE-TEST BEGIN mounts"; for m in / /sysroot /var /usr /boot; do findmnt -n -r -o TARGET,SOURCE,OPTIONS,PROPAGATION --mountpoint $m; done; echo "@@OSTREE-TEST END mounts rc=$?"
sync; echo o > /proc/sysrq-trigger
`);

function phases(logText, host) {
  const t = logText.replace(/\r/g, '');
  const r = { ...host };
  const num = (re) => { const m = re.exec(t); return m ? Number(m[1]) : null; };
  r.runInit = num(/^\[\s*([\d.]+)\] Run \/init as init process/m);
  r.systemd = num(/^\[\s*([\d.]+)\] systemd\[1\]: systemd \d+/m);
  r.booted = num(/@@OSTREE-TEST BOOTED uptime=([\d.]+)/);
  const j = (re) => { const m = re.exec(t); return m ? Number(m[1]) : null; };
  r.localfs = j(/^\[\s*([\d.]+)\] \S+ systemd\[1\]: Reached target local-fs\.target/m);
  r.sysinit = j(/^\[\s*([\d.]+)\] \S+ systemd\[1\]: Reached target sysinit\.target/m);
  r.basic = j(/^\[\s*([\d.]+)\] \S+ systemd\[1\]: Reached target basic\.target/m);
  r.ext4 = num(/^\[\s*([\d.]+)\] EXT4-fs \(vda1\): mounted/m);
  r.localfspre = j(/^\[\s*([\d.]+)\] \S+ systemd\[1\]: Reached target local-fs-pre\.target/m);
  r.multiuser = j(/^\[\s*([\d.]+)\] \S+ systemd\[1\]: Reached target multi-user\.target/m);
  const pr = /ostree-prepare-root: done in (\d+) ms/.exec(t);
  r.prepareRootMs = pr ? Number(pr[1]) : null;
  return r;
}

const results = [];
// BOOT_GROUPS="a,b;c,d": the disks of a group boot at the same time (same host load), groups one after the other
const groups = (process.env.BOOT_GROUPS ?? only.join(';')).split(';').map((g) => g.split(','));
async function one(kind, i) {
  const name = `${kind}-${i}`;
  const ov = await createOverlay(disks[kind], path.join(out, `${kind}.qcow2`));
  const serialLog = path.join(out, `${name}.log`);
  const host = {};
  const t0 = Date.now();
  const r = await boot({
    name, disk: ov, serialLog, timeoutMs: 600000, firmware: process.env.FIRMWARE ?? 'bios',
    fwCfg: [{ name: 'opt/ostree-ts/script', file: guestScript }],
    onMilestone: (m) => { host[m] = (Date.now() - t0) / 1000; },
  });
  const p = phases(r.log, { kind, round: i, grubHost: r.grubMs / 1000, kernelHost: host['kernel started'], bootedHost: r.bootedMs / 1000 });
  results.push(p);
  console.log(JSON.stringify(p));
  fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 1));
}
for (let i = 1; i <= rounds; i++) {
  for (const g of groups) await Promise.all(g.map((k) => one(k, i)));
}
fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 1));
const keys = ['grubHost', 'kernelHost', 'bootedHost', 'runInit', 'ext4', 'systemd', 'localfspre', 'localfs', 'sysinit', 'basic', 'multiuser', 'booted', 'prepareRootMs'];
const mean = (k, kind) => { const v = results.filter((x) => x.kind === kind && x[k] != null).map((x) => x[k]); return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN; };
console.log(`${'phase'.padEnd(14)} ${only.map((k) => k.padStart(9)).join(' ')}`);
for (const k of keys) console.log(`${k.padEnd(14)} ${only.map((d) => mean(k, d).toFixed(2).padStart(9)).join(' ')}`);
