/**
 * systemd-boot backend: entry names and counters, the ESP mirror through the real CLI, read
 * back by systemd's own `bootctl` (252: its entry order and default choice are systemd-boot's),
 * and crash safety: the deploy is killed at every fault point (OSTREE_TS_FAULT) and the ESP
 * must still hold a complete live set naming existing deployments; the mirror then converges.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpfsScratch, ours, ok, commitTree, makeTree, newSysroot, type Scratch } from '../../common/sysroot-helpers.js';
import {
  formatEspEntryName, formatLoaderConf, parseEspEntryName, parseLiveSlot,
} from '../../../src/sysroot/bootloader/systemd-boot-names.js';
import { mirrorEntries } from '../../../src/sysroot/bootloader/systemd-boot-mirror.js';
import { KeyFile } from '../../../src/glib/keyfile.js';
import { selectBootloader } from '../../../src/sysroot/bootloader/registry.js';

const SDBOOT_EFI = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';
const MUT = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };

let scratch: Scratch;
before(() => { scratch = tmpfsScratch('ostree-ts-sdboot-'); });
after(() => { scratch.cleanup(); });

test('entry names: slot, K, stateroot and the BLS boot counter round-trip', () => {
  for (const n of ['ostree-a-2-debian.conf', 'ostree-b-1-my-os+3.conf', 'ostree-b-10-x+2-1.conf', 'ostree-a-1-debian+0-3.conf']) {
    const p = parseEspEntryName(n);
    assert.ok(p, n);
    assert.equal(formatEspEntryName(p), n);
  }
  assert.deepEqual(parseEspEntryName('ostree-b-10-x+2-1.conf'), { slot: 'b', k: 10, stateroot: 'x', counter: { left: 2, done: 1 } });
  assert.deepEqual(parseEspEntryName('ostree-a-1-my-os+3.conf'), { slot: 'a', k: 1, stateroot: 'my-os', counter: { left: 3 } });
  for (const n of ['ostree-1-debian.conf', 'ostree-c-1-x.conf', 'other.conf', 'ostree-a-1-x.conf.tmp-1', '.ostree-a-1-x.conf.tmp-ab']) {
    assert.equal(parseEspEntryName(n), null, n);
  }
});

test('loader.conf: default names the live slot; user settings kept, timeout added once', () => {
  const c = formatLoaderConf('timeout 0\nconsole-mode keep\ndefault something-else\n', 'b');
  assert.equal(parseLiveSlot(c), 'b');
  assert.match(c, /^timeout 0$/m);
  assert.match(c, /^console-mode keep$/m);
  assert.doesNotMatch(c, /something-else/);
  const c2 = formatLoaderConf(c, 'a');
  assert.equal(parseLiveSlot(c2), 'a');
  assert.equal(c2.split('\n').filter((l) => l.startsWith('timeout')).length, 1);
  assert.equal(parseLiveSlot(formatLoaderConf('', 'a')), 'a');
  assert.match(formatLoaderConf('', 'a'), /^timeout 3$/m);
  assert.equal(parseLiveSlot('default ostree-a-*\ndefault foo\n'), null);
  assert.equal(parseLiveSlot(''), null);
});

/** A sysroot whose ESP (boot/efi) has systemd-boot installed the way `bootctl install` leaves it. */
async function sdbootSysroot(name: string): Promise<{ root: string; sysroot: string; tree: string; c1: string; esp: string }> {
  const root = path.join(scratch.dir, name);
  fs.mkdirSync(root);
  const s = await newSysroot(root);
  const esp = path.join(s.sysroot, 'boot/efi');
  fs.mkdirSync(path.join(esp, 'EFI/systemd'), { recursive: true });
  fs.mkdirSync(path.join(esp, 'loader/entries'), { recursive: true });
  fs.copyFileSync(SDBOOT_EFI, path.join(esp, 'EFI/systemd/systemd-bootx64.efi'));
  return { root, ...s, esp };
}

const deploy = (sysroot: string, env: Record<string, string> = {}) =>
  ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=testos', '--karg=root=LABEL=ROOT', 'testos/stable'], { ...MUT, ...env });

function espEntries(esp: string): string[] {
  return fs.readdirSync(path.join(esp, 'loader/entries')).sort();
}

