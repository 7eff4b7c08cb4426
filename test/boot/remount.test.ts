/**
 * boot/ostree-remount.sh against a fake /proc/self/mountinfo and a `mount` that only records its
 * arguments: which mounts it makes private or writable, and that it starts nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const REMOUNT = path.join(PROJECT, 'boot/ostree-remount.sh');

/** One mountinfo line: mount point, per-mount options, superblock options. */
const line = (id: number, mp: string, opts: string, superOpts = 'rw') =>
  `${id} 1 252:1 /ostree/deploy/os/x ${mp} ${opts},relatime shared:${id} - ext4 /dev/vda1 ${superOpts}`;

function remount(mountinfo: string[], stamp = false): { status: number | null; calls: string[]; stdout: string; stderr: string; run: string } {
  const dir = tempDir('ostree-remount-');
  const run = path.join(dir, 'run');
  fs.mkdirSync(run);
  if (stamp) fs.writeFileSync(path.join(run, 'ostree-sysroot-ro.stamp'), '');
  fs.writeFileSync(path.join(dir, 'mountinfo'), mountinfo.join('\n') + '\n');
  const log = path.join(dir, 'calls');
  const fake = path.join(dir, 'fake-mount');
  fs.writeFileSync(fake, `#!/bin/sh\necho "$*" >> '${log}'\n`, { mode: 0o755 });
  const r = spawnSync('/bin/sh', [REMOUNT], {
    encoding: 'utf8',
    // PATH without the usual directories: the script must need no other program (rm only with the stamp).
    env: { PATH: stamp ? process.env['PATH'] : dir, OSTREE_REMOUNT_RUN: run, OSTREE_REMOUNT_MOUNTINFO: path.join(dir, 'mountinfo'), OSTREE_REMOUNT_MOUNT: fake },
  });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: r.status, calls, stdout: r.stdout, stderr: r.stderr, run };
}

test('writable root, writable /sysroot and /var: only /sysroot made private, no other program', () => {
  const r = remount([line(1, '/', 'rw'), line(2, '/usr', 'ro'), line(3, '/sysroot', 'rw'), line(4, '/var', 'rw')]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls, ['--make-rprivate /sysroot']);
  assert.equal(r.stderr, '');
  assert.equal(fs.existsSync(path.join(r.run, 'ostree-booted')), true);
});

test('read-only root: nothing remounted', () => {
  const r = remount([line(1, '/', 'ro'), line(3, '/sysroot', 'ro'), line(4, '/var', 'ro')]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls, ['--make-rprivate /sysroot']);
});

test('writable root, read-only /sysroot and /var (ro mount or ro filesystem): both remounted rw', () => {
  const r = remount([line(1, '/', 'rw'), line(3, '/sysroot', 'rw', 'ro'), line(4, '/var', 'ro')]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls, ['--make-rprivate /sysroot', '-o remount,rw /sysroot', '-o remount,rw /var']);
  assert.match(r.stdout, /^Remounted rw: \/sysroot$/m);
  assert.match(r.stdout, /^Remounted rw: \/var$/m);
});

test('the topmost of stacked mounts counts; /var/lib is not /var', () => {
  const r = remount([line(1, '/', 'rw'), line(3, '/sysroot', 'ro'), line(5, '/sysroot', 'rw'), line(4, '/var/lib', 'ro')]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls, ['--make-rprivate /sysroot']);
});

test('read-only sysroot stamp: /etc remounted rw instead of /sysroot, stamp consumed', () => {
  const r = remount([line(1, '/', 'rw'), line(3, '/sysroot', 'ro'), line(6, '/etc', 'ro')], true);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls, ['--make-rprivate /sysroot', '-o remount,rw /etc']);
  assert.equal(fs.existsSync(path.join(r.run, 'ostree-sysroot-ro.stamp')), false);
});
