/**
 * The boot counter GRUB keeps for the default deployment (the other half of
 * bootloader/grub2-counting.ts, which generates the GRUB side): two variables of the
 * environment block (grubenv.ts),
 *
 *   ostree_bc_id    which deployment is counted (counterId: `<stateroot>/<checksum>.<serial>`)
 *   ostree_bc_left  tries left: `5`..`1`, `0` (none left: GRUB boots the previous deployment)
 *                   or `good` (blessed by a passed boot check: no more counting)
 *
 * GRUB initialises them from grub.cfg when `ostree_bc_id` names another deployment, so a new
 * bootloader configuration needs no userspace write to start counting.  Userspace reads them
 * (`admin status`), blesses (`good`) and marks a failed boot (`0`), always through an atomic
 * rewrite of the block.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
// not node:crypto: `admin status` reads the counter and rarely hashes; newSha256 loads it on first use
import { newSha256 } from '../../repo/objects/checksum.js';
import { readGrubenv, updateGrubenv, type GrubEnv } from './grubenv.js';

export const ID_VAR = 'ostree_bc_id';
export const LEFT_VAR = 'ostree_bc_left';
export const GOOD = 'good';

/** What identifies a deployment to the counter (GRUB-safe characters only). */
export function counterId(d: { stateroot: string; csum: string; deployserial: number }): string {
  const stateroot = /^[A-Za-z0-9._-]+$/.test(d.stateroot)
    ? d.stateroot : `sr-${newSha256().update(d.stateroot).digest('hex').slice(0, 16)}`;
  return `${stateroot}/${d.csum}.${d.deployserial}`;
}

/** The grubenv next to grub.cfg's link: `boot/grub2/grubenv` when the system uses grub2/, else `boot/grub/grubenv`. */
export function grubenvPath(sysrootPath: string): string {
  const env = process.env['OSTREE_GRUBENV'];
  if (env !== undefined) return env;
  const grub2 = path.join(sysrootPath, 'boot/grub2');
  const useGrub2 = fs.existsSync(path.join(grub2, 'grub.cfg')) && !fs.existsSync(path.join(sysrootPath, 'boot/grub/grub.cfg'));
  return path.join(useGrub2 ? grub2 : path.join(sysrootPath, 'boot/grub'), 'grubenv');
}

/** GRUB's counter for one deployment. */
export type GrubCounterState =
  | { kind: 'counting'; left: number }
  | { kind: 'exhausted' }
  | { kind: 'good' }
  /** GRUB has not counted this deployment (never booted since it became default, or not counted) */
  | { kind: 'unknown' };

export function counterState(env: GrubEnv | null, id: string): GrubCounterState {
  if (!env || env.get(ID_VAR) !== id) return { kind: 'unknown' };
  const left = env.get(LEFT_VAR);
  if (left === GOOD) return { kind: 'good' };
  if (left !== undefined && /^[1-9]$/.test(left)) return { kind: 'counting', left: Number(left) };
  return { kind: 'exhausted' };
}

export function readCounter(sysrootPath: string, id: string): GrubCounterState {
  return counterState(readGrubenv(grubenvPath(sysrootPath)), id);
}

/** A passed boot check: GRUB stops counting this deployment. */
export function blessInGrubenv(sysrootPath: string, id: string): void {
  updateGrubenv(grubenvPath(sysrootPath), { [ID_VAR]: id, [LEFT_VAR]: GOOD });
}

/** A failed boot check: GRUB boots the previous deployment from now on. */
export function exhaustInGrubenv(sysrootPath: string, id: string): void {
  updateGrubenv(grubenvPath(sysrootPath), { [ID_VAR]: id, [LEFT_VAR]: '0' });
}

/**
 * What the boot check needs of a bootloader's counter (GRUB's here; a bootloader that counts in
 * entry names, as systemd-boot does, needs none: renaming the entry is the whole state).
 */
export interface CounterBackend {
  readonly name: string;
  state(d: { stateroot: string; csum: string; deployserial: number }): GrubCounterState;
  bless(d: { stateroot: string; csum: string; deployserial: number }): void;
  exhaust(d: { stateroot: string; csum: string; deployserial: number }): void;
}

/** GRUB's counter when the sysroot has a grubenv (the grub2 backend makes one when it counts). */
export function grubCounterBackend(sysrootPath: string): CounterBackend | null {
  if (!fs.existsSync(grubenvPath(sysrootPath))) return null;
  return {
    name: 'grub2',
    state: (d) => readCounter(sysrootPath, counterId(d)),
    bless: (d) => blessInGrubenv(sysrootPath, counterId(d)),
    exhaust: (d) => exhaustInGrubenv(sysrootPath, counterId(d)),
  };
}
