/**
 * systemd-boot scenarios (ids sd1-sd3; VM_SCENARIOS=sd1,... runs a subset, each needs the ones
 * before it): UEFI (OVMF) boots through systemd-boot 252 from the EFI system partition that our
 * systemd-boot backend keeps as a mirror of /boot/loader (src/sysroot/bootloader/systemd-boot.ts).
 *
 * The machine: a fresh overlay of the OSTree disk (GPT: its ESP, labelled ESP, carries shim +
 * GRUB; the ext4 root holds /boot).  The switch to systemd-boot is done in the guest the way a
 * user does it:
 *  sd0 (part of sd1). Under BIOS (the disk's GRUB): mount the ESP at /boot/efi (fstab),
 *      `bootctl install` (systemd-bootx64.efi as \EFI\systemd\ and \EFI\BOOT\BOOTX64.EFI, loader/),
 *      then redeploy the commit: with `sysroot.bootloader` unset the backend is auto-detected
 *      (loader/ + systemd-boot on the ESP) and writes the entries and kernels to the ESP.
 *  sd1. First UEFI boot through systemd-boot: `bootctl status` names systemd-boot 252 and our
 *      entry; the deployment is booted.  Then `sysroot.boot-counting-tries 2`, pull v2, stage.
 *  sd2. Staged upgrade: finalized at shutdown onto the ESP; v2 boots from its counted entry and
 *      systemd-bless-boot marks it good (the entry loses its counter).  Then a health check
 *      (`RequiredBy=boot-complete.target`, fails on version 3), tries 1, stage v3.
 *  sd3. Counted rollback: v3 boots once (systemd-boot counts its entry down to `+0-1`), the
 *      health check fails so nothing blesses it; reboot: systemd-boot orders the exhausted entry
 *      last and boots v2 with no human input.
 */
import * as path from 'node:path';
import { BOOT_TIMEOUT_MS, CAT, PULL_FROM_UPDATE_DISK, REBOOT, RUNS, checkBooted, checkSystemctlReboot, clean, runBoot, script, sec, statusDeployments, type Results } from './checks.js';
import { mkdirp } from './common.js';
import { BRANCH, CONFLICT_BRANCH, OSNAME, type BuiltImage } from './image.js';
import { createOverlay, type BootResult } from './launch.js';

/** The label esp.ts gives the OSTree disk's ESP. */
const ESP_LABEL = 'ESP';
/**
 * These boots finalize onto the ESP at shutdown: a guest killed by the timeout then (QEMU runs
 * its disks with cache=unsafe) loses writes a real machine would keep, so they get twice the time.
 */
const TIMEOUT_MS = 2 * BOOT_TIMEOUT_MS;

const BOOTCTL = [
  CAT('bootctl-status', 'SYSTEMD_COLORS=0 bootctl status --no-pager 2>&1'),
  CAT('bootctl-list', 'SYSTEMD_COLORS=0 bootctl list --no-pager 2>&1'),
  CAT('esp-entries', 'findmnt -n -o TARGET,FSTYPE /boot/efi; ls -1 /boot/efi/loader/entries; cat /boot/efi/loader/loader.conf'),
];

/** The units of the health check: required by boot-complete.target, fails when version is 3. */
const HEALTH_UNIT = [
  '[Unit]', 'Description=ostree-ts test health check (fails on version 3)', 'Before=boot-complete.target', '',
  '[Service]', 'Type=oneshot', 'RemainAfterExit=yes',
  'ExecStart=/bin/sh -c \'v=$(cat /usr/share/ostree-test/version); echo "health check: version $v"; test "$v" != 3\'', '',
  '[Install]', 'RequiredBy=boot-complete.target', '',
].join('\n');

export async function runSdbootScenarios(res: Results, img: BuiltImage, want: (s: string) => boolean): Promise<void> {
  if (!want('sd1')) return;
  mkdirp(RUNS);
  const disk = await createOverlay(img.disk, path.join(RUNS, 'sdboot.qcow2'));
  if (!await install(res, disk)) return;
  const r1 = await firstBoot(res, img, disk);
  if (!want('sd2') || r1.bootedMs === null) return;
  const r2 = await upgraded(res, img, disk);
  if (!want('sd3') || r2.bootedMs === null) return;
  await countedRollback(res, img, disk);
}

