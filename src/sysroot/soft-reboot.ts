/**
 * The soft-reboot target (upstream 2025.x, `ostree admin status --json` key
 * `soft-reboot-target`): `/run/ostree/nextroot-booted`, written when a deployment was prepared
 * as `/run/nextroot` for `systemctl soft-reboot`, is a GVariant `a{sv}` whose
 * `backing-root-device-inode` `(tt)` names the deployment directory by device and inode.
 * This implementation never prepares a soft reboot itself; it reports what another tool
 * prepared.  The file is small: anything larger than 64 KiB is refused, not read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OstreeError } from '../errors.js';
import { Variant, deserialize } from '../glib/gvariant.js';
import type { Deployment } from './deployment.js';
import type { SysrootState } from './state.js';
import { runDir } from './layout.js';
import { readFileBounded } from '../util/fs.js';

const NEXTROOT_BOOTED_MAX_BYTES = 64 * 1024;
const BACKING_ROOTDEVINO_KEY = 'backing-root-device-inode';

export function nextrootBootedPath(): string { return path.join(runDir(), 'ostree/nextroot-booted'); }

/** The (device, inode) the prepared soft reboot switches to, or null when none is prepared. */
export function readNextrootDevIno(): [bigint, bigint] | null {
  const p = nextrootBootedPath();
  const data = readFileBounded(p, NEXTROOT_BOOTED_MAX_BYTES, { what: 'soft-reboot record' });
  if (data === null) return null;
  const dict = deserialize('a{sv}', data) as Array<[string, Variant]>;
  const v = dict.find(([k]) => k === BACKING_ROOTDEVINO_KEY)?.[1];
  if (!v || v.type !== '(tt)') throw new OstreeError('ECORRUPT', `Loading nextroot: Missing ${BACKING_ROOTDEVINO_KEY} key in ${p}`, { path: p });
  const [dev, ino] = v.value as [bigint, bigint];
  return [dev, ino];
}

/** The deployment of `sysroot` that the prepared soft reboot boots, or null. */
export function softRebootTarget(sysroot: SysrootState): Deployment | null {
  const devino = readNextrootDevIno();
  if (devino === null) return null;
  for (const d of sysroot.deployments) {
    let st: fs.BigIntStats;
    try { st = fs.lstatSync(sysroot.deploymentDirectory(d), { bigint: true }); } catch { continue; }
    if (st.dev === devino[0] && st.ino === devino[1]) return d;
  }
  return null;
}
