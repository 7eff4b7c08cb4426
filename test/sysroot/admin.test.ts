/**
 * `ostree admin` on fake sysroots (tmpfs), through our CLI.  Upstream /usr/bin/ostree is used
 * only to read results back where noted (`admin status` parity); the interop suite does more.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import {
  tmpfsScratch, newSysroot, ours, upstream, ok, commitTree, makeTree, readEntries, checkBootConfigComplete, CLI, type Scratch,
} from '../common/sysroot-helpers.js';
import { Sysroot } from '../../src/sysroot/sysroot.js';
import * as libc from '../../src/native/libc.js';

let scratch: Scratch;
let n = 0;
const MUT = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };

before(() => { scratch = tmpfsScratch(); });
after(() => { scratch.cleanup(); });

function root(): string {
  const d = path.join(scratch.dir, `t${++n}`);
  fs.mkdirSync(d);
  return d;
}

const sr = (s: string): string => `--sysroot=${s}`;

test('init-fs creates the 2022.7 layout and a bare repo; --modern only boot and ostree', () => {
  const r = root();
  fs.mkdirSync(path.join(r, 'a')); fs.mkdirSync(path.join(r, 'b'));
  ok(ours(['admin', 'init-fs', path.join(r, 'a')]));
  for (const d of ['boot', 'dev', 'home', 'proc', 'run', 'sys', 'root', 'tmp', 'ostree/deploy', 'ostree/repo/objects']) {
    assert.ok(fs.statSync(path.join(r, 'a', d)).isDirectory(), d);
  }
  assert.equal(fs.statSync(path.join(r, 'a/tmp')).mode & 0o7777, 0o1777);
  assert.equal(fs.statSync(path.join(r, 'a/root')).mode & 0o7777, 0o700);
  assert.match(fs.readFileSync(path.join(r, 'a/ostree/repo/config'), 'utf8'), /mode=bare/);
  ok(ours(['admin', 'init-fs', '--modern', path.join(r, 'b')]));
  assert.ok(!fs.existsSync(path.join(r, 'b/dev')));
  assert.ok(fs.existsSync(path.join(r, 'b/boot')));
  const bad = ours(['admin', 'init-fs', path.join(r, 'missing')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: /);
});

test('os-init creates var like 2022.7, prints the upstream message, and refuses an existing stateroot', () => {
  const r = root();
  const s = path.join(r, 's'); fs.mkdirSync(s);
  ok(ours(['admin', 'init-fs', s]));
  const res = ok(ours(['admin', 'os-init', sr(s), 'foo']));
  assert.equal(res.stdout, 'ostree/deploy/foo initialized as OSTree root\n');
  const v = path.join(s, 'ostree/deploy/foo/var');
  assert.equal(fs.readlinkSync(path.join(v, 'run')), '../run');
  assert.equal(fs.readlinkSync(path.join(v, 'lock')), '../run/lock');
  assert.equal(fs.statSync(path.join(v, 'tmp')).mode & 0o7777, 0o1777);
  const again = ours(['admin', 'stateroot-init', sr(s), 'foo']);
  assert.equal(again.status, 1);
  assert.equal(again.stderr, 'error: Creating ostree/deploy/foo: File exists\n');
});

test('deploy: first deployment lands in loader.1/boot.1.1 with upstream entry, links, refs and status', async () => {
  const r = root();
  const { sysroot, c1 } = await newSysroot(r);
  const res = ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg=root=LABEL=ROOT', '--karg=quiet', 'testos/stable'], { OSTREE_TS_SYNC_TRACE: '1' }));
  assert.match(res.stderr, /^sync: FIFREEZE unavailable \(EOPNOTSUPP\), syncfs \/boot$/m);
  assert.equal(res.stdout, "Relabeling /var (no stamp file 'var/.ostree-selabeled' found)\nBootloader updated; bootconfig swap: yes; bootversion: boot.1.1, deployment count change: 1\n");
  assert.equal(fs.readlinkSync(path.join(sysroot, 'boot/loader')), 'loader.1');
  assert.equal(fs.readlinkSync(path.join(sysroot, 'boot/boot')), '.');
  assert.equal(fs.readlinkSync(path.join(sysroot, 'ostree/boot.1')), 'boot.1.1');
  const entries = readEntries(sysroot);
  assert.deepEqual(Object.keys(entries), ['ostree-1-testos.conf']);
  const e = entries['ostree-1-testos.conf']!;
  const bootcsum = /testos-([0-9a-f]{64})/.exec(e)![1]!;
  assert.equal(e, [
    'title Test OS 42 1.0 (ostree:0)',
    'version 1',
    `options root=LABEL=ROOT quiet ostree=/ostree/boot.1/testos/${bootcsum}/0`,
    `linux /ostree/testos-${bootcsum}/vmlinuz-6.1.0`,
    `initrd /ostree/testos-${bootcsum}/initramfs-6.1.0.img`, ''].join('\n'));
  assert.equal(fs.readlinkSync(path.join(sysroot, `ostree/boot.1.1/testos/${bootcsum}/0`)), `../../../deploy/testos/deploy/${c1}.0`);
  assert.equal(fs.readFileSync(path.join(sysroot, `ostree/deploy/testos/deploy/${c1}.0.origin`), 'utf8'), '[origin]\nrefspec=testos/stable\n');
  assert.equal(fs.readFileSync(path.join(sysroot, 'ostree/repo/refs/heads/ostree/1/1/0'), 'utf8').trim(), c1);
  // /etc is a real copy of /usr/etc
  const dep = path.join(sysroot, `ostree/deploy/testos/deploy/${c1}.0`);
  assert.equal(fs.readFileSync(path.join(dep, 'etc/aconf'), 'utf8'), 'default\n');
  assert.equal(fs.statSync(path.join(dep, 'etc/aconf')).nlink, 1);
  const expected = `  testos ${c1}.0\n    Version: 1.0\n    origin refspec: testos/stable\n`;
  assert.equal(ok(ours(['admin', 'status', sr(sysroot)])).stdout, expected);
  assert.equal(ok(upstream(['admin', 'status', sr(sysroot)])).stdout, expected);
  assert.equal(ok(ours(['admin', '--print-current-dir', sr(sysroot)])).stdout, `${dep}\n`);
  // the lock file is removed by its holder
  assert.ok(!fs.existsSync(path.join(sysroot, 'ostree/lock')));
});

test('deploy sets the immutable bit on the deployment root unless mutable-deployments', async () => {
  const r = root();
  const { sysroot, c1 } = await newSysroot(r);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable']));
  const dep = path.join(sysroot, `ostree/deploy/testos/deploy/${c1}.0`);
  let supported = true;
  try { libc.getInodeFlags(dep); } catch { supported = false; }
  if (supported) {
    assert.equal(libc.isImmutable(dep), true);
    assert.throws(() => fs.writeFileSync(path.join(dep, 'newfile'), 'x'));
    ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
    assert.equal(libc.isImmutable(path.join(sysroot, `ostree/deploy/testos/deploy/${c1}.1`)), false);
    // cleanup can remove an immutable deployment
    ok(ours(['admin', 'undeploy', sr(sysroot), '1']));
    assert.ok(!fs.existsSync(dep));
  } else {
    assert.fail('FS_IOC_GETFLAGS unsupported on this tmpfs; the immutable bit cannot be checked');
  }
});

test('redeploys: bootswap to loader.0, then a sub-bootversion swap boot.0.0 (bootconfig swap: no)', async () => {
  const r = root();
  const { sysroot, c1 } = await newSysroot(r, { bootloader: 'none' });
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  const second = ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  assert.equal(second.stdout, 'Copying /etc changes: 0 modified, 0 removed, 0 added\nBootloader updated; bootconfig swap: yes; bootversion: boot.0.1, deployment count change: 1\n');
  const third = ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  assert.equal(third.stdout, 'Copying /etc changes: 0 modified, 0 removed, 0 added\nTransaction complete; bootconfig swap: no; bootversion: boot.0.0, deployment count change: 0\n');
  assert.equal(fs.readlinkSync(path.join(sysroot, 'ostree/boot.0')), 'boot.0.0');
  assert.ok(!fs.existsSync(path.join(sysroot, 'ostree/boot.0.1')));
  assert.ok(!fs.existsSync(path.join(sysroot, 'boot/loader.1')));
  const st = ok(ours(['admin', 'status', sr(sysroot)])).stdout;
  assert.equal(st, `  testos ${c1}.2\n    Version: 1.0\n    origin refspec: testos/stable\n  testos ${c1}.1\n    Version: 1.0\n    origin refspec: testos/stable\n`);
  assert.equal(ok(upstream(['admin', 'status', sr(sysroot)])).stdout, st);
  const refs = ok(upstream(['--repo=' + path.join(sysroot, 'ostree/repo'), 'refs'])).stdout.split('\n').filter((x) => x.startsWith('ostree/')).sort();
  assert.deepEqual(refs, ['ostree/0/0/0', 'ostree/0/0/1']);
  assert.ok(!fs.existsSync(path.join(sysroot, `ostree/deploy/testos/deploy/${c1}.0`)));
});

test('kernel arguments: --karg-append, --karg-delete, --karg-none, --no-merge, quotes, conflicts', async () => {
  const r = root();
  const { sysroot } = await newSysroot(r);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg=root=LABEL=MOO', '--karg=quiet', 'testos/stable'], MUT));
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg-append=console=ttyS0', '--karg-append=console=tty0', 'testos/stable'], MUT));
  let opts = /^options (.*)$/m.exec(readEntries(sysroot)['ostree-2-testos.conf']!)![1]!;
  assert.match(opts, /^root=LABEL=MOO quiet ostree=\S+ console=ttyS0 console=tty0$/);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg-delete=quiet', 'testos/stable'], MUT));
  opts = /^options (.*)$/m.exec(readEntries(sysroot)['ostree-2-testos.conf']!)![1]!;
  assert.match(opts, /^root=LABEL=MOO ostree=\S+ console=ttyS0 console=tty0$/);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg=foo="a b"', 'testos/stable'], MUT));
  opts = /^options (.*)$/m.exec(readEntries(sysroot)['ostree-2-testos.conf']!)![1]!;
  assert.match(opts, /foo="a b"/);
  // inherited without any karg option
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  assert.match(readEntries(sysroot)['ostree-2-testos.conf']!, /foo="a b"/);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg-none', 'testos/stable'], MUT));
  assert.match(readEntries(sysroot)['ostree-2-testos.conf']!, /^options ostree=\S+$/m);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg=x=1', 'testos/stable'], MUT));
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--no-merge', 'testos/stable'], MUT));
  assert.match(readEntries(sysroot)['ostree-1-testos.conf']!, /^options ostree=\S+$/m);
  const bad = ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--no-merge', '--karg-delete=x', 'testos/stable']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /no-merge/);
  const bad2 = ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg-none', '--karg-proc-cmdline', 'testos/stable']);
  assert.equal(bad2.status, 1);
  const bad3 = ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg-delete=nothere', 'testos/stable']);
  assert.equal(bad3.status, 1);
  assert.match(bad3.stderr, /No key 'nothere' found/);
  assert.deepEqual(checkBootConfigComplete(sysroot), []);
});

test('--retain keeps everything, --not-as-default appends, pinned deployments survive', async () => {
  const r = root();
  const { sysroot, c1 } = await newSysroot(r);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--retain', 'testos/stable'], MUT));
  let s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.deployserial), [2, 1, 0]);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--retain', '--not-as-default', 'testos/stable'], MUT));
  s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.deployserial), [2, 3, 1, 0]);
  assert.equal(ok(ours(['admin', 'pin', sr(sysroot), '3'])).stdout, 'Deployment 3 is now pinned\n');
  assert.equal(ok(ours(['admin', 'pin', sr(sysroot), '3'])).stdout, 'Deployment 3 is already pinned\n');
  assert.equal(fs.readFileSync(path.join(sysroot, `ostree/deploy/testos/deploy/${c1}.0.origin`), 'utf8'), '[origin]\nrefspec=testos/stable\n\n[libostree-transient]\npinned=true\n');
  assert.match(ok(upstream(['admin', 'status', sr(sysroot)])).stdout, /Pinned: yes/);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  s = await Sysroot.open(sysroot); await s.load();
  // new, merge (index 0 before), pinned .0
  assert.deepEqual(s.deployments.map((d) => d.deployserial), [4, 2, 0]);
  assert.equal(ok(ours(['admin', 'pin', '-u', sr(sysroot), '2'])).stdout, 'Deployment 2 is now unpinned\n');
  const bad = ours(['admin', 'pin', sr(sysroot), '7']);
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'error: Out of range deployment index 7, expected < 3\n');
  assert.equal(ours(['admin', 'pin', sr(sysroot), 'x']).stderr, 'error: Invalid index: x\n');
  assert.equal(ok(upstream(['admin', 'status', sr(sysroot)])).stdout, ok(ours(['admin', 'status', sr(sysroot)])).stdout);
});

test('undeploy, cleanup, set-origin, kargs edit-in-place, rollback', async () => {
  const r = root();
  const { sysroot, c1 } = await newSysroot(r, { bootloader: 'grub2' });
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg=root=LABEL=ROOT', '--karg=quiet', 'testos/stable'], MUT));
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  // set-origin
  ok(ours(['admin', 'set-origin', sr(sysroot), '--index=0', 'other', 'http://example.com/repo', 'otheros/stable', '--set=gpg-verify=false']));
  assert.equal(fs.readFileSync(path.join(sysroot, `ostree/deploy/testos/deploy/${c1}.1.origin`), 'utf8'), '[origin]\nrefspec=other:otheros/stable\n');
  assert.match(fs.readFileSync(path.join(sysroot, 'ostree/repo/config'), 'utf8'), /\[remote "other"\]\nurl=http:\/\/example.com\/repo\ngpg-verify=false/);
  // kargs edit-in-place: no swap, entries rewritten in place, quiet not duplicated
  const grubBefore = fs.readFileSync(path.join(sysroot, 'boot/loader/grub.cfg'), 'utf8');
  ok(ours(['admin', 'kargs', 'edit-in-place', sr(sysroot), '--append-if-missing=foo=bar', '--append-if-missing=quiet']));
  const e = readEntries(sysroot);
  for (const t of Object.values(e)) assert.match(t, /^options root=LABEL=ROOT quiet ostree=\S+ foo=bar$/m);
  assert.equal(fs.readFileSync(path.join(sysroot, 'boot/loader/grub.cfg'), 'utf8'), grubBefore);
  assert.equal(fs.readlinkSync(path.join(sysroot, 'boot/loader')), 'loader.0');
  // rollback (offline): index 1 becomes default
  const rb = ok(ours(['admin', 'rollback', sr(sysroot)], MUT));
  assert.match(rb.stdout, /bootconfig swap: (yes|no)/);
  let s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.deployserial), [0, 1]);
  // undeploy
  const bad = ours(['admin', 'undeploy', sr(sysroot), '5']);
  assert.equal(bad.stderr, 'error: Out of range deployment index 5, expected < 2\n');
  const u = ok(ours(['admin', 'undeploy', sr(sysroot), '1']));
  assert.equal(u.stdout, `Transaction complete; bootconfig swap: yes; bootversion: boot.${s.bootversion === 0 ? 1 : 0}.1, deployment count change: -1\nDeleted deployment ${c1}.1\n`);
  assert.ok(!fs.existsSync(path.join(sysroot, `ostree/deploy/testos/deploy/${c1}.1`)));
  s = await Sysroot.open(sysroot); await s.load();
  assert.equal(s.deployments.length, 1);
  ok(ours(['admin', 'cleanup', sr(sysroot)]));
  assert.deepEqual(checkBootConfigComplete(sysroot), []);
  assert.equal(ok(upstream(['admin', 'status', sr(sysroot)])).stdout, ok(ours(['admin', 'status', sr(sysroot)])).stdout);
});

test('grub2: generated grub.cfg, /boot prefix on a single filesystem, grub.cfg symlink, auto-detection via a dangling link', async () => {
  const r = root();
  const { sysroot } = await newSysroot(r);
  fs.mkdirSync(path.join(sysroot, 'boot/grub'));
  fs.symlinkSync('../loader/grub.cfg', path.join(sysroot, 'boot/grub/grub.cfg')); // dangling: auto → grub2
  ok(upstream(['--repo=' + path.join(sysroot, 'ostree/repo'), 'config', 'set', 'sysroot.grub-timeout', '1']));
  const res = ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg=root=LABEL=ROOT', 'testos/stable'], MUT));
  assert.match(res.stdout, /^Transaction complete; bootconfig swap: yes; bootversion: boot.1.1, deployment count change: 1$/m);
  const cfg = fs.readFileSync(path.join(sysroot, 'boot/grub/grub.cfg'), 'utf8');
  const bootcsum = /testos-([0-9a-f]{64})/.exec(cfg)![1]!;
  assert.match(cfg, /^serial --unit=0 --speed=115200$/m);
  assert.match(cfg, /^terminal_input serial console$/m);
  assert.match(cfg, /^terminal_output serial console$/m);
  assert.match(cfg, /^default=0$/m);
  assert.match(cfg, /^timeout=1$/m);
  assert.ok(cfg.includes(`menuentry 'Test OS 42 1.0 (ostree:0)' {\n\tlinux /boot/ostree/testos-${bootcsum}/vmlinuz-6.1.0 root=LABEL=ROOT ostree=/ostree/boot.1/testos/${bootcsum}/0\n\tinitrd /boot/ostree/testos-${bootcsum}/initramfs-6.1.0.img\n}\n`));
  assert.equal(fs.readlinkSync(path.join(sysroot, 'boot/grub/grub.cfg')), '../loader/grub.cfg');
  // An installer-written regular grub.cfg is replaced by the link after the swap.
  fs.rmSync(path.join(sysroot, 'boot/grub/grub.cfg'));
  fs.writeFileSync(path.join(sysroot, 'boot/grub/grub.cfg'), '# installer\n');
  ok(upstream(['--repo=' + path.join(sysroot, 'ostree/repo'), 'config', 'set', 'sysroot.bootloader', 'grub2']));
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  assert.equal(fs.readlinkSync(path.join(sysroot, 'boot/grub/grub.cfg')), '../loader/grub.cfg');
  const cfg2 = fs.readFileSync(path.join(sysroot, 'boot/grub/grub.cfg'), 'utf8');
  assert.equal((cfg2.match(/^menuentry /gm) ?? []).length, 2);
  assert.ok(cfg2.indexOf('(ostree:0)') < cfg2.indexOf('(ostree:1)'));
  // A quote in a title is escaped for GRUB.
  const { grubQuote } = await import('../../src/sysroot/bootloader/grub2.js');
  assert.equal(grubQuote("it's"), `'it'\\''s'`);
  // Invalid bootloader value
  ok(upstream(['--repo=' + path.join(sysroot, 'ostree/repo'), 'config', 'set', 'sysroot.bootloader', 'lilo']));
  const bad = ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /Invalid bootloader configuration: 'lilo'/);
  assert.deepEqual(checkBootConfigComplete(sysroot), []);
});

test('upgrade: new commit, No update available, downgrade refused unless --allow-downgrade, /etc changes carried', async () => {
  const r = root();
  const { sysroot, tree, c1 } = await newSysroot(r);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  const dep1 = path.join(sysroot, `ostree/deploy/testos/deploy/${c1}.0`);
  fs.writeFileSync(path.join(dep1, 'etc/aconf'), 'local edit\n');
  fs.writeFileSync(path.join(dep1, 'etc/added'), 'new\n');
  assert.equal(ok(ours(['admin', 'config-diff', sr(sysroot), '--os=testos'])).stdout, 'M    aconf\nA    added\n');
  assert.equal(ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos'])).stdout, 'No update available.\n');
  makeTree(tree, { kernel: 'kernel v2\n', etc: { aconf: 'default\n', other: 'x\n' } });
  const c2 = await commitTree(path.join(sysroot, 'ostree/repo'), tree, 'testos/stable', '2.0');
  const up = ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos'], MUT));
  assert.equal(up.stdout, 'Copying /etc changes: 1 modified, 0 removed, 1 added\nBootloader updated; bootconfig swap: yes; bootversion: boot.0.1, deployment count change: 1\n');
  const dep2 = path.join(sysroot, `ostree/deploy/testos/deploy/${c2}.0`);
  assert.equal(fs.readFileSync(path.join(dep2, 'etc/aconf'), 'utf8'), 'local edit\n');
  assert.equal(fs.readFileSync(path.join(dep2, 'etc/added'), 'utf8'), 'new\n');
  assert.equal(fs.readFileSync(path.join(dep2, 'etc/other'), 'utf8'), 'x\n');
  // older commit: refused, then allowed
  const old = await commitTree(path.join(sysroot, 'ostree/repo'), tree, 'testos/old', '0.5', 1000n);
  const down = ours(['admin', 'upgrade', sr(sysroot), '--os=testos', `--override-commit=${old}`]);
  assert.equal(down.status, 1);
  assert.match(down.stderr, /chronologically older.*--allow-downgrade/);
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', `--override-commit=${old}`, '--allow-downgrade'], MUT));
  const s = await Sysroot.open(sysroot); await s.load();
  assert.equal(s.deployments[0]!.csum, old);
  assert.equal(s.deployments[0]!.origin!.overrideCommit, old);
  assert.equal(s.deployments[1]!.csum, c2);
});

test('switch to another ref (local), error on the same ref', async () => {
  const r = root();
  const { sysroot, tree } = await newSysroot(r);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  makeTree(tree, { pretty: 'Test OS 43' });
  const c2 = await commitTree(path.join(sysroot, 'ostree/repo'), tree, 'testos/devel', '3.0');
  const same = ours(['admin', 'switch', sr(sysroot), '--os=testos', 'testos/stable']);
  assert.equal(same.stderr, 'error: Old and new refs are equal: testos/stable\n');
  ok(ours(['admin', 'switch', sr(sysroot), '--os=testos', 'testos/devel'], MUT));
  const s = await Sysroot.open(sysroot); await s.load();
  assert.equal(s.deployments[0]!.csum, c2);
  assert.equal(s.deployments[0]!.refspec, 'testos/devel');
  assert.match(readEntries(sysroot)['ostree-2-testos.conf']!, /^title Test OS 43 3.0 \(ostree:0\)$/m);
});

test('status --json follows docs/status-json.md', async () => {
  const r = root();
  const { sysroot, c1 } = await newSysroot(r);
  assert.deepEqual(JSON.parse(ok(ours(['admin', 'status', '--json', sr(sysroot)])).stdout), { deployments: [] });
  assert.equal(ok(ours(['admin', 'status', sr(sysroot)])).stdout, 'No deployments.\n');
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg=root=LABEL=ROOT', 'testos/stable'], MUT));
  const j = JSON.parse(ok(ours(['admin', 'status', '--json', sr(sysroot)])).stdout);
  assert.equal(j.deployments.length, 1);
  const d = j.deployments[0];
  assert.deepEqual(Object.keys(d).sort(), ['booted', 'checksum', 'finalization-locked', 'index', 'kargs', 'origin', 'pending', 'pinned', 'refspec',
    'rollback', 'serial', 'soft-reboot-target', 'staged', 'stateroot', 'unlocked', 'version'].sort());
  assert.equal(d.checksum, c1);
  assert.equal(d.origin, 'testos/stable');
  assert.equal(d.refspec, 'testos/stable');
  assert.equal(d['finalization-locked'], false);
  assert.equal(d['soft-reboot-target'], false);
  assert.equal(d.version, '1.0');
  assert.equal(d.kargs[0], 'root=LABEL=ROOT');
  assert.match(d.kargs[1], /^ostree=\/ostree\/boot.1\/testos\//);
  assert.equal(d.unlocked, 'none');
  assert.equal(d.booted, false);
  // $OSTREE_SYSROOT instead of --sysroot
  assert.equal(ok(ours(['admin', 'status'], { OSTREE_SYSROOT: sysroot })).stdout, ok(ours(['admin', 'status', sr(sysroot)])).stdout);
});

test('bad input: unknown refspec, unknown stateroot, tree without kernel, malformed BLS entry and origin', async () => {
  const r = root();
  const { sysroot, tree } = await newSysroot(r);
  const unk = ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/nope']);
  assert.equal(unk.status, 1);
  assert.match(unk.stderr, /^error: .*testos\/nope/);
  const nos = ours(['admin', 'deploy', sr(sysroot), '--os=nosuch', 'testos/stable']);
  assert.equal(nos.status, 1);
  assert.match(nos.stderr, /nosuch/);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  makeTree(tree, { noKernel: true });
  await commitTree(path.join(sysroot, 'ostree/repo'), tree, 'testos/nokernel', '9');
  const nok = ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/nokernel']);
  assert.equal(nok.status, 1);
  assert.match(nok.stderr, /Failed to find kernel/);
  const s = await Sysroot.open(sysroot); await s.load();
  assert.equal(s.deployments.length, 1);
  assert.equal(fs.readdirSync(path.join(sysroot, 'ostree/deploy/testos/deploy')).filter((x) => !x.endsWith('.origin')).length, 1);
  // malformed origin
  const origin = path.join(sysroot, `ostree/deploy/testos/deploy/${s.deployments[0]!.name}.origin`);
  const good = fs.readFileSync(origin, 'utf8');
  fs.writeFileSync(origin, 'refspec=x\n');
  const bo = ours(['admin', 'status', sr(sysroot)]);
  assert.equal(bo.status, 1);
  assert.match(bo.stderr, /\.origin/);
  fs.writeFileSync(origin, good);
  // malformed BLS entry (no ostree=)
  const entry = path.join(sysroot, 'boot/loader/entries/ostree-1-testos.conf');
  const goodEntry = fs.readFileSync(entry, 'utf8');
  fs.writeFileSync(entry, 'title broken\nversion 1\noptions quiet\n');
  const be = ours(['admin', 'status', sr(sysroot)]);
  assert.equal(be.status, 1);
  assert.match(be.stderr, /ostree-1-testos.conf.*No ostree= kernel argument/);
  const bd = ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable']);
  assert.equal(bd.status, 1);
  fs.writeFileSync(entry, goodEntry);
  ok(ours(['admin', 'status', sr(sysroot)]));
  // /etc entry turning into a directory: the merge refuses, nothing lost
  const dep = s.deployments[0]!;
  fs.writeFileSync(path.join(s.deploymentDirectory(dep), 'etc/aconf'), 'admin edit\n');
  makeTree(tree, { etc: { 'aconf/inner': 'now a dir\n' } });
  await commitTree(path.join(sysroot, 'ostree/repo'), tree, 'testos/stable', '2.0');
  const conflict = ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable']);
  assert.equal(conflict.status, 1);
  assert.match(conflict.stderr, /aconf/);
  const s2 = await Sysroot.open(sysroot); await s2.load();
  assert.equal(s2.deployments.length, 1);
  assert.ok(s2.deployments[0]!.sameAs(dep));
  assert.equal(fs.readFileSync(path.join(s2.deploymentDirectory(dep), 'etc/aconf'), 'utf8'), 'admin edit\n');
  assert.deepEqual(checkBootConfigComplete(sysroot), []);
  // a retry after fixing the tree works, and the half-made deployment was cleaned up
  makeTree(tree, {});
  await commitTree(path.join(sysroot, 'ostree/repo'), tree, 'testos/stable', '3.0');
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  const s3 = await Sysroot.open(sysroot); await s3.load();
  assert.equal(s3.deployments.length, 2);
  assert.equal(fs.readdirSync(path.join(sysroot, 'ostree/deploy/testos/deploy')).filter((x) => !x.endsWith('.origin')).length, 2);
});

test('two deploys at once: the second waits for the sysroot lock, both succeed', async () => {
  const r = root();
  const { sysroot } = await newSysroot(r);
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], MUT));
  // Hold the lock from this process, start a deploy, release after 1.5 s.
  const s = await Sysroot.open(sysroot);
  await s.lock();
  const child = spawn(process.execPath, [CLI, 'admin', 'deploy', sr(sysroot), '--os=testos', 'testos/stable'], { env: { ...process.env, ...MUT } });
  let out = '';
  child.stdout.on('data', (b) => { out += String(b); });
  let err = '';
  child.stderr.on('data', (b) => { err += String(b); });
  await new Promise((res) => setTimeout(res, 1500));
  assert.match(out, /^Waiting for sysroot lock\.\.\.$/m);
  assert.doesNotMatch(out, /Transaction complete|Bootloader updated/);
  s.unlock();
  const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? -1)));
  assert.equal(code, 0, err);
  assert.match(out, /deployment count change: 1/);
  const s2 = await Sysroot.open(sysroot); await s2.load();
  assert.equal(s2.deployments.length, 2);
});

test('upgrade pulls from a file:// remote by default (--deploy-only does not, --pull-only does not deploy); switch pulls too', async () => {
  const r = root();
  const { sysroot, tree } = await newSysroot(r);
  const { Repo } = await import('../../src/repo/repo.js');
  const srcRepo = path.join(r, 'src-repo');
  await Repo.create(srcRepo, 'archive');
  const c1 = await commitTree(srcRepo, tree, 'testos/stable', '10');
  const sysRepo = path.join(sysroot, 'ostree/repo');
  await (await Repo.open(sysRepo)).addRemote('src', `file://${srcRepo}`, { 'gpg-verify': 'false' });
  // nothing pulled yet: upgrade without a deployment fails clearly, deploy of the remote ref fails
  const nodep = ours(['admin', 'upgrade', sr(sysroot), '--os=testos']);
  assert.equal(nodep.stderr, "error: No previous deployment for OS 'testos'\n");
  const { pullLocal } = await import('../../src/repo/pull/local.js');
  await pullLocal(await Repo.open(sysRepo), srcRepo, { refs: ['testos/stable'], remote: 'src' });
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', 'src:testos/stable'], MUT));
  makeTree(tree, { kernel: 'k2\n' });
  const c2 = await commitTree(srcRepo, tree, 'testos/stable', '11');
  assert.equal(ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--deploy-only'], MUT)).stdout, 'No update available.\n');
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--pull-only'], MUT));
  let s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.csum), [c1], '--pull-only deploys nothing');
  assert.equal(await (await Repo.open(sysRepo)).resolveRev('src:testos/stable'), c2, '--pull-only moved the remote ref');
  const both = ours(['admin', 'upgrade', sr(sysroot), '--os=testos', '--pull-only', '--deploy-only']);
  assert.equal(both.stderr, 'error: Cannot simultaneously specify --pull-only and --deploy-only\n');
  ok(ours(['admin', 'upgrade', sr(sysroot), '--os=testos'], MUT));
  s = await Sysroot.open(sysroot); await s.load();
  assert.deepEqual(s.deployments.map((d) => d.csum), [c2, c1]);
  assert.equal(s.deployments[0]!.refspec, 'src:testos/stable');
  const c3 = await commitTree(srcRepo, tree, 'testos/devel', '12');
  const sw = ok(ours(['admin', 'switch', sr(sysroot), '--os=testos', 'testos/devel'], MUT));
  assert.match(sw.stdout, /^Deleting ref 'src:testos\/stable'$/m);
  s = await Sysroot.open(sysroot); await s.load();
  assert.equal(s.deployments[0]!.csum, c3);
  assert.equal(s.deployments[0]!.refspec, 'src:testos/devel');
  assert.equal(ok(upstream(['admin', 'status', sr(sysroot)])).stdout, ok(ours(['admin', 'status', sr(sysroot)])).stdout);
});

test('separate /boot on a loop-mounted ext4: real FIFREEZE/FITHAW cycle, GRUB paths without /boot prefix', async () => {
  const r = root();
  const { sysroot } = await newSysroot(r, { bootloader: 'grub2' });
  const img = path.join(r, 'boot.img');
  fs.writeFileSync(img, Buffer.alloc(0));
  fs.truncateSync(img, 32 * 1024 * 1024);
  const { execFileSync, spawnSync } = await import('node:child_process');
  execFileSync('mkfs.ext4', ['-q', '-F', img]);
  const bootDir = path.join(sysroot, 'boot');
  execFileSync('mount', ['-o', 'loop', img, bootDir]);
  try {
    assert.notEqual(fs.statSync(bootDir).dev, fs.statSync(path.join(sysroot, 'ostree/repo')).dev);
    const res = ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg=root=LABEL=ROOT', 'testos/stable'], { ...MUT, OSTREE_TS_SYNC_TRACE: '1' });
    ok(res);
    assert.match(res.stderr, /^sync: FIFREEZE\/FITHAW \/boot$/m);
    assert.match(res.stdout, /^Transaction complete; bootconfig swap: yes; bootversion: boot.1.1, deployment count change: 1$/m);
    const cfg = fs.readFileSync(path.join(bootDir, 'loader/grub.cfg'), 'utf8');
    assert.match(cfg, /^\tlinux \/ostree\/testos-[0-9a-f]{64}\/vmlinuz-6.1.0 root=LABEL=ROOT ostree=/m);
    assert.match(cfg, /^\tinitrd \/ostree\/testos-[0-9a-f]{64}\/initramfs-6.1.0.img$/m);
    assert.equal(fs.readlinkSync(path.join(bootDir, 'grub/grub.cfg')), '../loader/grub.cfg');
    // the kernel was copied across filesystems, not hardlinked
    const kdir = fs.readdirSync(path.join(bootDir, 'ostree')).find((n) => n.startsWith('testos-'))!;
    assert.equal(fs.readFileSync(path.join(bootDir, 'ostree', kdir, 'vmlinuz-6.1.0'), 'utf8'), 'kernel 6.1.0\n');
    assert.deepEqual(checkBootConfigComplete(sysroot), []);
    // the filesystem is usable (thawed) afterwards
    fs.writeFileSync(path.join(bootDir, 'probe'), 'x');
    assert.equal(ok(upstream(['admin', 'status', sr(sysroot)])).stdout, ok(ours(['admin', 'status', sr(sysroot)])).stdout);
  } finally {
    spawnSync('umount', [bootDir]);
  }
});

test('--karg-proc-cmdline imports the running command line minus BOOT_IMAGE and initrd', async () => {
  const r = root();
  const { sysroot } = await newSysroot(r);
  const cmdline = path.join(r, 'cmdline');
  fs.writeFileSync(cmdline, 'BOOT_IMAGE=/vmlinuz-6.1 root=UUID=abc ro initrd=/x.img quiet ostree=/ostree/boot.0/old/x/0\n');
  ok(ours(['admin', 'deploy', sr(sysroot), '--os=testos', '--karg-proc-cmdline', '--karg-append=extra', 'testos/stable'], { ...MUT, OSTREE_TS_PROC_CMDLINE: cmdline }));
  assert.match(readEntries(sysroot)['ostree-1-testos.conf']!, /^options root=UUID=abc ro quiet ostree=\/ostree\/boot.1\/testos\/[0-9a-f]{64}\/0 extra$/m);
});
