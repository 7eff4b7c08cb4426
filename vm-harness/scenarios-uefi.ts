/**
 * `make vm-test`, UEFI and Secure Boot (the same GPT disk as the BIOS scenarios: disk.ts):
 *  u0. plain root under UEFI (the boot-time baseline for UEFI)
 *  u1. UEFI first boot: OVMF → shim → GRUB (ESP) → the stub finds the root filesystem and reads
 *      /boot/grub/grub.cfg written by our grub2 backend; EFI runtime present, Secure Boot off
 *  u2. UEFI staged upgrade: pull-local, `ostree admin deploy --stage`, `systemctl reboot`; the
 *      next boot (same machine, same NVRAM) is the new deployment
 *  u3. Secure Boot, Microsoft's keys enrolled (OVMF_VARS_4M.ms.fd): Debian's signed shim, GRUB and
 *      kernel; the guest sees Secure Boot on (mokutil, the SecureBoot variable, kernel lockdown)
 *  u4. Secure Boot with the harness's own keys (ownkey.ts): enrolled from setup mode, the chain
 *      re-signed with our db key only, boots with Secure Boot on
 * With the auto backend (libvirt installed) the first boot of each firmware goes through
 * virt-install, and a check says so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAT, PULL_FROM_UPDATE_DISK, REBOOT, RUNS, STATUS_SNIPPET, checkBooted, checkSystemctlReboot, runBoot, script, sec, statusDeployments, type Results } from './checks.js';
import { run } from './common.js';
import { varsFileFor } from './firmware.js';
import { BRANCH, type BuiltImage } from './image.js';
import { createOverlay, type BootResult } from './launch.js';
import { GLOBAL_GUID, OWNKEY_DIR, SETUP_MODE_VARS, buildOwnKeyDisk, enrollScript, enrollmentPayloads } from './ownkey.js';
import { phase } from './progress.js';
import { newTimes, timingRounds, type BootTimes } from './timing.js';

/** What the guest says about its firmware and Secure Boot, as framed sections. */
const FIRMWARE_SNIPPET = [
  CAT('efi', 'test -d /sys/firmware/efi && echo "EFI runtime: $(cat /sys/firmware/efi/fw_platform_size)-bit"'),
  CAT('sb-state', 'mokutil --sb-state'),
  CAT('sb-var', `od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-${GLOBAL_GUID}`),
  CAT('lockdown', 'cat /sys/kernel/security/lockdown'),
  CAT('kernel-sb', 'dmesg | grep -i "secure boot" || true'),
].join('');

/** The SecureBoot variable's value (its last byte; the first four are its attributes). */
function sbVar(r: BootResult): number | null {
  const n = sec(r, 'sb-var').text.trim().split(/\s+/).map(Number);
  return n.length === 5 ? n[4]! : null;
}

function checkBackend(res: Results, sc: string, r: BootResult): void {
  const b = process.env['VM_BACKEND'];
  if (b !== undefined && b !== 'auto') return;
  res.check(sc, 'booted through virt-install (libvirt), as users do', r.backend === 'virt-install', `backend: ${r.backend}`);
}

function checkFirmware(res: Results, sc: string, r: BootResult, secure: boolean): void {
  res.check(sc, 'the guest runs on UEFI (/sys/firmware/efi, 64-bit)', sec(r, 'efi').text.includes('EFI runtime: 64-bit'), sec(r, 'efi').text);
  const st = sec(r, 'sb-state').text;
  if (secure) {
    res.check(sc, '`mokutil --sb-state`: SecureBoot enabled', /^SecureBoot enabled/m.test(st), st);
    res.check(sc, 'EFI variable SecureBoot = 1', sbVar(r) === 1, sec(r, 'sb-var').text);
    res.check(sc, 'the kernel locked itself down (lockdown=integrity, as Debian kernels do under Secure Boot)',
      /\[integrity\]/.test(sec(r, 'lockdown').text), sec(r, 'lockdown').text + sec(r, 'kernel-sb').text);
  } else {
    res.check(sc, '`mokutil --sb-state`: SecureBoot disabled', /^SecureBoot disabled/m.test(st), st);
  }
}

