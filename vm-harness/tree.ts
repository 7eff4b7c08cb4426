/**
 * The guest's root tree, before it is committed: the cached Debian base tree and kernel, our
 * CLI (the host's Node binary, the compiled dist/src and the production node_modules), the boot
 * pieces from boot/, the harness's marker unit, the guest configuration, an initramfs-tools
 * initramfs with our hook, and finally the OSTree layout (/usr/etc, empty /var, the symlinks).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_DIR, copyFile, mkdirp, rmrf, run, symlink, writeFile } from './common.js';
import { ensureBaseTarball, ensureKernelDeb } from './caches.js';
import { CONFLICT_FILE } from './names.js';
import type { Phase } from './progress.js';
import { ostreeifyDpkgDatabase } from '../src/layering/base-tree.js';

/** Fixed time for reproducible initramfs (and so a stable bootcsum). */
const SOURCE_DATE_EPOCH = '1700000000';

/** Install our CLI (Node binary, compiled dist, production node_modules) into the tree. */
function installCli(tree: string): void {
  const base = path.join(tree, 'usr/lib/ostree-ts');
  rmrf(base);
  copyFile(process.execPath, path.join(base, 'bin/node'), 0o755);
  // bundle/: the launcher of /usr/bin/ostree (tools/build-cli.mjs), without the host's snapshot
  for (const sub of ['src', 'bundle']) {
    const from = path.join(PROJECT_DIR, 'dist', sub);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(base, 'dist', sub), { recursive: true, filter: (s) => !s.endsWith('.map') && !/\.blob(\.|$)/.test(path.basename(s)) });
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
      // @esbuild/<platform>: esbuild's binary (an optional dependency of the devDependency)
      if (dev.has(top) || top === '@types' || top === '@esbuild' || top === '.bin' || top === 'typescript') return false;
      // koffi ships prebuilt binaries for every platform: keep linux x64 only.
      const m = /^koffi\/build\/koffi\/([^/]+)/.exec(rel.split(path.sep).join('/'));
      if (m && m[1] !== 'linux_x64') return false;
      return true;
    },
  });
  writeFile(path.join(tree, 'usr/bin/ostree'),
    '#!/bin/sh\n# ostree-ts: the TypeScript OSTree CLI (Node 20 bundled in /usr/lib/ostree-ts).\n' + ostreeLauncher(), 0o755);
  writeFile(path.join(tree, 'usr/bin/ostree-agent'),
    '#!/bin/sh\n# ostree-ts: the update agent (docs/agent.md).\n' +
    'exec /usr/lib/ostree-ts/bin/node /usr/lib/ostree-ts/dist/src/cli-agent/main.js "$@"\n', 0o755);
  writeFile(path.join(tree, 'usr/bin/apt-ostree'),
    '#!/bin/sh\n# apt-ostree: .deb package layering (ostree-ts, docs/apt-ostree.md).\n' +
    'exec /usr/lib/ostree-ts/bin/node /usr/lib/ostree-ts/dist/src/cli-apt-ostree/main.js "$@"\n', 0o755);
}

/**
 * The exec line of /usr/bin/ostree: the bundled launcher (tools/build-cli.mjs) when the build
 * made it, else the compiled main.js. Not the V8 snapshot: the guest's Node refuses a blob built
 * on the host (same binary, but another CPU and V8 configuration: exit 14).
 */
function ostreeLauncher(): string {
  const node = '/usr/lib/ostree-ts/bin/node';
  return fs.existsSync(path.join(PROJECT_DIR, 'dist/bundle/ostree.cjs'))
    ? `exec ${node} /usr/lib/ostree-ts/dist/bundle/ostree.cjs "$@"\n`
    : `exec ${node} /usr/lib/ostree-ts/dist/src/cli/main.js "$@"\n`;
}

