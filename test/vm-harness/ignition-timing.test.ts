/**
 * The i5 breakdown (vm-harness/ignition-timing.ts) read from a console as a dracut first boot
 * prints it: two systemd starts (initramfs, real root), the journal's Starting/Finished lines of
 * both, and a boot whose guest printed no profile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakdownTable, parseProfile } from '../../vm-harness/ignition-timing.js';
import type { BootResult } from '../../vm-harness/launch.js';

const LOG = [
  '[    0.000000] Linux version 6.1.0-57-amd64',
  '@@OSTREE-TEST BOOTED uptime=30.00',
  '@@OSTREE-TEST BEGIN profile-dmesg',
  '[    2.000000] Trying to unpack rootfs image as initramfs...',
  '[    2.700000] Freeing initrd memory: 22412K',
  '[    4.000000] Run /init as init process',
  '[    4.600000] systemd[1]: systemd 252.39-1~deb12u2 running in system mode (+PAM)',
  '[   14.000000] systemd[1]: systemd 252.39-1~deb12u2 running in system mode (+PAM)',
  '@@OSTREE-TEST END profile-dmesg rc=0',
  '@@OSTREE-TEST BEGIN profile-analyze',
  'Startup finished in 4.1s (kernel) + 9.9s (initrd) + 16.0s (userspace) = 30.0s',
  '@@OSTREE-TEST END profile-analyze rc=0',
  '@@OSTREE-TEST BEGIN profile-journal',
  '[    8.000000] localhost systemd[1]: Starting ignition-fetch-offline.service - Ignition (fetch-offline)...',
  '[    9.500000] localhost systemd[1]: Finished ignition-fetch-offline.service - Ignition (fetch-offline).',
  '[    9.600000] localhost systemd[1]: Mounting sysroot.mount - /sysroot...',
  '[   10.100000] localhost systemd[1]: Mounted sysroot.mount - /sysroot.',
  '[   10.200000] localhost systemd[1]: Starting systemd-journald.service - Journal Service...',
  '[   10.500000] localhost systemd[1]: Started systemd-journald.service - Journal Service.',
  '[   11.000000] localhost ostree-prepare-root[279]: ostree-prepare-root: done in 640 ms',
  '[   15.000000] ostree-ts-vm systemd[1]: Starting systemd-journald.service - Journal Service...',
  '[   17.000000] ostree-ts-vm systemd[1]: Started systemd-journald.service - Journal Service.',
  '[   20.000000] ostree-ts-vm systemd[1]: Starting ssh-host-keygen.service - OpenSSH: generate this machine\'s ed25519 host key...',
  '@@OSTREE-TEST END profile-journal rc=0',
].join('\r\n');

const boot = (log: string, bootedMs: number | null): BootResult =>
  ({ name: 'i5-ignition-1', backend: 'qemu', log, timedOut: false, bootedMs, grubMs: 400, totalMs: 40_000, milestoneMs: {} });

test('phases: GRUB from host time minus guest uptime, initramfs between the two systemd starts', () => {
  const p = parseProfile(boot(LOG, 41_500));
  assert.ok(p);
  const near = (a: number | undefined, b: number) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-6, `${a} ≈ ${b}`);
  near(p.phases['firmware + GRUB (QEMU start → kernel)'], 11.5);
  near(p.phases['kernel (→ /init)'], 4);
  near(p.phases['  of which: initramfs unpacked'], 0.7);
  near(p.phases['initramfs (/init → real root systemd)'], 10);
  near(p.phases['  of which: /init → initrd systemd'], 0.6);
  near(p.phases['real root (→ booted marker)'], 16);
  near(p.phases['total (QEMU start → booted marker)'], 41.5);
  assert.match(p.analyze, /^Startup finished in/);
});

test('units: Starting → Finished/Started/Mounted, named by where they ran; a unit never finished is left out', () => {
  const p = parseProfile(boot(LOG, 41_500))!;
  assert.deepEqual(Object.keys(p.units).sort(), [
    'initrd: ignition-fetch-offline.service', 'initrd: sysroot.mount', 'initrd: systemd-journald.service',
    'ostree-prepare-root (its own figure)', 'root: systemd-journald.service',
  ]);
  assert.ok(Math.abs(p.units['initrd: ignition-fetch-offline.service']! - 1.5) < 1e-6);
  assert.ok(Math.abs(p.units['root: systemd-journald.service']! - 2) < 1e-6);
  assert.equal(p.units['ostree-prepare-root (its own figure)'], 0.64);
});

test('no profile without the marker, the booted time or the guest\'s dmesg section', () => {
  assert.equal(parseProfile(boot(LOG, null)), null);
  assert.equal(parseProfile(boot(LOG.replace(/@@OSTREE-TEST BEGIN profile-dmesg[\s\S]*END profile-dmesg rc=0/, ''), 41_500)), null);
  assert.equal(parseProfile(boot(LOG.replace(/@@OSTREE-TEST BOOTED[^\n]*/, ''), 41_500)), null);
});

test('the table: one column per kind with profiles, means, units over the threshold in any kind', () => {
  const p = parseProfile(boot(LOG, 41_500))!;
  const q = parseProfile(boot(LOG, 43_500))!;
  const t = breakdownTable([{ label: 'Ignition', profiles: [p, q] }, { label: 'none', profiles: [] }], 1);
  assert.match(t, /^\| phase \(s, mean of 2 Ignition\) \| Ignition \|$/m);
  assert.match(t, /^\| total \(QEMU start → booted marker\) \| 42\.50 \|$/m);
  assert.match(t, /^\| initrd: ignition-fetch-offline\.service \| 1\.50 \|$/m);
  assert.doesNotMatch(t, /sysroot\.mount/);
});
