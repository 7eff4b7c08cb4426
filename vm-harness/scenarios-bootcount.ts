/**
 * `make vm-test` scenarios 8-10: boot counting and automatic rollback on the image's BIOS GRUB,
 * all on one throwaway overlay, in order (each starts from the state the previous one left,
 * as on a real machine).  The updates are made in the guest: `ostree commit` layers a small
 * directory over the booted commit (`--tree=ref=... --tree=dir=...`), so no extra disk is
 * built.  A guest reboot ends QEMU (`-no-reboot`); the next boot of the same disk is the
 * machine coming back, with GRUB's grubenv and everything else as the guest left it.
 *
 *  8. bad update: `sysroot.boot-counting-tries 3`, deploy a commit whose required health check
 *     (/etc/greenboot/check/required.d) fails; its boot check rolls back and reboots by itself;
 *     the old deployment boots, `admin status` names the failed check, the journal of the
 *     previous boot has the check's output.
 *  9. kernel panic: deploy a commit with a broken initramfs (`panic=5` so the kernel reboots);
 *     each boot spends one of GRUB's tries; with none left GRUB boots the previous deployment,
 *     whose boot check makes the rollback durable; status says the counter ran out.
 * 10. power cut: deploy a good commit (a required check that passes, a wanted one that fails),
 *     cut the power while it boots (QEMU killed once systemd runs), power on again: the new
 *     deployment boots, passes its checks and is blessed (grubenv `good`, entry renamed).
 */
import * as path from 'node:path';
import { BRANCH, OSNAME, type BuiltImage } from './image.js';
import { createOverlay, type BootResult } from './launch.js';
import { CAT, REBOOT, RUNS, STATUS_SNIPPET, checkBooted, clean, runBoot as runOneBoot, script, sec, type Results, type RunBootOptions } from './checks.js';
import { log } from './common.js';

/**
 * Under TCG on a loaded host the guest kernel can fail its timer check and panic before it does
 * anything ("IO-APIC + timer doesn't work"), then hang.  That boot is cut short (a power cycle,
 * as a watchdog would do) and the machine booted again, up to twice; GRUB has counted it, as it
 * counts any crash.
 */
/** These boots commit and deploy in the guest: under TCG on a shared machine that takes minutes. */
const SLOW_BOOT_MS = 600_000;

const HOST_FLAKE = /Kernel panic - not syncing: IO-APIC \+ timer doesn't work/;

async function runBoot(res: Results, o: RunBootOptions): Promise<BootResult> {
  for (let attempt = 1; ; attempt++) {
    const cut = o.powerCutWhen ? new RegExp(`${HOST_FLAKE.source}|${o.powerCutWhen.source}`) : HOST_FLAKE;
    const r = await runOneBoot(res, { timeoutMs: SLOW_BOOT_MS, ...o, name: attempt === 1 ? o.name : `${o.name}-again${attempt}`, powerCutWhen: cut });
    const flake = HOST_FLAKE.test(r.log);
    if (!flake) return { ...r, powerCut: r.powerCut && !!o.powerCutWhen };
    if (attempt === 3) return r;
    log(`${o.name}: the guest kernel failed its timer check under the host's load (a TCG flake): booting again`);
  }
}

const REQUIRED = '/run/ov/usr/etc/greenboot/check/required.d';
const WAIT_BOOT_CHECK = 'for i in $(seq 1 600); do systemctl list-jobs --no-legend | grep -q ostree-boot-check || break; sleep 0.5; done';

/** Shell lines: a commit `branch` = the booted commit + the files written by `files` under /run/ov. */
function layeredCommit(branch: string, version: string, files: string[]): string[] {
  return [
    'rm -rf /run/ov && mkdir -p /run/ov/usr/share/ostree-test',
    `echo ${version} > /run/ov/usr/share/ostree-test/version`,
    ...files,
    `ostree commit --repo=/ostree/repo -b ${branch} --tree=ref=${BRANCH} --tree=dir=/run/ov --add-metadata-string=version=${version} -s "boot counting test: ${version}"`,
  ];
}

const BAD = layeredCommit('bc/bad', 'bad', [
  `mkdir -p ${REQUIRED}`,
  `printf '#!/bin/bash\\necho "ostree-test: the application does not answer" >&2\\nexit 1\\n' > ${REQUIRED}/50-ostree-test-app.sh`,
]);
const PANIC = layeredCommit('bc/panic', 'panic', [
  'kver=$(ls /usr/lib/modules | head -1)',
  'mkdir -p /run/ov/usr/lib/modules/$kver',
  'echo "not an initramfs" > /run/ov/usr/lib/modules/$kver/initramfs.img',
]);
const GOOD = layeredCommit('bc/good', 'good', [
  `mkdir -p ${REQUIRED} /run/ov/usr/etc/greenboot/check/wanted.d /run/ov/usr/etc/greenboot/green.d`,
  `printf '#!/bin/bash\\necho "ostree-test: the application answers"\\n' > ${REQUIRED}/50-ostree-test-app.sh`,
  'printf \'#!/bin/bash\\necho "ostree-test: optional service missing" >&2\\nexit 3\\n\' > /run/ov/usr/etc/greenboot/check/wanted.d/60-ostree-test-optional.sh',
  'printf \'#!/bin/bash\\necho "ostree-test: green hook ran" > /run/ostree-test-green\\n\' > /run/ov/usr/etc/greenboot/green.d/10-ostree-test.sh',
]);

