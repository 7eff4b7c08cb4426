/**
 * boot/systemd/ostree-system-generator, run with a fake /proc/cmdline, /etc/fstab and /run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const GENERATOR = path.join(PROJECT, 'boot/systemd/ostree-system-generator');
const CSUM = 'a'.repeat(64);

interface Env { dir: string; normal: string; run: string; cmdline: string; fstab: string }

function setup(cmdline: string | null, fstab: string | null): Env {
  const dir = tempDir('ostree-gen-');
  const env: Env = { dir, normal: path.join(dir, 'normal'), run: path.join(dir, 'run'), cmdline: path.join(dir, 'cmdline'), fstab: path.join(dir, 'fstab') };
  fs.mkdirSync(env.normal);
  fs.mkdirSync(env.run);
  if (cmdline !== null) fs.writeFileSync(env.cmdline, cmdline + '\n');
  if (fstab !== null) fs.writeFileSync(env.fstab, fstab);
  return env;
}

function runGen(e: Env, args: string[] = [e.normal, path.join(e.dir, 'early'), path.join(e.dir, 'late')]) {
  const r = spawnSync('sh', [GENERATOR, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], OSTREE_GENERATOR_CMDLINE: e.cmdline, OSTREE_GENERATOR_FSTAB: e.fstab, OSTREE_GENERATOR_RUN: e.run },
  });
  return r;
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of fs.readdirSync(d).sort()) {
      const p = path.join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) out.push(`${r} -> ${fs.readlinkSync(p)}`);
      else if (st.isDirectory()) walk(p, r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out;
}

test('not an OSTree boot: nothing generated, exit 0', () => {
  const e = setup('root=LABEL=x rw quiet', '');
  const r = runGen(e);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(listTree(e.normal), []);
  assert.equal(fs.existsSync(path.join(e.run, 'ostree-booted')), false);
});

test('OSTree boot: var.mount for the stateroot and its requires link, nothing else (the units enable themselves)', () => {
  const e = setup(`BOOT_IMAGE=/boot/x root=LABEL=r rw ostree=/ostree/boot.1/fedora/${CSUM}/0 console=ttyS0`, '# nothing\nLABEL=r / ext4 defaults 0 1\n');
  const r = runGen(e);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(listTree(e.normal), [
    'local-fs.target.requires/var.mount -> ../var.mount',
    'var.mount',
  ]);
  const unit = fs.readFileSync(path.join(e.normal, 'var.mount'), 'utf8');
  assert.match(unit, /^\[Unit\]$/m);
  assert.match(unit, /^ConditionKernelCommandLine=!systemd\.volatile$/m);
  assert.match(unit, /^Before=local-fs\.target$/m);
  assert.match(unit, /^\[Mount\]\nWhere=\/var\nWhat=\/sysroot\/ostree\/deploy\/fedora\/var\nOptions=bind$/m);
  assert.equal(fs.statSync(path.join(e.normal, 'var.mount')).mode & 0o777, 0o644);
  assert.equal(fs.existsSync(path.join(e.run, 'ostree-booted')), true);
});

test('the first ostree= wins', () => {
  const e = setup(`ostree=/ostree/boot.0/first/${CSUM}/1 ostree=/ostree/boot.0/second/${CSUM}/0`, '');
  assert.equal(runGen(e).status, 0);
  assert.match(fs.readFileSync(path.join(e.normal, 'var.mount'), 'utf8'), /What=\/sysroot\/ostree\/deploy\/first\/var/);
});

for (const mp of ['/var', '//var/', '/var//']) {
  test(`/etc/fstab mounting ${mp} suppresses var.mount`, () => {
    const e = setup(`root=x ostree=/ostree/boot.1/os/${CSUM}/0`, `# comment with /var\nUUID=1 / ext4 defaults 0 1\nLABEL=var ${mp} xfs defaults 0 2\n`);
    const r = runGen(e);
    assert.equal(r.status, 0, r.stderr);
    const files = listTree(e.normal);
    assert.equal(files.includes('var.mount'), false);
    assert.equal(files.some((f) => f.startsWith('local-fs.target.requires/var.mount')), false);
    assert.deepEqual(files, []);
  });
}

test('a /var/lib entry in fstab does not count as /var', () => {
  const e = setup(`ostree=/ostree/boot.1/os/${CSUM}/0`, 'LABEL=x /var/lib ext4 defaults 0 2\n');
  assert.equal(runGen(e).status, 0);
  assert.equal(fs.existsSync(path.join(e.normal, 'var.mount')), true);
});

test('no fstab at all: var.mount is generated', () => {
  const e = setup(`ostree=/ostree/boot.1/os/${CSUM}/0`, null);
  assert.equal(runGen(e).status, 0);
  assert.equal(fs.existsSync(path.join(e.normal, 'var.mount')), true);
});

test('/run/ostree/initramfs-mount-var (prepare-root bound /var): nothing generated, the marker stays for daemon-reload', () => {
  const e = setup(`ostree=/ostree/boot.1/os/${CSUM}/0`, '');
  fs.mkdirSync(path.join(e.run, 'ostree'));
  fs.writeFileSync(path.join(e.run, 'ostree/initramfs-mount-var'), '');
  assert.equal(runGen(e).status, 0);
  assert.deepEqual(listTree(e.normal), []);
  assert.equal(runGen(e).status, 0);
  assert.deepEqual(listTree(e.normal), []);
  assert.equal(fs.existsSync(path.join(e.run, 'ostree/initramfs-mount-var')), true);
});

test('ostree= without a stateroot: error naming the argument, no var.mount', () => {
  const e = setup('ostree=/somewhere/else', '');
  const r = runGen(e);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot find the stateroot in ostree=\/somewhere\/else/);
  assert.equal(fs.existsSync(path.join(e.normal, 'var.mount')), false);
});

test('wrong number of arguments is an error', () => {
  const e = setup(`ostree=/ostree/boot.1/os/${CSUM}/0`, '');
  const r = runGen(e, ['only-one']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /expected 0 or 3 arguments, got 1/);
});

test('an existing var.mount is not overwritten', () => {
  const e = setup(`ostree=/ostree/boot.1/os/${CSUM}/0`, '');
  fs.writeFileSync(path.join(e.normal, 'var.mount'), 'mine\n');
  const r = runGen(e);
  assert.equal(r.status, 1);
  assert.equal(fs.readFileSync(path.join(e.normal, 'var.mount'), 'utf8'), 'mine\n');
});
