/**
 * The downloads every image starts from, cached in VM_CACHE_DIR (outside git; `make clean` keeps
 * them, `make distclean` removes them): the Debian bookworm base tree made by debootstrap (a
 * tarball named after its package list, so a new list makes a new one) and the Debian kernel
 * package.  Each is fetched once per machine, with its progress shown.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, mkdirp, rmrf, rmTree, run, withCacheLock } from './common.js';
import { done, phase, type Phase } from './progress.js';

/**
 * What debootstrap adds to minbase.  `dbus`: the system bus, so that systemd-logind runs and
 * `systemctl reboot` goes through logind as on any Debian system (without it systemctl prints
 * "Failed to connect to bus: No such file or directory" and falls back to starting reboot.target
 * itself).  `mokutil`: `mokutil --sb-state` tells whether the guest booted with Secure Boot on.
 */
const BASE_PACKAGES = ['systemd', 'systemd-sysv', 'udev', 'dbus', 'initramfs-tools', 'busybox', 'libstdc++6', 'kmod', 'mokutil',
  // systemd-boot scenarios (scenarios-sdboot.ts): bootctl, systemd-bless-boot and its generator,
  // and systemd-bootx64.efi (systemd-boot-efi) for `bootctl install` in the guest
  'systemd-boot',
  // apt-ostree (scenarios-layering.ts): the maintainer-script sandbox (apt and dpkg are in minbase)
  'bubblewrap',
  // the agent scenario (scenarios-agent.ts): a web server on the guest's loopback serving the
  // update disk's repository and the update graph (disabled at boot: tree.ts masks nginx.service)
  'nginx',
  // Ignition scenarios (scenarios-ignition.ts), the Fedora CoreOS walkthrough: sshd for the `core`
  // user, sudo, podman with its runtime and network stack (named: debootstrap does not resolve
  // the virtual container-network-stack), curl.  tree.ts keeps sshd off and the host keys out of
  // the shared image; the Ignition image turns it on (ignition-tree.ts).
  'openssh-server', 'sudo', 'podman', 'crun', 'conmon', 'netavark', 'aardvark-dns', 'iptables', 'curl'];