/** sd0: under BIOS, mount the ESP, `bootctl install`, redeploy: the auto-detected backend fills the ESP. */
async function install(res: Results, disk: string): Promise<boolean> {
  const s = script('sd0-install', [
    'echo "@@OSTREE-TEST BEGIN esp-install"',
    '( set -ex',
    'mkdir -p /boot/efi',
    `echo "LABEL=${ESP_LABEL} /boot/efi vfat umask=0077 0 0" >> /etc/fstab`,
    'systemctl daemon-reload',
    'mount /boot/efi',
    'bootctl install --esp-path=/boot/efi --no-variables',
    'cmp /usr/lib/systemd/boot/efi/systemd-bootx64.efi /boot/efi/EFI/BOOT/BOOTX64.EFI',
    // A user setting that our loader.conf keeps: a short menu (shown on the serial console).
    'echo "timeout 2" > /boot/efi/loader/loader.conf',
    `ostree admin deploy --os=${OSNAME} ${BRANCH}`,
    ')',
    'echo "@@OSTREE-TEST END esp-install rc=$?"',
    CAT('esp-entries', 'ls -1 /boot/efi/loader/entries /boot/efi/ostree/*; cat /boot/efi/loader/loader.conf'),
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'sd0-install', disk, firmware: 'bios', fwCfg: [{ name: 'opt/ostree-ts/script', file: s }], timeoutMs: TIMEOUT_MS });
  const inst = sec(r, 'esp-install');
  const ents = sec(r, 'esp-entries').text;
  return res.check('sd1-first-boot', 'install (BIOS boot): ESP at /boot/efi, `bootctl install`, then `ostree admin deploy` auto-detects systemd-boot and writes ostree-a-* entries + kernels + loader.conf to it',
    inst.rc === 0 && /Bootloader updated; bootconfig swap: yes/.test(inst.text) && /^ostree-a-2-debian\.conf$/m.test(ents) && /^ostree-a-1-debian\.conf$/m.test(ents) &&
    /^default ostree-a-\*$/m.test(ents) && /^timeout 2$/m.test(ents) && /vmlinuz/.test(ents), `${inst.text.slice(-2000)}\n${ents}`);
}

/** sd1: the first UEFI boot goes through systemd-boot; then configure counting and stage v2. */
async function firstBoot(res: Results, img: BuiltImage, disk: string): Promise<BootResult> {
  const s = script('sd1-first', [
    ...BOOTCTL,
    'echo "@@OSTREE-TEST BEGIN stage"',
    '( set -ex',
    'ostree config --repo=/ostree/repo set sysroot.bootloader systemd-boot',
    'ostree config --repo=/ostree/repo set sysroot.boot-counting-tries 2',
    ...PULL_FROM_UPDATE_DISK(BRANCH),
    `ostree admin deploy --stage ${BRANCH}`,
    'umount /run/update',
    ')',
    'echo "@@OSTREE-TEST END stage rc=$?"',
    ...REBOOT,
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'sd1-first-boot', disk, firmware: 'uefi', extraDisks: [img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s }], timeoutMs: TIMEOUT_MS });
  const c = clean(r.log);
  res.check('sd1-first-boot', 'OVMF started systemd-boot from the ESP, not shim/GRUB (no GRUB menu on the console)', !/GNU GRUB/.test(c), c.slice(0, 2000));
  checkBooted(res, 'sd1-first-boot', r, img.commit1);
  const st = sec(r, 'bootctl-status').text;
  res.check('sd1-first-boot', '`bootctl status`: the current boot loader is systemd-boot 252 and the current entry is ostree-a-2-debian.conf',
    /Product: systemd-boot 252/.test(st) && /ostree-a-2-debian\.conf/.test(st), st);
  const list = sec(r, 'bootctl-list').text;
  res.check('sd1-first-boot', '`bootctl list`: both entries; ostree-a-2-debian.conf is the default and the one systemd-boot booted ("(default) (selected)")',
    /title: .*\(default\) \(selected\)\s+id: ostree-a-2-debian\.conf/.test(list) && /id: ostree-a-1-debian\.conf/.test(list), list);
  res.check('sd1-first-boot', 'the ESP is mounted at /boot/efi (vfat, fstab)', /^\/boot\/efi vfat$/m.test(sec(r, 'esp-entries').text), sec(r, 'esp-entries').text);
  res.check('sd1-first-boot', 'stage v2 with sysroot.boot-counting-tries 2 succeeds', sec(r, 'stage').rc === 0, sec(r, 'stage').text.slice(-2000));
  checkSystemctlReboot(res, 'sd1-first-boot', r);
  return r;
}