/** The GRUB menu came from the grub.cfg under /boot: it lists the OSTree entries. */
function checkGrubMenu(res: Results, sc: string, r: BootResult): void {
  const end = r.log.indexOf('Linux version');
  const menu = r.log.slice(0, end > 0 ? end : 20000).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ' ');
  res.check(sc, 'GRUB from the ESP showed the menu of /boot/grub/grub.cfg ((ostree:0) entry)', /\(ostree:0\)/.test(menu), menu.slice(-1500));
}

export async function runUefiScenarios(res: Results, img: BuiltImage, want: (s: string) => boolean): Promise<BootTimes[]> {
  let plainMs: number | null = null;
  if (want('u0')) {
    const r = await runBoot(res, { name: 'u0-plain-uefi', firmware: 'uefi', disk: await createOverlay(img.plainDisk, path.join(RUNS, 'u0-plain.qcow2')) });
    res.check('u0-plain-uefi', 'plain root (no OSTree) boots to the marker under UEFI', r.bootedMs !== null, r.log.slice(-1500));
    plainMs = r.bootedMs;
  }
  const disk = await createOverlay(img.disk, path.join(RUNS, 'uefi.qcow2'));
  let firstMs: number | null = null;
  if (want('u1') || want('u2')) firstMs = await firstBoot(res, img, disk);
  if (want('u2')) await stagedUpgrade(res, img, disk);
  const times = newTimes('uefi', plainMs, firstMs);
  if (want('u0') && want('u1')) await timingRounds(res, img, times);
  if (want('u3')) await secureBootDebian(res, img);
  if (want('u4')) await secureBootOwnKey(res, img);
  return times.plain.length > 0 || times.ostree.length > 0 ? [times] : [];
}

async function firstBoot(res: Results, img: BuiltImage, disk: string): Promise<number | null> {
  const s = script('u1-firmware', FIRMWARE_SNIPPET);
  const r = await runBoot(res, { name: 'u1-uefi-first-boot', firmware: 'uefi', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  checkBackend(res, 'u1-uefi', r);
  checkBooted(res, 'u1-uefi', r, img.commit1);
  checkGrubMenu(res, 'u1-uefi', r);
  checkFirmware(res, 'u1-uefi', r, false);
  res.check('u1-uefi', 'the machine keeps its own NVRAM beside the disk', fs.existsSync(varsFileFor(disk)), varsFileFor(disk));
  return r.bootedMs;
}

async function stagedUpgrade(res: Results, img: BuiltImage, disk: string): Promise<void> {
  const s1 = script('u2-stage', [
    'echo "@@OSTREE-TEST BEGIN update"',
    '( set -ex',
    ...PULL_FROM_UPDATE_DISK(BRANCH),
    `ostree admin deploy --stage ${BRANCH}`,
    ')',
    'echo "@@OSTREE-TEST END update rc=$?"',
    STATUS_SNIPPET('staged-status'),
    'umount /run/update',
    ...REBOOT,
  ].join('\n') + '\n');
  const r1 = await runBoot(res, { name: 'u2-uefi-stage', firmware: 'uefi', disk, extraDisks: [img.updateDisk], fwCfg: [{ name: 'opt/ostree-ts/script', file: s1 }] });
  res.check('u2-uefi-upgrade', 'pull-local + deploy --stage succeed in the guest', sec(r1, 'update').rc === 0, sec(r1, 'update').text.slice(-2500) || r1.log.slice(-2500));
  res.check('u2-uefi-upgrade', 'status shows the staged deployment', / \(staged\)/.test(sec(r1, 'staged-status').text), sec(r1, 'staged-status').text);
  checkSystemctlReboot(res, 'u2-uefi-upgrade', r1);
  const s2 = script('u2-check', FIRMWARE_SNIPPET + CAT('version', 'cat /usr/share/ostree-test/version'));
  const r2 = await runBoot(res, { name: 'u2-uefi-updated', firmware: 'uefi', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s2 }] });
  checkBooted(res, 'u2-uefi-upgrade', r2, img.commit2);
  res.check('u2-uefi-upgrade', 'the changed /usr file has the new content', sec(r2, 'version').text.trim() === '2', sec(r2, 'version').text);
  const deps = statusDeployments(sec(r2, 'status').text);
  res.check('u2-uefi-upgrade', 'status: new deployment first, old one as (rollback)',
    deps.length === 2 && deps[0]!.startsWith(img.commit2) && deps[1]!.includes('(rollback)'), sec(r2, 'status').text);
  checkFirmware(res, 'u2-uefi-upgrade', r2, false);
}

