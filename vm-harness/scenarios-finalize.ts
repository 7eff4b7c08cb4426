/**
 * Finalize at shutdown (id f1; VM_SCENARIOS=f1): how long ostree-finalize-staged.service takes
 * to finalize a staged deployment of a ~30k-file tree, from the guest's own journal.
 *
 *  f1a. BIOS boot of a fresh overlay of the OSTree disk: a commit of the booted tree plus enough
 *       small files under /usr/share/f1-bulk to make F1_FILES (30000) files in all, committed in
 *       the guest on top of the booted commit (`--tree=ref=` + `--tree=dir=`), staged with
 *       `ostree admin deploy --stage`; then `systemctl reboot` finalizes it at shutdown.
 *  f1b. The next boot: it runs the staged commit; the previous boot's journal gives the time
 *       from systemd's "Stopping ostree-finalize-staged.service" to its "Stopped"/"Deactivated"
 *       line (and the unit's own "Consumed ... CPU time"). Printed, and checked against
 *       F1_LIMIT_S (10 s; under TCG emulation the guest runs many times slower than a real
 *       machine, so a miss there is reported as it is).
 */
import * as path from 'node:path';
import { CAT, REBOOT, RUNS, checkSystemctlReboot, runBoot, script, sec, type Results } from './checks.js';
import { log, mkdirp } from './common.js';
import { BRANCH, OSNAME, type BuiltImage } from './image.js';
import { createOverlay } from './launch.js';

const FILES = Number(process.env['F1_FILES'] ?? 30000);
const LIMIT_S = Number(process.env['F1_LIMIT_S'] ?? 10);
/** Staging 30k files and finalizing them under TCG takes far longer than a plain boot. */
const TIMEOUT_MS = 4 * Number(process.env['VM_BOOT_TIMEOUT'] ?? 300) * 1000;

export async function runFinalizeScenarios(res: Results, img: BuiltImage, want: (s: string) => boolean): Promise<void> {
  if (!want('f1')) return;
  mkdirp(RUNS);
  const disk = await createOverlay(img.disk, path.join(RUNS, 'finalize.qcow2'));
  const staged = await stageLarge(res, disk);
  if (staged === null) return;
  await measure(res, disk, staged);
}

/** f1a: commit the booted tree + bulk files (FILES in all) and stage it; reboot. */
async function stageLarge(res: Results, disk: string): Promise<string | null> {
  const s = script('f1-stage', [
    'echo "@@OSTREE-TEST BEGIN f1-stage"',
    '( set -e',
    'booted=$(ostree admin status | sed -n \'s/^\\* [^ ]* \\([0-9a-f]\\{64\\}\\)\\..*/\\1/p\')',
    `[ -n "$booted" ] || booted=$(ostree rev-parse ${BRANCH})`,
    'have=$(ostree ls -R "$booted" | grep -c "^-")',
    `want=${FILES}`,
    'extra=$(( want > have ? want - have : 0 ))',
    'echo "booted commit $booted has $have files; adding $extra"',
    'rm -rf /var/tmp/f1 && mkdir -p /var/tmp/f1/usr/share/f1-bulk',
    'i=0; while [ $i -lt $extra ]; do d=/var/tmp/f1/usr/share/f1-bulk/d$((i / 150)); [ -d $d ] || mkdir $d; echo "f1 file $i" > $d/f$i; i=$((i + 1)); done',
    `new=$(ostree commit -b f1/large --tree=ref="$booted" --tree=dir=/var/tmp/f1 -s "f1: $want files")`,
    'echo "committed $new"',
    't0=$(date +%s.%N)',
    `ostree admin deploy --stage --os=${OSNAME} "$new"`,
    'echo "staged in $(awk "BEGIN { print $(date +%s.%N) - $t0 }") s"',
    'echo "F1-COMMIT $new"',
    'rm -rf /var/tmp/f1',
    ')',
    'echo "@@OSTREE-TEST END f1-stage rc=$?"',
    ...REBOOT,
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'f1-stage', disk, firmware: 'bios', fwCfg: [{ name: 'opt/ostree-ts/script', file: s }], timeoutMs: TIMEOUT_MS });
  const st = sec(r, 'f1-stage');
  const commit = /F1-COMMIT ([0-9a-f]{64})/.exec(st.text)?.[1] ?? null;
  res.check('f1-finalize', `a commit of ${FILES} files is staged (ostree admin deploy --stage)`, st.rc === 0 && commit !== null, st.text.slice(-2000));
  checkSystemctlReboot(res, 'f1-finalize', r);
  return commit;
}

/** f1b: the staged commit booted; the finalize time from the previous boot's journal. */
async function measure(res: Results, disk: string, commit: string): Promise<void> {
  const s = script('f1-measure', [
    CAT('f1-booted', 'ostree admin status'),
    CAT('f1-journal', 'journalctl --no-pager -b -1 -o short-unix -u ostree-finalize-staged.service'),
  ].join('\n') + '\n');
  const r = await runBoot(res, { name: 'f1-measure', disk, firmware: 'bios', fwCfg: [{ name: 'opt/ostree-ts/script', file: s }], timeoutMs: TIMEOUT_MS });
  const booted = sec(r, 'f1-booted').text;
  res.check('f1-finalize', 'the finalized deployment of the large commit is the one booted', new RegExp(`^\\* \\S+ ${commit}\\.\\d+`, 'm').test(booted), booted);
  const j = sec(r, 'f1-journal').text;
  const at = (re: RegExp): number | null => { const m = new RegExp(`^(\\d+\\.\\d+) .*${re.source}`, 'm').exec(j); return m ? Number(m[1]) : null; };
  const start = at(/Stopping ostree-finalize-staged\.service/);
  const end = at(/(Stopped ostree-finalize-staged\.service|ostree-finalize-staged\.service: Deactivated successfully)/);
  const cpu = /ostree-finalize-staged\.service: Consumed (.*) CPU time/.exec(j)?.[1] ?? 'n/a';
  const took = start !== null && end !== null ? end - start : null;
  // Where it went: start-up until ours logs its first line, the /etc merge, the boot write, the rest (cleanup).
  const marks = [start, at(/Finalizing staged deployment/), at(/Copying \/etc changes/), at(/(Transaction complete|Bootloader updated)/), end];
  const names = ['start-up', 'to /etc merged', 'boot write', 'cleanup'];
  const split = marks.slice(1).map((m, i) => (m !== null && marks[i] !== null ? `${names[i]} ${(m - marks[i]!).toFixed(1)} s` : `${names[i]} n/a`)).join(', ');
  log(`f1: ostree-finalize-staged.service at shutdown took ${took === null ? 'n/a' : `${took.toFixed(2)} s`} (CPU ${cpu}) for ${FILES} files: ${split}`);
  res.check('f1-finalize', `ostree-finalize-staged.service at shutdown took ${took === null ? 'n/a' : `${took.toFixed(2)} s`} (CPU ${cpu}; ${split}); target < ${LIMIT_S} s`,
    took !== null && took < LIMIT_S, j.slice(-3000));
}
