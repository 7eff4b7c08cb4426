/**
 * `make vm-test`: boot scenarios on one built image (throwaway qcow2 overlays; the built image
 * stays clean), read from the serial console.
 *  0. baseline: the same tree as a plain root filesystem (no OSTree), for the boot-time figures
 *  1. first boot: status shows the deployment with `*`, /usr read-only, /var = stateroot var
 *     mounted by our generator's var.mount
 *  2. offline update: pull-local from a second disk, /etc edit + /var file, `ostree admin deploy
 *     --stage`, `systemctl reboot`: ostree-finalize-staged.service (ExecStop: our `ostree admin
 *     finalize-staged`) finalizes at shutdown, with the hold unit running `ostree admin
 *     finalize-staged --hold`; then the new deployment is booted with the /etc edit, the new
 *     default and the /var file, the old one is the rollback
 *  3. `ostree admin rollback`, `systemctl reboot`: the old deployment is booted again
 *  4. the GRUB menu lists both deployments; choosing the second entry boots the other one
 *  5. a broken ostree= (and none at all): the console says what is wrong, the boot ends in time
 *  6. the dracut module: an initramfs built by Debian's dracut with `--add ostree` boots the disk
 *  7. failed finalization: staging a commit whose /etc merge fails (an edited /etc file that the
 *     commit turns into a directory), `systemctl reboot`: the old deployment boots again and
 *     ostree-boot-complete.service (`ostree admin boot-complete`) fails with the message of
 *     /boot/ostree/finalize-failure.stamp, which it consumes
 *  8-10. boot counting and automatic rollback (scenarios-bootcount.ts): a bad update whose
 *     required health check fails, a kernel panic spending GRUB's tries, a power cut mid-boot
 * u0-u4: UEFI and Secure Boot (scenarios-uefi.ts).  VM_SCENARIOS=0,1,u1,... runs a subset.
 * sd1-sd3: systemd-boot under UEFI (scenarios-sdboot.ts).
 * l1-l2: package layering with apt-ostree (scenarios-layering.ts).
 * a1-a2: the update agent in the guest, nginx on its loopback (scenarios-agent.ts).
 * r1: incremental deploy across reboots: a parked spare patched into the next deployment, booted,
 *     compared with a fresh checkout, rolled back (scenarios-recycle.ts).
 * i1-i6: Ignition first boot, reboot, upgrade, bad input, timing, the walkthrough on plain QEMU (scenarios-ignition.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WORK_DIR } from './common.js';
import {
  CAT, HOLD_SNIPPET, PULL_FROM_UPDATE_DISK, REBOOT, RUNS, Results, STATUS_SNIPPET, checkBooted, checkHold, checkSystemctlReboot,
  clean, finalizeLines, runBoot, script, sec, statusDeployments,
} from './checks.js';
import { buildDracutInitramfs } from './dracut.js';
import { BRANCH, CONFLICT_BRANCH, CONFLICT_FILE, OSNAME, ROOT_LABEL, type BuiltImage } from './image.js';
import { createOverlay, type BootResult } from './launch.js';
import { report } from './report.js';
import { runBootCountScenarios } from './scenarios-bootcount.js';
import { checkBackend, runUefiScenarios } from './scenarios-uefi.js';
import { runSdbootScenarios } from './scenarios-sdboot.js';
import { runLayeringScenarios } from './scenarios-layering.js';
import { runFinalizeScenarios } from './scenarios-finalize.js';
import { runRecycleScenarios } from './scenarios-recycle.js';
import { runAgentScenarios } from './scenarios-agent.js';
import { runIgnitionScenarios } from './scenarios-ignition.js';
import { newTimes, timingRounds, type BootTimes } from './timing.js';

interface Ctx {
  res: Results;
  img: BuiltImage;
  /** whether VM_SCENARIOS selects scenario `s` (all when unset) */
  want: (s: string) => boolean;
}

