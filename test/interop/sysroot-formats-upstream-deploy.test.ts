/**
 * Files written by upstream `ostree admin` 2022.7 (sysroot on a private tmpfs, so FIFREEZE can
 * never reach the host filesystem) read back and re-derived with the sysroot format helpers:
 * BLS entries round-trip byte for byte, findKernel's bootcsum equals the one upstream put in
 * `ostree=`, origin files (plain, pinned, unpinned) equal ours, kernel-argument edits done by
 * upstream equal the same KernelArgs operations, `config-diff` equals formatConfigDiff, and
 * the /etc upstream produced on upgrade equals what applyEtcMerge produces from the same inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlsEntry, readBlsEntries } from '../../src/sysroot/formats/bls.js';
import { KernelArgs } from '../../src/sysroot/formats/kargs.js';
import { Origin } from '../../src/sysroot/formats/origin.js';
import { findKernel } from '../../src/sysroot/kernel-layout.js';
import { diffEtc, applyEtcMerge, formatConfigDiff } from '../../src/sysroot/etc-merge.js';
import { treeSnapshot, writeFileAt } from '../common/tree.js';

const OSTREE = '/usr/bin/ostree';

function run(args: string[], env: Record<string, string> = {}): string {
  return execFileSync(OSTREE, args, { encoding: 'utf8', env: { ...process.env, OSTREE_SYSROOT_DEBUG: 'mutable-deployments', ...env } });
}

async function makeTree(root: string, version: string, etc: Record<string, string>): Promise<void> {
  await writeFileAt(path.join(root, 'usr/lib/modules/3.6.0/vmlinuz'), `kernel ${version}\n`);
  await writeFileAt(path.join(root, 'usr/lib/modules/3.6.0/initramfs.img'), `initramfs ${version}\n`);
  await writeFileAt(path.join(root, 'usr/lib/modules/3.6.0/.vmlinuz.hmac'), 'hmac\n');
  await writeFileAt(path.join(root, 'usr/lib/os-release'), 'NAME=TestOS\nID=testos\nPRETTY_NAME="TestOS 42"\n');
  await fsp.mkdir(path.join(root, 'usr/bin'), { recursive: true });
  await fsp.symlink('usr/bin', path.join(root, 'bin'));
  for (const [rel, content] of Object.entries(etc)) await writeFileAt(path.join(root, 'usr/etc', rel), content);
}

test('interop: upstream admin deploy/pin/kargs/config-diff/upgrade outputs match the format helpers', async () => {
  const top = await fsp.mkdtemp(path.join(os.tmpdir(), 'sysroot-up-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'none', top]);
  try {
    const repo = path.join(top, 'build-repo');
    const sysroot = path.join(top, 'sysroot');
    const ref = 'testos/buildmain/x86_64-runtime';
    run(['init', `--repo=${repo}`, '--mode=archive']);
    const t1 = path.join(top, 'tree1');
    await makeTree(t1, '1', {
      'aconfigfile': 'a default\n', 'NetworkManager/nm.conf': 'a default\n', 'testdirectory/test': 'a default\n',
      'os-release': 'NAME=TestOS\n',
    });
    run(['commit', `--repo=${repo}`, '--bootable', '--add-metadata-string=version=1.0.9', '-b', ref, '-s', 'Build', t1]);
    await fsp.mkdir(sysroot);
    run(['admin', 'init-fs', sysroot]);
    run(['admin', 'os-init', `--sysroot=${sysroot}`, 'testos']);
    run(['--repo=' + path.join(sysroot, 'ostree/repo'), 'remote', 'add', '--set=gpg-verify=false', 'testos', `file://${repo}`]);
    run(['--repo=' + path.join(sysroot, 'ostree/repo'), 'pull', 'testos', ref]);
    run(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', '--karg=root=LABEL=MOO', '--karg=quiet', `testos:${ref}`]);

    // --- BLS entry and bootcsum ---
    const entriesDir = path.join(sysroot, 'boot/loader/entries');
    const entries = await readBlsEntries(entriesDir);
    assert.equal(entries.length, 1);
    const e0 = entries[0]!;
    assert.equal(e0.fileName, 'ostree-1-testos.conf');
    const text = await fsp.readFile(e0.path, 'utf8');
    assert.equal(BlsEntry.parse(text, e0.path).serialize(), text);
    assert.equal(e0.entry.version, '1');
    assert.equal(e0.bootlink.stateroot, 'testos');
    const deployDir = path.join(sysroot, 'ostree/deploy/testos/deploy');
    const dep1 = (await fsp.readdir(deployDir)).find((n) => !n.endsWith('.origin'))!;
    const k = await findKernel(path.join(deployDir, dep1));
    assert.equal(k.bootcsum, e0.bootlink.bootcsum);
    assert.equal(e0.entry.linux, `/ostree/testos-${k.bootcsum}/${k.kernelDestName}`);
    assert.equal(e0.entry.initrd, `/ostree/testos-${k.bootcsum}/${k.initramfsDestName}`);
    await fsp.access(path.join(sysroot, 'boot/ostree', `testos-${k.bootcsum}`, k.hmacDestName!));
    assert.equal(e0.entry.kernelArgs().toString(), `root=LABEL=MOO quiet ostree=/ostree/boot.1/testos/${k.bootcsum}/0`);

    // --- origin files ---
    const originPath = path.join(deployDir, `${dep1}.origin`);
    const originText = await fsp.readFile(originPath, 'utf8');
    assert.equal(originText, Origin.forRefspec(`testos:${ref}`).toString());
    assert.equal(Origin.parse(originText, originPath).toString(), originText);
    run(['admin', 'pin', `--sysroot=${sysroot}`, '0']);
    const pinned = await fsp.readFile(originPath, 'utf8');
    const ours = Origin.forRefspec(`testos:${ref}`);
    ours.setPinned(true);
    assert.equal(pinned, ours.toString());
    assert.equal(Origin.parse(pinned).pinned, true);
    run(['admin', 'pin', '--unpin', `--sysroot=${sysroot}`, '0']);
    ours.setPinned(false);
    assert.equal(await fsp.readFile(originPath, 'utf8'), ours.toString());

    // --- kargs edit-in-place --append-if-missing ---
    run(['admin', 'kargs', 'edit-in-place', `--sysroot=${sysroot}`, '--append-if-missing=foo=bar', '--append-if-missing=quiet', '--append-if-missing=root=LABEL=OTHER']);
    const expectKargs = e0.entry.kernelArgs();
    for (const a of ['foo=bar', 'quiet', 'root=LABEL=OTHER']) expectKargs.appendIfMissing(a);
    const afterEdit = (await readBlsEntries(entriesDir))[0]!;
    assert.equal(afterEdit.entry.options, expectKargs.toString());

    // --- config-diff after admin edits ---
    const etc = path.join(deployDir, dep1, 'etc');
    await fsp.writeFile(path.join(etc, 'aconfigfile'), 'locally modified\n');
    await fsp.chmod(path.join(etc, 'NetworkManager/nm.conf'), 0o600);
    await fsp.rm(path.join(etc, 'testdirectory/test'));
    await writeFileAt(path.join(etc, 'localfile'), 'localfile\n');
    await writeFileAt(path.join(etc, 'localdir/y'), 'y\n');
    await fsp.symlink('/dev/null', path.join(etc, 'locallink'));
    await fsp.chmod(path.join(etc, 'localdir'), 0o750);
    const cd = run(['admin', 'config-diff', `--sysroot=${sysroot}`, '--os=testos']);
    const ourDiff = await diffEtc(path.join(deployDir, dep1, 'usr/etc'), etc);
    assert.equal(formatConfigDiff(ourDiff), cd);

    // --- upgrade: upstream's merged /etc equals ours from the same inputs ---
    const t2 = path.join(top, 'tree2');
    await makeTree(t2, '2', {
      'aconfigfile': 'new default\n', 'NetworkManager/nm.conf': 'a default\n', 'testdirectory/test': 'changed default\n',
      'os-release': 'NAME=TestOS\n', 'a-new-default-config-file': 'new\n', 'new-default-dir/moo': 'moo\n',
    });
    run(['commit', `--repo=${repo}`, '--bootable', '--add-metadata-string=version=2.0', '-b', ref, '-s', 'Build', t2]);
    const up = run(['admin', 'upgrade', `--sysroot=${sysroot}`, '--os=testos']);
    assert.match(up, /Copying \/etc changes: 2 modified, 1 removed, 4 added/);
    const dep2 = (await fsp.readdir(deployDir)).find((n) => !n.endsWith('.origin') && n !== dep1)!;
    const ourNew = path.join(top, 'our-new-etc');
    execFileSync('cp', ['-a', path.join(deployDir, dep2, 'usr/etc'), ourNew]);
    await applyEtcMerge(ourDiff, etc, ourNew);
    assert.deepEqual(await treeSnapshot(ourNew), await treeSnapshot(path.join(deployDir, dep2, 'etc')));

    // --- two entries now; sorted by version descending; kargs inherited incl. the edit ---
    const two = await readBlsEntries(entriesDir);
    assert.deepEqual(two.map((x) => x.entry.version), ['2', '1']);
    for (const x of two) assert.equal(BlsEntry.parse(await fsp.readFile(x.path, 'utf8'), x.path).serialize(), await fsp.readFile(x.path, 'utf8'));
    const k2 = await findKernel(path.join(deployDir, dep2));
    assert.equal(two[0]!.bootlink.bootcsum, k2.bootcsum);
    const inherited = KernelArgs.parse(two[0]!.entry.options!);
    inherited.delete(`ostree=${two[0]!.ostreeArg}`);
    const prev = expectKargs.clone();
    prev.delete(`ostree=${e0.ostreeArg}`);
    assert.equal(inherited.toString(), prev.toString());
  } finally {
    execFileSync('umount', [top]);
    await fsp.rmdir(top);
  }
});
