/**
 * Where `ostree remote add --sysroot=PATH` puts a remote (upstream get_remotes_d_dir with a
 * sysroot-owned repo): a sysroot that is a deployment's root (it has `/sysroot`, or is booted)
 * keeps system remotes in its `/etc/ostree/remotes.d`, unless the repo sets
 * `core.add-remotes-config-dir=false`; a physical sysroot keeps them in the repo config.
 */
import type { SysrootState } from './state.js';
import { lstatOrNull } from '../util/fs.js';
import { parseBool } from '../repo/remotes.js';

/** True when `sysroot` is the physical root (not a deployment seen from inside). */
export function isPhysicalSysroot(sysroot: SysrootState): boolean {
  if (sysroot.bootedDeployment) return false;
  return lstatOrNull(sysroot.abs('sysroot')) === null;
}

/** The remotes.d directory a new remote goes to, or null for the repo config. */
export async function remoteAddDir(sysroot: SysrootState): Promise<string | null> {
  if (!sysroot.loaded) await sysroot.load();
  if (isPhysicalSysroot(sysroot)) return null;
  const repo = await sysroot.repo();
  const explicit = repo.config.get('core', 'add-remotes-config-dir');
  if (explicit !== undefined && !parseBool(explicit, `${repo.path}/config: core.add-remotes-config-dir`)) return null;
  return sysroot.abs('etc/ostree/remotes.d');
}