export async function runScenarios(img: BuiltImage): Promise<number> {
  const times: BootTimes[] = [];
  const t0 = Date.now();
  fs.mkdirSync(RUNS, { recursive: true });
  const only = process.env['VM_SCENARIOS']?.split(',');
  const ctx: Ctx = { res: new Results(), img, want: (s) => !only || only.includes(s) };
  const plainMs = ctx.want('0') ? await plainBaseline(ctx) : null;
  // 1-4 share one overlay: the machine's state carries over as on real hardware.
  const disk = await createOverlay(img.disk, path.join(RUNS, 'scenarios.qcow2'));
  const firstMs = ctx.want('1') ? await firstBoot(ctx, disk) : null;
  if (ctx.want('2')) {
    await stageUpdate(ctx, disk);
    const updated = await bootUpdated(ctx, disk);
    if (ctx.want('3')) await rolledBack(ctx, disk, updated);
    if (ctx.want('4')) await grubMenu(ctx, disk);
  }
  if (ctx.want('5')) await brokenOstree(ctx);
  if (ctx.want('6')) await dracut(ctx);
  if (ctx.want('7')) {
    const ov = await stageConflict(ctx);
    await afterFailedFinalization(ctx, ov);
  }
  await runBootCountScenarios(ctx.res, img, ctx.want);
  const biosTimes = newTimes('bios', plainMs, firstMs);
  if (ctx.want('0') && ctx.want('1')) await timingRounds(ctx.res, img, biosTimes);
  times.push(biosTimes);
  // UEFI and Secure Boot: scenarios-uefi.ts (u0-u4).
  times.push(...await runUefiScenarios(ctx.res, img, ctx.want));
  await runSdbootScenarios(ctx.res, img, ctx.want);
  await runLayeringScenarios(ctx.res, img, ctx.want);
  await runFinalizeScenarios(ctx.res, img, ctx.want);
  await runRecycleScenarios(ctx.res, img, ctx.want);
  await runAgentScenarios(ctx.res, img, ctx.want);
  await runIgnitionScenarios(ctx.res, ctx.want);
  return report(ctx.res, times, t0);
}

/** 0. Baseline: plain root filesystem of the same tree. */
async function plainBaseline({ res, img }: Ctx): Promise<number | null> {
  const ov = await createOverlay(img.plainDisk, path.join(RUNS, 'plain.qcow2'));
  const r = await runBoot(res, { name: 'plain', disk: ov });
  res.check('0-plain', 'plain root (no OSTree) boots to the marker', r.bootedMs !== null, r.log.slice(-1500));
  return r.bootedMs;
}

/** 1. First boot: the deployment is booted, /usr read-only, /var bound by the initramfs. */
async function firstBoot({ res, img }: Ctx, disk: string): Promise<number | null> {
  const r = await runBoot(res, { name: 's1-first-boot', disk });
  checkBackend(res, '1-first-boot', r);
  checkBooted(res, '1-first-boot', r, img.commit1);
  const usr = sec(r, 'findmnt-usr').text;
  res.check('1-first-boot', '/usr is mounted read-only', /^\/usr \S+ \S+ ro[,\s]/m.test(usr), usr);
  const v = sec(r, 'findmnt-var').text;
  res.check('1-first-boot', `/var is the stateroot's var (/ostree/deploy/${OSNAME}/var)`, v.includes(`[/ostree/deploy/${OSNAME}/var]`), v);
  const unit = sec(r, 'var-unit').text;
  // prepare-root bound /var in the initramfs and left upstream's marker: the generator wrote
  // nothing, systemd adopted the mount as var.mount (no unit file behind it).
  res.check('1-first-boot', 'var.mount is the initramfs\'s bind, adopted by systemd (marker left, no generated unit), active',
    unit.includes('ActiveState=active') && /^FragmentPath=$/m.test(unit) && /^\/run\/ostree\/initramfs-mount-var$/m.test(unit)
    && /generator\/var\.mount.*No such file/.test(unit), unit);
  const sr = sec(r, 'findmnt-sysroot').text;
  res.check('1-first-boot', 'the physical root is mounted at /sysroot', /^\/sysroot \S+ ext4/m.test(sr), sr);
  const failed = sec(r, 'failed-units').text.trim();
  res.check('1-first-boot', 'no failed systemd units', failed === '', failed);
  return r.bootedMs;
}

