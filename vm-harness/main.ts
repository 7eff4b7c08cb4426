/**
 * Entry point of the VM harness: `node dist/vm-harness/main.js image|demo|test|boot`.
 *   image   build (or reuse) every disk: the OSTree disk, the update disk, the plain-root disk
 *   demo    build (or reuse) the OSTree disk only, boot it, print `ostree admin status` from the guest
 *   test    the boot scenarios (plain baseline, first boot, offline update, rollback, GRUB menu,
 *           broken ostree=, dracut, failed finalization)
 *   boot    boot the OSTree disk once (throwaway overlay), print the serial log; an optional
 *           script file runs in the guest (passed through fw_cfg)
 * The environment variables are listed in vm.mk's header and the README.
 */
import * as path from 'node:path';
import { WORK_DIR, log } from './common.js';
import { BOOT_TIMEOUT_MS } from './checks.js';
import { ensureOstreeImage, ensureTestImages, type OstreeImage } from './image.js';
import { boot, createOverlay, detectBackend, sections, type BootResult } from './launch.js';
import { phase, seconds } from './progress.js';
import { runScenarios } from './scenarios.js';

const START = Date.now();

/** One boot of the OSTree disk on a throwaway overlay, shown as a phase with the boot's stages. */
async function bootOstreeDisk(img: OstreeImage, name: string, script?: string): Promise<BootResult> {
  const backend = await detectBackend();
  const overlay = await createOverlay(img.disk, path.join(WORK_DIR, `runs/${name}.qcow2`));
  const accel = process.env['VM_ACCEL'] === 'kvm' ? 'KVM' : 'TCG: software emulation, 40 s on an idle machine';
  return phase('boot', (p) => boot({
    name, disk: overlay, serialLog: path.join(WORK_DIR, `runs/${name}.log`), timeoutMs: BOOT_TIMEOUT_MS,
    fwCfg: script ? [{ name: 'opt/ostree-ts/script', file: path.resolve(script) }] : [],
    onMilestone: (t) => p.note(t),
  }), `the OSTree disk under ${backend} (${accel})`);
}

/** The console also carries systemd's status lines and kernel messages: drop those. */
function consoleText(t: string): string {
  return t.split('\n').filter((l) => !/\x1b\[|^\[\s*\d+\.\d+\]/.test(l)).join('\n');
}

async function demo(): Promise<number> {
  const img = await ensureOstreeImage();
  const r = await bootOstreeDisk(img, 'demo');
  const s = sections(r.log);
  const status = s.get('status');
  const serialLog = path.join(WORK_DIR, 'runs/demo.log');
  if (!status) {
    process.stdout.write(r.log.slice(-4000));
    log(`demo: no status from the guest (timed out: ${r.timedOut}); serial log: ${serialLog}`);
    return 1;
  }
  process.stdout.write(`\nBooted ${img.disk} under QEMU (${r.backend}): the guest was up after ${seconds(r.bootedMs ?? 0)}.\n`);
  process.stdout.write(`guest$ ostree admin status   (exit ${status.rc})\n${consoleText(status.text)}`);
  for (const [k, dir] of [['findmnt-usr', '/usr'], ['findmnt-var', '/var']] as const) {
    const x = s.get(k);
    if (x) process.stdout.write(`guest$ findmnt ${dir}\n${consoleText(x.text)}`);
  }
  process.stdout.write(`\nvm-demo: done in ${seconds(Date.now() - START)} (serial log: ${serialLog})\n`);
  return status.rc === 0 ? 0 : 1;
}

async function bootOnce(): Promise<number> {
  const img = await ensureOstreeImage();
  const r = await bootOstreeDisk(img, 'boot', process.argv[3]);
  process.stdout.write(r.log);
  log(`booted marker at ${r.bootedMs} ms, GRUB at ${r.grubMs} ms, total ${r.totalMs} ms, timed out: ${r.timedOut}`);
  return r.bootedMs === null ? 1 : 0;
}

async function main(): Promise<number> {
  const cmd = process.argv[2];
  switch (cmd) {
    case 'image': await ensureTestImages(); return 0;
    case 'demo': return demo();
    case 'test': {
      const img = await ensureTestImages();
      await detectBackend();
      return runScenarios(img);
    }
    case 'boot': return bootOnce();
    default:
      process.stderr.write('usage: node dist/vm-harness/main.js image|demo|test|boot [SCRIPT]\n');
      return 2;
  }
}

main().then((rc) => { process.exitCode = rc; }, (e: unknown) => {
  process.stderr.write(`vm-harness: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