/** Wait for the boot check, show it, its journal and the counter state. */
const AFTER_CHECK = [
  WAIT_BOOT_CHECK,
  CAT('boot-check-unit', 'SYSTEMD_COLORS=0 systemctl show -p ActiveState -p Result ostree-boot-check.service'),
  STATUS_SNIPPET('status-after-check'),
  CAT('grubenv', 'grep -a "^ostree_bc" /boot/grub/grubenv'),
  CAT('entries', 'ls -1 /boot/loader/entries'),
  CAT('version', 'cat /usr/share/ostree-test/version'),
];

export async function runBootCountScenarios(res: Results, img: BuiltImage, want: (s: string) => boolean): Promise<void> {
  if (!want('8') && !want('9') && !want('10')) return;
  const disk = await createOverlay(img.disk, path.join(RUNS, 'bootcount.qcow2'));
  const commits = await setup(res, disk);
  if (!commits) return;
  await badUpdate(res, img, disk, commits);
  if (want('9') || want('10')) await panicUpdate(res, img, disk, commits);
  if (want('10')) await powerCut(res, disk, commits);
}

type Commits = Record<'bad' | 'panic' | 'good', string>;

/** The first boot: boot counting on, the three commits, the bad one deployed. */
async function setup(res: Results, disk: string): Promise<Commits | null> {
  const s = script('s8-setup', [
    'echo "@@OSTREE-TEST BEGIN setup"',
    '( set -ex',
    'ostree config --repo=/ostree/repo set sysroot.boot-counting-tries 3',
    ...BAD, ...PANIC, ...GOOD,
    `ostree admin deploy --os=${OSNAME} bc/bad`,
    ')',
    'echo "@@OSTREE-TEST END setup rc=$?"',
    CAT('commits', 'for b in bad panic good; do echo "$b $(ostree rev-parse --repo=/ostree/repo bc/$b)"; done'),
    CAT('entries', 'ls -1 /boot/loader/entries'),
    ...REBOOT,
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 's8-setup', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  const ok = res.check('8-bad-update', 'boot counting on, three layered commits made in the guest, bc/bad deployed', sec(r, 'setup').rc === 0,
    sec(r, 'setup').text.slice(-2500) || r.log.slice(-2500));
  const entries = sec(r, 'entries').text;
  res.check('8-bad-update', 'the new deployment\'s entry is ostree-2+3.conf (upstream\'s naming), the old one ostree-1.conf',
    /^ostree-2\+3\.conf$/m.test(entries) && /^ostree-1\.conf$/m.test(entries), entries);
  const commits = Object.fromEntries([...sec(r, 'commits').text.matchAll(/^(bad|panic|good) ([0-9a-f]{64})$/gm)].map((m) => [m[1], m[2]]));
  if (!ok || Object.keys(commits).length !== 3) return null;
  return commits as Commits;
}

/** 8: the bad deployment's required check fails; the boot check rolls back and reboots. */
async function badUpdate(res: Results, img: BuiltImage, disk: string, c: Commits): Promise<void> {
  // The boot check reboots the guest; this script only keeps the marker from powering off.
  const s = script('s8-bad', ['touch /run/ostree-test-keep-running', WAIT_BOOT_CHECK, 'sleep 600'].join('\n') + '\n');
  const r1 = await runBoot(res, { name: 's8-bad-boot', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  const con = clean(r1.log);
  checkBooted(res, '8-bad-update', r1, c.bad);
  res.check('8-bad-update', 'the boot check fails the required check, rolls back and reboots with no human input',
    !r1.timedOut && /required check 50-ostree-test-app\.sh: failed \(exit status 1\)/.test(con) && /rolling back to /.test(con) &&
    /reboot: Restarting system/.test(con), tail(con, /ostree\[\d+\]|boot check|reboot:/));
  const s2 = script('s8-after', [...AFTER_CHECK,
    CAT('prev-journal', 'journalctl --no-pager -b -1 -o cat -u ostree-boot-check.service'),
    CAT('pull-panic', 'ostree admin deploy --karg-append=panic=5 bc/panic && ls -1 /boot/loader/entries'),
    ...REBOOT].join('\n') + '\n');
  const r2 = await runBoot(res, { name: 's8-rolled-back', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s2 }] });
  checkBooted(res, '8-bad-update', r2, img.commit1);
  const st = sec(r2, 'status-after-check').text;
  res.check('8-bad-update', '`admin status` names the failed check under the bad deployment, with no tries left',
    new RegExp(`${c.bad}\\.\\d+[\\s\\S]*Boot counting: no tries left \\(of 3\\)\\n\\s+Boot check: failed: its boot check failed: required check 50-ostree-test-app\\.sh failed \\(exit status 1\\)`).test(st), st);
  const pj = sec(r2, 'prev-journal').text;
  res.check('8-bad-update', 'the journal of the failed boot has the check\'s output and the rollback',
    pj.includes('50-ostree-test-app.sh: ostree-test: the application does not answer') && /rolling back to debian\//.test(pj), pj);
  res.check('8-bad-update', 'the old /usr is back', sec(r2, 'version').text.trim() === '1', sec(r2, 'version').text);
  res.check('9-panic', 'bc/panic deployed with panic=5 (entry ostree-2+3.conf)', sec(r2, 'pull-panic').rc === 0 && /ostree-2\+3\.conf/.test(sec(r2, 'pull-panic').text),
    sec(r2, 'pull-panic').text);
}

/** 9: three panicking boots spend GRUB's tries; the fourth boots the previous deployment. */
async function panicUpdate(res: Results, img: BuiltImage, disk: string, c: Commits): Promise<void> {
  for (let i = 1; i <= 3; i++) {
    // (any panic spends a try here, a host flake's too: no second attempt; panic=5 reboots either)
    const r = await runOneBoot(res, { name: `s9-panic-${i}`, disk, timeoutMs: 300_000 });
    const con = clean(r.log);
    res.check('9-panic', `boot ${i}: GRUB boots the new entry, the kernel panics and reboots`,
      !r.timedOut && r.bootedMs === null && /Kernel panic/.test(con) && !con.includes('no boot tries left'), tail(con, /panic|ostree|GRUB/i));
  }
  const s = script('s9-after', [...AFTER_CHECK,
    CAT('deploy-good', `ostree admin deploy --os=${OSNAME} bc/good && ls -1 /boot/loader/entries`),
    ...REBOOT].join('\n') + '\n');
  const r = await runBoot(res, { name: 's9-fallback', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  const con = clean(r.log);
  res.check('9-panic', 'with no tries left GRUB says so and boots the previous deployment', con.includes('ostree: the default deployment has no boot tries left'),
    con.slice(0, 3000));
  checkBooted(res, '9-panic', r, img.commit1);
  const st = sec(r, 'status-after-check').text;
  res.check('9-panic', 'the rollback is durable: the old deployment is the default (first), the panicking one says the counter ran out',
    /^\* debian [0-9a-f]{64}\.\d+\n/.test(st) &&
    new RegExp(`${c.panic}\\.\\d+[\\s\\S]*Boot check: failed: no boot of it passed its checks in 3 tries: the boot counter ran out`).test(st), st);
  res.check('9-panic', 'grubenv: the panicking deployment has 0 tries left', new RegExp(`ostree_bc_id=debian/${c.panic}\\.\\d+\\nostree_bc_left=0`).test(sec(r, 'grubenv').text),
    sec(r, 'grubenv').text);
  res.check('10-power-cut', 'bc/good deployed', sec(r, 'deploy-good').rc === 0, sec(r, 'deploy-good').text);
}

/** 10: power cut while the good deployment boots, then power on: it boots, passes, is blessed. */
async function powerCut(res: Results, disk: string, c: Commits): Promise<void> {
  const cut = await runBoot(res, { name: 's10-power-cut', disk, powerCutWhen: /systemd\[1\]: |Welcome to / });
  res.check('10-power-cut', 'the power is cut while systemd starts the new deployment', cut.powerCut === true && cut.bootedMs === null,
    clean(cut.log).slice(-1500));
  const s = script('s10-after', [...AFTER_CHECK,
    CAT('green-hook', 'cat /run/ostree-test-green'),
    CAT('journal', 'journalctl --no-pager -b -o cat -u ostree-boot-check.service'),
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 's10-power-on', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  checkBooted(res, '10-power-cut', r, c.good);
  res.check('10-power-cut', 'the boot check passed (the wanted check\'s failure is only logged) and the green.d hook ran',
    /ActiveState=active/.test(sec(r, 'boot-check-unit').text) && sec(r, 'green-hook').text.includes('green hook ran') &&
    sec(r, 'journal').text.includes('wanted check 60-ostree-test-optional.sh: failed (exit status 3)'), sec(r, 'journal').text + sec(r, 'boot-check-unit').text);
  const st = sec(r, 'status-after-check').text;
  res.check('10-power-cut', '`admin status`: last boot check passed under the booted deployment, no tries counted any more',
    new RegExp(`^\\* debian ${c.good}\\.\\d+[\\s\\S]*Last boot check: passed`, 'm').test(st) && !/Boot counting: \d of 3/.test(st.split('\n').slice(0, 6).join('\n')), st);
  res.check('10-power-cut', 'blessed: grubenv says good, the entry lost its counter (ostree-2+3.conf is now ostree-2.conf)',
    new RegExp(`ostree_bc_id=debian/${c.good}\\.\\d+\\nostree_bc_left=good`).test(sec(r, 'grubenv').text) && /^ostree-2\.conf$/m.test(sec(r, 'entries').text),
    sec(r, 'grubenv').text + sec(r, 'entries').text);
}

/** The last console lines matching `re` (for a failed check's detail). */
function tail(text: string, re: RegExp): string {
  return text.split('\n').filter((l) => re.test(l)).slice(-25).join('\n');
}
