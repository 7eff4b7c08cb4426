/**
 * Entry point of the VM harness: `node dist/vm-harness/main.js image|demo|test|boot`.
 *   image   build the images (OSTree disk, plain disk, update disk)
 *   demo    build, boot the OSTree disk, print `ostree admin status` from inside the guest
 *   test    the boot scenarios (plain baseline, first boot, offline update, rollback, GRUB menu,
 *           broken ostree=, dracut, failed finalization)
 *   boot    boot the built OSTree disk once (throwaway overlay) and print the serial log
 * Environment: OSTREE_CLI (ours|upstream), VM_BACKEND (auto|qemu|virt-install), VM_ACCEL (tcg|kvm),
 * VM_REUSE_IMAGE=1 (skip the build when an image exists), VM_WORK_DIR, VM_CACHE_DIR.
 */
import * as path from 'node:path';
import { WORK_DIR, log } from './common.js';
import { buildImage, loadBuiltImage, type BuiltImage } from './image.js';
import { boot, createOverlay, detectBackend, sections } from './launch.js';
import { runScenarios } from './scenarios.js';

async function image(): Promise<BuiltImage> {
  if (process.env['VM_REUSE_IMAGE'] === '1') {
    const img = loadBuiltImage();
    if (img) { log(`reusing the image built earlier: ${img.disk}`); return img; }
  }
  return buildImage();
}

async function demo(): Promise<number> {
  const img = await image();
  await detectBackend();
  const overlay = await createOverlay(img.disk, path.join(WORK_DIR, 'runs/demo.qcow2'));
  const r = await boot({ name: 'demo', disk: overlay, serialLog: path.join(WORK_DIR, 'runs/demo.log'), timeoutMs: 240_000 });
  const s = sections(r.log);
  const status = s.get('status');
  if (!status) {
    process.stdout.write(r.log.slice(-4000));
    log(`demo: no status from the guest (timed out: ${r.timedOut}); serial log: ${path.join(WORK_DIR, 'runs/demo.log')}`);
    return 1;
  }
  process.stdout.write(`Booted the OSTree disk ${img.disk} under QEMU (${r.backend}); in ${((r.bootedMs ?? 0) / 1000).toFixed(1)} s.\n`);
  // The console also carries systemd's status lines and kernel messages: drop those.
  const clean = (t: string) => t.split('\n').filter((l) => !/\x1b\[|^\[\s*\d+\.\d+\]/.test(l)).join('\n');
  process.stdout.write(`guest$ ostree admin status   (exit ${status.rc})\n${clean(status.text)}`);
  for (const k of ['findmnt-usr', 'findmnt-var']) {
    const x = s.get(k);
    if (x) process.stdout.write(`guest$ findmnt ${k.slice(8) === 'usr' ? '/usr' : '/var'}\n${clean(x.text)}`);
  }
  return status.rc === 0 ? 0 : 1;
}

async function bootOnce(): Promise<number> {
  const img = loadBuiltImage() ?? await buildImage();
  await detectBackend();
  const overlay = await createOverlay(img.disk, path.join(WORK_DIR, 'runs/boot.qcow2'));
  const script = process.argv[3];
  const r = await boot({ name: 'boot', disk: overlay, serialLog: path.join(WORK_DIR, 'runs/boot.log'), timeoutMs: 240_000,
    fwCfg: script ? [{ name: 'opt/ostree-ts/script', file: path.resolve(script) }] : [] });
  process.stdout.write(r.log);
  log(`booted marker at ${r.bootedMs} ms, GRUB at ${r.grubMs} ms, total ${r.totalMs} ms, timed out: ${r.timedOut}`);
  return r.bootedMs === null ? 1 : 0;
}

async function main(): Promise<number> {
  const cmd = process.argv[2];
  switch (cmd) {
    case 'image': await buildImage(); return 0;
    case 'demo': return demo();
    case 'test': { const img = await image(); await detectBackend(); return runScenarios(img); }
    case 'boot': return bootOnce();
    default:
      process.stderr.write('usage: node dist/vm-harness/main.js image|demo|test|boot\n');
      return 2;
  }
}

main().then((rc) => { process.exitCode = rc; }, (e: unknown) => {
  process.stderr.write(`vm-harness: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