/** `bootctl list` on a plain directory: bind-mounted onto itself (bootctl wants a mount root). */
function bootctlList(esp: string): string {
  const r = spawnSync('unshare', ['--mount', 'sh', '-c',
    'mount --bind "$1" "$1" && exec bootctl --esp-path="$1" --boot-path="$1" --no-variables --no-pager list', 'sh', esp],
  { encoding: 'utf8', env: { ...process.env, SYSTEMD_RELAX_ESP_CHECKS: '1' } });
  assert.equal(r.status, 0, `bootctl list: ${r.stderr}`);
  return r.stdout;
}

/** bootctl's entries: id, title, whether default, tries left, the source file. */
function bootctlEntries(esp: string): Array<{ id: string; isDefault: boolean; tries?: string; options: string }> {
  return bootctlList(esp).split(/\n\s*\n/).filter((b) => /\bid: /.test(b)).map((b) => ({
    id: /\bid: (\S+)/.exec(b)![1]!,
    isDefault: /title: .*\(default\)/.test(b),
    ...(/tries: (.*)/.exec(b) ? { tries: /tries: (.*)/.exec(b)![1]!.trim() } : {}),
    options: /options: (.*)/.exec(b)?.[1] ?? '',
  }));
}

test('auto-detected; the ESP mirrors /boot/loader; bootctl lists the entries and picks the new default', async () => {
  const s = await sdbootSysroot('mirror');
  const r = ok(deploy(s.sysroot));
  assert.match(r.stdout + r.stderr, /Bootloader updated; bootconfig swap: yes/);
  assert.deepEqual(espEntries(s.esp), ['ostree-a-1-testos.conf']);
  assert.equal(parseLiveSlot(fs.readFileSync(path.join(s.esp, 'loader/loader.conf'), 'utf8')), 'a');
  makeTree(s.tree, { kernel: 'kernel v2\n' });
  const c2 = await commitTree(path.join(s.sysroot, 'ostree/repo'), s.tree, 'testos/stable', '2.0');
  ok(deploy(s.sysroot));
  assert.deepEqual(espEntries(s.esp), ['ostree-b-1-testos.conf', 'ostree-b-2-testos.conf']);
  // kernels: one directory per bootcsum, both referenced; the files equal /boot's
  for (const e of espEntries(s.esp)) {
    const text = fs.readFileSync(path.join(s.esp, 'loader/entries', e), 'utf8');
    for (const m of text.matchAll(/^(?:linux|initrd) (\S+)$/gm)) {
      assert.deepEqual(fs.readFileSync(path.join(s.esp, m[1]!)), fs.readFileSync(path.join(s.sysroot, 'boot', m[1]!)), m[1]);
    }
  }
  assert.equal(fs.readdirSync(path.join(s.esp, 'ostree')).length, 2);
  const list = bootctlEntries(s.esp);
  assert.deepEqual(list.map((e) => e.id), ['ostree-b-2-testos.conf', 'ostree-b-1-testos.conf']);
  assert.ok(list[0]!.isDefault, bootctlList(s.esp));
  const dep = (opts: string) => fs.realpathSync(path.join(s.sysroot, /ostree=(\S+)/.exec(opts)![1]!));
  assert.match(dep(list[0]!.options), new RegExp(`${c2}\\.0$`));
  assert.match(dep(list[1]!.options), new RegExp(`${s.c1}\\.0$`));
  // undeploy the old one: the set shrinks, its kernel leaves the ESP
  ok(ours(['admin', 'undeploy', `--sysroot=${s.sysroot}`, '1'], MUT));
  assert.deepEqual(espEntries(s.esp), ['ostree-a-1-testos.conf']);
  assert.equal(fs.readdirSync(path.join(s.esp, 'ostree')).length, 1);
  // running the mirror again changes nothing
  assert.equal(mirrorEntries(s.sysroot, s.esp, { tries: 0 }).changed, false);
});

