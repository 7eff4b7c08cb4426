/**
 * Ignition's first boot in the generated grub.cfg (grub2-firstboot.ts): with the stamp
 * /boot/ignition.firstboot present when the config is written, GRUB tests for the stamp at boot
 * and every entry's kernel gets `ignition.firstboot ignition.platform.id=qemu` through one
 * variable; without the stamp the config has no trace of it.  Checked by GRUB's own parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Grub2Bootloader } from '../../../src/sysroot/bootloader/grub2.js';
import { FIRSTBOOT_STAMP, firstbootStampExists } from '../../../src/sysroot/bootloader/grub2-firstboot.js';
import type { BootMenuEntry } from '../../../src/sysroot/bootloader/types.js';
import { tempDir } from '../../common/tmp.js';

const dir = tempDir('ostree-ts-grub-firstboot-');

function scriptCheck(text: string): { status: number; out: string } {
  const f = path.join(dir, `cfg-${Math.random().toString(16).slice(2)}`);
  fs.writeFileSync(f, text);
  const r = spawnSync('grub-script-check', [f], { encoding: 'utf8' });
  return { status: r.status ?? -1, out: r.stdout + r.stderr };
}

const entry = (n: number): BootMenuEntry => ({
  title: `Debian ${n} (ostree:${n})`, linux: `/ostree/debian-${n}/vmlinuz`, initrds: [`/ostree/debian-${n}/initramfs.img`],
  options: `root=LABEL=r rw ostree=/ostree/boot.1/debian/${n}/0`,
});

/** A sysroot with /boot and loader.1, with or without the stamp; returns the config written. */
function written(stamp: boolean): string {
  const root = fs.mkdtempSync(path.join(dir, 'sysroot-'));
  fs.mkdirSync(path.join(root, 'boot/loader.1'), { recursive: true });
  if (stamp) fs.writeFileSync(path.join(root, 'boot', FIRSTBOOT_STAMP), '');
  assert.equal(firstbootStampExists(root), stamp);
  new Grub2Bootloader({ timeout: 1 }).writeConfig(root, 1, [entry(0), entry(1)]);
  return fs.readFileSync(path.join(root, 'boot/loader.1/grub.cfg'), 'utf8');
}

test('with the stamp: GRUB tests for it at boot and every entry appends $ignition_firstboot', () => {
  const cfg = written(true);
  const r = scriptCheck(cfg);
  assert.equal(r.status, 0, r.out);
  // ostree/repo is not on the same device in this temp dir: GRUB's /boot prefix is '' here.
  assert.match(cfg, /^set ignition_firstboot=''\nif \[ -f '\/ignition\.firstboot' \]; then\n\tset ignition_firstboot='ignition\.firstboot ignition\.platform\.id=qemu'\nfi$/m);
  const linux = cfg.split('\n').filter((l) => l.startsWith('\tlinux '));
  assert.equal(linux.length, 2);
  for (const l of linux) assert.match(l, / ostree=\/ostree\/boot\.1\/debian\/\d\/0 \$ignition_firstboot$/);
  // the variable is set before the first menu entry
  assert.ok(cfg.indexOf('set ignition_firstboot') < cfg.indexOf('menuentry'));
});

test('the stamp path follows the kernels\' /boot prefix', () => {
  const cfg = Grub2Bootloader.generate([entry(0)], '/boot', 3, 0, '/boot/grub/grubenv', true);
  assert.match(cfg, /^if \[ -f '\/boot\/ignition\.firstboot' \]; then$/m);
  assert.equal(scriptCheck(cfg).status, 0);
});

test('without the stamp: no first-boot script, no variable on the kernel lines (the config as before)', () => {
  const cfg = written(false);
  assert.doesNotMatch(cfg, /ignition/);
  assert.equal(cfg, Grub2Bootloader.generate([entry(0), entry(1)], '', 1, 1, '${config_directory}/grubenv'));
  assert.equal(scriptCheck(cfg).status, 0);
});
