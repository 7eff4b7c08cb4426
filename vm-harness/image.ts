/**
 * Image builder: a Debian bookworm tree (debootstrap, cached), the Debian kernel and an
 * initramfs-tools initramfs with our ostree hook, our CLI and boot pieces installed, turned into
 * an OSTree commit and deployed (with the `ostree` CLI chosen by OSTREE_CLI, ours by default)
 * into a physical root that becomes a BIOS/GRUB disk image.  Also builds the same tree as a
 * plain (non-OSTree) root image, and an "update" disk holding an archive repo with a second
 * commit (BRANCH), for the offline-update scenario, and a third one (CONFLICT_BRANCH) whose
 * finalization fails, for the failed-finalization scenario.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, PROJECT_DIR, WORK_DIR, copyFile, log, mkdirp, ostree, ostreeCommand, rmrf, run, symlink, writeFile } from './common.js';

export const OSNAME = 'debian';
export const BRANCH = 'debian/bookworm';
export const ROOT_LABEL = 'ostree-root';
export const PLAIN_LABEL = 'plain-root';
export const UPDATE_LABEL = 'ostree-update';
/**
 * Branch of the update disk's third commit: v2 with /etc/CONFLICT_FILE turned into a
 * directory, so finalizing it on a machine whose /etc/CONFLICT_FILE was edited fails
 * ("Modified config file newly defaults to directory").
 */
export const CONFLICT_BRANCH = 'debian/bookworm-etc-conflict';
export const CONFLICT_FILE = 'ostree-test-conflict.conf';
/** Fixed time for reproducible initramfs (and so a stable bootcsum). */
const SOURCE_DATE_EPOCH = '1700000000';

export interface BuiltImage {
  /** qcow2 of the OSTree disk */
  disk: string;
  /** qcow2 of the same tree as a plain root filesystem */
  plainDisk: string;
  /** ext4 image carrying an archive repo with the update commit (`repo/`) */
  updateDisk: string;
  kver: string;
  /** kernel and initramfs (for direct kernel boots) */
  kernel: string;
  initramfs: string;
  /** kernel arguments of the deployment, without ostree= */
  kargs: string[];
  commit1: string;
  commit2: string;
  /** CONFLICT_BRANCH on the update disk */
  commit3: string;
}