test('boot counting: new entries get +N, blessed ones stay blessed, exhausted ones sort last (bootctl)', async () => {
  const s = await sdbootSysroot('counting');
  ok(deploy(s.sysroot));
  ok(ours([`--repo=${path.join(s.sysroot, 'ostree/repo')}`, 'config', 'set', 'sysroot.boot-counting-tries', '3']));
  // The first deployment has no counter (written before counting was configured): it is "good".
  makeTree(s.tree, { kernel: 'kernel v2\n' });
  await commitTree(path.join(s.sysroot, 'ostree/repo'), s.tree, 'testos/stable', '2.0');
  ok(deploy(s.sysroot));
  assert.deepEqual(espEntries(s.esp), ['ostree-b-1-testos.conf', 'ostree-b-2-testos+3.conf']);
  let list = bootctlEntries(s.esp);
  assert.equal(list[0]!.id, 'ostree-b-2-testos.conf');
  assert.ok(list[0]!.isDefault);
  assert.match(list[0]!.tries ?? '', /^3 left/);
  // systemd-boot tried it once, then (simulated) all tries ran out: +0-3 sorts last, the old one is default
  const ent = path.join(s.esp, 'loader/entries');
  fs.renameSync(path.join(ent, 'ostree-b-2-testos+3.conf'), path.join(ent, 'ostree-b-2-testos+0-3.conf'));
  list = bootctlEntries(s.esp);
  assert.deepEqual(list.map((e) => e.id), ['ostree-b-1-testos.conf', 'ostree-b-2-testos.conf'], bootctlList(s.esp));
  assert.ok(list[0]!.isDefault, bootctlList(s.esp));
  // A further deploy (offline: it keeps the new one and the previous default) carries the
  // exhausted counter forward: the bad deployment stays last
  makeTree(s.tree, { kernel: 'kernel v3\n' });
  await commitTree(path.join(s.sysroot, 'ostree/repo'), s.tree, 'testos/stable', '3.0');
  ok(deploy(s.sysroot));
  const names = espEntries(s.esp);
  assert.deepEqual(names, ['ostree-a-1-testos+0-3.conf', 'ostree-a-2-testos+3.conf'], names.join(' '));
  assert.ok(bootctlEntries(s.esp)[0]!.isDefault);
  // systemd-bless-boot's rename: the next write keeps it without a counter
  fs.renameSync(path.join(ent, 'ostree-a-2-testos+3.conf'), path.join(ent, 'ostree-a-2-testos.conf'));
  ok(ours(['admin', 'undeploy', `--sysroot=${s.sysroot}`, '1'], MUT));
  assert.deepEqual(espEntries(s.esp), ['ostree-b-1-testos.conf']);
});

test('explicit sysroot.bootloader=systemd-boot without an ESP: ECONFIG naming where it looked; nothing switched', async () => {
  const root = path.join(scratch.dir, 'noesp');
  fs.mkdirSync(root);
  const s = await newSysroot(root, { bootloader: 'systemd-boot' });
  const r = deploy(s.sysroot);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no EFI system partition found at .*\/efi or .*\/boot\/efi/);
  assert.ok(!fs.existsSync(path.join(s.sysroot, 'boot/loader')) || fs.readdirSync(path.join(s.sysroot, 'boot/loader/entries')).length === 0);
});

