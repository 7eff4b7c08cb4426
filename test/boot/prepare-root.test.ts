/**
 * boot/ostree-prepare-root.sh: resolution and error messages (dry run on a fake sysroot), and
 * the real mount rearrangement inside a private mount namespace on a tmpfs (unshare -m).
 * Also: every shell script in boot/ parses (sh -n), the initramfs-tools local-bottom script,
 * the hold/boot-complete units and their CLI verbs, and the dracut module's functions with stubbed dracut helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../common/tmp.js';
import { runModuleSetup } from './dracut-module.js';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BOOT = path.join(PROJECT, 'boot');
const PREPARE = path.join(BOOT, 'ostree-prepare-root.sh');
const CSUM = 'b'.repeat(64);
const COMMIT = 'c'.repeat(64);

/** A fake physical root: ostree/deploy/os/deploy/<commit>.0 and ostree/boot.1 links. */
function fakeSysroot(): { dir: string; sysroot: string; deploy: string; cmdline: string; run: string } {
  const dir = tempDir('ostree-prep-');
  const sysroot = path.join(dir, 'sysroot');
  const deploy = path.join(sysroot, `ostree/deploy/os/deploy/${COMMIT}.0`);
  for (const d of ['usr/bin', 'etc', 'var', 'sysroot', 'boot']) fs.mkdirSync(path.join(deploy, d), { recursive: true });
  fs.writeFileSync(path.join(deploy, 'usr/bin/marker'), 'usr\n');
  fs.mkdirSync(path.join(sysroot, 'ostree/deploy/os/var'), { recursive: true });
  fs.mkdirSync(path.join(sysroot, 'ostree/boot.1.0/os', CSUM), { recursive: true });
  fs.symlinkSync('boot.1.0', path.join(sysroot, 'ostree/boot.1'));
  fs.symlinkSync(`../../../deploy/os/deploy/${COMMIT}.0`, path.join(sysroot, `ostree/boot.1.0/os/${CSUM}/0`));
  fs.mkdirSync(path.join(sysroot, 'boot/loader.1'), { recursive: true });
  fs.symlinkSync('loader.1', path.join(sysroot, 'boot/loader'));
  const run = path.join(dir, 'run');
  fs.mkdirSync(run);
  return { dir, sysroot, deploy, cmdline: path.join(dir, 'cmdline'), run };
}

function prepare(f: ReturnType<typeof fakeSysroot>, cmdline: string, extraEnv: Record<string, string> = {}) {
  fs.writeFileSync(f.cmdline, cmdline + '\n');
  return spawnSync('sh', [PREPARE, f.sysroot], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], OSTREE_PREPARE_ROOT_CMDLINE: f.cmdline, OSTREE_PREPARE_ROOT_RUN: f.run, OSTREE_PREPARE_ROOT_ON_ERROR: 'exit', OSTREE_PREPARE_ROOT_DRY_RUN: '1', ...extraEnv },
  });
}

test('resolves ostree= through boot.1 and the bootlink to the deployment', () => {
  const f = fakeSysroot();
  const r = prepare(f, `root=LABEL=x rw ostree=/ostree/boot.1/os/${CSUM}/0 quiet`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), fs.realpathSync(f.deploy));
  assert.match(r.stderr, new RegExp(`ostree-prepare-root: deployment: /ostree/deploy/os/deploy/${COMMIT}\\.0`));
});

test('missing ostree=: says so, shows the command line and the boot links found', () => {
  const f = fakeSysroot();
  const r = prepare(f, 'root=LABEL=x rw');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ostree-prepare-root: error: no ostree= argument on the kernel command line \(it was: root=LABEL=x rw\)/);
  assert.match(r.stderr, new RegExp(`boot links found: /ostree/boot\\.1/os/${CSUM}/0`));
});

test('ostree= naming a missing boot link: says which path, lists what exists', () => {
  const f = fakeSysroot();
  const r = prepare(f, `ostree=/ostree/boot.1/os/${'0'.repeat(64)}/0`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error: ostree=\/ostree\/boot\.1\/os\/0{64}\/0: \S+\/sysroot\/ostree\/boot\.1\/os\/0{64}\/0 does not exist; boot links found: \/ostree\/boot\.1\/os\/b{64}\/0/);
});

test('a relative ostree= is rejected', () => {
  const f = fakeSysroot();
  const r = prepare(f, 'ostree=ostree/boot.1/os/x/0');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ostree=ostree\/boot\.1\/os\/x\/0 is not an absolute path/);
});