/** Install everything from boot/ into the tree. */
function installBootPieces(tree: string): void {
  const b = (p: string) => path.join(PROJECT_DIR, 'boot', p);
  const t = (p: string) => path.join(tree, p);
  copyFile(b('ostree-prepare-root.sh'), t('usr/lib/ostree/ostree-prepare-root'), 0o755);
  copyFile(b('ostree-remount.sh'), t('usr/lib/ostree/ostree-remount'), 0o755);
  copyFile(b('systemd/ostree-system-generator'), t('usr/lib/systemd/system-generators/ostree-system-generator'), 0o755);
  for (const u of ['ostree-finalize-staged.service', 'ostree-finalize-staged.path', 'ostree-finalize-staged-hold.service',
    'ostree-boot-complete.service', 'ostree-remount.service', 'ostree-boot-check.service', 'ostree-agent.service']) {
    copyFile(b(`systemd/${u}`), t(`usr/lib/systemd/system/${u}`), 0o644);
    enableUnit(tree, u);
  }
  copyFile(b('tmpfiles.d/ostree-tmpfiles.conf'), t('usr/lib/tmpfiles.d/ostree-tmpfiles.conf'), 0o644);
  copyFile(b('initramfs-tools/hooks/ostree'), t('usr/share/initramfs-tools/hooks/ostree'), 0o755);
  copyFile(b('initramfs-tools/scripts/local-bottom/ostree'), t('usr/share/initramfs-tools/scripts/local-bottom/ostree'), 0o755);
}

/**
 * `systemctl enable` done at build time: a link per WantedBy=/RequiredBy= of the unit's [Install]
 * section (as upstream's presets enable its units).  Each unit's own conditions make it a no-op
 * on a boot without ostree=, so the plain-root boot of the same tree runs none of them.
 */
function enableUnit(tree: string, unit: string): void {
  const text = fs.readFileSync(path.join(tree, 'usr/lib/systemd/system', unit), 'utf8');
  const install = text.split(/^\[Install\]$/m)[1] ?? '';
  for (const m of install.matchAll(/^(WantedBy|RequiredBy)=(.+)$/gm)) {
    const dir = m[1] === 'WantedBy' ? 'wants' : 'requires';
    for (const target of m[2]!.trim().split(/\s+/)) {
      symlink(`/usr/lib/systemd/system/${unit}`, path.join(tree, `etc/systemd/system/${target}.${dir}`, unit));
    }
  }
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
  // nginx is there for the agent scenario, which starts its own instance on 127.0.0.1; Debian's
  // unit would slow every other boot.
  for (const u of ['apt-daily.timer', 'apt-daily-upgrade.timer', 'serial-getty@ttyS0.service', 'nginx.service']) {
    symlink('/dev/null', path.join(tree, 'etc/systemd/system', u));
  }
  // openssh-server and podman (for the Ignition scenarios) stay off here: no host keys baked into
  // the image (the Ignition image makes them at first boot), and none of their units slows the
  // boots of the other scenarios (ignition-image.ts turns on what the Ignition image needs).
  for (const f of fs.readdirSync(path.join(tree, 'etc/ssh')).filter((n) => n.startsWith('ssh_host_'))) rmrf(path.join(tree, 'etc/ssh', f));
  for (const l of ['multi-user.target.wants/ssh.service', 'sockets.target.wants/podman.socket', 'default.target.wants/podman.service',
    'default.target.wants/podman-restart.service', 'default.target.wants/podman-auto-update.service', 'timers.target.wants/podman-auto-update.timer']) {
    rmrf(path.join(tree, 'etc/systemd/system', l));
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
  // The dpkg database belongs to the tree (apt-ostree layers packages on it): under /usr.
  ostreeifyDpkgDatabase(tree);
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

/** The cached downloads, fetched if missing (each says whether it was cached). */
export async function ensureDownloads(): Promise<{ tarball: string; deb: string; kver: string }> {
  const tarball = await ensureBaseTarball();
  return { tarball, ...await ensureKernelDeb() };
}

export type Downloads = Awaited<ReturnType<typeof ensureDownloads>>;

/** Build the tree at `tree` (replacing what is there) from the downloads. */
export async function prepareTree(tree: string, { tarball, deb, kver }: Downloads, p: Phase): Promise<void> {
  rmrf(tree);
  mkdirp(tree);
  p.note('unpacking the Debian base tree');
  await run('sh', ['-c', `zstd -dc < '${tarball}' | tar --numeric-owner --xattrs -C '${tree}' -xf -`]);
  p.note(`adding the kernel ${kver}`);
  // The kernel .deb ships /lib/modules: keep the tree's merged-/usr /lib -> usr/lib symlink.
  await run('sh', ['-c', `dpkg-deb --fsys-tarfile '${deb}' | tar -C '${tree}' --keep-directory-symlink -xf -`]);
  await run('depmod', ['-b', tree, kver]);
  p.note('installing ostree-ts (Node, dist/src, node_modules) and boot/');
  installCli(tree);
  installBootPieces(tree);
  installMarker(tree);
  configure(tree);
  p.note('building the initramfs (mkinitramfs in the tree)');
  await buildInitramfs(tree, kver);
  ostreeify(tree, kver);
}