/** 2a. Update offline from the second disk, stage, `systemctl reboot`: finalized at shutdown. */
async function stageUpdate({ res, img }: Ctx, disk: string): Promise<void> {
  const s2 = script('s2-stage', [
    // The shutdown stops the marker unit before its "script" section ends: what must succeed
    // is framed in sections of its own that end before the reboot.
    'echo "@@OSTREE-TEST BEGIN update"',
    '( set -ex',
    ...PULL_FROM_UPDATE_DISK(BRANCH),
    'echo "edited-in-v1-boot" >> /etc/motd',
    'mkdir -p /var/lib/ostree-test && echo "written-in-v1-boot" > /var/lib/ostree-test/file',
    `ostree admin deploy --stage ${BRANCH}`,
    ')',
    'echo "@@OSTREE-TEST END update rc=$?"',
    STATUS_SNIPPET('staged-status'),
    'ls -l /run/ostree/',
    HOLD_SNIPPET,
    'echo "edited-after-staging" >> /etc/motd',
    'umount /run/update',
    ...REBOOT,
  ].join('\n') + '\n');
  const r1 = await runBoot(res, { name: 's2-stage', disk, extraDisks: [img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s2 }] });
  const scr = sec(r1, 'update');
  res.check('2-update', 'pull-local + deploy --stage succeed in the guest', scr.rc === 0, scr.text.slice(-2500) || r1.log.slice(-2500));
  const staged = sec(r1, 'staged-status').text;
  res.check('2-update', 'status shows the staged deployment', / \(staged\)/.test(staged), staged);
  checkHold(res, '2-update', r1);
  checkSystemctlReboot(res, '2-update', r1);
  const fin = finalizeLines(r1.log);
  res.check('2-update', 'ostree-finalize-staged.service finalized at shutdown (serial log: "Finalizing staged deployment", "Copying /etc changes", "Transaction complete")',
    !r1.timedOut && /Stopping \S*ostree-finalize-s/.test(clean(r1.log)) && /ostree\[\d+\]: Finalizing staged deployment/.test(fin) &&
    /ostree\[\d+\]: Copying \/etc changes: \d+ modified, \d+ removed, \d+ added/.test(fin) && /ostree\[\d+\]: Transaction complete; bootconfig swap: yes/.test(fin),
    fin || r1.log.slice(-2500));
}

/** 2b. Boot into the update: new /usr, kept /etc edits and /var; then `ostree admin rollback`. */
async function bootUpdated({ res, img }: Ctx, disk: string): Promise<BootResult> {
  const s2b = script('s2-check', [
    CAT('version', 'cat /usr/share/ostree-test/version'),
    CAT('motd', 'cat /etc/motd'),
    CAT('new-default', 'cat /etc/ostree-test-default.conf'),
    CAT('var-file', 'cat /var/lib/ostree-test/file'),
    CAT('boot-complete', 'systemctl is-failed ostree-boot-complete.service; ls /boot/ostree'),
    CAT('prev-finalize', 'journalctl --no-pager -b -1 -o short-monotonic -u ostree-finalize-staged.service'),
    CAT('rollback', 'ostree admin rollback'),
    STATUS_SNIPPET('after-rollback'),
    ...REBOOT,
  ].join('\n') + '\n');
  const r2 = await runBoot(res, { name: 's2-updated', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s2b }] });
  checkBooted(res, '2-update', r2, img.commit2);
  res.check('2-update', 'the changed /usr file has the new content', sec(r2, 'version').text.trim() === '2', sec(r2, 'version').text);
  const motd = sec(r2, 'motd').text;
  res.check('2-update', 'the /etc edit (before and after staging) is kept', motd.includes('edited-in-v1-boot') && motd.includes('edited-after-staging'), motd);
  res.check('2-update', 'the new default from /usr/etc is in /etc', sec(r2, 'new-default').text.includes('new-default=from-v2'), sec(r2, 'new-default').text);
  res.check('2-update', 'the /var file is intact', sec(r2, 'var-file').text.trim() === 'written-in-v1-boot', sec(r2, 'var-file').text);
  const deps = statusDeployments(sec(r2, 'status').text);
  res.check('2-update', 'status: new deployment first, old one as (rollback)',
    deps.length === 2 && deps[0]!.startsWith(img.commit2) && deps[1]!.startsWith(img.commit1) && deps[1]!.includes('(rollback)'), sec(r2, 'status').text);
  const pj = sec(r2, 'prev-finalize').text;
  res.check('2-update', 'journal of the previous boot: ostree-finalize-staged.service ran `ostree admin finalize-staged` (Finalizing, Copying /etc changes, Transaction complete)',
    /ostree\[\d+\]: Finalizing staged deployment/.test(pj) && /ostree\[\d+\]: Copying \/etc changes: 1 modified, 0 removed, 0 added/.test(pj) &&
    /ostree\[\d+\]: Transaction complete/.test(pj), pj);
  res.check('2-update', 'ostree-boot-complete.service did not fail, no failure stamp', /^inactive$/m.test(sec(r2, 'boot-complete').text) && !sec(r2, 'boot-complete').text.includes('finalize-failure.stamp'),
    sec(r2, 'boot-complete').text);
  return r2;
}