test('a dangling boot link is reported with its target', () => {
  const f = fakeSysroot();
  fs.symlinkSync('../../../deploy/os/deploy/nothing.0', path.join(f.sysroot, `ostree/boot.1.0/os/${CSUM}/1`));
  const r = prepare(f, `ostree=/ostree/boot.1/os/${CSUM}/1`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the link points to \.\.\/\.\.\/\.\.\/deploy\/os\/deploy\/nothing\.0, which is not a directory/);
});

test('a boot link leading outside ostree/deploy is refused', () => {
  const f = fakeSysroot();
  fs.mkdirSync(path.join(f.sysroot, 'elsewhere/usr'), { recursive: true });
  fs.symlinkSync('../../../../elsewhere', path.join(f.sysroot, `ostree/boot.1.0/os/${CSUM}/2`));
  const r = prepare(f, `ostree=/ostree/boot.1/os/${CSUM}/2`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /resolves to \S+\/elsewhere, outside \S+\/ostree\/deploy\/\*\/deploy\//);
});

test('a root filesystem without ostree/ is described as such', () => {
  const dir = tempDir('ostree-prep-');
  fs.mkdirSync(path.join(dir, 'sysroot/usr'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'cmdline'), 'ostree=/ostree/boot.1/os/x/0\n');
  const r = spawnSync('sh', [PREPARE, path.join(dir, 'sysroot')], {
    encoding: 'utf8', env: { PATH: process.env['PATH'], OSTREE_PREPARE_ROOT_CMDLINE: path.join(dir, 'cmdline'), OSTREE_PREPARE_ROOT_ON_ERROR: 'exit' },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /has no ostree directory: is root= the right filesystem\?/);
});

/** A sysroot on a tmpfs inside `unshare -m` (nothing leaks to the host's mounts), prepare-root run on it, then `after`. */
function inNamespace(opts: { env?: string; fstab?: string; after: string }): { status: number | null; out: string } {
  const dir = tempDir('ostree-prepns-');
  const script = `
set -e
D='${dir}'
mount -t tmpfs tmpfs "$D"
mkdir -p "$D/sysroot" "$D/run"
mount -t tmpfs tmpfs "$D/sysroot"
S="$D/sysroot"
DEP="$S/ostree/deploy/os/deploy/${COMMIT}.0"
mkdir -p "$DEP/usr/bin" "$DEP/etc" "$DEP/var" "$DEP/sysroot" "$DEP/boot" "$S/ostree/deploy/os/var" "$S/ostree/boot.1.0/os/${CSUM}" "$S/boot/loader.1"
echo usr > "$DEP/usr/bin/marker"
echo phys > "$S/physical-root-marker"
echo stateroot-var > "$S/ostree/deploy/os/var/marker"
${opts.fstab !== undefined ? `printf '%s' '${opts.fstab}' > "$DEP/etc/fstab"` : ''}
ln -s boot.1.0 "$S/ostree/boot.1"
ln -s ../../../deploy/os/deploy/${COMMIT}.0 "$S/ostree/boot.1.0/os/${CSUM}/0"
ln -s loader.1 "$S/boot/loader"
echo "ostree=/ostree/boot.1/os/${CSUM}/0" > "$D/cmdline"
${opts.env ?? ''} OSTREE_PREPARE_ROOT_CMDLINE="$D/cmdline" OSTREE_PREPARE_ROOT_RUN="$D/run" OSTREE_PREPARE_ROOT_ON_ERROR=exit OSTREE_PREPARE_ROOT_TMP="$D/tmpmove" sh '${PREPARE}' "$S"
${opts.after}
`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, out: r.stdout + r.stderr };
}

// "busybox mount": every mount with one `mount -a -T`; "mount": util-linux, one program per mount (dracut).
for (const mount of ['busybox mount', 'mount']) test(`real mounts in a private namespace (${mount}): deployment at SYSROOT, /usr read-only, /var the stateroot's, physical root at SYSROOT/sysroot`, () => {
  const { status, out } = inNamespace({ env: `OSTREE_PREPARE_ROOT_MOUNT='${mount}'`, after: `
echo "usr-marker=$(cat "$S/usr/bin/marker")"
echo "phys=$(cat "$S/sysroot/physical-root-marker")"
echo "var=$(cat "$S/var/marker")"
if touch "$S/usr/bin/new" 2>/dev/null; then echo usr-writable; else echo usr-readonly; fi
if touch "$S/etc/new" 2>/dev/null; then echo etc-writable; else echo etc-readonly; fi
if touch "$S/var/new" 2>/dev/null; then echo var-writable; else echo var-readonly; fi
test -e "$S/sysroot/ostree/deploy/os/var/new" && echo var-is-stateroot-var
test -L "$S/boot/loader" && echo boot-bound
test -e "$D/run/ostree-booted" && echo booted-stamp
stat -c 'booted-mode=%a' "$D/run/ostree-booted"
test -e "$D/run/ostree/initramfs-mount-var" && echo var-marker
test -e "$D/tmpmove" && echo tmp-left || echo tmp-removed
findmnt -n -r -o TARGET,OPTIONS "$S/usr" | sed "s|$D|D|"
` });
  assert.equal(status, 0, out);
  assert.match(out, /^usr-marker=usr$/m);
  assert.match(out, /^phys=phys$/m);
  assert.match(out, /^var=stateroot-var$/m);
  assert.match(out, /^usr-readonly$/m);
  assert.match(out, /^etc-writable$/m);
  assert.match(out, /^var-writable$/m);
  assert.match(out, /^var-is-stateroot-var$/m);
  assert.match(out, /^boot-bound$/m);
  assert.match(out, /^booted-stamp$/m);
  assert.match(out, /^booted-mode=640$/m);
  assert.match(out, /^var-marker$/m);
  assert.match(out, /^tmp-removed$/m);
  assert.match(out, /^D\/sysroot\/usr ro[,\s]/m);
  assert.match(out, /ostree-prepare-root: done in \d+ ms/);
});

const VAR_MOUNTED = `if mountpoint -q "$S/var"; then echo var-mounted; else echo var-not-mounted; fi
if [ -e "$D/run/ostree/initramfs-mount-var" ]; then echo var-marker; else echo no-var-marker; fi`;

for (const fstab of ['LABEL=var /var xfs defaults 0 2\n', 'LABEL=var //var/ xfs defaults 0 2\n']) {
  test(`the deployment's /etc/fstab mounting /var (${fstab.split(' ')[1]}): /var is left to it`, () => {
    const { status, out } = inNamespace({ fstab, after: VAR_MOUNTED });
    assert.equal(status, 0, out);
    assert.match(out, /^var-not-mounted$/m);
    assert.match(out, /^no-var-marker$/m);
  });
}

test('a /var/lib line or a comment in the deployment\'s fstab does not stop /var being mounted', () => {
  const { status, out } = inNamespace({ fstab: '# LABEL=x /var ext4\nLABEL=x /var/lib ext4 defaults 0 2\n', after: VAR_MOUNTED });
  assert.equal(status, 0, out);
  assert.match(out, /^var-mounted$/m);
});

test('OSTREE_PREPARE_ROOT_MOUNT_VAR=0 leaves /var to the generator; =1 mounts it despite fstab', () => {
  const off = inNamespace({ env: 'OSTREE_PREPARE_ROOT_MOUNT_VAR=0', after: VAR_MOUNTED });
  assert.equal(off.status, 0, off.out);
  assert.match(off.out, /^var-not-mounted$/m);
  assert.match(off.out, /^no-var-marker$/m);
  const on = inNamespace({ env: 'OSTREE_PREPARE_ROOT_MOUNT_VAR=1', fstab: 'LABEL=var /var xfs defaults 0 2\n', after: VAR_MOUNTED });
  assert.equal(on.status, 0, on.out);
  assert.match(on.out, /^var-mounted$/m);
  assert.match(on.out, /^var-marker$/m);
});

test('a stateroot without var: a warning naming it, the deployment still prepared, /var left to var.mount', () => {
  const { status, out } = inNamespace({ env: 'rmdir "$S/ostree/deploy/os/var" 2>/dev/null || rm -r "$S/ostree/deploy/os/var";', after: VAR_MOUNTED + '\necho "usr=$(cat "$S/usr/bin/marker")"' });
  assert.equal(status, 0, out);
  assert.match(out, /ostree-prepare-root: warning: the stateroot has no var directory \(\/ostree\/deploy\/os\/var\); not mounting \/var/);
  assert.match(out, /^var-not-mounted$/m);
  assert.match(out, /^usr=usr$/m);
});

test('hotfix: .usr-ovl-work present => /usr is a writable overlay', () => {
  const dir = tempDir('ostree-prepns-');
  const script = `
set -e
D='${dir}'
mount -t tmpfs tmpfs "$D"
mkdir -p "$D/sysroot" "$D/run"
mount -t tmpfs tmpfs "$D/sysroot"
S="$D/sysroot"
DEP="$S/ostree/deploy/os/deploy/${COMMIT}.0"
mkdir -p "$DEP/usr/bin" "$DEP/sysroot" "$DEP/.usr-ovl-upper" "$DEP/.usr-ovl-work" "$S/ostree/boot.1.0/os/${CSUM}"
ln -s boot.1.0 "$S/ostree/boot.1"
ln -s ../../../deploy/os/deploy/${COMMIT}.0 "$S/ostree/boot.1.0/os/${CSUM}/0"
echo "ostree=/ostree/boot.1/os/${CSUM}/0" > "$D/cmdline"
OSTREE_PREPARE_ROOT_CMDLINE="$D/cmdline" OSTREE_PREPARE_ROOT_RUN="$D/run" OSTREE_PREPARE_ROOT_ON_ERROR=exit OSTREE_PREPARE_ROOT_TMP="$D/tmpmove" sh '${PREPARE}' "$S"
touch "$S/usr/bin/hotfixed" && echo usr-writable
findmnt -n -r -o FSTYPE "$S/usr"
test -e "$S/.usr-ovl-upper/bin/hotfixed" && echo in-upper
`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^usr-writable$/m);
  assert.match(r.stdout, /^overlay$/m);
  assert.match(r.stdout, /^in-upper$/m);
});

