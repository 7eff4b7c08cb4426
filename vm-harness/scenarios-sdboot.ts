/**
 * systemd-boot scenarios (ids sd1-sd3; VM_SCENARIOS=sd1,... runs a subset, each needs the ones
 * before it): UEFI (OVMF) boots through systemd-boot 252 on an EFI system partition that our
 * systemd-boot backend keeps as a mirror of /boot/loader (src/sysroot/bootloader/systemd-boot.ts).
 *
 * The machine: the OSTree disk of the BIOS scenarios (its ext4 root, /boot on it) plus a second
 * disk, a GPT disk with one EFI system partition (FAT32, label SDBOOT-ESP, made with mtools:
 * systemd-bootx64.efi as \EFI\BOOT\BOOTX64.EFI and \EFI\systemd\systemd-bootx64.efi, an empty
 * loader/), which the guest mounts at /boot/efi (fstab).
 *  sd0 (part of sd1). Install, under BIOS (the disk's GRUB): mount the ESP at /boot/efi, redeploy
 *      the commit; with `sysroot.bootloader` unset the backend is auto-detected (loader/ +
 *      systemd-boot on the ESP) and writes the entries and kernels to the ESP.
 *  sd1. First UEFI boot through systemd-boot: `bootctl status` names systemd-boot 252 and our
 *      entry; the deployment is booted.  Then `sysroot.boot-counting-tries 2`, pull v2, stage.
 *  sd2. Staged upgrade: finalized at shutdown onto the ESP; v2 boots from its `+2` entry and
 *      systemd-bless-boot marks it good (the entry loses its counter).  Then a health check
 *      (`RequiredBy=boot-complete.target`, fails on version 3), tries 1, stage v3.
 *  sd3. Counted rollback: v3 boots once (systemd-boot counts its entry down to `+0-1`), the
 *      health check fails so nothing blesses it; reboot: systemd-boot orders the exhausted entry
 *      last and boots v2 with no human input.
 */
import * as path from 'node:path';
import { mkdirp, rmrf, run, writeFile } from './common.js';
import { CAT, PULL_FROM_UPDATE_DISK, REBOOT, RUNS, STATUS_SNIPPET, checkBooted, clean, runBoot, script, sec, statusDeployments, type Results } from './checks.js';
import { BRANCH, CONFLICT_BRANCH, OSNAME, type BuiltImage } from './image.js';
import { createOverlay, type BootResult } from './launch.js';

const SDBOOT_EFI = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';
export const ESP_LABEL = 'SDBOOT-ESP';
const ESP_MIB = 128;
const ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';

