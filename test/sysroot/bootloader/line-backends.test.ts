/** The syslinux and U-Boot backends: the configurations they generate from BLS entries, what
 * they keep of a live syslinux.cfg, and how auto-probing finds them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateSyslinuxConfig, keptSyslinuxLines } from '../../../src/sysroot/bootloader/syslinux.js';
import { generateUbootEnv } from '../../../src/sysroot/bootloader/uboot.js';
import { joinConfigLines } from '../../../src/sysroot/bootloader/config-lines.js';
import { selectBootloader } from '../../../src/sysroot/bootloader/registry.js';
import type { BootMenuEntry } from '../../../src/sysroot/bootloader/types.js';
import { tempDir } from '../../common/tmp.js';

const K = 'a'.repeat(64);
const entry = (n: number, extra: Partial<BootMenuEntry> = {}): BootMenuEntry => ({
  title: `TestOS 42 (ostree:${n})`,
  linux: `/ostree/os-${K}/vmlinuz-3.6.0`,
  initrds: [`/ostree/os-${K}/initramfs-3.6.0.img`],
  options: `root=LABEL=MOO ostree=/ostree/boot.1/os/${K}/${n}`,
  ...extra,
});

test('config lines: an empty first line and every empty line after the first kept one are dropped', () => {
  assert.equal(joinConfigLines(['', 'a', '', 'b', '', 'c']), 'a\n\nb\nc\n');
  assert.equal(joinConfigLines([]), '');
});

test('syslinux: ostree LABEL blocks and an ostree DEFAULT are replaced, other entries and directives kept', () => {
  const old = [
    'PROMPT 1', 'TIMEOUT 50', 'DEFAULT TestOS 42 (ostree:0)',
    'LABEL Fedora', '\tKERNEL /vmlinuz-fedora', '\tAPPEND root=/dev/sda2',
    'LABEL TestOS 42 (ostree:0)', `\tKERNEL /boot/ostree/os-${K}/vmlinuz-3.6.0`, '\tAPPEND ostree=/x',
    'LABEL old-style', `\tKERNEL /ostree/os-${K}/vmlinuz`, '',
  ].join('\n');
  const kept = keptSyslinuxLines(old);
  assert.equal(kept.regenerateDefault, true);
  assert.deepEqual(kept.lines, ['PROMPT 1', 'TIMEOUT 50', 'LABEL Fedora', '\tKERNEL /vmlinuz-fedora', '\tAPPEND root=/dev/sda2', '']);
  const text = generateSyslinuxConfig(old, [entry(0, { devicetree: `/ostree/os-${K}/devicetree-3.6.0` }), entry(1)]);
  assert.equal(text, [
    'PROMPT 1', 'TIMEOUT 50', 'LABEL Fedora', '\tKERNEL /vmlinuz-fedora', '\tAPPEND root=/dev/sda2', '',
    'DEFAULT TestOS 42 (ostree:0)', 'LABEL TestOS 42 (ostree:0)', `\tKERNEL /boot/ostree/os-${K}/vmlinuz-3.6.0`,
    `\tINITRD /boot/ostree/os-${K}/initramfs-3.6.0.img`, `\tDEVICETREE /boot/ostree/os-${K}/devicetree-3.6.0`,
    `\tAPPEND root=LABEL=MOO ostree=/ostree/boot.1/os/${K}/0`,
    'LABEL TestOS 42 (ostree:1)', `\tKERNEL /boot/ostree/os-${K}/vmlinuz-3.6.0`,
    `\tINITRD /boot/ostree/os-${K}/initramfs-3.6.0.img`, `\tAPPEND root=LABEL=MOO ostree=/ostree/boot.1/os/${K}/1`, '',
  ].join('\n'));
});

test('syslinux: a DEFAULT naming another entry is dropped and not regenerated (upstream); a LABEL without KERNEL is refused', () => {
  const text = generateSyslinuxConfig('DEFAULT Fedora\nLABEL Fedora\n\tKERNEL /vmlinuz\n', [entry(0)]);
  assert.match(text, /^LABEL Fedora\n\tKERNEL \/vmlinuz\n\nLABEL TestOS/);
  assert.doesNotMatch(text, /DEFAULT/);
  assert.throws(() => keptSyslinuxLines('LABEL broken\n\tAPPEND x\n'), /No KERNEL argument found after LABEL/);
});

test('uboot: numbered variables per entry, the default deployment\'s own uEnv.txt after its bootargs', () => {
  const root = tempDir('uboot');
  const deployDir = path.join(root, 'ostree/deploy/os/deploy/x.0');
  fs.mkdirSync(path.join(deployDir, 'usr/lib/ostree-boot'), { recursive: true });
  fs.writeFileSync(path.join(deployDir, 'usr/lib/ostree-boot/uEnv.txt'), 'loadfdt=load mmc\n');
  fs.mkdirSync(path.join(root, `ostree/boot.1/os/${K}`), { recursive: true });
  fs.symlinkSync('../../../deploy/os/deploy/x.0', path.join(root, `ostree/boot.1/os/${K}/0`));
  const text = generateUbootEnv(root, [entry(0, { fdtdir: `/ostree/os-${K}/dtb` }), entry(1, { initrds: [] })]);
  assert.equal(text, [
    `kernel_image=/boot/ostree/os-${K}/vmlinuz-3.6.0`, `ramdisk_image=/boot/ostree/os-${K}/initramfs-3.6.0.img`,
    `fdtdir=/boot/ostree/os-${K}/dtb`, `bootargs=root=LABEL=MOO ostree=/ostree/boot.1/os/${K}/0`, 'loadfdt=load mmc\n',
    `kernel_image2=/boot/ostree/os-${K}/vmlinuz-3.6.0`, `bootargs2=root=LABEL=MOO ostree=/ostree/boot.1/os/${K}/1`, '',
  ].join('\n'));
  assert.throws(() => generateUbootEnv(root, [entry(0, { options: 'quiet' })]), /No ostree= kernel argument/);
});

test('auto probing: syslinux.cfg, then grub.cfg, then uEnv.txt, else none', () => {
  const root = tempDir('probe');
  fs.mkdirSync(path.join(root, 'boot/loader.0'), { recursive: true });
  fs.symlinkSync('loader.0', path.join(root, 'boot/loader'));
  assert.equal(selectBootloader(root, undefined).name, 'none');
  fs.writeFileSync(path.join(root, 'boot/loader/uEnv.txt'), '');
  assert.equal(selectBootloader(root, undefined).name, 'uboot');
  fs.mkdirSync(path.join(root, 'boot/syslinux'));
  fs.symlinkSync('../loader/syslinux.cfg', path.join(root, 'boot/syslinux/syslinux.cfg'));
  assert.equal(selectBootloader(root, undefined).name, 'syslinux');
});
