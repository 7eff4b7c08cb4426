/**
 * Incremental deploy across real reboots (id r1; VM_SCENARIOS=r1): a deployment dropped by a
 * deploy is parked as the stateroot's spare (src/sysroot/deploy/recycle.ts), survives a reboot,
 * and the next deploy patches it into the new deployment, which must then boot and be, file for
 * file, the checkout of its commit; rollback still works. Four boots of one fresh overlay:
 *
 *  r1a. booted X (the image's commit): commit C1 = X + update 1 and deploy it ([C1, X]); commit
 *       C2 = C1 + update 2 and deploy it ([C2, X]): C1, neither booted nor the merge deployment,
 *       drops out and is parked as the spare; `systemctl reboot`.
 *  r1b. booted C2: commit C3 = C2 + update 3 and deploy it ([C3, C2]): it is made from the spare
 *       (C1's /usr directory, same inode, patched across two updates), and X is parked in its
 *       place; `systemctl reboot`.
 *  r1c. booted C3: a manifest of the booted /usr (type, mode, owner, size, symlink target, and
 *       for files the inode, i.e. the repository object it is a hard link of) equals the one of
 *       a fresh `ostree checkout -H --subpath=/usr C3`; then `ostree admin rollback`, reboot.
 *  r1d. booted C2 again (the rollback), with update 2's /usr content.
 * Each update rewrites a file, adds a directory, removes the previous update's directory
 * (--skip-list), changes a file's mode and a symlink's target; update 3 also removes a file of
 * the distribution.
 */
import * as path from 'node:path';
import { CAT, REBOOT, RUNS, checkBooted, checkSystemctlReboot, runBoot, sec, script, statusDeployments, type Results } from './checks.js';
import { mkdirp } from './common.js';
import { OSNAME, type BuiltImage } from './image.js';
import { createOverlay } from './launch.js';

const SC = 'r1-recycle';
const DEPLOY = `/ostree/deploy/${OSNAME}/deploy`;
const SPARES = `/ostree/deploy/${OSNAME}/recycle`;
/** Removed by update 3 from the distribution's own files. */
const DISTRO_FILE = '/usr/share/base-files/motd';

/** Shell functions of every r1 boot: `booted` prints the booted commit; `update N BASE` commits
 *  update N on top of BASE (printing the new commit); `depdir C` the deployment dir of C. */
const FUNCS = [
  'booted() { ostree admin status | sed -n \'s/^\\* [^ ]* \\([0-9a-f]\\{64\\}\\)\\..*/\\1/p\'; }',
  `depdir() { ls -d ${DEPLOY}/"$1".* | grep -v '\\.origin$' | head -n 1; }`,
  'update() {',
  '  n=$1; base=$2; d=/var/tmp/r1/u$n; rm -rf "$d"; mkdir -p "$d/usr/share/r1/u$n-dir"',
  '  echo "update $n" > "$d/usr/share/r1/version"',
  '  echo "new in update $n" > "$d/usr/share/r1/u$n-dir/file"',
  '  echo "mode flips" > "$d/usr/share/r1/modal"; chmod $([ $((n % 2)) = 1 ] && echo 0755 || echo 0644) "$d/usr/share/r1/modal"',
  '  ln -s "u$n-dir/file" "$d/usr/share/r1/link"',
  '  : > /var/tmp/r1/skip$n; [ "$n" -gt 1 ] && echo "/usr/share/r1/u$((n - 1))-dir" >> /var/tmp/r1/skip$n',
  `  [ "$n" = 3 ] && echo "${DISTRO_FILE}" >> /var/tmp/r1/skip$n`,
  '  ostree commit -b r1/u$n --tree=ref="$base" --tree=dir="$d" --skip-list=/var/tmp/r1/skip$n -s "r1 update $n" 2>/dev/null',
  '}',
].join('\n');

/** Per file: type, mode, owner, size, inode (regular files: the object it links; not for an
 *  empty file, which every checkout makes anew, as upstream does), symlink target. */