for (const mount of ['busybox mount', 'mount']) test(`a planned mount that fails (${mount}: hotfix overlay without its upper dir): exit 1 naming it`, () => {
  const { status, out } = inNamespace({
    env: `mkdir -p "$DEP/.usr-ovl-work"; OSTREE_PREPARE_ROOT_MOUNT='${mount}'`,
    after: 'echo unreachable',
  });
  assert.notEqual(status, 0, out);
  assert.doesNotMatch(out, /unreachable/);
  assert.match(out, /ostree-prepare-root: error: (cannot mount overlay on \S+\/tmpmove\/usr|the mounts planned in \S+ did not all happen: \S+\/sysroot\/usr is not a mount point)/);
});

test('every boot/ shell script parses (sh -n / bash -n)', () => {
  const scripts = [
    'ostree-prepare-root.sh', 'ostree-remount.sh',
    'systemd/ostree-system-generator', 'initramfs-tools/hooks/ostree', 'initramfs-tools/scripts/local-bottom/ostree',
  ];
  for (const s of scripts) {
    const r = spawnSync('sh', ['-n', path.join(BOOT, s)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${s}: ${r.stderr}`);
  }
  const r = spawnSync('bash', ['-n', path.join(BOOT, 'dracut/98ostree/module-setup.sh')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('initramfs-tools local-bottom: prereqs, no-op without ostree=, runs prepare-root on ${rootmnt}', () => {
  const lb = path.join(BOOT, 'initramfs-tools/scripts/local-bottom/ostree');
  assert.equal(spawnSync('sh', [lb, 'prereqs'], { encoding: 'utf8' }).stdout.trim(), '');
  // The script reads /proc/cmdline (no ostree= on this host) and the root at ${rootmnt}.
  const dir = tempDir('ostree-lb-');
  fs.mkdirSync(path.join(dir, 'usr'));
  const hostCmdline = fs.readFileSync('/proc/cmdline', 'utf8');
  assert.equal(/(^|\s)ostree=/.test(hostCmdline), false, 'host must not be an OSTree boot for this test');
  const plain = spawnSync('sh', [lb], { encoding: 'utf8', env: { PATH: process.env['PATH'], rootmnt: dir } });
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stderr, '');
});

const CLI = path.join(PROJECT, 'dist/src/cli/main.js');

/** An empty sysroot made by our `ostree admin init-fs`. */
function initFsSysroot(): string {
  const dir = tempDir('ostree-bc-');
  const sr = path.join(dir, 'sysroot');
  fs.mkdirSync(sr);
  const r = spawnSync(process.execPath, [CLI, 'admin', 'init-fs', sr], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return sr;
}

test('units: hold and boot-complete run our CLI verbs, as upstream\'s units do', () => {
  const unit = (u: string) => fs.readFileSync(path.join(BOOT, 'systemd', u), 'utf8');
  const hold = unit('ostree-finalize-staged-hold.service');
  assert.match(hold, /^ExecStart=\+\/usr\/bin\/ostree admin finalize-staged --hold$/m);
  assert.match(hold, /^Type=exec$/m);
  const fin = unit('ostree-finalize-staged.service');
  assert.match(fin, /^ExecStop=\/usr\/bin\/ostree admin finalize-staged$/m);
  assert.match(fin, /^After=.*\bostree-finalize-staged-hold\.service\b/m);
  assert.match(fin, /^Wants=ostree-finalize-staged-hold\.service$/m);
  const bc = unit('ostree-boot-complete.service');
  assert.match(bc, /^ExecStart=\/usr\/bin\/ostree admin boot-complete$/m);
  assert.match(bc, /^ConditionPathExists=\|\/boot\/ostree\/finalize-failure\.stamp$/m);
  assert.match(bc, /^Before=ostree-finalize-staged\.service$/m);
  assert.match(bc, /^DefaultDependencies=no$/m);
  assert.match(bc, /^After=sysinit\.target$/m);
  assert.match(bc, /^RemainAfterExit=yes$/m);
  for (const u of ['ostree-finalize-staged-hold.service', 'ostree-boot-complete.service', 'ostree-finalize-staged.service']) {
    assert.doesNotMatch(unit(u), /\/usr\/lib\/ostree\/ostree-(boot-complete|finalize-hold)\b/, `${u} still names a helper script`);
  }
});

test('ostree admin boot-complete (the unit\'s command): fails with the recorded message once, then the stamp is gone', () => {
  const sr = initFsSysroot();
  const stamp = path.join(sr, 'boot/ostree/finalize-failure.stamp');
  fs.mkdirSync(path.dirname(stamp), { recursive: true });
  fs.writeFileSync(stamp, 'Copying /etc: out of space\n');
  const r = spawnSync(process.execPath, [CLI, 'admin', 'boot-complete', `--sysroot=${sr}`], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^error: ostree-finalize-staged\.service failed on previous boot: Copying \/etc: out of space$/m);
  assert.equal(fs.existsSync(stamp), false);
  const again = spawnSync(process.execPath, [CLI, 'admin', 'boot-complete', `--sysroot=${sr}`], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  fs.rmSync(path.dirname(sr), { recursive: true, force: true });
});

test('ostree admin finalize-staged --hold (the hold unit\'s command): keeps /boot open until SIGTERM, then exits 0', async () => {
  const sr = initFsSysroot();
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [CLI, 'admin', 'finalize-staged', '--hold', `--sysroot=${sr}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait until it holds an fd on <sysroot>/boot.
  const boot = fs.realpathSync(path.join(sr, 'boot'));
  let held = false;
  for (let i = 0; i < 100 && !held; i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      held = fs.readdirSync(`/proc/${child.pid}/fd`).some((fd) => {
        try { return fs.readlinkSync(`/proc/${child.pid}/fd/${fd}`) === boot; } catch { return false; }
      });
    } catch { break; }
  }
  assert.equal(held, true, `no fd on ${boot}; stderr: ${stderr}`);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  fs.rmSync(path.dirname(sr), { recursive: true, force: true });
});

test('dracut module: check/depends/install/installkernel with stubbed dracut helpers', () => {
  const r = runModuleSetup(`${BOOT}/dracut/98ostree`, { systemdsystemconfdir: '/etc/systemd/system', systemdutildir: '/nonexistent' }, `
echo "depends=$(depends)"
if check; then echo check=0; else echo "check=$?"; fi
install
installkernel
test -d "$initdir/etc/systemd/system/initrd-root-fs.target.wants" && echo wants-dir
`);
  assert.equal(r.status, 0, r.out + r.err);
  const out = r.out;
  assert.match(out, /^depends=systemd$/m);
  assert.match(out, /^check=1$/m, 'without systemd in the initramfs tool dir the module is not applicable');
  assert.match(out, /^inst_script \/usr\/lib\/ostree\/ostree-prepare-root$/m);
  assert.match(out, /^inst_multiple .*\bmount\b.*\breadlink\b/m);
  assert.match(out, new RegExp(`^inst_simple ${BOOT}/dracut/98ostree/ostree-prepare-root\\.service /usr/lib/systemd/system/ostree-prepare-root\\.service$`, 'm'));
  assert.match(out, /^ln_r \/usr\/lib\/systemd\/system\/ostree-prepare-root\.service \/etc\/systemd\/system\/initrd-root-fs\.target\.wants\/ostree-prepare-root\.service$/m);
  assert.match(out, /^instmods overlay$/m);
  assert.match(out, /^wants-dir$/m);
  const unit = fs.readFileSync(path.join(BOOT, 'dracut/98ostree/ostree-prepare-root.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/lib\/ostree\/ostree-prepare-root \/sysroot$/m);
  assert.match(unit, /^Before=initrd-root-fs\.target$/m);
  assert.match(unit, /^ConditionKernelCommandLine=ostree$/m);
});
