/**
 * `make vm-test`, package layering with apt-ostree: the Fedora CoreOS session of rpm-ostree,
 * replayed on our Debian image with .debs.
 *  l1. status before; `apt-ostree install tcpdump` from a local apt repository (dpkg-scanpackages)
 *      on a third disk, libpcap0.8 resolved by apt; status shows `Diff: 2 added` and
 *      `LayeredPackages: tcpdump`; tcpdump is absent until the reboot; `ostree refs` lists the
 *      package and base refs; `ostree ls -R` of the package ref lists its files; `ostree admin
 *      status` shows the layered deployment as `origin: <unknown origin type>`; `systemctl reboot`
 *  l2. tcpdump present, its system user in /etc/passwd, `dpkg -l` through /var/lib/dpkg;
 *      `rebase -b debian/testing` (a branch on that disk) keeps tcpdump; `uninstall tcpdump`
 *      prints `Removed:`; `rollback` prints `Moving '<checksum>.<serial>' to be first deployment`
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BOOT_TIMEOUT_MS, CAT, REBOOT, RUNS, STATUS_SNIPPET, checkSystemctlReboot, clean, runBoot, script, sec, type Results } from './checks.js';
import { PROJECT_DIR, WORK_DIR, mkdirp, rmrf, run } from './common.js';
import { makeExt4Image } from './disk.js';
import { BRANCH, type BuiltImage } from './image.js';
import { createOverlay } from './launch.js';
import { phase } from './progress.js';

const LABEL = 'apt-ostree-pkgs';
export const TESTING_BRANCH = 'debian/testing';
const DEB_CACHE = process.env['OSTREE_TS_DEB_CACHE'] ?? '/var/cache/ostree-ts-debs';
const PKG_REF = 'apt-ostree/pkg/tcpdump/4.99.3-1.amd64';

/** tcpdump and libpcap0.8 (apt-get download, cached), as a trusted flat apt repository. */
async function aptRepo(dir: string): Promise<void> {
  mkdirp(DEB_CACHE);
  for (const p of ['tcpdump', 'libpcap0.8']) {
    if (!fs.readdirSync(DEB_CACHE).some((f) => f.startsWith(`${p}_`))) await run('apt-get', ['download', p], { cwd: DEB_CACHE });
    const f = fs.readdirSync(DEB_CACHE).find((x) => x.startsWith(`${p}_`) && x.endsWith('.deb'))!;
    fs.copyFileSync(path.join(DEB_CACHE, f), path.join(dir, f));
  }
  fs.writeFileSync(path.join(dir, 'Packages'), await run('dpkg-scanpackages', ['--multiversion', '.'], { cwd: dir }));
}

/** The third disk: `apt/` (the apt repository) and `repo/` (an archive repo with TESTING_BRANCH). */
async function buildPackagesDisk(): Promise<string> {
  const dir = path.join(WORK_DIR, 'layering');
  rmrf(dir);
  mkdirp(path.join(dir, 'apt'));
  await aptRepo(path.join(dir, 'apt'));
  const ours = (args: string[]): Promise<string> => run(process.execPath, [path.join(PROJECT_DIR, 'dist/src/cli/main.js'), ...args]);
  const repo = path.join(dir, 'repo');
  await ours([`--repo=${repo}`, 'init', '--mode=archive']);
  await ours([`--repo=${repo}`, 'pull-local', path.join(WORK_DIR, 'update/repo'), BRANCH]);
  await ours([`--repo=${repo}`, 'commit', `--branch=${TESTING_BRANCH}`, `--tree=ref=${BRANCH}`, '--subject=testing stream',
    '--add-metadata-string=version=testing.1']);
  const disk = path.join(WORK_DIR, 'layering.img');
  await makeExt4Image(dir, LABEL, disk, 64);
  return disk;
}

/** The serial log is read byte for byte (latin1): give the guest's UTF-8 (`●`) back its characters. */
function utf8(text: string): string {
  return /[\u00c0-\u00ff][\u0080-\u00bf]/.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text;
}

const MOUNT = [
  'mkdir -p /run/pkgs',
  `mount -o ro LABEL=${LABEL} /run/pkgs || mount -o ro /dev/vdb /run/pkgs`,
  'rm -f /etc/apt/sources.list',
  'echo "deb [trusted=yes] file:/run/pkgs/apt ./" > /etc/apt/sources.list.d/local.list',
];