const MANIFEST = (dir: string, out: string) =>
  `(cd ${dir} && find . \\( -type f -size 0 -printf 'f %m %U:%G 0 - %p\\n' \\) -o \\( -type f -printf 'f %m %U:%G %s %i %p\\n' \\) -o \\( -type l -printf 'l %U:%G %p -> %l\\n' \\)`
  + ` -o \\( -type d -printf 'd %m %U:%G %p\\n' \\) -o -printf '? %y %p\\n' | LC_ALL=C sort > ${out})`;

export async function runRecycleScenarios(res: Results, img: BuiltImage, want: (s: string) => boolean): Promise<void> {
  if (!want('r1')) return;
  mkdirp(RUNS);
  const disk = await createOverlay(img.disk, path.join(RUNS, 'recycle.qcow2'));
  const c = await twoUpdates(res, img, disk);
  if (c === null) return;
  const c3 = await updateFromSpare(res, disk, c);
  if (c3 === null) return;
  await compareAndRollBack(res, disk, c3, c.c2);
}

function sectionLine(text: string, key: string): string | null {
  return new RegExp(`^${key} ([0-9a-f]{64}|\\d+)$`, 'm').exec(text)?.[1] ?? null;
}

/** r1a: deploy C1, then C2: C1 is parked as the spare. */
async function twoUpdates(res: Results, img: BuiltImage, disk: string): Promise<{ c1: string; c2: string } | null> {
  const s = script('r1a-updates', [
    FUNCS,
    'echo "@@OSTREE-TEST BEGIN r1-deploy"',
    '( set -e',
    'x=$(booted); mkdir -p /var/tmp/r1',
    'c1=$(update 1 "$x"); echo "C1 $c1"',
    `ostree admin deploy --os=${OSNAME} "$c1"`,
    'c2=$(update 2 "$c1"); echo "C2 $c2"',
    `ostree admin deploy --os=${OSNAME} "$c2"`,
    `echo "spares: $(ls ${SPARES})"`,
    'ostree admin status',
    ')',
    'echo "@@OSTREE-TEST END r1-deploy rc=$?"',
    ...REBOOT,
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'r1a-updates', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  checkBooted(res, SC, r, img.commit1);
  const st = sec(r, 'r1-deploy');
  const c1 = sectionLine(st.text, 'C1'), c2 = sectionLine(st.text, 'C2');
  if (!res.check(SC, 'r1a: two updates committed and deployed in the guest', st.rc === 0 && c1 !== null && c2 !== null, st.text.slice(-2500))) return null;
  res.check(SC, 'r1a: the deployment the second deploy dropped (C1) is parked as the spare', new RegExp(`^spares: ${c1}$`, 'm').test(st.text), st.text.slice(-2500));
  checkSystemctlReboot(res, SC, r);
  return { c1: c1!, c2: c2! };
}

/** r1b: booted C2; deploy C3, made from the spare (C1's /usr, same inode); X parked. */
async function updateFromSpare(res: Results, disk: string, c: { c1: string; c2: string }): Promise<string | null> {
  const s = script('r1b-from-spare', [
    FUNCS,
    'echo "@@OSTREE-TEST BEGIN r1-spare"',
    '( set -e',
    `echo "SPARE-INO $(stat -c %i ${SPARES}/${c.c1}/usr)"`,
    `c3=$(update 3 ${c.c2}); echo "C3 $c3"`,
    `ostree admin deploy --os=${OSNAME} "$c3"`,
    'echo "NEW-INO $(stat -c %i "$(depdir "$c3")/usr")"',
    `echo "spares: $(ls ${SPARES})"`,
    ')',
    'echo "@@OSTREE-TEST END r1-spare rc=$?"',
    ...REBOOT,
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'r1b-from-spare', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  checkBooted(res, SC, r, c.c2);
  const st = sec(r, 'r1-spare');
  const c3 = sectionLine(st.text, 'C3');
  if (!res.check(SC, 'r1b: the spare survived the reboot; update 3 committed and deployed', st.rc === 0 && c3 !== null, st.text.slice(-2500))) return null;
  const spareIno = sectionLine(st.text, 'SPARE-INO'), newIno = sectionLine(st.text, 'NEW-INO');
  res.check(SC, `r1b: the new deployment was made from the spare (its /usr is the spare's directory, inode ${spareIno})`,
    spareIno !== null && spareIno === newIno, st.text.slice(-2500));
  res.check(SC, 'r1b: the deployment dropped this time (the image\'s X, not booted) is the spare now', /^spares: [0-9a-f]{64}$/m.test(st.text)
    && !st.text.includes(`spares: ${c.c1}`), st.text.slice(-2500));
  checkSystemctlReboot(res, SC, r);
  return c3;
}

/** r1c + r1d: the booted /usr is C3's fresh checkout; rollback to C2 boots. */
async function compareAndRollBack(res: Results, disk: string, c3: string, c2: string): Promise<void> {
  const s = script('r1c-compare', [
    'echo "@@OSTREE-TEST BEGIN r1-compare"',
    '( set -e',
    'rm -rf /sysroot/r1-fresh /var/tmp/r1/m-*',
    `ostree checkout -H --subpath=/usr ${c3} /sysroot/r1-fresh`,
    MANIFEST('/usr', '/var/tmp/r1/m-booted'),
    MANIFEST('/sysroot/r1-fresh', '/var/tmp/r1/m-fresh'),
    'echo "ENTRIES $(wc -l < /var/tmp/r1/m-fresh)"',
    'if cmp -s /var/tmp/r1/m-booted /var/tmp/r1/m-fresh; then echo SAME-TREE; else diff /var/tmp/r1/m-fresh /var/tmp/r1/m-booted | head -n 40; fi',
    'echo "version: $(cat /usr/share/r1/version); modal: $(stat -c %a /usr/share/r1/modal); link: $(readlink /usr/share/r1/link)"',
    `ls -d /usr/share/r1/u1-dir /usr/share/r1/u2-dir ${DISTRO_FILE} 2>&1 | sed 's/^/gone? /'`,
    'rm -rf /sysroot/r1-fresh',
    ')',
    'echo "@@OSTREE-TEST END r1-compare rc=$?"',
    CAT('r1-rollback', 'ostree admin rollback'),
    ...REBOOT,
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'r1c-compare', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s }] });
  checkBooted(res, SC, r, c3);
  const cmp = sec(r, 'r1-compare');
  const entries = Number(sectionLine(cmp.text, 'ENTRIES') ?? 0);
  res.check(SC, `r1c: the booted /usr (patched from the spare) is the fresh checkout of C3, entry for entry (${entries} entries: type, mode, owner, size, object inode, symlink target)`,
    cmp.rc === 0 && /^SAME-TREE$/m.test(cmp.text) && entries > 1000, cmp.text.slice(-3000));
  res.check(SC, 'r1c: update 3\'s content: rewritten file, mode, symlink; the previous updates\' directories and the removed distribution file are gone',
    /^version: update 3; modal: 755; link: u3-dir\/file$/m.test(cmp.text) && (cmp.text.match(/^gone\? .*No such file/gm) ?? []).length === 3, cmp.text.slice(-3000));
  res.check(SC, 'r1c: `ostree admin rollback` succeeds', sec(r, 'r1-rollback').rc === 0, sec(r, 'r1-rollback').text.slice(-2000));
  checkSystemctlReboot(res, SC, r);
  const s2 = script('r1d-rolled-back', CAT('r1-version', 'cat /usr/share/r1/version; ls -1 /usr/share/r1'));
  const r2 = await runBoot(res, { name: 'r1d-rolled-back', disk, fwCfg: [{ name: 'opt/ostree-ts/script', file: s2 }] });
  checkBooted(res, SC, r2, c2);
  res.check(SC, 'r1d: the rollback (C2) booted with update 2\'s /usr', /^update 2$/m.test(sec(r2, 'r1-version').text)
    && /^u2-dir$/m.test(sec(r2, 'r1-version').text), sec(r2, 'r1-version').text);
  const deps = statusDeployments(sec(r2, 'status').text);
  res.check(SC, 'r1d: status lists C2 (booted) then C3', deps.length === 2 && deps[0]!.startsWith(c2) && deps[1]!.startsWith(c3), sec(r2, 'status').text);
}
