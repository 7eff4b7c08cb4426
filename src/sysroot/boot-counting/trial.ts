/**
 * Deployments on trial and what ends a trial, on disk (the boot check, boot-check.ts, decides
 * when):
 * - on trial: the entry's file name carries a counter with tries left (entry-name.ts);
 * - bless: the bootloader's counter says good, then the entry is renamed without its counter
 *   (`ostree-2+3.conf` -> `ostree-2.conf`), as systemd-bless-boot does; a crash between the two
 *   is finished by the next check (the grubenv already says good);
 * - roll back: a new deployment list (write.ts, the usual crash-safe swap) with the fallback
 *   first and the failed deployment's entry named with no tries left (`+0-N`), so no bootloader
 *   and no later rewrite counts it again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as libc from '../../native/libc.js';
import { parseBlsEntryFileName, readBlsEntries } from '../formats/bls.js';
import { entriesRel } from '../layout.js';
import type { Deployment } from '../deployment.js';
import type { Sysroot } from '../sysroot.js';
import { entryFileName } from './entry-name.js';
import { counterId, grubCounterBackend, type CounterBackend } from './grub-counter.js';

export function onTrial(d: Deployment): boolean {
  return d.bootCounter !== undefined && d.bootCounter !== null && d.bootCounter.left > 0;
}

/** How many tries the deployment's trial had (left + done), at least 1. */
export function triesOf(d: Deployment, configured: number): number {
  const c = d.bootCounter;
  return c ? Math.max(1, c.left + c.done) : Math.max(1, configured);
}

export function counterBackendFor(sysroot: Sysroot): CounterBackend | null {
  return grubCounterBackend(sysroot.path);
}

/** The live entry file of `d`, by its ostree= argument. */
async function entryFileOf(sysroot: Sysroot, d: Deployment): Promise<string | null> {
  const arg = d.bootconfig.ostreeArg();
  const found = (await readBlsEntries(sysroot.abs(entriesRel(sysroot.bootversion)))).find((e) => e.ostreeArg === arg);
  return found?.path ?? null;
}

/**
 * End `d`'s trial as good: the counter first (what the bootloader acts on), then the name.
 * The bootloader's counter is left alone when it counts another deployment (`d` was picked by
 * hand from the menu while the default is on trial).
 */
export async function bless(sysroot: Sysroot, d: Deployment, backend: CounterBackend | null, tries: number): Promise<void> {
  const isDefault = sysroot.deployments.find((x) => !x.staged)?.sameAs(d) === true;
  if (backend && (isDefault || backend.state(d).kind !== 'unknown')) backend.bless(d);
  const file = await entryFileOf(sysroot, d);
  if (file !== null) {
    const k = parseBlsEntryFileName(path.basename(file))?.k ?? 1;
    const target = path.join(path.dirname(file), entryFileName(k, d.stateroot, Math.max(tries, 1), null));
    if (target !== file) {
      fs.renameSync(file, target);
      libc.fsyncPath(path.dirname(file));
    }
  }
  d.bootCounter = null;
}

/**
 * Make `target` the default with `failed` kept after it, its entry out of tries.  The list
 * keeps every other deployment in its order (a staged one is dropped: it was staged on a
 * boot that failed).
 */
export async function rollBack(sysroot: Sysroot, failed: Deployment, target: Deployment, tries: number, log: (m: string) => void): Promise<void> {
  const list = sysroot.deployments.filter((d) => !d.staged);
  failed.bootCounter = { left: 0, done: tries };
  const newList = [target, ...list.filter((d) => !d.sameAs(target))];
  await sysroot.writeDeployments(newList, { log });
}

/** The first deployment after `failed` that may take over: not staged, not known to fail. */
export function fallbackFor(sysroot: Sysroot, failed: Deployment, knownBad: Record<string, unknown>): Deployment | null {
  return sysroot.deployments.find((d) => !d.staged && !d.sameAs(failed) && !(counterId(d) in knownBad)) ?? null;
}