/** 3. After `ostree admin rollback` (run by 2b) + `systemctl reboot`: the old deployment again. */
async function rolledBack({ res, img }: Ctx, disk: string, updated: BootResult): Promise<void> {
  res.check('3-rollback', '`ostree admin rollback` succeeds', sec(updated, 'rollback').rc === 0, sec(updated, 'rollback').text.slice(-2000));
  checkSystemctlReboot(res, '3-rollback', updated);
  const s3 = script('s3-check', CAT('version', 'cat /usr/share/ostree-test/version'));
  const r3 = await runBoot(res, { name: 's3-rolled-back', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s3 }] });
  checkBooted(res, '3-rollback', r3, img.commit1);
  res.check('3-rollback', 'the /usr file is the old content again', sec(r3, 'version').text.trim() === '1', sec(r3, 'version').text);
  const d3 = statusDeployments(sec(r3, 'status').text);
  res.check('3-rollback', 'status: old deployment first, update second', d3.length === 2 && d3[0]!.startsWith(img.commit1) && d3[1]!.startsWith(img.commit2), sec(r3, 'status').text);
}

/** 4. GRUB menu: both deployments listed; the second entry boots the non-default one. */
async function grubMenu({ res, img, want }: Ctx, disk: string): Promise<void> {
  const s4 = script('s4-check', CAT('version', 'cat /usr/share/ostree-test/version'));
  const r4 = await runBoot(res, { name: 's4-grub-second-entry', disk, grubKeys: ['down', 'ret'], fwCfg: [{ name: 'opt/ostree-ts/script', file: s4 }] });
  const menu = r4.log.slice(0, r4.log.indexOf('Linux version') > 0 ? r4.log.indexOf('Linux version') : 20000);
  res.check('4-grub-menu', 'the GRUB menu lists two OSTree entries', /\(ostree:0\)/.test(menu) && /\(ostree:1\)/.test(menu), menu.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ' ').slice(0, 1500));
  checkBooted(res, '4-grub-menu', r4, want('3') ? img.commit2 : img.commit1);
}

/** 5. Broken ostree=: direct kernel boot of the image's kernel and initramfs. */
async function brokenOstree({ res, img }: Ctx): Promise<void> {
  const ov = await createOverlay(img.disk, path.join(RUNS, 'broken.qcow2'));
  const base = `root=LABEL=${ROOT_LABEL} rw console=ttyS0,115200 ostree.rescue_timeout=5 panic=5`;
  const cases: Array<[string, string, RegExp]> = [
    ['s5-wrong-ostree', `${base} ostree=/ostree/boot.1/${OSNAME}/0000000000000000000000000000000000000000000000000000000000000000/0`,
      /ostree-prepare-root: error: ostree=\/ostree\/boot\.1\/debian\/0{64}\/0: \S+ does not exist; boot links found: \/ostree\/boot\.\d\/debian\/[0-9a-f]{64}\/0/],
    ['s5-missing-ostree', base, /ostree-prepare-root: error: no ostree= argument on the kernel command line/],
  ];
  for (const [name, append, re] of cases) {
    const r = await runBoot(res, { name, disk: ov, kernel: img.kernel, initrd: img.initramfs, append, timeoutMs: 150_000 });
    const text = r.log.replace(/\r/g, '');
    res.check('5-broken-ostree', `${name}: the console says what is wrong`, re.test(text), text.split('\n').filter((l) => l.includes('ostree')).slice(-8).join('\n'));
    res.check('5-broken-ostree', `${name}: the boot ends by itself (no hang) within the timeout`, !r.timedOut && r.bootedMs === null,
      `timed out: ${r.timedOut}, total ${(r.totalMs / 1000).toFixed(1)} s`);
  }
}

