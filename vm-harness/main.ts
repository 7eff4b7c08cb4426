/**
 * Entry point of the VM harness: `node dist/vm-harness/main.js image|demo|test|boot`.
 *   image   build (or reuse) every disk: the OSTree disk, the update disk, the plain-root disk
 *   demo    build (or reuse) the OSTree disk only, boot it under FIRMWARE (bios, uefi, secureboot),
 *           print `ostree admin status` and `mokutil --sb-state` from the guest
 *   test    the boot scenarios (plain baseline, first boot, offline update, rollback, GRUB menu,
 *           broken ostree=, dracut, failed finalization)
 *   boot    boot the OSTree disk once (throwaway overlay), print the serial log; an optional
 *           script file runs in the guest (passed through fw_cfg)
 * The environment variables are listed in vm.mk's header and the README.
 */
import * as path from 'node:path';
import { WORK_DIR, log } from './common.js';
import { BOOT_TIMEOUT_MS, CAT } from './checks.js';
import { parseFirmware, type Firmware } from './firmware.js';
import { ensureOstreeImage, ensureTestImages, type OstreeImage } from './image.js';
import { boot, createOverlay, detectBackend, sections, type BootResult } from './launch.js';
import { ensureLibvirtd, releaseLibvirtd } from './libvirt.js';
import { phase, seconds } from './progress.js';
import { writeFile } from './common.js';
import { runScenarios } from './scenarios.js';

const START = Date.now();

/** One boot of the OSTree disk on a throwaway overlay, shown as a phase with the boot's stages. */
async function bootOstreeDisk(img: OstreeImage, name: string, script?: string, firmware: Firmware = 'bios'): Promise<BootResult> {
  const backend = await detectBackend();
  const overlay = await createOverlay(img.disk, path.join(WORK_DIR, `runs/${name}.qcow2`));
  const accel = process.env['VM_ACCEL'] === 'kvm' ? 'KVM' : 'TCG: software emulation, 40 s on an idle machine';
  return phase('boot', (p) => boot({
    name, disk: overlay, firmware, serialLog: path.join(WORK_DIR, `runs/${name}.log`), timeoutMs: BOOT_TIMEOUT_MS,
    fwCfg: script ? [{ name: 'opt/ostree-ts/script', file: path.resolve(script) }] : [],
    onMilestone: (t) => p.note(t),
  }), `the OSTree disk under ${backend}, ${firmware} firmware (${accel})`);
}

/** The console also carries systemd's status lines and kernel messages: drop those. */
function consoleText(t: string): string {
  return t.split('\n').filter((l) => !/\x1b\[|^\[\s*\d+\.\d+\]/.test(l)).join('\n');
}

async function demo(): Promise<number> {
  const firmware = parseFirmware(process.env['FIRMWARE'], 'FIRMWARE');
  const img = await ensureOstreeImage();
  const sb = path.join(WORK_DIR, 'runs/demo-sb-state.sh');
  writeFile(sb, `#!/bin/sh\n${CAT('sb-state', 'mokutil --sb-state')}`);
  const r = await bootOstreeDisk(img, 'demo', sb, firmware);
  const s = sections(r.log);
  const status = s.get('status');
  const serialLog = path.join(WORK_DIR, 'runs/demo.log');
  if (!status) {
    process.stdout.write(r.log.slice(-4000));
    log(`demo: no status from the guest (timed out: ${r.timedOut}); serial log: ${serialLog}`);
    return 1;
  }
  process.stdout.write(`\nBooted ${img.disk} under QEMU (${r.backend}, ${firmware} firmware): the guest was up after ${seconds(r.bootedMs ?? 0)}.\n`);
  process.stdout.write(`guest$ ostree admin status   (exit ${status.rc})\n${consoleText(status.text)}`);
  for (const [k, dir] of [['findmnt-usr', '/usr'], ['findmnt-var', '/var']] as const) {
    const x = s.get(k);
    if (x) process.stdout.write(`guest$ findmnt ${dir}\n${consoleText(x.text)}`);
  }
  const sbState = s.get('sb-state');
  if (sbState) process.stdout.write(`guest$ mokutil --sb-state   (exit ${sbState.rc})\n${consoleText(sbState.text)}`);
  process.stdout.write(`\nvm-demo: done in ${seconds(Date.now() - START)} (serial log: ${serialLog})\n`);
  return status.rc === 0 ? 0 : 1;
}

async function bootOnce(): Promise<number> {
  const img = await ensureOstreeImage();
  const r = await bootOstreeDisk(img, 'boot', process.argv[3], parseFirmware(process.env['FIRMWARE'], 'FIRMWARE'));
  process.stdout.write(r.log);
  log(`booted marker at ${r.bootedMs} ms, GRUB at ${r.grubMs} ms, total ${r.totalMs} ms, timed out: ${r.timedOut}`);
  return r.bootedMs === null ? 1 : 0;
}

/** Run `f` with libvirtd up (started here if needed, unless VM_BACKEND=qemu), then release it. */
async function withLibvirt(f: () => Promise<number>): Promise<number> {
  if (process.env['VM_BACKEND'] === 'qemu') return f();
  await ensureLibvirtd();
  try {
    return await f();
  } finally {
    await releaseLibvirtd();
  }
}

async function main(): Promise<number> {
  const cmd = process.argv[2];
  switch (cmd) {
    case 'image': await ensureTestImages(); return 0;
    case 'demo': return withLibvirt(demo);
    case 'test': {
      const img = await ensureTestImages();
      return withLibvirt(async () => {
        await detectBackend();
        return runScenarios(img);
      });
    }
    case 'boot': return withLibvirt(bootOnce);
    default:
      process.stderr.write('usage: node dist/vm-harness/main.js image|demo|test|boot [SCRIPT]\n');
      return 2;
  }
}

main().then((rc) => { process.exitCode = rc; }, (e: unknown) => {
  process.stderr.write(`vm-harness: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
