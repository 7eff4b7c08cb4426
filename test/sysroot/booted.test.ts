/**
 * Booted-system emulation (the equivalent of upstream's chroot emulation, §9.3): the
 * deployment's own `/ostree -> sysroot/ostree` and `/boot -> sysroot/boot` lead back to the
 * physical root (here `sysroot` is a symlink `../../../../..` instead of a bind mount), the
 * sysroot path is the deployment dir, and the test knobs OSTREE_TS_ROOT_DIR (what counts as
 * `/`) and OSTREE_TS_RUN_DIR (what counts as `/run`) make it "booted".
 * Covers staging, finalize-staged (+ --lock-finalization, failure stamp, boot-complete),
 * pending/rollback markers, rollback, unlock.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tmpfsScratch, ours, ok, commitTree, makeTree, readEntries, checkBootConfigComplete, type Scratch } from '../common/sysroot-helpers.js';
import { encodeStagedRecord, decodeStagedRecord } from '../../src/sysroot/formats/staged-record.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-booted-'); });
after(() => { scratch.cleanup(); });

interface Emu { phys: string; tree: string; dep0: string; c1: string; env: Record<string, string>; run: string; sr: string }

async function setup(name: string): Promise<Emu> {
  const r = path.join(scratch.dir, name);
  fs.mkdirSync(r);
  const phys = path.join(r, 'sysroot');
  fs.mkdirSync(phys);
  ok(ours(['admin', 'init-fs', phys]));
  ok(ours(['admin', 'os-init', `--sysroot=${phys}`, 'testos']));
  const tree = makeTree(path.join(r, 'tree'), { etc: { conf1: 'default\n' } });
  fs.rmdirSync(path.join(tree, 'sysroot'));
  fs.symlinkSync('../../../../..', path.join(tree, 'sysroot'));
  fs.symlinkSync('sysroot/boot', path.join(tree, 'boot'));
  fs.mkdirSync(path.join(tree, 'var'));
  const c1 = await commitTree(path.join(phys, 'ostree/repo'), tree, 'testos/stable', '1');
  ok(ours(['admin', 'deploy', `--sysroot=${phys}`, '--os=testos', '--karg=root=LABEL=ROOT', 'testos/stable'], { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' }));
  const dep0 = path.join(phys, `ostree/deploy/testos/deploy/${c1}.0`);
  const run = path.join(r, 'run');
  fs.mkdirSync(run);
  fs.writeFileSync(path.join(run, 'ostree-booted'), '');
  const env = { OSTREE_TS_RUN_DIR: run, OSTREE_TS_ROOT_DIR: dep0, OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };
  return { phys, tree, dep0, c1, env, run, sr: `--sysroot=${dep0}` };
}

test('booted: status marks the booted deployment; stage, edit /etc, finalize-staged → pending', async () => {
  const e = await setup('stage');
  assert.equal(ok(ours(['admin', 'status', e.sr], e.env)).stdout, `* testos ${e.c1}.0\n    Version: 1\n    origin refspec: testos/stable\n`);
  fs.writeFileSync(path.join(e.dep0, 'etc/conf1'), 'local-edit\n');
  const c2 = await commitTree(path.join(e.phys, 'ostree/repo'), e.tree, 'testos/stable', '2');
  const st = ok(ours(['admin', 'deploy', '--stage', e.sr, 'testos/stable'], e.env));
  assert.equal(st.stdout, '');
  assert.ok(fs.existsSync(path.join(e.run, 'ostree/staged-deployment')));
  const rec = decodeStagedRecord(fs.readFileSync(path.join(e.run, 'ostree/staged-deployment')));
  assert.equal(rec.target.name, `${c2}.0`);
  assert.equal(rec.mergeDeployment?.name, `${e.c1}.0`);
  assert.equal(rec.kargs, undefined);
  assert.deepEqual(Object.keys(readEntries(e.phys)), ['ostree-1-testos.conf']);
  assert.equal(ok(ours(['admin', 'status', e.sr], e.env)).stdout,
    `  testos ${c2}.0 (staged)\n    Version: 2\n    origin refspec: testos/stable\n* testos ${e.c1}.0\n    Version: 1\n    origin refspec: testos/stable\n`);
  const j = JSON.parse(ok(ours(['admin', 'status', '--json', e.sr], e.env)).stdout);
  assert.equal(j.deployments[0].staged, true);
  assert.equal(j.deployments[1].booted, true);
  assert.equal(j.deployments[0].kargs[0], 'root=LABEL=ROOT');
  // an /etc edit after staging is carried over by the finalization
  fs.appendFileSync(path.join(e.dep0, 'etc/conf1'), 'post-stage-edit\n');
  const fin = ok(ours(['admin', 'finalize-staged', e.sr], e.env));
  assert.equal(fin.stdout, 'Copying /etc changes: 1 modified, 0 removed, 0 added\nBootloader updated; bootconfig swap: yes; bootversion: boot.0.1, deployment count change: 1\n');
  assert.deepEqual(fs.readdirSync(path.join(e.run, 'ostree')), []);
  assert.equal(ok(ours(['admin', 'status', e.sr], e.env)).stdout,
    `  testos ${c2}.0 (pending)\n    Version: 2\n    origin refspec: testos/stable\n* testos ${e.c1}.0\n    Version: 1\n    origin refspec: testos/stable\n`);
  assert.equal(fs.readFileSync(path.join(e.phys, `ostree/deploy/testos/deploy/${c2}.0/etc/conf1`), 'utf8'), 'local-edit\npost-stage-edit\n');
  assert.match(readEntries(e.phys)['ostree-2-testos.conf']!, /^options root=LABEL=ROOT ostree=\/ostree\/boot.0\/testos\/\S+\/0$/m);
  assert.deepEqual(checkBootConfigComplete(e.phys), []);
  // nothing staged: finalize-staged is a no-op
  ok(ours(['admin', 'finalize-staged', e.sr], e.env));

  // --lock-finalization: finalize does nothing; pin refuses; undeploy 0 unstages
  ok(ours(['admin', 'deploy', '--stage', '--lock-finalization', e.sr, 'testos/stable'], e.env));
  assert.equal(fs.statSync(path.join(e.run, 'ostree/staged-deployment-locked')).mode & 0o777, 0o640);
  const before = ok(ours(['admin', 'status', e.sr], e.env)).stdout;
  assert.match(before, /^ {2}testos \S+\.1 \(staged\)$/m);
  ok(ours(['admin', 'finalize-staged', e.sr], e.env));
  assert.equal(ok(ours(['admin', 'status', e.sr], e.env)).stdout, before);
  const pin = ours(['admin', 'pin', e.sr, '0'], e.env);
  assert.equal(pin.stderr, 'error: Cannot pin staged deployment\n');
  assert.equal(ok(ours(['admin', 'undeploy', e.sr, '0'], e.env)).stdout, `Deleted deployment ${c2}.1\n`);
  assert.deepEqual(fs.readdirSync(path.join(e.run, 'ostree')), []);
  assert.ok(!fs.existsSync(path.join(e.phys, `ostree/deploy/testos/deploy/${c2}.1`)));

  // --not-as-default --retain: pending, booted, rollback
  ok(ours(['admin', 'deploy', '--not-as-default', '--retain', e.sr, 'testos/stable'], e.env));
  const three = ok(ours(['admin', 'status', e.sr], e.env)).stdout;
  assert.match(three, new RegExp(`^  testos ${c2}\\.0 \\(pending\\)\\n(.*\\n){2}\\* testos ${e.c1}\\.0\\n(.*\\n){2}  testos ${c2}\\.\\d \\(rollback\\)\\n`));
  // cannot undeploy the booted deployment
  assert.equal(ours(['admin', 'undeploy', e.sr, '1'], e.env).stderr, 'error: Cannot undeploy currently booted deployment 1\n');
  // rollback with a pending deployment ahead: the booted one becomes the default again
  ok(ours(['admin', 'rollback', e.sr], e.env));
  assert.match(ok(ours(['admin', 'status', e.sr], e.env)).stdout, new RegExp(`^\\* testos ${e.c1}\\.0\\n`));
  // staging with explicit kargs records them
  ok(ours(['admin', 'deploy', '--stage', '--karg-append=console=ttyS0', e.sr, 'testos/stable'], e.env));
  const rec2 = decodeStagedRecord(fs.readFileSync(path.join(e.run, 'ostree/staged-deployment')));
  assert.equal(rec2.kargs?.[0], 'root=LABEL=ROOT');
  assert.equal(rec2.kargs?.at(-1), 'console=ttyS0');
  ok(ours(['admin', 'finalize-staged', e.sr], e.env));
  assert.match(readEntries(e.phys)[`ostree-${Object.keys(readEntries(e.phys)).length}-testos.conf`]!, /^options root=LABEL=ROOT ostree=\S+ console=ttyS0$/m);
  assert.deepEqual(checkBootConfigComplete(e.phys), []);
});

test('booted: a failed finalization writes finalize-failure.stamp; boot-complete reports and clears it', async () => {
  const e = await setup('fail');
  await commitTree(path.join(e.phys, 'ostree/repo'), e.tree, 'testos/stable', '2');
  ok(ours(['admin', 'deploy', '--stage', e.sr, 'testos/stable'], e.env));
  const recPath = path.join(e.run, 'ostree/staged-deployment');
  const rec = decodeStagedRecord(fs.readFileSync(recPath));
  rec.mergeDeployment = { ...rec.mergeDeployment!, name: `${'0'.repeat(64)}.0` };
  fs.writeFileSync(recPath, encodeStagedRecord(rec));
  const entriesBefore = readEntries(e.phys);
  const fin = ours(['admin', 'finalize-staged', e.sr], e.env);
  assert.equal(fin.status, 1);
  assert.match(fin.stderr, /merge deployment/);
  const stamp = path.join(e.phys, 'boot/ostree/finalize-failure.stamp');
  assert.match(fs.readFileSync(stamp, 'utf8'), /merge deployment/);
  assert.deepEqual(readEntries(e.phys), entriesBefore);
  const bc = ours(['admin', 'boot-complete', e.sr], e.env);
  assert.equal(bc.status, 1);
  assert.match(bc.stderr, /^error: ostree-finalize-staged.service failed on previous boot: .*merge deployment/);
  assert.ok(!fs.existsSync(stamp));
  ok(ours(['admin', 'boot-complete', e.sr], e.env));
});

test('not booted: --stage is refused with the upstream message; finalize-staged is a no-op', async () => {
  const e = await setup('notbooted');
  const r = ours(['admin', 'deploy', '--stage', `--sysroot=${e.phys}`, '--os=testos', 'testos/stable']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'error: Cannot stage deployment: Not currently booted into an OSTree system\n');
  ok(ours(['admin', 'finalize-staged', `--sysroot=${e.phys}`]));
  const u = ours(['admin', 'unlock', `--sysroot=${e.phys}`]);
  assert.equal(u.status, 1);
  assert.match(u.stderr, /Not currently booted/);
});

test('booted: unlock (development) mounts a writable overlay on /usr; hotfix clones and persists', async () => {
  const e = await setup('unlock');
  const usr = path.join(e.dep0, 'usr');
  try {
    const r = ok(ours(['admin', 'unlock', e.sr], e.env));
    assert.match(r.stdout, /^Development mode enabled\.  A writable overlayfs is now mounted on \/usr\.$/m);
    fs.writeFileSync(path.join(usr, 'bin/added-by-test'), 'x');
    assert.match(ok(ours(['admin', 'status', e.sr], e.env)).stdout, /^ {4}Unlocked: development$/m);
    const again = ours(['admin', 'unlock', e.sr], e.env);
    assert.equal(again.stderr, 'error: Deployment is already in unlocked state: development\n');
  } finally {
    spawnSync('umount', [usr]);
  }
  assert.ok(!fs.existsSync(path.join(usr, 'bin/added-by-test')));
  fs.rmSync(path.join(e.run, 'ostree/deployment-state'), { recursive: true, force: true });
  try {
    const h = ok(ours(['admin', 'unlock', '--hotfix', e.sr], e.env));
    assert.match(h.stdout, /Hotfix mode enabled/);
    assert.ok(fs.existsSync(path.join(e.dep0, '.usr-ovl-upper')));
    assert.match(fs.readFileSync(`${e.dep0}.origin`, 'utf8'), /^unlocked=hotfix$/m);
    const st = ok(ours(['admin', 'status', e.sr], e.env)).stdout;
    assert.match(st, new RegExp(`^\\* testos ${e.c1}\\.0\\n    Version: 1\\n    Unlocked: hotfix\\n`));
    assert.match(st, new RegExp(`^  testos ${e.c1}\\.1 \\(rollback\\)$`, 'm'));
  } finally {
    spawnSync('umount', [usr]);
  }
});