/** sd2: v2 boots from its counted entry and is blessed; then a health check and a bad v3 staged. */
async function upgraded(res: Results, img: BuiltImage, disk: string): Promise<BootResult> {
  const s = script('sd2-upgraded', [
    CAT('version', 'cat /usr/share/ostree-test/version'),
    'for i in $(seq 1 100); do systemctl -q is-active systemd-bless-boot.service && break; sleep 0.2; done',
    CAT('bless', 'systemctl show -p ActiveState -p Result systemd-bless-boot.service; journalctl -b --no-pager -o cat -u systemd-bless-boot.service'),
    ...BOOTCTL,
    CAT('prev-finalize', 'journalctl --no-pager -b -1 -o cat -u ostree-finalize-staged.service'),
    'echo "@@OSTREE-TEST BEGIN stage-bad"',
    '( set -ex',
    `printf '%s\\n' ${HEALTH_UNIT.split('\n').map((l) => `'${l.replace(/'/g, `'\\''`)}'`).join(' ')} > /etc/systemd/system/ostree-test-health.service`,
    'systemctl enable ostree-test-health.service',
    'ostree config --repo=/ostree/repo set sysroot.boot-counting-tries 1',
    ...PULL_FROM_UPDATE_DISK(CONFLICT_BRANCH),
    `ostree admin deploy --stage ${CONFLICT_BRANCH}`,
    'umount /run/update',
    ')',
    'echo "@@OSTREE-TEST END stage-bad rc=$?"',
    ...REBOOT,
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'sd2-upgraded', disk, firmware: 'uefi', extraDisks: [img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s }], timeoutMs: TIMEOUT_MS });
  checkBooted(res, 'sd2-upgrade', r, img.commit2);
  res.check('sd2-upgrade', 'the changed /usr file has the new content', sec(r, 'version').text.trim() === '2', sec(r, 'version').text);
  const fin = sec(r, 'prev-finalize').text;
  res.check('sd2-upgrade', 'previous boot: ostree-finalize-staged.service wrote the new set at shutdown ("Bootloader updated")', /Bootloader updated; bootconfig swap: yes/.test(fin), fin);
  const st = sec(r, 'bootctl-status').text;
  res.check('sd2-upgrade', 'systemd-boot booted the new slot\'s counted entry (ostree-b-…+2 counted down to +1-1: bootctl shows the entry it booted)', /ostree-b-\d+-debian/.test(st), st);
  const bless = sec(r, 'bless').text;
  const ents = sec(r, 'esp-entries').text;
  res.check('sd2-upgrade', 'systemd-bless-boot.service ran after boot-complete.target and marked the boot good: the entry on the ESP has no counter any more',
    /ActiveState=active/.test(bless) && /^ostree-b-\d+-debian\.conf$/m.test(ents) && !/^ostree-b-\d+-debian\+/m.test(ents), `${bless}\n${ents}`);
  res.check('sd2-upgrade', 'stage the bad v3 (health check installed, tries 1) succeeds', sec(r, 'stage-bad').rc === 0, sec(r, 'stage-bad').text.slice(-2000));
  checkSystemctlReboot(res, 'sd2-upgrade', r);
  return r;
}

/** sd3: v3 is tried once and fails its health check; the next boot is v2 again, by systemd-boot alone. */
async function countedRollback(res: Results, img: BuiltImage, disk: string): Promise<void> {
  const s3 = script('sd3-bad', [
    CAT('version', 'cat /usr/share/ostree-test/version'),
    'for i in $(seq 1 100); do systemctl -q is-failed ostree-test-health.service && break; sleep 0.2; done',
    CAT('health', 'systemctl show -p ActiveState -p Result ostree-test-health.service systemd-bless-boot.service boot-complete.target; journalctl -b --no-pager -o cat -u ostree-test-health.service'),
    ...BOOTCTL,
    ...REBOOT,
  ].join('\n') + '\n');
  const r3 = await runBoot(res, { name: 'sd3-bad-update', disk, firmware: 'uefi', fwCfg: [{ name: 'opt/ostree-ts/script', file: s3 }], timeoutMs: TIMEOUT_MS });
  checkBooted(res, 'sd3-counted-rollback', r3, img.commit3);
  const h = sec(r3, 'health').text;
  // `systemctl show` prints one block per unit, in the order asked: health check, bless, target
  const [health = '', bless = '', target = ''] = h.split(/\n\s*\n/);
  res.check('sd3-counted-rollback', 'bad update: the health check fails, so boot-complete.target is not reached and systemd-bless-boot does not run',
    /Result=exit-code/.test(health) && /health check: version 3/.test(h) && !/ActiveState=active/.test(bless) && !/ActiveState=active/.test(target), h);
  checkSystemctlReboot(res, 'sd3-counted-rollback', r3);
  const e3 = sec(r3, 'esp-entries').text;
  res.check('sd3-counted-rollback', 'systemd-boot counted the try: the v3 entry is now +0-1 on the ESP', /^ostree-a-\d+-debian\+0-1\.conf$/m.test(e3), e3);
  const s4 = script('sd3-rolled-back', [CAT('version', 'cat /usr/share/ostree-test/version'), ...BOOTCTL].join('\n') + '\n');
  const r4 = await runBoot(res, { name: 'sd3-rolled-back', disk, firmware: 'uefi', fwCfg: [{ name: 'opt/ostree-ts/script', file: s4 }], timeoutMs: TIMEOUT_MS });
  checkBooted(res, 'sd3-counted-rollback', r4, img.commit2);
  res.check('sd3-counted-rollback', 'next boot, no human input: v2 again (the /usr file says 2)', sec(r4, 'version').text.trim() === '2', sec(r4, 'version').text);
  const list = sec(r4, 'bootctl-list').text;
  res.check('sd3-counted-rollback', '`bootctl list`: the exhausted v3 entry is listed last with 0 tries left; the default is the blessed v2 entry',
    /tries: 0 left/.test(list) && /title: .*\(default\)/.test(list), list);
  const deps = statusDeployments(sec(r4, 'status').text);
  res.check('sd3-counted-rollback', '`ostree admin status`: v3 is still the first entry of the list, the booted (*) one is v2',
    deps[0]?.startsWith(img.commit3) === true && /^\* \S+ [0-9a-f]{64}/m.test(sec(r4, 'status').text), sec(r4, 'status').text);
}


