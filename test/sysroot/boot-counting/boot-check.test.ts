/**
 * `ostree admin boot-check` on an emulated booted system (booted.test.ts's emulation: the
 * deployment's `sysroot` symlink leads back to the physical root, OSTREE_TS_ROOT_DIR and
 * OSTREE_TS_RUN_DIR make it booted), with GRUB's grubenv and real check scripts:
 * upstream's entry naming, bless, red rollback (bounded), durable fallback after GRUB ran out
 * of tries, `admin status`, and crashes at every step of the rollback leaving a bootable
 * configuration that the next check completes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpfsScratch, ours, ok, commitTree, makeTree, checkBootConfigComplete, type Scratch } from '../../common/sysroot-helpers.js';
import { readGrubenv, updateGrubenv } from '../../../src/sysroot/boot-counting/grubenv.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-bootcheck-'); });
after(() => { scratch.cleanup(); });

interface Emu { phys: string; tree: string; c1: string; c2: string; checks: string; run: string; dep: (c: string) => string; env: (c: string) => Record<string, string> }

async function setup(name: string): Promise<Emu> {
  const r = path.join(scratch.dir, name);
  const phys = path.join(r, 'sysroot');
  fs.mkdirSync(phys, { recursive: true });
  ok(ours(['admin', 'init-fs', phys]));
  ok(ours(['admin', 'os-init', `--sysroot=${phys}`, 'testos']));
  fs.mkdirSync(path.join(phys, 'boot/grub'), { recursive: true });
  fs.symlinkSync('../loader/grub.cfg', path.join(phys, 'boot/grub/grub.cfg'));
  const tree = makeTree(path.join(r, 'tree'));
  fs.rmdirSync(path.join(tree, 'sysroot'));
  fs.symlinkSync('../../../../..', path.join(tree, 'sysroot'));
  fs.symlinkSync('sysroot/boot', path.join(tree, 'boot'));
  fs.mkdirSync(path.join(tree, 'var'));
  const repo = path.join(phys, 'ostree/repo');
  const c1 = await commitTree(repo, tree, 'testos/stable', '1');
  ok(ours(['admin', 'deploy', `--sysroot=${phys}`, '--os=testos', 'testos/stable'], { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' }));
  ok(ours([`--repo=${repo}`, 'config', 'set', 'sysroot.boot-counting-tries', '3']));
  fs.writeFileSync(path.join(tree, 'usr/bin/v2'), 'two\n');
  const c2 = await commitTree(repo, tree, 'testos/stable', '2');
  ok(ours(['admin', 'deploy', `--sysroot=${phys}`, '--os=testos', 'testos/stable'], { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' }));
  const run = path.join(r, 'run');
  fs.mkdirSync(run);
  fs.writeFileSync(path.join(run, 'ostree-booted'), '');
  const checks = path.join(r, 'checks');
  const dep = (c: string) => path.join(phys, `ostree/deploy/testos/deploy/${c}.0`);
  const env = (c: string) => ({ OSTREE_TS_RUN_DIR: run, OSTREE_TS_ROOT_DIR: dep(c), OSTREE_SYSROOT_DEBUG: 'mutable-deployments' });
  return { phys, tree, c1, c2, checks, run, dep, env };
}

const entries = (e: Emu) => fs.readdirSync(path.join(e.phys, 'boot/loader/entries')).sort();
const grubenv = (e: Emu) => Object.fromEntries(readGrubenv(path.join(e.phys, 'boot/grub/grubenv')) ?? []);
const record = (e: Emu) => JSON.parse(fs.readFileSync(path.join(e.phys, 'boot/ostree/boot-check.json'), 'utf8'));
function check(e: Emu, script: string | null): void {
  fs.rmSync(e.checks, { recursive: true, force: true });
  if (script === null) return;
  const d = path.join(e.checks, 'etc/greenboot/check/required.d');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, '50-app.sh'), script);
}
const bootCheck = (e: Emu, booted: string, extra: Record<string, string> = {}) =>
  ours(['admin', 'boot-check', '--no-reboot', `--checks-root=${e.checks}`, `--sysroot=${e.dep(booted)}`], { ...e.env(booted), ...extra });

test('deploy with sysroot.boot-counting-tries 3: upstream\'s names, grubenv made, the new default on trial', async () => {
  const e = await setup('naming');
  assert.deepEqual(entries(e), ['ostree-1.conf', 'ostree-2+3.conf']);
  assert.ok(fs.readFileSync(path.join(e.phys, 'boot/loader/grub.cfg'), 'utf8').includes(`set ostree_bc_id='testos/${e.c2}.0'`));
  assert.equal(fs.statSync(path.join(e.phys, 'boot/grub/grubenv')).size, 1024);
  const st = ok(ours(['admin', 'status', `--sysroot=${e.phys}`])).stdout;
  assert.match(st, new RegExp(`^  testos ${e.c2}\\.0\\n    Version: 2\\n    origin refspec: testos/stable\\n    Boot counting: 3 of 3 tries left\\n`));
  // GRUB has counted one try: status reads it from the grubenv
  updateGrubenv(path.join(e.phys, 'boot/grub/grubenv'), { ostree_bc_id: `testos/${e.c2}.0`, ostree_bc_left: '2' });
  assert.match(ok(ours(['admin', 'status', `--sysroot=${e.phys}`])).stdout, /Boot counting: 2 of 3 tries left/);
  const bad = ours([`--repo=${path.join(e.phys, 'ostree/repo')}`, 'config', 'set', 'sysroot.boot-counting-tries', '6']);
  ok(bad);
  const r = ours(['admin', 'undeploy', `--sysroot=${e.phys}`, '1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Parsing sysroot\.boot-counting-tries: '6' is not a number of tries from 0 to 5/);
});

test('green: the deployment on trial is blessed (grubenv good, entry renamed), green verdict recorded', async () => {
  const e = await setup('green');
  check(e, '#!/bin/bash\necho fine\n');
  const r = ok(bootCheck(e, e.c2));
  assert.match(r.stdout, /required check 50-app\.sh: passed/);
  assert.deepEqual(grubenv(e), { ostree_bc_id: `testos/${e.c2}.0`, ostree_bc_left: 'good' });
  assert.deepEqual(entries(e), ['ostree-1.conf', 'ostree-2.conf']);
  assert.equal(record(e).last.result, 'green');
  const st = ok(ours(['admin', 'status', `--sysroot=${e.dep(e.c2)}`], e.env(e.c2))).stdout;
  assert.match(st, /^\* testos \S+\n    Version: 2\n    origin refspec: testos\/stable\n    Last boot check: passed \(\S+\)\n      blessed: the bootloader stops counting its tries\n/);
  assert.doesNotMatch(st, /Boot counting/);
  // a second check on the blessed deployment changes nothing on disk
  ok(bootCheck(e, e.c2));
  assert.deepEqual(entries(e), ['ostree-1.conf', 'ostree-2.conf']);
});

test('red on trial: rolled back to the previous deployment, failure named; red again there: stays up', async () => {
  const e = await setup('red');
  check(e, '#!/bin/bash\necho "db down" >&2\nexit 2\n');
  const r = bootCheck(e, e.c2);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /50-app\.sh: db down/);
  assert.match(r.stderr, /error: Boot check failed: required check 50-app\.sh failed \(exit status 2\); rolled back to testos\/\S+\.0/);
  assert.deepEqual(entries(e), ['ostree-1+0-3.conf', 'ostree-2.conf']);
  assert.deepEqual(grubenv(e), { ostree_bc_id: `testos/${e.c2}.0`, ostree_bc_left: '0' });
  assert.deepEqual(checkBootConfigComplete(e.phys), []);
  const st = ok(ours(['admin', 'status', `--sysroot=${e.dep(e.c2)}`], e.env(e.c2))).stdout;
  assert.match(st, new RegExp(`^  testos ${e.c1}\\.0 \\(pending\\)\\n[\\s\\S]*\\* testos ${e.c2}\\.0\\n[\\s\\S]*    Boot counting: no tries left \\(of 3\\)\\n` +
    '    Boot check: failed: its boot check failed: required check 50-app\\.sh failed \\(exit status 2\\)\\n    Last boot check: FAILED'));
  // the old deployment boots; its check fails too: not on trial, so no rollback, no loop
  const r2 = bootCheck(e, e.c1);
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /stayed up: no rollback, it is not on trial/);
  assert.deepEqual(entries(e), ['ostree-1+0-3.conf', 'ostree-2.conf']);
  // JSON carries the same
  const j = JSON.parse(ok(ours(['admin', 'status', '--json', `--sysroot=${e.dep(e.c1)}`], e.env(e.c1))).stdout);
  assert.deepEqual(j.deployments[1]['boot-counting'], { state: 'failed', 'tries-left': 0, tries: 3 });
  assert.match(j.deployments[1]['boot-check-failure'], /required check 50-app\.sh failed/);
  assert.equal(j.deployments[0]['last-boot-check'].result, 'red');
});

test('GRUB ran out of tries and booted the previous deployment: the next check makes it durable', async () => {
  const e = await setup('fallback');
  updateGrubenv(path.join(e.phys, 'boot/grub/grubenv'), { ostree_bc_id: `testos/${e.c2}.0`, ostree_bc_left: '0' });
  check(e, null);
  const r = ok(bootCheck(e, e.c1));
  assert.match(r.stdout, /the bootloader fell back from testos\/\S+: no boot of it passed its checks in 3 tries/);
  assert.deepEqual(entries(e), ['ostree-1+0-3.conf', 'ostree-2.conf']);
  const st = ok(ours(['admin', 'status', `--sysroot=${e.dep(e.c1)}`], e.env(e.c1))).stdout;
  assert.match(st, new RegExp(`^\\* testos ${e.c1}\\.0\\n`));
  assert.match(st, /Boot check: failed: no boot of it passed its checks in 3 tries: the boot counter ran out/);
  // and the next boot does not redo it
  ok(bootCheck(e, e.c1));
  assert.deepEqual(entries(e), ['ostree-1+0-3.conf', 'ostree-2.conf']);
});

test('a crash at any step of the red rollback leaves a bootable configuration; the next boot completes it', async () => {
  for (let k = 1; ; k++) {
    const e = await setup(`fault-${k}`);
    check(e, '#!/bin/bash\nexit 1\n');
    const r = bootCheck(e, e.c2, { OSTREE_TS_FAULT: `write:${k}` });
    if (r.status !== 99) { // the rollback went through without reaching step k: every step was tried
      assert.equal(r.status, 1, r.stderr);
      assert.ok(k > 5, `only ${k - 1} steps`);
      break;
    }
    assert.deepEqual(checkBootConfigComplete(e.phys), [], `crash at write:${k}`);
    // GRUB's counter already says no tries left: the next boot is the old deployment
    assert.deepEqual(grubenv(e), { ostree_bc_id: `testos/${e.c2}.0`, ostree_bc_left: '0' }, `crash at write:${k}`);
    check(e, null);
    ok(bootCheck(e, e.c1), `check after the fallback, crash at write:${k}`);
    const names = entries(e);
    assert.deepEqual(names, ['ostree-1+0-3.conf', 'ostree-2.conf'], `crash at write:${k}`);
  }
});