/** A raw GPT disk with one ESP holding systemd-boot and an empty loader/ (what `bootctl install` makes). */
async function makeSdbootEspDisk(out: string): Promise<void> {
  const part = `${out}.part`;
  rmrf(part); rmrf(out);
  await run('truncate', ['-s', `${ESP_MIB}M`, part]);
  await run('mformat', ['-i', part, '-F', '-v', ESP_LABEL, '::']);
  const m = (cmd: string, ...args: string[]) => run(cmd, ['-i', part, ...args]);
  await m('mmd', '::/EFI', '::/EFI/BOOT', '::/EFI/systemd', '::/loader', '::/loader/entries');
  await m('mcopy', SDBOOT_EFI, '::/EFI/BOOT/BOOTX64.EFI');
  await m('mcopy', SDBOOT_EFI, '::/EFI/systemd/systemd-bootx64.efi');
  // A user setting our loader.conf keeps: a short menu (it shows on the serial console).
  const conf = path.join(RUNS, 'sdboot-loader.conf');
  writeFile(conf, 'timeout 2\n');
  await m('mcopy', conf, '::/loader/loader.conf');
  await run('truncate', ['-s', `${ESP_MIB + 2}M`, out]);
  await run('sfdisk', ['-q', out], { input: `label: gpt\nstart=2048, size=${ESP_MIB * 2048}, type=${ESP_TYPE}, name="EFI System"\n` });
  await run('dd', [`if=${part}`, `of=${out}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none']);
  rmrf(part);
}

const BOOTCTL = [
  CAT('bootctl-status', 'SYSTEMD_COLORS=0 bootctl status --no-pager 2>&1'),
  CAT('bootctl-list', 'SYSTEMD_COLORS=0 bootctl list --no-pager 2>&1'),
  CAT('esp-entries', 'findmnt -n -o TARGET,FSTYPE /boot/efi; ls /boot/efi/loader/entries; cat /boot/efi/loader/loader.conf'),
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
  const esp = path.join(RUNS, 'sdboot-esp.raw');
  await makeSdbootEspDisk(esp);
  if (!await install(res, disk, esp)) return;
  const r1 = await firstBoot(res, img, disk, esp);
  if (!want('sd2') || r1.bootedMs === null) return;
  const r2 = await upgraded(res, img, disk, esp);
  if (!want('sd3') || r2.bootedMs === null) return;
  await countedRollback(res, img, disk, esp);
}

/** sd0: under BIOS, mount the ESP and redeploy: the auto-detected backend fills the ESP. */
async function install(res: Results, disk: string, esp: string): Promise<boolean> {
  const s = script('sd0-install', [
    'echo "@@OSTREE-TEST BEGIN esp-install"',
    '( set -ex',
    'mkdir -p /boot/efi',
    `echo "LABEL=${ESP_LABEL} /boot/efi vfat umask=0077 0 2" >> /etc/fstab`,
    'systemctl daemon-reload',
    'mount /boot/efi',
    `ostree admin deploy --os=${OSNAME} ${BRANCH}`,
    ')',
    'echo "@@OSTREE-TEST END esp-install rc=$?"',
    CAT('esp-entries', 'ls /boot/efi/loader/entries /boot/efi/ostree/*; cat /boot/efi/loader/loader.conf'),
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'sd0-install', disk, extraDisks: [esp], fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  const inst = sec(r, 'esp-install');
  const ents = sec(r, 'esp-entries').text;
  return res.check('sd1-first-boot', 'install (BIOS boot): with the ESP at /boot/efi, `ostree admin deploy` auto-detects systemd-boot and writes ostree-a-* entries + kernels + loader.conf to it',
    inst.rc === 0 && /Bootloader updated; bootconfig swap: yes/.test(inst.text) && /^ostree-a-2-debian\.conf$/m.test(ents) && /^ostree-a-1-debian\.conf$/m.test(ents) &&
    /^default ostree-a-\*$/m.test(ents) && /^timeout 2$/m.test(ents) && /vmlinuz/.test(ents), `${inst.text.slice(-2000)}\n${ents}`);
}

/** sd1: the first UEFI boot goes through systemd-boot; then configure counting and stage v2. */
async function firstBoot(res: Results, img: BuiltImage, disk: string, esp: string): Promise<BootResult> {
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
  const r = await runBoot(res, { name: 'sd1-first-boot', disk, firmware: 'uefi', extraDisks: [esp, img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  const c = clean(r.log);
  res.check('sd1-first-boot', 'OVMF started systemd-boot from the ESP (its menu on the serial console), not GRUB', !/GNU GRUB/.test(c) && /ostree-a-2-debian|Debian|ostree:0/.test(c.slice(0, c.indexOf('Linux version') > 0 ? c.indexOf('Linux version') : undefined)), c.slice(0, 2000));
  checkBooted(res, 'sd1-first-boot', r, img.commit1);
  const st = sec(r, 'bootctl-status').text;
  res.check('sd1-first-boot', '`bootctl status`: the current boot loader is systemd-boot 252 and the current entry is ostree-a-2-debian.conf',
    /Product: systemd-boot 252/.test(st) && /ostree-a-2-debian\.conf/.test(st), st);
  const list = sec(r, 'bootctl-list').text;
  res.check('sd1-first-boot', '`bootctl list`: both entries, ostree-a-2-debian.conf is the default (selected)',
    /title: .*\(default\)/.test(list) && /id: ostree-a-2-debian\.conf/.test(list) && /id: ostree-a-1-debian\.conf/.test(list), list);
  res.check('sd1-first-boot', 'the ESP is mounted at /boot/efi (vfat, fstab)', /^\/boot\/efi vfat$/m.test(sec(r, 'esp-entries').text), sec(r, 'esp-entries').text);
  res.check('sd1-first-boot', 'stage v2 with sysroot.boot-counting-tries 2 succeeds', sec(r, 'stage').rc === 0, sec(r, 'stage').text.slice(-2000));
  return r;
}

/** sd2: v2 boots from its counted entry and is blessed; then a health check and a bad v3 staged. */
async function upgraded(res: Results, img: BuiltImage, disk: string, esp: string): Promise<BootResult> {
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
  const r = await runBoot(res, { name: 'sd2-upgraded', disk, firmware: 'uefi', extraDisks: [esp, img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
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
  return r;
}

/** sd3: v3 is tried once and fails its health check; the next boot is v2 again, by systemd-boot alone. */
async function countedRollback(res: Results, img: BuiltImage, disk: string, esp: string): Promise<void> {
  const s3 = script('sd3-bad', [
    CAT('version', 'cat /usr/share/ostree-test/version'),
    'for i in $(seq 1 100); do systemctl -q is-failed ostree-test-health.service && break; sleep 0.2; done',
    CAT('health', 'systemctl show -p ActiveState -p Result ostree-test-health.service systemd-bless-boot.service boot-complete.target; journalctl -b --no-pager -o cat -u ostree-test-health.service'),
    ...BOOTCTL,
    ...REBOOT,
  ].join('\n') + '\n');
  const r3 = await runBoot(res, { name: 'sd3-bad-update', disk, firmware: 'uefi', extraDisks: [esp], fwCfg: [{ name: 'opt/ostree-ts/script', file: s3 }] });
  checkBooted(res, 'sd3-counted-rollback', r3, img.commit3);
  const h = sec(r3, 'health').text;
  res.check('sd3-counted-rollback', 'bad update: the health check fails, boot-complete.target is not reached, systemd-bless-boot does not run',
    /Result=exit-code/.test(h) && /health check: version 3/.test(h) && !/^ActiveState=active[\s\S]*systemd-bless-boot/.test(h), h);
  const e3 = sec(r3, 'esp-entries').text;
  res.check('sd3-counted-rollback', 'systemd-boot counted the try: the v3 entry is now +0-1 on the ESP', /^ostree-a-\d+-debian\+0-1\.conf$/m.test(e3), e3);
  const s4 = script('sd3-rolled-back', [CAT('version', 'cat /usr/share/ostree-test/version'), ...BOOTCTL].join('\n') + '\n');
  const r4 = await runBoot(res, { name: 'sd3-rolled-back', disk, firmware: 'uefi', extraDisks: [esp], fwCfg: [{ name: 'opt/ostree-ts/script', file: s4 }] });
  checkBooted(res, 'sd3-counted-rollback', r4, img.commit2);
  res.check('sd3-counted-rollback', 'next boot, no human input: v2 again (the /usr file says 2)', sec(r4, 'version').text.trim() === '2', sec(r4, 'version').text);
  const list = sec(r4, 'bootctl-list').text;
  res.check('sd3-counted-rollback', '`bootctl list`: the exhausted v3 entry is listed last with 0 tries left; the default is the blessed v2 entry',
    /tries: 0 left/.test(list) && /title: .*\(default\)/.test(list), list);
  const deps = statusDeployments(sec(r4, 'status').text);
  res.check('sd3-counted-rollback', '`ostree admin status`: v3 is still the first entry of the list, the booted (*) one is v2',
    deps[0]?.startsWith(img.commit3) === true && /^\* \S+ [0-9a-f]{64}/m.test(sec(r4, 'status').text), sec(r4, 'status').text);
}