async function secureBootDebian(res: Results, img: BuiltImage): Promise<void> {
  const kernel = fs.readdirSync(path.join(path.dirname(img.disk), 'sysroot/boot/ostree')).map((d) => path.join(path.dirname(img.disk), 'sysroot/boot/ostree', d))
    .flatMap((d) => fs.readdirSync(d).filter((f) => f.startsWith('vmlinuz-')).map((f) => path.join(d, f)))[0];
  const signers = kernel ? await run('sbverify', ['--list', kernel]).catch((e: unknown) => String(e)) : 'no kernel under sysroot/boot/ostree';
  res.check('u3-secureboot', 'the deployed kernel is Debian\'s signed one (sbverify --list: Debian Secure Boot CA)', /Debian Secure Boot (CA|Signer)/.test(signers), signers);
  const s = script('u3-firmware', FIRMWARE_SNIPPET);
  const ov = await createOverlay(img.disk, path.join(RUNS, 'secureboot.qcow2'));
  const r = await runBoot(res, { name: 'u3-secureboot', firmware: 'secureboot', disk: ov, fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  checkBackend(res, 'u3-secureboot', r);
  checkBooted(res, 'u3-secureboot', r, img.commit1);
  checkGrubMenu(res, 'u3-secureboot', r);
  checkFirmware(res, 'u3-secureboot', r, true);
}

async function secureBootOwnKey(res: Results, img: BuiltImage): Promise<void> {
  const payloads = await enrollmentPayloads();
  const ov = await createOverlay(img.disk, path.join(RUNS, 'ownkey-enroll.qcow2'));
  const s = script('u4-enroll', CAT('sb-before', 'mokutil --sb-state') + enrollScript(payloads));
  const fwCfg = [{ name: 'opt/ostree-ts/script', file: s }, ...payloads.map(([name, , file]) => ({ name: `opt/ostree-ts/${name}`, file }))];
  const r1 = await runBoot(res, { name: 'u4-ownkey-enroll', firmware: 'secureboot', varsTemplate: SETUP_MODE_VARS, disk: ov, fwCfg });
  checkBackend(res, 'u4-ownkey', r1);
  res.check('u4-ownkey', 'enrollment boot: the Secure Boot firmware with empty vars is in setup mode', /Setup Mode/i.test(sec(r1, 'sb-before').text), sec(r1, 'sb-before').text);
  const enrolled = payloads.every(([name]) => sec(r1, `enroll-${name}`).rc === 0);
  res.check('u4-ownkey', 'db, KEK and PK written into efivarfs in setup mode', enrolled,
    payloads.map(([name]) => `${name}: rc=${sec(r1, `enroll-${name}`).rc} ${sec(r1, `enroll-${name}`).text}`).join('\n'));
  if (!enrolled) return;
  const vars = path.join(OWNKEY_DIR, 'OVMF_VARS_4M.ownkey.fd');
  fs.copyFileSync(varsFileFor(ov), vars);
  const disk = await phase('own-key disk', (p) => buildOwnKeyDisk(path.join(path.dirname(img.disk), 'sysroot'), p), 'shim, GRUB, kernel signed with the own db key');
  const s2 = script('u4-check', FIRMWARE_SNIPPET + CAT('pk', 'mokutil --pk | grep -i "subject:"') + CAT('db', 'mokutil --db | grep -i "subject:"'));
  const ov2 = await createOverlay(disk, path.join(RUNS, 'ownkey.qcow2'));
  const r2 = await runBoot(res, { name: 'u4-ownkey-boot', firmware: 'secureboot', varsTemplate: vars, disk: ov2, fwCfg: [{ name: 'opt/ostree-ts/script', file: s2 }] });
  checkBooted(res, 'u4-ownkey', r2, img.commit1);
  checkFirmware(res, 'u4-ownkey', r2, true);
  const keys = sec(r2, 'pk').text + sec(r2, 'db').text;
  res.check('u4-ownkey', 'PK and db are the harness\'s own (mokutil --pk/--db), no Microsoft key', /ostree-ts VM test PK/.test(sec(r2, 'pk').text) &&
    /ostree-ts VM test db/.test(sec(r2, 'db').text) && !/Microsoft/.test(keys), keys);
}

