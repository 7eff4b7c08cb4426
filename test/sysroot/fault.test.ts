/**
 * Crash safety by fault injection: `OSTREE_TS_FAULT=<op>:<k>` kills the process (exit 99, no
 * cleanup) at the k-th step of the operation (see src/sysroot/fault.ts).  For every k until the
 * operation completes: the sysroot still loads (ours and upstream's `admin status`), every boot
 * entry (and every grub.cfg menu entry) names a complete deployment and existing kernel files,
 * the default is the old deployment or the complete new one, and a retry succeeds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmpfsScratch, ours, upstream, ok, commitTree, makeTree, checkBootConfigComplete, type Scratch } from '../common/sysroot-helpers.js';
import { Sysroot } from '../../src/sysroot/sysroot.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-fault-'); });
after(() => { scratch.cleanup(); });

const MUT = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };

function copyTree(src: string, dst: string): void {
  fs.rmSync(dst, { recursive: true, force: true });
  execFileSync('cp', ['-a', src, dst]);
}

/** Every grub.cfg `linux`/`initrd` path exists under /boot (with the /boot prefix stripped). */
function checkGrubCfg(sysroot: string): string[] {
  const cfgPath = path.join(sysroot, 'boot/grub/grub.cfg');
  if (!fs.existsSync(cfgPath)) return [];
  const problems: string[] = [];
  const text = fs.readFileSync(cfgPath, 'utf8');
  for (const m of text.matchAll(/^\t(?:linux|initrd) (\S+)/gm)) {
    const p = m[1]!.replace(/^\/boot/, '');
    if (!fs.existsSync(path.join(sysroot, 'boot', p))) problems.push(`grub.cfg: ${m[1]} missing`);
  }
  for (const m of text.matchAll(/ostree=(\S+)/g)) {
    if (!fs.existsSync(path.join(sysroot, m[1]!, 'etc'))) problems.push(`grub.cfg: ${m[1]} incomplete`);
  }
  return problems;
}

async function defaultCsum(sysroot: string, env: Record<string, string> = {}): Promise<string | undefined> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const s = await Sysroot.open(sysroot);
    await s.load();
    return s.deployments.find((d) => !d.staged)?.csum;
  } finally {
    process.env = saved;
  }
}

async function checkAfterCrash(sysroot: string, statusSysroot: string, env: Record<string, string>, allowedDefaults: string[], label: string): Promise<void> {
  ok(ours(['admin', 'status', `--sysroot=${statusSysroot}`], env), `${label}: our status`);
  ok(upstream(['admin', 'status', `--sysroot=${sysroot}`]), `${label}: upstream status`);
  assert.deepEqual(checkBootConfigComplete(sysroot), [], label);
  assert.deepEqual(checkGrubCfg(sysroot), [], label);
  const def = await defaultCsum(statusSysroot, env);
  assert.ok(def !== undefined && allowedDefaults.includes(def), `${label}: default ${def} not in ${allowedDefaults.join(',')}`);
}

/** A fresh sysroot with stateroot `testos` under a new scratch folder: { dir, base }. */
function newSysroot(name: string): { dir: string; base: string } {
  const dir = path.join(scratch.dir, name);
  const base = path.join(dir, 'base');
  fs.mkdirSync(base, { recursive: true });
  ok(ours(['admin', 'init-fs', base]));
  ok(ours(['admin', 'os-init', `--sysroot=${base}`, 'testos']));
  return { dir, base };
}

/**
 * Stop operation `op` dead at fault point k = 1, 2, ... (`attempt` gets the OSTREE_TS_FAULT
 * value and starts from a fresh copy) until it runs to completion; after each stop (exit 99)
 * `afterCrash(k)` checks the sysroot. Returns how many fault points were reached.
 */
async function crashAtEveryStep(
  op: string, limit: number,
  attempt: (fault: string) => { status: number | null; stderr: string },
  afterCrash: (k: number) => Promise<void>,
): Promise<number> {
  let k = 1;
  for (; k < limit; k++) {
    const res = attempt(`${op}:${k}`);
    if (res.status === 0) break;
    assert.equal(res.status, 99, `${op}:${k} ${res.stderr}`);
    await afterCrash(k);
  }
  assert.ok(k < limit, `${op} did not complete within ${limit} fault points`);
  return k - 1;
}

test('deploy (grub2, new kernel): crash at every step leaves a bootable sysroot, retry succeeds', async () => {
  const { dir: r, base } = newSysroot('deploy');
  fs.mkdirSync(path.join(base, 'boot/grub'));
  fs.symlinkSync('../loader/grub.cfg', path.join(base, 'boot/grub/grub.cfg'));
  const tree = makeTree(path.join(r, 'tree'));
  const c1 = await commitTree(path.join(base, 'ostree/repo'), tree, 'testos/stable', '1');
  ok(ours(['admin', 'deploy', `--sysroot=${base}`, '--os=testos', '--karg=root=LABEL=ROOT', 'testos/stable'], MUT));
  ok(ours(['admin', 'deploy', `--sysroot=${base}`, '--os=testos', 'testos/stable'], MUT));
  makeTree(tree, { kernel: 'kernel v2\n', etc: { aconf: 'v2\n' } });
  const c2 = await commitTree(path.join(base, 'ostree/repo'), tree, 'testos/stable', '2');
  const work = path.join(r, 'work');
  const points = await crashAtEveryStep('deploy', 100, (fault) => {
    copyTree(base, work);
    return ours(['admin', 'deploy', `--sysroot=${work}`, '--os=testos', 'testos/stable'], { ...MUT, OSTREE_TS_FAULT: fault });
  }, async (k) => {
    await checkAfterCrash(work, work, {}, [c1, c2], `deploy:${k}`);
    ok(ours(['admin', 'deploy', `--sysroot=${work}`, '--os=testos', 'testos/stable'], MUT), `retry after deploy:${k}`);
    assert.equal(await defaultCsum(work), c2);
    assert.deepEqual(checkBootConfigComplete(work), []);
    assert.deepEqual(checkGrubCfg(work), []);
  });
  assert.ok(points >= 15, `only ${points} fault points were reached`);
});

