/**
 * The OSTree-vs-plain boot-time figure, per firmware: first boots of fresh overlays of the OSTree
 * disk and of the plain-root disk (the same tree without OSTree), interleaved because the machine
 * is shared and single boots are noisy.  VM_TIMING_ROUNDS (default 2) counts the scenarios' own
 * first boots too (0/1 under BIOS, u0/u1 under UEFI).
 */
import * as path from 'node:path';
import { RUNS, runBoot, type Results } from './checks.js';
import type { Firmware } from './firmware.js';
import type { BuiltImage } from './image.js';
import { createOverlay } from './launch.js';

export interface BootTimes {
  firmware: Firmware;
  /** QEMU start → booted marker, ms, one per first boot */
  plain: number[];
  ostree: number[];
}

export function newTimes(firmware: Firmware, plainMs: number | null, ostreeMs: number | null): BootTimes {
  return { firmware, plain: plainMs !== null ? [plainMs] : [], ostree: ostreeMs !== null ? [ostreeMs] : [] };
}

/** More first boots of both disks under `t.firmware`, up to VM_TIMING_ROUNDS each. */
export async function timingRounds(res: Results, img: BuiltImage, t: BootTimes): Promise<void> {
  const rounds = Number(process.env['VM_TIMING_ROUNDS'] ?? 2);
  const fw = t.firmware;
  const tag = fw === 'bios' ? '' : `-${fw}`;
  for (let i = 2; i <= rounds; i++) {
    const rp = await runBoot(res, { name: `timing${tag}-plain-${i}`, firmware: fw, disk: await createOverlay(img.plainDisk, path.join(RUNS, `timing${tag}-plain.qcow2`)) });
    if (rp.bootedMs !== null) t.plain.push(rp.bootedMs);
    const ro = await runBoot(res, { name: `timing${tag}-ostree-${i}`, firmware: fw, disk: await createOverlay(img.disk, path.join(RUNS, `timing${tag}-ostree.qcow2`)) });
    if (ro.bootedMs !== null) t.ostree.push(ro.bootedMs);
  }
}
