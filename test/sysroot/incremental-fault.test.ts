/**
 * Crash safety of the incremental deploy (src/sysroot/deploy/recycle.ts), by the fault
 * injection of src/sysroot/fault.ts: a deploy that is made from the spare and parks the
 * deployment it drops is stopped dead at every step (spare-taken, then the deploy's own, the
 * boot configuration swap, spare-parked, cleanup's). After each stop: both tools' `admin
 * status` load the sysroot, every boot entry names a complete deployment with its kernel, the
 * boot configuration is exactly the old one or exactly the new one (never a third: a failed or
 * killed deploy changes nothing the bootloader sees), and a retry deploys the new commit,
 * identical to a fresh checkout of it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmpfsScratch, ours, upstream, ok, commitTree, makeTree, checkBootConfigComplete, type Scratch } from '../common/sysroot-helpers.js';
import { Sysroot } from '../../src/sysroot/sysroot.js';

// Incremental deploy is on by default (src/sysroot/deploy/recycle.ts): on here, whatever the
// caller's environment says.
delete process.env['OSTREE_TS_INCREMENTAL_DEPLOY'];

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-incr-fault-'); });
after(() => { scratch.cleanup(); });

const MUT = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };

async function defaultCsum(sysroot: string): Promise<string | undefined> {
  const s = await Sysroot.open(sysroot);
  await s.load();
  return s.deployments[0]?.csum;
}

/** The listed deployments, in order, by commit. */
async function listed(sysroot: string): Promise<string[]> {
  const s = await Sysroot.open(sysroot);
  await s.load();
  return s.deployments.map((d) => d.csum);
}

async function defaultDir(sysroot: string): Promise<string> {
  const s = await Sysroot.open(sysroot);
  await s.load();
  return s.deploymentDirectory(s.deployments[0]!);
}

/** Paths, types, modes and link targets of a deployment's /usr (contents are the objects'). */
function usrShape(dir: string): string[] {
  return execFileSync('find', [path.join(dir, 'usr'), '-printf', '%P %y %m %U %G %l %s\n'], { encoding: 'utf8' }).split('\n').sort();
}

function fill(tree: string, version: number): void {
  for (let d = 0; d < 8; d++) {
    const sub = path.join(tree, 'usr/share', `d${d}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 6; f++) fs.writeFileSync(path.join(sub, `f${f}`), `d${d} f${f} v${(d + f) % 3 === 0 ? version : 0}\n`);
  }
  fs.rmSync(path.join(tree, 'usr/share/gone'), { recursive: true, force: true });
  if (version % 2 === 0) { fs.mkdirSync(path.join(tree, 'usr/share/gone')); fs.writeFileSync(path.join(tree, 'usr/share/gone/x'), 'x\n'); }
}

test('incremental deploy: a crash at every step leaves a bootable sysroot; a retry completes it', async () => {
  const base = path.join(scratch.dir, 'base');
  fs.mkdirSync(base);
  ok(ours(['admin', 'init-fs', base]));
  ok(ours(['admin', 'os-init', `--sysroot=${base}`, 'testos']));
  const repo = path.join(base, 'ostree/repo');
  const tree = makeTree(path.join(scratch.dir, 'tree'));
  const csums: string[] = [];
  for (const v of [1, 2, 3, 4]) {
    fill(tree, v);
    csums.push(await commitTree(repo, tree, `testos/v${v}`, String(v)));
  }
  ok(ours(['admin', 'deploy', `--sysroot=${base}`, '--os=testos', '--karg=root=LABEL=ROOT', 'testos/v1'], MUT));
  ok(ours(['admin', 'deploy', `--sysroot=${base}`, '--os=testos', 'testos/v2'], MUT));
  // v3 drops v1, parked as the spare
  ok(ours(['admin', 'deploy', `--sysroot=${base}`, '--os=testos', 'testos/v3'], MUT));
  const [c1, c2, c3, c4] = csums as [string, string, string, string];
  assert.deepEqual(fs.readdirSync(path.join(base, 'ostree/deploy/testos/recycle')), [c1]);
  // The reference: v4 deployed by a fresh checkout.
  const ref = path.join(scratch.dir, 'ref');
  execFileSync('cp', ['-a', base, ref]);
  ok(ours(['admin', 'deploy', `--sysroot=${ref}`, '--os=testos', 'testos/v4'], { OSTREE_SYSROOT_DEBUG: 'mutable-deployments,no-recycle' }));
  const refShape = usrShape(path.join(ref, `ostree/deploy/testos/deploy/${c4}.0`));

  const work = path.join(scratch.dir, 'work');
  const steps: string[] = [];
  let k = 1;
  let spareIno = -1;
  for (; k < 80; k++) {
    fs.rmSync(work, { recursive: true, force: true });
    execFileSync('cp', ['-a', base, work]);
    spareIno = fs.statSync(path.join(work, `ostree/deploy/testos/recycle/${c1}/usr`)).ino;
    const r = ours(['admin', 'deploy', `--sysroot=${work}`, '--os=testos', 'testos/v4'], { ...MUT, OSTREE_TS_FAULT: `deploy:${k}` });
    if (r.status === 0) break;
    assert.equal(r.status, 99, `deploy:${k} ${r.stderr}`);
    steps.push(/\((.*)\)/.exec(r.stderr)?.[1] ?? '?');
    const label = `deploy:${k} (${steps[steps.length - 1]})`;
    ok(ours(['admin', 'status', `--sysroot=${work}`]), `${label}: our status`);
    ok(upstream(['admin', 'status', `--sysroot=${work}`]), `${label}: upstream status`);
    assert.deepEqual(checkBootConfigComplete(work), [], label);
    const list = (await listed(work)).join(' ');
    assert.ok(list === [c3, c2].join(' ') || list === [c4, c3].join(' '), `${label}: listed ${list}`);
    ok(ours(['admin', 'deploy', `--sysroot=${work}`, '--os=testos', 'testos/v4'], MUT), `retry after ${label}`);
    assert.equal(await defaultCsum(work), c4, label);
    assert.deepEqual(checkBootConfigComplete(work), [], label);
    // (a crash after the new list was written leaves v3 deployed: the retry deploys it again)
    assert.deepEqual(usrShape(await defaultDir(work)), refShape, `${label}: the retried deployment differs from a fresh checkout`);
    const dd = path.join(work, 'ostree/deploy/testos/deploy');
    assert.ok(!fs.readdirSync(dd).some((n) => n.startsWith(`${c1}.`) || n.startsWith(`${c2}.`)), `${label}: v1 or v2 was not removed`);
  }
  assert.ok(k < 80, 'the deploy never completed');
  for (const s of ['spare-taken', 'checkout-done', 'spare-parked']) assert.ok(steps.includes(s), `step ${s} never reached: ${steps.join(', ')}`);
  // And the complete run recycled: v1's /usr became v4's, v2 is the spare.
  assert.deepEqual(usrShape(await defaultDir(work)), refShape);
  assert.equal(fs.statSync(path.join(await defaultDir(work), 'usr')).ino, spareIno);
  assert.deepEqual(fs.readdirSync(path.join(work, 'ostree/deploy/testos/recycle')), [c2]);
});
