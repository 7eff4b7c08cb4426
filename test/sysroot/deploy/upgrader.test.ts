/**
 * The upgrader (src/sysroot/deploy/upgrader.ts) through `admin upgrade` / `admin switch` and
 * `admin instutil set-kargs`, `remote add --sysroot`, and the freeze watchdog's test hook, on a
 * tmpfs sysroot with a file:// remote.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Variant } from '../../../src/glib/gvariant.js';
import { Repo } from '../../../src/repo/repo.js';
import { Sysroot } from '../../../src/sysroot/sysroot.js';
import { tmpfsScratch, ours, ok, commitTree, makeTree, newSysroot, type Scratch } from '../../common/sysroot-helpers.js';

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-upgrader-'); });
after(() => { scratch.cleanup(); });

const MUT = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };
const sr = (s: string): string => `--sysroot=${s}`;

async function withRemote(name: string): Promise<{ sysroot: string; tree: string; src: string; c1: string }> {
  const r = path.join(scratch.dir, name);
  fs.mkdirSync(r);
  const { sysroot, tree } = await newSysroot(r);
  const src = path.join(r, 'src');
  await Repo.create(src, 'archive');
  const c1 = await commitTree(src, tree, 'os/stable', '1');
  ok(ours([`--repo=${path.join(sysroot, 'ostree/repo')}`, 'remote', 'add', '--no-gpg-verify', 'origin', `file://${src}`]));
  ok(ours([`--repo=${path.join(sysroot, 'ostree/repo')}`, 'pull', 'origin', 'os/stable']));
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'origin:os/stable'], MUT));
  return { sysroot, tree, src, c1 };
}

async function deployments(sysroot: string): Promise<Array<{ csum: string; refspec: string | null }>> {
  const s = await Sysroot.open(sysroot);
  await s.load();
  return s.deployments.map((d) => ({ csum: d.csum, refspec: d.refspec }));
}

test('upgrade follows an end-of-life rebase: the new ref is pulled, deployed and written to the origin', async () => {
  const { sysroot, tree, src } = await withRemote('eol');
  makeTree(tree, { kernel: 'kernel 2\n' });
  const next = await commitTree(src, tree, 'os/next', '2');
  const srcRepo = await Repo.open(src);
  const empty = path.join(scratch.dir, 'eol/empty');
  fs.mkdirSync(empty);
  await srcRepo.commitTree(empty, {
    branch: 'os/stable', subject: 'EOL',
    metadata: [['ostree.endoflife', new Variant('s', 'discontinued')], ['ostree.endoflife-rebase', new Variant('s', 'os/next')]],
    timestamp: 1_800_000_000n,
  });
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos'], MUT));
  const list = await deployments(sysroot);
  assert.deepEqual(list[0], { csum: next, refspec: 'origin:os/next' });
});

test('upgrade --override-commit deploys that commit and points the remote ref at it; older needs --allow-downgrade', async () => {
  const { sysroot, tree, src, c1 } = await withRemote('override');
  makeTree(tree, { kernel: 'kernel 2\n' });
  const c2 = await commitTree(src, tree, 'os/stable', '2');
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos'], MUT));
  const down = ours(['admin', 'upgrade', sr(sysroot), '--os=testos', `--override-commit=${c1}`], MUT);
  assert.equal(down.status, 1);
  assert.match(down.stderr, /Upgrade target revision .* is chronologically older than current revision/);
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', `--override-commit=${c1}`, '--allow-downgrade'], MUT));
  assert.equal((await deployments(sysroot))[0]!.csum, c1);
  assert.equal(await (await Repo.open(path.join(sysroot, 'ostree/repo'))).resolveRev('origin:os/stable'), c1);
  assert.notEqual(c1, c2);
  // staging is refused when not booted, also through $OSTREE_EX_STAGE_DEPLOYMENTS
  const staged = ours(['admin', 'upgrade', sr(sysroot), '--os=testos'], { ...MUT, OSTREE_EX_STAGE_DEPLOYMENTS: '1' });
  assert.equal(staged.status, 1);
  assert.match(staged.stderr, /Cannot stage deployment: Not currently booted/);
});

test('instutil set-kargs replaces, merges and appends the first deployment\'s arguments', async () => {
  const { sysroot } = await withRemote('kargs');
  const opts = async (): Promise<string> => {
    const s = await Sysroot.open(sysroot); await s.load();
    return s.deployments[0]!.bootconfig.kernelArgs().toArray().filter((a) => !a.startsWith('ostree=')).join(' ');
  };
  ok(ours(['admin', 'instutil', 'set-kargs', sr(sysroot), 'FOO=BAR', 'KEY'], MUT));
  assert.equal(await opts(), 'FOO=BAR KEY');
  ok(ours(['admin', 'instutil', 'set-kargs', sr(sysroot), '--merge', '--replace=FOO=XXX', '--append=FOO=2'], MUT));
  assert.equal(await opts(), 'FOO=XXX KEY FOO=2');
  const none = ours(['admin', 'instutil', 'set-kargs', `--sysroot=${path.join(scratch.dir, 'kargs/nosuch')}`]);
  assert.equal(none.status, 1);
});

test('remote add --sysroot: a physical sysroot keeps the remote in its repo config, a deployment root in etc/ostree/remotes.d', async () => {
  const { sysroot } = await withRemote('remotes');
  ok(ours(['--sysroot=' + sysroot, 'remote', 'add', '--no-gpg-verify', 'phys', 'http://example.com/repo']));
  assert.match(fs.readFileSync(path.join(sysroot, 'ostree/repo/config'), 'utf8'), /\[remote "phys"\]/);
  const s = await Sysroot.open(sysroot); await s.load();
  const dep = s.deploymentDirectory(s.deployments[0]!);
  // the deployment's /sysroot makes it non-physical; its ostree link leads to the repo
  fs.rmSync(path.join(dep, 'sysroot'), { recursive: true, force: true });
  fs.symlinkSync(path.relative(dep, sysroot), path.join(dep, 'sysroot'));
  ok(ours(['remote', 'add', `--sysroot=${dep}`, '--no-gpg-verify', 'nonphys', 'http://example.com/other']));
  assert.match(fs.readFileSync(path.join(dep, 'etc/ostree/remotes.d/nonphys.conf'), 'utf8'), /^\[remote "nonphys"\]\nurl=http:\/\/example.com\/other\n/);
  assert.doesNotMatch(fs.readFileSync(path.join(sysroot, 'ostree/repo/config'), 'utf8'), /nonphys/);
});

test('OSTREE_SYSROOT_DEBUG=test-fifreeze: the freeze watchdog runs, then the sync aborts with upstream\'s error', async () => {
  const { sysroot } = await withRemote('fifreeze');
  const r = ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'origin:os/stable'], { OSTREE_SYSROOT_DEBUG: 'mutable-deployments,test-fifreeze' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /fifreeze watchdog was run/);
  assert.match(r.stderr, /During fsfreeze-thaw: aborting due to test-fifreeze/);
});