/** The live slot's entries are complete: files present and equal to /boot's, deployments exist. */
function liveSet(sysroot: string, esp: string): string[] {
  const conf = fs.readFileSync(path.join(esp, 'loader/loader.conf'), 'utf8');
  const slot = parseLiveSlot(conf);
  assert.ok(slot, `loader.conf names no slot: ${conf}`);
  const out: string[] = [];
  for (const e of espEntries(esp)) {
    if (parseEspEntryName(e)?.slot !== slot) continue;
    const text = fs.readFileSync(path.join(esp, 'loader/entries', e), 'utf8');
    for (const m of text.matchAll(/^(?:linux|initrd) (\S+)$/gm)) {
      assert.deepEqual(fs.readFileSync(path.join(esp, m[1]!)), fs.readFileSync(path.join(sysroot, 'boot', m[1]!)), `${e}: ${m[1]}`);
    }
    const arg = /ostree=(\S+)/.exec(text)![1]!;
    assert.ok(fs.existsSync(path.join(sysroot, arg, 'usr/lib/os-release')), `${e}: ${arg} is not a complete deployment`);
    out.push(/^# ostree-deployment (\S+)$/m.exec(text)![1]!);
  }
  return out;
}

test('crash at every step of a deploy: the ESP always has a complete live set, old or new; cleanup and the mirror converge', async () => {
  const s = await sdbootSysroot('fault');
  ok(deploy(s.sysroot));
  ok(deploy(s.sysroot));
  ok(ours([`--repo=${path.join(s.sysroot, 'ostree/repo')}`, 'config', 'set', 'sysroot.boot-counting-tries', '2']));
  makeTree(s.tree, { kernel: 'kernel v2\n', initramfs: 'initramfs v2\n' });
  await commitTree(path.join(s.sysroot, 'ostree/repo'), s.tree, 'testos/stable', '2.0');
  const oldSet = liveSet(s.sysroot, s.esp);
  const done = path.join(s.root, 'done');
  execFileSync('cp', ['-a', s.sysroot, done]);
  ok(deploy(done));
  const newSet = liveSet(done, path.join(done, 'boot/efi'));
  assert.equal(newSet.length, 2);
  const work = path.join(s.root, 'work');
  let k = 1, sawOld = 0, sawNew = 0;
  for (; k < 80; k++) {
    fs.rmSync(work, { recursive: true, force: true });
    execFileSync('cp', ['-a', s.sysroot, work]);
    const r = deploy(work, { OSTREE_TS_FAULT: `deploy:${k}` });
    if (r.status === 0) break;
    assert.equal(r.status, 99, `deploy:${k}: ${r.stderr}`);
    const esp = path.join(work, 'boot/efi');
    const live = liveSet(work, esp);
    const same = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
    const isOld = same(live, oldSet);
    const isNew = same(live, newSet);
    assert.ok(isOld || isNew, `deploy:${k}: live set ${live.join(',')} is neither the old nor the new set`);
    if (isOld) sawOld++; else sawNew++;
    // bootctl agrees there is a default, and it is a complete entry
    assert.ok(bootctlEntries(esp).some((e) => e.isDefault), `deploy:${k}: bootctl shows no default`);
    // `admin cleanup` removes the other bootversion's links, which a cut-short ESP switch still
    // names: it finishes the switch first, so the live set stays bootable
    ok(ours(['admin', 'cleanup', `--sysroot=${work}`], MUT));
    liveSet(work, esp);
    // converge: when /boot/loader was swapped, mirroring again makes the ESP the new set
    mirrorEntries(work, esp, { tries: 2 });
    const after = liveSet(work, esp);
    const loaderCount = fs.readdirSync(path.join(work, 'boot/loader/entries')).length;
    assert.equal(after.length, loaderCount, `deploy:${k}: after re-mirroring the ESP has ${after.length} entries, /boot ${loaderCount}`);
    const stray = espEntries(esp).filter((n) => !n.startsWith(`ostree-${parseLiveSlot(fs.readFileSync(path.join(esp, 'loader/loader.conf'), 'utf8'))}-`));
    assert.deepEqual(stray, [], `deploy:${k}: entries of the other slot remain`);
  }
  assert.ok(k < 80, 'deploy never completed');
  assert.ok(sawOld > 5 && sawNew >= 3, `crash points: ${sawOld} left the old set live, ${sawNew} the new one`);
});

test('registry: `systemd-boot` is a valid setting; auto picks it over a leftover grub.cfg only when the ESP has loader/ + systemd-boot', async () => {
  const root = path.join(scratch.dir, 'registry');
  fs.mkdirSync(path.join(root, 'boot/grub'), { recursive: true });
  fs.symlinkSync('../loader/grub.cfg', path.join(root, 'boot/grub/grub.cfg'));
  const kf = new KeyFile();
  kf.set('sysroot', 'bootloader', 'systemd-boot');
  assert.equal(selectBootloader(root, kf).name, 'systemd-boot');
  assert.equal(selectBootloader(root, undefined).name, 'grub2');
  // An ESP with GRUB only (shim + grubx64.efi, no loader/): still grub2
  fs.mkdirSync(path.join(root, 'boot/efi/EFI/BOOT'), { recursive: true });
  fs.writeFileSync(path.join(root, 'boot/efi/EFI/BOOT/BOOTX64.EFI'), 'not systemd-boot');
  assert.equal(selectBootloader(root, undefined).name, 'grub2');
  fs.mkdirSync(path.join(root, 'boot/efi/loader'));
  assert.equal(selectBootloader(root, undefined).name, 'grub2');
  // systemd-boot as the removable-media binary only (its LoaderInfo marker) is enough
  fs.copyFileSync(SDBOOT_EFI, path.join(root, 'boot/efi/EFI/BOOT/BOOTX64.EFI'));
  assert.equal(selectBootloader(root, undefined).name, 'systemd-boot');
  fs.rmSync(path.join(root, 'boot/efi/EFI/BOOT/BOOTX64.EFI'));
  fs.mkdirSync(path.join(root, 'boot/efi/EFI/systemd'));
  fs.copyFileSync(SDBOOT_EFI, path.join(root, 'boot/efi/EFI/systemd/systemd-bootx64.efi'));
  assert.equal(selectBootloader(root, undefined).name, 'systemd-boot');
});