export async function runLayeringScenarios(res: Results, img: BuiltImage, want: (s: string) => boolean): Promise<void> {
  if (!want('l1') && !want('l2')) return;
  const pkgDisk = await phase('layering disk', () => buildPackagesDisk(), 'tcpdump + libpcap0.8 apt repository, debian/testing branch');
  const disk = await createOverlay(img.disk, path.join(RUNS, 'layering.qcow2'));
  const s1 = script('l1-install', [...MOUNT,
    CAT('status-before', 'apt-ostree status'),
    CAT('install', 'apt-ostree install tcpdump'),
    CAT('status-after', 'apt-ostree status'),
    CAT('which-before', 'command -v tcpdump || echo absent'),
    CAT('refs', 'ostree refs'),
    CAT('ls-pkg', `ostree ls -R ${PKG_REF}`),
    STATUS_SNIPPET('status'),
    ...REBOOT].join('\n') + '\n');
  const r1 = await runBoot(res, { name: 'l1-install', disk, extraDisks: [pkgDisk], timeoutMs: 3 * BOOT_TIMEOUT_MS, fwCfg: [{ name: 'opt/ostree-ts/script', file: s1 }] });
  const t = (name: string): string => utf8(clean(sec(r1, name).text));
  res.check('l1-layering', '`apt-ostree status` before: State: idle, one deployment (●) with Commit:',
    /^State: idle$/m.test(t('status-before')) && /^● debian\/bookworm$/m.test(t('status-before')) && / {20}Commit: [0-9a-f]{64}/.test(t('status-before')), t('status-before'));
  res.check('l1-layering', '`apt-ostree install tcpdump`: libpcap0.8 resolved by apt, Added: both, reboot hint',
    sec(r1, 'install').rc === 0 && /Added:\n {2}libpcap0\.8-[^\n]+\n {2}tcpdump-4\.99\.3-1\.amd64/.test(t('install')) && t('install').includes('Run "systemctl reboot"'), t('install'));
  res.check('l1-layering', 'status: pending deployment with `Diff: 2 added` and `LayeredPackages: tcpdump`',
    / {22}Diff: 2 added\n {11}LayeredPackages: tcpdump/.test(t('status-after')) && / {16}BaseCommit: [0-9a-f]{64}/.test(t('status-after')), t('status-after'));
  res.check('l1-layering', 'tcpdump is absent from the running system until the reboot', t('which-before').trim() === 'absent', t('which-before'));
  res.check('l1-layering', '`ostree refs` lists the package refs and apt-ostree/base/0',
    t('refs').includes(PKG_REF) && t('refs').includes('apt-ostree/pkg/libpcap0.8/') && t('refs').includes('apt-ostree/base/0'), t('refs'));
  res.check('l1-layering', '`ostree ls -R` of the package ref lists its files (/usr/bin/tcpdump, /usr/etc/apparmor.d/...)',
    / \/usr\/bin\/tcpdump$/m.test(t('ls-pkg')) && / \/usr\/etc\/apparmor\.d\/usr\.bin\.tcpdump$/m.test(t('ls-pkg')), t('ls-pkg'));
  res.check('l1-layering', '`ostree admin status`: the layered deployment says `origin: <unknown origin type>`',
    /origin: <unknown origin type>/.test(t('status')) && /origin refspec: debian\/bookworm/.test(t('status')), t('status'));
  checkSystemctlReboot(res, 'l1-layering', r1);
  if (want('l2')) await afterReboot(res, disk, pkgDisk);
}

async function afterReboot(res: Results, disk: string, pkgDisk: string): Promise<void> {
  const s2 = script('l2-layered', [
    CAT('which-after', 'command -v tcpdump && tcpdump --version'),
    CAT('passwd', 'getent passwd tcpdump'),
    CAT('dpkg-l', 'dpkg -l tcpdump | tail -1'),
    ...MOUNT,
    `ostree pull-local /run/pkgs/repo ${TESTING_BRANCH}`,
    CAT('rebase', `apt-ostree rebase -b ${TESTING_BRANCH}`),
    CAT('status-rebased', 'apt-ostree status'),
    CAT('uninstall', 'apt-ostree uninstall tcpdump'),
    CAT('rollback', 'apt-ostree rollback'),
    CAT('status-end', 'apt-ostree status --json'),
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'l2-layered', disk, extraDisks: [pkgDisk], timeoutMs: 4 * BOOT_TIMEOUT_MS, fwCfg: [{ name: 'opt/ostree-ts/script', file: s2 }] });
  const t = (name: string): string => utf8(clean(sec(r, name).text));
  res.check('l2-layering', 'after `systemctl reboot`: tcpdump is on the PATH and runs', sec(r, 'which-after').rc === 0 && /tcpdump version 4\.99\.3/.test(t('which-after')), t('which-after'));
  res.check('l2-layering', "its postinst's system user is in /etc/passwd", /^tcpdump:x:\d+:\d+::\/nonexistent:/m.test(t('passwd')), t('passwd'));
  res.check('l2-layering', '`dpkg -l tcpdump` (the deployment\'s own database via /var/lib/dpkg): ii', /^ii {2}tcpdump +4\.99\.3-1/m.test(t('dpkg-l')), t('dpkg-l'));
  res.check('l2-layering', `\`rebase -b ${TESTING_BRANCH}\` keeps tcpdump layered on the new base`,
    sec(r, 'rebase').rc === 0 && /^ {2}debian\/testing$/m.test(t('status-rebased')) && / {19}Version: testing\.1 /.test(t('status-rebased')) &&
    /LayeredPackages: tcpdump/.test(t('status-rebased')), t('rebase') + t('status-rebased'));
  res.check('l2-layering', '`uninstall tcpdump` prints Removed:', sec(r, 'uninstall').rc === 0 && /Removed:\n {2}libpcap0\.8-[^\n]+\n {2}tcpdump-4\.99\.3-1\.amd64/.test(t('uninstall')), t('uninstall'));
  res.check('l2-layering', "`rollback` prints Moving '<checksum>.<serial>' to be first deployment",
    sec(r, 'rollback').rc === 0 && /^Moving '[0-9a-f]{64}\.\d+' to be first deployment$/m.test(t('rollback')), t('rollback'));
}