test('cleanup: crash at every step leaves a loadable sysroot; retry removes the garbage', async () => {
  const { dir: r, base } = newSysroot('cleanup');
  const tree = makeTree(path.join(r, 'tree'));
  const c1 = await commitTree(path.join(base, 'ostree/repo'), tree, 'testos/stable', '1');
  ok(ours(['admin', 'deploy', `--sysroot=${base}`, '--os=testos', 'testos/stable'], MUT));
  ok(ours(['admin', 'deploy', `--sysroot=${base}`, '--os=testos', 'testos/stable'], MUT));
  // garbage: an unreferenced deployment, a stale loader dir, a stale bootlink dir, a stale kernel dir
  const dd = path.join(base, 'ostree/deploy/testos/deploy');
  execFileSync('cp', ['-a', path.join(dd, `${c1}.0`), path.join(dd, `${c1}.7`)]);
  fs.mkdirSync(path.join(base, 'boot/loader.1/entries'), { recursive: true });
  fs.mkdirSync(path.join(base, 'ostree/boot.0.0/testos'), { recursive: true });
  fs.mkdirSync(path.join(base, `boot/ostree/testos-${'a'.repeat(64)}`), { recursive: true });
  const work = path.join(r, 'work');
  const points = await crashAtEveryStep('cleanup', 50, (fault) => {
    copyTree(base, work);
    return ours(['admin', 'cleanup', `--sysroot=${work}`], { OSTREE_TS_FAULT: fault });
  }, async (k) => {
    await checkAfterCrash(work, work, {}, [c1], `cleanup:${k}`);
    ok(ours(['admin', 'cleanup', `--sysroot=${work}`]), `retry after cleanup:${k}`);
    assert.ok(!fs.existsSync(path.join(work, `ostree/deploy/testos/deploy/${c1}.7`)));
    assert.ok(!fs.existsSync(path.join(work, 'boot/loader.1')));
    assert.ok(!fs.existsSync(path.join(work, 'ostree/boot.0.0')));
    assert.ok(!fs.existsSync(path.join(work, `boot/ostree/testos-${'a'.repeat(64)}`)));
  });
  assert.ok(points >= 3, `only ${points} fault points were reached`);
});

test('finalize-staged (booted emulation): crash at every step; the old default stays or the new one is complete', async () => {
  const { dir: r, base } = newSysroot('finalize');
  const tree = makeTree(path.join(r, 'tree'));
  fs.rmdirSync(path.join(tree, 'sysroot'));
  fs.symlinkSync('../../../../..', path.join(tree, 'sysroot'));
  fs.symlinkSync('sysroot/boot', path.join(tree, 'boot'));
  const c1 = await commitTree(path.join(base, 'ostree/repo'), tree, 'testos/stable', '1');
  ok(ours(['admin', 'deploy', `--sysroot=${base}`, '--os=testos', 'testos/stable'], MUT));
  makeTree(tree, { kernel: 'kernel v2\n' });
  fs.rmdirSync(path.join(tree, 'sysroot'));
  fs.symlinkSync('../../../../..', path.join(tree, 'sysroot'));
  fs.symlinkSync('sysroot/boot', path.join(tree, 'boot'));
  const c2 = await commitTree(path.join(base, 'ostree/repo'), tree, 'testos/stable', '2');
  fs.mkdirSync(path.join(r, 'run-base'));
  fs.writeFileSync(path.join(r, 'run-base/ostree-booted'), '');
  const envFor = (work: string, run: string) => ({ ...MUT, OSTREE_TS_RUN_DIR: run, OSTREE_TS_ROOT_DIR: path.join(work, `ostree/deploy/testos/deploy/${c1}.0`) });
  ok(ours(['admin', 'deploy', '--stage', `--sysroot=${path.join(base, `ostree/deploy/testos/deploy/${c1}.0`)}`, 'testos/stable'], envFor(base, path.join(r, 'run-base'))));
  assert.ok(fs.existsSync(path.join(r, 'run-base/ostree/staged-deployment')));
  const work = path.join(r, 'work');
  const run = path.join(r, 'run');
  const env = envFor(work, run);
  const booted = `--sysroot=${env.OSTREE_TS_ROOT_DIR}`;
  const points = await crashAtEveryStep('finalize', 60, (fault) => {
    copyTree(base, work);
    copyTree(path.join(r, 'run-base'), run);
    return ours(['admin', 'finalize-staged', booted], { ...env, OSTREE_TS_FAULT: fault });
  }, async (k) => {
    await checkAfterCrash(work, env.OSTREE_TS_ROOT_DIR, env, [c1, c2], `finalize:${k}`);
    // A retry succeeds (it is a no-op once the record was consumed), and staging again works.
    ok(ours(['admin', 'finalize-staged', booted], env), `retry after finalize:${k}`);
    ok(ours(['admin', 'deploy', '--stage', booted, 'testos/stable'], env), `restage after finalize:${k}`);
    ok(ours(['admin', 'finalize-staged', booted], env), `refinalize after finalize:${k}`);
    assert.equal(await defaultCsum(env.OSTREE_TS_ROOT_DIR, env), c2);
    assert.deepEqual(checkBootConfigComplete(work), []);
  });
  assert.ok(points >= 10, `only ${points} fault points were reached`);
});
