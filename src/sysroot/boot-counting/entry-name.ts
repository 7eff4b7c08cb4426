/**
 * Boot counting in BLS entry file names, as upstream 2025.3 names them
 * (`bootloader_entry_filename`, ostree-sysroot-deploy.c) and as the Boot Loader Specification
 * and systemd-boot read them: `ostree-<K>+<LEFT>[-<DONE>].conf`.
 *
 * With `sysroot.boot-counting-tries` N (repo config, 0 to 5 like upstream; 0 or unset: off):
 * - an entry written for the first time (a new deployment) is `ostree-<K>+N.conf`;
 * - an entry read from a file without a counter (a deployment already blessed, or one from
 *   before counting was on) stays without one: `ostree-<K>.conf`;
 * - an entry read from a counted file keeps its counter `+LEFT-DONE`.
 * Counting on uses upstream 2024.5's `ostree-<K>` stem (upstream's test expects
 * `ostree-1+3.conf`); counting off keeps 2022.7's `ostree-<K>-<stateroot>.conf`.
 */
import { OstreeError } from '../../errors.js';
import type { KeyFile } from '../../glib/keyfile.js';
import { blsEntryFileName } from '../formats/bls.js';

/** A deployment's counter as its entry file name carries it. */
export interface EntryCounter { left: number; done: number }

/**
 * A deployment's counter state: undefined for a deployment never written to an entry (it gets
 * the configured tries), null for an entry without a counter, else the counter.
 */
export type CounterState = EntryCounter | null | undefined;

export const MAX_BOOT_COUNTING_TRIES = 5;

/** `sysroot.boot-counting-tries` (0 when unset); outside 0..5 is ECONFIG, as upstream. */
export function bootCountingTries(config: KeyFile | undefined): number {
  const v = config?.get('sysroot', 'boot-counting-tries');
  if (v === undefined) return 0;
  if (!/^[0-9]+$/.test(v) || Number(v) > MAX_BOOT_COUNTING_TRIES) {
    throw new OstreeError('ECONFIG', `Parsing sysroot.boot-counting-tries: '${v}' is not a number of tries from 0 to ${MAX_BOOT_COUNTING_TRIES}`);
  }
  return Number(v);
}

/** The `+LEFT[-DONE]` suffix of a file name (as parseBlsEntryFileName returns it), or null. */
export function parseCounterSuffix(suffix: string | undefined): EntryCounter | null {
  if (suffix === undefined) return null;
  const m = /^\+([0-9]+)(?:-([0-9]+))?$/.exec(suffix);
  if (!m) return null;
  return { left: Number(m[1]), done: m[2] === undefined ? 0 : Number(m[2]) };
}

/** The counter an entry is written with: fresh tries for a new one, else what it had. */
export function counterToWrite(state: CounterState, tries: number): EntryCounter | null {
  if (tries === 0) return null;
  if (state === undefined) return { left: tries, done: 0 };
  return state;
}

/** The entry file name of the deployment at position `k` (= count - index). */
export function entryFileName(k: number, stateroot: string, tries: number, counter: EntryCounter | null): string {
  if (tries === 0) return blsEntryFileName(k, stateroot);
  if (counter === null) return `ostree-${k}.conf`;
  return counter.done === 0 ? `ostree-${k}+${counter.left}.conf` : `ostree-${k}+${counter.left}-${counter.done}.conf`;
}