function debianMirror(): string {
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    let text: string;
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    const m = /^URIs:\s*(\S+)/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (m) return m[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/**
 * What debootstrap adds to minbase.  `dbus`: the system bus, so that systemd-logind runs and
 * `systemctl reboot` goes through logind as on any Debian system (without it systemctl prints
 * "Failed to connect to bus: No such file or directory" and falls back to starting reboot.target
 * itself).
 */
const BASE_PACKAGES = ['systemd', 'systemd-sysv', 'udev', 'dbus', 'initramfs-tools', 'busybox', 'libstdc++6', 'kmod'];

/** The debootstrap result, cached as a tarball named after the package list (a new list rebuilds it). */
export async function ensureBaseTarball(): Promise<string> {
  const key = createHash('sha256').update(BASE_PACKAGES.join(',')).digest('hex').slice(0, 12);
  const tarball = path.join(CACHE_DIR, `debootstrap-bookworm-${key}.tar.zst`);
  if (fs.existsSync(tarball)) return tarball;
  mkdirp(CACHE_DIR);
  const tmp = path.join(CACHE_DIR, 'rootfs.tmp');
  rmrf(tmp);
  await run('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, 'bookworm', tmp, debianMirror()]);
  await run('sh', ['-c', `tar --numeric-owner --xattrs -C '${tmp}' -cf - . | zstd -q -T2 -o '${tarball}.tmp' && mv '${tarball}.tmp' '${tarball}'`]);
  rmrf(tmp);
  return tarball;
}

/** The Debian kernel package (what linux-image-amd64 depends on), cached. */
export async function ensureKernelDeb(): Promise<{ deb: string; kver: string }> {
  mkdirp(CACHE_DIR);
  const existing = fs.readdirSync(CACHE_DIR).filter((f) => /^linux-image-\d.*-amd64_.*\.deb$/.test(f)).sort();
  let deb = existing.at(-1);
  if (!deb) {
    const deps = await run('apt-cache', ['depends', 'linux-image-amd64'], { quiet: true });
    const pkg = /Depends:\s*(linux-image-\S+)/.exec(deps)?.[1];
    if (!pkg) throw new Error('cannot find the kernel package linux-image-amd64 depends on (apt-get update?)');
    await run('apt-get', ['download', pkg], { cwd: CACHE_DIR });
    deb = fs.readdirSync(CACHE_DIR).filter((f) => f.startsWith(pkg + '_') && f.endsWith('.deb'))[0];
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${CACHE_DIR}`);
  }
  const kver = /^linux-image-(.+?)_/.exec(deb)![1]!.replace(/-unsigned$/, '');
  return { deb: path.join(CACHE_DIR, deb), kver };
}

/** Install our CLI (Node binary, compiled dist, production node_modules) into the tree. */
function installCli(tree: string): void {
  const base = path.join(tree, 'usr/lib/ostree-ts');
  rmrf(base);
  copyFile(process.execPath, path.join(base, 'bin/node'), 0o755);
  for (const sub of ['src']) {
    const from = path.join(PROJECT_DIR, 'dist', sub);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(base, 'dist', sub), { recursive: true, filter: (s) => !s.endsWith('.map') });
  }
  copyFile(path.join(PROJECT_DIR, 'package.json'), path.join(base, 'package.json'));
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
  const nm = path.join(PROJECT_DIR, 'node_modules');
  fs.cpSync(nm, path.join(base, 'node_modules'), {
    recursive: true,
    filter: (s) => {
      const rel = path.relative(nm, s);
      if (rel === '' ) return true;
      const top = rel.startsWith('@') ? rel.split(path.sep).slice(0, 2).join('/') : rel.split(path.sep)[0]!;
      if (dev.has(top) || top === '@types' || top === '.bin' || top === 'typescript') return false;
      // koffi ships prebuilt binaries for every platform: keep linux x64 only.
      const m = /^koffi\/build\/koffi\/([^/]+)/.exec(rel.split(path.sep).join('/'));
      if (m && m[1] !== 'linux_x64') return false;
      return true;
    },
  });
  writeFile(path.join(tree, 'usr/bin/ostree'),
    '#!/bin/sh\n# ostree-ts: the TypeScript OSTree CLI (Node 20 bundled in /usr/lib/ostree-ts).\n' +
    'exec /usr/lib/ostree-ts/bin/node /usr/lib/ostree-ts/dist/src/cli/main.js "$@"\n', 0o755);
}

/** Install everything from boot/ into the tree. */
function installBootPieces(tree: string): void {
  const b = (p: string) => path.join(PROJECT_DIR, 'boot', p);
  const t = (p: string) => path.join(tree, p);
  copyFile(b('ostree-prepare-root.sh'), t('usr/lib/ostree/ostree-prepare-root'), 0o755);
  copyFile(b('ostree-remount.sh'), t('usr/lib/ostree/ostree-remount'), 0o755);
  copyFile(b('systemd/ostree-system-generator'), t('usr/lib/systemd/system-generators/ostree-system-generator'), 0o755);
  for (const u of ['ostree-finalize-staged.service', 'ostree-finalize-staged.path', 'ostree-finalize-staged-hold.service',
    'ostree-boot-complete.service', 'ostree-remount.service']) {
    copyFile(b(`systemd/${u}`), t(`usr/lib/systemd/system/${u}`), 0o644);
  }
  copyFile(b('tmpfiles.d/ostree-tmpfiles.conf'), t('usr/lib/tmpfiles.d/ostree-tmpfiles.conf'), 0o644);
  copyFile(b('initramfs-tools/hooks/ostree'), t('usr/share/initramfs-tools/hooks/ostree'), 0o755);
  copyFile(b('initramfs-tools/scripts/local-bottom/ostree'), t('usr/share/initramfs-tools/scripts/local-bottom/ostree'), 0o755);
}

/** Test instrumentation: the marker unit. */
function installMarker(tree: string): void {
  const g = (p: string) => path.join(PROJECT_DIR, 'vm-harness/guest', p);
  copyFile(g('ostree-test-marker.sh'), path.join(tree, 'usr/lib/ostree-test/ostree-test-marker'), 0o755);
  copyFile(g('ostree-test-marker.service'), path.join(tree, 'usr/lib/systemd/system/ostree-test-marker.service'), 0o644);
  symlink('/usr/lib/systemd/system/ostree-test-marker.service', path.join(tree, 'etc/systemd/system/multi-user.target.wants/ostree-test-marker.service'));
}

/** Guest configuration: hostname, fstab, initramfs-tools settings. */
function configure(tree: string): void {
  writeFile(path.join(tree, 'etc/hostname'), 'ostree-ts-vm\n');
  writeFile(path.join(tree, 'etc/fstab'), '# / is mounted by the initramfs; /var by ostree-system-generator\n');
  // Passwordless root on the console, for debugging by hand.
  const shadow = path.join(tree, 'etc/shadow');
  fs.writeFileSync(shadow, fs.readFileSync(shadow, 'utf8').replace(/^root:[^:]*:/m, 'root::'));
  writeFile(path.join(tree, 'etc/motd'), 'ostree-ts test VM\n');
  // A persistent journal, as Debian's systemd package gives (it ships /var/log/journal; an OSTree
  // commit's /var is empty, so journald must create it): the scenarios read the previous boot's
  // journal (`journalctl -b -1`) to see what ostree-finalize-staged.service did at shutdown.
  writeFile(path.join(tree, 'etc/systemd/journald.conf.d/ostree-test-persistent.conf'), '[Journal]\nStorage=persistent\n');
  const conf = path.join(tree, 'etc/initramfs-tools/initramfs.conf');
  let c = fs.readFileSync(conf, 'utf8');
  c = c.replace(/^MODULES=.*$/m, 'MODULES=list').replace(/^COMPRESS=.*$/m, 'COMPRESS=gzip').replace(/^BUSYBOX=.*$/m, 'BUSYBOX=y');
  fs.writeFileSync(conf, c);
  fs.appendFileSync(path.join(tree, 'etc/initramfs-tools/modules'), 'virtio_pci\nvirtio_blk\next4\n');
  // Nothing in this image needs the apt timers; they only slow the boot.
  // The serial console belongs to the test marker: a getty on ttyS0 would vhangup() it and
  // cut the marker's output.
  for (const u of ['apt-daily.timer', 'apt-daily-upgrade.timer', 'serial-getty@ttyS0.service']) {
    symlink('/dev/null', path.join(tree, 'etc/systemd/system', u));
  }
}

async function buildInitramfs(tree: string, kver: string): Promise<void> {
  const out = `/usr/lib/modules/${kver}/initramfs.img`;
  await run('unshare', ['--mount', '--fork', 'sh', '-c',
    `mount -t proc proc '${tree}/proc' && SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH} chroot '${tree}' /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin mkinitramfs -o '${out}' '${kver}'`]);
}

/** OSTree-ify the tree (adapting-existing layout). */
function ostreeify(tree: string, kver: string): void {
  const t = (p: string) => path.join(tree, p);
  // Kernel into /usr/lib/modules/<kver>/vmlinuz; nothing left in /boot.
  fs.renameSync(t(`boot/vmlinuz-${kver}`), t(`usr/lib/modules/${kver}/vmlinuz`));
  for (const f of fs.readdirSync(t('boot'))) rmrf(t(`boot/${f}`));
  // API filesystems and scratch dirs are empty mount points in a commit (no device nodes).
  for (const d of ['dev', 'proc', 'sys', 'run', 'tmp']) {
    for (const f of fs.readdirSync(t(d))) rmrf(t(`${d}/${f}`));
  }
  // /etc -> /usr/etc
  rmrf(t('usr/etc'));
  fs.renameSync(t('etc'), t('usr/etc'));
  // /var starts empty in the commit: the stateroot's var is the machine's, created by tmpfiles.
  rmrf(t('var'));
  fs.mkdirSync(t('var'), { mode: 0o755 });
  for (const [link, target] of [
    ['home', 'var/home'], ['root', 'var/roothome'], ['opt', 'var/opt'], ['srv', 'var/srv'],
    ['mnt', 'var/mnt'], ['media', 'run/media'], ['usr/local', '../var/usrlocal'], ['ostree', 'sysroot/ostree'],
  ] as const) {
    rmrf(t(link));
    fs.symlinkSync(target, t(link));
  }
  rmrf(t('sysroot'));
  fs.mkdirSync(t('sysroot'), { mode: 0o755 });
  // A file the update changes, to see which commit is booted.
  writeFile(t('usr/share/ostree-test/version'), '1\n');
  // A config file that the third commit (CONFLICT_BRANCH) turns into a directory.
  writeFile(t(`usr/etc/${CONFLICT_FILE}`), 'conflict=file-in-v1\n');
}

export async function prepareTree(tree: string): Promise<string> {
  const tarball = await ensureBaseTarball();
  const { deb, kver } = await ensureKernelDeb();
  rmrf(tree);
  mkdirp(tree);
  await run('sh', ['-c', `zstd -dc '${tarball}' | tar --numeric-owner --xattrs -C '${tree}' -xf -`]);
  // The kernel .deb ships /lib/modules: keep the tree's merged-/usr /lib -> usr/lib symlink.
  await run('sh', ['-c', `dpkg-deb --fsys-tarfile '${deb}' | tar -C '${tree}' --keep-directory-symlink -xf -`]);
  await run('depmod', ['-b', tree, kver]);
  installCli(tree);
  installBootPieces(tree);
  installMarker(tree);
  configure(tree);
  await buildInitramfs(tree, kver);
  ostreeify(tree, kver);
  return kver;
}

/** Clear the immutable bit our/upstream deploy puts on deployment directories, so rm works. */
async function unimmutable(sysroot: string): Promise<void> {
  const base = path.join(sysroot, 'ostree/deploy');
  if (!fs.existsSync(base)) return;
  await run('sh', ['-c', `find '${base}' -mindepth 3 -maxdepth 3 -type d -exec chattr -i {} + 2>/dev/null; true`], { quiet: true });
}

export async function rmTree(p: string): Promise<void> {
  await unimmutable(p);
  rmrf(p);
}

async function commit(repo: string, tree: string, subject: string, version: string, branch = BRANCH): Promise<string> {
  await ostree([`--repo=${repo}`, 'commit', `--branch=${branch}`, `--subject=${subject}`,
    `--add-metadata-string=version=${version}`, `--tree=dir=${tree}`]);
  return (await ostree([`--repo=${repo}`, 'rev-parse', branch])).trim();
}

/** Install BIOS GRUB: modules under BOOT/grub/i386-pc, then boot.img + core.img into the raw disk. */
async function grubFiles(bootDir: string, work: string): Promise<string> {
  const mods = path.join(bootDir, 'grub/i386-pc');
  mkdirp(mods);
  for (const f of fs.readdirSync('/usr/lib/grub/i386-pc')) {
    if (f.endsWith('.mod') || f.endsWith('.lst')) copyFile(path.join('/usr/lib/grub/i386-pc', f), path.join(mods, f));
  }
  const early = path.join(work, 'grub-early.cfg');
  writeFile(early, 'serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\n');
  const core = path.join(work, 'core.img');
  await run('grub-mkimage', ['-O', 'i386-pc', '-d', '/usr/lib/grub/i386-pc', '-p', '(hd0,msdos1)/boot/grub',
    '-c', early, '-o', core, 'biosdisk', 'part_msdos', 'ext2', 'serial', 'terminal']);
  return core;
}

/** Raw disk: MBR, 1 MiB gap with GRUB's core image, one ext4 partition made from `rootDir`. */
async function makeDisk(rootDir: string, label: string, out: string, work: string, extraMiB: number): Promise<void> {
  const core = await grubFiles(path.join(rootDir, 'boot'), work);
  const usedKiB = Number((await run('du', ['-sk', '--apparent-size', rootDir], { quiet: true })).split(/\s/)[0]);
  const partMiB = Math.ceil(usedKiB * 1.3 / 1024) + extraMiB;
  const part = path.join(work, `${label}.part.raw`);
  const raw = out.replace(/\.qcow2$/, '.raw');
  rmrf(part); rmrf(raw);
  await run('mkfs.ext4', ['-q', '-F', '-L', label, '-d', rootDir, '-E', 'root_owner=0:0', part, `${partMiB}M`]);
  await run('truncate', ['-s', `${partMiB + 1}M`, raw]);
  await run('sfdisk', ['-q', raw], { input: 'label: dos\nstart=2048, type=83, bootable\n' });
  await run('dd', [`if=${part}`, `of=${raw}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none']);
  await run('dd', ['if=/usr/lib/grub/i386-pc/boot.img', `of=${raw}`, 'bs=440', 'count=1', 'conv=notrunc', 'status=none']);
  await run('dd', [`if=${core}`, `of=${raw}`, 'bs=512', 'seek=1', 'conv=notrunc', 'status=none']);
  rmrf(out);
  await run('qemu-img', ['convert', '-O', 'qcow2', raw, out]);
  rmrf(raw); rmrf(part);
}

export interface BuildOptions {
  /** extra kernel arguments (besides root=, rw, console=) */
  extraKargs?: string[];
}

export async function buildImage(opts: BuildOptions = {}): Promise<BuiltImage> {
  const work = WORK_DIR;
  mkdirp(work);
  const t0 = Date.now();
  const o = ostreeCommand();
  log(`building the VM image with ${o.upstream ? 'UPSTREAM /usr/bin/ostree (oracle)' : 'our ostree CLI'} in ${work}`);
  const tree = path.join(work, 'tree');
  const kver = await prepareTree(tree);
  const kernel = path.join(work, 'vmlinuz');
  const initramfs = path.join(work, 'initramfs.img');
  copyFile(path.join(tree, `usr/lib/modules/${kver}/vmlinuz`), kernel);
  copyFile(path.join(tree, `usr/lib/modules/${kver}/initramfs.img`), initramfs);

  // Physical root.
  const sysroot = path.join(work, 'sysroot');
  await rmTree(sysroot);
  mkdirp(sysroot);
  await ostree(['admin', 'init-fs', sysroot]);
  await ostree(['admin', 'os-init', `--sysroot=${sysroot}`, OSNAME]);
  symlink('../loader/grub.cfg', path.join(sysroot, 'boot/grub/grub.cfg'));
  const repo = path.join(sysroot, 'ostree/repo');
  const commit1 = await commit(repo, tree, 'ostree-ts test image v1', '1');
  const kargs = [`root=LABEL=${ROOT_LABEL}`, 'rw', 'console=ttyS0,115200', ...(opts.extraKargs ?? [])];
  const env: Record<string, string> = o.upstream
    ? { OSTREE_GRUB2_EXEC: path.join(PROJECT_DIR, 'vm-harness/guest/oracle-grub-generator.sh') } : {};
  await ostree(['admin', 'deploy', `--sysroot=${sysroot}`, `--os=${OSNAME}`, ...kargs.map((k) => `--karg=${k}`), BRANCH], env);
  // Throwaway: the deployment's checkout proves the tree; a plain root of the same content.
  const deployDir = (await run('sh', ['-c', `ls -d '${sysroot}'/ostree/deploy/${OSNAME}/deploy/*.0`], { quiet: true })).trim();

  // Update commit: v2 (a changed file in /usr, a new default in /usr/etc), in an archive repo.
  const tree2 = path.join(work, 'tree2');
  rmrf(tree2);
  await run('cp', ['-al', tree, tree2]);
  rmrf(path.join(tree2, 'usr/share/ostree-test/version'));
  writeFile(path.join(tree2, 'usr/share/ostree-test/version'), '2\n');
  writeFile(path.join(tree2, 'usr/etc/ostree-test-default.conf'), 'new-default=from-v2\n');
  const upd = path.join(work, 'update');
  rmrf(upd);
  mkdirp(upd);
  const updRepo = path.join(upd, 'repo');
  await ostree([`--repo=${updRepo}`, 'init', '--mode=archive']);
  const commit2 = await commit(updRepo, tree2, 'ostree-ts test image v2', '2');
  // Third commit (own branch): v2 with /usr/etc/CONFLICT_FILE a directory.
  rmrf(path.join(tree2, `usr/etc/${CONFLICT_FILE}`));
  writeFile(path.join(tree2, `usr/etc/${CONFLICT_FILE}/default.conf`), 'conflict=directory-in-v3\n');
  rmrf(path.join(tree2, 'usr/share/ostree-test/version'));
  writeFile(path.join(tree2, 'usr/share/ostree-test/version'), '3\n');
  const commit3 = await commit(updRepo, tree2, 'ostree-ts test image v3 (/etc conflict)', '3', CONFLICT_BRANCH);
  const updateDisk = path.join(work, 'update.img');
  rmrf(updateDisk);
  const updKiB = Number((await run('du', ['-sk', '--apparent-size', upd], { quiet: true })).split(/\s/)[0]);
  await run('mkfs.ext4', ['-q', '-F', '-L', UPDATE_LABEL, '-d', upd, updateDisk, `${Math.ceil(updKiB * 1.3 / 1024) + 64}M`]);

  // OSTree disk.
  const disk = path.join(work, 'ostree-disk.qcow2');
  await makeDisk(sysroot, ROOT_LABEL, disk, work, 1536);

  // Plain root of the same tree: the deployment's files (with its merged /etc), kernel in /boot.
  const plain = path.join(work, 'plainroot');
  await rmTree(plain);
  await run('cp', ['-al', deployDir, plain]);
  await run('chattr', ['-i', plain]).catch(() => undefined);
  copyFile(kernel, path.join(plain, 'boot/vmlinuz'));
  copyFile(initramfs, path.join(plain, 'boot/initrd.img'));
  writeFile(path.join(plain, 'boot/grub/grub.cfg'),
    'serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\ndefault=0\ntimeout=3\n\n' +
    `menuentry 'Debian (plain root, no OSTree)' {\n\tlinux /boot/vmlinuz root=LABEL=${PLAIN_LABEL} rw console=ttyS0,115200 ${(opts.extraKargs ?? []).join(' ')}\n\tinitrd /boot/initrd.img\n}\n`);
  const plainDisk = path.join(work, 'plain-disk.qcow2');
  await makeDisk(plain, PLAIN_LABEL, plainDisk, work, 256);
  await rmTree(plain);
  rmrf(tree2);

  log(`image built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${disk}`);
  const img: BuiltImage = { disk, plainDisk, updateDisk, kver, kernel, initramfs, kargs, commit1, commit2, commit3 };
  writeFile(path.join(work, 'image.json'), JSON.stringify(img, null, 2) + '\n');
  return img;
}

export function loadBuiltImage(): BuiltImage | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(WORK_DIR, 'image.json'), 'utf8')) as BuiltImage;
  } catch {
    return null;
  }
}
