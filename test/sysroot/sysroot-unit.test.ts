/** Pure pieces of the sysroot code: list building, bootserials, bootversion parsing, GRUB
 * config generation, backend selection, kargs computation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Deployment, Sysroot, assignBootserials, readBootversion, readSubbootversion, formatSize } from '../../src/sysroot/sysroot.js';
import { computeSimpleDeploymentList } from '../../src/sysroot/deploy/list.js';
import { computeKargs } from '../../src/sysroot/deploy/kargs-options.js';
import { Grub2Bootloader } from '../../src/sysroot/bootloader/grub2.js';
import { selectBootloader, bootloaderSetting } from '../../src/sysroot/bootloader/registry.js';
import { Origin } from '../../src/sysroot/formats/origin.js';
import { KeyFile } from '../../src/glib/keyfile.js';
import { tempDir } from '../common/tmp.js';

const C = (c: string): string => c.repeat(64);

function dep(os: string, c: string, serial: number, bootcsum = C('b')): Deployment {
  return new Deployment(os, C(c), serial, bootcsum);
}

async function fakeSysroot(list: Deployment[], booted: Deployment | null): Promise<Sysroot> {
  const s = await Sysroot.open('/nonexistent');
  s.deployments = list;
  list.forEach((d, i) => { d.index = i; });
  s.bootedDeployment = booted;
  s.booted = booted !== null;
  s.loaded = true;
  return s;
}

test('simple write list: offline default keeps only new + merge; --retain keeps all; other stateroots and pinned stay', async () => {
  const a = dep('os', '1', 0), b = dep('os', '2', 0), other = dep('other', '3', 0);
  const pinned = dep('os', '4', 0);
  pinned.origin = Origin.forRefspec('x'); pinned.origin.setPinned(true);
  const s = await fakeSysroot([a, b, other, pinned], null);
  const n = dep('os', '9', 0);
  const names = (l: Deployment[]): string[] => l.map((d) => d.csum[0]!);
  assert.deepEqual(names(computeSimpleDeploymentList(s, 'os', n, a, {})), ['9', '1', '3', '4']);
  assert.deepEqual(names(computeSimpleDeploymentList(s, 'os', n, null, {})), ['9', '3', '4']);
  assert.deepEqual(names(computeSimpleDeploymentList(s, 'os', n, a, { retain: true })), ['9', '1', '2', '3', '4']);
  assert.deepEqual(names(computeSimpleDeploymentList(s, 'os', n, a, { notAsDefault: true })), ['1', '9', '3', '4']);
  // neither booted nor merge + retain-pending → everything retained
  assert.deepEqual(names(computeSimpleDeploymentList(s, 'os', n, null, { retainPending: true })), ['9', '1', '2', '3', '4']);
});

test('simple write list when booted: crossover is the booted deployment (pending before, rollback after)', async () => {
  const pending = dep('os', '1', 0), booted = dep('os', '2', 0), rollback = dep('os', '3', 0);
  const s = await fakeSysroot([pending, booted, rollback], booted);
  const n = dep('os', '9', 0);
  const names = (l: Deployment[]): string[] => l.map((d) => d.csum[0]!);
  assert.deepEqual(names(computeSimpleDeploymentList(s, 'os', n, booted, {})), ['9', '2']);
  assert.deepEqual(names(computeSimpleDeploymentList(s, 'os', n, booted, { retainPending: true })), ['9', '1', '2']);
  assert.deepEqual(names(computeSimpleDeploymentList(s, 'os', n, booted, { retainRollback: true })), ['9', '2', '3']);
  assert.deepEqual(names(computeSimpleDeploymentList(s, 'os', n, booted, { notAsDefault: true, retain: true })), ['1', '2', '9', '3']);
  const q = s.queryDeploymentsFor('os');
  assert.equal(q.pending, pending);
  assert.equal(q.rollback, rollback);
  assert.equal(s.mergeDeployment('os'), booted);
  assert.equal(s.mergeDeployment('nope'), null);
});

test('bootserials count per bootcsum across stateroots', () => {
  const l = [dep('testos', '1', 0, C('a')), dep('otheros', '1', 0, C('a')), dep('testos', '2', 0, C('c')), dep('testos', '1', 1, C('a'))];
  assignBootserials(l);
  assert.deepEqual(l.map((d) => d.bootserial), [0, 1, 0, 2]);
});

test('bootversion and subbootversion from symlinks; anything else is an error', () => {
  const dir = tempDir('bv-');
  try {
    fs.mkdirSync(path.join(dir, 'boot'));
    fs.mkdirSync(path.join(dir, 'ostree'));
    assert.equal(readBootversion(dir), 0);
    assert.equal(readSubbootversion(dir, 0), 0);
    fs.symlinkSync('loader.1', path.join(dir, 'boot/loader'));
    assert.equal(readBootversion(dir), 1);
    fs.symlinkSync('boot.1.1', path.join(dir, 'ostree/boot.1'));
    assert.equal(readSubbootversion(dir, 1), 1);
    fs.rmSync(path.join(dir, 'boot/loader'));
    fs.symlinkSync('loader.7', path.join(dir, 'boot/loader'));
    assert.throws(() => readBootversion(dir), /Invalid target 'loader.7'/);
    fs.rmSync(path.join(dir, 'boot/loader'));
    fs.mkdirSync(path.join(dir, 'boot/loader'));
    assert.throws(() => readBootversion(dir), /not a symlink/);
    fs.rmSync(path.join(dir, 'ostree/boot.1'));
    fs.symlinkSync('boot.1.x', path.join(dir, 'ostree/boot.1'));
    assert.throws(() => readSubbootversion(dir, 1), /Invalid target/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('GRUB config: header, one menuentry per entry in order, prefix, quoting, devicetree, no initrd', () => {
  const cfg = Grub2Bootloader.generate([
    { title: "Deb 'x' 1 (ostree:0)", linux: '/ostree/os-a/vmlinuz-1', initrds: ['/ostree/os-a/initramfs-1.img'], options: 'root=LABEL=R ostree=/ostree/boot.1/os/a/0' },
    { title: 'Deb 2 (ostree:1)', linux: '/ostree/os-b/vmlinuz-2', initrds: [], devicetree: '/ostree/os-b/devicetree-2', options: '' },
  ], '/boot', 5, 1);
  assert.equal(cfg, [
    '# Generated by ostree-ts from /boot/loader.1/entries; do not edit:',
    '# it is rewritten on every deployment change.',
    'serial --unit=0 --speed=115200',
    'terminal_input serial console',
    'terminal_output serial console',
    'default=0',
    'timeout=5',
    '',
    "menuentry 'Deb '\\''x'\\'' 1 (ostree:0)' {",
    '\tlinux /boot/ostree/os-a/vmlinuz-1 root=LABEL=R ostree=/ostree/boot.1/os/a/0',
    '\tinitrd /boot/ostree/os-a/initramfs-1.img',
    '}',
    '',
    "menuentry 'Deb 2 (ostree:1)' {",
    '\tlinux /boot/ostree/os-b/vmlinuz-2',
    '\tdevicetree /boot/ostree/os-b/devicetree-2',
    '}',
    ''].join('\n'));
});

test('bootloader selection: auto probes grub.cfg (dangling link counts), none, grub2, invalid values', () => {
  const dir = tempDir('bl-');
  try {
    fs.mkdirSync(path.join(dir, 'boot/grub2'), { recursive: true });
    assert.equal(selectBootloader(dir, undefined).name, 'none');
    fs.symlinkSync('../loader/grub.cfg', path.join(dir, 'boot/grub2/grub.cfg'));
    assert.equal(selectBootloader(dir, undefined).name, 'grub2');
    const kf = KeyFile.parse('[sysroot]\nbootloader=none\n');
    assert.equal(selectBootloader(dir, kf).name, 'none');
    assert.equal(bootloaderSetting(KeyFile.parse('[sysroot]\nbootloader=grub2\n')), 'grub2');
    assert.equal(bootloaderSetting(KeyFile.parse('[sysroot]\nbootloader=syslinux\n')), 'syslinux');
    assert.equal(bootloaderSetting(KeyFile.parse('[sysroot]\nbootloader=uboot\n')), 'uboot');
    assert.throws(() => bootloaderSetting(KeyFile.parse('[sysroot]\nbootloader=zipl\n')), /Invalid bootloader configuration: 'zipl'/);
    assert.throws(() => selectBootloader(dir, KeyFile.parse('[sysroot]\ngrub-timeout=soon\n')), /grub-timeout/);
    // grub2 postSwap keeps Fedora's grub2 dir when it is the one in use
    new Grub2Bootloader().postSwap(dir);
    assert.equal(fs.readlinkSync(path.join(dir, 'boot/grub2/grub.cfg')), '../loader/grub.cfg');
    assert.ok(!fs.existsSync(path.join(dir, 'boot/grub')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('computeKargs: inherit (null) without options, merge base with options, exclusions', () => {
  const m = dep('os', '1', 0);
  m.bootconfig.options = 'root=LABEL=A quiet ostree=/ostree/boot.1/os/x/0';
  assert.equal(computeKargs({}, m, false), null);
  assert.deepEqual(computeKargs({ kargAppend: ['console=ttyS0'] }, m, false), ['root=LABEL=A', 'quiet', 'ostree=/ostree/boot.1/os/x/0', 'console=ttyS0']);
  assert.deepEqual(computeKargs({ karg: ['root=LABEL=B'] }, null, false), ['root=LABEL=B']);
  assert.deepEqual(computeKargs({ kargNone: true }, m, false), []);
  assert.throws(() => computeKargs({ kargNone: true, kargDelete: ['quiet'] }, m, false), /--karg-none/);
  assert.throws(() => computeKargs({ kargDelete: ['quiet'] }, m, true), /no-merge/);
  assert.throws(() => computeKargs({ kargDelete: ['missing'] }, m, false), /No key 'missing' found/);
});

test('size formatting follows upstream (index parsing: test/cli/args.test.ts)', () => {
  assert.equal(formatSize(1), '1 byte');
  assert.equal(formatSize(999), '999 bytes');
  assert.equal(formatSize(1234), '1.2\u00a0kB'); // as GLib: NO-BREAK SPACE
  assert.equal(formatSize(5_600_000), '5.6\u00a0MB');
});
