/**
 * The sysroot repository's config (`ostree/repo/config`), where the `[sysroot]` keys live
 * (bootloader, boot counting).  A sysroot without a repository yet has none.
 */
import type { KeyFile } from '../glib/keyfile.js';
import { OstreeError } from '../errors.js';
import type { SysrootState } from './state.js';

export async function repoConfig(sysroot: SysrootState): Promise<KeyFile | undefined> {
  try { return (await sysroot.repo()).config; } catch (e) { if (!(e instanceof OstreeError && e.code === 'ENOENT')) throw e; }
  return undefined;
}
