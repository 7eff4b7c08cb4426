/**
 * Incremental deploy with staging (src/sysroot/deploy/recycle.ts): `admin deploy --stage` makes
 * its deployment from the stateroot's spare, and `admin finalize-staged` parks the deployment
 * its list drops, as a plain deploy does. In the booted-system emulation of booted.test.ts (the
 * booted deployment's `sysroot` leads back to the physical root; OSTREE_TS_ROOT_DIR and
 * OSTREE_TS_RUN_DIR make it "booted").
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmpfsScratch, ours, ok, commitTree, makeTree, checkBootConfigComplete, type Scratch } from '../common/sysroot-helpers.js';

// On by default: on here, whatever the caller's environment says.
delete process.env['OSTREE_TS_INCREMENTAL_DEPLOY'];

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-incr-staged-'); });
after(() => { scratch.cleanup(); });

function usrShape(dir: string): string[] {
  return execFileSync('find', [path.join(dir, 'usr'), '-printf', '%P %y %m %U %G %l %s\n'], { encoding: 'utf8' }).split('\n').sort();
}

test('a staged deploy is made from the spare; finalize-staged parks what it drops', async () => {
  const phys = path.join(scratch.dir, 'sysroot');
  fs.mkdirSync(phys);
  ok(ours(['admin', 'init-fs', phys]));
  ok(ours(['admin', 'os-init', `--sysroot=${phys}`, 'testos']));
  const tree = makeTree(path.join(scratch.dir, 'tree'));
  fs.rmdirSync(path.join(tree, 'sysroot'));
  fs.symlinkSync('../../../../..', path.join(tree, 'sysroot'));
  fs.symlinkSync('sysroot/boot', path.join(tree, 'boot'));
  fs.mkdirSync(path.join(tree, 'var'));
  const repo = path.join(phys, 'ostree/repo');
  const version = async (v: number): Promise<string> => {
    fs.mkdirSync(path.join(tree, 'usr/share/data'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'usr/share/data', `f${v}`), `v${v}\n`);
    fs.writeFileSync(path.join(tree, 'usr/bin/hello'), `#!/bin/sh\necho v${v}\n`, { mode: 0o755 });
    return commitTree(repo, tree, 'testos/stable', String(v));
  };
  const MUT = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };
  const c1 = await version(1);
  ok(ours(['admin', 'deploy', `--sysroot=${phys}`, '--os=testos', '--karg=root=LABEL=ROOT', 'testos/stable'], MUT));
  const dep0 = path.join(phys, `ostree/deploy/testos/deploy/${c1}.0`);
  const run = path.join(scratch.dir, 'run');
  fs.mkdirSync(run);
  fs.writeFileSync(path.join(run, 'ostree-booted'), '');
  const env = { OSTREE_TS_RUN_DIR: run, OSTREE_TS_ROOT_DIR: dep0, ...MUT };
  const sr = `--sysroot=${dep0}`;
  const spares = (): string[] => {
    const d = path.join(phys, 'ostree/deploy/testos/recycle');
    return fs.existsSync(d) ? fs.readdirSync(d) : [];
  };

  // booted c1; c2 then c3 deployed: c3 drops c2 (not the booted c1), which is parked
  const c2 = await version(2);
  ok(ours(['admin', 'deploy', sr, 'testos/stable'], env));
  const c3 = await version(3);
  ok(ours(['admin', 'deploy', sr, 'testos/stable'], env));
  assert.deepEqual(spares(), [c2]);
  const spareIno = fs.statSync(path.join(phys, `ostree/deploy/testos/recycle/${c2}/usr`)).ino;

  // staging c4 takes the spare: its /usr is the spare's, patched
  const c4 = await version(4);
  ok(ours(['admin', 'deploy', '--stage', sr, 'testos/stable'], env));
  assert.deepEqual(spares(), []);
  const dep4 = path.join(phys, `ostree/deploy/testos/deploy/${c4}.0`);
  assert.equal(fs.statSync(path.join(dep4, 'usr')).ino, spareIno, 'the staged deployment was not made from the spare');
  assert.equal(fs.readFileSync(path.join(dep4, 'usr/bin/hello'), 'utf8'), '#!/bin/sh\necho v4\n');
  assert.ok(fs.existsSync(path.join(dep4, 'usr/share/data/f2')) && fs.existsSync(path.join(dep4, 'usr/share/data/f4')));

  // the same commit checked out afresh, for comparison
  const fresh = path.join(scratch.dir, 'fresh');
  execFileSync('cp', ['-a', phys, fresh]);
  const freshRoot = path.join(fresh, 'ostree/deploy/testos/fresh-c4');
  ok(ours(['checkout', `--repo=${path.join(fresh, 'ostree/repo')}`, c4, freshRoot]));
  assert.deepEqual(usrShape(dep4), usrShape(freshRoot));

  // finalization at "shutdown": the list becomes [c4, c1]; c3 drops out and is parked
  ok(ours(['admin', 'finalize-staged', sr], env));
  assert.deepEqual(spares(), [c3]);
  assert.ok(!fs.existsSync(path.join(phys, `ostree/deploy/testos/deploy/${c3}.0`)));
  assert.deepEqual(checkBootConfigComplete(phys), []);
  const status = ok(ours(['admin', 'status', sr], env)).stdout;
  assert.match(status, new RegExp(`testos ${c4}\\.0 \\(pending\\)[\\s\\S]*\\* testos ${c1}\\.0`));
});
