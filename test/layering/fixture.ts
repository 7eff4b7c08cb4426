/**
 * The layering tests' world: a tmpfs sysroot deployed from a real Debian 12 minbase (the VM
 * harness's cached debootstrap tree, made once per machine), with its dpkg database moved
 * under /usr as the image does, and a local apt repository (dpkg-scanpackages) holding real
 * packages fetched once with `apt-get download` into DEB_CACHE.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { ensureBaseTarball } from '../../vm-harness/caches.js';
import { ostreeifyDpkgDatabase } from '../../src/layering/base-tree.js';
import { CLI } from '../common/sysroot-helpers.js';

export const DEB_CACHE = process.env['OSTREE_TS_DEB_CACHE'] ?? '/var/cache/ostree-ts-debs';

/** `apt-get download` of `pkgs` into DEB_CACHE unless there; returns their paths. */
export function fetchDebs(pkgs: string[]): string[] {
  fs.mkdirSync(DEB_CACHE, { recursive: true });
  const have = (p: string): string | undefined => fs.readdirSync(DEB_CACHE).find((f) => f.startsWith(`${p}_`) && f.endsWith('.deb'));
  const missing = pkgs.filter((p) => !have(p));
  if (missing.length) execFileSync('apt-get', ['download', ...missing], { cwd: DEB_CACHE, stdio: 'ignore' });
  return pkgs.map((p) => path.join(DEB_CACHE, have(p)!));
}

export function ours(args: string[], env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export const APT_OSTREE = path.resolve(path.dirname(CLI), '../cli-apt-ostree/main.js');

export function aptOstree(sysroot: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [APT_OSTREE, ...args], { encoding: 'utf8', env: { ...process.env, OSTREE_SYSROOT: sysroot } });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function must(r: { status: number; stderr: string }, what: string): void {
  if (r.status !== 0) throw new Error(`${what}: ${r.stderr}`);
}

export interface World { dir: string; fileCount: number; sysroot: string; repoDir: string; stateroot: string; deployEtc(): string; cleanup(): void }

/** A local apt repository at `dir` holding `debs`. */
export function makeAptRepo(dir: string, debs: string[]): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const d of debs) fs.copyFileSync(d, path.join(dir, path.basename(d)));
  const packages = execFileSync('dpkg-scanpackages', ['--multiversion', '.'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  fs.writeFileSync(path.join(dir, 'Packages'), packages);
  return `deb [trusted=yes] file:${dir} ./\n`;
}

/** `n` small files under usr/share/filler (the benchmark's 30k-file base). */
function addFiller(tree: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const d = path.join(tree, 'usr/share/filler', String(i % 200));
    if (i < 200) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `f${i}`), `filler file ${i}\n`.repeat(1 + (i % 7)));
  }
}

function countFiles(tree: string): number {
  return Number(execFileSync('sh', ['-c', `find '${tree}' -type f -o -type l | wc -l`], { encoding: 'utf8' }).trim());
}

/** Build the world (about 10 s: unpack, commit, deploy); `totalFiles`: filler files up to that many. */
export async function makeWorld(o: { totalFiles?: number } = {}): Promise<World> {
  const dir = fs.mkdtempSync('/tmp/apt-ostree-test-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3g', 'tmpfs', dir]);
  const cleanup = (): void => {
    spawnSync('chattr', ['-R', '-i', dir], { stdio: 'ignore' });
    spawnSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(tree);
    execFileSync('sh', ['-c', `zstd -dc < '${await ensureBaseTarball()}' | tar --numeric-owner --xattrs -C '${tree}' -xf -`]);
    ostreeifyTestTree(tree);
    if (o.totalFiles) addFiller(tree, o.totalFiles - countFiles(tree));
    const sysroot = path.join(dir, 'sysroot');
    fs.mkdirSync(sysroot);
    const repoDir = path.join(sysroot, 'ostree/repo');
    must(ours(['admin', 'init-fs', sysroot]), 'init-fs');
    must(ours(['admin', 'os-init', `--sysroot=${sysroot}`, 'debian']), 'os-init');
    must(ours([`--repo=${repoDir}`, 'commit', '-b', 'debian/stable', `--tree=dir=${tree}`, '-s', 'base', '--add-metadata-string=version=12.1']), 'commit');
    must(ours(['admin', 'deploy', `--sysroot=${sysroot}`, '--os=debian', 'debian/stable']), 'deploy');
    const fileCount = countFiles(tree);
    fs.rmSync(tree, { recursive: true, force: true });
    const deployEtc = (): string => {
      const d = path.join(sysroot, 'ostree/deploy/debian/deploy');
      const first = fs.readdirSync(d).filter((n) => !n.endsWith('.origin')).sort()[0]!;
      return path.join(d, first, 'etc');
    };
    return { dir, fileCount, sysroot, repoDir, stateroot: 'debian', deployEtc, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** The OSTree layout of the test tree: /etc in /usr/etc, dpkg database under /usr, /var empty, a kernel. */
function ostreeifyTestTree(tree: string): void {
  const t = (p: string): string => path.join(tree, p);
  for (const d of ['dev', 'proc', 'sys', 'run', 'tmp', 'boot']) { fs.rmSync(t(d), { recursive: true, force: true }); fs.mkdirSync(t(d)); }
  ostreeifyDpkgDatabase(tree);
  fs.renameSync(t('etc'), t('usr/etc'));
  fs.rmSync(t('var'), { recursive: true, force: true });
  fs.mkdirSync(t('var'));
  fs.mkdirSync(t('usr/lib/modules/6.1.0-test'), { recursive: true });
  fs.writeFileSync(t('usr/lib/modules/6.1.0-test/vmlinuz'), 'kernel\n');
  fs.writeFileSync(t('usr/lib/modules/6.1.0-test/initramfs.img'), 'initramfs\n');
}

/** A .deb built with the real dpkg-deb from `files` (path -> content) and control fields. */
export function buildDeb(dir: string, name: string, o: { files?: Record<string, string>; depends?: string; postinst?: string; version?: string }): string {
  const root = path.join(dir, `${name}-build`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  const control = [`Package: ${name}`, `Version: ${o.version ?? '1.0'}`, 'Architecture: all', 'Maintainer: test <t@example.org>',
    ...(o.depends ? [`Depends: ${o.depends}`] : []), `Description: apt-ostree test package ${name}`, ''].join('\n');
  fs.writeFileSync(path.join(root, 'DEBIAN/control'), control);
  if (o.postinst) fs.writeFileSync(path.join(root, 'DEBIAN/postinst'), o.postinst, { mode: 0o755 });
  for (const [p, c] of Object.entries(o.files ?? { [`usr/share/${name}/README`]: `${name}\n` })) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), c);
  }
  const deb = path.join(dir, `${name}_${o.version ?? '1.0'}_all.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb], { stdio: 'ignore' });
  return deb;
}

/** Names of the deployment directories, and the bootloader entries: what must not change on failure. */
export function snapshot(w: World): string {
  const d = path.join(w.sysroot, 'ostree/deploy/debian/deploy');
  const loader = path.join(w.sysroot, 'boot/loader/entries');
  const entries = fs.existsSync(loader) ? fs.readdirSync(loader).sort().map((e) => `${e}:${fs.readFileSync(path.join(loader, e), 'utf8')}`) : [];
  return JSON.stringify([fs.readdirSync(d).sort(), entries]);
}

/** Scratch directories apt-ostree left in the repository's tmp/. */
export function leftovers(w: World): string[] {
  return fs.readdirSync(path.join(w.repoDir, 'tmp')).filter((n) => n.startsWith('apt-ostree-'));
}