/** 6. The dracut module: the same OSTree disk booted with a dracut-built initramfs (--add ostree). */
async function dracut({ res, img }: Ctx): Promise<void> {
  let initrd: string;
  try {
    initrd = await buildDracutInitramfs();
    res.check('6-dracut', 'dracut builds an initramfs with the ostree module (prepare-root + service wanted by initrd-root-fs.target)', true);
  } catch (e) {
    res.check('6-dracut', 'dracut builds an initramfs with the ostree module', false, String(e));
    return;
  }
  const entries = path.join(WORK_DIR, 'sysroot/boot/loader/entries');
  const conf = fs.readdirSync(entries).filter((f) => f.endsWith('.conf')).sort().at(-1)!;
  const options = /^options (.*)$/m.exec(fs.readFileSync(path.join(entries, conf), 'utf8'))![1]!;
  const ov = await createOverlay(img.disk, path.join(RUNS, 'dracut.qcow2'));
  const r = await runBoot(res, { name: 's6-dracut', disk: ov, kernel: img.kernel, initrd, append: options });
  checkBooted(res, '6-dracut', r, img.commit1);
  const usr = sec(r, 'findmnt-usr').text;
  res.check('6-dracut', '/usr is mounted read-only', /^\/usr \S+ \S+ ro[,\s]/m.test(usr), usr);
  res.check('6-dracut', 'ostree-prepare-root.service ran in the dracut initramfs', /OSTree Prepare OS\/|ostree-prepare-root: deployment:/.test(r.log),
    r.log.split('\n').filter((l) => l.includes('ostree')).slice(0, 10).join('\n'));
}

const CONFLICT_MSG = `Modified config file newly defaults to directory '${CONFLICT_FILE}', cannot merge`;

/**
 * 7a. A failed finalization: the booted /etc has an edited CONFLICT_FILE that the staged commit
 * turns into a directory, so the /etc merge at shutdown fails.  Returns the overlay it used.
 */
async function stageConflict({ res, img }: Ctx): Promise<string> {
  const ov = await createOverlay(img.disk, path.join(RUNS, 'finalize-fail.qcow2'));
  const s7 = script('s7-stage', [
    'echo "@@OSTREE-TEST BEGIN stage"',
    '( set -ex',
    ...PULL_FROM_UPDATE_DISK(CONFLICT_BRANCH),
    `echo "edited-in-v1-boot" >> /etc/${CONFLICT_FILE}`,
    `ostree admin deploy --stage ${CONFLICT_BRANCH}`,
    ')',
    'echo "@@OSTREE-TEST END stage rc=$?"',
    STATUS_SNIPPET('staged-status'),
    HOLD_SNIPPET,
    'umount /run/update',
    ...REBOOT,
  ].join('\n') + '\n');
  const r1 = await runBoot(res, { name: 's7-stage-conflict', disk: ov, extraDisks: [img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s7 }] });
  res.check('7-finalize-fail', `pull-local + deploy --stage ${CONFLICT_BRANCH} succeed (the conflict shows only at finalization)`, sec(r1, 'stage').rc === 0,
    sec(r1, 'stage').text.slice(-2500) || r1.log.slice(-2500));
  const st = sec(r1, 'staged-status').text;
  res.check('7-finalize-fail', 'status shows the staged deployment', new RegExp(`^  \\S+ ${img.commit3}\\.\\d+ \\(staged\\)`, 'm').test(st), st);
  checkHold(res, '7-finalize-fail', r1);
  checkSystemctlReboot(res, '7-finalize-fail', r1);
  const fin = finalizeLines(r1.log);
  res.check('7-finalize-fail', 'at shutdown ostree-finalize-staged.service ran and failed with the /etc conflict (serial log)',
    !r1.timedOut && /ostree\[\d+\]: Finalizing staged deployment/.test(fin) && fin.includes(`error: ${CONFLICT_MSG}`),
    fin || r1.log.slice(-2500));
  return ov;
}