function debianMirror(): string {
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    let text: string;
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    const m = /^URIs:\s*(\S+)/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (m) return m[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/** Where the debootstrap tarball for today's package list lives (whether or not it exists yet). */
export function baseTarballPath(): string {
  const key = createHash('sha256').update(BASE_PACKAGES.join(',')).digest('hex').slice(0, 12);
  return path.join(CACHE_DIR, `debootstrap-bookworm-${key}.tar.zst`);
}

/**
 * debootstrap's stages, from its "I: ..." lines.  Per-package lines (downloading, unpacking and
 * configuring each package) share a key, so a log gets one line per stage.
 */
const DEBOOTSTRAP_STAGES: Array<[RegExp, string, boolean?]> = [
  [/^I: Retrieving (InRelease|Release)\b/, 'fetching the release index'],
  [/^I: Resolving dependencies/, 'resolving dependencies'],
  [/^I: (?:Retrieving|Validating) (?<pkg>\S+)/, 'downloading packages', true],
  [/^I: Extracting (?<pkg>[^.\s]+)/, 'extracting packages', true],
  [/^I: Installing core packages/, 'installing core packages'],
  [/^I: Unpacking required packages/, 'unpacking required packages'],
  [/^I: Configuring required packages/, 'configuring required packages'],
  [/^I: Unpacking the base system/, 'unpacking the base system'],
  [/^I: Configuring the base system/, 'configuring the base system'],
  [/^I: Base system installed/, 'base system installed'],
];

function debootstrapLine(p: Phase, line: string): void {
  for (const [re, stage, perPackage] of DEBOOTSTRAP_STAGES) {
    const m = re.exec(line);
    if (!m) continue;
    // On a terminal, per-package stages name the package; in a log only the stage is printed.
    const pkg = m.groups?.['pkg'];
    if (pkg === 'Packages') p.note('fetching the package index');
    else p.note(perPackage && pkg ? `${stage}: ${pkg}` : stage, stage);
    return;
  }
}

/**
 * The debootstrap result, cached as a tarball named after the package list. Builds of the cache
 * by concurrent harness runs (or the layering tests, which share it) take turns through a lock
 * file: the second one waits and then finds the tarball made, instead of debootstrapping into
 * the same directory and deleting the first one's tree under it. The tree is built in a
 * directory of this process's own (`rootfs.<pid>.tmp`); a dead process's leftovers are removed.
 */
export async function ensureBaseTarball(): Promise<string> {
  const tarball = baseTarballPath();
  if (fs.existsSync(tarball)) {
    done('Debian base tree', `cached in ${tarball}`);
    return tarball;
  }
  mkdirp(CACHE_DIR);
  const mirror = debianMirror();
  return withCacheLock('rootfs', 'Debian base tree', () => phase('Debian base tree', async (p) => {
    if (fs.existsSync(tarball)) return tarball; // (made while this run waited for the lock)
    await removeStaleBuildTrees();
    const tmp = path.join(CACHE_DIR, `rootfs.${process.pid}.tmp`);
    await rmTree(tmp);
    await run('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, 'bookworm', tmp, mirror],
      { onLine: (l) => debootstrapLine(p, l) });
    p.note(`saving the tree to ${CACHE_DIR}`);
    await run('sh', ['-c', `tar --numeric-owner --xattrs -C '${tmp}' -cf - . | zstd -q -T2 -o '${tarball}.tmp' && mv '${tarball}.tmp' '${tarball}'`]);
    rmrf(tmp);
    return tarball;
  }, `debootstrap bookworm from ${mirror} (first run only; cached afterwards)`));
}

/** Build trees left by runs that died (their pid is gone): a killed debootstrap may leave /proc mounted there. */
async function removeStaleBuildTrees(): Promise<void> {
  for (const name of fs.readdirSync(CACHE_DIR)) {
    const m = /^rootfs(?:\.(\d+))?\.tmp$/.exec(name);
    if (!m || (m[1] !== undefined && processAlive(Number(m[1])))) continue;
    const dir = path.join(CACHE_DIR, name);
    for (const sub of ['proc', 'sys', 'dev/pts']) await run('umount', ['-l', path.join(dir, sub)]).catch(() => undefined);
    await rmTree(dir);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The cached kernel package, if any: the newest linux-image-*-amd64 .deb in the cache. */
export function findKernelDeb(): string | null {
  let names: string[];
  try { names = fs.readdirSync(CACHE_DIR); } catch { return null; }
  const deb = names.filter((f) => /^linux-image-\d.*-amd64_.*\.deb$/.test(f)).sort().at(-1);
  return deb ? path.join(CACHE_DIR, deb) : null;
}

function kernelVersion(deb: string): string {
  return /^linux-image-(.+?)_/.exec(path.basename(deb))![1]!.replace(/-unsigned$/, '');
}

/** The Debian kernel package (what linux-image-amd64 depends on), cached. */
export async function ensureKernelDeb(): Promise<{ deb: string; kver: string }> {
  const cached = findKernelDeb();
  if (cached) {
    done('Debian kernel', `cached in ${cached}`);
    return { deb: cached, kver: kernelVersion(cached) };
  }
  mkdirp(CACHE_DIR);
  const deb = await phase('Debian kernel', async () => {
    const deps = await run('apt-cache', ['depends', 'linux-image-amd64']);
    const pkg = /Depends:\s*(linux-image-\S+)/.exec(deps)?.[1];
    if (!pkg) throw new Error('cannot find the kernel package linux-image-amd64 depends on: run `apt-get update` and try again');
    await run('apt-get', ['download', pkg], { cwd: CACHE_DIR });
    const name = fs.readdirSync(CACHE_DIR).filter((f) => f.startsWith(pkg + '_') && f.endsWith('.deb'))[0];
    if (!name) throw new Error(`apt-get download ${pkg} left no .deb in ${CACHE_DIR}`);
    return path.join(CACHE_DIR, name);
  }, 'apt-get download (first run only; cached afterwards)');
  return { deb, kver: kernelVersion(deb) };
}
