/**
 * What every `ostree admin` verb shares: the `--sysroot` option (described once, correctly),
 * and opening the sysroot, taking its lock for the verbs upstream locks, and releasing it.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { OstreeError } from '../../../errors.js';
import { Sysroot } from '../../../sysroot/sysroot.js';
import { sysrootPath } from '../../context.js';
import { print } from '../../output.js';

/** Upstream's help says "Create a new OSTree sysroot at PATH" for every verb; only init-fs creates one. */
export const SYSROOT_HELP = 'Use the sysroot at PATH (default: $OSTREE_SYSROOT, else /)';

/** An admin verb with its `--sysroot` option. */
export function adminVerb(admin: Command, name: string, description: string): Command {
  return admin.command(name).description(description).option('--sysroot <path>', SYSROOT_HELP);
}

/** Open the sysroot of `cmd` (its --sysroot, the admin group's, $OSTREE_SYSROOT or /). */
export async function openSysroot(cmd: Command): Promise<Sysroot> {
  return Sysroot.open(sysrootPath(cmd));
}

/** Open + (lock) + load the sysroot, run fn, release the lock. */
export async function withSysroot<T>(cmd: Command, locked: boolean, fn: (s: Sysroot) => Promise<T>): Promise<T> {
  const s = await openSysroot(cmd);
  if (locked) {
    if (!fs.existsSync(s.abs('ostree'))) {
      throw new OstreeError('ENOENT', `${s.abs('ostree')} not found: ${s.path} is not an OSTree sysroot (run 'ostree admin init-fs ${s.path}')`);
    }
    await s.lock({ onWait: () => print('Waiting for sysroot lock...') });
  }
  try {
    await s.load();
    return await fn(s);
  } finally {
    s.unlock();
  }
}