/**
 * 7b. The next boot is the old deployment, and ostree-boot-complete.service fails with the
 * message from /boot/ostree/finalize-failure.stamp (which it consumes).
 */
async function afterFailedFinalization({ res, img }: Ctx, ov: string): Promise<void> {
  const s7b = script('s7-check', [
    // ostree-boot-complete.service (DefaultDependencies=no, as upstream's) is not ordered
    // before multi-user.target: wait for its job to end.
    'for i in $(seq 1 150); do systemctl list-jobs --no-legend | grep -q ostree-boot-complete || break; sleep 0.2; done',
    CAT('failed-after-boot-complete', 'systemctl --no-pager --no-legend --plain --failed'),
    CAT('boot-complete', 'SYSTEMD_COLORS=0 SYSTEMD_URLIFY=0 systemctl status --no-pager --full ostree-boot-complete.service'),
    CAT('stamp', 'ls -la /boot/ostree; test ! -e /boot/ostree/finalize-failure.stamp'),
    CAT('prev-finalize', 'journalctl --no-pager -b -1 -o short-monotonic -u ostree-finalize-staged.service'),
    CAT('version', 'cat /usr/share/ostree-test/version'),
    CAT('conflict-file', `cat /etc/${CONFLICT_FILE}`),
  ].join('\n') + '\n');
  const r2 = await runBoot(res, { name: 's7-after-failure', disk: ov, fwCfg: [{ name: 'opt/ostree-ts/script', file: s7b }] });
  checkBooted(res, '7-finalize-fail', r2, img.commit1);
  const d = statusDeployments(sec(r2, 'status').text);
  res.check('7-finalize-fail', 'status: only the old deployment, booted (*); the failed one is not listed',
    d.length === 1 && d[0]!.startsWith(img.commit1) && !sec(r2, 'status').text.includes(img.commit3), sec(r2, 'status').text);
  res.check('7-finalize-fail', 'the /usr file and the edited /etc file are the old ones', sec(r2, 'version').text.trim() === '1' &&
    sec(r2, 'conflict-file').text.includes('edited-in-v1-boot'), sec(r2, 'version').text + sec(r2, 'conflict-file').text);
  const bc = { ...sec(r2, 'boot-complete') };
  bc.text = clean(bc.text);
  res.check('7-finalize-fail', '`systemctl status ostree-boot-complete.service`: failed with "ostree-finalize-staged.service failed on previous boot: <the conflict>"',
    bc.rc === 3 && /Active: failed/.test(bc.text) && /Process: \d+ ExecStart=\/usr\/bin\/ostree admin boot-complete \(code=exited, status=1\/FAILURE\)/.test(bc.text) &&
    bc.text.includes(`error: ostree-finalize-staged.service failed on previous boot: ${CONFLICT_MSG}`),
    bc.text);
  res.check('7-finalize-fail', '/boot/ostree/finalize-failure.stamp was consumed', sec(r2, 'stamp').rc === 0, sec(r2, 'stamp').text);
  const pj = sec(r2, 'prev-finalize').text;
  res.check('7-finalize-fail', 'journal of the previous boot: ostree-finalize-staged.service\'s ExecStop logged the conflict and failed',
    pj.includes(`error: ${CONFLICT_MSG}`) && /ostree-finalize-staged\.service: Control process exited, code=exited, status=1\/FAILURE/.test(pj), pj);
  // (console lines of other units can interleave with the section: keep unit lines only)
  const failed = clean(sec(r2, 'failed-after-boot-complete').text).split('\n').filter((l) => /^\S+\.(service|mount|socket|path|timer|target|scope)\s/.test(l));
  res.check('7-finalize-fail', 'the failed units are exactly ostree-boot-complete.service',
    failed.length === 1 && failed[0]!.startsWith('ostree-boot-complete.service '), sec(r2, 'failed-after-boot-complete').text);
}
